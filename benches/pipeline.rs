//! Whole-pipeline timings on real images: `cargo bench --bench pipeline`.
//! Figures only; nothing here gates CI.

use criterion::{criterion_group, criterion_main, Criterion};
use pixfront::edits::Edits;
use pixfront::pipeline::PipelineSettings;
use pixfront::pipeline::{process, Resources};
use pixfront::request::ImageRequest;
use std::path::PathBuf;
use std::time::Duration;

fn testdata(rel: &str) -> bytes::Bytes {
    let root = std::env::var_os("PIXFRONT_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"));
    std::fs::read(root.join(rel)).expect("test image").into()
}

fn request(edits: serde_json::Value) -> ImageRequest {
    let (edits, _) = Edits::from_json(edits.as_object().expect("object")).expect("edits");
    ImageRequest::new("bench", "bench", edits)
}

fn bench(c: &mut Criterion) {
    let config = PipelineSettings::default();
    let resources = Resources::default();
    let cases = [
        (
            "jpeg_20mp_to_800_jpeg",
            "large/kleiber_6028x3391.jpg",
            serde_json::json!({"resize": {"width": 800}}),
        ),
        (
            "jpeg_20mp_to_800_webp",
            "large/kleiber_6028x3391.jpg",
            serde_json::json!({"resize": {"width": 800}, "toFormat": "webp"}),
        ),
        (
            "jpeg_20mp_to_400x400_avif",
            "large/kleiber_6028x3391.jpg",
            serde_json::json!({"resize": {"width": 400, "height": 400}, "toFormat": "avif"}),
        ),
        (
            "jpeg_20mp_to_800_avif",
            "large/kleiber_6028x3391.jpg",
            serde_json::json!({"resize": {"width": 800}, "toFormat": "avif"}),
        ),
        (
            "webp_4096_to_512",
            "large/adwaita_d_4096x4096.webp",
            serde_json::json!({"resize": {"width": 512}}),
        ),
        (
            "png_rgba_to_200",
            "faces/obama2_rgba.png",
            serde_json::json!({"resize": {"width": 200}}),
        ),
        (
            "gif_animated_to_100",
            "formats/iss634_animated.gif",
            serde_json::json!({"resize": {"width": 100}}),
        ),
    ];
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for (name, file, edits) in cases {
        let original = testdata(file);
        let req = request(edits);
        // One run outside the timer: fail loudly on a broken case, and print the stages.
        let out = process(&req, &original, None, &resources, &config).expect(name);
        println!(
            "{name}: {} bytes {} {:?}",
            out.bytes.len(),
            out.content_type,
            out.timings
        );
        group.bench_function(name, |b| {
            b.iter(|| process(&req, &original, None, &resources, &config).expect(name))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
