//! Where the shared test images are: `PIXFRONT_TESTDATA`, else the steering repo's
//! `../shared/testdata` (read-only). Every test crate and support module takes it from here,
//! with the few helpers several test crates need (each crate uses some of them only).
#![allow(dead_code)]

use std::path::PathBuf;

pub fn testdata() -> PathBuf {
    std::env::var_os("PIXFRONT_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"))
}

/// The installed Chromium (Debian's `chromium`), if any.
pub fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let ok = std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            ok.then(|| name.to_string())
        })
}

/// `w`×`h` of deterministic noise no encoder can shrink much, as an RGB PNG (fast deflate).
pub fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let pixels: Vec<u8> = (0..w as usize * h as usize * 3)
        .map(|_| {
            // xorshift64: fast, deterministic, incompressible enough for PNG.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.write_header().unwrap().write_image_data(&pixels).unwrap();
    out
}
