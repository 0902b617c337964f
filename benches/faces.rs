//! The local face detector on the test photos: faces found, false positives, milliseconds per
//! detection, and whether `blurFaces` output is detected again. Prints the table in
//! docs/faces.md. Run: `cargo bench --bench faces` (testdata from `PIXFRONT_TESTDATA` or
//! `../shared/testdata`).

use pixfront::edits::Edits;
use pixfront::faces::{local::LocalDetector, Face, FaceJob, FaceService};
use pixfront::pipeline::PipelineSettings;
use pixfront::pipeline::{process, Resources};
use pixfront::request::ImageRequest;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// (file, faces in it).
const FIXTURES: &[(&str, usize)] = &[
    ("faces/astronaut.png", 1),
    ("faces/biden_fullbody.jpg", 1),
    ("faces/camera_gray.png", 1),
    ("faces/hopper_128.jpg", 1),
    ("faces/hopper_exif_orientation6.jpg", 1),
    ("faces/obama.jpg", 1),
    ("faces/obama2.jpg", 1),
    ("faces/obama2_rgba.png", 1),
    ("formats/rocket.jpg", 0),
    ("large/kleiber_6028x3391.jpg", 0),
    ("large/infinite_sea_4096x4096_progressive.jpg", 0),
    ("large/painting_colors_6000x4000_icc.jpg", 0),
    ("large/adwaita_d_4096x4096.webp", 0),
];

const RUNS: usize = 5;

fn testdata() -> PathBuf {
    match std::env::var_os("PIXFRONT_TESTDATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"),
    }
}

fn render(service: &Arc<FaceService>, original: &bytes::Bytes, edits: Value) -> image::RgbaImage {
    let (edits, _) = Edits::from_json(edits.as_object().unwrap()).unwrap();
    let req = ImageRequest::new("b", "k", edits);
    let resources = Resources {
        faces: Some(FaceJob::new(service.clone(), None)),
        ..Resources::default()
    };
    let out = process(&req, original, None, &resources, &PipelineSettings::default()).unwrap();
    image::load_from_memory(&out.bytes).unwrap().into_rgba8()
}

fn overlaps(a: &Face, b: &Face) -> bool {
    a.left < b.left + b.width
        && b.left < a.left + a.width
        && a.top < b.top + b.height
        && b.top < a.top + a.height
}

fn main() {
    let proxy = pixfront::faces::FaceSettings::default().proxy_size;
    let service = Arc::new(FaceService::new(Ok(Arc::new(LocalDetector::new(proxy))), None, 1));
    println!("local detector (SeetaFace frontal via rustface), proxy {proxy} px, median of {RUNS} runs");
    println!();
    println!("| file | size | faces expected | found | false positives | ms per detection | found again after blurFaces (w=200 / 800 / original) |");
    println!("|---|---|---|---|---|---|---|");
    let (mut expected_total, mut hit_total, mut fp_total) = (0, 0, 0);
    for &(rel, expected) in FIXTURES {
        let original: bytes::Bytes = std::fs::read(testdata().join(rel)).unwrap().into();
        // Upright (EXIF applied), at most 2048 px: the detector sees a 640 px proxy anyway.
        let upright = render(
            &service,
            &original,
            json!({"resize": {"width": 2048, "height": 2048, "fit": "inside", "withoutEnlargement": true},
                   "toFormat": "png"}),
        );
        let mut times = Vec::new();
        let mut faces = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            faces = service.faces_uncached(&upright, &Mutex::default()).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let found = faces.len().min(expected);
        let fp = faces.len().saturating_sub(expected);
        expected_total += expected;
        hit_total += found;
        fp_total += fp;
        let again = if expected > 0 && !faces.is_empty() {
            let face = faces[0];
            [Some(200), Some(800), None]
                .iter()
                .map(|w| {
                    let mut e = json!({"blurFaces": true, "toFormat": "png"});
                    if let Some(w) = w {
                        e["resize"] = json!({"width": w});
                    }
                    let out = render(&service, &original, e);
                    let again = service.faces_uncached(&out, &Mutex::default()).unwrap();
                    again.iter().filter(|f| overlaps(f, &face)).count().to_string()
                })
                .collect::<Vec<_>>()
                .join(" / ")
        } else {
            "—".to_string()
        };
        let size = image::ImageReader::new(std::io::Cursor::new(&original))
            .with_guessed_format()
            .ok()
            .and_then(|r| r.into_dimensions().ok())
            .map_or("?".to_string(), |(w, h)| format!("{w}×{h}"));
        println!(
            "| {rel} | {size} | {expected} | {found} | {fp} | {:.0} | {again} |",
            times[RUNS / 2]
        );
    }
    println!();
    println!("recall {hit_total}/{expected_total}, false positives {fp_total}");
}
