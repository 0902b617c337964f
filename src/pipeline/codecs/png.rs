//! PNG: IHDR read by hand, decode through `image` (any bit depth), encode through the `png`
//! crate (RGB when opaque, a NeuQuant palette when `palette`/`quality` is asked).
//!
//! Colour, in the PNG 3rd edition's order of precedence: `cICP` (as an ICC profile from
//! `color_profile::cicp_profile`), else `iCCP`, else none: an `sRGB` chunk needs nothing, and
//! `gAMA`/`cHRM` are ignored, as libvips (sharp) ignores them.

use super::common::{be32, encode_failed, packed, truncated, with_image, Decoded, HeaderInfo, Packed};
use crate::edits::{Format, FormatOptions};
use crate::error::Error;
use crate::pipeline::picture::Picture;
use crate::pipeline::settings::FailOn;
use std::io::Cursor;

pub(super) fn read_header(b: &[u8]) -> Option<HeaderInfo> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some(HeaderInfo {
        width: be32(b, 16)?,
        height: be32(b, 20)?,
        frames: 1,
        orientation: 1,
    })
}

/// A file cut after its pixel data still decodes; without its IEND chunk it is truncated all
/// the same (refused under `FAIL_ON=warning`, else marked damaged). A cut inside the pixel data
/// is an error in every mode: the `png` crate returns no partial image.
pub(super) fn decode(bytes: &[u8], fail_on: FailOn) -> Result<Decoded, Error> {
    let whole = bytes.windows(4).rev().any(|w| w == b"IEND");
    if !whole && fail_on == FailOn::Warning {
        return Err(truncated("PNG data ends before its IEND chunk"));
    }
    let decoded = with_image(image::codecs::png::PngDecoder::new(Cursor::new(bytes)))?;
    let icc = match cicp(bytes) {
        Some([primaries, transfer, _, full]) => {
            crate::pipeline::color_profile::cicp_profile(primaries.into(), transfer.into(), full != 0)
        }
        None => decoded.icc,
    };
    Ok(Decoded {
        damaged: !whole,
        icc,
        ..decoded
    })
}

/// The `cICP` chunk's four bytes (primaries, transfer, matrix, full range), if one comes
/// before the image data, where it must be.
fn cicp(b: &[u8]) -> Option<[u8; 4]> {
    let mut at = 8;
    loop {
        let len = be32(b, at)? as usize;
        match b.get(at + 4..at + 8)? {
            b"IDAT" => return None,
            b"cICP" if len == 4 => return b.get(at + 8..at + 12)?.try_into().ok(),
            _ => at = at.checked_add(len)?.checked_add(12)?,
        }
    }
}

pub(super) fn encode(picture: &Picture, opts: &FormatOptions, exif: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let px = &picture.frames[0].pixels;
    let (w, h) = px.dimensions();
    let rgb = match packed(px) {
        Packed::Rgb(rgb) => Some(rgb),
        Packed::Rgba(_) => None,
    };
    let rgba = px.to_rgba();
    let rgba = rgba.as_raw();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(match opts.compression_level.unwrap_or(6) {
        0..=2 => png::Compression::Fast,
        3..=6 => png::Compression::Default,
        _ => png::Compression::Best,
    });
    let palette =
        opts.palette.unwrap_or(false) || matches!(opts.quality, Some(crate::edits::Quality::Fixed(_)));
    let data: Vec<u8> = if palette {
        // NeuQuant (color_quant, MIT): libimagequant, which sharp uses, is GPL.
        let quant = color_quant::NeuQuant::new(10, 256, rgba);
        let map = quant.color_map_rgba();
        let colors = map.len() / 4;
        let mut plte = Vec::with_capacity(colors * 3);
        let mut trns = Vec::with_capacity(colors);
        for c in map.chunks_exact(4) {
            plte.extend_from_slice(&c[..3]);
            trns.push(c[3]);
        }
        enc.set_color(png::ColorType::Indexed);
        enc.set_palette(plte);
        if trns.iter().any(|&a| a != 255) {
            enc.set_trns(trns);
        }
        rgba.chunks_exact(4).map(|p| quant.index_of(p) as u8).collect()
    } else if let Some(rgb) = rgb {
        enc.set_color(png::ColorType::Rgb);
        rgb.into_owned()
    } else {
        enc.set_color(png::ColorType::Rgba);
        rgba.clone()
    };
    let mut writer = enc.write_header().map_err(|e| encode_failed(Format::Png, e))?;
    if let Some(exif) = exif {
        writer
            .write_chunk(png::chunk::eXIf, exif)
            .map_err(|e| encode_failed(Format::Png, e))?;
    }
    writer
        .write_image_data(&data)
        .map_err(|e| encode_failed(Format::Png, e))?;
    writer.finish().map_err(|e| encode_failed(Format::Png, e))?;
    Ok(out)
}
