//! Metrics: one set of names for every front end, recorded through the `metrics` facade.
//! `pixfront serve` renders them as Prometheus text ([`prometheus`]); the Lambda bootstrap prints
//! one CloudWatch Embedded Metric Format line per invocation ([`emf`]). Without an installed
//! recorder (the CLI, most tests) every call here is a no-op.
//!
//! Label values come only from the fixed sets below (status class, stage, cache result, service,
//! outcome) or from error codes, which are source literals ([`error_code`] bounds them anyway):
//! never from a URL, key or header, so the number of series stays constant whatever clients send.
//! docs/operations.md is the reference for operators.

pub mod emf;
pub mod prometheus;
pub mod settings;

pub use settings::MetricsSettings;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// Counter `{status="2xx|3xx|4xx|5xx"}`: image requests answered (service endpoints
/// `/`, `/?health`, `/?metrics` are not counted).
pub const REQUESTS: &str = "pixfront_requests_total";
/// Counter `{code}`: answers carrying an error code (errors, fallback images standing in for
/// one, and `DamagedOriginal` renders).
pub const ERRORS: &str = "pixfront_errors_total";
/// Histogram `{stage}`: seconds per stage of the requests that went through it; `total` for
/// every counted request.
pub const DURATION: &str = "pixfront_request_duration_seconds";
/// Counter: bytes of originals (and overlays' originals) fetched for rendering.
pub const ORIGINAL_BYTES: &str = "pixfront_original_bytes_total";
/// Counter: body bytes sent (HEAD sends none).
pub const RESPONSE_BYTES: &str = "pixfront_response_bytes_total";
/// Gauge: renders running now (at most `MAX_IN_FLIGHT`).
pub const IN_FLIGHT: &str = "pixfront_renders_in_flight";
/// Gauge: admitted requests not rendering yet (fetching the original, or waiting for a render
/// slot or for memory; at most `MAX_QUEUE`).
pub const QUEUED: &str = "pixfront_renders_queued";
/// Gauge: estimated peak memory reserved by running and waiting renders (`MEMORY_BUDGET_MB`).
pub const MEMORY_RESERVED: &str = "pixfront_memory_reserved_bytes";
/// Gauge: the process's resident memory, read when metrics are rendered.
pub const RESIDENT: &str = "pixfront_process_resident_bytes";
/// Counter: requests refused with 503 `Overloaded` (in flight + queue full).
pub const OVERLOADED: &str = "pixfront_overloaded_total";
/// Counter `{result="hit|miss"}`: face-box cache lookups per request.
pub const FACE_CACHE: &str = "pixfront_face_cache_total";
/// Counter `{detector="local|rekognition"}`: face detections that failed (answered 503).
pub const DETECTOR_FAILURES: &str = "pixfront_face_detector_failures_total";
/// Counter `{service="s3|rekognition|secretsmanager", outcome="ok|not_found|error"}`: AWS calls.
pub const AWS_CALLS: &str = "pixfront_aws_calls_total";
/// Counter `{outcome="rendered|acknowledged|retried"}`: upload-pipeline S3 records (Lambda events
/// mode): `rendered` (renditions written), `acknowledged` (done for good without rendering:
/// removals, skipped records, uploads that are not images), `retried` (delivered again later).
pub const UPLOAD_RECORDS: &str = "pixfront_upload_records_total";
/// Counter `{outcome="hit|miss|stored|error"}`: the rendition store (`RESULT_BUCKET`): lookups
/// served or not, renditions written, and failed reads or writes (the request carried on).
pub const RESULT_STORE: &str = "pixfront_result_store_total";

/// Upper bounds of the latency buckets (seconds): cache-speed answers to slow AVIF encodes.
pub const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A stage of one request, as `Server-Timing` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Queue,
    Fetch,
    Faces,
    Decode,
    Transform,
    Encode,
    Total,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Queue,
        Stage::Fetch,
        Stage::Faces,
        Stage::Decode,
        Stage::Transform,
        Stage::Encode,
        Stage::Total,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Queue => "queue",
            Stage::Fetch => "fetch",
            Stage::Faces => "faces",
            Stage::Decode => "decode",
            Stage::Transform => "transform",
            Stage::Encode => "encode",
            Stage::Total => "total",
        }
    }
}

/// `2xx` … `5xx` (anything else counts as `5xx`: the handler never answers 1xx).
pub fn status_class(status: u16) -> &'static str {
    match status {
        0..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Distinct error codes kept as label values; later ones are counted as `Other`. Codes are
/// source literals (a few dozen), so the cap only guards against a future code built at run time.
const MAX_CODES: usize = 64;
static CODES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// `code` as a label value: itself when it looks like a code (`Name` or `Area::Name`, ASCII
/// letters) and fewer than [`MAX_CODES`] were seen, else `Other`.
pub fn error_code(code: &str) -> &'static str {
    let shaped = !code.is_empty()
        && code.len() <= 64
        && code
            .split("::")
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphabetic()));
    if !shaped {
        return "Other";
    }
    let Ok(mut codes) = CODES.lock() else {
        return "Other";
    };
    let codes = codes.get_or_insert_with(HashSet::new);
    if let Some(known) = codes.get(code) {
        return known;
    }
    if codes.len() >= MAX_CODES {
        return "Other";
    }
    // Leaked once per distinct code (at most MAX_CODES short strings): label values must be
    // 'static to avoid an allocation per request.
    let leaked: &'static str = Box::leak(code.to_string().into_boxed_str());
    codes.insert(leaked);
    leaked
}

/// One answered image request: its status, error code, per-stage times (zero = stage not
/// reached) and body size.
pub fn request(status: u16, code: Option<&str>, stages: &[(Stage, Duration)], bytes_out: usize) {
    metrics::counter!(REQUESTS, "status" => status_class(status)).increment(1);
    if let Some(code) = code {
        metrics::counter!(ERRORS, "code" => error_code(code)).increment(1);
    }
    for &(stage, took) in stages {
        if stage == Stage::Total || !took.is_zero() {
            metrics::histogram!(DURATION, "stage" => stage.label()).record(took.as_secs_f64());
        }
    }
    metrics::counter!(RESPONSE_BYTES).increment(bytes_out as u64);
}

pub fn original_bytes(n: usize) {
    metrics::counter!(ORIGINAL_BYTES).increment(n as u64);
}

pub fn overloaded() {
    metrics::counter!(OVERLOADED).increment(1);
}

pub fn face_cache(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(FACE_CACHE, "result" => result).increment(1);
}

pub fn result_store(outcome: &'static str) {
    metrics::counter!(RESULT_STORE, "outcome" => outcome).increment(1);
}

pub fn detector_failure(detector: &'static str) {
    metrics::counter!(DETECTOR_FAILURES, "detector" => detector).increment(1);
}

/// An AWS service pixfront calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    S3,
    Rekognition,
    SecretsManager,
}

/// How an AWS call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The object or secret does not exist (a client's miss, not a fault).
    NotFound,
    Error,
}

pub fn aws_call(service: Service, outcome: Outcome) {
    let service = match service {
        Service::S3 => "s3",
        Service::Rekognition => "rekognition",
        Service::SecretsManager => "secretsmanager",
    };
    let outcome = match outcome {
        Outcome::Ok => "ok",
        Outcome::NotFound => "not_found",
        Outcome::Error => "error",
    };
    metrics::counter!(AWS_CALLS, "service" => service, "outcome" => outcome).increment(1);
}

/// What became of one upload-pipeline record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Rendered,
    /// Done for good without rendering.
    Acknowledged,
    Retried,
}

pub fn upload_record(outcome: Record) {
    let outcome = match outcome {
        Record::Rendered => "rendered",
        Record::Acknowledged => "acknowledged",
        Record::Retried => "retried",
    };
    metrics::counter!(UPLOAD_RECORDS, "outcome" => outcome).increment(1);
}

/// Adds `amount` to a gauge for as long as it lives (a render running, a request queued).
pub struct GaugeGuard {
    name: &'static str,
    amount: f64,
}

impl GaugeGuard {
    pub fn new(name: &'static str, amount: f64) -> GaugeGuard {
        metrics::gauge!(name).increment(amount);
        GaugeGuard { name, amount }
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        metrics::gauge!(self.name).decrement(self.amount);
    }
}

/// Sets [`RESIDENT`] from `/proc/self/statm` (Linux; elsewhere the gauge is not set).
pub fn sample_memory() {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    if let Some(pages) = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<f64>().ok())
    {
        // SAFETY: sysconf only reads a system constant.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        metrics::gauge!(RESIDENT).set(pages * page.max(1) as f64);
    }
}

/// HELP texts for the exposition, and every series with a fixed label set created at zero, so
/// a rate or an alert works before the first event of its kind (and every name is listed).
pub fn register_all() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(REQUESTS, "Image requests answered, by status class");
    describe_counter!(ERRORS, "Answers carrying an error code, by code");
    describe_histogram!(DURATION, Unit::Seconds, "Time per stage of image requests");
    describe_counter!(ORIGINAL_BYTES, Unit::Bytes, "Bytes of originals fetched");
    describe_counter!(RESPONSE_BYTES, Unit::Bytes, "Body bytes sent");
    describe_gauge!(IN_FLIGHT, "Renders running");
    describe_gauge!(QUEUED, "Admitted requests not rendering yet");
    describe_gauge!(
        MEMORY_RESERVED,
        Unit::Bytes,
        "Estimated peak memory reserved by renders"
    );
    describe_gauge!(RESIDENT, Unit::Bytes, "Resident memory of the process");
    describe_counter!(OVERLOADED, "Requests refused with 503 Overloaded");
    describe_counter!(FACE_CACHE, "Face-box cache lookups, by result");
    describe_counter!(DETECTOR_FAILURES, "Failed face detections, by detector");
    describe_counter!(AWS_CALLS, "AWS calls, by service and outcome");
    describe_counter!(UPLOAD_RECORDS, "Upload-pipeline S3 records, by outcome");
    describe_counter!(RESULT_STORE, "Rendition store lookups and writes, by outcome");
    for status in ["2xx", "3xx", "4xx", "5xx"] {
        metrics::counter!(REQUESTS, "status" => status).increment(0);
    }
    for stage in Stage::ALL {
        let _ = metrics::histogram!(DURATION, "stage" => stage.label());
    }
    for name in [ORIGINAL_BYTES, RESPONSE_BYTES, OVERLOADED] {
        metrics::counter!(name).increment(0);
    }
    for name in [IN_FLIGHT, QUEUED, MEMORY_RESERVED] {
        metrics::gauge!(name).increment(0.0);
    }
    sample_memory();
    for result in ["hit", "miss"] {
        metrics::counter!(FACE_CACHE, "result" => result).increment(0);
    }
    for detector in ["local", "rekognition"] {
        metrics::counter!(DETECTOR_FAILURES, "detector" => detector).increment(0);
    }
    for service in ["s3", "rekognition", "secretsmanager"] {
        for outcome in ["ok", "not_found", "error"] {
            metrics::counter!(AWS_CALLS, "service" => service, "outcome" => outcome).increment(0);
        }
    }
    for outcome in ["rendered", "acknowledged", "retried"] {
        metrics::counter!(UPLOAD_RECORDS, "outcome" => outcome).increment(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_bounded_and_shaped() {
        assert_eq!(error_code("NoSuchKey"), "NoSuchKey");
        assert_eq!(
            error_code("ImageEdits::InvalidArgument"),
            "ImageEdits::InvalidArgument"
        );
        assert_eq!(error_code("a/b"), "Other");
        assert_eq!(error_code("Bad::"), "Other");
        assert_eq!(error_code(""), "Other");
        for i in 0..200u32 {
            let code: String = format!("Code{i}")
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        (b'a' + c as u8 - b'0') as char
                    } else {
                        c
                    }
                })
                .collect();
            error_code(&code);
        }
        assert!(CODES.lock().unwrap().as_ref().unwrap().len() <= MAX_CODES);
        assert_eq!(error_code("NeverSeenBeforeCode"), "Other");
    }

    #[test]
    fn status_classes() {
        assert_eq!(
            [200, 304, 404, 503].map(status_class),
            ["2xx", "3xx", "4xx", "5xx"]
        );
    }
}
