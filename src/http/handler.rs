//! The transport-agnostic request handler: parse, fetch, admit, render, answer.

use super::demo;
use super::headers::{self, HeaderList, Timing};
use super::limit::Limiter;
use super::message::{DemoImages, HttpRequest, HttpResponse, RequestLog};
use super::results::{self, Results};
use super::settings::HttpSettings;
use crate::error::Error;
use crate::faces::{self, CacheKey, FaceJob, FaceService, FaceSettings};
use crate::pipeline::{self, PipelineSettings, Resources};
use crate::request::{self, ImageRequest, RequestInput, RequestSettings, SecretProvider, StaticSecret};
use crate::storage::result::{Rendition, ResultSettings, ResultStore};
use crate::storage::{Object, Storage};
use crate::telemetry::prometheus::{self, Exposition};
use crate::telemetry::{self, Stage};
use std::sync::Arc;
use std::time::Instant;

/// What the handler reads: each domain's settings, as the front end composed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HandlerSettings {
    pub http: HttpSettings,
    pub request: RequestSettings,
    pub pipeline: PipelineSettings,
    /// Builds the default face service; `force_blur_faces` is checked on every request.
    pub faces: FaceSettings,
    /// `SIGNATURE_SECRET`: the default signing key source (front ends may install another).
    pub signature_secret: Option<String>,
}

/// Counts one answer in the metrics (see `telemetry` for the names), unless it is a service
/// endpoint's: probes and scrapes would drown the image traffic's rates.
pub fn record(req: &HttpRequest, resp: &HttpResponse, total: std::time::Duration) {
    let service = req.query.is_empty() || req.query == "health" || prometheus::is_scrape(&req.query);
    if req.path == "/" && service {
        return;
    }
    let log = &resp.log;
    let faces = log.faces.as_ref().map(|f| f.elapsed).unwrap_or_default();
    let stages = [
        (Stage::Queue, log.queue),
        (Stage::Fetch, log.fetch),
        (Stage::Faces, faces),
        (Stage::Decode, log.decode),
        (Stage::Transform, log.transform),
        (Stage::Encode, log.encode),
        (Stage::Total, total),
    ];
    telemetry::request(resp.status, log.error.as_deref(), &stages, resp.body.len());
}

/// The transport-agnostic request handler.
pub struct Handler {
    pub(super) storage: Arc<dyn Storage>,
    pub(super) config: Arc<HandlerSettings>,
    pub(super) limiter: Limiter,
    secrets: Arc<dyn SecretProvider>,
    demo: DemoImages,
    pub(super) faces: Arc<FaceService>,
    /// Answers `GET /?metrics` when set (`pixfront serve` without `METRICS_LISTEN`).
    metrics: Option<Exposition>,
    /// `RESULT_BUCKET`: renditions served from and written to a bucket.
    results: Option<Results>,
}

impl Handler {
    pub fn new(storage: Arc<dyn Storage>, settings: impl Into<HandlerSettings>) -> Handler {
        let config: HandlerSettings = settings.into();
        let limiter = Limiter::new(
            config.http.in_flight_limit(),
            config.http.queue_limit(),
            config.http.memory_budget(),
        );
        let secrets = Arc::new(StaticSecret(config.signature_secret.clone()));
        let faces = Arc::new(FaceService::from_config(&config.faces));
        Handler {
            storage,
            config: Arc::new(config),
            limiter,
            secrets,
            demo: DemoImages::default(),
            faces,
            metrics: None,
            results: None,
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

    /// Answers `GET /?metrics` with `exposition`.
    pub fn with_metrics(mut self, exposition: Exposition) -> Handler {
        self.metrics = Some(exposition);
        self
    }

    /// Serves renditions from `store` and writes new ones there, as `settings` say.
    pub fn with_results(mut self, store: Arc<dyn ResultStore>, settings: &ResultSettings) -> Handler {
        self.results = Some(Results::new(store, settings));
        self
    }

    /// Waits for the rendition writes still running (Lambda: before the invocation ends).
    pub async fn settle(&self) {
        if let Some(r) = &self.results {
            r.settle().await;
        }
    }

    /// The answer to `req`, counted in the metrics.
    pub async fn handle(&self, req: &HttpRequest) -> HttpResponse {
        let started = Instant::now();
        let resp = self.respond(req).await;
        record(req, &resp, started.elapsed());
        resp
    }

    /// [`Handler::handle`] without counting the answer: for a front end that may still replace
    /// it (Lambda's payload limit) and then calls [`record`] with what it sends.
    pub async fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let head = req.method.eq_ignore_ascii_case("HEAD");
        let mut resp = match req.method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => self.get(req).await,
            "OPTIONS" => headers::preflight(&self.config.http, req),
            _ => {
                let err = Error::new(
                    405,
                    "MethodNotAllowed",
                    "Only GET, HEAD and OPTIONS are supported.",
                );
                let mut r = headers::error_response(&self.config.http, &err, RequestLog::default());
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
                return demo::page(&self.config.http, &self.demo);
            }
            if req.query == "health" {
                return demo::health(&self.config.http, self.storage.as_ref()).await;
            }
            if let (Some(m), true) = (&self.metrics, prometheus::is_scrape(&req.query)) {
                return demo::metrics(m);
            }
        }
        let input = RequestInput {
            path: &req.path,
            query: (!req.query.is_empty()).then_some(req.query.as_str()),
            accept: req.header("Accept"),
            hints: request::hints::ClientHints {
                dpr: req.header("Sec-CH-DPR"),
                width: req.header("Sec-CH-Width"),
                viewport_width: req.header("Sec-CH-Viewport-Width"),
            },
        };
        if self.config.request.enable_signature {
            self.secrets.refresh().await;
        }
        let parsed = request::parse(&input, &self.config.request, self.secrets.as_ref());
        // `?info`: the original described as JSON; its errors are JSON too, never the fallback image.
        if let (Ok(image_req), Some(faces)) = (&parsed, req.info_wanted()) {
            return match self.info(req, image_req, faces).await {
                Ok(resp) => resp,
                Err((err, log)) => self.error_json(&err, log),
            };
        }
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
                    None => headers::error_response(&self.config.http, &err, log),
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
        let image = if faces::policy::covers(&self.config.faces.force_blur_faces, &image.bucket, &image.key) {
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
                    .map(|e| headers::etag(e, image, &self.config.pipeline));
                if let Some(etag) = etag.filter(|etag| headers::none_match_hits(inm, etag)) {
                    log.fetch = started.elapsed();
                    let mut h = headers::success_headers(&self.config.http, image, &meta);
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
        // After parsing (signature, allow-list) and the face-blur policy: the key covers them.
        let stored =
            (self.results.as_ref()).and_then(|r| Some((r, r.slot(req, image, &self.config.pipeline)?)));
        if let Some((results, slot)) = &stored {
            let started = Instant::now();
            if let Some(hit) = results.lookup(slot).await {
                let inm = req.header("If-None-Match");
                return Ok(results::answer(&self.config.http, image, hit, inm, log, started));
            }
        }
        // Admission first, so a flood of requests cannot each hold an original in memory.
        let slot = self.limiter.admit().map_err(|e| (e, RequestLog::default()))?;
        let started = Instant::now();
        let object = self.storage.get(&image.bucket, &image.key).await;
        let mut resources = Resources::default();
        let object = object.map_err(|e| (e, log.clone()))?;
        telemetry::original_bytes(object.body.len());
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
        for (bucket, key) in pipeline::overlay_refs(image) {
            let overlay = self
                .storage
                .get(&bucket, &key)
                .await
                .map_err(|e| (e, log.clone()))?;
            telemetry::original_bytes(overlay.body.len());
            if faces::policy::covers(&self.config.faces.force_blur_faces, &bucket, &key) {
                let job = FaceJob {
                    key: overlay.etag.map(|etag| CacheKey {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        etag,
                    }),
                    ..face_job.clone()
                };
                resources.overlay_faces.insert((bucket.clone(), key.clone()), job);
            }
            resources.overlays.insert((bucket, key), overlay.body);
        }
        log.fetch = started.elapsed();
        let content_type = headers::source_content_type(&object).map_err(|e| (e, log.clone()))?;

        let etag = object
            .etag
            .as_deref()
            .map(|e| headers::etag(e, image, &self.config.pipeline));

        let config = self.config.clone();
        let job_req = image.clone();
        let body = object.body.clone();
        // From the header and the plan, before any pixel is decoded.
        let need = pipeline::memory::estimate(image, &object.body, &resources, &self.config.pipeline);
        let queued = Instant::now();
        let output = self
            .limiter
            .run(slot, need, move || {
                let waited = queued.elapsed();
                let out = pipeline::process(
                    &job_req,
                    &body,
                    content_type.as_deref(),
                    &resources,
                    &config.pipeline,
                );
                (waited, out)
            })
            .await
            .and_then(|(waited, out)| {
                log.queue = waited;
                out
            });
        let face_stats = face_job.stats();
        if let Some(hit) = face_stats.cache_hit {
            telemetry::face_cache(hit);
        }
        if face_stats.detector.is_some() {
            log.faces = Some(face_stats);
        }
        let output = output.map_err(|e| (e, log.clone()))?;
        log.decode = output.timings.decode;
        log.transform = output.timings.transform;
        log.encode = output.timings.encode;
        log.quality = output.quality;

        let mut h = headers::success_headers(&self.config.http, image, &object);
        headers::content_type(&mut h, &output.content_type);
        if let Some(etag) = &etag {
            h.set("ETag", etag);
        }
        // A picture rendered from a damaged original (FAIL_ON=error|none) is short-lived like a
        // 4xx answer: the original may be re-uploaded whole, and a CDN must not keep the cut
        // version for a year.
        if output.damaged {
            h.set("Cache-Control", &self.config.http.error_cache_control_4xx);
            log.error = Some("DamagedOriginal".into());
        }
        let mut timing = Timing::from(&log).to_string();
        // Only whole, undamaged renders that have an ETag are kept; errors never reach here.
        if let (Some((results, slot)), Some(etag), false) = (stored, &etag, output.damaged) {
            results.save(
                slot.key,
                Rendition {
                    body: output.bytes.clone(),
                    content_type: output.content_type.clone(),
                    cache_control: Some(
                        (object.cache_control.as_deref())
                            .unwrap_or(headers::DEFAULT_CACHE_CONTROL)
                            .into(),
                    ),
                    etag: etag.clone(),
                    digest: slot.digest,
                    expires: object.expires,
                    last_modified: object.last_modified,
                },
            );
            timing = format!("{timing}, {}", results::timing("miss"));
        }
        h.set("Server-Timing", &timing);
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
        headers::error_response(&self.config.http, err, log)
    }

    /// SIH's fallback image (§4.4, §5.3): served for every error when configured; when it cannot
    /// be read the original error stands.
    async fn fallback(
        &self,
        err: &Error,
        custom: Option<&indexmap::IndexMap<String, String>>,
        log: &RequestLog,
    ) -> Option<HttpResponse> {
        let c = &self.config.http;
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
