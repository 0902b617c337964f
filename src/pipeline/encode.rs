//! [`Picture`] → bytes in the output format, with sharp's defaults (JPEG q80 4:2:0, WebP q80
//! effort 4, AVIF q50, PNG level 6, palette PNG when `quality`/`palette` is asked).

use super::picture::Picture;
use crate::edits::{Format, FormatOptions};
use crate::error::Error;

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

fn encode_failed(format: Format, why: impl std::fmt::Display) -> Error {
    Error::new(
        500,
        "EncodeError",
        format!("Encoding {} failed: {why}", format.name()),
    )
}

/// Unsupported output formats answer 400 with SIH's code (SIH itself answers 500).
pub fn unsupported_output(format: Format) -> Error {
    Error::bad_request(
        "UnsupportedOutputImageFormatException",
        format!("Format to {} not supported", format.name()),
    )
}

/// Encodes `picture` as `format`. Animated pictures keep their frames in GIF and WebP; other
/// formats get the first frame.
pub fn encode(picture: &Picture, format: Format, settings: &EncodeOptions) -> Result<Vec<u8>, Error> {
    let opts = &settings.options;
    let exif = settings.exif.as_deref();
    match format {
        Format::Jpeg => jpeg(picture, opts, exif),
        Format::Png => png(picture, opts, exif),
        Format::Webp => {
            let bytes = webp(picture, opts, settings.effort)?;
            match exif {
                Some(exif) => webp_with_exif(&bytes, exif),
                None => Ok(bytes),
            }
        }
        Format::Avif => avif(picture, opts),
        Format::Gif => gif(picture),
        Format::Tiff => tiff(picture),
        Format::Raw => Ok(picture.frames[0].pixels.as_raw().clone()),
        Format::Heif => Err(unsupported_output(format)),
    }
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

fn jpeg(picture: &Picture, opts: &FormatOptions, exif: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    use mozjpeg::{ColorSpace, Compress, Marker};
    let px = &picture.frames[0].pixels;
    let (w, h) = (px.width() as usize, px.height() as usize);
    let rgb = (!is_opaque(px.as_raw())).then(|| flatten_rgb(px.as_raw()));
    let q = quality(opts, 80);
    let progressive = opts.progressive.unwrap_or(false);
    let subsample = opts.chroma_subsampling.as_deref() != Some("4:4:4");
    let run = || -> std::io::Result<Vec<u8>> {
        let (space, data) = match &rgb {
            Some(rgb) => (ColorSpace::JCS_RGB, rgb.as_slice()),
            None => (ColorSpace::JCS_EXT_RGBA, px.as_raw().as_slice()),
        };
        let mut c = Compress::new(space);
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
        started.write_scanlines(data)?;
        started.finish()
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(encode_failed(Format::Jpeg, e)),
        Err(_) => Err(encode_failed(Format::Jpeg, "libjpeg error")),
    }
}

fn png(picture: &Picture, opts: &FormatOptions, exif: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let px = &picture.frames[0].pixels;
    let (w, h) = px.dimensions();
    let rgba = px.as_raw();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(match opts.compression_level.unwrap_or(6) {
        0..=2 => png::Compression::Fast,
        3..=6 => png::Compression::Default,
        _ => png::Compression::Best,
    });
    let palette = opts.palette.unwrap_or(false) || opts.quality.is_some();
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
    } else if is_opaque(rgba) {
        enc.set_color(png::ColorType::Rgb);
        rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
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

fn webp_config(opts: &FormatOptions, effort: Option<u8>) -> Result<webp::WebPConfig, Error> {
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

fn webp(picture: &Picture, opts: &FormatOptions, effort: Option<u8>) -> Result<Vec<u8>, Error> {
    let config = webp_config(opts, effort)?;
    let first = &picture.frames[0].pixels;
    let (w, h) = first.dimensions();
    if picture.is_animated() {
        return webp_animation(picture, &config);
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
fn webp_animation(picture: &Picture, config: &webp::WebPConfig) -> Result<Vec<u8>, Error> {
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
fn webp_with_exif(webp: &[u8], exif: &[u8]) -> Result<Vec<u8>, Error> {
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

fn avif(picture: &Picture, opts: &FormatOptions) -> Result<Vec<u8>, Error> {
    use ravif::{Img, RGB8, RGBA8};
    let px = &picture.frames[0].pixels;
    let (w, h) = (px.width() as usize, px.height() as usize);
    // sharp's effort 0 (fastest) – 9 (slowest), default 4; rav1e's speed is 10 (fastest) – 1.
    let effort = opts.effort.unwrap_or(4).min(9);
    let encoder = ravif::Encoder::new()
        .with_quality(quality(opts, 50) as f32)
        .with_alpha_quality(quality(opts, 50) as f32)
        .with_speed(10 - effort.min(9))
        .with_num_threads(None);
    let encoded = if is_opaque(px.as_raw()) {
        let rgb: Vec<RGB8> = px.pixels().map(|p| RGB8::new(p[0], p[1], p[2])).collect();
        encoder.encode_rgb(Img::new(rgb.as_slice(), w, h))
    } else {
        let rgba: Vec<RGBA8> = px.pixels().map(|p| RGBA8::new(p[0], p[1], p[2], p[3])).collect();
        encoder.encode_rgba(Img::new(rgba.as_slice(), w, h))
    };
    encoded
        .map(|e| e.avif_file)
        .map_err(|e| encode_failed(Format::Avif, e))
}

fn gif(picture: &Picture) -> Result<Vec<u8>, Error> {
    let (w, h) = (picture.width(), picture.height());
    let (w16, h16) = match (u16::try_from(w), u16::try_from(h)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => {
            return Err(Error::bad_request(
                "OutputTooLarge",
                "GIF images are at most 65535 pixels wide and high.",
            ))
        }
    };
    let mut out = Vec::new();
    {
        let mut enc =
            gif::Encoder::new(&mut out, w16, h16, &[]).map_err(|e| encode_failed(Format::Gif, e))?;
        if picture.is_animated() {
            // `loop_count` counts plays; GIF's NETSCAPE extension counts repeats after the first,
            // and its absence means "play once".
            let repeat = match picture.loop_count {
                0 => Some(gif::Repeat::Infinite),
                1 => None,
                n => Some(gif::Repeat::Finite(n - 1)),
            };
            if let Some(repeat) = repeat {
                enc.set_repeat(repeat)
                    .map_err(|e| encode_failed(Format::Gif, e))?;
            }
        }
        for f in &picture.frames {
            let mut rgba = f.pixels.as_raw().clone();
            // Speed 10: the quantiser samples every 10th pixel; sharp/libvips' GIF saver is
            // similarly tuned for speed over palette quality.
            let mut frame = gif::Frame::from_rgba_speed(w16, h16, &mut rgba, 10);
            frame.delay = (f.delay_ms / 10).min(u16::MAX as u32) as u16;
            frame.dispose = gif::DisposalMethod::Background;
            enc.write_frame(&frame)
                .map_err(|e| encode_failed(Format::Gif, e))?;
        }
    }
    Ok(out)
}

fn tiff(picture: &Picture) -> Result<Vec<u8>, Error> {
    let px = &picture.frames[0].pixels;
    let mut out = std::io::Cursor::new(Vec::new());
    let img = if is_opaque(px.as_raw()) {
        image::DynamicImage::ImageRgb8(image::DynamicImage::ImageRgba8(px.clone()).into_rgb8())
    } else {
        image::DynamicImage::ImageRgba8(px.clone())
    };
    img.write_to(&mut out, image::ImageFormat::Tiff)
        .map_err(|e| encode_failed(Format::Tiff, e))?;
    Ok(out.into_inner())
}
