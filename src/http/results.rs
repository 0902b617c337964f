//! Renditions served from and written to the result store (`RESULT_BUCKET`, see
//! `storage::result`). The handler looks a rendition up after the request was parsed (signature,
//! allow-list, `expires` checked) and the face-blur policy applied, so a stored rendition is only
//! ever served to a request that may see it; it writes one after a successful, undamaged render.
//! Store failures never fail the request: they are logged and counted.

use super::headers::{self, HeaderList, Timing};
use super::message::{HttpRequest, HttpResponse, RequestLog};
use super::settings::HttpSettings;
use crate::pipeline::PipelineSettings;
use crate::request::ImageRequest;
use crate::storage::result::{path_key, KeyStyle, Rendition, ResultSettings, ResultStore};
use crate::storage::Object;
use crate::telemetry;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// The result store and the writes still running.
pub struct Results {
    store: Arc<dyn ResultStore>,
    prefix: String,
    keys: KeyStyle,
    pending: Arc<Pending>,
}

/// Where one request's rendition lives and what it must have been rendered from.
pub struct Slot {
    pub key: String,
    pub digest: String,
}

/// Background writes in flight, so Lambda can wait for them before the invocation ends.
#[derive(Default)]
struct Pending {
    count: AtomicUsize,
    idle: Notify,
}

impl Results {
    pub fn new(store: Arc<dyn ResultStore>, settings: &ResultSettings) -> Results {
        Results {
            store,
            prefix: settings.prefix.clone(),
            keys: settings.keys,
            pending: Arc::default(),
        }
    }

    /// Where `image` (as `req` asked for it) is stored; none when it cannot be (path keys).
    pub fn slot(&self, req: &HttpRequest, image: &ImageRequest, config: &PipelineSettings) -> Option<Slot> {
        let digest = headers::request_hash(image, config);
        let key = match self.keys {
            KeyStyle::Hash => format!("{}{digest}", self.prefix),
            // The object is served for the path whatever the Accept or the clock says.
            KeyStyle::Path if image.format_negotiated || image.seconds_to_expiry.is_some() => return None,
            KeyStyle::Path => path_key(&self.prefix, &req.path, &req.query)?,
        };
        Some(Slot { key, digest })
    }

    /// The stored rendition, if any. A failing store is a miss; so is a rendition of another
    /// canonical request (settings changed since it was stored under its path).
    pub async fn lookup(&self, slot: &Slot) -> Option<Rendition> {
        let key = &slot.key;
        match self.store.fetch(key).await {
            Ok(Some(r)) if r.digest != slot.digest => {
                telemetry::result_store("miss");
                None
            }
            Ok(Some(r)) => {
                telemetry::result_store("hit");
                Some(r)
            }
            Ok(None) => {
                telemetry::result_store("miss");
                None
            }
            Err(e) => {
                tracing::warn!(key, code = %e.code, "rendition lookup failed; rendering");
                telemetry::result_store("error");
                None
            }
        }
    }

    /// Writes `rendition` in the background (the answer does not wait for it).
    pub fn save(&self, key: String, rendition: Rendition) {
        let (store, pending) = (self.store.clone(), self.pending.clone());
        pending.count.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            match store.store(key.clone(), rendition).await {
                Ok(()) => telemetry::result_store("stored"),
                Err(e) => {
                    tracing::warn!(key, code = %e.code, "rendition write failed");
                    telemetry::result_store("error");
                }
            }
            if pending.count.fetch_sub(1, Ordering::SeqCst) == 1 {
                pending.idle.notify_waiters();
            }
        });
    }

    /// Returns once no write is running (Lambda freezes the process after an invocation).
    pub async fn settle(&self) {
        loop {
            let idle = self.pending.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.pending.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// The answer from a stored rendition: the headers a fresh render would send (the original's
/// Cache-Control, Expires and Last-Modified were stored with it), a 304 when `If-None-Match`
/// names its ETag, and `result;desc="hit"` in Server-Timing.
pub fn answer(
    config: &HttpSettings,
    image: &ImageRequest,
    r: Rendition,
    if_none_match: Option<&str>,
    mut log: RequestLog,
    started: Instant,
) -> HttpResponse {
    log.fetch = started.elapsed();
    let original = Object {
        cache_control: r.cache_control,
        expires: r.expires,
        last_modified: r.last_modified,
        ..Object::default()
    };
    let mut h: HeaderList = headers::success_headers(config, image, &original);
    headers::content_type(&mut h, &r.content_type);
    h.set("ETag", &r.etag);
    h.set(
        "Server-Timing",
        &format!("{}, {}", Timing::from(&log), timing("hit")),
    );
    let not_modified = if_none_match.is_some_and(|inm| headers::none_match_hits(inm, &r.etag));
    HttpResponse {
        status: if not_modified { 304 } else { 200 },
        headers: h.into_vec(),
        body: if not_modified { bytes::Bytes::new() } else { r.body },
        log,
    }
}

/// The Server-Timing entry naming the result store's outcome.
pub fn timing(outcome: &str) -> String {
    format!("result;desc=\"{outcome}\"")
}
