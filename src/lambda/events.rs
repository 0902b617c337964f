//! `PIXFRONT_LAMBDA_MODE=events`: the bootstrap runs `lambda_runtime` over raw JSON events and
//! tells them apart by shape:
//!
//! - **S3 notification** (`Records[].eventSource == "aws:s3"`, S3 invoking the function): every
//!   record is processed; the invocation fails (Lambda retries it) when one needs a retry.
//! - **SQS batch** (`aws:sqs`) whose bodies are S3 notifications: each message on its own, the
//!   answer `{"batchItemFailures": [{"itemIdentifier": messageId}, …]}` names the ones to
//!   deliver again (the event source mapping has `ReportBatchItemFailures`). S3's `s3:TestEvent`
//!   (sent when notifications are configured) is acknowledged.
//! - **S3 Object Lambda** (`getObjectContext`): [`super::object_lambda`].
//!
//! An `ObjectCreated` record renders every rendition of `PIXFRONT_RENDITIONS` (all rendered
//! before any is written) and writes them to the destination; `ObjectRemoved` (and lifecycle
//! expiration) deletes them, unless the original is back by then (SQS does not keep order).
//!
//! What is retried and what is not:
//! - retried (failure): S3 unavailable or refusing our credentials, a write failing, an image
//!   that fails to render (corrupt, too large…): after the queue's `maxReceiveCount` it lands in
//!   the dead-letter queue, where an operator sees it;
//! - acknowledged (logged): an upload that is not an image at all (then kept, deleted or moved
//!   under `quarantine/` as `UPLOAD_NOT_AN_IMAGE` says; keys under `quarantine/` are skipped),
//!   an original gone before its message is processed (403 without `s3:ListBucket`, or 404), a
//!   key outside `sourcePrefix`, a bucket not in `SOURCE_BUCKETS`, a record that would render a
//!   rendition again.

use super::object_lambda::ObjectLambda;
use super::settings::LambdaSettings;
use crate::config::Config;
use crate::error::Error;
use crate::faces::{CacheKey, FaceJob, FaceService};
use crate::pipeline::Resources;
use crate::renditions::{self, FolderSink, Renditions, S3Sink, Sink};
use crate::storage::fs::FsStorage;
use crate::storage::s3::S3Storage;
use crate::storage::Storage;
use crate::telemetry::Record;
use crate::uploads::{NotAnImage, QUARANTINE_PREFIX};
use lambda_http::lambda_runtime::{self, Diagnostic, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// SQS messages are not started with less time than this left: they are reported as failures
/// (delivered again) instead of being cut off by the timeout, which would fail the whole batch.
const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// Everything an events invocation needs, built once per container.
pub struct Events {
    config: Arc<Config>,
    storage: Arc<dyn Storage>,
    faces: Arc<FaceService>,
    upload: Option<Upload>,
    object_lambda: ObjectLambda,
}

/// The upload pipeline: its renditions and where they go.
struct Upload {
    set: Arc<Renditions>,
    destination: String,
    sink: Arc<dyn Sink>,
    /// `SOURCE_BUCKETS`: uploads are read only from these.
    allowed: Vec<String>,
    /// `UPLOAD_NOT_AN_IMAGE`, and a writer in a source bucket to carry it out.
    not_an_image: NotAnImage,
    source_sink: Box<dyn Fn(&str) -> Arc<dyn Sink> + Send + Sync>,
}

impl Events {
    /// From the Lambda settings: `PIXFRONT_RENDITIONS` (optional: an Object Lambda function has
    /// none), `PIXFRONT_OBJECT_LAMBDA_EDITS`, and S3 through the standard chain or a folder per
    /// bucket under `PIXFRONT_ROOT`. Every mistake is an init error.
    pub async fn from_env(config: Config, lambda: LambdaSettings) -> Result<Events, String> {
        let set = lambda.renditions.as_deref().map(Renditions::load).transpose()?;
        let allowed = crate::request::bucket::allowed(&config.request)
            .map(|a| a.into_iter().filter(|b| !b.is_empty()).collect::<Vec<_>>());
        let root = lambda.root;
        let (storage, s3, faces): (Arc<dyn Storage>, _, _) = match &root {
            Some(root) => (
                Arc::new(FsStorage::new(root)),
                None,
                FaceService::from_env(&config.faces).await,
            ),
            None => {
                let sdk = crate::aws::load_sdk_config().await;
                let s3 = S3Storage::from_sdk_config(&sdk, &config.s3, config.health_buckets());
                let client = s3.client().clone();
                let faces = FaceService::from_sdk_config(&sdk, &config.faces);
                (Arc::new(s3), Some(client), faces)
            }
        };
        let upload = match set {
            None => None,
            Some(set) => {
                let allowed = allowed.clone().unwrap_or_default();
                if allowed.is_empty() {
                    return Err("SOURCE_BUCKETS: the buckets uploads are read from are required with PIXFRONT_RENDITIONS".into());
                }
                set.check_buckets(&allowed)?;
                let destination = set
                    .destination_bucket
                    .clone()
                    .ok_or("PIXFRONT_RENDITIONS: destinationBucket is required by the upload pipeline")?;
                // Without an S3 client the root is set: one folder per bucket, as for reading.
                let sink: Arc<dyn Sink> = match &s3 {
                    Some(client) => Arc::new(S3Sink::new(client.clone(), &destination)),
                    None => Arc::new(FolderSink::new(
                        root.clone().unwrap_or_default().join(&destination),
                    )),
                };
                let source_sink: Box<dyn Fn(&str) -> Arc<dyn Sink> + Send + Sync> = match (&s3, &root) {
                    (Some(client), _) => {
                        let client = client.clone();
                        Box::new(move |b| Arc::new(S3Sink::new(client.clone(), b)))
                    }
                    (None, root) => {
                        let root = root.clone().unwrap_or_default();
                        Box::new(move |b| Arc::new(FolderSink::new(root.join(b))))
                    }
                };
                Some(Upload {
                    set: Arc::new(set),
                    destination,
                    sink,
                    allowed,
                    not_an_image: config.uploads.not_an_image,
                    source_sink,
                })
            }
        };
        let object_lambda = ObjectLambda::new(
            &config,
            lambda.object_lambda_edits.as_deref(),
            allowed.unwrap_or_default(),
            s3,
        )?;
        Ok(Events {
            config: Arc::new(config),
            storage,
            faces: Arc::new(faces),
            upload,
            object_lambda,
        })
    }

    /// One invocation: the answer for Lambda, or the error that fails it.
    pub async fn handle(self: &Arc<Self>, event: Value, deadline: SystemTime) -> Result<Value, Diagnostic> {
        if event.get("getObjectContext").is_some() {
            return self
                .object_lambda
                .handle(&event, &self.storage, &self.faces, &self.config)
                .await
                .map_err(|e| diagnostic("ObjectLambdaError", e));
        }
        let source = event
            .pointer("/Records/0/eventSource")
            .or_else(|| event.pointer("/Records/0/EventSource"))
            .and_then(Value::as_str)
            .unwrap_or("");
        match source {
            "aws:sqs" => self.sqs(event, deadline).await,
            // S3 → SNS → Lambda: each record carries one S3 notification in `Sns.Message`. SNS
            // retries a failed invocation as a whole, so any failed record fails it.
            "aws:sns" => {
                let records: Vec<Value> = event["Records"].as_array().cloned().unwrap_or_default();
                let mut results = Vec::new();
                for record in &records {
                    match sns_message(&record["Sns"]) {
                        Some(Ok(inner)) if is_test_event(&inner) => {}
                        Some(Ok(inner)) => results.extend(self.s3_records(&inner["Records"]).await),
                        _ => {
                            tracing::error!(target: "pixfront::events", "SNS message is not an S3 notification");
                            results.push(Err(Error::bad_request(
                                "Renditions::BadRecord",
                                "an SNS message that is not an S3 notification",
                            )));
                        }
                    }
                }
                records_answer(&results)
            }
            "aws:s3" => {
                let records = event.get("Records").cloned().unwrap_or(Value::Null);
                records_answer(&self.s3_records(&records).await)
            }
            _ => Err(Diagnostic {
                error_type: "UnsupportedEvent".into(),
                error_message: "PIXFRONT_LAMBDA_MODE=events handles S3 notifications, directly or through SNS and/or SQS, and S3 Object Lambda GetObject events".into(),
            }),
        }
    }

    /// An SQS batch: messages in parallel (as many as `MAX_IN_FLIGHT` allows), the answer naming
    /// the ones to deliver again.
    async fn sqs(self: &Arc<Self>, event: Value, deadline: SystemTime) -> Result<Value, Diagnostic> {
        // Every message needs its id, or it could be neither retried nor acknowledged alone.
        let records = event.get("Records").cloned().unwrap_or(Value::Null);
        let messages: Vec<SqsMessage> = serde_json::from_value(records).map_err(|e| Diagnostic {
            error_type: "UnsupportedEvent".into(),
            error_message: format!("an SQS record without a messageId: {e}"),
        })?;
        let permits = Arc::new(tokio::sync::Semaphore::new(self.config.http.in_flight_limit()));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, message) in messages.into_iter().enumerate() {
            let (this, permits) = (self.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let left = deadline.duration_since(SystemTime::now()).unwrap_or_default();
                let ok = if left < DEADLINE_MARGIN {
                    tracing::warn!(message_id = %message.message_id, "not started: the invocation is about to time out");
                    false
                } else {
                    this.message(&message).await
                };
                (i, message.message_id, ok)
            });
        }
        let mut failed = Vec::new();
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok((i, id, false)) => failed.push((i, id)),
                Ok(_) => {}
                // A task that died loses its message id: fail the whole batch rather than
                // acknowledge a message that was not processed.
                Err(e) => {
                    let e = Error::new(500, "InternalError", format!("an SQS message task failed: {e}"));
                    return Err(diagnostic("InternalError", e));
                }
            }
        }
        failed.sort();
        let items: Vec<Value> = failed
            .into_iter()
            .map(|(_, id)| json!({"itemIdentifier": id}))
            .collect();
        Ok(json!({ "batchItemFailures": items }))
    }

    /// One SQS message: true when it may be deleted from the queue.
    async fn message(&self, message: &SqsMessage) -> bool {
        let body: Value = match serde_json::from_str(&message.body) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(message_id = %message.message_id, error = %e, "SQS message body is not JSON; left for the dead-letter queue");
                return false;
            }
        };
        // S3 → SNS → SQS (fan-out) without raw message delivery: the S3 notification is the
        // SNS envelope's `Message`, a JSON string.
        let body = match sns_message(&body) {
            None => body,
            Some(Ok(inner)) => inner,
            Some(Err(e)) => {
                tracing::error!(message_id = %message.message_id, error = %e, "SNS message in SQS is not JSON; left for the dead-letter queue");
                return false;
            }
        };
        if is_test_event(&body) {
            tracing::info!(message_id = %message.message_id, "S3 test event acknowledged");
            return true;
        }
        match body.get("Records") {
            Some(records) => self.s3_records(records).await.iter().all(Result::is_ok),
            None => {
                tracing::error!(message_id = %message.message_id, "SQS message is not an S3 notification; left for the dead-letter queue");
                false
            }
        }
    }

    /// Each record in turn; `Err` for those to retry.
    async fn s3_records(&self, records: &Value) -> Vec<Result<(), Error>> {
        let records: Vec<Value> = records.as_array().cloned().unwrap_or_default();
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let started = Instant::now();
            let parsed = serde_json::from_value::<S3Record>(record);
            let result = match &parsed {
                Ok(r) => self.record(r).await,
                Err(e) => Err(Error::bad_request(
                    "Renditions::BadRecord",
                    format!("not an S3 event record: {e}"),
                )),
            };
            let (event, bucket, key) = match &parsed {
                Ok(r) => (r.event_name.as_str(), r.s3.bucket.name.as_str(), r.key()),
                Err(_) => ("", "", String::new()),
            };
            let ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
            match &result {
                Ok(outcome) => {
                    tracing::info!(target: "pixfront::events", event, bucket, key, outcome = %outcome, total_ms = ms)
                }
                Err(e) => {
                    tracing::error!(target: "pixfront::events", event, bucket, key, code = %e.code, error = %e.message, total_ms = ms, "will be retried")
                }
            }
            // `record`'s outcome text starts with what was done (rendered, deleted, skipped…).
            crate::telemetry::upload_record(match &result {
                Ok(outcome) if outcome.starts_with("rendered ") => Record::Rendered,
                Ok(_) => Record::Acknowledged,
                Err(_) => Record::Retried,
            });
            out.push(result.map(|_| ()));
        }
        out
    }

    /// What happened to one record (for the log), or the error to retry it for.
    async fn record(&self, r: &S3Record) -> Result<String, Error> {
        let Some(upload) = &self.upload else {
            return Err(Error::new(
                500,
                "Renditions::NotConfigured",
                "PIXFRONT_RENDITIONS is not set: S3 notifications have nothing to render",
            ));
        };
        let bucket = r.s3.bucket.name.as_str();
        let key = r.key();
        let created = r.event_name.starts_with("ObjectCreated");
        let removed =
            r.event_name.starts_with("ObjectRemoved") || r.event_name.starts_with("LifecycleExpiration");
        if !created && !removed {
            return Ok(format!(
                "skipped: {} is neither a creation nor a removal",
                r.event_name
            ));
        }
        if !upload.allowed.iter().any(|b| b == bucket) {
            tracing::warn!(bucket, "notification from a bucket not in SOURCE_BUCKETS");
            return Ok("skipped: bucket not in SOURCE_BUCKETS".into());
        }
        if !key.starts_with(&upload.set.source_prefix) {
            return Ok("skipped: key outside sourcePrefix".into());
        }
        if key.starts_with(QUARANTINE_PREFIX) {
            return Ok("skipped: quarantined".into());
        }
        if bucket == upload.destination && !upload.set.prefixes_separate() {
            tracing::error!(
                bucket,
                key,
                "an upload in the destination bucket: rendering it could render renditions again, forever"
            );
            return Ok("refused: the destination bucket is not a source".into());
        }
        // Read the original in both cases: for a removal, an original that is back (a later
        // upload whose notification came first) keeps its renditions.
        let original = match self.storage.get(bucket, &key).await {
            Ok(o) => o,
            Err(e) if e.status == 404 && removed => return self.delete_all(upload, &key).await,
            Err(e) if e.status == 404 => return Ok("skipped: the original is gone (or not readable)".into()),
            Err(e) => return Err(e),
        };
        if removed {
            return Ok("skipped: the original exists again".into());
        }
        if renditions::render::is_not_an_image(&original.body) {
            tracing::warn!(bucket, key, "upload is not an image; nothing rendered");
            return not_an_image(upload, bucket, &key, original).await;
        }
        let mut resources = Resources::default();
        for (b, k) in upload.set.overlay_refs() {
            let overlay = self
                .storage
                .get(&b, &k)
                .await
                .map_err(|e| Error::new(503, e.code, format!("overlay {b}/{k}: {}", e.message)))?;
            resources.overlays.insert((b, k), overlay.body);
        }
        let cache_key = original.etag.clone().map(|etag| CacheKey {
            bucket: bucket.to_string(),
            key: key.clone(),
            etag,
        });
        resources.faces = Some(FaceJob::new(self.faces.clone(), cache_key));
        let (set, config, owned_bucket, owned_key) = (
            upload.set.clone(),
            self.config.clone(),
            bucket.to_string(),
            key.clone(),
        );
        let rendered = tokio::task::spawn_blocking(move || {
            renditions::render_all(
                &set,
                &owned_bucket,
                &owned_key,
                &original,
                &resources,
                &config.pipeline,
                &config.faces.force_blur_faces,
            )
        })
        .await
        .map_err(|_| Error::internal())??;
        for r in &rendered {
            upload.sink.put(r).await?;
        }
        let bytes: usize = rendered.iter().map(|r| r.bytes.len()).sum();
        Ok(format!(
            "rendered {} ({bytes} bytes) to {}",
            rendered.len(),
            upload.sink.describe()
        ))
    }

    async fn delete_all(&self, upload: &Upload, key: &str) -> Result<String, Error> {
        for r in &upload.set.renditions {
            upload.sink.delete(&r.key.resolve(key, &r.name)?).await?;
        }
        Ok(format!("deleted {} renditions", upload.set.renditions.len()))
    }
}

/// Acknowledges an upload that is not an image (it never will be: retrying cannot help) and
/// keeps, deletes or quarantines it as `UPLOAD_NOT_AN_IMAGE` says. A failed write or delete is
/// retried like any other.
async fn not_an_image(
    upload: &Upload,
    bucket: &str,
    key: &str,
    original: crate::storage::Object,
) -> Result<String, Error> {
    let sink = (upload.source_sink)(bucket);
    match upload.not_an_image {
        NotAnImage::Keep => return Ok("skipped: not an image (kept)".into()),
        NotAnImage::Delete => {}
        NotAnImage::Quarantine => {
            let moved = renditions::Rendered {
                rendition: "quarantine".into(),
                key: format!("{QUARANTINE_PREFIX}{key}"),
                bytes: original.body,
                content_type: "application/octet-stream".into(),
                cache_control: "no-store".into(),
                metadata: Vec::new(),
            };
            sink.put(&moved).await?;
        }
    }
    sink.delete(key).await?;
    Ok(match upload.not_an_image {
        NotAnImage::Quarantine => format!("not an image: moved to {QUARANTINE_PREFIX}{key}"),
        _ => "not an image: deleted".into(),
    })
}

fn diagnostic(error_type: &str, e: Error) -> Diagnostic {
    Diagnostic {
        error_type: error_type.into(),
        error_message: e.to_string(),
    }
}

// aws_lambda_events has these types, but its S3 record requires fields pixfront never reads
// (`eventTime` as a date, `requestParameters`…) and its `sqs` feature pulls serde_with: a few
// fields read leniently, per record, keep one odd record from failing its batch.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SqsMessage {
    message_id: String,
    #[serde(default)]
    body: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    event_name: String,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
}

impl S3Record {
    fn key(&self) -> String {
        decode_key(&self.s3.object.key)
    }
}

/// S3 notifications carry keys form-encoded: `+` is a space, `%2B` a plus.
pub fn decode_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Runs the `events` bootstrap until the runtime stops.
pub async fn run(config: Config, lambda: LambdaSettings) -> Result<(), String> {
    let events = match Events::from_env(config, lambda).await {
        Ok(e) => Arc::new(e),
        Err(e) => {
            super::response::report_init_error(&e).await;
            return Err(e);
        }
    };
    tracing::info!(
        renditions = events.upload.as_ref().map_or(0, |u| u.set.renditions.len()),
        "pixfront events ready"
    );
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<Value>| {
        let events = events.clone();
        async move {
            let answer = events.handle(event.payload, event.context.deadline()).await;
            crate::telemetry::emf::flush();
            answer
        }
    }))
    .await
    .map_err(|e| e.to_string())
}

/// The answer to records S3 or SNS delivered directly: both retry the whole invocation, so any
/// failed record fails it.
fn records_answer(results: &[Result<(), Error>]) -> Result<Value, Diagnostic> {
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        let e = Error::new(
            503,
            "Renditions::RecordsFailed",
            format!("{failed} of {} records failed (see the log)", results.len()),
        );
        return Err(diagnostic("RenditionsFailed", e));
    }
    Ok(json!({"records": results.len()}))
}

/// The payload of an SNS notification envelope (`{"Type": "Notification", "Message": "…"}`),
/// parsed; `None` when `v` is not one.
fn sns_message(v: &Value) -> Option<Result<Value, serde_json::Error>> {
    if v.get("Type").and_then(Value::as_str) != Some("Notification") {
        return None;
    }
    v.get("Message").and_then(Value::as_str).map(serde_json::from_str)
}

/// The event S3 sends once when a notification is configured.
fn is_test_event(v: &Value) -> bool {
    v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_as_s3_encodes_them() {
        assert_eq!(
            decode_key("my+photos/%C3%A9t%C3%A9+1%2B2.jpg"),
            "my photos/été 1+2.jpg"
        );
        assert_eq!(decode_key("plain/key.png"), "plain/key.png");
    }
}
