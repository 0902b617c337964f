//! Rendition storage (`RESULT_BUCKET`): every successful render is written to an S3 bucket under
//! a key derived from its canonical request (`http::headers::rendition_key`) and read from there
//! before the original is fetched. Only whole objects exist in S3 (PutObject is atomic), so a
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

/// `RESULT_BUCKET` / `RESULT_PREFIX`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultSettings {
    /// The bucket renditions are written to and read from; none: rendition storage is off.
    pub bucket: Option<String>,
    /// Prepended to every rendition key (e.g. `renditions/`).
    pub prefix: String,
}

impl ResultSettings {
    pub fn from_lookup(get: &Lookup) -> ResultSettings {
        ResultSettings {
            bucket: get.non_empty("RESULT_BUCKET"),
            prefix: get.get("RESULT_PREFIX").unwrap_or_default(),
        }
    }
}

/// A stored answer body and the headers it is served with.
#[derive(Debug, Clone, Default)]
pub struct Rendition {
    pub body: bytes::Bytes,
    pub content_type: String,
    pub cache_control: Option<String>,
    /// The answer's ETag, quoted.
    pub etag: String,
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
