//! Helpers shared by the tests/pipeline_*.rs files.
#![allow(dead_code)]

#[path = "../shared_data/mod.rs"]
mod shared_data;
pub use shared_data::testdata;

use pixfront::config::Config;
use pixfront::edits::{Edits, Format};
use pixfront::pipeline::{process, Output, Resources};
use pixfront::request::ImageRequest;

pub fn read(rel: &str) -> bytes::Bytes {
    let path = testdata().join(rel);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into()
}

pub fn request(edits: serde_json::Value) -> ImageRequest {
    let (edits, ignored) = Edits::from_json(edits.as_object().expect("edits object")).unwrap();
    assert!(ignored.is_empty(), "{ignored:?}");
    ImageRequest::new("bucket", "key", edits)
}

pub fn run(file: &str, edits: serde_json::Value) -> Result<Output, pixfront::Error> {
    run_with(file, edits, None, &Config::default())
}

pub fn run_with(
    file: &str,
    edits: serde_json::Value,
    output_format: Option<Format>,
    config: &Config,
) -> Result<Output, pixfront::Error> {
    render_bytes(&read(file), edits, output_format, config)
}

/// `edits` (and an output format) applied to an original held in memory.
pub fn render_bytes(
    bytes: &bytes::Bytes,
    edits: serde_json::Value,
    output_format: Option<Format>,
    config: &Config,
) -> Result<Output, pixfront::Error> {
    let mut req = request(edits);
    req.output_format = output_format;
    process(&req, bytes, None, &Resources::default(), &config.pipeline)
}

/// A fixture made by tests/data/formats/make.py.
pub fn fixture(name: &str) -> bytes::Bytes {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/formats/");
    std::fs::read(format!("{path}{name}")).unwrap().into()
}

/// The largest difference of any colour channel between two pictures of the same size.
pub fn max_diff(a: &image::RgbaImage, b: &image::RgbaImage) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels()
        .zip(b.pixels())
        .flat_map(|(p, q)| (0..3).map(move |c| p[c].abs_diff(q[c])))
        .max()
        .unwrap()
}

pub fn decode(bytes: &[u8]) -> image::RgbaImage {
    image::load_from_memory(bytes)
        .expect("output decodes")
        .into_rgba8()
}

/// Mean absolute difference per channel (RGB) between two same-sized images.
pub fn mean_diff(a: &image::RgbaImage, b: &image::RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| {
            (0..3)
                .map(|c| (p[c] as i64 - q[c] as i64).unsigned_abs())
                .sum::<u64>()
        })
        .sum();
    sum as f64 / (a.width() as f64 * a.height() as f64 * 3.0)
}
