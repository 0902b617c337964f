//! S3 Object Lambda `GetObject` transformation (`events` mode, events with `getObjectContext`).
//!
//! The original comes from the presigned `inputS3Url`; the edits are the fixed policy of
//! `PIXFRONT_OBJECT_LAMBDA_EDITS` plus v7 query parameters of the caller's URL
//! (`userRequest.url`: `?width=300&format=webp`); the answer goes back with
//! `WriteGetObjectResponse` (`outputRoute`, `outputToken`), errors as S3 error codes.
//!
//! The query comes on top of the policy, except `blurFaces`: when the policy has it, the caller
//! can neither remove nor weaken it. `FORCE_BLUR_FACES` entries apply by key prefix (this function
//! serves one bucket, and its name is not in the event). A request with no edits at all returns
//! the object unchanged, images or not.
//!
//! AWS closed S3 Object Lambda to new customers on 7 November 2025: this is for accounts that
//! already use it (docs/deploy.md).

use crate::config::Config;
use crate::edits::{Edit, Edits};
use crate::error::Error;
use crate::faces::{self, CacheKey, FaceJob, FaceService};
use crate::pipeline::{self, Resources};
use crate::request::{query, ImageRequest};
use crate::storage::Storage;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Object Lambda gives the function 60 s in all; the original must arrive well before.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

pub struct ObjectLambda {
    /// `PIXFRONT_OBJECT_LAMBDA_EDITS`, as given (query edits are merged into it per request).
    policy: Map<String, Value>,
    http: reqwest::Client,
    /// The client `WriteGetObjectResponse` goes through: the storage's, or built on first use
    /// (a `PIXFRONT_ROOT` function has no S3 client otherwise).
    s3: OnceCell<aws_sdk_s3::Client>,
    force_path_style: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    get_object_context: GetObjectContext,
    #[serde(default)]
    user_request: UserRequest,
    #[serde(default)]
    configuration: Configuration,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetObjectContext {
    input_s3_url: String,
    output_route: String,
    output_token: String,
}

#[derive(Debug, Default, Deserialize)]
struct UserRequest {
    #[serde(default)]
    url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Configuration {
    #[serde(default)]
    supporting_access_point_arn: String,
}

/// What goes back through `WriteGetObjectResponse`.
struct Answer {
    status: u16,
    body: bytes::Bytes,
    content_type: Option<String>,
    cache_control: Option<String>,
    /// S3 error code and message (error answers only).
    error: Option<(String, String)>,
}

impl Answer {
    fn error(status: u16, code: &str, message: impl Into<String>) -> Answer {
        Answer {
            status,
            body: bytes::Bytes::new(),
            content_type: None,
            cache_control: None,
            error: Some((code.to_string(), message.into())),
        }
    }

    /// A pixfront error as S3 would name it.
    fn from_error(e: &Error) -> Answer {
        let (status, code) = match e.status {
            404 => (404, "NoSuchKey"),
            403 => (403, "AccessDenied"),
            400..=499 => (400, "InvalidRequest"),
            503 => (503, "ServiceUnavailable"),
            _ => (500, "InternalError"),
        };
        Answer::error(status, code, format!("{}: {}", e.code, e.message))
    }
}

impl ObjectLambda {
    /// `edits` is `PIXFRONT_OBJECT_LAMBDA_EDITS` (a JSON object of canonical edits; unknown names are
    /// refused). `allowed` is `SOURCE_BUCKETS`: where `overlayWith` images may come from.
    pub fn new(
        config: &Config,
        edits: Option<&str>,
        allowed: Vec<String>,
        s3: Option<aws_sdk_s3::Client>,
    ) -> Result<ObjectLambda, String> {
        let policy = match edits {
            None => Map::new(),
            Some(v) => parse_policy(v, &allowed).map_err(|e| format!("PIXFRONT_OBJECT_LAMBDA_EDITS: {e}"))?,
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(ObjectLambda {
            policy,
            http,
            s3: OnceCell::new_with(s3),
            force_path_style: config.s3.force_path_style,
        })
    }

    /// Answers one event: the transformed object (or the S3 error) is sent with
    /// `WriteGetObjectResponse`; `Err` only when that call itself fails.
    pub async fn handle(
        &self,
        event: &Value,
        storage: &Arc<dyn Storage>,
        face_service: &Arc<FaceService>,
        config: &Arc<Config>,
    ) -> Result<Value, Error> {
        let event: Event = serde_json::from_value(event.clone()).map_err(|e| {
            Error::bad_request(
                "ObjectLambda::BadEvent",
                format!("not an Object Lambda GetObject event: {e}"),
            )
        })?;
        let ctx = &event.get_object_context;
        let started = std::time::Instant::now();
        let answer = match self.transform(&event, storage, face_service, config).await {
            Ok(a) => a,
            Err(e) => Answer::from_error(&e),
        };
        // Counted like an HTTP request (total time only: the stages are not broken down here).
        let code = answer.error.as_ref().map(|(code, _)| code.as_str());
        let total = [(crate::telemetry::Stage::Total, started.elapsed())];
        crate::telemetry::request(answer.status, code, &total, answer.body.len());
        if let Some((code, message)) = &answer.error {
            tracing::warn!(target: "pixfront::events", status = answer.status, code, message, "Object Lambda error answer");
        }
        let status = answer.status;
        self.write(ctx, answer).await?;
        Ok(json!({"statusCode": status}))
    }

    async fn transform(
        &self,
        event: &Event,
        storage: &Arc<dyn Storage>,
        face_service: &Arc<FaceService>,
        config: &Arc<Config>,
    ) -> Result<Answer, Error> {
        let (key, raw_query) = key_and_query(&event.user_request.url)?;
        let mut edits = self.edits_for(raw_query.as_deref())?;
        if covers_key(&config.faces.force_blur_faces, &key) {
            faces::policy::force_blur(&mut edits);
        }

        let original = self
            .http
            .get(&event.get_object_context.input_s3_url)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "fetching the original from inputS3Url failed");
                Error::new(
                    503,
                    "ImageRetrieval::Unavailable",
                    "The original could not be fetched.",
                )
            })?;
        let status = original.status().as_u16();
        let header = |name: &str| {
            original
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (content_type, cache_control, etag) =
            (header("content-type"), header("cache-control"), header("etag"));
        let body = original.bytes().await.map_err(|_| {
            Error::new(
                503,
                "ImageRetrieval::Unavailable",
                "The original could not be read.",
            )
        })?;
        if status != 200 {
            // S3's own error: passed on with its status and code.
            let text = String::from_utf8_lossy(&body);
            let code = xml_field(&text, "Code").unwrap_or(match status {
                404 => "NoSuchKey",
                403 => "AccessDenied",
                s if s >= 500 => "InternalError",
                _ => "InvalidRequest",
            });
            let message = xml_field(&text, "Message").unwrap_or("The original could not be read.");
            return Ok(Answer::error(status, code, message));
        }
        // Nothing to do: the object as stored, whatever it is.
        if edits.is_empty() {
            return Ok(Answer {
                status: 200,
                body,
                content_type,
                cache_control,
                error: None,
            });
        }

        let mut resources = Resources::default();
        for (bucket, overlay_key) in pipeline::overlay_refs(&ImageRequest::new("", "", edits.clone())) {
            let overlay = storage.get(&bucket, &overlay_key).await?;
            resources.overlays.insert((bucket, overlay_key), overlay.body);
        }
        let cache_key = etag.map(|etag| CacheKey {
            bucket: event.configuration.supporting_access_point_arn.clone(),
            key: key.clone(),
            etag,
        });
        resources.faces = Some(FaceJob::new(face_service.clone(), cache_key));
        let request = ImageRequest::new("", key, edits);
        let config = config.clone();
        let output = tokio::task::spawn_blocking(move || {
            pipeline::process(
                &request,
                &body,
                content_type.as_deref(),
                &resources,
                &config.pipeline,
            )
        })
        .await
        .map_err(|_| Error::internal())??;
        Ok(Answer {
            status: 200,
            body: output.bytes,
            content_type: Some(output.content_type),
            cache_control,
            error: None,
        })
    }

    /// The policy with the query's edits on top (the policy's `blurFaces` kept).
    fn edits_for(&self, raw_query: Option<&str>) -> Result<Edits, Error> {
        let mut merged = self.policy.clone();
        query::merge(&mut merged, query::edits(&query::parse(raw_query))?);
        if let Some(blur) = self.policy.get("blurFaces") {
            merged.insert("blurFaces".into(), blur.clone());
        }
        let (edits, _ignored) = Edits::from_json(&merged)?;
        Ok(edits)
    }

    async fn write(&self, ctx: &GetObjectContext, answer: Answer) -> Result<(), Error> {
        let force_path_style = self.force_path_style;
        let client = self
            .s3
            .get_or_init(|| async move {
                let sdk = crate::aws::load_sdk_config().await;
                let conf = aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(force_path_style)
                    .build();
                aws_sdk_s3::Client::from_conf(conf)
            })
            .await;
        let mut call = client
            .write_get_object_response()
            .request_route(&ctx.output_route)
            .request_token(&ctx.output_token)
            .status_code(i32::from(answer.status));
        if let Some((code, message)) = &answer.error {
            call = call.error_code(code).error_message(message);
        } else {
            call = call
                .content_length(answer.body.len() as i64)
                .body(answer.body.into());
            if let Some(ct) = &answer.content_type {
                call = call.content_type(ct);
            }
            if let Some(cc) = &answer.cache_control {
                call = call.cache_control(cc);
            }
        }
        call.send().await.map_err(|e| {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                detail.push_str(&format!(": {s}"));
                source = s.source();
            }
            tracing::error!(error = %detail, "WriteGetObjectResponse failed");
            Error::new(
                503,
                "ObjectLambda::WriteFailed",
                format!("WriteGetObjectResponse failed: {detail}"),
            )
        })?;
        Ok(())
    }
}

/// Parses the fixed edits: a JSON object of known edits whose overlays are allow-listed.
fn parse_policy(value: &str, allowed: &[String]) -> Result<Map<String, Value>, String> {
    let map: Map<String, Value> =
        serde_json::from_str(value).map_err(|e| format!("expected a JSON object of edits: {e}"))?;
    let (edits, unknown) = Edits::from_json(&map).map_err(|e| e.message)?;
    if !unknown.is_empty() {
        return Err(format!("unknown edit(s) {}", unknown.join(", ")));
    }
    for e in edits.iter() {
        if let Edit::OverlayWith(o) = e {
            if !allowed.contains(&o.bucket) {
                return Err(format!(
                    "overlayWith bucket {:?} is not in SOURCE_BUCKETS",
                    o.bucket
                ));
            }
        }
    }
    Ok(map)
}

/// The object key (percent-decoded path without its `/`) and raw query of the caller's URL
/// (a full URL, or only its path and query as in some of AWS's examples).
fn key_and_query(url: &str) -> Result<(String, Option<String>), Error> {
    let bad =
        |e: String| Error::bad_request("ObjectLambda::BadEvent", format!("userRequest.url {url:?}: {e}"));
    let base = reqwest::Url::parse("https://object-lambda.invalid/").map_err(|e| bad(e.to_string()))?;
    let parsed = reqwest::Url::options()
        .base_url(Some(&base))
        .parse(url)
        .map_err(|e| bad(e.to_string()))?;
    let key = percent_encoding::percent_decode_str(parsed.path().trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned();
    Ok((key, parsed.query().map(str::to_string)))
}

/// `FORCE_BLUR_FACES` by key alone: each entry's own bucket is taken as this function's.
fn covers_key(entries: &[String], key: &str) -> bool {
    entries.iter().any(|entry| {
        let bucket = entry.split('/').next().unwrap_or("");
        faces::policy::covers(std::slice::from_ref(entry), bucket, key)
    })
}

/// The text of the first `<name>…</name>` of an S3 XML error.
fn xml_field<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let len = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + len]).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda(policy: &str) -> ObjectLambda {
        ObjectLambda {
            policy: parse_policy(policy, &[]).unwrap(),
            http: reqwest::Client::new(),
            s3: OnceCell::new(),
            force_path_style: false,
        }
    }

    #[test]
    fn query_edits_come_on_top_but_cannot_undo_the_blur() {
        let ol = lambda(r#"{"blurFaces": true, "resize": {"width": 800}}"#);
        let e = ol
            .edits_for(Some("width=100&blurFaces=false&format=webp"))
            .unwrap();
        assert_eq!(
            Value::Object(e.to_json()),
            json!({"blurFaces": true, "resize": {"width": 100}, "toFormat": "webp"})
        );
        assert!(ol.edits_for(Some("width=abc")).is_err());
        assert!(lambda("{}").edits_for(None).unwrap().is_empty());
    }

    #[test]
    fn policy_is_checked() {
        assert!(parse_policy(r#"{"blurFaces": true}"#, &[]).is_ok());
        assert!(parse_policy(r#"{"sepia": 1}"#, &[])
            .unwrap_err()
            .contains("sepia"));
        assert!(parse_policy("[1]", &[]).is_err());
        let overlay = r#"{"overlayWith": {"bucket": "marks", "key": "logo.png"}}"#;
        assert!(parse_policy(overlay, &[]).unwrap_err().contains("SOURCE_BUCKETS"));
        assert!(parse_policy(overlay, &["marks".into()]).is_ok());
    }

    #[test]
    fn keys_queries_and_errors() {
        let (k, q) = key_and_query(
            "https://ap-1234.s3-object-lambda.us-east-1.amazonaws.com/team/caf%C3%A9%20b.jpg?width=10",
        )
        .unwrap();
        assert_eq!((k.as_str(), q.as_deref()), ("team/café b.jpg", Some("width=10")));
        let (k, q) = key_and_query("/s3.txt").unwrap();
        assert_eq!((k.as_str(), q), ("s3.txt", None));
        assert!(covers_key(&["photos".into()], "any.jpg"));
        assert!(covers_key(&["photos/team/".into()], "team/a.jpg"));
        assert!(!covers_key(&["photos/team/".into()], "shop/a.jpg"));
        let xml = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
        assert_eq!(xml_field(xml, "Code"), Some("NoSuchKey"));
        assert_eq!(
            xml_field(xml, "Message"),
            Some("The specified key does not exist.")
        );
        assert_eq!(xml_field("<Error/>", "Code"), None);
        let a = Answer::from_error(&Error::bad_request("CorruptImage", "bad"));
        assert_eq!((a.status, a.error.unwrap().0.as_str()), (400, "InvalidRequest"));
    }
}
