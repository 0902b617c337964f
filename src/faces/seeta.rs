//! SeetaFace's funnel-structured cascade (frontal model) through the pure-Rust `rustface`
//! crate: the local detector before BlazeFace, kept as an independent second opinion (the
//! tests and `benches/faces.rs` check that blurred faces stay hidden from it too). The model
//! (`models/seeta_fd_frontal_v1.0.bin`, BSD-2-Clause, from the rustface 0.1.7 crate) is compiled
//! into the binary.

use super::{unavailable, Face, FaceDetector};
use crate::error::Error;
use image::RgbaImage;
use std::sync::OnceLock;

static MODEL_BYTES: &[u8] = include_bytes!("../../models/seeta_fd_frontal_v1.0.bin");

/// Smallest face the cascade can see, in proxy pixels (rustface's lower bound).
const MIN_FACE: u32 = 20;
/// rustface's default score threshold; lower finds more faces and more false ones.
const SCORE_THRESHOLD: f64 = 2.0;

fn model() -> Result<&'static rustface::Model, Error> {
    static MODEL: OnceLock<Result<rustface::Model, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| rustface::read_model(MODEL_BYTES).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| unavailable(&format!("the face model does not load: {e}")))
}

/// SeetaFace on a grey proxy whose longest side is `proxy_size`.
#[derive(Debug, Clone)]
pub struct SeetaDetector {
    proxy_size: u32,
}

impl SeetaDetector {
    pub fn new(proxy_size: u32) -> SeetaDetector {
        SeetaDetector {
            proxy_size: proxy_size.max(MIN_FACE),
        }
    }
}

/// Maps rustface's unbounded score onto Rekognition's 0–100 confidence scale (monotonic; the
/// threshold score 2 maps to about 22, a clear frontal face (≥ 20) to over 90).
fn confidence(score: f64) -> f32 {
    (100.0 * (1.0 - (-score / 8.0).exp())) as f32
}

impl FaceDetector for SeetaDetector {
    fn name(&self) -> &'static str {
        "seetaface"
    }

    fn proxy_size(&self) -> u32 {
        self.proxy_size
    }

    fn detect(&self, proxy: &RgbaImage) -> Result<Vec<Face>, Error> {
        let (w, h) = proxy.dimensions();
        // No face can be found, or recognised, in a picture smaller than the smallest window.
        if w < MIN_FACE || h < MIN_FACE {
            return Ok(Vec::new());
        }
        // Luma over a white background, so transparent areas read as flat, not as black shapes.
        let grey: Vec<u8> = proxy
            .pixels()
            .map(|p| {
                let [r, g, b, a] = p.0.map(u32::from);
                let y = (299 * r + 587 * g + 114 * b) / 1000;
                ((y * a + 255 * (255 - a)) / 255) as u8
            })
            .collect();
        let model = model()?.clone();
        // rustface asserts on its inputs; a panic here must be a 503, never a crash or a pass.
        let found = std::panic::catch_unwind(move || {
            let mut detector = rustface::create_detector_with_model(model);
            detector.set_min_face_size(MIN_FACE);
            detector.set_score_thresh(SCORE_THRESHOLD);
            detector.set_pyramid_scale_factor(0.8);
            detector.set_slide_window_step(4, 4);
            detector.detect(&rustface::ImageData::new(&grey, w, h))
        })
        .map_err(|_| unavailable("the local detector failed"))?;
        Ok(found
            .iter()
            .filter_map(|f| {
                let b = f.bbox();
                let (x, y) = (b.x() as f32, b.y() as f32);
                let (x1, y1) = (x + b.width() as f32, y + b.height() as f32);
                Face::from_pixels(x, y, x1, y1, (w, h), confidence(f.score()))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_loads_and_blank_images_have_no_faces() {
        let d = SeetaDetector::new(640);
        assert!(d.detect(&RgbaImage::new(10, 10)).unwrap().is_empty());
        let grey = RgbaImage::from_pixel(200, 150, image::Rgba([128, 128, 128, 255]));
        assert!(d.detect(&grey).unwrap().is_empty());
    }

    #[test]
    fn confidence_is_monotonic_and_bounded() {
        assert!(confidence(2.0) < confidence(10.0));
        assert!(confidence(1000.0) <= 100.0);
        assert!(confidence(0.0) >= 0.0);
    }
}
