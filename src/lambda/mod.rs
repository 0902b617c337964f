//! The Lambda front end: when `AWS_LAMBDA_RUNTIME_API` is set, `pixfront` is the function's
//! `bootstrap` and runs `lambda_http`'s runtime over the shared [`Handler`]. It only translates
//! events and answers ([`event`], [`response`]); every request decision lives in the handler.
//!
//! - *buffered* (default; API Gateway REST/HTTP API, ALB, Function URL in BUFFERED mode): one JSON
//!   answer, binary bodies base64-encoded, and SIH's 413 `TooLargeImageException` when it would
//!   exceed Lambda's 6 MB payload limit (an ALB's 1 MB for ALB events).
//! - *streaming* (`PIXFRONT_LAMBDA_MODE=streaming`; Function URL in RESPONSE_STREAM mode, API
//!   Gateway REST streaming): status and headers first, then the raw bytes; no 6 MB limit.
//! - *events* (`PIXFRONT_LAMBDA_MODE=events`; S3 notifications, SQS, S3 Object Lambda): not HTTP
//!   at all, see [`events`].

pub mod event;
pub mod events;
pub mod object_lambda;
pub mod response;

use crate::config::Config;
use crate::error::Error;
use crate::http::{Handler, HttpResponse};
use crate::storage::fs::FsStorage;
use crate::storage::s3::S3Storage;
use crate::storage::Storage;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// How answers go back to the event source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Buffered,
    Streaming,
    /// Upload pipeline (S3/SQS notifications) and S3 Object Lambda.
    Events,
}

impl Mode {
    /// `PIXFRONT_LAMBDA_MODE`: `buffered` (default), `streaming` or `events`.
    pub fn parse(value: Option<&str>) -> Result<Mode, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Mode::Buffered),
            Some(v) if v.eq_ignore_ascii_case("buffered") => Ok(Mode::Buffered),
            Some(v) if v.eq_ignore_ascii_case("streaming") => Ok(Mode::Streaming),
            Some(v) if v.eq_ignore_ascii_case("events") => Ok(Mode::Events),
            Some(v) => Err(format!(
                "PIXFRONT_LAMBDA_MODE: expected buffered, streaming or events, got {v:?}"
            )),
        }
    }
}

/// True when the process was started by Lambda (or a Runtime API emulator).
pub fn requested() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// SIH's answer when the converted image does not fit the buffered payload (§5.4).
pub fn too_large() -> Error {
    Error::new(
        413,
        "TooLargeImageException",
        "The converted image is too large to return.",
    )
}

/// Runs the bootstrap until the runtime stops; the exit code for `main`.
pub fn main() -> i32 {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pixfront lambda: cannot start the tokio runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("pixfront lambda: {e}");
            1
        }
    }
}

async fn run() -> Result<(), String> {
    let env = |k: &str| std::env::var(k).ok();
    // CloudWatch takes one JSON object per line best; LOG_FORMAT=pretty still works.
    crate::server::init_logging(Some(env("LOG_FORMAT").as_deref().unwrap_or("json")))?;
    let setup = (|| {
        let mode = Mode::parse(env("PIXFRONT_LAMBDA_MODE").as_deref())?;
        let config = Config::from_env()?;
        Ok::<_, String>((mode, config))
    })();
    let (mode, config) = match setup {
        Ok(ready) => ready,
        Err(e) => {
            report_init_error(&e).await;
            return Err(e);
        }
    };
    if mode == Mode::Events {
        return events::run(config).await;
    }
    let handler = build_handler(config).await;
    tracing::info!(?mode, "pixfront lambda ready");
    // Built once per container: storage clients and secrets are reused by every invocation.
    let handler = Arc::new(handler);
    let result = match mode {
        Mode::Buffered => {
            lambda_http::run(lambda_http::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(answer(&handler, req, mode).await) }
            }))
            .await
        }
        // `Events` has returned above.
        Mode::Streaming | Mode::Events => {
            lambda_http::run_with_streaming_response(lambda_http::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(answer(&handler, req, mode).await) }
            }))
            .await
        }
    };
    result.map_err(|e| e.to_string())
}

/// The handler over this container's storage: S3 through the standard AWS chain (the function's
/// role, region and `AWS_ENDPOINT_URL_S3`), or a local folder when `PIXFRONT_ROOT` is set (one
/// sub-folder per bucket; for running the bootstrap without AWS). The SDK configuration is
/// loaded once per container and shared by the S3 and Secrets Manager clients.
async fn build_handler(config: Config) -> Handler {
    let root = std::env::var("PIXFRONT_ROOT").ok().filter(|r| !r.is_empty());
    let (storage, secrets, faces): (Arc<dyn Storage>, _, _) = match root {
        Some(root) => (
            Arc::new(FsStorage::new(root)),
            crate::secrets::provider_from_env(&config).await,
            crate::faces::FaceService::from_env(&config).await,
        ),
        None => {
            let sdk = crate::storage::s3::load_sdk_config().await;
            (
                Arc::new(S3Storage::from_sdk_config(&sdk, &config)),
                crate::secrets::provider(&config, &sdk),
                crate::faces::FaceService::from_sdk_config(&sdk, &config),
            )
        }
    };
    Handler::new(storage, Arc::new(config))
        .with_secrets(secrets)
        .with_faces(Arc::new(faces))
}

async fn answer(
    handler: &Handler,
    req: lambda_http::Request,
    mode: Mode,
) -> lambda_http::Response<lambda_http::Body> {
    let started = Instant::now();
    let origin = event::origin(&req);
    let request = event::to_http_request(&req);
    drop(req);
    let mut resp = handler.handle(&request).await;
    let limit = response::payload_limit(origin);
    if mode == Mode::Buffered && response::buffered_size(&resp) > limit {
        resp = too_large_answer(handler, resp, limit).await;
    }
    crate::server::log_request(&request, &resp, started);
    response::to_lambda(resp, origin)
}

/// SIH answers an oversized output like any other error: with the fallback image when one is
/// configured (and fits), else the JSON error.
async fn too_large_answer(handler: &Handler, oversized: HttpResponse, limit: usize) -> HttpResponse {
    let err = too_large();
    let fallback = handler.error_answer(&err, oversized.log.clone()).await;
    if response::buffered_size(&fallback) <= limit {
        return fallback;
    }
    handler.error_json(&err, oversized.log)
}

/// Tells Lambda why the function could not start (`/runtime/init/error`), so the failure shows
/// as `Runtime.InitError` with our message instead of a bare exit.
async fn report_init_error(message: &str) {
    use lambda_runtime_api_client::{body::Body, PooledClient};
    let body = serde_json::json!({"errorType": "Runtime.InitError", "errorMessage": message}).to_string();
    let sent = async {
        let client = PooledClient::builder().build();
        let req = lambda_http::http::Request::post("/2018-06-01/runtime/init/error")
            .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
            .header("Content-Type", "application/json")
            .body(Body::from(body))?;
        client.call(req).await?;
        Ok::<_, lambda_http::Error>(())
    };
    if let Err(e) = sent.await {
        eprintln!("pixfront lambda: cannot report the init error: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_from_env() {
        assert_eq!(Mode::parse(None), Ok(Mode::Buffered));
        assert_eq!(Mode::parse(Some("")), Ok(Mode::Buffered));
        assert_eq!(Mode::parse(Some("Streaming")), Ok(Mode::Streaming));
        assert_eq!(Mode::parse(Some("events")), Ok(Mode::Events));
        assert!(Mode::parse(Some("stream")).is_err());
    }
}
