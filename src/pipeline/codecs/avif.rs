//! AVIF output through ravif (rav1e), with sharp's meaning of `quality` (AVIF originals are
//! decoded in [`super::heif`]). HEIF output is the same file: sharp's `heif` defaults to
//! `compression: 'av1'`, for which libheif writes an AV1 HEIF, i.e. an AVIF (brand `avif`,
//! compatible `mif1`, `miaf`); HEVC (`compression: 'hevc'`) is refused: its encoders are
//! patent-encumbered and none is permissively licensed.

use super::common::{encode_failed, packed, quality, Packed};
use crate::edits::{Format, FormatOptions};
use crate::error::Error;
use crate::pipeline::picture::Picture;

pub(super) fn encode(picture: &Picture, opts: &FormatOptions) -> Result<Vec<u8>, Error> {
    use ravif::{Img, RGB8, RGBA8};
    let px = &picture.frames[0].pixels;
    let (w, h) = (px.width() as usize, px.height() as usize);
    // sharp's effort 0 (fastest) – 9 (slowest), default 4; rav1e's speed is 10 (fastest) – 1.
    let effort = opts.effort.unwrap_or(4).min(9);
    // sharp's `bitdepth` (8 by default; 10 and 12 give rav1e's 10 bits). ravif would pick 10
    // bits by itself, which is slower to encode and which 8-bit-only AV1 decoders (libvips'
    // prebuilt aom among them) refuse.
    let ten_bits = opts
        .other
        .get("bitdepth")
        .and_then(|d| d.as_u64())
        .is_some_and(|d| d >= 10);
    let encoder = ravif::Encoder::new()
        .with_bit_depth(if ten_bits {
            ravif::BitDepth::Ten
        } else {
            ravif::BitDepth::Eight
        })
        .with_quality(ravif_quality(quality(opts, 50)))
        .with_alpha_quality(ravif_quality(quality(opts, 50)))
        .with_speed(10 - effort.min(9))
        .with_num_threads(None);
    let encoded = match packed(px) {
        Packed::Rgb(rgb) => {
            let rgb: Vec<RGB8> = rgb.chunks_exact(3).map(|p| RGB8::new(p[0], p[1], p[2])).collect();
            encoder.encode_rgb(Img::new(rgb.as_slice(), w, h))
        }
        Packed::Rgba(rgba) => {
            let rgba: Vec<RGBA8> = rgba
                .chunks_exact(4)
                .map(|p| RGBA8::new(p[0], p[1], p[2], p[3]))
                .collect();
            encoder.encode_rgba(Img::new(rgba.as_slice(), w, h))
        }
    };
    encoded
        .map(|e| e.avif_file)
        .map_err(|e| encode_failed(Format::Avif, e))
}

/// sharp's `heif({compression})`: `av1` (the default) is written as AVIF; `hevc` is refused.
pub(super) fn encode_heif(picture: &Picture, opts: &FormatOptions) -> Result<Vec<u8>, Error> {
    match opts.other.get("compression") {
        None | Some(serde_json::Value::Null) => {}
        Some(c) if c.as_str().is_some_and(|c| c.eq_ignore_ascii_case("av1")) => {}
        Some(c) if c.as_str().is_some_and(|c| c.eq_ignore_ascii_case("hevc")) => {
            return Err(Error::bad_request(
                "UnsupportedOutputImageFormatException",
                "Format to heif with compression hevc not supported (HEVC is patent-encumbered); \
                 use compression av1 (the default)",
            ))
        }
        Some(c) => return Err(Error::invalid_edit("heif", format!("unknown compression {c}"))),
    }
    encode(picture, opts)
}

/// The ravif quality whose AV1 quantizer (base_q_idx) is the one libheif gives libaom for
/// sharp's `quality`, so a quality means the same size and fidelity as in sharp/SIH. ravif's own
/// scale is coarser: its 50 is index 159, sharp's 50 is index 128.
fn ravif_quality(sharp_quality: u8) -> f32 {
    // libheif: cq-level = ((100 - q) × 63 + 50) / 100, in aom's 0–63 quantizer scale; aom's
    // quantizer_to_qindex table is 4 × q up to 60, then 244, 249, 255.
    let cq = ((100 - sharp_quality.min(100) as u32) * 63 + 50) / 100;
    let qindex = match cq {
        0..=60 => cq * 4,
        61 => 244,
        62 => 249,
        _ => 255,
    };
    // Inverse of ravif's quality_to_quantizer (piecewise linear in q = quality / 100).
    let x = qindex as f32 / 255.0;
    let q = if x <= 0.18 * 2.6 {
        1.0 - x / 2.6
    } else if x < 0.75 {
        (0.875 - x) * 2.0
    } else {
        1.0 - x
    };
    (q * 100.0).clamp(1.0, 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avif_quality_means_what_it_means_in_sharp() {
        // libheif gives aom quantizer index 128 for quality 50; ravif's 74.6 is index 128.
        assert!((ravif_quality(50) - 74.6).abs() < 0.1);
        assert_eq!(ravif_quality(100), 100.0);
        assert!(ravif_quality(1) < ravif_quality(30) && ravif_quality(30) < ravif_quality(80));
    }
}
