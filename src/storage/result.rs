//! Rendition storage (`RESULT_BUCKET`): every successful render is written to an S3 bucket under
//! a key derived from its canonical request (`http::headers::request_hash`) or, for CloudFront
//! to read first, its URL path ([`KeyStyle`]), and read from there before the original is
//! fetched. Only whole objects exist in S3 (PutObject is atomic), so a
//! reader never sees a half-written rendition.
//!
//! The stored object carries what the answer needs: Content-Type and Cache-Control as S3
//! headers (so a CloudFront origin reading the bucket directly sends them too), the answer's
//! ETag and the original's Expires/Last-Modified as user metadata.

use super::BoxFuture;
use crate::aws::describe;
use crate::error::Error;
use crate::settings::Lookup;
use crate::telemetry::Service;
use std::time::SystemTime;

/// `RESULT_BUCKET` / `RESULT_PREFIX` / `RESULT_KEYS`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultSettings {
    /// The bucket renditions are written to and read from; none: rendition storage is off.
    pub bucket: Option<String>,
    /// Prepended to every rendition key (e.g. `renditions/`).
    pub prefix: String,
    pub keys: KeyStyle,
}

/// How a rendition's key is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyStyle {
    /// The SHA-256 of the canonical request: every request can be stored, only pixfront reads.
    #[default]
    Hash,
    /// The URL path itself, so CloudFront can read the bucket before calling the function. Only
    /// requests the path alone determines are stored (see docs/configuration.md).
    Path,
}

impl ResultSettings {
    pub fn from_lookup(get: &Lookup) -> Result<ResultSettings, String> {
        let keys = match get.choice("RESULT_KEYS", &["hash", "path"])?.as_deref() {
            Some("path") => KeyStyle::Path,
            _ => KeyStyle::Hash,
        };
        Ok(ResultSettings {
            bucket: get.non_empty("RESULT_BUCKET"),
            prefix: get.get("RESULT_PREFIX").unwrap_or_default(),
            keys,
        })
    }
}

/// The `KeyStyle::Path` key of a request for `path` (with its leading `/`) and `query`, when the
/// path alone names the rendition: no query string (CloudFront would serve the object to any
/// query), no percent-escape or `+` (S3 decodes them, so two spellings would share a key), and a
/// key S3 accepts. The caller also refuses `Accept`-negotiated and `expires` requests.
pub fn path_key(prefix: &str, path: &str, query: &str) -> Option<String> {
    let path = path.strip_prefix('/')?;
    let plain = !path.is_empty() && !path.contains(['%', '+', '\\']);
    let key = format!("{prefix}{path}");
    (query.is_empty() && plain && key.len() <= 1024).then_some(key)
}

/// A stored answer body and the headers it is served with.
#[derive(Debug, Clone, Default)]
pub struct Rendition {
    pub body: bytes::Bytes,
    pub content_type: String,
    pub cache_control: Option<String>,
    /// The answer's ETag, quoted.
    pub etag: String,
    /// The canonical request's digest (`http::headers::request_hash`): a
    /// path-keyed rendition rendered under other settings (say, before `FORCE_BLUR_FACES`) no
    /// longer matches it and is not served.
    pub digest: String,
    pub expires: Option<SystemTime>,
    pub last_modified: Option<SystemTime>,
}

/// Where renditions live. Errors are the store's own (the caller logs them and carries on).
pub trait ResultStore: Send + Sync {
    /// The rendition under `key`; `None` when there is none.
    fn fetch<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Rendition>, Error>>;
    /// Writes `rendition` under `key` in one request: the object appears whole or not at all.
    fn store(&self, key: String, rendition: Rendition) -> BoxFuture<'_, Result<(), Error>>;
}

const META_ETAG: &str = "pixfront-etag";
const META_DIGEST: &str = "pixfront-request";
const META_EXPIRES: &str = "pixfront-expires";
const META_LAST_MODIFIED: &str = "pixfront-last-modified";

/// Renditions in an S3 bucket.
pub struct S3Results {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Results {
    /// The store `settings` name, when one is set.
    pub fn from_settings(client: aws_sdk_s3::Client, settings: &ResultSettings) -> Option<S3Results> {
        Some(S3Results {
            client,
            bucket: settings.bucket.clone()?,
        })
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "{what}");
    Error::new(503, "ResultStore::Unavailable", what.to_string())
}

impl ResultStore for S3Results {
    fn fetch<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Rendition>, Error>> {
        Box::pin(async move {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await;
            crate::aws::count_call(Service::S3, &out);
            let out = match out {
                Ok(out) => out,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
                Err(e) => return Err(unavailable("rendition read failed", describe(&e))),
            };
            let meta = out.metadata().cloned().unwrap_or_default();
            // An object without our ETag was not written by pixfront: a miss, re-rendered.
            let Some(etag) = meta.get(META_ETAG).cloned() else {
                return Ok(None);
            };
            let digest = meta.get(META_DIGEST).cloned().unwrap_or_default();
            let date = |k: &str| meta.get(k).and_then(|s| httpdate::parse_http_date(s).ok());
            let content_type = out
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let cache_control = out.cache_control().map(str::to_string);
            let (expires, last_modified) = (date(META_EXPIRES), date(META_LAST_MODIFIED));
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| unavailable("rendition body read failed", e))?;
            Ok(Some(Rendition {
                body: body.into_bytes(),
                content_type,
                cache_control,
                etag,
                digest,
                expires,
                last_modified,
            }))
        })
    }

    fn store(&self, key: String, r: Rendition) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let mut put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type(r.content_type)
                .metadata(META_ETAG, r.etag)
                .metadata(META_DIGEST, r.digest)
                .body(r.body.into());
            if let Some(cc) = r.cache_control {
                put = put.cache_control(cc);
            }
            if let Some(t) = r.expires {
                put = put.metadata(META_EXPIRES, httpdate::fmt_http_date(t));
            }
            if let Some(t) = r.last_modified {
                put = put.metadata(META_LAST_MODIFIED, httpdate::fmt_http_date(t));
            }
            let out = put.send().await;
            crate::aws::count_call(Service::S3, &out);
            out.map(|_| ())
                .map_err(|e| unavailable("rendition write failed", describe(&e)))
        })
    }
}
