//! WebP: RIFF chunk walk for size and frame count, decode through libwebp (its downscaler for
//! stills, WebPAnimDecoder for animations), encode through libwebp (WebPAnimEncoder for
//! animations) and its muxer for EXIF.

use super::common::{corrupt, encode_failed, exif_orientation, packed, quality, truncated, Packed};
use super::common::{le16, le24, le32, Animation, DecodeOptions, Decoded, HeaderInfo, Keep, ShrinkRule};
use crate::edits::{Format, FormatOptions};
use crate::error::Error;
use crate::pipeline::picture::{Frame, Picture};
use image::RgbaImage;

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

/// libwebp decodes whole files only: one shorter than its RIFF size is refused in every
/// `FAIL_ON` mode, with the code that says why.
fn check_whole(bytes: &[u8]) -> Result<(), Error> {
    match le32(bytes, 4) {
        Some(size) if (size as usize).saturating_add(8) > bytes.len() => {
            Err(truncated("WebP data ends before its RIFF size"))
        }
        _ => Ok(()),
    }
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
    check_whole(bytes)?;
    let icc = chunk(bytes, b"ICCP").map(<[u8]>::to_vec);
    let exif = chunk(bytes, b"EXIF").map(|e| e.strip_prefix(b"Exif\0\0").unwrap_or(e).to_vec());
    let orientation = exif.as_deref().map_or(1, exif_orientation);
    let features = webp::BitstreamFeatures::new(bytes).ok_or_else(|| corrupt("WebP header"))?;
    let original_size = (features.width(), features.height());
    let has_alpha = features.has_alpha();
    if features.has_animation() {
        return animation(bytes)?.collect(opts.animated, opts.fail_on);
    }

    let (w, h) = original_size;
    let (sw, sh) = loaded_size(original_size, decode_scale(original_size, opts.shrink.as_ref()));
    let mut config = sys::WebPDecoderConfig::new().map_err(|_| Error::internal())?;
    // Opaque originals decode to three channels (see picture.rs).
    let channels = if has_alpha { 4 } else { 3 };
    let stride = sw as usize * channels;
    let mut out = vec![0u8; stride * sh as usize];
    config.options.use_threads = 1;
    if (sw, sh) != (w, h) {
        config.options.use_scaling = 1;
        config.options.scaled_width = sw as i32;
        config.options.scaled_height = sh as i32;
    }
    config.output.colorspace = match has_alpha {
        true => sys::WEBP_CSP_MODE::MODE_RGBA,
        false => sys::WEBP_CSP_MODE::MODE_RGB,
    };
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
    let picture = match has_alpha {
        true => RgbaImage::from_raw(sw, sh, out).map(|px| Picture::still(px, true)),
        false => image::RgbImage::from_raw(sw, sh, out).map(|px| Picture::still(px, false)),
    }
    .ok_or_else(|| corrupt("WebP"))?;
    Ok(Decoded {
        picture,
        icc,
        exif,
        orientation,
        original_size,
        damaged: false,
    })
}

/// An animated WebP through libwebp's WebPAnimDecoder, one composed canvas at a time (it keeps
/// two canvases of its own, never the whole animation).
pub(super) fn animation(bytes: &[u8]) -> Result<Animation<'_>, Error> {
    use libwebp_sys as sys;
    check_whole(bytes)?;
    let icc = chunk(bytes, b"ICCP").map(<[u8]>::to_vec);
    let exif = chunk(bytes, b"EXIF").map(|e| e.strip_prefix(b"Exif\0\0").unwrap_or(e).to_vec());
    let orientation = exif.as_deref().map_or(1, exif_orientation);
    let decoder = AnimDecoder::new(bytes)?;
    let mut info = sys::WebPAnimInfo::default();
    // SAFETY: `decoder.0` is a live decoder; `info` is written by the call.
    if unsafe { sys::WebPAnimDecoderGetInfo(decoder.0, &mut info) } == 0 {
        return Err(corrupt("WebP animation info"));
    }
    let (w, h) = (info.canvas_width, info.canvas_height);
    let mut previous_end = 0;
    let frames = std::iter::from_fn(move || {
        // The whole decoder is moved in (a closure naming only `decoder.0` would copy the
        // pointer and let the decoder be deleted when this function returns).
        let decoder = &decoder;
        // SAFETY: the decoder lives as long as this closure; the canvas it returns holds
        // w × h RGBA pixels and stays valid until the next call, and is copied before that.
        unsafe {
            if sys::WebPAnimDecoderHasMoreFrames(decoder.0) == 0 {
                return None;
            }
            let mut buf: *mut u8 = std::ptr::null_mut();
            let mut end = 0;
            if sys::WebPAnimDecoderGetNext(decoder.0, &mut buf, &mut end) == 0 || buf.is_null() {
                return Some(Err(corrupt("WebP frame")));
            }
            let rgba = std::slice::from_raw_parts(buf, w as usize * h as usize * 4).to_vec();
            // libwebp gives each frame's end time; the delay is the difference.
            let delay_ms = (end - previous_end).max(0) as u32;
            previous_end = end;
            Some(
                RgbaImage::from_raw(w, h, rgba)
                    .map(|pixels| Frame::new(pixels, delay_ms))
                    .ok_or_else(|| corrupt("WebP frame")),
            )
        }
    });
    Ok(Animation {
        size: (w, h),
        loop_count: u16::try_from(info.loop_count).unwrap_or(0),
        icc,
        exif,
        orientation,
        damaged: false,
        frames: Box::new(frames),
    })
}

/// Owns a WebPAnimDecoder (and the input it reads, borrowed for its lifetime).
struct AnimDecoder<'a>(
    *mut libwebp_sys::WebPAnimDecoder,
    std::marker::PhantomData<&'a [u8]>,
);

impl<'a> AnimDecoder<'a> {
    fn new(bytes: &'a [u8]) -> Result<AnimDecoder<'a>, Error> {
        use libwebp_sys as sys;
        // SAFETY: options are initialised by libwebp; the decoder reads `bytes` (borrowed by the
        // returned value) and is deleted in Drop.
        unsafe {
            let mut opts = std::mem::MaybeUninit::<sys::WebPAnimDecoderOptions>::uninit();
            if sys::WebPAnimDecoderOptionsInit(opts.as_mut_ptr()) == 0 {
                return Err(Error::internal());
            }
            let mut opts = opts.assume_init();
            opts.color_mode = sys::WEBP_CSP_MODE::MODE_RGBA;
            opts.use_threads = 0;
            let data = sys::WebPData {
                bytes: bytes.as_ptr(),
                size: bytes.len(),
            };
            let dec = sys::WebPAnimDecoderNew(&data, &opts);
            if dec.is_null() {
                return Err(corrupt("WebP animation"));
            }
            Ok(AnimDecoder(dec, std::marker::PhantomData))
        }
    }
}

impl Drop for AnimDecoder<'_> {
    fn drop(&mut self) {
        // SAFETY: created by WebPAnimDecoderNew, deleted once.
        unsafe { libwebp_sys::WebPAnimDecoderDelete(self.0) }
    }
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
    // sharp's `smartSubsample`: libwebp's sharp (iterative) RGB → YUV 4:2:0 conversion, which
    // keeps saturated detail (coloured stars on black) from bleeding into its neighbours.
    config.use_sharp_yuv = opts
        .other
        .get("smartSubsample")
        .and_then(|v| v.as_bool())
        .unwrap_or(false) as i32;
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
    let px = packed(first);
    let encoder = match &px {
        Packed::Rgb(rgb) => webp::Encoder::from_rgb(rgb, w, h),
        Packed::Rgba(rgba) => webp::Encoder::from_rgba(rgba, w, h),
    };
    let bytes = encoder
        .encode_advanced(&config)
        .map_err(|e| encode_failed(Format::Webp, format!("{e:?}")))?;
    Ok(bytes.to_vec())
}

/// Animated WebP through libwebp's WebPAnimEncoder directly: the `webp` crate's wrapper ends the
/// animation at timestamp 0, which loses the last frame's delay.
fn encode_animation(picture: &Picture, config: &webp::WebPConfig) -> Result<Vec<u8>, Error> {
    let mut enc = AnimEncoder::with_config(picture.width(), picture.height(), picture.loop_count, *config)?;
    for frame in &picture.frames {
        enc.add(frame)?;
    }
    enc.assemble()
}

/// libwebp's WebPAnimEncoder fed one frame at a time: it keeps only the few candidate frames
/// it compares, so an animation can be encoded while it is being decoded.
pub struct AnimEncoder {
    enc: *mut libwebp_sys::WebPAnimEncoder,
    config: webp::WebPConfig,
    size: (u32, u32),
    timestamp: i32,
}

impl Drop for AnimEncoder {
    fn drop(&mut self) {
        // SAFETY: created by WebPAnimEncoderNewInternal, deleted once.
        unsafe { libwebp_sys::WebPAnimEncoderDelete(self.enc) }
    }
}

impl AnimEncoder {
    pub fn new(
        size: (u32, u32),
        loop_count: u16,
        opts: &FormatOptions,
        effort: Option<u8>,
    ) -> Result<AnimEncoder, Error> {
        AnimEncoder::with_config(size.0, size.1, loop_count, encoder_config(opts, effort)?)
    }

    fn with_config(w: u32, h: u32, loop_count: u16, config: webp::WebPConfig) -> Result<AnimEncoder, Error> {
        use libwebp_sys as sys;
        let failed = |what: &str| encode_failed(Format::Webp, what);
        // SAFETY: the options are initialised by libwebp before use; the encoder is deleted by
        // Drop.
        unsafe {
            let mut opts = std::mem::MaybeUninit::<sys::WebPAnimEncoderOptions>::uninit();
            if sys::WebPAnimEncoderOptionsInitInternal(opts.as_mut_ptr(), sys::WebPGetMuxABIVersion()) == 0 {
                return Err(failed("options"));
            }
            let mut opts = opts.assume_init();
            opts.anim_params.loop_count = loop_count as i32;
            let enc = sys::WebPAnimEncoderNewInternal(w as i32, h as i32, &opts, sys::WebPGetMuxABIVersion());
            if enc.is_null() {
                return Err(failed("encoder"));
            }
            Ok(AnimEncoder {
                enc,
                config,
                size: (w, h),
                timestamp: 0,
            })
        }
    }

    /// Adds a frame (of the encoder's size), shown for its delay.
    pub fn add(&mut self, frame: &Frame) -> Result<(), Error> {
        use libwebp_sys as sys;
        let failed = |what: &str| encode_failed(Format::Webp, what);
        if frame.pixels.dimensions() != self.size {
            return Err(failed("frames of different sizes"));
        }
        let (w, h) = (self.size.0 as i32, self.size.1 as i32);
        // SAFETY: the picture is initialised by WebPPicture::new, imports from a buffer of
        // w × h RGBA pixels that outlives the call, and is freed on every path.
        unsafe {
            let mut pic = sys::WebPPicture::new().map_err(|_| failed("picture"))?;
            pic.use_argb = 1;
            pic.width = w;
            pic.height = h;
            let rgba = frame.pixels.to_rgba();
            if sys::WebPPictureImportRGBA(&mut pic, rgba.as_raw().as_ptr(), w * 4) == 0 {
                sys::WebPPictureFree(&mut pic);
                return Err(failed("frame import"));
            }
            let ok = sys::WebPAnimEncoderAdd(self.enc, &mut pic, self.timestamp, &self.config);
            sys::WebPPictureFree(&mut pic);
            if ok == 0 {
                return Err(failed("frame"));
            }
        }
        self.timestamp = self
            .timestamp
            .saturating_add(frame.delay_ms.min(i32::MAX as u32) as i32);
        Ok(())
    }

    /// The file, with `exif` added when there is one.
    pub fn finish(self, exif: Option<&[u8]>) -> Result<Vec<u8>, Error> {
        let bytes = self.assemble()?;
        match exif {
            Some(exif) => with_exif(&bytes, exif),
            None => Ok(bytes),
        }
    }

    fn assemble(self) -> Result<Vec<u8>, Error> {
        use libwebp_sys as sys;
        // SAFETY: the encoder is live; the assembled data is copied out and freed.
        unsafe {
            // The end of the last frame: this is what gives it its delay.
            sys::WebPAnimEncoderAdd(self.enc, std::ptr::null_mut(), self.timestamp, std::ptr::null());
            let mut data = sys::WebPData::default();
            if sys::WebPAnimEncoderAssemble(self.enc, &mut data) == 0 {
                return Err(encode_failed(Format::Webp, "assemble"));
            }
            let out = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
            sys::WebPDataClear(&mut data);
            Ok(out)
        }
    }
}

/// Adds an EXIF chunk to a WebP file (libwebp's muxer writes the VP8X header it needs).
fn with_exif(webp: &[u8], exif: &[u8]) -> Result<Vec<u8>, Error> {
    with_chunk(webp, c"EXIF", exif)
}

/// Adds a metadata chunk (`EXIF`, `ICCP`, `XMP `) to a WebP file, through libwebp's muxer.
pub(super) fn with_chunk(webp: &[u8], fourcc: &std::ffi::CStr, data: &[u8]) -> Result<Vec<u8>, Error> {
    use libwebp_sys as sys;
    let failed = || encode_failed(Format::Webp, fourcc.to_string_lossy());
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
            bytes: data.as_ptr(),
            size: data.len(),
        };
        let mut out = sys::WebPData::default();
        let ok = sys::WebPMuxSetChunk(mux, fourcc.as_ptr(), &chunk, 1) == sys::WebPMuxError::WEBP_MUX_OK
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
