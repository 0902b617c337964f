//! Shared by the tests: the reference decode (libjpeg-turbo through mozjpeg), ours, and the
//! per-channel difference between them.
#![allow(dead_code)]

use pixfront_jpegscale::{decode_scaled, Error, Info, Options};

pub struct Image {
    pub w: usize,
    pub h: usize,
    pub rgb: Vec<u8>,
}

/// libjpeg-turbo's scaled RGB decode, or None when it fails (it reports errors by panicking).
pub fn reference(bytes: &[u8], denom: u8) -> Option<Image> {
    std::panic::catch_unwind(|| {
        let mut d = mozjpeg::Decompress::new_mem(bytes).ok()?;
        d.scale(8 / denom);
        let mut s = d.rgb().ok()?;
        let (w, h) = (s.width(), s.height());
        let rgb: Vec<u8> = s.read_scanlines().ok()?;
        s.finish().ok()?;
        Some(Image { w, h, rgb })
    })
    .ok()
    .flatten()
}

pub fn ours(bytes: &[u8], denom: u8, threads: usize) -> Result<(Image, Info), Error> {
    let hdr = pixfront_jpegscale::header(bytes)?;
    let (w, h) = hdr.scaled_size(denom);
    let (w, h) = (w as usize, h as usize);
    let stride = 3 * w + 5; // not tight, to exercise the stride
    let mut out = vec![0u8; stride * h];
    let opts = Options {
        denom,
        threads,
        max_pixels: 1 << 28,
    };
    let info = decode_scaled(bytes, &opts, &mut out, stride)?;
    let mut rgb = Vec::with_capacity(3 * w * h);
    for row in out.chunks(stride).take(h) {
        rgb.extend_from_slice(&row[..3 * w]);
    }
    Ok((Image { w, h, rgb }, info))
}

/// Largest and mean absolute difference of each channel.
pub fn diff(a: &Image, b: &Image) -> ([u8; 3], [f64; 3]) {
    assert_eq!((a.w, a.h), (b.w, b.h), "sizes differ");
    let mut max = [0u8; 3];
    let mut sum = [0u64; 3];
    for (pa, pb) in a.rgb.chunks_exact(3).zip(b.rgb.chunks_exact(3)) {
        for c in 0..3 {
            let d = pa[c].abs_diff(pb[c]);
            max[c] = max[c].max(d);
            sum[c] += d as u64;
        }
    }
    let n = (a.w * a.h).max(1) as f64;
    (max, sum.map(|s| s as f64 / n))
}

/// Every JPEG under the shared test data.
pub fn shared_jpegs() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("/work/shared/testdata")];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("jpg" | "jpeg")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
