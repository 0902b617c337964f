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
    // sharp's `bitdepth` (8 by default; 10 and 12 give rav1e's 10 bits). ravif would pick 10
    // bits by itself, which is slower to encode and which 8-bit-only AV1 decoders (libvips'
    // prebuilt aom among them) refuse.
    let ten_bits = opts
        .other
        .get("bitdepth")
        .and_then(|d| d.as_u64())
        .is_some_and(|d| d >= 10);
    let encoder = ravif::Encoder::new()
        .with_bit_depth(if ten_bits {
            ravif::BitDepth::Ten
        } else {
            ravif::BitDepth::Eight
        })
        .with_quality(ravif_quality(quality(opts, 50)))
        .with_alpha_quality(ravif_quality(quality(opts, 50)))
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

/// The ravif quality whose AV1 quantizer (base_q_idx) is the one libheif gives libaom for
/// sharp's `quality`, so a quality means the same size and fidelity as in sharp/SIH. ravif's own
/// scale is coarser: its 50 is index 159, sharp's 50 is index 128.
fn ravif_quality(sharp_quality: u8) -> f32 {
    // libheif: cq-level = ((100 - q) × 63 + 50) / 100, in aom's 0–63 quantizer scale; aom's
    // quantizer_to_qindex table is 4 × q up to 60, then 244, 249, 255.
    let cq = ((100 - sharp_quality.min(100) as u32) * 63 + 50) / 100;
    let qindex = match cq {
        0..=60 => cq * 4,
        61 => 244,
        62 => 249,
        _ => 255,
    };
    // Inverse of ravif's quality_to_quantizer (piecewise linear in q = quality / 100).
    let x = qindex as f32 / 255.0;
    let q = if x <= 0.18 * 2.6 {
        1.0 - x / 2.6
    } else if x < 0.75 {
        (0.875 - x) * 2.0
    } else {
        1.0 - x
    };
    (q * 100.0).clamp(1.0, 100.0)
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
        let palette = GifPalette::new(picture);
        let mut enc =
            gif::Encoder::new(&mut out, w16, h16, &palette.rgb).map_err(|e| encode_failed(Format::Gif, e))?;
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
        // GIF transparency is one bit: alpha < 128 is transparent.
        let translucent = picture
            .frames
            .iter()
            .any(|f| f.pixels.as_raw().chunks_exact(4).any(|p| p[3] < 128));
        let mut previous: Option<Vec<u8>> = None;
        for f in &picture.frames {
            let indices: Vec<u8> = f
                .pixels
                .as_raw()
                .chunks_exact(4)
                .map(|p| palette.index(p))
                .collect();
            let mut frame = match &previous {
                // Later frames of an opaque animation store only the box of pixels that changed,
                // unchanged ones transparent so the previous frame shows through (as libvips'
                // cgif does): far fewer bytes for the same picture.
                Some(prev) if !translucent => changed_box(&indices, prev, w16, h16),
                _ => {
                    let mut frame = gif::Frame::from_indexed_pixels(
                        w16,
                        h16,
                        indices.clone(),
                        translucent.then_some(GIF_TRANSPARENT),
                    );
                    // Opaque: later frames are drawn over this one, so it is kept. Translucent:
                    // every frame is whole, and its transparent pixels must not show the last.
                    frame.dispose = match translucent {
                        true => gif::DisposalMethod::Background,
                        false => gif::DisposalMethod::Keep,
                    };
                    frame
                }
            };
            frame.delay = (f.delay_ms / 10).min(u16::MAX as u32) as u16;
            enc.write_frame(&frame)
                .map_err(|e| encode_failed(Format::Gif, e))?;
            previous = Some(indices);
        }
    }
    Ok(out)
}

/// The palette index kept for transparent pixels.
const GIF_TRANSPARENT: u8 = 255;

/// One palette for every frame (libvips also reuses one palette while it fits): the exact
/// colours when there are at most 255, else 255 colours learned by NeuQuant (color_quant;
/// libimagequant, which sharp uses, is GPL) over all frames.
struct GifPalette {
    /// 256 RGB entries; the last is the transparent one.
    rgb: Vec<u8>,
    exact: Option<std::collections::HashMap<[u8; 3], u8>>,
    quant: Option<color_quant::NeuQuant>,
}

impl GifPalette {
    fn new(picture: &Picture) -> GifPalette {
        let opaque = || {
            picture
                .frames
                .iter()
                .flat_map(|f| f.pixels.as_raw().chunks_exact(4))
                .filter(|p| p[3] >= 128)
        };
        let mut exact = std::collections::HashMap::new();
        for p in opaque() {
            let next = exact.len();
            exact.entry([p[0], p[1], p[2]]).or_insert(next as u8);
            if exact.len() > GIF_TRANSPARENT as usize {
                break;
            }
        }
        let mut rgb = vec![0u8; 256 * 3];
        if exact.len() <= GIF_TRANSPARENT as usize {
            for (c, &i) in &exact {
                rgb[i as usize * 3..i as usize * 3 + 3].copy_from_slice(c);
            }
            return GifPalette {
                rgb,
                exact: Some(exact),
                quant: None,
            };
        }
        let samples: Vec<u8> = opaque().flat_map(|p| [p[0], p[1], p[2], 255]).collect();
        // NeuQuant learns from every `factor`-th pixel: all of them up to a million, then fewer,
        // so long animations stay fast (its range is 1–30).
        let factor = (samples.len() / 4 / 1_000_000).clamp(1, 30) as i32;
        let quant = color_quant::NeuQuant::new(factor, GIF_TRANSPARENT as usize, &samples);
        let map = quant.color_map_rgb();
        rgb[..map.len()].copy_from_slice(&map);
        GifPalette {
            rgb,
            exact: None,
            quant: Some(quant),
        }
    }

    fn index(&self, p: &[u8]) -> u8 {
        if p[3] < 128 {
            return GIF_TRANSPARENT;
        }
        match (&self.exact, &self.quant) {
            (Some(exact), _) => exact.get(&[p[0], p[1], p[2]]).copied().unwrap_or(0),
            (None, Some(quant)) => quant.index_of(&[p[0], p[1], p[2], 255]) as u8,
            (None, None) => 0,
        }
    }
}

/// The smallest frame that turns `prev` into `indices` on a kept (not disposed) canvas.
fn changed_box(indices: &[u8], prev: &[u8], w: u16, h: u16) -> gif::Frame<'static> {
    let (w, h) = (w as usize, h as usize);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if indices[y * w + x] != prev[y * w + x] {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            }
        }
    }
    if x0 >= x1 {
        // Nothing changed: one transparent pixel still carries the frame's delay.
        (x0, y0, x1, y1) = (0, 0, 1, 1);
    }
    let mut pixels = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        for x in x0..x1 {
            let i = y * w + x;
            pixels.push(if indices[i] == prev[i] {
                GIF_TRANSPARENT
            } else {
                indices[i]
            });
        }
    }
    let mut frame =
        gif::Frame::from_indexed_pixels((x1 - x0) as u16, (y1 - y0) as u16, pixels, Some(GIF_TRANSPARENT));
    frame.left = x0 as u16;
    frame.top = y0 as u16;
    frame.dispose = gif::DisposalMethod::Keep;
    frame
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::picture::Frame;
    use image::{AnimationDecoder, Rgba, RgbaImage};

    fn decode_gif(bytes: &[u8]) -> Vec<RgbaImage> {
        image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes))
            .unwrap()
            .into_frames()
            .map(|f| f.unwrap().into_buffer())
            .collect()
    }

    fn animation(frames: Vec<RgbaImage>) -> Picture {
        Picture {
            frames: frames
                .into_iter()
                .map(|pixels| Frame { pixels, delay_ms: 50 })
                .collect(),
            loop_count: 0,
            has_alpha: true,
        }
    }

    #[test]
    fn gif_frames_store_only_what_changed_and_decode_exactly() {
        // 240 colours: the palette is exact, so the frames must come back bit for bit.
        let first = RgbaImage::from_fn(40, 30, |x, y| Rgba([(x * 6) as u8, (y % 6 * 40) as u8, 90, 255]));
        let mut second = first.clone();
        for (x, y) in [(10, 5), (12, 7)] {
            second.put_pixel(x, y, Rgba([255, 0, 0, 255]));
        }
        let picture = animation(vec![first.clone(), second.clone(), second.clone()]);
        let bytes = gif(&picture).unwrap();
        assert_eq!(decode_gif(&bytes), vec![first.clone(), second.clone(), second]);
        // Three full frames would repeat the 1 200 pixels three times.
        let full = gif(&animation(vec![first.clone()])).unwrap();
        assert!(
            bytes.len() < full.len() + 200,
            "{} vs {}",
            bytes.len(),
            full.len()
        );
    }

    #[test]
    fn gif_with_many_colours_is_close_and_transparency_kept() {
        let frame = RgbaImage::from_fn(64, 64, |x, y| {
            let a = if x < 8 { 0 } else { 255 };
            Rgba([(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8, a])
        });
        let out = decode_gif(&gif(&animation(vec![frame.clone(), frame.clone()])).unwrap());
        assert_eq!(out.len(), 2);
        for img in &out {
            for (p, q) in frame.pixels().zip(img.pixels()) {
                assert_eq!(p[3], q[3]);
                if p[3] == 255 {
                    let err = (0..3).map(|c| p[c].abs_diff(q[c]) as u32).max().unwrap();
                    assert!(err <= 24, "{p:?} → {q:?}");
                }
            }
        }
    }

    #[test]
    fn avif_quality_means_what_it_means_in_sharp() {
        // libheif gives aom quantizer index 128 for quality 50; ravif's 74.6 is index 128.
        assert!((ravif_quality(50) - 74.6).abs() < 0.1);
        assert_eq!(ravif_quality(100), 100.0);
        assert!(ravif_quality(1) < ravif_quality(30) && ravif_quality(30) < ravif_quality(80));
    }
}
