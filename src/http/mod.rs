//! The HTTP contract every front end shares: `(method, path, query, headers) → (status, headers,
//! body)` over a [`Storage`]. The local server and the Lambda adapters only translate their
//! native request/response types to [`HttpRequest`]/[`HttpResponse`]; all request logic is here.
//!
//! Service endpoints live on the path `/`, which can never name an image: every SIH dialect
//! reads `/` as the empty key (SIH answers it with 404 `NoSuchKey`). `GET /` is the demo page,
//! `GET /?health` the health check.

mod demo;
mod headers;
mod limit;

pub use limit::Limiter;

use crate::config::Config;
use crate::error::Error;
use crate::faces::{self, CacheKey, FaceJob, FaceService, FaceStats};
use crate::pipeline::{self, Resources};
use crate::request::{self, ImageRequest, RequestInput, SecretProvider, StaticSecret};
use crate::storage::{Object, Storage};
use headers::{HeaderList, Timing};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request as any transport delivers it.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// The path as received, percent-escapes intact, with its leading `/`.
    pub path: String,
    /// The raw query string without `?` (empty when none).
    pub query: String,
    pub headers: Vec<(String, String)>,
}

impl HttpRequest {
    pub fn get(path: &str) -> HttpRequest {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            headers: Vec::new(),
        }
    }

    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back. For `HEAD` the body is empty and `Content-Length` says what GET would send.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    /// Per-stage times and the error code, for the front end's access log.
    pub log: RequestLog,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a front end logs about one request (never the query string: it may carry signatures).
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    /// Waiting for a render slot (`MAX_IN_FLIGHT`), after the original was fetched.
    pub queue: Duration,
    pub fetch: Duration,
    pub decode: Duration,
    pub transform: Duration,
    pub encode: Duration,
    /// The error code when the answer is an error (or a fallback image standing in for one).
    pub error: Option<String>,
    /// Face detection / moderation work, when the request needed any.
    pub faces: Option<FaceStats>,
}

/// Samples the demo page offers: a bucket and some keys in it.
#[derive(Debug, Clone, Default)]
pub struct DemoImages {
    pub bucket: String,
    pub keys: Vec<String>,
}

/// The transport-agnostic request handler.
pub struct Handler {
    storage: Arc<dyn Storage>,
    config: Arc<Config>,
    limiter: Limiter,
    secrets: Arc<dyn SecretProvider>,
    demo: DemoImages,
    faces: Arc<FaceService>,
}

impl Handler {
    pub fn new(storage: Arc<dyn Storage>, config: Arc<Config>) -> Handler {
        let limiter = Limiter::new(config.in_flight_limit(), config.queue_limit());
        let secrets = Arc::new(StaticSecret(config.signature_secret.clone()));
        let faces = Arc::new(FaceService::from_config(&config));
        Handler {
            storage,
            config,
            limiter,
            secrets,
            demo: DemoImages::default(),
            faces,
        }
    }

    /// Replaces the face detection service (default: what `FACE_DETECTOR` names, built from the
    /// config alone), e.g. with one holding a Rekognition client.
    pub fn with_faces(mut self, faces: Arc<FaceService>) -> Handler {
        self.faces = faces;
        self
    }

    /// Replaces the signing key source (default: `SIGNATURE_SECRET`), e.g. with Secrets Manager.
    pub fn with_secrets(mut self, secrets: Arc<dyn SecretProvider>) -> Handler {
        self.secrets = secrets;
        self
    }

    /// Sets the images the demo page offers.
    pub fn with_demo_images(mut self, demo: DemoImages) -> Handler {
        self.demo = demo;
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub async fn handle(&self, req: &HttpRequest) -> HttpResponse {
        let head = req.method.eq_ignore_ascii_case("HEAD");
        let mut resp = match req.method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => self.get(req).await,
            "OPTIONS" => headers::preflight(&self.config, req),
            _ => {
                let err = Error::new(
                    405,
                    "MethodNotAllowed",
                    "Only GET, HEAD and OPTIONS are supported.",
                );
                let mut r = headers::error_response(&self.config, &err, RequestLog::default());
                r.headers.push(("Allow".into(), headers::ALLOW.into()));
                r
            }
        };
        if head {
            resp.headers
                .push(("Content-Length".into(), resp.body.len().to_string()));
            resp.body = bytes::Bytes::new();
        }
        resp
    }

    async fn get(&self, req: &HttpRequest) -> HttpResponse {
        if req.path == "/" {
            if req.query.is_empty() {
                return demo::page(&self.config, &self.demo);
            }
            if req.query == "health" {
                return demo::health(&self.config, self.storage.as_ref()).await;
            }
        }
        let input = RequestInput {
            path: &req.path,
            query: (!req.query.is_empty()).then_some(req.query.as_str()),
            accept: req.header("Accept"),
        };
        if self.config.enable_signature {
            self.secrets.refresh().await;
        }
        let parsed = request::parse(&input, &self.config, self.secrets.as_ref());
        let result = match &parsed {
            Ok(image_req) => self.render(req, image_req).await,
            Err(e) => Err((e.clone(), RequestLog::default())),
        };
        match result {
            Ok(resp) => resp,
            Err((err, mut log)) => {
                log.error = Some(err.code.to_string());
                let custom = parsed.as_ref().ok().and_then(|r| r.headers.as_ref());
                match self.fallback(&err, custom, &log).await {
                    Some(resp) => resp,
                    None => headers::error_response(&self.config, &err, log),
                }
            }
        }
    }

    /// Fetch, check `If-None-Match`, render, and assemble the success answer.
    async fn render(
        &self,
        req: &HttpRequest,
        image: &ImageRequest,
    ) -> Result<HttpResponse, (Error, RequestLog)> {
        let mut log = RequestLog::default();
        // FORCE_BLUR_FACES: the URL cannot opt out (a passthrough request is blurred too).
        let forced;
        let image = if faces::policy::covers(&self.config.force_blur_faces, &image.bucket, &image.key) {
            let mut owned = image.clone();
            faces::policy::force_blur(&mut owned.edits);
            forced = owned;
            &forced
        } else {
            image
        };
        // A revalidation is answered from the original's metadata alone when its ETag still
        // matches: a 304 never downloads the original. Any failure here falls through to the
        // full path, which reports it.
        if let Some(inm) = req.header("If-None-Match") {
            let started = Instant::now();
            if let Ok(meta) = self.storage.head(&image.bucket, &image.key).await {
                let etag = meta
                    .etag
                    .as_deref()
                    .map(|e| headers::etag(e, image, &self.config));
                if let Some(etag) = etag.filter(|etag| headers::none_match_hits(inm, etag)) {
                    log.fetch = started.elapsed();
                    let mut h = headers::success_headers(&self.config, image, &meta);
                    h.set("ETag", &etag);
                    return Ok(HttpResponse {
                        status: 304,
                        headers: h.into_vec(),
                        body: bytes::Bytes::new(),
                        log,
                    });
                }
            }
        }
        // Admission first, so a flood of requests cannot each hold an original in memory.
        let slot = self.limiter.admit().map_err(|e| (e, RequestLog::default()))?;
        let started = Instant::now();
        let object = self.storage.get(&image.bucket, &image.key).await;
        let mut resources = Resources::default();
        let object = object.map_err(|e| (e, log.clone()))?;
        let face_job = FaceJob::new(
            self.faces.clone(),
            object.etag.as_ref().map(|etag| CacheKey {
                bucket: image.bucket.clone(),
                key: image.key.clone(),
                etag: etag.clone(),
            }),
        );
        resources.faces = Some(face_job.clone());
        // Overlays from FORCE_BLUR_FACES originals are blurred too, or a watermark could
        // show a protected face.
        let mut forced_overlays = Vec::new();
        for (bucket, key) in pipeline::overlay_refs(image) {
            let overlay = self
                .storage
                .get(&bucket, &key)
                .await
                .map_err(|e| (e, log.clone()))?;
            if faces::policy::covers(&self.config.force_blur_faces, &bucket, &key) {
                let job = FaceJob {
                    key: overlay.etag.map(|etag| CacheKey {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        etag,
                    }),
                    ..face_job.clone()
                };
                forced_overlays.push(((bucket.clone(), key.clone()), job));
            }
            resources.overlays.insert((bucket, key), overlay.body);
        }
        log.fetch = started.elapsed();
        let content_type = headers::source_content_type(&object).map_err(|e| (e, log.clone()))?;

        let etag = object
            .etag
            .as_deref()
            .map(|e| headers::etag(e, image, &self.config));

        let config = self.config.clone();
        let job_req = image.clone();
        let body = object.body.clone();
        let queued = Instant::now();
        let output = self
            .limiter
            .run(slot, move || {
                let waited = queued.elapsed();
                let mut resources = resources;
                let out =
                    faces::policy::blur_overlays(&mut resources, &forced_overlays, &config).and_then(|()| {
                        pipeline::process(&job_req, &body, content_type.as_deref(), &resources, &config)
                    });
                (waited, out)
            })
            .await
            .and_then(|(waited, out)| {
                log.queue = waited;
                out
            });
        let face_stats = face_job.stats();
        if face_stats.detector.is_some() {
            log.faces = Some(face_stats);
        }
        let output = output.map_err(|e| (e, log.clone()))?;
        log.decode = output.timings.decode;
        log.transform = output.timings.transform;
        log.encode = output.timings.encode;

        let mut h = headers::success_headers(&self.config, image, &object);
        headers::content_type(&mut h, &output.content_type);
        if let Some(etag) = &etag {
            h.set("ETag", etag);
        }
        h.set("Server-Timing", &Timing::from(&log).to_string());
        Ok(HttpResponse {
            status: 200,
            headers: h.into_vec(),
            body: output.bytes,
            log,
        })
    }

    /// The answer to an error a front end detects itself (Lambda's payload limit): the fallback
    /// image when one is configured, else the JSON error, as for the handler's own errors.
    pub async fn error_answer(&self, err: &Error, mut log: RequestLog) -> HttpResponse {
        log.error = Some(err.code.to_string());
        match self.fallback(err, None, &log).await {
            Some(resp) => resp,
            None => self.error_json(err, log),
        }
    }

    /// The JSON error answer alone (no fallback image).
    pub fn error_json(&self, err: &Error, mut log: RequestLog) -> HttpResponse {
        log.error = Some(err.code.to_string());
        headers::error_response(&self.config, err, log)
    }

    /// SIH's fallback image (§4.4, §5.3): served for every error when configured; when it cannot
    /// be read the original error stands.
    async fn fallback(
        &self,
        err: &Error,
        custom: Option<&indexmap::IndexMap<String, String>>,
        log: &RequestLog,
    ) -> Option<HttpResponse> {
        let c = &self.config;
        let bucket = c
            .fallback_image_bucket
            .as_deref()
            .filter(|s| !s.trim().is_empty())?;
        let key = c.fallback_image_key.as_deref().filter(|s| !s.trim().is_empty())?;
        if !c.enable_fallback_image {
            return None;
        }
        let object: Object = self.storage.get(bucket, key).await.ok()?;
        let mut h = HeaderList::default();
        headers::cors(c, &mut h);
        // A server-side failure (store unavailable, detector down) is transient: a CDN must not
        // keep the stand-in for a year, whatever the fallback object says.
        let cache = if err.status >= 500 {
            c.error_cache_control_5xx.clone()
        } else {
            object
                .cache_control
                .clone()
                .or_else(|| custom.and_then(|m| m.get("Cache-Control").cloned()))
                .unwrap_or_else(|| headers::DEFAULT_CACHE_CONTROL.to_string())
        };
        h.set(
            "Cache-Control",
            headers::error_cache_override(err).unwrap_or(&cache),
        );
        if let Some(ct) = &object.content_type {
            headers::content_type(&mut h, ct);
        }
        if let Some(lm) = object.last_modified {
            h.set("Last-Modified", &httpdate::fmt_http_date(lm));
        }
        Some(HttpResponse {
            status: if err.status >= 400 { err.status } else { 500 },
            headers: h.into_vec(),
            body: object.body,
            log: log.clone(),
        })
    }
}
