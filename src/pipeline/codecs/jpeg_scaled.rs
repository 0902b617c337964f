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
    // Where it pays (crates/jpegscale's bench on the 20 MP photo, CPU ms on one thread:
    // 1/8 37 against libjpeg-turbo's 44; 1/4 74 against 60; 1/2 137 against 68): 1/8 always,
    // 1/4 only with an idle core to split the image over (lower latency for more CPU).
    if !(factor == 8 || (factor == 4 && threads > 1)) {
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
