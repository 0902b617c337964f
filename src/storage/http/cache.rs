//! Originals fetched from HTTP origins, kept in memory so a burst of renditions of one photo
//! fetches it once.
//!
//! - Concurrent misses for one URL share one fetch (request coalescing): the first starts it,
//!   the others wait for its result, errors included (errors are not kept afterwards).
//! - Kept originals are bounded by their total bytes (least recently used go first); one larger
//!   than the whole budget is not kept.
//! - A kept original is used as is for `ttl`; after that the next use revalidates it with a
//!   conditional request (`If-None-Match` / `If-Modified-Since`), and a `304` keeps the body.

use crate::error::Error;
use crate::storage::Object;
use lru::LruCache;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// What a fetch brought back.
#[derive(Debug)]
pub enum Fetched {
    /// A whole original.
    Full(Object),
    /// `304 Not Modified`: the metadata of the answer (no body); the kept body is still good.
    NotModified(Object),
}

type Flight = Arc<OnceCell<Result<Object, Error>>>;

struct Entry {
    object: Object,
    checked: Instant,
}

struct State {
    entries: LruCache<String, Entry>,
    bytes: u64,
    in_flight: HashMap<String, Flight>,
}

pub struct OriginalsCache {
    capacity: u64,
    ttl: Duration,
    state: Mutex<State>,
}

impl OriginalsCache {
    pub fn new(capacity: u64, ttl: Duration) -> OriginalsCache {
        OriginalsCache {
            capacity,
            ttl,
            state: Mutex::new(State {
                entries: LruCache::unbounded(),
                bytes: 0,
                in_flight: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements; a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The original at `url`: kept and fresh, else from `fetch`, which receives the kept (stale)
    /// original to revalidate, if any.
    pub async fn get<F, Fut>(&self, url: &str, fetch: F) -> Result<Object, Error>
    where
        F: FnOnce(Option<Object>) -> Fut,
        Fut: Future<Output = Result<Fetched, Error>>,
    {
        let (flight, stale) = {
            let mut state = self.lock();
            if let Some(entry) = state.entries.get(url) {
                if entry.checked.elapsed() < self.ttl {
                    return Ok(entry.object.clone());
                }
            }
            let stale = state.entries.peek(url).map(|e| e.object.clone());
            let flight = state.in_flight.entry(url.to_string()).or_default().clone();
            (flight, stale)
        };
        // One caller runs its fetch; if it is cancelled (its client went away) another waiter
        // runs its own.
        let result = flight
            .get_or_init(|| async {
                let got = match fetch(stale.clone()).await? {
                    Fetched::Full(object) => object,
                    Fetched::NotModified(meta) => match stale {
                        Some(kept) => refreshed(kept, meta),
                        // A 304 to a request that was not conditional.
                        None => return Err(Error::store_unavailable()),
                    },
                };
                self.keep(url, &got);
                Ok(got)
            })
            .await
            .clone();
        let mut state = self.lock();
        if state.in_flight.get(url).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            state.in_flight.remove(url);
        }
        result
    }

    fn keep(&self, url: &str, object: &Object) {
        let size = object.body.len() as u64;
        let mut state = self.lock();
        if let Some(old) = state.entries.pop(url) {
            state.bytes -= old.object.body.len() as u64;
        }
        if size > self.capacity {
            return;
        }
        state.entries.put(
            url.to_string(),
            Entry {
                object: object.clone(),
                checked: Instant::now(),
            },
        );
        state.bytes += size;
        while state.bytes > self.capacity {
            match state.entries.pop_lru() {
                Some((_, evicted)) => state.bytes -= evicted.object.body.len() as u64,
                None => break,
            }
        }
    }
}

/// The kept original with what a `304` says about it now (RFC 9111 §4.3.4: its headers update
/// the stored ones).
fn refreshed(kept: Object, meta: Object) -> Object {
    Object {
        cache_control: meta.cache_control.or(kept.cache_control),
        expires: meta.expires.or(kept.expires),
        last_modified: meta.last_modified.or(kept.last_modified),
        etag: meta.etag.or(kept.etag),
        ..kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn object(body: &'static [u8], etag: &str) -> Object {
        Object {
            body: bytes::Bytes::from_static(body),
            etag: Some(etag.into()),
            ..Object::default()
        }
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_fetch() {
        let cache = Arc::new(OriginalsCache::new(0, Duration::ZERO));
        let fetches = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (cache, fetches) = (cache.clone(), fetches.clone());
                tokio::spawn(async move {
                    cache
                        .get("https://o/a.jpg", |_| async {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            Ok(Fetched::Full(object(b"jpeg", "\"1\"")))
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(&t.await.unwrap().unwrap().body[..], b"jpeg");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(cache.lock().bytes, 0, "capacity 0 keeps nothing");
        assert!(cache.lock().in_flight.is_empty());
    }

    #[tokio::test]
    async fn errors_are_shared_but_not_kept() {
        let cache = OriginalsCache::new(1 << 20, Duration::from_secs(60));
        let err = cache
            .get("u", |_| async { Err(Error::store_unavailable()) })
            .await
            .unwrap_err();
        assert_eq!(err.status, 503);
        let ok = cache
            .get("u", |_| async { Ok(Fetched::Full(object(b"x", "\"1\""))) })
            .await;
        assert!(ok.is_ok());
    }

    #[tokio::test]
    async fn fresh_hits_then_revalidation_keeps_the_body() {
        let cache = OriginalsCache::new(1 << 20, Duration::from_secs(60));
        cache
            .get("u", |stale| async move {
                assert!(stale.is_none());
                Ok(Fetched::Full(object(b"body", "\"v1\"")))
            })
            .await
            .unwrap();
        let hit = cache
            .get("u", |_| async { panic!("a fresh original is not fetched") })
            .await
            .unwrap();
        assert_eq!(&hit.body[..], b"body");

        let stale_cache = OriginalsCache::new(1 << 20, Duration::ZERO);
        stale_cache
            .get("u", |_| async { Ok(Fetched::Full(object(b"body", "\"v1\""))) })
            .await
            .unwrap();
        let revalidated = stale_cache
            .get("u", |stale| async move {
                assert_eq!(stale.unwrap().etag.as_deref(), Some("\"v1\""));
                Ok(Fetched::NotModified(Object {
                    cache_control: Some("max-age=5".into()),
                    ..Object::default()
                }))
            })
            .await
            .unwrap();
        assert_eq!(&revalidated.body[..], b"body");
        assert_eq!(revalidated.etag.as_deref(), Some("\"v1\""));
        assert_eq!(revalidated.cache_control.as_deref(), Some("max-age=5"));
        let unasked = OriginalsCache::new(1 << 20, Duration::ZERO)
            .get("v", |_| async { Ok(Fetched::NotModified(Object::default())) })
            .await;
        assert_eq!(unasked.unwrap_err().status, 503);
    }

    #[tokio::test]
    async fn bounded_by_bytes_least_recently_used_first() {
        let cache = OriginalsCache::new(10, Duration::from_secs(60));
        let put = |url: &'static str, body: &'static [u8]| {
            let cache = &cache;
            async move {
                cache
                    .get(url, |_| async move { Ok(Fetched::Full(object(body, "\"e\""))) })
                    .await
                    .unwrap()
            }
        };
        put("a", b"aaaa").await;
        put("b", b"bbbb").await;
        put("a", b"----").await; // a hit: `a` becomes the most recently used
        put("c", b"cccc").await; // 12 bytes: `b` goes
        assert_eq!(cache.lock().bytes, 8);
        assert!(cache.lock().entries.contains("a"));
        assert!(!cache.lock().entries.contains("b"));
        put("big", b"01234567890").await; // over the whole budget: not kept, nothing evicted
        assert_eq!(cache.lock().bytes, 8);
    }
}
