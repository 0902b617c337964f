//! The face test set (tests/data/faces: photos, variants and their boxes, made by
//! scripts/build-face-testset.py) and how detections are scored against it. Shared by
//! tests/faces_testset.rs and benches/faces.rs.
#![allow(dead_code)]

use pixfront::edits::Edits;
use pixfront::faces::{Face, FaceJob, FaceService, FaceStats};
use pixfront::pipeline::PipelineSettings;
use pixfront::pipeline::{process, Output, Resources};
use pixfront::request::ImageRequest;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// Faces smaller than this fraction of the picture's longer side are not counted (neither as
/// misses nor, when found, as false positives): the detector's stated floor.
pub const MIN_FACE: f32 = 0.015;

/// A box [x0, y0, x1, y1] in pixels.
pub type Box4 = [f32; 4];

pub struct Labeled {
    pub file: String,
    /// Upright size (after EXIF orientation).
    pub size: (u32, u32),
    pub faces: Vec<Box4>,
}

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/faces")
}

pub fn load_set() -> Vec<Labeled> {
    let json: Value = serde_json::from_slice(&std::fs::read(dir().join("boxes.json")).unwrap()).unwrap();
    json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Labeled {
            file: e["file"].as_str().unwrap().to_string(),
            size: (
                e["size"][0].as_u64().unwrap() as u32,
                e["size"][1].as_u64().unwrap() as u32,
            ),
            faces: e["faces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    let v: Vec<f32> = b
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap() as f32)
                        .collect();
                    [v[0], v[1], v[2], v[3]]
                })
                .collect(),
        })
        .collect()
}

pub fn read(file: &str) -> bytes::Bytes {
    std::fs::read(dir().join(file)).unwrap().into()
}

/// Renders `edits` on `original` through the real pipeline, with `service` for faces.
pub fn render(service: &Arc<FaceService>, original: &bytes::Bytes, edits: Value) -> image::RgbaImage {
    let (out, _) = process_with(service, original, edits);
    image::load_from_memory(&out.bytes).unwrap().into_rgba8()
}

/// The pipeline's answer and what its face job reported (`Server-Timing: faces`).
pub fn process_with(
    service: &Arc<FaceService>,
    original: &bytes::Bytes,
    edits: Value,
) -> (Output, FaceStats) {
    let (edits, _) = Edits::from_json(edits.as_object().unwrap()).unwrap();
    let req = ImageRequest::new("b", "k", edits);
    let job = FaceJob::new(service.clone(), None);
    let resources = Resources {
        faces: Some(job.clone()),
        ..Resources::default()
    };
    let out = process(&req, original, None, &resources, &PipelineSettings::default()).unwrap();
    (out, job.stats())
}

pub fn to_px(f: &Face, w: u32, h: u32) -> Box4 {
    let (w, h) = (w as f32, h as f32);
    [
        f.left * w,
        f.top * h,
        (f.left + f.width) * w,
        (f.top + f.height) * h,
    ]
}

pub fn iou(a: &Box4, b: &Box4) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |r: &Box4| (r[2] - r[0]) * (r[3] - r[1]);
    let inter = iw * ih;
    inter / (area(a) + area(b) - inter).max(1e-6)
}

pub fn overlaps(a: &Box4, b: &Box4) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// A detection is that face when the boxes overlap by IoU ≥ 0.3, or when its centre is in the
/// face box and its size is within 0.5–2.5× (detectors frame faces differently: SeetaFace's
/// boxes take in more forehead than BlazeFace's, which made the labels).
pub fn matches(face: &Box4, d: &Box4) -> bool {
    let (cx, cy) = ((d[0] + d[2]) / 2.0, (d[1] + d[3]) / 2.0);
    let ratio = (d[2] - d[0]) / (face[2] - face[0]).max(1e-6);
    iou(face, d) >= 0.3
        || (face[0] <= cx && cx <= face[2] && face[1] <= cy && cy <= face[3] && (0.5..=2.5).contains(&ratio))
}

/// (faces counted, faces found, false positives) of `found` against `faces` in a picture whose
/// longer side is `long`. Each detection matches at most one face.
pub fn score(faces: &[Box4], found: &[Box4], long: f32) -> (usize, usize, usize) {
    let mut used = vec![false; found.len()];
    let (mut counted, mut hit) = (0, 0);
    for f in faces {
        let mut matched = false;
        for (i, d) in found.iter().enumerate() {
            if !used[i] && matches(f, d) {
                used[i] = true;
                matched = true;
                break;
            }
        }
        if (f[2] - f[0]).max(f[3] - f[1]) >= MIN_FACE * long {
            counted += 1;
            hit += matched as usize;
        }
    }
    // A detection on a labelled face (counted or not) is not a false one.
    let fp = found
        .iter()
        .enumerate()
        .filter(|(i, d)| !used[*i] && !faces.iter().any(|f| matches(f, d)))
        .count();
    (counted, hit, fp)
}
