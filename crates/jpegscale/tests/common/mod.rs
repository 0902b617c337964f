//! Shared by the tests: the reference decode (libjpeg-turbo through mozjpeg, with its warnings
//! seen), ours, generated JPEGs, and the per-channel difference between two decodes.
#![allow(dead_code)]

use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr};
use pixfront_jpegscale::{decode_scaled, Error, Info, Options};
use std::cell::Cell;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    pub w: usize,
    pub h: usize,
    pub rgb: Vec<u8>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image {}x{}", self.w, self.h)
    }
}

thread_local! {
    static WARNED: Cell<bool> = const { Cell::new(false) };
}

/// libjpeg's message hook: level -1 is a warning about the data. Warnings about JFIF's version
/// number are about metadata, and pixfront ignores them too.
extern "C-unwind" fn on_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // SAFETY: libjpeg calls this with `err` pointing at the manager it was given, alive for the
    // whole decode.
    let code = unsafe { cinfo.err.as_ref() }.map_or(0, |e| e.msg_code);
    if level < 0 && code != mozjpeg_sys::JWRN_JFIF_MAJOR {
        WARNED.set(true);
    }
}

extern "C-unwind" fn on_error(_cinfo: &mut jpeg_common_struct) {
    std::panic::resume_unwind(Box::new("libjpeg error"));
}

fn error_manager() -> jpeg_error_mgr {
    // SAFETY: jpeg_std_error only fills in every field of the (zeroed, so valid) struct it is
    // given; the two hooks are then replaced by functions of the right signature.
    unsafe {
        let mut err: jpeg_error_mgr = std::mem::zeroed();
        mozjpeg_sys::jpeg_std_error(&mut err);
        err.error_exit = Some(on_error);
        err.emit_message = Some(on_message);
        err
    }
}

/// libjpeg-turbo's scaled RGB decode and whether it warned, or None when it failed.
pub fn reference(bytes: &[u8], denom: u8) -> Option<(Image, bool)> {
    WARNED.set(false);
    let image = std::panic::catch_unwind(|| {
        let mut d = mozjpeg::Decompress::with_err(error_manager())
            .from_mem(bytes)
            .ok()?;
        d.scale(8 / denom);
        let mut s = d.rgb().ok()?;
        let (w, h) = (s.width(), s.height());
        let rgb: Vec<u8> = s.read_scanlines().ok()?;
        s.finish().ok()?;
        Some(Image { w, h, rgb })
    })
    .ok()
    .flatten()?;
    Some((image, WARNED.get()))
}

/// Our decode, through a buffer whose rows are not tightly packed.
pub fn ours(bytes: &[u8], denom: u8, threads: usize) -> Result<(Image, Info), Error> {
    let hdr = pixfront_jpegscale::header(bytes)?;
    let (w, h) = hdr.scaled_size(denom);
    let (w, h) = (w as usize, h as usize);
    let stride = 3 * w + 5;
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

/// Every JPEG under a folder, recursively, sorted.
pub fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
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

/// The shared test images, as pixfront's tests find them: `PIXFRONT_TESTDATA`, else the
/// `shared/testdata` folder beside the repository (read-only).
pub fn shared() -> PathBuf {
    std::env::var_os("PIXFRONT_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"))
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A deterministic picture with edges, gradients and noise, so that blocks have many AC
/// coefficients of every size.
pub fn picture(w: usize, h: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).max(1);
    let mut rng = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut px = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for i in 0..w {
            let noise = (rng() % 48) as i32 - 24;
            let edge = if (i / 7 + y / 5) % 3 == 0 { 90 } else { 0 };
            let r = (i * 255 / w.max(1)) as i32 + noise + edge;
            let g = (y * 255 / h.max(1)) as i32 - noise;
            let b = ((i ^ y) & 0xFF) as i32 + edge / 2;
            px.extend([r, g, b].map(|v| v.clamp(0, 255) as u8));
        }
    }
    px
}

/// Chroma samplings as mozjpeg's pixel sizes: (name, (w, h) of a chroma sample in pixels).
pub const SAMPLINGS: [(&str, (u8, u8)); 4] =
    [("444", (1, 1)), ("422", (2, 1)), ("420", (2, 2)), ("440", (1, 2))];

/// A baseline JPEG of `picture(w, h, seed)` made by libjpeg-turbo (through mozjpeg).
pub fn encode(w: usize, h: usize, seed: u32, chroma: (u8, u8), quality: f32, gray: bool) -> Vec<u8> {
    let px = picture(w, h, seed);
    std::panic::catch_unwind(|| {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults();
        c.set_size(w, h);
        c.set_quality(quality);
        if gray {
            c.set_color_space(mozjpeg::ColorSpace::JCS_GRAYSCALE);
        } else {
            c.set_chroma_sampling_pixel_sizes(chroma, chroma);
        }
        let mut s = c.start_compress(Vec::new()).unwrap();
        s.write_scanlines(&px).unwrap();
        s.finish().unwrap()
    })
    .expect("mozjpeg encodes")
}
