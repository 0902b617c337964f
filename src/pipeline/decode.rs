//! Bytes → [`Picture`] (8-bit RGBA), plus the metadata later steps need (ICC profile, EXIF
//! orientation). JPEG goes through mozjpeg (libjpeg-turbo) with DCT-domain downscaling, WebP
//! through libwebp with its built-in downscaler (both are libvips' "shrink-on-load"), PNG, GIF
//! and TIFF through `image`, SVG through resvg.

use super::limits::{self, corrupt};
use super::picture::{Frame, Picture};
use super::settings::PipelineSettings;
use super::sniff::InputFormat;
use crate::error::Error;
use image::{DynamicImage, ImageDecoder, RgbaImage};
use std::io::Cursor;

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

pub fn unsupported(format: &str) -> Error {
    Error::bad_request(
        "UnsupportedInputFormat",
        format!("{format} originals cannot be decoded by this server."),
    )
}

pub fn decode(
    bytes: &[u8],
    format: InputFormat,
    opts: DecodeOptions,
    config: &PipelineSettings,
) -> Result<Decoded, Error> {
    match format {
        InputFormat::Jpeg => jpeg(bytes, opts),
        InputFormat::Webp => webp(bytes, opts),
        InputFormat::Png => with_image(image::codecs::png::PngDecoder::new(Cursor::new(bytes))),
        InputFormat::Tiff => with_image(image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes))),
        InputFormat::Gif => gif(bytes, opts),
        InputFormat::Svg => svg(bytes, config),
        InputFormat::Avif => Err(unsupported("AVIF")),
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

/// The smallest libjpeg scale (n/8) that still keeps `2 × target` pixels in both directions.
fn jpeg_scale(size: (u32, u32), target: Option<(u32, u32)>) -> u8 {
    let Some((tw, th)) = target else { return 8 };
    let (w, h) = (size.0 as u64, size.1 as u64);
    [1u8, 2, 4]
        .into_iter()
        .find(|&n| {
            let sw = (w * n as u64).div_ceil(8);
            let sh = (h * n as u64).div_ceil(8);
            sw >= 2 * tw as u64 && sh >= 2 * th as u64
        })
        .unwrap_or(8)
}

fn jpeg(bytes: &[u8], opts: DecodeOptions) -> Result<Decoded, Error> {
    use mozjpeg::{ColorSpace, Decompress, Marker};
    // mozjpeg reports libjpeg errors by unwinding: contain them and answer 400.
    let run = || -> std::io::Result<Decoded> {
        let mut d = Decompress::with_markers(&[Marker::APP(1), Marker::APP(2)]).from_mem(bytes)?;
        let original_size = (d.width() as u32, d.height() as u32);
        let mut exif = None;
        let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
        for m in d.markers() {
            match m.marker {
                Marker::APP(1) if m.data.starts_with(b"Exif\0\0") => {
                    exif.get_or_insert_with(|| m.data[6..].to_vec());
                }
                // ICC profiles are split over APP2 segments: "ICC_PROFILE\0", seq no, count.
                Marker::APP(2) if m.data.len() > 14 && m.data.starts_with(b"ICC_PROFILE\0") => {
                    icc_chunks.push((m.data[12], &m.data[14..]));
                }
                _ => {}
            }
        }
        icc_chunks.sort_by_key(|c| c.0);
        let icc = (!icc_chunks.is_empty()).then(|| icc_chunks.iter().flat_map(|c| c.1).copied().collect());
        d.scale(jpeg_scale(original_size, opts.target));
        let cmyk = matches!(d.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK);
        let (w, h, rgba) = if cmyk {
            let mut s = d.to_colorspace(ColorSpace::JCS_CMYK)?;
            let (w, h) = (s.width(), s.height());
            let px: Vec<[u8; 4]> = s.read_scanlines()?;
            s.finish()?;
            // Adobe writes CMYK JPEGs inverted (255 = no ink), which is what nearly every CMYK
            // JPEG in the wild is; convert without a CMYK profile (naive, like Pillow).
            let mut out = Vec::with_capacity(w * h * 4);
            for [c, m, y, k] in px {
                let mul = |v: u8| ((v as u32 * k as u32 + 127) / 255) as u8;
                out.extend_from_slice(&[mul(c), mul(m), mul(y), 255]);
            }
            (w, h, out)
        } else {
            let mut s = d.rgba()?;
            let (w, h) = (s.width(), s.height());
            let px: Vec<u8> = s.read_scanlines()?;
            s.finish()?;
            (w, h, px)
        };
        let pixels = RgbaImage::from_raw(w as u32, h as u32, rgba)
            .ok_or_else(|| std::io::Error::other("short pixel buffer"))?;
        let orientation = exif.as_deref().map_or(1, limits::exif_orientation);
        Ok(Decoded {
            picture: Picture::still(pixels, false),
            icc: if cmyk { None } else { icc },
            exif,
            orientation,
            original_size,
        })
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(corrupt(&format!("JPEG: {e}"))),
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

fn gif(bytes: &[u8], opts: DecodeOptions) -> Result<Decoded, Error> {
    use image::AnimationDecoder;
    let mut decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(image_err)?;
    decoder
        .set_limits(image::Limits::no_limits())
        .map_err(image_err)?;
    let original_size = decoder.dimensions();
    let mut frames = Vec::new();
    for frame in decoder.into_frames() {
        let frame = match frame {
            Ok(f) => f,
            // Lenient like sharp's failOnError:false: keep the frames decoded before the damage.
            Err(_) if !frames.is_empty() => break,
            Err(e) => return Err(image_err(e)),
        };
        let (num, den) = frame.delay().numer_denom_ms();
        let delay_ms = if den == 0 { 0 } else { num / den };
        frames.push(Frame {
            pixels: frame.into_buffer(),
            delay_ms,
        });
        if !opts.animated {
            break;
        }
    }
    Ok(Decoded {
        picture: Picture {
            frames,
            loop_count: gif_loop_count(bytes),
            has_alpha: true,
        },
        icc: None,
        exif: None,
        orientation: 1,
        original_size,
    })
}

/// Number of plays (0 = forever, as WebP counts): the NETSCAPE2.0 extension counts repeats
/// after the first play, and its absence means "play once".
fn gif_loop_count(bytes: &[u8]) -> u16 {
    const APP: &[u8] = b"\x21\xFF\x0BNETSCAPE2.0\x03\x01";
    bytes
        .windows(APP.len())
        .position(|w| w == APP)
        .and_then(|i| bytes.get(i + APP.len()..i + APP.len() + 2))
        .map_or(1, |b| match u16::from_le_bytes([b[0], b[1]]) {
            0 => 0,
            n => n.saturating_add(1),
        })
}

/// The payload of the first RIFF chunk named `fourcc` in a WebP file.
pub fn webp_chunk<'a>(b: &'a [u8], fourcc: &[u8; 4]) -> Option<&'a [u8]> {
    let mut i = 12usize;
    while let Some(name) = b.get(i..i + 4) {
        let size = u32::from_le_bytes(b.get(i + 4..i + 8)?.try_into().ok()?) as usize;
        if name == fourcc {
            return b.get(i + 8..i + 8 + size);
        }
        i = i.checked_add(8 + size + (size & 1))?;
    }
    None
}

fn webp(bytes: &[u8], opts: DecodeOptions) -> Result<Decoded, Error> {
    use libwebp_sys as sys;
    let icc = webp_chunk(bytes, b"ICCP").map(<[u8]>::to_vec);
    let exif = webp_chunk(bytes, b"EXIF").map(|e| e.strip_prefix(b"Exif\0\0").unwrap_or(e).to_vec());
    let orientation = exif.as_deref().map_or(1, limits::exif_orientation);
    let features = webp::BitstreamFeatures::new(bytes).ok_or_else(|| corrupt("WebP header"))?;
    let original_size = (features.width(), features.height());
    let has_alpha = features.has_alpha();
    if features.has_animation() {
        let anim = webp::AnimDecoder::new(bytes)
            .decode()
            .map_err(|e| corrupt(&format!("WebP: {e}")))?;
        let mut frames = Vec::new();
        let mut previous_end = 0;
        for i in 0..anim.len() {
            let Some(f) = anim.get_frame(i) else { break };
            let rgba = match f.get_layout() {
                webp::PixelLayout::Rgba => f.get_image().to_vec(),
                webp::PixelLayout::Rgb => DynamicImage::ImageRgb8(
                    image::RgbImage::from_raw(f.width(), f.height(), f.get_image().to_vec())
                        .ok_or_else(|| corrupt("WebP frame"))?,
                )
                .into_rgba8()
                .into_raw(),
            };
            let pixels =
                RgbaImage::from_raw(f.width(), f.height(), rgba).ok_or_else(|| corrupt("WebP frame"))?;
            // libwebp gives each frame's end time; the delay is the difference.
            let end = f.get_time_ms();
            frames.push(Frame {
                pixels,
                delay_ms: (end - previous_end).max(0) as u32,
            });
            previous_end = end;
            if !opts.animated {
                break;
            }
        }
        if frames.is_empty() {
            return Err(corrupt("WebP animation without frames"));
        }
        let loop_count = u16::try_from(anim.loop_count).unwrap_or(0);
        return Ok(Decoded {
            picture: Picture {
                frames,
                loop_count,
                has_alpha: true,
            },
            icc,
            exif,
            orientation,
            original_size,
        });
    }

    let (w, h) = original_size;
    // libwebp's own downscaler: the WebP analogue of JPEG's DCT scaling. Only whole factors of
    // two (like libvips) so the final resize sees an evenly reduced image.
    let (mut sw, mut sh) = (w, h);
    if let Some((tw, th)) = opts.target {
        while sw / 2 >= 2 * tw.max(1) && sh / 2 >= 2 * th.max(1) {
            sw /= 2;
            sh /= 2;
        }
    }
    let mut config = sys::WebPDecoderConfig::new().map_err(|_| Error::internal())?;
    let stride = sw as usize * 4;
    let mut out = vec![0u8; stride * sh as usize];
    config.options.use_threads = 1;
    if (sw, sh) != (w, h) {
        config.options.use_scaling = 1;
        config.options.scaled_width = sw as i32;
        config.options.scaled_height = sh as i32;
    }
    config.output.colorspace = sys::WEBP_CSP_MODE::MODE_RGBA;
    config.output.is_external_memory = 1;
    config.output.u.RGBA = sys::WebPRGBABuffer {
        rgba: out.as_mut_ptr(),
        stride: stride as i32,
        size: out.len(),
    };
    // SAFETY: `config.output` points at `out`, which is exactly stride × height bytes and
    // outlives the call; libwebp writes only inside it.
    let status = unsafe { sys::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config) };
    // SAFETY: external memory: this only resets the struct, `out` stays ours.
    unsafe { sys::WebPFreeDecBuffer(&mut config.output) };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt(&format!("WebP: {status:?}")));
    }
    let pixels = RgbaImage::from_raw(sw, sh, out).ok_or_else(|| corrupt("WebP"))?;
    Ok(Decoded {
        picture: Picture::still(pixels, has_alpha),
        icc,
        exif,
        orientation,
        original_size,
    })
}

fn svg(bytes: &[u8], config: &PipelineSettings) -> Result<Decoded, Error> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    // Never read files or follow links named inside a user's SVG: only inline data: images.
    options.image_href_resolver = usvg::ImageHrefResolver {
        resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
        resolve_string: Box::new(|_, _| None),
    };
    let tree = usvg::Tree::from_data(bytes, &options).map_err(|e| corrupt(&format!("SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let (w, h) = (size.width(), size.height());
    limits::check_input(w, h, config)?;
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| corrupt("SVG size"))?;
    resvg::render(&tree, tiny_skia::Transform::identity(), &mut pixmap.as_mut());
    // tiny-skia stores premultiplied alpha; the pipeline works on straight alpha.
    let mut rgba = Vec::with_capacity(w as usize * h as usize * 4);
    for p in pixmap.pixels() {
        let c = p.demultiply();
        rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    let pixels = RgbaImage::from_raw(w, h, rgba).ok_or_else(|| corrupt("SVG"))?;
    Ok(Decoded {
        picture: Picture::still(pixels, true),
        icc: None,
        exif: None,
        orientation: 1,
        original_size: (w, h),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_scale_keeps_twice_the_target() {
        assert_eq!(jpeg_scale((6028, 3391), Some((800, 450))), 4); // 1/4 would give 1507×848 < 1600×900
        assert_eq!(jpeg_scale((6028, 3391), Some((300, 169))), 1);
        assert_eq!(jpeg_scale((6028, 3391), Some((3000, 1700))), 8);
        assert_eq!(jpeg_scale((6028, 3391), None), 8);
    }
}
