//! Amazon S3 (or any S3-compatible endpoint) backend.
//!
//! Credentials, region and endpoint come from the AWS SDK's standard chain: `AWS_ACCESS_KEY_ID`…,
//! profiles, the Lambda role; `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` override the endpoint.
//! The Rust SDK has no variable for path-style addressing, so pixfront reads
//! `S3_FORCE_PATH_STYLE=Yes` ([`S3Settings`]).
//!
//! Errors follow SIH where SIH is right and diverge where SIH would poison a CDN:
//! - missing key, access denied, any other per-object refusal: 404 `NoSuchKey` (SIH);
//! - throttling, 5xx, timeouts, connection failures (after the SDK's retries with backoff):
//!   503 `ImageRetrieval::Unavailable` — SIH answers 404, which CloudFront would cache;
//! - the store rejecting *our* credentials or addressing (bad key id, bad signature, expired
//!   token, wrong region): 503 `ImageRetrieval::AccessRejected`, because it concerns every key
//!   and is fixed by the operator, not by the user. Both 5xx answers carry the 5xx error
//!   Cache-Control (`no-store` by default).

use super::{no_such_key, BoxFuture, Object, Storage};
use crate::aws::describe;
use crate::error::Error;
use crate::settings::Lookup;
use crate::telemetry::Service;
use aws_config::SdkConfig;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use std::time::SystemTime;

/// Reads originals with GetObject.
#[derive(Debug, Clone)]
pub struct S3Storage {
    client: aws_sdk_s3::Client,
    /// Buckets the health check probes (`SOURCE_BUCKETS`).
    health_buckets: Vec<String>,
}

/// S3 addressing the SDK has no variable for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct S3Settings {
    /// `S3_FORCE_PATH_STYLE=Yes`: address S3 as `endpoint/bucket/key` (MinIO and most
    /// S3-compatible servers) instead of `bucket.endpoint/key`.
    pub force_path_style: bool,
}

impl S3Settings {
    pub fn from_lookup(get: &Lookup) -> S3Settings {
        S3Settings {
            force_path_style: get.yes("S3_FORCE_PATH_STYLE"),
        }
    }
}

impl S3Storage {
    /// From an SDK configuration (its retry/timeout settings are kept), with the path-style
    /// setting.
    pub fn from_sdk_config(sdk: &SdkConfig, settings: &S3Settings, health_buckets: Vec<String>) -> S3Storage {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(settings.force_path_style)
            .build();
        S3Storage::new(aws_sdk_s3::Client::from_conf(s3), health_buckets)
    }

    pub fn new(client: aws_sdk_s3::Client, health_buckets: Vec<String>) -> S3Storage {
        S3Storage {
            client,
            health_buckets,
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    async fn fetch(&self, bucket: &str, key: &str) -> Result<Object, Error> {
        let out = self.client.get_object().bucket(bucket).key(key).send().await;
        crate::aws::count_call(Service::S3, &out);
        let out = out.map_err(|e| classify(&e, key))?;
        let content_type = out.content_type().map(str::to_string);
        let cache_control = out.cache_control().map(str::to_string);
        // `expires()` is deprecated because S3 passes any string through; an unparsable value
        // is dropped (SIH would send "Invalid Date").
        let expires = out
            .expires_string()
            .and_then(|s| httpdate::parse_http_date(s).ok());
        let last_modified = out.last_modified().and_then(|d| SystemTime::try_from(*d).ok());
        let etag = out.e_tag().map(str::to_string);
        let body = out.body.collect().await.map_err(|e| {
            tracing::warn!(bucket, key, error = %e, "S3 body read failed");
            Error::store_unavailable()
        })?;
        Ok(Object {
            body: body.into_bytes(),
            content_type,
            cache_control,
            expires,
            last_modified,
            etag,
        })
    }
}

impl Storage for S3Storage {
    fn get<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>> {
        Box::pin(self.fetch(bucket, key))
    }

    /// HeadObject: the metadata GetObject would give, without the body. Its errors are not
    /// classified: the caller falls back to GetObject, which reports them.
    fn head<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>> {
        Box::pin(async move {
            let out = self.client.head_object().bucket(bucket).key(key).send().await;
            crate::aws::count_call(Service::S3, &out);
            let out = out.map_err(|e| {
                tracing::debug!(bucket, key, error = %describe(&e), "S3 HeadObject failed");
                Error::store_unavailable()
            })?;
            Ok(Object {
                body: Default::default(),
                content_type: out.content_type().map(str::to_string),
                cache_control: out.cache_control().map(str::to_string),
                expires: out
                    .expires_string()
                    .and_then(|s| httpdate::parse_http_date(s).ok()),
                last_modified: out.last_modified().and_then(|d| SystemTime::try_from(*d).ok()),
                etag: out.e_tag().map(str::to_string),
            })
        })
    }

    /// HeadBucket on every allow-listed bucket: proves credentials, endpoint and permissions.
    fn health(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            if self.health_buckets.is_empty() {
                return Err(Error::new(
                    503,
                    "Storage::Unavailable",
                    "SOURCE_BUCKETS is empty: there is no S3 bucket to read.",
                ));
            }
            for bucket in &self.health_buckets {
                if let Err(e) = self.client.head_bucket().bucket(bucket).send().await {
                    tracing::warn!(bucket, error = %describe(&e), "S3 health check failed");
                    return Err(Error::new(
                        503,
                        "Storage::Unavailable",
                        format!("The S3 bucket {bucket} cannot be read."),
                    ));
                }
            }
            Ok(())
        })
    }
}

fn access_rejected() -> Error {
    Error::new(
        503,
        "ImageRetrieval::AccessRejected",
        "The image store rejected the handler's credentials or configuration.",
    )
}

/// Error codes meaning "the store is overloaded or broken, try again".
const TRANSIENT_CODES: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestTimeout",
    "ServiceUnavailable",
    "InternalError",
];

/// Error codes meaning "every request from this handler fails": credentials or addressing.
const REJECTED_CODES: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "RequestTimeTooSkewed",
    "AuthorizationHeaderMalformed",
    "PermanentRedirect",
    "AccountProblem",
    "NotSignedUp",
    "AllAccessDisabled",
    "InvalidSecurity",
];

/// Maps a GetObject failure to the answer (see the module docs).
fn classify(err: &SdkError<GetObjectError, HttpResponse>, key: &str) -> Error {
    let error = match err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or("");
            let status = err.raw_response().map_or(0, |r| r.status().as_u16());
            if TRANSIENT_CODES.contains(&code) || status >= 500 || status == 429 {
                Error::store_unavailable()
            } else if REJECTED_CODES.contains(&code) || (300..400).contains(&status) {
                access_rejected()
            } else {
                // NoSuchKey, AccessDenied, NoSuchBucket, InvalidObjectState…: SIH's 404.
                return no_such_key(key);
            }
        }
        // No credentials in the chain, invalid endpoint URL…: the operator's to fix.
        SdkError::ConstructionFailure(_) => access_rejected(),
        // Timeouts, refused/reset connections, unparsable answers: the store is not answering.
        _ => Error::store_unavailable(),
    };
    tracing::warn!(key, code = %error.code, error = %describe(err), "S3 GetObject failed");
    error
}
