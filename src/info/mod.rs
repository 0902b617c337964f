//! The info endpoint's engine (`?info` on an image URL, docs/url-reference.md): what an original
//! is (format, stored and upright size, frames, EXIF orientation, alpha, bytes), a BlurHash
//! placeholder and, when asked, its face boxes. Pure and synchronous like the pipeline, which it
//! uses to render one small upright proxy: limits, shrink-on-load and orientation are the
//! pipeline's own.

use crate::edits::Edits;
use crate::error::Error;
use crate::faces::FaceJob;
use crate::pipeline::codecs;
use crate::pipeline::sniff::{self, InputFormat};
use crate::pipeline::{self, limits, orient, PipelineSettings, Resources};
use crate::request::ImageRequest;
use image::RgbaImage;
use serde::Serialize;

/// The BlurHash is computed on a picture this small (its long side): it keeps 4 × 3 components,
/// so more pixels add time, not detail.
const BLURHASH_SIZE: u32 = 32;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInfo {
    /// `jpeg`, `png`, `webp`, `gif`, `tiff`, `avif`, `jxl`, `svg`.
    pub format: &'static str,
    pub content_type: &'static str,
    /// Size of the original in bytes.
    pub bytes: usize,
    /// As displayed: after EXIF orientation.
    pub width: u32,
    pub height: u32,
    /// As stored (before EXIF orientation).
    pub raw_width: u32,
    pub raw_height: u32,
    /// EXIF orientation 1–8 (1 when absent).
    pub orientation: u8,
    /// Frames of an animation (1 for a still).
    pub frames: u32,
    pub has_alpha: bool,
    /// A 4 × 3 component BlurHash of the upright picture (first frame).
    pub blurhash: String,
    /// With `faces=true`: boxes as fractions of the upright picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faces: Option<Vec<FaceBox>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceBox {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
    /// 0–100.
    pub confidence: f32,
}

/// The request the proxy is rendered with: `image`'s original, upright, fit inside `size`², as
/// PNG (lossless, keeps alpha); an SVG at its own size (no raster header tells it).
pub fn proxy_request(image: &ImageRequest, svg: bool, size: u32) -> ImageRequest {
    let mut edits = serde_json::json!({"toFormat": "png"});
    if !svg {
        edits["resize"] =
            serde_json::json!({"width": size, "height": size, "fit": "inside", "withoutEnlargement": true});
    }
    let map = edits.as_object().cloned().unwrap_or_default();
    let edits = Edits::from_json(&map).map(|(e, _)| e).unwrap_or_default();
    ImageRequest::new(image.bucket.clone(), image.key.clone(), edits)
}

/// The original's format, sniffed; a 400 for bytes that are no image pixfront reads.
pub fn sniff(original: &[u8]) -> Result<InputFormat, Error> {
    sniff::sniff(original).ok_or_else(|| {
        Error::bad_request(
            "UnsupportedInputFormat",
            "The original is not an image format pixfront can read.",
        )
    })
}

/// Describes `original`, rendering `proxy` (from [`proxy_request`]) for the BlurHash and, with
/// `faces`, the detection (cached per original like any face detection).
pub fn inspect(
    original: &bytes::Bytes,
    proxy: &ImageRequest,
    faces: Option<&FaceJob>,
    config: &PipelineSettings,
) -> Result<ImageInfo, Error> {
    let input = sniff(original)?;
    let header = match input {
        InputFormat::Svg => None,
        _ => {
            let h = codecs::read_header(original, input)?;
            limits::check_input(h.width, h.height, config)?;
            Some(h)
        }
    };
    let out = pipeline::process(proxy, original, None, &Resources::default(), config)?;
    let png = image::load_from_memory_with_format(&out.bytes, image::ImageFormat::Png)
        .map_err(|_| Error::internal())?;
    let has_alpha = png.color().has_alpha();
    let upright = png.into_rgba8();
    let (raw_width, raw_height, frames, orientation) = match header {
        Some(h) => (h.width, h.height, h.frames, h.orientation),
        None => (upright.width(), upright.height(), 1, 1),
    };
    let (width, height) = if orient::swaps_axes(orientation) {
        (raw_height, raw_width)
    } else {
        (raw_width, raw_height)
    };
    let faces = match faces {
        Some(job) => {
            let found = job.service.faces(job.key.as_ref(), &[&upright], &job.stats)?;
            Some(found.iter().map(face_box).collect())
        }
        None => None,
    };
    Ok(ImageInfo {
        format: format_name(input),
        content_type: input.mime(),
        bytes: original.len(),
        width,
        height,
        raw_width,
        raw_height,
        orientation,
        frames,
        has_alpha,
        blurhash: blurhash(&upright)?,
        faces,
    })
}

fn face_box(f: &crate::faces::Face) -> FaceBox {
    // Four decimals: a tenth of a pixel on a 1000-pixel picture, and stable JSON.
    let r = |v: f32| (v * 10_000.0).round() / 10_000.0;
    FaceBox {
        left: r(f.left),
        top: r(f.top),
        width: r(f.width),
        height: r(f.height),
        confidence: (f.confidence * 10.0).round() / 10.0,
    }
}

fn blurhash(picture: &RgbaImage) -> Result<String, Error> {
    let (w, h) = picture.dimensions();
    let scale = (BLURHASH_SIZE as f64 / w.max(h) as f64).min(1.0);
    let size = |v: u32| ((v as f64 * scale).round() as u32).max(1);
    let small = image::imageops::thumbnail(picture, size(w), size(h));
    blurhash::encode(4, 3, small.width(), small.height(), small.as_raw()).map_err(|_| Error::internal())
}

fn format_name(f: InputFormat) -> &'static str {
    match f {
        InputFormat::Jpeg => "jpeg",
        InputFormat::Png => "png",
        InputFormat::Webp => "webp",
        InputFormat::Gif => "gif",
        InputFormat::Tiff => "tiff",
        InputFormat::Avif => "avif",
        InputFormat::Jxl => "jxl",
        InputFormat::Svg => "svg",
        InputFormat::Heic => "heic",
    }
}
