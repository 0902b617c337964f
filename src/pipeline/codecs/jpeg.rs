//! JPEG: header walk, decode through mozjpeg (libjpeg-turbo) with DCT-domain downscaling (baseline
//! files shrunk on load take `jpeg_scaled.rs` first), CMYK through its ICC profile (other
//! profiles are applied by the pipeline), and encode through mozjpeg with libjpeg-turbo's fast
//! settings.

use super::common::{be16, corrupt, encode_failed, exif_orientation, quality, rgb_over_black};
use super::common::{truncated, DecodeOptions, Decoded, HeaderInfo, Keep, ShrinkRule};
use crate::edits::{Format, FormatOptions};
use crate::error::Error;
use crate::pipeline::color_profile;
use crate::pipeline::picture::Picture;
use crate::pipeline::settings::FailOn;
use image::RgbImage;
use std::cell::Cell;

/// Walks JPEG marker segments up to the first SOFn.
pub(super) fn read_header(b: &[u8]) -> Option<HeaderInfo> {
    let mut i = 2;
    let mut orientation = 1;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while *b.get(i)? != 0xFF {
            i += 1;
        }
        while *b.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return None, // end of image or scan data before any frame header
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be16(b, i + 3)?;
                let width = be16(b, i + 5)?;
                return Some(HeaderInfo {
                    width,
                    height,
                    frames: 1,
                    orientation,
                });
            }
            0xE1 => {
                let len = be16(b, i)? as usize;
                if let Some(seg) = b.get(i + 2..i + len) {
                    if seg.starts_with(b"Exif\0\0") && orientation == 1 {
                        orientation = exif_orientation(seg);
                    }
                }
                i += len;
            }
            _ => i += be16(b, i)? as usize,
        }
    }
}

/// sharp's JPEG shrink-on-load factor (libjpeg decodes at 1/factor): the largest of 8, 4, 2
/// not above the shrink (with `fastShrinkOnLoad: false`, not above half of it), one step
/// lower when the shrink's integer part equals the factor, as sharp does for libjpeg's
/// rounding.
pub(super) fn sharp_factor(size: (u32, u32), rule: &ShrinkRule) -> u32 {
    let shrink = rule.shrink(size);
    let headroom = if rule.fast { 1.0 } else { 2.0 };
    let factor = [8u32, 4, 2]
        .into_iter()
        .find(|&f| shrink >= f as f64 * headroom)
        .unwrap_or(1);
    // sharp compares the shrink truncated to an integer.
    if factor > 1 && shrink.trunc() == factor as f64 {
        factor / 2
    } else {
        factor
    }
}

/// The size libvips loads a `w`×`h` JPEG at for a 1/`factor` scale: rounded down (libjpeg
/// rounds up; libvips drops the partial last column and row).
pub(super) fn loaded_size((w, h): (u32, u32), factor: u32) -> (u32, u32) {
    ((w / factor).max(1), (h / factor).max(1))
}

/// The factor pixfront decodes at: sharp's, unless the plan needs more pixels.
fn decode_factor(size: (u32, u32), rule: Option<&ShrinkRule>) -> u32 {
    let Some(rule) = rule else { return 1 };
    let mut factor = sharp_factor(size, rule);
    match rule.keep {
        Keep::SharpSize => {}
        Keep::Full => factor = 1,
        Keep::LongSide(min) => {
            while factor > 1 && {
                let (w, h) = loaded_size(size, factor);
                w.max(h) < min
            } {
                factor /= 2;
            }
        }
    }
    factor
}

thread_local! {
    /// The decode running on this thread: whether libjpeg warnings are fatal, and the first
    /// warning seen. libjpeg's callbacks get no user pointer the `mozjpeg` crate lets us set.
    static STRICT: Cell<bool> = const { Cell::new(true) };
    static WARNING: Cell<Option<i32>> = const { Cell::new(None) };
}

/// libjpeg's message hook: level -1 is a warning about the data (libjpeg then goes on,
/// filling what is missing with grey). mozjpeg silences them; sharp's default refuses them.
extern "C-unwind" fn on_message(cinfo: &mut mozjpeg_sys::jpeg_common_struct, level: std::os::raw::c_int) {
    use mozjpeg_sys::{JWRN_ADOBE_XFORM, JWRN_JFIF_MAJOR};
    if level >= 0 {
        return;
    }
    // SAFETY: libjpeg calls this with `err` pointing at the manager it was given.
    let code = unsafe { cinfo.err.as_ref() }.map_or(0, |e| e.msg_code);
    // Metadata oddities, not damage to the pixels.
    if code == JWRN_JFIF_MAJOR as i32 || code == JWRN_ADOBE_XFORM as i32 {
        return;
    }
    if WARNING.get().is_none() {
        WARNING.set(Some(code));
    }
    if STRICT.get() {
        // Unwinds like mozjpeg's own error exit; `decode` turns it into a 400.
        std::panic::resume_unwind(Box::new(Warning(code, message_text(cinfo, code))));
    }
}

/// libjpeg's fatal errors unwind (as in mozjpeg's own manager) with the message's text.
extern "C-unwind" fn on_error(cinfo: &mut mozjpeg_sys::jpeg_common_struct) {
    // SAFETY: as in `on_message`.
    let code = unsafe { cinfo.err.as_ref() }.map_or(0, |e| e.msg_code);
    std::panic::resume_unwind(Box::new(message_text(cinfo, code)));
}

/// The message's template from libjpeg's own table ("Premature end of JPEG file", …).
fn message_text(cinfo: &mozjpeg_sys::jpeg_common_struct, code: i32) -> String {
    // SAFETY: jpeg_std_error set the table to libjpeg's static array of `last_jpeg_message + 1`
    // NUL-terminated strings; the index is checked against it.
    unsafe {
        let Some(err) = cinfo.err.as_ref() else {
            return format!("libjpeg message {code}");
        };
        if code < 0 || code > err.last_jpeg_message || err.jpeg_message_table.is_null() {
            return format!("libjpeg message {code}");
        }
        let text = *err.jpeg_message_table.add(code as usize);
        if text.is_null() {
            return format!("libjpeg message {code}");
        }
        std::ffi::CStr::from_ptr(text.cast())
            .to_string_lossy()
            .into_owned()
    }
}

/// A libjpeg warning turned into an unwind under `FAIL_ON=warning`.
struct Warning(i32, String);

fn warning_error(w: &Warning) -> Error {
    if w.0 == mozjpeg_sys::JWRN_JPEG_EOF as i32 {
        truncated("JPEG data ends before the last scanline")
    } else {
        corrupt(&format!("JPEG: {}", w.1))
    }
}

fn error_manager() -> mozjpeg_sys::jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills every field of the zeroed struct; mozjpeg's builder then
    // installs its unwinding error_exit, and only the message hook is replaced here.
    unsafe {
        let mut err: mozjpeg_sys::jpeg_error_mgr = std::mem::zeroed();
        mozjpeg_sys::jpeg_std_error(&mut err);
        err.error_exit = Some(on_error);
        err.emit_message = Some(on_message);
        err
    }
}

pub(super) fn decode(bytes: &[u8], opts: DecodeOptions) -> Result<Decoded, Error> {
    use mozjpeg::{ColorSpace, Decompress, Marker};
    if let Some(info) = read_header(bytes) {
        let size = (info.width, info.height);
        let factor = decode_factor(size, opts.shrink.as_ref());
        if factor > 1 {
            if let Some(d) = super::jpeg_scaled::decode(bytes, factor, size, loaded_size(size, factor)) {
                return Ok(d);
            }
        }
    }
    STRICT.set(opts.fail_on == FailOn::Warning);
    WARNING.set(None);
    // mozjpeg reports libjpeg errors by unwinding: contain them and answer 400.
    let run = || -> std::io::Result<Decoded> {
        let mut d = Decompress::with_markers(&[Marker::APP(1), Marker::APP(2), Marker::APP(14)])
            .with_err(error_manager())
            .from_mem(bytes)?;
        let original_size = (d.width() as u32, d.height() as u32);
        let mut exif = None;
        let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
        let mut adobe = false;
        for m in d.markers() {
            match m.marker {
                Marker::APP(1) if m.data.starts_with(b"Exif\0\0") => {
                    exif.get_or_insert_with(|| m.data[6..].to_vec());
                }
                // ICC profiles are split over APP2 segments: "ICC_PROFILE\0", seq no, count.
                Marker::APP(2) if m.data.len() > 14 && m.data.starts_with(b"ICC_PROFILE\0") => {
                    icc_chunks.push((m.data[12], &m.data[14..]));
                }
                Marker::APP(14) if m.data.starts_with(b"Adobe") => adobe = true,
                _ => {}
            }
        }
        icc_chunks.sort_by_key(|c| c.0);
        let icc: Option<Vec<u8>> =
            (!icc_chunks.is_empty()).then(|| icc_chunks.iter().flat_map(|c| c.1).copied().collect());
        let factor = decode_factor(original_size, opts.shrink.as_ref());
        d.scale((8 / factor) as u8);
        let cmyk = matches!(d.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK);
        let (w, h, px) = if cmyk {
            let mut s = d.to_colorspace(ColorSpace::JCS_CMYK)?;
            let (w, h) = (s.width(), s.height());
            let mut px: Vec<u8> = s.read_scanlines()?;
            s.finish()?;
            // Photoshop (Adobe APP14) writes CMYK inverted (255 = no ink), as libvips assumes
            // for files with that marker; ICC profiles count ink from 0.
            if adobe {
                px.iter_mut().for_each(|v| *v = 255 - *v);
            }
            color_profile::cmyk_to_srgb(&mut px, icc.as_deref());
            let rgb = px.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            (w, h, rgb)
        } else {
            // JPEG is opaque: three channels from here to the encoder.
            let mut s = d.rgb()?;
            let (w, h) = (s.width(), s.height());
            let px: Vec<u8> = s.read_scanlines()?;
            s.finish()?;
            (w, h, px)
        };
        // libvips' size at this scale, so pixfront resamples exactly the pixels sharp does.
        let (lw, lh) = loaded_size(original_size, factor);
        let (lw, lh) = ((lw as usize).min(w), (lh as usize).min(h));
        let px = super::common::crop_top_left(px, 3, w, (lw, lh));
        let (w, h) = (lw, lh);
        let pixels = RgbImage::from_raw(w as u32, h as u32, px)
            .ok_or_else(|| std::io::Error::other("short pixel buffer"))?;
        let orientation = exif.as_deref().map_or(1, exif_orientation);
        Ok(Decoded {
            picture: Picture::still(pixels, false),
            icc: if cmyk { None } else { icc },
            exif,
            orientation,
            original_size,
            damaged: false,
        })
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(d)) => Ok(Decoded {
            damaged: WARNING.get().is_some(),
            ..d
        }),
        Ok(Err(e)) => Err(corrupt(&format!("JPEG: {e}"))),
        Err(panic) if panic.is::<Warning>() => match panic.downcast_ref::<Warning>() {
            Some(w) => Err(warning_error(w)),
            None => Err(corrupt("JPEG")),
        },
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("decoder error");
            Err(corrupt(&format!("JPEG: {msg}")))
        }
    }
}

pub(super) fn encode(picture: &Picture, opts: &FormatOptions, exif: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    use mozjpeg::{ColorSpace, Compress, Marker};
    let px = &picture.frames[0].pixels;
    let (w, h) = (px.width() as usize, px.height() as usize);
    // JPEG has no alpha: translucent pixels are flattened over black, as libvips does.
    let rgb = rgb_over_black(px);
    let q = quality(opts, 80);
    let progressive = opts.progressive.unwrap_or(false);
    let subsample = opts.chroma_subsampling.as_deref() != Some("4:4:4");
    let run = || -> std::io::Result<Vec<u8>> {
        let mut c = Compress::new(ColorSpace::JCS_RGB);
        // libjpeg-turbo's settings (no trellis quantisation, no scan search): mozjpeg's defaults
        // are several times slower for a few percent in size. Huffman tables are still optimised.
        c.set_fastest_defaults();
        c.set_size(w, h);
        c.set_quality(q as f32);
        c.set_optimize_coding(true);
        if progressive {
            c.set_progressive_mode();
        }
        let s = if subsample { (2, 2) } else { (1, 1) };
        c.set_chroma_sampling_pixel_sizes(s, s);
        let mut started = c.start_compress(Vec::with_capacity(w * h / 4))?;
        if let Some(exif) = exif {
            started.write_marker(Marker::APP(1), &[&b"Exif\0\0"[..], exif].concat());
        }
        started.write_scanlines(&rgb)?;
        started.finish()
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(encode_failed(Format::Jpeg, e)),
        Err(_) => Err(encode_failed(Format::Jpeg, "libjpeg error")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_header_with_fill_bytes_and_app_segments() {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xFF];
        b.extend_from_slice(&[0xC2, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x02, 0x58, 0x03]);
        assert_eq!(
            read_header(&b),
            Some(HeaderInfo {
                width: 600,
                height: 300,
                frames: 1,
                orientation: 1
            })
        );
        assert_eq!(read_header(&b[..12]), None);
    }

    fn rule(width: Option<u32>, height: Option<u32>, fast: bool) -> ShrinkRule {
        ShrinkRule {
            width,
            height,
            fit: crate::edits::Fit::Cover,
            limits: Default::default(),
            fast,
            keep: Keep::SharpSize,
        }
    }

    #[test]
    fn jpeg_factor_is_sharps() {
        let big = (6028, 3391);
        // 6028 / 800 = 7.5: 4 (fast), 2 with a factor of two kept.
        assert_eq!(sharp_factor(big, &rule(Some(800), None, true)), 4);
        assert_eq!(sharp_factor(big, &rule(Some(800), None, false)), 2);
        // 6028 / 200 = 30.1: 8; 16 or more keeps 8 in both modes.
        assert_eq!(sharp_factor(big, &rule(Some(200), None, true)), 8);
        assert_eq!(sharp_factor(big, &rule(Some(200), None, false)), 8);
        // floor(shrink) == factor steps down: 6028 / 1507 = 4.0 → 2, 6028 / 1400 = 4.3 → 2.
        assert_eq!(sharp_factor(big, &rule(Some(1507), None, true)), 2);
        assert_eq!(sharp_factor(big, &rule(Some(1400), None, true)), 2);
        assert_eq!(sharp_factor(big, &rule(Some(1200), None, true)), 4); // 5.02
        assert_eq!(sharp_factor(big, &rule(Some(4000), None, true)), 1);
        assert_eq!(loaded_size(big, 8), (753, 423));
        assert_eq!(
            super::super::common::crop_top_left(vec![1; 3 * 2 * 4], 4, 3, (2, 1)),
            vec![1; 8]
        );
        let mut faces = rule(Some(100), None, true);
        faces.keep = Keep::LongSide(1000);
        assert_eq!(decode_factor(big, Some(&faces)), 4);
        faces.keep = Keep::Full;
        assert_eq!(decode_factor(big, Some(&faces)), 1);
    }
}
