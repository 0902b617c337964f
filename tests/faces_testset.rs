//! The local detector on the face test set (tests/data/faces: real photos and variants — small
//! faces in group scenes, turned, EXIF-turned, grayscale — with labelled boxes), and
//! `blurFaces` judged by two independent detectors (BlazeFace and SeetaFace).

mod faces_support;

use faces_support::{load_set, matches, read, render, score, to_px, Box4};
use pixfront::config::Config;
use pixfront::faces::{local::LocalDetector, proxy, seeta::SeetaDetector, FaceDetector, FaceService};
use serde_json::json;
use std::sync::Arc;

fn local() -> Arc<dyn FaceDetector> {
    Arc::new(LocalDetector::new(Config::default().faces.proxy_size))
}

/// The faces `d` reports (not the weaker candidates only blurFaces uses), in pixels.
fn detect(d: &Arc<dyn FaceDetector>, img: &image::RgbaImage) -> Vec<Box4> {
    let p = proxy(img, d.proxy_size()).unwrap();
    d.detect(&p)
        .unwrap()
        .iter()
        .filter(|f| f.confidence >= d.sure_confidence())
        .map(|f| to_px(f, img.width(), img.height()))
        .collect()
}

/// The targets: recall ≥ 0.95 on faces ≥ 1.5 % of the longer side, ≤ 0.1 false
/// positives per image (docs/faces.md has the measured figures).
#[test]
fn recall_and_false_positives_on_the_test_set() {
    let d = local();
    let service = Arc::new(FaceService::new(Ok(d.clone()), None, 1));
    let set = load_set();
    assert!(set.iter().map(|l| l.faces.len()).sum::<usize>() >= 150);
    let (mut counted, mut hit, mut fp) = (0, 0, 0);
    let mut missed = Vec::new();
    for l in &set {
        let img = render(&service, &read(&l.file), json!({"toFormat": "png"}));
        assert_eq!(img.dimensions(), l.size, "{}: EXIF orientation applied", l.file);
        let (c, h, f) = score(&l.faces, &detect(&d, &img), l.size.0.max(l.size.1) as f32);
        if h < c || f > 0 {
            missed.push(format!("{}: {h}/{c} found, {f} false", l.file));
        }
        (counted, hit, fp) = (counted + c, hit + h, fp + f);
    }
    let recall = hit as f64 / counted as f64;
    let fp_per_image = fp as f64 / set.len() as f64;
    assert!(recall >= 0.95, "recall {recall:.3} ({hit}/{counted}): {missed:?}");
    assert!(
        fp_per_image <= 0.1,
        "{fp_per_image:.3} false positives per image: {missed:?}"
    );
}

/// After `blurFaces`, neither BlazeFace nor SeetaFace finds a labelled face at 200 px wide,
/// 800 px wide or the original size, on the real photos and three group scenes (scene_01's
/// blurred heads were once taken for faces). Every face is
/// first checked to be found by at least one of them without the blur, so the test can fail.
#[test]
fn blurred_faces_stay_hidden_from_both_detectors() {
    let detectors = [
        local(),
        Arc::new(SeetaDetector::new(640)) as Arc<dyn FaceDetector>,
    ];
    let service = Arc::new(FaceService::new(Ok(detectors[0].clone()), None, 16));
    let set = load_set();
    let chosen = set.iter().filter(|l| {
        l.file.starts_with("photo_")
            || ["scene_00.jpg", "scene_01.jpg", "scene_03.jpg"].contains(&l.file.as_str())
    });
    for l in chosen {
        let original = read(&l.file);
        for width in [Some(200u32), Some(800), None] {
            let (mut plain, mut blurred) = (
                json!({"toFormat": "png"}),
                json!({"blurFaces": true, "toFormat": "png"}),
            );
            if let Some(w) = width {
                plain["resize"] = json!({"width": w});
                blurred["resize"] = json!({"width": w});
            }
            let plain = render(&service, &original, plain);
            let out = render(&service, &original, blurred);
            let f = out.width() as f32 / l.size.0 as f32;
            let faces: Vec<Box4> = l.faces.iter().map(|b| b.map(|v| v * f)).collect();
            let before: Vec<Box4> = detectors.iter().flat_map(|d| detect(d, &plain)).collect();
            // Group scenes: thumbnails lose small faces, and scene_01 has one face neither
            // detector finds (docs/faces.md); it must still not be found after the blur.
            let found = faces
                .iter()
                .filter(|face| before.iter().any(|d| matches(face, d)))
                .count();
            assert!(
                found == faces.len()
                    || l.file.starts_with("scene_") && (width == Some(200) || found + 1 == faces.len()),
                "{} at {width:?}: not every face is found before blurring: {before:?} vs {faces:?}",
                l.file
            );
            for d in &detectors {
                let again: Vec<Box4> = detect(d, &out)
                    .into_iter()
                    .filter(|d| faces.iter().any(|f| matches(f, d)))
                    .collect();
                assert!(
                    again.is_empty(),
                    "{} at {width:?}: {} finds a face again: {again:?}",
                    l.file,
                    d.name()
                );
            }
        }
    }
}
