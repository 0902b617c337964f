//! [`FaceService`]: the configured detector and moderator with a bounded LRU of results per
//! original (bucket, key, ETag), and [`FaceJob`], what one request hands the pipeline.

use super::settings::{DetectorKind, FaceSettings};
use super::{local, moderation_unavailable, proxy, rekognition, unavailable, Source};
use super::{Face, FaceDetector, ModerationLabel, Moderator};
use crate::error::Error;
use image::RgbaImage;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Identifies an original: results are reused only while bucket, key and ETag all match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub bucket: String,
    pub key: String,
    pub etag: String,
}

/// The detector, the moderator and the result cache, shared by every request.
pub struct FaceService {
    detector: Result<Arc<dyn FaceDetector>, String>,
    moderator: Option<Arc<dyn Moderator>>,
    cache: Mutex<LruCache<CacheKey, Arc<[Face]>>>,
}

impl std::fmt::Debug for FaceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceService")
            .field("detector", &self.detector.as_ref().map(|d| d.name()))
            .field("moderation", &self.moderator.is_some())
            .finish()
    }
}

impl FaceService {
    /// A service around `detector` (an `Err` names why no detector is available: every face
    /// edit then fails closed with 503) with room for `cache_entries` originals.
    pub fn new(
        detector: Result<Arc<dyn FaceDetector>, String>,
        moderator: Option<Arc<dyn Moderator>>,
        cache_entries: usize,
    ) -> FaceService {
        let cap = NonZeroUsize::new(cache_entries.max(1)).unwrap_or(NonZeroUsize::MIN);
        FaceService {
            detector,
            moderator,
            cache: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The service `config` asks for that needs no network set-up: the local detector, or —
    /// when `FACE_DETECTOR=rekognition` — a service that fails closed until the front end
    /// installs one made by [`FaceService::from_sdk_config`].
    pub fn from_config(config: &FaceSettings) -> FaceService {
        let detector: Result<Arc<dyn FaceDetector>, String> = match config.detector {
            DetectorKind::Local => Ok(Arc::new(local::LocalDetector::new(config.proxy_size))),
            DetectorKind::Rekognition => {
                Err("the `rekognition` face detector is not set up in this process".to_string())
            }
        };
        FaceService::new(detector, None, config.cache_entries)
    }

    /// The service `config` asks for, with Rekognition clients (detector and/or moderator) made
    /// from the shared AWS SDK configuration. Call inside the Tokio runtime that will serve.
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, config: &FaceSettings) -> FaceService {
        let client = match config.uses_rekognition() {
            true => Some(rekognition::Rekognition::new(sdk, config).map(Arc::new)),
            false => None,
        };
        let detector: Result<Arc<dyn FaceDetector>, String> = match (config.detector, &client) {
            (DetectorKind::Rekognition, Some(c)) => c.clone().map(|c| c as Arc<dyn FaceDetector>),
            _ => Ok(Arc::new(local::LocalDetector::new(config.proxy_size))),
        };
        let moderator = match (&client, config.content_moderation) {
            (Some(Ok(c)), true) => Some(c.clone() as Arc<dyn Moderator>),
            (Some(Err(why)), true) => {
                tracing::error!(target: "pixfront::faces", "content moderation disabled: {why}");
                None
            }
            _ => None,
        };
        FaceService::new(detector, moderator, config.cache_entries)
    }

    /// [`FaceService::from_sdk_config`], loading the SDK configuration only when Rekognition is
    /// used.
    pub async fn from_env(config: &FaceSettings) -> FaceService {
        if config.uses_rekognition() {
            let sdk = crate::aws::load_sdk_config().await;
            FaceService::from_sdk_config(&sdk, config)
        } else {
            FaceService::from_config(config)
        }
    }

    pub fn detector_name(&self) -> &'static str {
        self.detector.as_ref().map_or("none", |d| d.name())
    }

    /// The detector's proxy size (the default when there is no detector).
    pub fn proxy_size(&self) -> u32 {
        (self.detector.as_ref()).map_or(FaceSettings::default().proxy_size, |d| d.proxy_size())
    }

    /// The detector's [`FaceDetector::sure_confidence`]: faces below it are candidates that
    /// only `blurFaces` uses.
    pub fn sure_confidence(&self) -> f32 {
        (self.detector.as_ref()).map_or(0.0, |d| d.sure_confidence())
    }

    pub fn moderator(&self) -> Option<&Arc<dyn Moderator>> {
        self.moderator.as_ref()
    }

    /// Faces in `frames` (upright pictures of one original, same size): from the cache when
    /// `key` was seen, else detected on a proxy of each frame (boxes of all frames together, so
    /// a face that moves is covered wherever it appears).
    pub fn faces<S: Source + ?Sized>(
        &self,
        key: Option<&CacheKey>,
        frames: &[&S],
        stats: &Mutex<FaceStats>,
    ) -> Result<Arc<[Face]>, Error> {
        let started = Instant::now();
        let detector = self.detector.as_ref().map_err(|why| unavailable(why))?;
        if let Some(k) = key {
            if let Some(hit) = self.cache.lock().ok().and_then(|mut c| c.get(k).cloned()) {
                record(stats, detector.name(), Some(true), started.elapsed());
                return Ok(hit);
            }
        }
        let result = detect_frames(detector.as_ref(), frames);
        record(stats, detector.name(), key.map(|_| false), started.elapsed());
        let faces: Arc<[Face]> = result?.into();
        if let (Some(k), Ok(mut cache)) = (key, self.cache.lock()) {
            cache.put(k.clone(), faces.clone());
        }
        Ok(faces)
    }

    /// Faces in `picture` as it is now (after other edits), never cached.
    pub fn faces_uncached<S: Source + ?Sized>(
        &self,
        picture: &S,
        stats: &Mutex<FaceStats>,
    ) -> Result<Vec<Face>, Error> {
        let started = Instant::now();
        let detector = self.detector.as_ref().map_err(|why| unavailable(why))?;
        let result = detect_frames(detector.as_ref(), &[picture]);
        record(stats, detector.name(), None, started.elapsed());
        result
    }

    /// Moderation labels of `picture`; a 400 when no moderation backend is configured.
    pub fn moderation_labels(
        &self,
        picture: &RgbaImage,
        min_confidence: f32,
        stats: &Mutex<FaceStats>,
    ) -> Result<Vec<ModerationLabel>, Error> {
        let moderator = self.moderator.as_ref().ok_or_else(moderation_unavailable)?;
        let started = Instant::now();
        let result =
            proxy(picture, moderator.proxy_size()).and_then(|p| moderator.labels(&p, min_confidence));
        record(stats, "rekognition", None, started.elapsed());
        result
    }
}

fn detect_frames<S: Source + ?Sized>(detector: &dyn FaceDetector, frames: &[&S]) -> Result<Vec<Face>, Error> {
    let mut all = Vec::new();
    for frame in frames {
        let found = frame
            .proxy(detector.proxy_size())
            .and_then(|p| detector.detect(&p));
        match found {
            Ok(faces) => all.extend(faces),
            Err(e) => {
                crate::telemetry::detector_failure(detector.name());
                return Err(e);
            }
        }
    }
    Ok(all)
}

/// What face work one request did, for `Server-Timing` and the access log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaceStats {
    /// The detector that answered (`local`, `rekognition`), if any ran.
    pub detector: Option<&'static str>,
    /// `Some(true)` when the cache answered, `Some(false)` on a miss, `None` when not cacheable.
    pub cache_hit: Option<bool>,
    pub elapsed: Duration,
}

fn record(stats: &Mutex<FaceStats>, detector: &'static str, hit: Option<bool>, elapsed: Duration) {
    if let Ok(mut s) = stats.lock() {
        s.detector = Some(detector);
        // One miss in a request makes it a miss.
        s.cache_hit = match (s.cache_hit, hit) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (a, b) => b.or(a),
        };
        s.elapsed += elapsed;
    }
}

/// What the front end hands the pipeline for one request.
#[derive(Clone)]
pub struct FaceJob {
    pub service: Arc<FaceService>,
    /// The original's identity, when its store gave an ETag (no ETag, no caching).
    pub key: Option<CacheKey>,
    pub stats: Arc<Mutex<FaceStats>>,
}

impl std::fmt::Debug for FaceJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceJob")
            .field("service", &self.service)
            .field("key", &self.key)
            .finish()
    }
}

impl FaceJob {
    pub fn new(service: Arc<FaceService>, key: Option<CacheKey>) -> FaceJob {
        FaceJob {
            service,
            key,
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> FaceStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<Face>, std::sync::atomic::AtomicUsize);
    impl FaceDetector for Fixed {
        fn name(&self) -> &'static str {
            "fixed"
        }
        fn proxy_size(&self) -> u32 {
            64
        }
        fn detect(&self, proxy: &RgbaImage) -> Result<Vec<Face>, Error> {
            assert!(proxy.width().max(proxy.height()) <= 64);
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(self.0.clone())
        }
    }

    fn face() -> Face {
        Face {
            left: 0.25,
            top: 0.25,
            width: 0.5,
            height: 0.5,
            confidence: 99.0,
        }
    }

    #[test]
    fn cache_answers_the_second_time_and_is_bounded() {
        let det = Arc::new(Fixed(vec![face()], Default::default()));
        let service = FaceService::new(Ok(det.clone()), None, 1);
        let img = RgbaImage::new(200, 100);
        let key = |k: &str| CacheKey {
            bucket: "b".into(),
            key: k.into(),
            etag: "\"1\"".into(),
        };
        let stats = Mutex::default();
        service.faces(Some(&key("a")), &[&img], &stats).unwrap();
        assert_eq!(stats.lock().unwrap().cache_hit, Some(false));
        let stats = Mutex::default();
        let faces = service.faces(Some(&key("a")), &[&img], &stats).unwrap();
        assert_eq!(&*faces, &[face()]);
        assert_eq!(stats.lock().unwrap().cache_hit, Some(true));
        assert_eq!(det.1.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Capacity 1: `b` evicts `a`.
        service
            .faces(Some(&key("b")), &[&img], &Mutex::default())
            .unwrap();
        service
            .faces(Some(&key("a")), &[&img], &Mutex::default())
            .unwrap();
        assert_eq!(det.1.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[test]
    fn no_detector_fails_closed() {
        let service = FaceService::new(Err("not configured".into()), None, 10);
        let err = service
            .faces(None, &[&RgbaImage::new(10, 10)], &Mutex::default())
            .unwrap_err();
        assert_eq!((err.status, &*err.code), (503, "FaceDetectionUnavailable"));
        let err = service
            .moderation_labels(&RgbaImage::new(10, 10), 75.0, &Mutex::default())
            .unwrap_err();
        assert_eq!((err.status, &*err.code), (400, "ContentModerationUnavailable"));
    }

    #[test]
    fn proxy_keeps_aspect_and_never_enlarges() {
        let p = proxy(&RgbaImage::new(1000, 500), 100).unwrap();
        assert_eq!(p.dimensions(), (100, 50));
        let p = proxy(&RgbaImage::new(40, 30), 100).unwrap();
        assert_eq!(p.dimensions(), (40, 30));
    }
}
