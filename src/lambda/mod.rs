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
pub mod settings;

pub use settings::{LambdaSettings, Mode};

use crate::config::Config;
use crate::error::Error;
use crate::http::{Handler, HttpResponse};
use crate::settings::Lookup;
use crate::storage::fs::FsStorage;
use crate::storage::s3::S3Storage;
use crate::storage::Storage;
use crate::uploads::{Page, Uploads};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

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
    crate::logging::init(Some(env("LOG_FORMAT").as_deref().unwrap_or("json")))?;
    let setup = (|| {
        let lambda = LambdaSettings::from_lookup(&Lookup(&env))?;
        let config = Config::from_env()?;
        Ok::<_, String>((lambda, config))
    })();
    let (lambda, config) = match setup {
        Ok(ready) => ready,
        Err(e) => {
            response::report_init_error(&e).await;
            return Err(e);
        }
    };
    // Metrics leave as one EMF line on stdout per invocation (`telemetry::emf`).
    crate::telemetry::emf::install();
    let mode = lambda.mode;
    if mode == Mode::Events {
        return events::run(config, lambda).await;
    }
    let (handler, uploads) = match build_handler(config, &lambda).await {
        Ok(built) => built,
        Err(e) => {
            response::report_init_error(&e).await;
            return Err(e);
        }
    };
    tracing::info!(?mode, "pixfront lambda ready");
    // Built once per container: storage clients and secrets are reused by every invocation.
    let handler = Arc::new(handler);
    let result = match mode {
        Mode::Buffered => {
            lambda_http::run(lambda_http::service_fn(move |req| {
                let (handler, uploads) = (handler.clone(), uploads.clone());
                async move { Ok::<_, Infallible>(answer(&handler, uploads.as_deref(), req, mode).await) }
            }))
            .await
        }
        // `Events` has returned above.
        Mode::Streaming | Mode::Events => {
            lambda_http::run_with_streaming_response(lambda_http::service_fn(move |req| {
                let (handler, uploads) = (handler.clone(), uploads.clone());
                async move { Ok::<_, Infallible>(answer(&handler, uploads.as_deref(), req, mode).await) }
            }))
            .await
        }
    };
    result.map_err(|e| e.to_string())
}

/// The handler over this container's storage: S3 through the standard AWS chain (the function's
/// role, region and `AWS_ENDPOINT_URL_S3`), or a local folder when `PIXFRONT_ROOT` is set (one
/// sub-folder per bucket; for running the bootstrap without AWS). The SDK configuration is
/// loaded once per container and shared by the S3 and Secrets Manager clients. Configured origins
/// (`ORIGINS`, …) sit in front of either, as with `pixfront serve`.
/// With `PIXFRONT_UPLOADS=Yes` (and S3), the upload pages and the presign endpoint too.
async fn build_handler(
    config: Config,
    lambda: &LambdaSettings,
) -> Result<(Handler, Option<Arc<Uploads>>), String> {
    let mut results = None;
    let (storage, secrets, faces, uploads): (Arc<dyn Storage>, _, _, _) = match &lambda.root {
        Some(root) => (
            config
                .results_need_s3()
                .map(|()| Arc::new(FsStorage::new(root)))?,
            crate::secrets::provider_from_env(&config.secrets).await,
            Arc::new(crate::faces::FaceService::from_env(&config.faces).await),
            None,
        ),
        None => {
            let sdk = crate::aws::load_sdk_config().await;
            let s3 = S3Storage::from_sdk_config(&sdk, &config.s3, config.health_buckets());
            let faces = Arc::new(crate::faces::FaceService::from_sdk_config(&sdk, &config.faces));
            results = Some(s3.client().clone());
            let uploads =
                crate::server::uploads::s3(&config, &sdk, s3.client().clone(), faces.clone(), None)?;
            (
                Arc::new(s3),
                crate::secrets::provider(&config.secrets, &sdk),
                faces,
                uploads,
            )
        }
    };
    let storage = config.storage_over(storage)?;
    let handler = Handler::new(storage, config.clone())
        .with_secrets(secrets)
        .with_faces(faces);
    let handler = match &results {
        Some(client) => config.with_results(handler, client),
        None => handler,
    };
    Ok((handler, uploads))
}

async fn answer(
    handler: &Handler,
    uploads: Option<&Uploads>,
    req: lambda_http::Request,
    mode: Mode,
) -> lambda_http::Response<lambda_http::Body> {
    let started = Instant::now();
    let origin = event::origin(&req);
    let request = event::to_http_request(&req);
    drop(req);
    let page = uploads.and_then(|u| Some((u, crate::uploads::page_of(&request.path, &request.query)?)));
    let mut resp = match page {
        // Over S3 the files go to the bucket (presigned): a body posted here is refused unread.
        Some((u, Page::Upload)) if request.method == "POST" => {
            let none = futures_util::stream::empty::<Result<bytes::Bytes, Infallible>>();
            u.receive(&request, none).await
        }
        Some((u, page)) => u.handle(page, &request).await,
        None => handler.respond(&request).await,
    };
    let limit = response::payload_limit(origin);
    if mode == Mode::Buffered && response::buffered_size(&resp) > limit {
        resp = too_large_answer(handler, resp, limit).await;
    }
    crate::http::record(&request, &resp, started.elapsed());
    crate::logging::log_request(&request, &resp, started);
    // Lambda freezes the process once the answer is handed over: a rendition write still
    // running would be lost.
    handler.settle().await;
    crate::telemetry::emf::flush();
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
