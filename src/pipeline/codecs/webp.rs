//! WebP: RIFF chunk walk for size and frame count, decode through libwebp (its downscaler for
//! stills, WebPAnimDecoder for animations), encode through libwebp (WebPAnimEncoder for
//! animations) and its muxer for EXIF.

use super::common::{corrupt, encode_failed, exif_orientation, flatten_rgb, is_opaque, quality};
use super::common::{le16, le24, le32, DecodeOptions, Decoded, HeaderInfo, Keep, ShrinkRule};
use crate::edits::{Format, FormatOptions};
use crate::error::Error;
use crate::pipeline::picture::{Frame, Picture};
use image::{DynamicImage, RgbaImage};

/// Walks RIFF chunks: VP8X gives the canvas, VP8/VP8L a still's size; ANMF chunks are frames.
pub(super) fn read_header(b: &[u8]) -> Option<HeaderInfo> {
    let mut i = 12;
    let mut canvas = None;
    let mut frames = 0u32;
    while let Some(fourcc) = b.get(i..i + 4) {
        let size = le32(b, i + 4)? as usize;
        let data = i + 8;
        match fourcc {
            b"VP8X" => canvas = Some((le24(b, data + 4)? + 1, le24(b, data + 7)? + 1)),
            b"VP8 " if canvas.is_none() => {
                if b.get(data + 3..data + 6)? != [0x9D, 0x01, 0x2A] {
                    return None;
                }
                let w = le16(b, data + 6)? & 0x3FFF;
                let h = le16(b, data + 8)? & 0x3FFF;
                return Some(HeaderInfo {
                    width: w,
                    height: h,
                    frames: 1,
                    orientation: 1,
                });
            }
            b"VP8L" if canvas.is_none() => {
                if *b.get(data)? != 0x2F {
                    return None;
                }
                let bits = le32(b, data + 1)?;
                let w = (bits & 0x3FFF) + 1;
                let h = ((bits >> 14) & 0x3FFF) + 1;
                return Some(HeaderInfo {
                    width: w,
                    height: h,
                    frames: 1,
                    orientation: 1,
                });
            }
            b"ANMF" => frames += 1,
            _ => {}
        }
        i = data.checked_add(size)?.checked_add(size & 1)?;
    }
    let (width, height) = canvas?;
    let orientation = chunk(b, b"EXIF").map_or(1, exif_orientation);
    Some(HeaderInfo {
        width,
        height,
        frames: frames.max(1),
        orientation,
    })
}

/// The payload of the first RIFF chunk named `fourcc` in a WebP file.
pub fn chunk<'a>(b: &'a [u8], fourcc: &[u8; 4]) -> Option<&'a [u8]> {
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

/// sharp's WebP shrink-on-load: libwebp's scaler takes the image straight to 1/shrink, only
/// with `fastShrinkOnLoad` (the default) and never to enlarge.
pub(super) fn sharp_scale(size: (u32, u32), rule: &ShrinkRule) -> f64 {
    let shrink = rule.shrink(size);
    if rule.fast && shrink > 1.0 {
        1.0 / shrink
    } else {
        1.0
    }
}

/// libvips' size for a WebP loaded at `scale`: each side rounded to nearest.
pub(super) fn loaded_size((w, h): (u32, u32), scale: f64) -> (u32, u32) {
    if scale == 1.0 {
        return (w, h);
    }
    let side = |v: u32| ((v as f64 * scale).round() as u32).max(1);
    (side(w), side(h))
}

/// The scale pixfront decodes at: sharp's, unless the plan needs more pixels.
fn decode_scale(size: (u32, u32), rule: Option<&ShrinkRule>) -> f64 {
    let Some(rule) = rule else { return 1.0 };
    let scale = sharp_scale(size, rule);
    match rule.keep {
        Keep::SharpSize => scale,
        Keep::Full => 1.0,
        Keep::LongSide(min) => scale.max(min as f64 / size.0.max(size.1) as f64).min(1.0),
    }
}

pub(super) fn decode(bytes: &[u8], opts: DecodeOptions) -> Result<Decoded, Error> {
    use libwebp_sys as sys;
    let icc = chunk(bytes, b"ICCP").map(<[u8]>::to_vec);
    let exif = chunk(bytes, b"EXIF").map(|e| e.strip_prefix(b"Exif\0\0").unwrap_or(e).to_vec());
    let orientation = exif.as_deref().map_or(1, exif_orientation);
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
    let (sw, sh) = loaded_size(original_size, decode_scale(original_size, opts.shrink.as_ref()));
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

/// Encodes a still or an animation, then adds `exif` when there is one.
pub(super) fn encode(
    picture: &Picture,
    opts: &FormatOptions,
    effort: Option<u8>,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let bytes = encode_pixels(picture, opts, effort)?;
    match exif {
        Some(exif) => with_exif(&bytes, exif),
        None => Ok(bytes),
    }
}

fn encoder_config(opts: &FormatOptions, effort: Option<u8>) -> Result<webp::WebPConfig, Error> {
    let mut config = webp::WebPConfig::new().map_err(|_| encode_failed(Format::Webp, "config"))?;
    config.quality = quality(opts, 80) as f32;
    config.method = effort.or(opts.effort).unwrap_or(4).min(6) as i32;
    config.lossless = opts.lossless.unwrap_or(false) as i32;
    if opts.near_lossless == Some(true) {
        config.lossless = 1;
        config.near_lossless = quality(opts, 80) as i32;
    }
    config.alpha_quality = opts.alpha_quality.unwrap_or(100).min(100) as i32;
    // Multi-threaded analysis in libwebp: same bytes, less wall time.
    config.thread_level = 1;
    Ok(config)
}

fn encode_pixels(picture: &Picture, opts: &FormatOptions, effort: Option<u8>) -> Result<Vec<u8>, Error> {
    let config = encoder_config(opts, effort)?;
    let first = &picture.frames[0].pixels;
    let (w, h) = first.dimensions();
    if picture.is_animated() {
        return encode_animation(picture, &config);
    }
    let rgb;
    let encoder = if is_opaque(first.as_raw()) {
        rgb = flatten_rgb(first.as_raw());
        webp::Encoder::from_rgb(&rgb, w, h)
    } else {
        webp::Encoder::from_rgba(first.as_raw(), w, h)
    };
    let bytes = encoder
        .encode_advanced(&config)
        .map_err(|e| encode_failed(Format::Webp, format!("{e:?}")))?;
    Ok(bytes.to_vec())
}

/// Animated WebP through libwebp's WebPAnimEncoder directly: the `webp` crate's wrapper ends the
/// animation at timestamp 0, which loses the last frame's delay.
fn encode_animation(picture: &Picture, config: &webp::WebPConfig) -> Result<Vec<u8>, Error> {
    use libwebp_sys as sys;
    let failed = |what: &str| encode_failed(Format::Webp, what);
    let (w, h) = (picture.width() as i32, picture.height() as i32);
    struct Encoder(*mut sys::WebPAnimEncoder);
    impl Drop for Encoder {
        fn drop(&mut self) {
            // SAFETY: created by WebPAnimEncoderNewInternal, deleted once.
            unsafe { sys::WebPAnimEncoderDelete(self.0) }
        }
    }
    // SAFETY: every libwebp object below is initialised by its own init function before use,
    // frame buffers outlive the calls that read them, and the encoder is deleted by `Encoder`.
    unsafe {
        let mut opts = std::mem::MaybeUninit::<sys::WebPAnimEncoderOptions>::uninit();
        if sys::WebPAnimEncoderOptionsInitInternal(opts.as_mut_ptr(), sys::WebPGetMuxABIVersion()) == 0 {
            return Err(failed("options"));
        }
        let mut opts = opts.assume_init();
        opts.anim_params.loop_count = picture.loop_count as i32;
        let enc = Encoder(sys::WebPAnimEncoderNewInternal(
            w,
            h,
            &opts,
            sys::WebPGetMuxABIVersion(),
        ));
        if enc.0.is_null() {
            return Err(failed("encoder"));
        }
        let mut timestamp = 0i32;
        for frame in &picture.frames {
            let mut pic = sys::WebPPicture::new().map_err(|_| failed("picture"))?;
            pic.use_argb = 1;
            pic.width = w;
            pic.height = h;
            if sys::WebPPictureImportRGBA(&mut pic, frame.pixels.as_raw().as_ptr(), w * 4) == 0 {
                sys::WebPPictureFree(&mut pic);
                return Err(failed("frame import"));
            }
            let ok = sys::WebPAnimEncoderAdd(enc.0, &mut pic, timestamp, config);
            sys::WebPPictureFree(&mut pic);
            if ok == 0 {
                return Err(failed("frame"));
            }
            timestamp = timestamp.saturating_add(frame.delay_ms.min(i32::MAX as u32) as i32);
        }
        // The end of the last frame: this is what gives it its delay.
        sys::WebPAnimEncoderAdd(enc.0, std::ptr::null_mut(), timestamp, std::ptr::null());
        let mut data = sys::WebPData::default();
        if sys::WebPAnimEncoderAssemble(enc.0, &mut data) == 0 {
            return Err(failed("assemble"));
        }
        let out = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
        sys::WebPDataClear(&mut data);
        Ok(out)
    }
}

/// Adds an EXIF chunk to a WebP file (libwebp's muxer writes the VP8X header it needs).
fn with_exif(webp: &[u8], exif: &[u8]) -> Result<Vec<u8>, Error> {
    use libwebp_sys as sys;
    let failed = || encode_failed(Format::Webp, "EXIF");
    // SAFETY: the muxer copies its inputs (copy_data = 1) and is deleted on every path; the
    // assembled data is copied out and freed.
    unsafe {
        let input = sys::WebPData {
            bytes: webp.as_ptr(),
            size: webp.len(),
        };
        let mux = sys::WebPMuxCreateInternal(&input, 1, sys::WebPGetMuxABIVersion());
        if mux.is_null() {
            return Err(failed());
        }
        let chunk = sys::WebPData {
            bytes: exif.as_ptr(),
            size: exif.len(),
        };
        let mut out = sys::WebPData::default();
        let ok = sys::WebPMuxSetChunk(mux, c"EXIF".as_ptr(), &chunk, 1) == sys::WebPMuxError::WEBP_MUX_OK
            && sys::WebPMuxAssemble(mux, &mut out) == sys::WebPMuxError::WEBP_MUX_OK;
        sys::WebPMuxDelete(mux);
        if !ok {
            sys::WebPDataClear(&mut out);
            return Err(failed());
        }
        let bytes = std::slice::from_raw_parts(out.bytes, out.size).to_vec();
        sys::WebPDataClear(&mut out);
        Ok(bytes)
    }
}
