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
pub mod service;
pub mod settings;

pub use service::{CacheKey, FaceJob, FaceService, FaceStats};
pub use settings::{DetectorKind, FaceSettings};

use crate::error::Error;
use image::{RgbImage, RgbaImage};
use std::borrow::Cow;

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

impl Face {
    /// The box `x0, y0`–`x1, y1`, in pixels of a `w` × `h` picture, as fractions of it: clamped
    /// to the picture (detectors' boxes may poke out of it), `None` when nothing is left.
    pub fn from_pixels(
        x0: f32,
        y0: f32,
        x1: f32,
        y1: f32,
        (w, h): (u32, u32),
        confidence: f32,
    ) -> Option<Face> {
        let (fw, fh) = (w as f32, h as f32);
        let (x0, x1) = (x0.clamp(0.0, fw), x1.clamp(0.0, fw));
        let (y0, y1) = (y0.clamp(0.0, fh), y1.clamp(0.0, fh));
        let face = Face {
            left: x0 / fw,
            top: y0 / fh,
            width: (x1 - x0) / fw,
            height: (y1 - y0) / fh,
            confidence,
        };
        (face.width > 0.0 && face.height > 0.0).then_some(face)
    }
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
    /// The confidence from which a detection is a face; below it, a candidate that only
    /// `blurFaces` uses (it errs towards blurring).
    fn sure_confidence(&self) -> f32 {
        0.0
    }
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

/// A picture detectors can look at, in the layout its owner holds it: the pipeline keeps
/// opaque pictures as RGB, and widening a 12 MP one to RGBA only to scale it down costs more
/// than the scaling.
pub trait Source {
    fn dimensions(&self) -> (u32, u32);
    /// The picture scaled (never enlarged) so its longest side is `size`, as RGBA.
    fn proxy(&self, size: u32) -> Result<RgbaImage, Error>;
}

impl Source for RgbaImage {
    fn dimensions(&self) -> (u32, u32) {
        self.dimensions()
    }

    fn proxy(&self, size: u32) -> Result<RgbaImage, Error> {
        proxy(self, size)
    }
}

impl Source for RgbImage {
    fn dimensions(&self) -> (u32, u32) {
        self.dimensions()
    }

    fn proxy(&self, size: u32) -> Result<RgbaImage, Error> {
        let (w, h) = self.dimensions();
        let small = match w.max(h) <= size {
            true => Cow::Borrowed(self),
            false => {
                let (sw, sh) = fitted((w, h), size);
                let px = resize(self, (sw, sh), fast_image_resize::PixelType::U8x3, false)?;
                Cow::Owned(RgbImage::from_raw(sw, sh, px).ok_or_else(|| unavailable("proxy buffer size"))?)
            }
        };
        let mut out = Vec::with_capacity(small.as_raw().len() / 3 * 4);
        for p in small.as_raw().chunks_exact(3) {
            out.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        let (sw, sh) = small.dimensions();
        RgbaImage::from_raw(sw, sh, out).ok_or_else(|| unavailable("proxy buffer size"))
    }
}

/// The detection proxy: `picture` scaled (never enlarged) so its longest side is `size`.
pub fn proxy(picture: &RgbaImage, size: u32) -> Result<RgbaImage, Error> {
    let (w, h) = picture.dimensions();
    match w.max(h) <= size {
        true => Ok(picture.clone()),
        false => scaled(picture, size).map(Cow::into_owned),
    }
}

/// `(w, h)` scaled so the longest side is `long`, aspect kept (at least 1 × 1).
fn fitted((w, h): (u32, u32), long: u32) -> (u32, u32) {
    let f = long as f64 / w.max(h).max(1) as f64;
    (
        ((w as f64 * f).round() as u32).max(1),
        ((h as f64 * f).round() as u32).max(1),
    )
}

/// `picture` scaled (up or down) so its longest side is `long`, with a bilinear filter
/// (widened when shrinking, so every pixel counts); `picture` itself when it has that size.
pub fn scaled(picture: &RgbaImage, long: u32) -> Result<Cow<'_, RgbaImage>, Error> {
    let (sw, sh) = fitted(picture.dimensions(), long);
    if (sw, sh) == picture.dimensions() {
        return Ok(Cow::Borrowed(picture));
    }
    // Weighting by alpha (so transparent pixels' colours do not bleed) costs six times the
    // scaling itself, and changes nothing when every pixel is opaque: most pictures.
    let opaque = picture.as_raw().chunks_exact(4).all(|p| p[3] == 255);
    let px = resize(picture, (sw, sh), fast_image_resize::PixelType::U8x4, !opaque)?;
    let scaled = RgbaImage::from_raw(sw, sh, px).ok_or_else(|| unavailable("proxy buffer size"))?;
    Ok(Cow::Owned(scaled))
}

fn resize(
    picture: &impl fast_image_resize::IntoImageView,
    (sw, sh): (u32, u32),
    pixels: fast_image_resize::PixelType,
    use_alpha: bool,
) -> Result<Vec<u8>, Error> {
    use fast_image_resize::{images::Image, FilterType, ResizeAlg, ResizeOptions, Resizer};
    let mut dst = Image::new(sw, sh, pixels);
    let opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .use_alpha(use_alpha);
    Resizer::new()
        .resize(picture, &mut dst, &opts)
        .map_err(|e| unavailable(&format!("cannot scale the detection proxy: {e}")))?;
    Ok(dst.into_vec())
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
