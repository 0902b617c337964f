//! One file per format, each with its header walk (size, frames, orientation, read before any
//! pixel is decoded), its decoder (bytes → [`Picture`], 8-bit RGBA, plus the ICC profile and EXIF
//! later steps need) and its encoder ([`Picture`] → bytes, with sharp's defaults: JPEG q80 4:2:0,
//! WebP q80 effort 4, AVIF q50, PNG level 6, palette PNG when `quality`/`palette` is asked).
//!
//! The pipeline calls only [`read_header`], [`decode`] and [`encode`], which pick the codec.
//! JPEG goes through mozjpeg (libjpeg-turbo) with DCT-domain downscaling, WebP through libwebp
//! with its built-in downscaler (both are libvips' "shrink-on-load"), PNG, GIF and TIFF through
//! `image`, SVG through resvg.
//!
//! The headers are read by hand because a decoder's constructor may already allocate or scan
//! the whole file; the walkers only read the few bytes that hold the dimensions (and, for
//! GIF/WebP, skip over frame data to count frames), so a 50 000 × 50 000 "bomb" is refused
//! in microseconds without allocating its bitmap.

pub mod avif;
pub mod gif;
pub mod jpeg;
pub mod png;
pub mod svg;
pub mod tiff;
pub mod webp;

use super::picture::Picture;
use super::sniff::InputFormat;
use crate::edits::{Format, FormatOptions};
use crate::error::Error;
use crate::pipeline::settings::PipelineSettings;
use image::{DynamicImage, ImageDecoder};

/// What the header says about the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Canvas size as stored (before EXIF orientation).
    pub width: u32,
    pub height: u32,
    /// Number of frames (1 for stills).
    pub frames: u32,
    /// EXIF orientation 1–8 where the header walk saw it (JPEG, WebP); 1 otherwise.
    pub orientation: u8,
}

/// What the plan wants from the decoder.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeOptions {
    /// Decode every frame of an animation (otherwise only the first).
    pub animated: bool,
    /// The size (in the file's stored orientation) the first resize will produce. Decoders that
    /// can shrink while decoding keep at least twice this size, so the final Lanczos step still
    /// has enough pixels to give full quality.
    pub target: Option<(u32, u32)>,
}

/// A decoded original.
#[derive(Debug)]
pub struct Decoded {
    pub picture: Picture,
    /// Embedded ICC profile, if any (already applied for CMYK JPEGs: not returned for them).
    pub icc: Option<Vec<u8>>,
    /// Raw EXIF (TIFF structure, without JPEG's `Exif\0\0` prefix).
    pub exif: Option<Vec<u8>>,
    /// EXIF orientation 1–8 (1 when absent).
    pub orientation: u8,
    /// Size of the original before any shrink-on-load (stored orientation).
    pub original_size: (u32, u32),
}

/// Encoder settings gathered from the request and the config.
#[derive(Debug, Clone, Default)]
pub struct EncodeOptions {
    /// The format-options edit for the output format (`jpeg: {quality: 70}` …).
    pub options: FormatOptions,
    /// WebP effort from a Default request's top-level `effort`.
    pub effort: Option<u8>,
    /// EXIF to write (TIFF structure, orientation already reset to 1): only with
    /// `KEEP_METADATA=Yes`, and only into JPEG, PNG and WebP.
    pub exif: Option<Vec<u8>>,
}

pub fn corrupt(what: &str) -> Error {
    Error::bad_request("CorruptImage", format!("The image could not be decoded: {what}."))
}

pub fn unsupported(format: &str) -> Error {
    Error::bad_request(
        "UnsupportedInputFormat",
        format!("{format} originals cannot be decoded by this server."),
    )
}

/// Unsupported output formats answer 400 with SIH's code (SIH itself answers 500).
pub fn unsupported_output(format: Format) -> Error {
    Error::bad_request(
        "UnsupportedOutputImageFormatException",
        format!("Format to {} not supported", format.name()),
    )
}

fn encode_failed(format: Format, why: impl std::fmt::Display) -> Error {
    Error::new(
        500,
        "EncodeError",
        format!("Encoding {} failed: {why}", format.name()),
    )
}

/// Reads the header of a raster original. SVG has no binary header: its size is checked after
/// parsing (see `svg::decode`), AVIF is refused before this is called.
pub fn read_header(bytes: &[u8], format: InputFormat) -> Result<HeaderInfo, Error> {
    let info = match format {
        InputFormat::Jpeg => jpeg::read_header(bytes),
        InputFormat::Png => png::read_header(bytes),
        InputFormat::Gif => gif::read_header(bytes),
        InputFormat::Webp => webp::read_header(bytes),
        InputFormat::Tiff => tiff::read_header(bytes),
        InputFormat::Avif | InputFormat::Svg => None,
    };
    let info = info.ok_or_else(|| corrupt("unreadable header"))?;
    if info.width == 0 || info.height == 0 {
        return Err(corrupt("zero width or height"));
    }
    Ok(info)
}

pub fn decode(
    bytes: &[u8],
    format: InputFormat,
    opts: DecodeOptions,
    config: &PipelineSettings,
) -> Result<Decoded, Error> {
    match format {
        InputFormat::Jpeg => jpeg::decode(bytes, opts),
        InputFormat::Webp => webp::decode(bytes, opts),
        InputFormat::Png => png::decode(bytes),
        InputFormat::Tiff => tiff::decode(bytes),
        InputFormat::Gif => gif::decode(bytes, opts),
        InputFormat::Svg => svg::decode(bytes, config),
        InputFormat::Avif => Err(unsupported("AVIF")),
    }
}

/// Encodes `picture` as `format`. Animated pictures keep their frames in GIF and WebP; other
/// formats get the first frame.
pub fn encode(picture: &Picture, format: Format, settings: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let opts = &settings.options;
    let exif = settings.exif.as_deref();
    match format {
        Format::Jpeg => jpeg::encode(picture, opts, exif),
        Format::Png => png::encode(picture, opts, exif),
        Format::Webp => webp::encode(picture, opts, settings.effort, exif),
        Format::Avif => avif::encode(picture, opts),
        Format::Gif => gif::encode(picture),
        Format::Tiff => tiff::encode(picture),
        Format::Raw => Ok(picture.frames[0].pixels.as_raw().clone()),
        Format::Heif => Err(unsupported_output(format)),
    }
}

fn image_err(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Unsupported(u) => {
            Error::bad_request("UnsupportedInputFormat", format!("Unsupported image: {u}."))
        }
        image::ImageError::Limits(l) => Error::bad_request("ImageTooLarge", l.to_string()),
        other => corrupt(&other.to_string()),
    }
}

/// Decoders from `image` (PNG, TIFF): any bit depth and colour type → RGBA8.
fn with_image<D: ImageDecoder>(decoder: image::ImageResult<D>) -> Result<Decoded, Error> {
    let mut decoder = decoder.map_err(image_err)?;
    // Our own limits were checked from the header; image's default allocation cap (512 MiB)
    // would refuse legitimate 16-bit originals under MAX_INPUT_PIXELS.
    decoder
        .set_limits(image::Limits::no_limits())
        .map_err(image_err)?;
    let original_size = decoder.dimensions();
    let icc = decoder.icc_profile().ok().flatten();
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = decoder.orientation().map_or(1, |o| o.to_exif());
    let img = DynamicImage::from_decoder(decoder).map_err(image_err)?;
    let has_alpha = img.color().has_alpha();
    Ok(Decoded {
        picture: Picture::still(img.into_rgba8(), has_alpha),
        icc,
        exif,
        orientation,
        original_size,
    })
}

/// EXIF orientation from an EXIF block (with or without the `Exif\0\0` prefix); 1 if absent.
fn exif_orientation(exif: &[u8]) -> u8 {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    image::metadata::Orientation::from_exif_chunk(tiff).map_or(1, |o| o.to_exif())
}

fn is_opaque(rgba: &[u8]) -> bool {
    rgba.chunks_exact(4).all(|p| p[3] == 255)
}

/// RGBA → RGB, compositing translucent pixels over black as libvips does when saving to a
/// format without alpha.
fn flatten_rgb(rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rgba.len() / 4 * 3);
    for p in rgba.chunks_exact(4) {
        let a = p[3] as u32;
        if a == 255 {
            out.extend_from_slice(&p[..3]);
        } else {
            out.extend(p[..3].iter().map(|&c| ((c as u32 * a + 127) / 255) as u8));
        }
    }
    out
}

fn quality(opts: &FormatOptions, default: u8) -> u8 {
    opts.quality.unwrap_or(default).clamp(1, 100)
}

// Fixed-width integers at a byte offset, `None` past the end: the header walkers' reads.

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
