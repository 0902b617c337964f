//! One file per format, each with its header walk (size, frames, orientation, read before any
//! pixel is decoded), its decoder (bytes → [`Picture`], 8-bit RGBA, plus the ICC profile and EXIF
//! later steps need) and its encoder ([`Picture`] → bytes, with sharp's defaults: JPEG q80 4:2:0,
//! WebP q80 effort 4, AVIF q50, PNG level 6, palette PNG when `quality`/`palette` is asked).
//!
//! The pipeline calls only [`read_header`], [`decode`] and [`encode`], which pick the codec.
//! JPEG goes through mozjpeg (libjpeg-turbo) with DCT-domain downscaling, WebP through libwebp
//! with its built-in downscaler (both are libvips' "shrink-on-load"), PNG, GIF and TIFF through
//! `image` (TIFF output through `tiff`, with sharp's compression options), SVG through resvg, AVIF
//! (stills, grids and sequences) through rav1d ([`heif`]), JPEG XL through jxl-oxide (decode
//! only). AVIF and HEIF output through ravif; [`icc`] writes a kept ICC profile (`KEEP_ICC`).
//!
//! The headers are read by hand because a decoder's constructor may already allocate or scan
//! the whole file; the walkers only read the few bytes that hold the dimensions (and, for
//! GIF/WebP, skip over frame data to count frames), so a 50 000 × 50 000 "bomb" is refused
//! in microseconds without allocating its bitmap.

pub mod avif;
mod common;
pub mod gif;
pub mod heif;
pub mod icc;
pub mod jpeg;
mod jpeg_scaled;
pub mod jxl;
pub mod png;
pub mod svg;
pub mod tiff;
pub mod webp;

pub use common::{
    corrupt, rgb_over_black, truncated, Animation, DecodeOptions, Decoded, EncodeOptions, Frames, HeaderInfo,
    Keep, ShrinkRule,
};

use super::picture::{Frame, Picture};
use super::sniff::InputFormat;
use crate::edits::Format;
use crate::error::Error;
use crate::pipeline::settings::PipelineSettings;

/// Reads the header of a raster original. SVG has no binary header: its size is checked after
/// parsing (see `svg::decode`). HEIC is refused here, before any limit or decode.
pub fn read_header(bytes: &[u8], format: InputFormat) -> Result<HeaderInfo, Error> {
    if format == InputFormat::Heic || (format == InputFormat::Avif && heif::is_heic(bytes)) {
        return Err(heif::heic_refused());
    }
    let info = match format {
        InputFormat::Jpeg => jpeg::read_header(bytes),
        InputFormat::Png => png::read_header(bytes),
        InputFormat::Gif => gif::read_header(bytes),
        InputFormat::Webp => webp::read_header(bytes),
        InputFormat::Tiff => tiff::read_header(bytes),
        InputFormat::Avif => heif::read_header(bytes),
        InputFormat::Jxl => jxl::read_header(bytes),
        InputFormat::Svg | InputFormat::Heic => None,
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
        InputFormat::Png => png::decode(bytes, opts.fail_on),
        InputFormat::Tiff => tiff::decode(bytes),
        InputFormat::Gif => gif::decode(bytes, opts),
        InputFormat::Svg => svg::decode(bytes, opts, config),
        // rav1d may allocate frames up to the pixel limit the header was checked against.
        InputFormat::Avif => heif::decode(bytes, opts, config.max_input_pixels),
        InputFormat::Heic => Err(heif::heic_refused()),
        InputFormat::Jxl => jxl::decode(bytes, opts, config.max_input_pixels),
    }
}
/// Opens an animated original (GIF, WebP, AVIF sequence, JPEG XL) to be read frame by frame.
pub fn animation<'a>(
    bytes: &'a [u8],
    format: InputFormat,
    config: &PipelineSettings,
) -> Result<Animation<'a>, Error> {
    match format {
        InputFormat::Gif => gif::animation(bytes, config.fail_on),
        InputFormat::Webp => webp::animation(bytes),
        InputFormat::Avif => heif::animation(bytes, config.max_input_pixels),
        InputFormat::Jxl => jxl::animation(bytes, config.max_input_pixels),
        _ => Err(corrupt("not an animation format")),
    }
}

/// Takes an animation's edited frames one at a time. WebP encodes each as it comes (libwebp's
/// animation encoder keeps a few candidates); GIF keeps the edited (output-sized) frames
/// because its one palette is learned from all of them, then encodes them at the end.
pub struct AnimationWriter {
    format: Format,
    settings: EncodeOptions,
    loop_count: u16,
    webp: Option<webp::AnimEncoder>,
    held: Vec<Frame>,
    has_alpha: bool,
}

impl AnimationWriter {
    pub fn new(format: Format, loop_count: u16, settings: EncodeOptions) -> AnimationWriter {
        AnimationWriter {
            format,
            settings,
            loop_count,
            webp: None,
            held: Vec::new(),
            has_alpha: true,
        }
    }

    pub fn add(&mut self, frame: Frame, has_alpha: bool) -> Result<(), Error> {
        self.has_alpha = has_alpha;
        if self.format != Format::Webp {
            self.held.push(frame);
            return Ok(());
        }
        let enc = match &mut self.webp {
            Some(enc) => enc,
            None => self.webp.insert(webp::AnimEncoder::new(
                frame.pixels.dimensions(),
                self.loop_count,
                &self.settings.options,
                self.settings.effort,
            )?),
        };
        enc.add(&frame)
    }

    pub fn finish(self) -> Result<Vec<u8>, Error> {
        if let Some(enc) = self.webp {
            return enc.finish(self.settings.exif.as_deref());
        }
        if self.held.is_empty() {
            return Err(corrupt("animation without frames"));
        }
        let picture = Picture {
            frames: self.held,
            loop_count: self.loop_count,
            has_alpha: self.has_alpha,
        };
        encode(&picture, self.format, &self.settings)
    }
}

/// The size sharp's loader gives a `size` original of `format` (stored orientation) for the
/// first resize `rule`: JPEG's DCT factor, WebP's and SVG's scale; other formats load whole.
pub fn sharp_loaded_size(format: InputFormat, size: (u32, u32), rule: &ShrinkRule) -> (u32, u32) {
    match format {
        InputFormat::Jpeg => jpeg::loaded_size(size, jpeg::sharp_factor(size, rule)),
        InputFormat::Webp => webp::loaded_size(size, webp::sharp_scale(size, rule)),
        InputFormat::Svg => svg::loaded_size(size, svg::sharp_scale(size, rule)),
        _ => size,
    }
}

/// Encodes `picture` as `format`. Animated pictures keep their frames in GIF and WebP; other
/// formats get the first frame.
pub fn encode(picture: &Picture, format: Format, settings: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let opts = &settings.options;
    let exif = settings.exif.as_deref();
    let bytes = match format {
        Format::Jpeg => jpeg::encode(picture, opts, exif),
        Format::Png => png::encode(picture, opts, exif),
        Format::Webp => webp::encode(picture, opts, settings.effort, exif),
        Format::Avif => avif::encode(picture, opts),
        Format::Heif => avif::encode_heif(picture, opts),
        Format::Gif => gif::encode(picture),
        Format::Tiff => tiff::encode(picture, opts, settings.icc.as_deref()),
        Format::Raw => Ok(picture.frames[0].pixels.to_rgba().as_raw().clone()),
    }?;
    match settings.icc.as_deref() {
        Some(profile) => icc::embed(format, bytes, profile),
        None => Ok(bytes),
    }
}
