//! `?info` on any image URL: the original described as JSON ([`crate::info`]). The request is
//! parsed like an image request first, so signatures (which cover `info` and `faces` like every
//! query parameter), allow-lists and `expires` apply; the original's pixel limits are checked
//! before anything is decoded. The answer is cacheable like the image: the original's
//! Cache-Control, an ETag of its own, 304 on `If-None-Match`.

use super::handler::Handler;
use super::headers;
use super::message::{HttpRequest, HttpResponse, RequestLog};
use crate::error::Error;
use crate::faces::{CacheKey, FaceJob};
use crate::info;
use crate::pipeline::{self, Resources};
use crate::request::ImageRequest;
use std::time::Instant;

impl Handler {
    /// The info answer for `image`; errors are returned for the caller's JSON error answer.
    pub(super) async fn info(
        &self,
        req: &HttpRequest,
        image: &ImageRequest,
        with_faces: bool,
    ) -> Result<HttpResponse, (Error, RequestLog)> {
        // The JSON does not depend on `Accept`: no `Vary`, one ETag for every browser.
        let mut plain = image.clone();
        (plain.output_format, plain.format_negotiated) = (None, false);
        let image = &plain;
        let mut log = RequestLog::default();
        let slot = self.limiter.admit().map_err(|e| (e, RequestLog::default()))?;
        let started = Instant::now();
        let object = (self.storage.get(&image.bucket, &image.key).await).map_err(|e| (e, log.clone()))?;
        log.fetch = started.elapsed();
        // Its own ETag: the image's inputs plus what this answer holds.
        let etag = object.etag.as_deref().map(|e| {
            let marker = format!("{e}/info/{}/faces={with_faces}", env!("CARGO_PKG_VERSION"));
            headers::etag(&marker, image, &self.config.pipeline)
        });
        let mut h = headers::success_headers(&self.config.http, image, &object);
        if let Some(etag) = &etag {
            h.set("ETag", etag);
            if req
                .header("If-None-Match")
                .is_some_and(|inm| headers::none_match_hits(inm, etag))
            {
                return Ok(HttpResponse {
                    status: 304,
                    headers: h.into_vec(),
                    body: bytes::Bytes::new(),
                    log,
                });
            }
        }
        let svg =
            info::sniff(&object.body).map_err(|e| (e, log.clone()))? == pipeline::sniff::InputFormat::Svg;
        let job = with_faces.then(|| {
            FaceJob::new(
                self.faces.clone(),
                object.etag.as_ref().map(|etag| CacheKey {
                    bucket: image.bucket.clone(),
                    key: image.key.clone(),
                    etag: etag.clone(),
                }),
            )
        });
        // Detection wants its own proxy size; the placeholder alone needs a thumbnail.
        let size = if with_faces { self.faces.proxy_size() } else { 64 };
        let proxy = info::proxy_request(image, svg, size);
        let need =
            pipeline::memory::estimate(&proxy, &object.body, &Resources::default(), &self.config.pipeline);
        let (config, body, job_in) = (self.config.clone(), object.body.clone(), job.clone());
        let queued = Instant::now();
        let result = self
            .limiter
            .run(slot, need, move || {
                let waited = queued.elapsed();
                let started = Instant::now();
                let out = info::inspect(&body, &proxy, job_in.as_ref(), &config.pipeline);
                (waited, started.elapsed(), out)
            })
            .await;
        if let Some(stats) = job.map(|j| j.stats()).filter(|s| s.detector.is_some()) {
            log.faces = Some(stats);
        }
        let described = result.and_then(|(waited, took, out)| {
            log.queue = waited;
            log.decode = took;
            out
        });
        let described = described.map_err(|e| (e, log.clone()))?;
        let body = serde_json::to_vec(&described).map_err(|_| (Error::internal(), log.clone()))?;
        h.set("Content-Type", "application/json");
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Server-Timing", &headers::Timing::from(&log).to_string());
        Ok(HttpResponse {
            status: 200,
            headers: h.into_vec(),
            body: body.into(),
            log,
        })
    }
}
