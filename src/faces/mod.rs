//! Face detection and content moderation behind small traits, with a per-original cache.
//!
//! - [`FaceDetector`]: faces in an upright proxy image ([`local`]: MediaPipe BlazeFace on the
//!   `pixfront-facenet` engine (`crates/facenet`), offline; [`rekognition`]: AWS Rekognition
//!   `DetectFaces`), chosen by `FACE_DETECTOR`. [`seeta`] (SeetaFace through `rustface`) is a
//!   second offline opinion.
//! - [`Moderator`]: moderation labels (Rekognition `DetectModerationLabels` only).
//! - [`FaceService`]: the detector, the moderator and a bounded LRU of results per original
//!   (bucket, key, ETag), so every rendition of one photo costs one detection.
//! - [`FaceJob`]: what one request hands the pipeline (through `Resources`); it records which
//!   detector ran, whether the cache answered, and the time spent.
//!
//! Detection always runs on a proxy: the EXIF-oriented picture scaled so its longest side is
//! the detector's proxy size. Boxes are fractions of that picture, so they apply unchanged to
//! the full-size one.
//!
//! Failure is a value: [`unavailable`] is the 503 `FaceDetectionUnavailable` every caller turns
//! into "no image" — never into an unblurred one.

pub mod local;
pub mod policy;
pub mod rekognition;
pub mod seeta;

use crate::config::Config;
use crate::error::Error;
use image::RgbaImage;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A face box as fractions (0–1) of the picture it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
    /// 0–100, Rekognition's scale (the local detector maps its score onto it).
    pub confidence: f32,
}

/// Finds faces. Implementations are synchronous: the pipeline calls them on its blocking
/// worker thread, and a network detector blocks on its own runtime handle.
pub trait FaceDetector: Send + Sync {
    /// Short name for logs (`local`, `rekognition`).
    fn name(&self) -> &'static str;
    /// Longest side of the proxy this detector wants.
    fn proxy_size(&self) -> u32;
    /// Faces in `proxy` (upright, already scaled to at most [`FaceDetector::proxy_size`]).
    fn detect(&self, proxy: &RgbaImage) -> Result<Vec<Face>, Error>;
}

/// One moderation label, as Rekognition reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModerationLabel {
    pub name: String,
    pub parent_name: String,
    pub confidence: f32,
}

/// Content moderation (SIH's `contentModeration`).
pub trait Moderator: Send + Sync {
    fn proxy_size(&self) -> u32;
    fn labels(&self, proxy: &RgbaImage, min_confidence: f32) -> Result<Vec<ModerationLabel>, Error>;
}

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
    pub fn from_config(config: &Config) -> FaceService {
        let detector: Result<Arc<dyn FaceDetector>, String> = match config.face_detector.as_str() {
            "local" => Ok(Arc::new(local::LocalDetector::new(config.face_proxy_size))),
            other => Err(format!(
                "the `{other}` face detector is not set up in this process"
            )),
        };
        FaceService::new(detector, None, config.face_cache_entries)
    }

    /// The service `config` asks for, with Rekognition clients (detector and/or moderator) made
    /// from the shared AWS SDK configuration. Call inside the Tokio runtime that will serve.
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, config: &Config) -> FaceService {
        let uses_rekognition = config.face_detector == "rekognition" || config.content_moderation;
        let client = match uses_rekognition {
            true => Some(rekognition::Rekognition::new(sdk, config).map(Arc::new)),
            false => None,
        };
        let detector: Result<Arc<dyn FaceDetector>, String> = match (config.face_detector.as_str(), &client) {
            ("rekognition", Some(c)) => c.clone().map(|c| c as Arc<dyn FaceDetector>),
            _ => Ok(Arc::new(local::LocalDetector::new(config.face_proxy_size))),
        };
        let moderator = match (&client, config.content_moderation) {
            (Some(Ok(c)), true) => Some(c.clone() as Arc<dyn Moderator>),
            (Some(Err(why)), true) => {
                tracing::error!(target: "pixfront::faces", "content moderation disabled: {why}");
                None
            }
            _ => None,
        };
        FaceService::new(detector, moderator, config.face_cache_entries)
    }

    /// [`FaceService::from_sdk_config`], loading the SDK configuration only when Rekognition is
    /// used.
    pub async fn from_env(config: &Config) -> FaceService {
        if config.face_detector == "rekognition" || config.content_moderation {
            let sdk = crate::storage::s3::load_sdk_config().await;
            FaceService::from_sdk_config(&sdk, config)
        } else {
            FaceService::from_config(config)
        }
    }

    pub fn detector_name(&self) -> &'static str {
        self.detector.as_ref().map_or("none", |d| d.name())
    }

    /// The detector's proxy size (the configured default when there is no detector).
    pub fn proxy_size(&self) -> u32 {
        self.detector.as_ref().map_or(640, |d| d.proxy_size())
    }

    pub fn moderator(&self) -> Option<&Arc<dyn Moderator>> {
        self.moderator.as_ref()
    }

    /// Faces in `frames` (upright pictures of one original, same size): from the cache when
    /// `key` was seen, else detected on a proxy of each frame (boxes of all frames together, so
    /// a face that moves is covered wherever it appears).
    pub fn faces(
        &self,
        key: Option<&CacheKey>,
        frames: &[&RgbaImage],
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
    pub fn faces_uncached(&self, picture: &RgbaImage, stats: &Mutex<FaceStats>) -> Result<Vec<Face>, Error> {
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

fn detect_frames(detector: &dyn FaceDetector, frames: &[&RgbaImage]) -> Result<Vec<Face>, Error> {
    let mut all = Vec::new();
    for frame in frames {
        let p = proxy(frame, detector.proxy_size())?;
        all.extend(detector.detect(&p)?);
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

/// The detection proxy: `picture` scaled (never enlarged) so its longest side is `size`.
pub fn proxy(picture: &RgbaImage, size: u32) -> Result<RgbaImage, Error> {
    use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let (w, h) = picture.dimensions();
    let long = w.max(h);
    if long <= size {
        return Ok(picture.clone());
    }
    let scale = size as f64 / long as f64;
    let (pw, ph) = (
        ((w as f64 * scale).round() as u32).max(1),
        ((h as f64 * scale).round() as u32).max(1),
    );
    let mut dst = Image::new(pw, ph, PixelType::U8x4);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    Resizer::new()
        .resize(picture, &mut dst, &opts)
        .map_err(|e| unavailable(&format!("cannot scale the detection proxy: {e}")))?;
    RgbaImage::from_raw(pw, ph, dst.into_vec()).ok_or_else(|| unavailable("proxy buffer size"))
}

/// 503 `FaceDetectionUnavailable`: face detection was needed and did not answer. Callers never
/// fall back to the unprocessed image.
pub fn unavailable(detail: &str) -> Error {
    Error::new(
        503,
        "FaceDetectionUnavailable",
        format!("Face detection is unavailable ({detail}); the image is withheld rather than sent with faces unprocessed."),
    )
}

/// 503 `ContentModerationFailed`: the moderation backend did not answer; the image is withheld
/// rather than served unscreened.
pub fn moderation_failed(detail: &str) -> Error {
    Error::new(
        503,
        "ContentModerationFailed",
        format!("Content moderation is unavailable ({detail}); the image is withheld rather than sent unscreened."),
    )
}

/// 400 `ContentModerationUnavailable`: `contentModeration` asked of a deployment without a
/// moderation backend (silently skipping it would serve what the caller wanted screened).
pub fn moderation_unavailable() -> Error {
    Error::new(
        400,
        "ContentModerationUnavailable",
        "The contentModeration edit needs a moderation backend: set FACE_DETECTOR=rekognition or CONTENT_MODERATION=rekognition.",
    )
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
