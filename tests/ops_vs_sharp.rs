//! Pixels against sharp itself: each case in tests/data/sharp_ops/cases.json was rendered from
//! faces/hopper_128.jpg by sharp (scripts/sharp-geometry/run.sh); pixfront's output for the same
//! edits must be the same size and close in every pixel on average.

mod shared_data;
use shared_data::testdata;

use pixfront::config::Config;
use pixfront::edits::Edits;
use pixfront::pipeline::ops::{apply_all, OpContext};
use pixfront::pipeline::picture::Picture;
use pixfront::pipeline::Resources;
use serde_json::Value;
use std::path::PathBuf;

/// Mean absolute difference per colour channel allowed for each case. JPEG decoders alone
/// differ by ~0.3; the larger budgets are for steps that are close to, not copies of, libvips
/// (gamma rounding, normalise percentiles, convolution edges), and for `clahe`, exact on equal
/// input (tests/ops_sharp_extra.rs) but a rank in a histogram, so it magnifies decoder noise.
fn budget(name: &str) -> f64 {
    match name {
        "gamma_resize" => 4.0,
        "normalize" => 3.0,
        "convolve" | "sharpen_options" | "clahe" => 2.0,
        _ => 1.5,
    }
}

#[test]
fn edits_match_sharp_pixels() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sharp_ops"));
    let cases: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    assert!(cases.len() >= 15);
    let orig = image::open(testdata().join("faces/hopper_128.jpg"))
        .unwrap()
        .into_rgba8();
    let config = Config::default();
    let resources = Resources::default();
    let ctx = OpContext {
        resources: &resources,
        config: &config.pipeline,
        original_size: orig.dimensions(),
        first_resize_from: None,
    };
    let mut report = Vec::new();
    for (name, edits) in &cases {
        let want = image::open(dir.join(format!("{name}.png"))).unwrap().into_rgba8();
        let (edits, ignored) = Edits::from_json(edits.as_object().unwrap()).unwrap();
        assert!(ignored.is_empty(), "{name}: {ignored:?}");
        let got = apply_all(&edits, Picture::still(orig.clone(), false), &ctx).unwrap();
        let got = got.frames[0].pixels.to_rgba();
        assert_eq!(got.dimensions(), want.dimensions(), "{name}: size");
        let sum: u64 = got
            .pixels()
            .zip(want.pixels())
            .map(|(a, b)| {
                (0..3)
                    .map(|c| (a[c] as i64 - b[c] as i64).unsigned_abs())
                    .sum::<u64>()
            })
            .sum();
        let mad = sum as f64 / (3 * got.width() * got.height()) as f64;
        if mad > budget(name) {
            report.push(format!("{name}: mean difference {mad:.2} > {}", budget(name)));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
