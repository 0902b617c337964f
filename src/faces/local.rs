//! The offline detector (`FACE_DETECTOR=local`): MediaPipe BlazeFace's "back" model (run by
//! the `pixfront-facenet` crate, `crates/facenet`) on two scales of the proxy, merged by
//! weighted non-maximum suppression.
//!
//! The model finds faces from about 10 to 230 px in its input (measured, docs/faces.md). One
//! pass over the whole proxy (longest side `FACE_PROXY_SIZE`, 736 by default) finds the small
//! ones — down to about 1.5 % of the picture's longer side at 736 — and one over a 256 px copy
//! the large ones, up to the whole frame. The network is fully convolutional, so each pass is a
//! single run over the whole image: no tiles, no faces cut at tile borders.

use super::{scaled, unavailable, Face, FaceDetector};
use crate::error::Error;
use image::RgbaImage;
use pixfront_facenet::blazeface::{weighted_nms, BlazeFace, Detection};
use std::sync::OnceLock;

/// MediaPipe BlazeFace, back model (Apache-2.0): see models/README.md.
static MODEL_BYTES: &[u8] = include_bytes!("../../models/face_detection_back_256x256_barracuda.onnx");

/// Longest side of the coarse pass: the model's training size, where it sees faces as large
/// as the frame.
const COARSE: u32 = 256;
/// The fine pass runs only when the proxy is this much larger than the coarse one (otherwise
/// the coarse pass already sees faces of 10 proxy pixels).
const FINE_MIN_RATIO: f32 = 1.5;
/// BlazeFace score (0–1) from which a detection is a face (smartCrop's list, the figures).
/// Chosen on the face test set (docs/faces.md): at 0.6, recall 0.96 with 0.06 false
/// positives per image; 0.5 (MediaPipe's) gives 0.97 and 0.12.
const SURE_SCORE: f32 = 0.6;
/// Lowest score kept: detections from here to [`SURE_SCORE`] are candidates, blurred by
/// `blurFaces` (a needless blur costs little, a missed face is a privacy failure) but not
/// reported as faces.
const MIN_SCORE: f32 = 0.5;
/// MediaPipe's suppression overlap for BlazeFace.
const NMS_IOU: f32 = 0.3;
/// A detection lying this much (of its own area) inside a stronger one is a part of that face
/// found at the other scale (an eye region, a face on a printed badge is not that small).
const CONTAINED: f32 = 0.6;

fn model() -> Result<&'static BlazeFace, Error> {
    static MODEL: OnceLock<Result<BlazeFace, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| BlazeFace::load(MODEL_BYTES))
        .as_ref()
        .map_err(|e| unavailable(&format!("the face model does not load: {e}")))
}

/// BlazeFace on a proxy whose longest side is `proxy_size` (`FACE_PROXY_SIZE`: the model needs
/// faces of about 10 px, so the default 736 is what finds faces of 1.5 % of the longer side:
/// on the test set as many as at 800, 3 fewer at 704, 8 fewer at 672).
#[derive(Debug, Clone)]
pub struct LocalDetector {
    proxy_size: u32,
}

impl LocalDetector {
    pub fn new(proxy_size: u32) -> LocalDetector {
        LocalDetector { proxy_size }
    }
}

fn contained_in(small: &Detection, big: &Detection) -> bool {
    let w = (small.x1.min(big.x1) - small.x0.max(big.x0)).max(0.0);
    let h = (small.y1.min(big.y1) - small.y0.max(big.y0)).max(0.0);
    let area = (small.x1 - small.x0) * (small.y1 - small.y0);
    area > 0.0 && w * h >= CONTAINED * area
}

/// Faces in `img` as boxes in its pixels: the coarse and (for large images) the fine pass.
pub fn detect_pixels(img: &RgbaImage, proxy_size: u32) -> Result<Vec<Detection>, Error> {
    let net = model()?;
    let long = img.width().max(img.height()).min(proxy_size);
    let mut levels = vec![COARSE];
    if long as f32 >= COARSE as f32 * FINE_MIN_RATIO {
        levels.push(long);
    }
    let mut all = Vec::new();
    for level in levels {
        let input = scaled(img, level)?;
        let f = img.width().max(img.height()) as f32 / input.width().max(input.height()) as f32;
        let (w, h) = (input.width() as usize, input.height() as usize);
        let found = net
            .detect(input.as_raw(), w, h, MIN_SCORE)
            .map_err(|e| unavailable(&format!("the local detector failed: {e}")))?;
        all.extend(found.into_iter().map(|d| Detection {
            x0: d.x0 * f,
            y0: d.y0 * f,
            x1: d.x1 * f,
            y1: d.y1 * f,
            score: d.score,
        }));
    }
    let merged = weighted_nms(all, NMS_IOU);
    // Strongest first (weighted_nms' order): a box inside an earlier one is a part of it.
    let mut kept: Vec<Detection> = Vec::new();
    for d in merged {
        if !kept.iter().any(|k| contained_in(&d, k)) {
            kept.push(d);
        }
    }
    Ok(kept)
}

impl FaceDetector for LocalDetector {
    fn name(&self) -> &'static str {
        "local"
    }

    fn proxy_size(&self) -> u32 {
        self.proxy_size
    }

    fn sure_confidence(&self) -> f32 {
        SURE_SCORE * 100.0
    }

    fn detect(&self, proxy: &RgbaImage) -> Result<Vec<Face>, Error> {
        let (w, h) = proxy.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let found = detect_pixels(proxy, self.proxy_size)?;
        Ok(found
            .iter()
            .filter_map(|d| Face::from_pixels(d.x0, d.y0, d.x1, d.y1, (w, h), d.score * 100.0))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_loads_and_blank_images_have_no_faces() {
        let d = LocalDetector::new(640);
        assert!(d.detect(&RgbaImage::new(10, 10)).unwrap().is_empty());
        let grey = RgbaImage::from_pixel(900, 600, image::Rgba([128, 128, 128, 255]));
        assert!(d.detect(&grey).unwrap().is_empty());
    }

    #[test]
    fn containment() {
        let big = Detection {
            x0: 0.0,
            y0: 0.0,
            x1: 100.0,
            y1: 100.0,
            score: 0.9,
        };
        let inner = Detection {
            x0: 10.0,
            y0: 10.0,
            x1: 30.0,
            y1: 30.0,
            score: 0.6,
        };
        let beside = Detection {
            x0: 90.0,
            x1: 110.0,
            ..inner
        };
        assert!(contained_in(&inner, &big));
        assert!(!contained_in(&beside, &big));
    }
}
