//! Face detection settings: which detector, how far it looks, how long it may take, what is
//! forced, and how many originals' results are cached.

use super::policy;
use crate::settings::Lookup;

/// `FACE_DETECTOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorKind {
    /// Offline, compiled into the binary (default).
    Local,
    /// AWS Rekognition `DetectFaces`.
    Rekognition,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaceSettings {
    /// `FACE_DETECTOR`: `local` (default, offline) or `rekognition`.
    pub detector: DetectorKind,
    /// `FORCE_BLUR_FACES`: `bucket` or `bucket/key-prefix` entries (comma-separated) whose every
    /// answer has faces blurred, whatever the URL asks.
    pub force_blur_faces: Vec<String>,
    /// `FACE_PROXY_SIZE` (default 736 local, 1280 Rekognition): longest side of the picture
    /// face detection looks at. The local detector needs faces of about 10 px: 736 finds faces
    /// of 1.5 % of the picture's longer side (11 px) as well as 800 did on the test set, for
    /// 13 % less work on a 4:3 photo (docs/faces.md).
    pub proxy_size: u32,
    /// `FACE_DETECTION_TIMEOUT_MS` (default 5000): longest a Rekognition call may take, retries
    /// included, before the request fails closed.
    pub detection_timeout_ms: u64,
    /// `CONTENT_MODERATION`: `rekognition` or `off` (default: `rekognition` when
    /// `FACE_DETECTOR=rekognition`, else `off`).
    pub content_moderation: bool,
    /// `FACE_CACHE_ENTRIES` (default 4096): originals whose face boxes are kept in memory.
    pub cache_entries: usize,
}

impl Default for FaceSettings {
    fn default() -> Self {
        FaceSettings {
            detector: DetectorKind::Local,
            force_blur_faces: Vec::new(),
            proxy_size: 736,
            detection_timeout_ms: 5000,
            content_moderation: false,
            cache_entries: 4096,
        }
    }
}

impl FaceSettings {
    pub fn from_lookup(get: &Lookup) -> Result<FaceSettings, String> {
        let d = FaceSettings::default();
        let detector = match get.choice("FACE_DETECTOR", &["local", "rekognition"])?.as_deref() {
            Some("rekognition") => DetectorKind::Rekognition,
            _ => DetectorKind::Local,
        };
        let rekognition = detector == DetectorKind::Rekognition;
        // Rekognition wants faces of at least 40 px: a larger proxy.
        let proxy_default = if rekognition { 1280 } else { d.proxy_size as u64 };
        Ok(FaceSettings {
            detector,
            force_blur_faces: policy::parse(&get.get("FORCE_BLUR_FACES").unwrap_or_default()),
            proxy_size: get.number("FACE_PROXY_SIZE", proxy_default)?.clamp(20, 4096) as u32,
            detection_timeout_ms: get.number("FACE_DETECTION_TIMEOUT_MS", d.detection_timeout_ms)?,
            content_moderation: match get.choice("CONTENT_MODERATION", &["rekognition", "off"])? {
                None => rekognition,
                Some(v) => v == "rekognition",
            },
            cache_entries: get.number("FACE_CACHE_ENTRIES", d.cache_entries as u64)? as usize,
        })
    }

    /// True when Rekognition is needed (as the detector or for moderation).
    pub fn uses_rekognition(&self) -> bool {
        self.detector == DetectorKind::Rekognition || self.content_moderation
    }
}
