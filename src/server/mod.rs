//! `pixfront serve`: the local HTTP front end (axum). It only translates between hyper's types
//! and [`crate::http`]'s; every request decision lives in the shared handler.

pub mod connections;
mod setting_table;
pub mod settings;
pub mod uploads;

use crate::config::Config;
use crate::http::{DemoImages, Handler, HttpRequest, HttpResponse};
use crate::storage::fs::FsStorage;
use crate::telemetry::prometheus::Exposition;
use crate::telemetry::MetricsSettings;
use crate::uploads::{Page, Uploads};
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use base64::Engine;
use connections::ConnectionSettings;
use settings::ServeArgs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The bucket folder inside `samples/` served when no `--root` is given.
pub const SAMPLES_BUCKET: &str = "pixfront-samples";

/// The router: every path goes to the shared handler.
pub fn router(handler: Arc<Handler>) -> Router {
    router_with(handler, None)
}

/// The router with the upload pages (`/?upload`, `/?gallery`, `/?presign`) in front of the
/// handler.
pub fn router_with(handler: Arc<Handler>, uploads: Option<Arc<Uploads>>) -> Router {
    Router::new().fallback(move |req: Request| serve_one(handler.clone(), uploads.clone(), req))
}

/// Serves `handler` on an already bound listener until `shutdown` resolves; requests in flight
/// finish first. Connection limits are the defaults ([`serve_with`] takes others).
pub async fn serve(
    listener: tokio::net::TcpListener,
    handler: Arc<Handler>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, handler, &ConnectionSettings::default(), shutdown).await
}

/// [`serve`] with the given connection limits.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    handler: Arc<Handler>,
    limits: &ConnectionSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::serve(listener, router(handler), limits, shutdown).await
}

/// [`serve_with`] with the upload pages.
pub async fn serve_with_uploads(
    listener: tokio::net::TcpListener,
    handler: Arc<Handler>,
    uploads: Option<Arc<Uploads>>,
    limits: &ConnectionSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::serve(listener, router_with(handler, uploads), limits, shutdown).await
}

async fn serve_one(handler: Arc<Handler>, uploads: Option<Arc<Uploads>>, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
    };
    let page = uploads
        .as_ref()
        .and_then(|u| Some((u, crate::uploads::page_of(&request.path, &request.query)?)));
    let resp = match page {
        Some((u, Page::Upload)) if request.method == "POST" => {
            u.receive(&request, body.into_data_stream()).await
        }
        Some((u, page)) => u.handle(page, &request).await,
        None => handler.handle(&request).await,
    };
    crate::logging::log_request(&request, &resp, started);
    to_axum(resp)
}

fn to_axum(resp: HttpResponse) -> Response {
    let mut out = Response::new(Body::from(resp.body));
    *out.status_mut() = axum::http::StatusCode::from_u16(resp.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    for (k, v) in resp.headers {
        // Custom headers come from requests; a name or value hyper cannot send is dropped.
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            axum::http::HeaderValue::from_str(&v),
        ) {
            headers.append(k, v);
        }
    }
    out
}

/// The bundled samples folder: `./samples` when run from a checkout, else the source tree's.
pub fn samples_root() -> PathBuf {
    let here = PathBuf::from("samples");
    if here.join(SAMPLES_BUCKET).is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Image files below `dir` (keys relative to it), sorted, at most `limit`.
pub fn list_images(dir: &Path, limit: usize) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Some(ext) = p.extension().and_then(|e| e.to_str()) {
                let image_ext = ["jpg", "jpeg", "png", "webp", "gif", "tif", "tiff", "avif", "svg"];
                if image_ext.contains(&ext.to_ascii_lowercase().as_str()) {
                    if let Ok(rel) = p.strip_prefix(base) {
                        out.push(rel.to_string_lossy().into_owned());
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out.truncate(limit);
    out
}

/// `pixfront serve`.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    crate::logging::init(args.get("LOG_FORMAT").as_deref())?;
    let custom_root = args.get("PIXFRONT_ROOT").filter(|r| !r.is_empty());
    let root = custom_root
        .clone()
        .map(PathBuf::from)
        .unwrap_or_else(samples_root);
    let mut config = Config::from_lookup(|k| args.get(k))?;
    let limits = ConnectionSettings::from_lookup(&crate::settings::Lookup(&|k| args.get(k)))?;
    if args.get("PIXFRONT_S3").as_deref() == Some("Yes") {
        return run_s3(args, config, limits).await;
    }
    if custom_root.is_none() && config.uploads.enabled {
        // Uploads would be written into the bundled samples (a checkout, or no writable folder).
        return Err("--uploads needs --root: the folder uploads and renditions are written to".into());
    }
    if custom_root.is_none() && config.request.source_buckets.is_none() {
        config.request.source_buckets = Some(SAMPLES_BUCKET.to_string());
    }
    let listen = args
        .get("PIXFRONT_LISTEN")
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let default_bucket = config
        .request
        .source_buckets
        .as_deref()
        .and_then(|b| b.split(',').map(str::trim).find(|b| !b.is_empty()))
        .unwrap_or("")
        .to_string();
    let keys = if default_bucket.is_empty() {
        Vec::new()
    } else {
        list_images(&root.join(&default_bucket), 200)
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (scrape, metrics_url) = setup_metrics(&args, addr).await?;
    print_banner(
        addr,
        &root,
        &default_bucket,
        &keys,
        custom_root.is_none(),
        &metrics_url,
    );

    let demo = DemoImages {
        bucket: default_bucket,
        keys,
    };
    let secrets = crate::secrets::provider_from_env(&config.secrets).await;
    let faces = Arc::new(crate::faces::FaceService::from_env(&config.faces).await);
    let uploads = uploads::local(&config, &root, faces.clone(), addr).await?;
    config.results_need_s3()?;
    let storage = config.storage_over(Arc::new(FsStorage::new(root)))?;
    let handler = Handler::new(storage, config)
        .with_faces(faces)
        .with_demo_images(demo)
        .with_secrets(secrets);
    let handler = with_scrape(handler, scrape);
    serve_with_uploads(listener, Arc::new(handler), uploads, &limits, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

/// `pixfront serve --s3`: originals from S3 through the standard AWS chain.
async fn run_s3(args: ServeArgs, config: Config, limits: ConnectionSettings) -> Result<(), String> {
    let listen = args
        .get("PIXFRONT_LISTEN")
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let sdk = crate::aws::load_sdk_config().await;
    let s3 = crate::storage::s3::S3Storage::from_sdk_config(&sdk, &config.s3, config.health_buckets());
    let s3_client = s3.client().clone();
    let storage = config.storage_over(Arc::new(s3))?;
    let secrets = crate::secrets::provider(&config.secrets, &sdk);
    let faces = crate::faces::FaceService::from_sdk_config(&sdk, &config.faces);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let buckets = config.request.source_buckets.clone().unwrap_or_default();
    println!("pixfront serving S3 buckets [{buckets}] on http://{addr}");
    println!("  health:     http://{addr}/?health");
    let (scrape, metrics_url) = setup_metrics(&args, addr).await?;
    println!("  metrics:    {metrics_url}");
    let faces = Arc::new(faces);
    let uploads = uploads::s3(&config, &sdk, s3_client.clone(), faces.clone(), Some(addr))?;
    let handler = Handler::new(storage, config.clone())
        .with_secrets(secrets)
        .with_faces(faces);
    let handler = config.with_results(handler, &s3_client);
    let handler = with_scrape(handler, scrape);
    serve_with_uploads(listener, Arc::new(handler), uploads, &limits, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

/// Installs the Prometheus recorder and starts answering scrapes: on `METRICS_LISTEN` when set
/// (returns no exposition: the main address then has no metrics endpoint), else the exposition
/// for the handler's `/?metrics`. Also returns the scrape URL for the banner.
async fn setup_metrics(args: &ServeArgs, main: SocketAddr) -> Result<(Option<Exposition>, String), String> {
    let settings = MetricsSettings::from_lookup(&crate::settings::Lookup(&|k| args.get(k)));
    let Some(exposition) = crate::telemetry::prometheus::install() else {
        return Ok((None, "(another metrics recorder is installed)".into()));
    };
    let Some(listen) = settings.listen else {
        return Ok((Some(exposition), format!("http://{main}/?metrics")));
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("cannot listen on {listen} (METRICS_LISTEN): {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Lives as long as the process: a scrape during shutdown still answers.
    tokio::spawn(serve_metrics(listener, exposition));
    Ok((None, format!("http://{addr}/metrics")))
}

fn with_scrape(handler: Handler, scrape: Option<Exposition>) -> Handler {
    match scrape {
        Some(exposition) => handler.with_metrics(exposition),
        None => handler,
    }
}

/// The metrics-only listener: `GET /metrics` (or `/?metrics`) is the exposition, anything
/// else 404.
pub async fn serve_metrics(listener: tokio::net::TcpListener, exposition: Exposition) {
    let app = Router::new().fallback(move |req: Request| {
        let exposition = exposition.clone();
        async move {
            let uri = req.uri();
            let scrape = uri.path() == "/metrics"
                || (uri.path() == "/" && uri.query().is_some_and(crate::telemetry::prometheus::is_scrape));
            match scrape {
                true => to_axum(crate::http::metrics_response(&exposition)),
                false => {
                    let mut r = Response::new(Body::from("not found"));
                    *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
                    r
                }
            }
        }
    });
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("metrics listener stopped: {e}");
    }
}

fn print_banner(addr: SocketAddr, root: &Path, bucket: &str, keys: &[String], samples: bool, metrics: &str) {
    let base = format!("http://{addr}");
    println!("pixfront serving {} on {base}", root.display());
    println!("  demo page:  {base}/");
    println!("  health:     {base}/?health");
    println!("  metrics:    {metrics}");
    if samples {
        let default = serde_json::json!({
            "bucket": bucket,
            "key": "rocket.jpg",
            "edits": {"resize": {"width": 300, "height": 300, "fit": "cover"}, "grayscale": true}
        });
        let b64 = base64::engine::general_purpose::STANDARD.encode(default.to_string());
        println!("Try:");
        println!("  Thumbor:       {base}/fit-in/400x300/people/obama.jpg");
        println!("  Default JSON:  {base}/{b64}");
        println!("  query params:  {base}/people/astronaut.png?width=300&format=webp");
        println!("  AVIF:          {base}/fit-in/600x400/filters:format(avif)/rocket.jpg");
        println!("  face blur:     {base}/fit-in/600x600/filters:blur_faces()/people/obama.jpg");
    } else if let Some(key) = keys.first() {
        println!("Try:  {base}/fit-in/400x300/{key}");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
