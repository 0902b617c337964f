//! Per-edit timings on a real photo (faces/obama.jpg scaled to 1200 px wide, and to 800 px for
//! the resize steps' input): `cargo bench --bench ops`. Figures only; nothing here gates CI.

use criterion::{criterion_group, criterion_main, Criterion};
use pixfront::edits::Edits;
use pixfront::pipeline::ops::{apply_all, OpContext};
use pixfront::pipeline::picture::Picture;
use pixfront::pipeline::PipelineSettings;
use pixfront::pipeline::Resources;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

fn photo(width: u32) -> Picture {
    let root = std::env::var_os("PIXFRONT_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"));
    let img = image::open(root.join("large/kleiber_6028x3391.jpg"))
        .expect("test image")
        .into_rgba8();
    let height = (img.height() as u64 * width as u64 / img.width() as u64) as u32;
    let img = image::imageops::resize(&img, width, height, image::imageops::FilterType::Triangle);
    Picture::still(img, false)
}

fn bench(c: &mut Criterion) {
    let config = PipelineSettings::default();
    let resources = Resources::default();
    let big = photo(2400);
    let pic = photo(1200);
    let ctx = OpContext {
        resources: &resources,
        config: &config,
        original_size: (1200, 675),
        first_resize_from: None,
    };
    let cases = [
        (
            "resize_2400_to_800_lanczos3",
            json!({"resize": {"width": 800}}),
            true,
        ),
        (
            "resize_2400_cover_400x400",
            json!({"resize": {"width": 400, "height": 400}}),
            true,
        ),
        (
            "resize_2400_attention_400x400",
            json!({"resize": {"width": 400, "height": 400, "position": "attention"}}),
            true,
        ),
        (
            "crop_600x400",
            json!({"crop": {"left": 100, "top": 100, "width": 600, "height": 400}}),
            false,
        ),
        ("rotate_90", json!({"rotate": 90}), false),
        ("rotate_30", json!({"rotate": 30}), false),
        ("flip", json!({"flip": true}), false),
        ("grayscale", json!({"grayscale": true}), false),
        ("tint", json!({"tint": "#3060c0"}), false),
        (
            "modulate",
            json!({"modulate": {"brightness": 1.2, "saturation": 1.3, "hue": 30}}),
            false,
        ),
        ("normalize", json!({"normalize": true}), false),
        ("blur_3", json!({"blur": 3}), false),
        ("sharpen_sigma_1", json!({"sharpen": 1}), false),
        ("median_3", json!({"median": 3}), false),
        (
            "convolve_3x3",
            json!({"convolve": {"width": 3, "height": 3, "kernel": [0,-1,0,-1,5,-1,0,-1,0]}}),
            false,
        ),
        ("extend_20", json!({"extend": 20}), false),
        ("round_crop", json!({"roundCrop": true}), false),
    ];
    let mut group = c.benchmark_group("ops_1200x675");
    group.sample_size(10).measurement_time(Duration::from_secs(3));
    for (name, edits, from_big) in cases {
        let (edits, _) = Edits::from_json(edits.as_object().expect("object")).expect("edits");
        let input = if from_big { &big } else { &pic };
        group.bench_function(name, |b| {
            b.iter(|| apply_all(&edits, input.clone(), &ctx).expect("edit"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
