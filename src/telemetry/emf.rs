//! The Lambda bootstrap's recorder: values accumulate during an invocation and [`flush`] prints
//! them as one CloudWatch Embedded Metric Format line on stdout, which CloudWatch Logs turns into
//! metrics: no API call, no added latency. Invocations of one Lambda process run one at a time,
//! so "since the last flush" is "this invocation".
//!
//! An EMF line gives each dimension one value, so labels cannot be dimensions when one
//! invocation (an SQS batch) has several values of a label. Each labelled series is published
//! under `name.label=value` instead (one metric per label value, e.g.
//! `pixfront_requests_total.status=5xx`), and counters also under their bare name (all values
//! summed). The only dimension is `FunctionName`. Counters and gauges at zero are left out.

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

/// The CloudWatch namespace of every metric (the CDK dashboard and alarms read it).
pub const NAMESPACE: &str = "pixfront";
/// EMF keeps at most 100 values of one metric per line.
const MAX_VALUES: usize = 100;

/// Counters, gauges and histograms of the current invocation.
#[derive(Clone)]
pub struct EmfRecorder {
    registry: Arc<Registry<Key, AtomicStorage>>,
}

impl Default for EmfRecorder {
    fn default() -> Self {
        EmfRecorder {
            registry: Arc::new(Registry::atomic()),
        }
    }
}

impl Recorder for EmfRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.registry
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

/// CloudWatch's unit for a metric, from the name's suffix (Prometheus naming).
fn unit(name: &str) -> &'static str {
    if name.ends_with("_seconds") {
        "Seconds"
    } else if name.ends_with("_bytes") || name.ends_with("_bytes_total") {
        "Bytes"
    } else {
        "Count"
    }
}

/// `name`, and `name.label=value` for each label of `key`.
fn names(key: &Key) -> Vec<String> {
    key.labels()
        .map(|l| format!("{}.{}={}", key.name(), l.key(), l.value()))
        .collect()
}

impl EmfRecorder {
    /// The EMF line for everything recorded since the last call (counters and histograms are
    /// reset; gauges keep their value), `None` when nothing was recorded.
    pub fn take_line(&self, function: &str, timestamp_ms: u128) -> Option<String> {
        let mut values: BTreeMap<String, Value> = BTreeMap::new();
        self.registry.visit_counters(|key, c| {
            let n = c.swap(0, Ordering::Relaxed);
            if n == 0 {
                return;
            }
            let mut targets = names(key);
            targets.push(key.name().to_string());
            for name in targets {
                let slot = values.entry(name).or_insert(json!(0u64));
                *slot = json!(slot.as_u64().unwrap_or(0) + n);
            }
        });
        self.registry.visit_histograms(|key, h| {
            let mut samples = Vec::new();
            h.clear_with(|chunk| samples.extend_from_slice(chunk));
            if samples.is_empty() {
                return;
            }
            samples.truncate(MAX_VALUES);
            let mut targets = names(key);
            if targets.is_empty() {
                targets.push(key.name().to_string());
            }
            for name in targets {
                values.insert(name, json!(samples));
            }
        });
        if values.is_empty() {
            return None;
        }
        self.registry.visit_gauges(|key, g| {
            // Renders in flight and queued are always 0 between invocations: not worth a metric.
            let v = f64::from_bits(g.load(Ordering::Relaxed));
            if v != 0.0 {
                values.insert(key.name().to_string(), json!(v));
            }
        });
        let metrics: Vec<Value> = values
            .keys()
            .map(|name| json!({"Name": name, "Unit": unit(name.split('.').next().unwrap_or(name))}))
            .collect();
        let mut line = Map::new();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms as u64,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": metrics,
                }],
            }),
        );
        line.insert("FunctionName".into(), json!(function));
        line.extend(values);
        Some(Value::Object(line).to_string())
    }
}

static INSTALLED: OnceLock<Option<EmfRecorder>> = OnceLock::new();

/// Installs the EMF recorder as the process's recorder (once). `None` when another recorder was
/// installed first.
pub fn install() -> Option<EmfRecorder> {
    INSTALLED
        .get_or_init(|| {
            let recorder = EmfRecorder::default();
            metrics::set_global_recorder(recorder.clone()).ok()?;
            Some(recorder)
        })
        .clone()
}

/// Prints this invocation's line on stdout (when [`install`] ran and something was recorded).
pub fn flush() {
    let Some(Some(recorder)) = INSTALLED.get() else {
        return;
    };
    super::sample_memory();
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "pixfront".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    if let Some(line) = recorder.take_line(&function, now) {
        // One write of the whole line, so it never interleaves with a log line.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(format!("{line}\n").as_bytes());
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_with_marginals_units_and_reset() {
        let r = EmfRecorder::default();
        metrics::with_local_recorder(&r, || {
            metrics::counter!("x_requests_total", "status" => "2xx").increment(2);
            metrics::counter!("x_requests_total", "status" => "5xx").increment(1);
            metrics::counter!("x_idle_total").increment(0);
            metrics::histogram!("x_seconds", "stage" => "total").record(0.5);
            metrics::gauge!("x_bytes").set(7.0);
        });
        let line: Value = serde_json::from_str(&r.take_line("fn", 1).unwrap()).unwrap();
        assert_eq!(line["x_requests_total"], 3);
        assert_eq!(line["x_requests_total.status=5xx"], 1);
        assert_eq!(line["x_seconds.stage=total"], json!([0.5]));
        assert_eq!(line["x_bytes"], 7.0);
        assert!(line.get("x_idle_total").is_none());
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        let listed: Vec<&Value> = directive["Metrics"].as_array().unwrap().iter().collect();
        assert!(listed.contains(&&json!({"Name": "x_seconds.stage=total", "Unit": "Seconds"})));
        assert!(listed.contains(&&json!({"Name": "x_bytes", "Unit": "Bytes"})));
        assert_eq!(listed.len(), 5);
        // Counters and histograms restart; with nothing new there is no line.
        assert!(r.take_line("fn", 2).is_none());
    }
}
