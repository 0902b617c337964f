//! GIF: screen size and frame count read by hand, decode through `image` (lenient with a damaged
//! last frame), encode through the `gif` crate with one palette for all frames and, for opaque
//! animations, only the box that changed in later frames.

use super::common::{
    encode_failed, image_err, le16, truncated, Animation, DecodeOptions, Decoded, HeaderInfo,
};
use crate::edits::Format;
use crate::error::Error;
use crate::pipeline::picture::{Frame, Picture};
use crate::pipeline::settings::FailOn;
use image::ImageDecoder;
use std::io::Cursor;

/// Reads the logical screen and counts image descriptors, skipping LZW data sub-block by
/// sub-block. Frames larger than the screen count with their own size.
pub(super) fn read_header(b: &[u8]) -> Option<HeaderInfo> {
    walk(b).map(|(info, _)| info)
}

/// The header walk; the flag is true when the walk reached the trailer byte (the file is whole).
fn walk(b: &[u8]) -> Option<(HeaderInfo, bool)> {
    let (mut width, mut height) = (le16(b, 6)?, le16(b, 8)?);
    let flags = *b.get(10)?;
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 7) + 1);
    }
    let skip_sub_blocks = |mut i: usize| -> Option<usize> {
        loop {
            let len = *b.get(i)? as usize;
            i += 1 + len;
            if len == 0 {
                return Some(i);
            }
        }
    };
    let mut frames = 0;
    let mut whole = false;
    loop {
        match b.get(i) {
            Some(0x21) => i = skip_sub_blocks(i + 2)?,
            Some(0x2C) => {
                let w = le16(b, i + 5)?;
                let h = le16(b, i + 7)?;
                width = width.max(w);
                height = height.max(h);
                let local = *b.get(i + 9)?;
                i += 10;
                if local & 0x80 != 0 {
                    i += 3 << ((local & 7) + 1);
                }
                frames += 1;
                // A truncated last frame still counts: the decoder is lenient with it.
                match skip_sub_blocks(i + 1) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            Some(0x3B) => {
                whole = true;
                break;
            }
            // End of data, or garbage after the last frame.
            _ => break,
        }
    }
    let info = HeaderInfo {
        width,
        height,
        frames,
        orientation: 1,
    };
    (frames > 0).then_some((info, whole))
}

pub(super) fn decode(bytes: &[u8], opts: DecodeOptions) -> Result<Decoded, Error> {
    animation(bytes, opts.fail_on)?.collect(opts.animated, opts.fail_on)
}

/// The frames composed on the logical screen by `image` (disposal applied), one at a time. A
/// file without its trailer is truncated: refused under `FAIL_ON=warning`, else marked damaged
/// (the `gif` crate may return a cut frame without an error).
pub(super) fn animation(bytes: &[u8], fail_on: FailOn) -> Result<Animation<'_>, Error> {
    let whole = walk(bytes).is_some_and(|(_, whole)| whole);
    if !whole && fail_on == FailOn::Warning {
        return Err(truncated("GIF data ends before its trailer"));
    }
    use image::AnimationDecoder;
    let mut decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(image_err)?;
    decoder
        .set_limits(image::Limits::no_limits())
        .map_err(image_err)?;
    let size = decoder.dimensions();
    let frames = decoder.into_frames().map(move |frame| {
        let frame = frame.map_err(|e| match whole {
            true => image_err(e),
            false => truncated("GIF data ends inside a frame"),
        })?;
        let (num, den) = frame.delay().numer_denom_ms();
        Ok(Frame::new(
            frame.into_buffer(),
            if den == 0 { 0 } else { num / den },
        ))
    });
    Ok(Animation {
        size,
        loop_count: loop_count(bytes),
        icc: None,
        exif: None,
        orientation: 1,
        damaged: !whole,
        frames: Box::new(frames),
    })
}

/// Number of plays (0 = forever, as WebP counts): the NETSCAPE2.0 extension counts repeats
/// after the first play, and its absence means "play once".
fn loop_count(bytes: &[u8]) -> u16 {
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

pub(super) fn encode(picture: &Picture) -> Result<Vec<u8>, Error> {
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
        // The palette and transparency work on RGBA.
        let frames: Vec<_> = picture.frames.iter().map(|f| f.pixels.to_rgba()).collect();
        let palette = GifPalette::new(&frames);
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
        let translucent = frames
            .iter()
            .any(|f| f.as_raw().chunks_exact(4).any(|p| p[3] < 128));
        let mut previous: Option<Vec<u8>> = None;
        for (f, px) in picture.frames.iter().zip(&frames) {
            let indices: Vec<u8> = px.as_raw().chunks_exact(4).map(|p| palette.index(p)).collect();
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
    fn new(frames: &[std::borrow::Cow<'_, image::RgbaImage>]) -> GifPalette {
        let opaque = || {
            frames
                .iter()
                .flat_map(|f| f.as_raw().chunks_exact(4))
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

#[cfg(test)]
mod tests {
    use super::*;
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
            frames: frames.into_iter().map(|pixels| Frame::new(pixels, 50)).collect(),
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
        let bytes = encode(&picture).unwrap();
        assert_eq!(decode_gif(&bytes), vec![first.clone(), second.clone(), second]);
        // Three full frames would repeat the 1 200 pixels three times.
        let full = encode(&animation(vec![first.clone()])).unwrap();
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
        let out = decode_gif(&encode(&animation(vec![frame.clone(), frame.clone()])).unwrap());
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
}
