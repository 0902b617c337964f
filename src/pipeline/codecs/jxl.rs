//! JPEG XL: decode only, through jxl-oxide (pure Rust). Pixels are rendered straight to sRGB by
//! jxl-oxide with moxcms (so no ICC profile is passed on) and with the orientation applied, so
//! the header reports the upright size and orientation 1. Animations are read a keyframe at a
//! time. There is no JPEG XL output (SIH's format names have none).

use super::common::{corrupt, Animation, DecodeOptions, Decoded, HeaderInfo};
use crate::error::Error;
use crate::pipeline::picture::Frame;
use image::RgbaImage;
use jxl_oxide::{AllocTracker, EnumColourEncoding, JxlImage, PixelFormat, RenderingIntent};

fn open(bytes: &[u8], max_pixels: u64) -> Result<JxlImage, Error> {
    // jxl-oxide's own allocations are capped too (a frame's f32 planes, with room for alpha and
    // the render's copies): a header can only be checked against the limit after parsing.
    let budget = max_pixels.saturating_mul(4 * 4 * 3).min(usize::MAX as u64) as usize;
    let mut image = JxlImage::builder()
        .alloc_tracker(AllocTracker::with_limit(budget))
        .read(bytes)
        .map_err(|e| corrupt(&format!("JPEG XL: {e}")))?;
    image.set_cms(jxl_oxide::Moxcms);
    image.request_color_encoding(EnumColourEncoding::srgb(RenderingIntent::Relative));
    Ok(image)
}

/// Parses the headers and the frames' table of contents (no pixel is decoded).
pub(super) fn read_header(bytes: &[u8]) -> Option<HeaderInfo> {
    let image = JxlImage::builder().read(bytes).ok()?;
    Some(HeaderInfo {
        width: image.width(),
        height: image.height(),
        frames: image.num_loaded_keyframes().max(1) as u32,
        orientation: 1,
    })
}

pub(super) fn decode(bytes: &[u8], opts: DecodeOptions, max_pixels: u64) -> Result<Decoded, Error> {
    let image = open(bytes, max_pixels)?;
    let has_alpha = image.pixel_format().has_alpha();
    let mut decoded = frames(image, max_pixels)?.collect(opts.animated, opts.fail_on)?;
    decoded.picture.has_alpha = has_alpha;
    Ok(decoded)
}

pub(super) fn animation(bytes: &[u8], max_pixels: u64) -> Result<Animation<'static>, Error> {
    frames(open(bytes, max_pixels)?, max_pixels)
}

fn frames(image: JxlImage, max_pixels: u64) -> Result<Animation<'static>, Error> {
    let (w, h) = (image.width(), image.height());
    if w as u64 * h as u64 > max_pixels {
        return Err(corrupt("JPEG XL frame larger than its header"));
    }
    let header = image.image_header().metadata.animation.as_ref();
    let loop_count = header.map_or(0, |a| u16::try_from(a.num_loops).unwrap_or(0));
    // Ticks per second = numerator / denominator.
    let tick_ms = header.map_or(0.0, |a| {
        1000.0 * a.tps_denominator as f64 / a.tps_numerator.max(1) as f64
    });
    let format = image.pixel_format();
    let count = image.num_loaded_keyframes();
    let frames = (0..count).map(move |k| {
        let render = image
            .render_frame(k)
            .map_err(|e| corrupt(&format!("JPEG XL frame: {e}")))?;
        let mut stream = render.stream();
        let channels = stream.channels() as usize;
        let (sw, sh) = (stream.width(), stream.height());
        if (sw, sh) != (w, h) || channels == 0 {
            return Err(corrupt("JPEG XL frame size"));
        }
        let mut buf = vec![0u8; sw as usize * sh as usize * channels];
        stream.write_to_buffer(&mut buf);
        let rgba: Vec<u8> = match (format, channels) {
            (PixelFormat::Gray, 1) => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            (PixelFormat::Graya, 2) => buf
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            (PixelFormat::Rgb, 3) => buf
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            (PixelFormat::Rgba, 4) => buf,
            _ => return Err(corrupt("JPEG XL colour format (CMYK is not supported)")),
        };
        let pixels = RgbaImage::from_raw(sw, sh, rgba).ok_or_else(|| corrupt("JPEG XL frame"))?;
        Ok(Frame::new(
            pixels,
            (render.duration() as f64 * tick_ms).round() as u32,
        ))
    });
    Ok(Animation {
        size: (w, h),
        loop_count,
        icc: None,
        exif: None,
        orientation: 1,
        damaged: false,
        frames: Box::new(frames),
    })
}
