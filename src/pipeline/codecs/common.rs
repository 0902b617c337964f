//! What the codecs share: the header, decode and encode records the pipeline sees, the error
//! constructors, the `image`-crate decoder path (PNG, TIFF), alpha helpers and byte readers for
//! the header walks.

use crate::edits::{Fit, Format, FormatOptions, Quality};
use crate::error::Error;
use crate::pipeline::ops::geometry;
use crate::pipeline::picture::{Frame, Picture, Pixels};
use crate::pipeline::settings::FailOn;
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
    /// The first resize, when sharp would shrink on load for it: decoders that can shrink
    /// (JPEG, WebP, SVG) pick sharp's factor from it and report the size sharp loads.
    pub shrink: Option<ShrinkRule>,
    /// How much damage the decoder may tolerate (`FAIL_ON`).
    pub fail_on: FailOn,
}

/// The first resize as sharp's loaders see it, in the file's stored orientation (targets
/// already swapped for an EXIF orientation that turns the picture by 90°).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShrinkRule {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub limits: geometry::Limits,
    /// sharp's `fastShrinkOnLoad` (default true).
    pub fast: bool,
    /// What pixfront itself may decode at.
    pub keep: Keep,
}

/// How far pixfront's decode may follow sharp's shrink-on-load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Decode at sharp's size.
    SharpSize,
    /// Shrink no further than a longest side of this many pixels (face detection's proxy).
    LongSide(u32),
    /// Decode at full size: an edit before the resize needs every pixel (a blur, an overlay),
    /// though sharp, which runs those after its resize, still shrinks on load.
    Full,
}

impl ShrinkRule {
    /// sharp's common shrink of a `w`×`h` original: the part both axes must be reduced by.
    pub fn shrink(&self, (w, h): (u32, u32)) -> f64 {
        let (hs, vs) = geometry::resolve_shrink(w, h, self.width, self.height, self.fit, self.limits);
        hs.min(vs)
    }
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
    /// The decoder reported damage it got past (only when `FAIL_ON` allows it): the answer
    /// must not be cached for long.
    pub damaged: bool,
}

/// An animated original read one composed frame (full canvas, 8-bit RGBA) at a time, so a
/// render holds a frame or two of the original, never the whole animation.
pub struct Animation<'a> {
    /// Canvas size (stored orientation).
    pub size: (u32, u32),
    /// Number of plays (0 = forever, as WebP counts).
    pub loop_count: u16,
    pub icc: Option<Vec<u8>>,
    pub exif: Option<Vec<u8>>,
    pub orientation: u8,
    /// The container walk already saw damage (e.g. a GIF without its trailer).
    pub damaged: bool,
    pub frames: Box<dyn Iterator<Item = Result<Frame, Error>> + 'a>,
}

/// Frames of `animation` until its end, or until a damaged frame: that is an error, unless
/// `FAIL_ON=none` and a frame came before it, and then the end (`damaged` is set).
pub struct Frames<'a> {
    inner: Box<dyn Iterator<Item = Result<Frame, Error>> + 'a>,
    fail_on: FailOn,
    seen: bool,
    pub damaged: bool,
}

impl<'a> Frames<'a> {
    pub fn new(inner: Box<dyn Iterator<Item = Result<Frame, Error>> + 'a>, fail_on: FailOn) -> Frames<'a> {
        Frames {
            inner,
            fail_on,
            seen: false,
            damaged: false,
        }
    }
}

impl Iterator for Frames<'_> {
    type Item = Result<Frame, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.damaged {
            return None;
        }
        match self.inner.next()? {
            Ok(frame) => {
                self.seen = true;
                Some(Ok(frame))
            }
            Err(_) if self.seen && self.fail_on == FailOn::None => {
                self.damaged = true;
                None
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl Animation<'_> {
    /// Every frame (or only the first) in memory, for the paths that need them all at once.
    pub fn collect(self, all: bool, fail_on: FailOn) -> Result<Decoded, Error> {
        let mut frames = Frames::new(self.frames, fail_on);
        let mut kept = Vec::new();
        for frame in frames.by_ref() {
            kept.push(frame?);
            if !all {
                break;
            }
        }
        if kept.is_empty() {
            return Err(corrupt("animation without frames"));
        }
        Ok(Decoded {
            picture: Picture {
                frames: kept,
                loop_count: self.loop_count,
                has_alpha: true,
            },
            icc: self.icc,
            exif: self.exif,
            orientation: self.orientation,
            original_size: self.size,
            damaged: self.damaged || frames.damaged,
        })
    }
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
    /// The original's ICC profile, kept with `KEEP_ICC=Yes` for a format that can carry it
    /// ([`super::icc::carries`]); the pixels are then still in its colour space.
    pub icc: Option<Vec<u8>>,
}

pub fn corrupt(what: &str) -> Error {
    Error::bad_request("CorruptImage", format!("The image could not be decoded: {what}."))
}

/// The original ends early (a decoder warning under `FAIL_ON=warning`).
pub fn truncated(what: &str) -> Error {
    Error::bad_request(
        "TruncatedImage",
        format!("The image is truncated: {what}. FAIL_ON=error or none renders what is there."),
    )
}

pub(super) fn encode_failed(format: Format, why: impl std::fmt::Display) -> Error {
    Error::new(
        500,
        "EncodeError",
        format!("Encoding {} failed: {why}", format.name()),
    )
}

pub(super) fn image_err(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Unsupported(u) => {
            Error::bad_request("UnsupportedInputFormat", format!("Unsupported image: {u}."))
        }
        image::ImageError::Limits(l) => Error::bad_request("ImageTooLarge", l.to_string()),
        image::ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            truncated("the data ends early")
        }
        other => corrupt(&other.to_string()),
    }
}

/// Decoders from `image` (PNG, TIFF): any bit depth and colour type → RGB8, or RGBA8 when the
/// original has alpha.
pub(super) fn with_image<D: ImageDecoder>(decoder: image::ImageResult<D>) -> Result<Decoded, Error> {
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
    let picture = match has_alpha {
        true => Picture::still(img.into_rgba8(), true),
        false => Picture::still(img.into_rgb8(), false),
    };
    Ok(Decoded {
        picture,
        icc,
        exif,
        orientation,
        original_size,
        damaged: false,
    })
}

/// EXIF orientation from an EXIF block (with or without the `Exif\0\0` prefix); 1 if absent.
pub(super) fn exif_orientation(exif: &[u8]) -> u8 {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    image::metadata::Orientation::from_exif_chunk(tiff).map_or(1, |o| o.to_exif())
}

/// A frame's bytes as encoders take them.
pub(super) enum Packed<'a> {
    /// Opaque: an RGB frame as it is, or an RGBA one whose every alpha is 255, packed.
    Rgb(std::borrow::Cow<'a, [u8]>),
    /// Some pixel is not opaque.
    Rgba(&'a [u8]),
}

/// The frame as packed RGB when it is opaque, so encoders write no alpha channel then.
pub(super) fn packed(px: &Pixels) -> Packed<'_> {
    match px {
        Pixels::Rgb(p) => Packed::Rgb(std::borrow::Cow::Borrowed(p.as_raw())),
        Pixels::Rgba(p) if is_opaque(p.as_raw()) => Packed::Rgb(flatten_rgb(p.as_raw()).into()),
        Pixels::Rgba(p) => Packed::Rgba(p.as_raw()),
    }
}

pub(super) fn is_opaque(rgba: &[u8]) -> bool {
    rgba.chunks_exact(4).all(|p| p[3] == 255)
}

/// The frame as RGB, translucent pixels composited over black: what JPEG stores, and what a
/// viewer sees of them (the quality search scores this).
pub fn rgb_over_black(px: &Pixels) -> std::borrow::Cow<'_, [u8]> {
    match packed(px) {
        Packed::Rgb(rgb) => rgb,
        Packed::Rgba(rgba) => flatten_rgb(rgba).into(),
    }
}

/// RGBA → RGB, compositing translucent pixels over black as libvips does when saving to a
/// format without alpha.
pub(super) fn flatten_rgb(rgba: &[u8]) -> Vec<u8> {
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

/// The fixed quality asked for, else `default`. `auto` is resolved to a number before encoding
/// (`pipeline::quality`); one left here means no search ran and gets the default.
pub(super) fn quality(opts: &FormatOptions, default: u8) -> u8 {
    match opts.quality {
        Some(Quality::Fixed(q)) => q.clamp(1, 100),
        _ => default,
    }
}

// Fixed-width integers at a byte offset, `None` past the end: the header walkers' reads.

pub(super) fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

pub(super) fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

pub(super) fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}

pub(super) fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(super) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Keeps the top-left `w`×`h` of a `stride_px`-wide buffer of `n`-byte pixels, in place.
pub(super) fn crop_top_left(mut px: Vec<u8>, n: usize, stride_px: usize, (w, h): (usize, usize)) -> Vec<u8> {
    if stride_px != w {
        for y in 1..h {
            px.copy_within(y * stride_px * n..(y * stride_px + w) * n, y * w * n);
        }
    }
    px.truncate(w * h * n);
    px
}
