//! The fast path for JPEGs shrunk on load by 2, 4 or 8: `crates/jpegscale` decodes baseline
//! files at the reduced scale (bit-exact with libjpeg-turbo's scaled decode), keeping only the
//! coefficients that scale needs, and splits one image over the cores idle at that moment.
//! Whatever it does not handle (progressive, CMYK, 12-bit…) or finds damaged goes back to
//! libjpeg-turbo in `jpeg.rs`, which then gives its own answer (`FAIL_ON`, warnings).

use super::common::{exif_orientation, Decoded};
use crate::pipeline::picture::Picture;
use image::RgbImage;
use pixfront_jpegscale::{decode_scaled, Options};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Fast-path decodes running now, in every request: the threads one image may take follow it.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Counts a decode as running for as long as it lives.
struct Running;

impl Running {
    /// Starts one; returns the threads it may use: the cores shared by the decodes running,
    /// so a loaded server decodes each image on one thread (no CPU spent on splitting).
    fn start() -> (Running, usize) {
        let running = ACTIVE.fetch_add(1, Ordering::Relaxed) + 1;
        (Running, (cores() / running).max(1))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Decodes `bytes` at 1/`factor` to libvips' size `loaded` (the floor of libjpeg's rounded-up
/// size), or `None` when libjpeg-turbo must decode it.
pub(super) fn decode(
    bytes: &[u8],
    factor: u32,
    original_size: (u32, u32),
    loaded: (u32, u32),
) -> Option<Decoded> {
    let header = pixfront_jpegscale::probe(bytes)?;
    if (header.width, header.height) != original_size {
        return None;
    }
    let (running, threads) = Running::start();
    // Where it pays (docs/performance.md, issue 21: crates/jpegscale's bench on the 20 MP photo,
    // one thread; instructions per decode by cachegrind, CPU ms): 1/4 503 M against
    // libjpeg-turbo's 567 M, 40 ms against 52 (and less CPU for every sampling re-encoded from
    // it); 1/8 404 M against 337 M but 33 ms against 42. Both always, split over the idle cores
    // when there are some. Those 1/4 figures come from its SSE2 kernels: elsewhere (arm64) it
    // runs its portable code, which on x86-64 lost to libjpeg-turbo's SIMD on one thread (631 M
    // against 567 M; not measured on arm64), so there 1/4 needs an idle core as before. 1/2 stays
    // with libjpeg-turbo: 672 M against 647 M, and 4:2:0 (its 8×8 chroma IDCT not vectorised)
    // 61 CPU ms against 43.
    let simd = cfg!(target_arch = "x86_64");
    if !(factor == 8 || (factor == 4 && (simd || threads > 1))) {
        return None;
    }
    let (full_w, full_h) = (
        original_size.0.div_ceil(factor) as usize,
        original_size.1.div_ceil(factor) as usize,
    );
    let mut rgb = vec![0u8; full_w * full_h * 3];
    let opts = Options {
        denom: factor as u8,
        threads,
        // MAX_INPUT_PIXELS was checked on this very header before decoding.
        max_pixels: u64::MAX,
    };
    let info = decode_scaled(bytes, &opts, &mut rgb, full_w * 3).ok()?;
    drop(running);
    if (info.width as usize, info.height as usize) != (full_w, full_h) {
        return None;
    }
    let (w, h) = (loaded.0 as usize, loaded.1 as usize);
    let rgb = super::common::crop_top_left(rgb, 3, full_w, (w, h));
    let pixels = RgbImage::from_raw(w as u32, h as u32, rgb)?;
    let (exif, icc) = metadata(bytes);
    let orientation = exif.as_deref().map_or(1, exif_orientation);
    Some(Decoded {
        picture: Picture::still(pixels, false),
        icc,
        exif,
        orientation,
        original_size,
        damaged: false,
    })
}

/// The EXIF block (first APP1 "Exif") and the ICC profile (APP2 "ICC_PROFILE" chunks in order),
/// from the segments before the scan.
fn metadata(b: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let mut exif = None;
    let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            break;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let Some(seg) = b.get(i + 4..i + 2 + len) else {
            break;
        };
        match marker {
            0xE1 if exif.is_none() && seg.starts_with(b"Exif\0\0") => exif = Some(seg[6..].to_vec()),
            0xE2 if seg.len() > 14 && seg.starts_with(b"ICC_PROFILE\0") => {
                icc_chunks.push((seg[12], &seg[14..]))
            }
            _ => {}
        }
        i += 2 + len;
    }
    icc_chunks.sort_by_key(|c| c.0);
    let icc = (!icc_chunks.is_empty()).then(|| icc_chunks.iter().flat_map(|c| c.1).copied().collect());
    (exif, icc)
}
