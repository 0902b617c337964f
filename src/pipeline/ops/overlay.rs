//! `overlayWith` (SIH watermark): decode the prefetched overlay, scale it `inside`
//! `wRatio`%×`hRatio`% of the current image, fade it by `alpha`%, and draw it at `left`/`top`
//! (pixels, `"Np"` percent, negative = from the right/bottom) or centred.

use super::context::OpContext;
use super::resize;
use crate::edits::{NumOrString, Overlay, Resize};
use crate::error::Error;
use crate::pipeline::picture::Picture;
use image::RgbaImage;

pub fn overlay(o: &Overlay, pic: Picture, ctx: &OpContext) -> Result<Picture, Error> {
    let bytes = ctx
        .resources
        .overlays
        .get(&(o.bucket.clone(), o.key.clone()))
        .ok_or_else(|| {
            Error::new(
                500,
                "InternalError",
                format!(
                    "Overlay {}/{} was not fetched before processing.",
                    o.bucket, o.key
                ),
            )
        })?;
    let slot = (o.bucket.clone(), o.key.clone());
    let (mut ovl, ovl_alpha) = decode_overlay(bytes, ctx.resources.overlay_faces.get(&slot), ctx)?;
    let (bw, bh) = (pic.width(), pic.height());

    // SIH: a ratio counts only if it is an integer 0–100 written plainly.
    let w = percent(o.w_ratio.as_ref()).map(|r| (bw as u64 * r as u64 / 100) as u32);
    let h = percent(o.h_ratio.as_ref()).map(|r| (bh as u64 * r as u64 / 100) as u32);
    if w == Some(0) || h == Some(0) {
        return Err(Error::invalid_edit(
            "overlayWith",
            "wRatio/hRatio make the overlay 0 pixels wide",
        ));
    }
    if w.is_some() || h.is_some() {
        let r = Resize {
            width: Some(w),
            height: Some(h),
            fit: Some(crate::edits::Fit::Inside),
            ..Resize::default()
        };
        let size = super::geometry::planned_size(&r, ovl.width(), ovl.height())?;
        ovl = resize::resample_default(ovl, size, ovl_alpha)?;
    }

    // alpha: 0 = opaque … 100 = invisible; anything else counts as 0. SIH multiplies by a
    // byte, `Buffer.from([255 * (1 - a/100)])`, which truncates.
    let keep = (255.0 * (1.0 - percent(o.alpha.as_ref()).unwrap_or(0) as f64 / 100.0)) as u32;
    if keep < 255 {
        for p in ovl.pixels_mut() {
            p[3] = ((p[3] as u32 * keep + 127) / 255) as u8;
        }
    }

    let (ow, oh) = ovl.dimensions();
    if ow > bw || oh > bh {
        return Err(Error::new(
            400,
            "BadRequest",
            "Image to overlay must have same dimensions or smaller",
        ));
    }
    let opts = o.options.as_ref();
    let left = opts.and_then(|x| x.left.as_ref());
    let top = opts.and_then(|x| x.top.as_ref());
    let (x, y) = match (left, top) {
        (None, None) => ((bw - ow).div_ceil(2) as i64, (bh - oh).div_ceil(2) as i64),
        (Some(l), Some(t)) => (
            position("overlayWith", l, bw, ow)?,
            position("overlayWith", t, bh, oh)?,
        ),
        _ => {
            return Err(Error::invalid_edit(
                "overlayWith",
                "give both left and top, or neither",
            ))
        }
    };
    pic.map_frames(|mut px| {
        draw_over(&mut px, &ovl, x, y);
        Ok(px)
    })
}

/// Decodes the overlay like an original (format sniffed, size limits checked before decoding,
/// ICC profile converted to sRGB, EXIF orientation applied); only the first frame is used.
/// With `faces` (an overlay read from a `FORCE_BLUR_FACES` original), its faces are blurred
/// with the default strength before it is composited, or a watermark could show them.
fn decode_overlay(
    bytes: &[u8],
    faces: Option<&crate::faces::FaceJob>,
    ctx: &OpContext,
) -> Result<(RgbaImage, bool), Error> {
    use crate::pipeline::{codecs, color_profile, limits, orient, sniff};
    let format = sniff::sniff(bytes).ok_or_else(|| {
        Error::bad_request(
            "UnsupportedInputFormat",
            "The overlay is not an image format pixfront can read.",
        )
    })?;
    if format != sniff::InputFormat::Svg {
        let info = codecs::read_header(bytes, format)?;
        limits::check_input(info.width, info.height, ctx.config)?;
    }
    let mut decoded = codecs::decode(bytes, format, codecs::DecodeOptions::default(), ctx.config)?;
    if let Some(icc) = decoded.icc.as_deref() {
        color_profile::to_srgb(&mut decoded.picture, icc);
    }
    let mut picture = orient::apply(decoded.picture, decoded.orientation);
    if let Some(job) = faces {
        picture = super::faces::blur_with_job(job, &Default::default(), picture, 1.0)?;
    }
    let has_alpha = picture.has_alpha;
    let first = picture.frames.swap_remove(0);
    Ok((first.pixels.into_rgba(), has_alpha))
}

fn as_text(v: &NumOrString) -> String {
    match v {
        NumOrString::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        NumOrString::Number(n) => n.to_string(),
        NumOrString::String(s) => s.clone(),
    }
}

/// `^(100|[1-9]?\d)$`, as SIH tests wRatio, hRatio and alpha.
fn percent(v: Option<&NumOrString>) -> Option<u32> {
    let s = as_text(v?);
    let ok = match s.len() {
        1 => s.as_bytes()[0].is_ascii_digit(),
        2 => s.as_bytes()[0] != b'0' && s.bytes().all(|b| b.is_ascii_digit()),
        3 => s == "100",
        _ => false,
    };
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// SIH's offset rules: `N` → N, or `base + N − overlay` when negative; `"Np"` → N% of the base
/// (`parseInt`, so `"25.5p"` is 25%), from the far edge when negative; floored. `edit` names
/// the edit in the error (`textOverlay` places its text the same way).
pub(super) fn position(edit: &str, v: &NumOrString, base: u32, ovl: u32) -> Result<i64, Error> {
    let (base, ovl) = (base as f64, ovl as f64);
    let s = as_text(v);
    let s = s.trim();
    let bad = || Error::invalid_edit(edit, format!("invalid offset {s:?}"));
    let pos = if let Some(p) = s.strip_suffix('p') {
        let n = parse_int(p).ok_or_else(bad)? as f64;
        if n < 0.0 {
            base + base * n / 100.0 - ovl
        } else {
            base * n / 100.0
        }
    } else {
        let n: f64 = if s.is_empty() {
            0.0
        } else {
            s.parse().map_err(|_| bad())?
        };
        if !n.is_finite() {
            return Err(bad());
        }
        if n < 0.0 {
            base + n - ovl
        } else {
            n
        }
    };
    Ok(pos.floor() as i64)
}

/// JavaScript's `parseInt`: optional sign and leading digits, the rest ignored.
fn parse_int(s: &str) -> Option<i64> {
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

/// Porter-Duff "over", clipped to the base.
pub(super) fn draw_over(base: &mut RgbaImage, ovl: &RgbaImage, x: i64, y: i64) {
    for (ox, oy, s) in ovl.enumerate_pixels() {
        let (bx, by) = (x + ox as i64, y + oy as i64);
        if bx < 0 || by < 0 || bx >= base.width() as i64 || by >= base.height() as i64 {
            continue;
        }
        let d = base.get_pixel_mut(bx as u32, by as u32);
        let sa = s[3] as f32 / 255.0;
        let da = d[3] as f32 / 255.0;
        let oa = sa + da * (1.0 - sa);
        if oa <= 0.0 {
            d.0 = [0, 0, 0, 0];
            continue;
        }
        for c in 0..3 {
            let v = (s[c] as f32 * sa + d[c] as f32 * da * (1.0 - sa)) / oa;
            d[c] = v.round().clamp(0.0, 255.0) as u8;
        }
        d[3] = (oa * 255.0).round() as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_sih() {
        let s = |v: &str| NumOrString::String(v.into());
        assert_eq!(position("overlayWith", &s("10"), 100, 20).unwrap(), 10);
        assert_eq!(position("overlayWith", &s("-10"), 100, 20).unwrap(), 70);
        assert_eq!(position("overlayWith", &s("25p"), 100, 20).unwrap(), 25);
        assert_eq!(position("overlayWith", &s("25.5p"), 100, 20).unwrap(), 25);
        assert_eq!(position("overlayWith", &s("-10p"), 100, 20).unwrap(), 70);
        assert_eq!(
            position("overlayWith", &NumOrString::Number(-5.0), 50, 10).unwrap(),
            35
        );
        assert!(position("overlayWith", &s("abc"), 100, 20).is_err());
    }

    #[test]
    fn ratios_match_sih_pattern() {
        let s = |v: &str| Some(NumOrString::String(v.into()));
        assert_eq!(percent(s("100").as_ref()), Some(100));
        assert_eq!(percent(s("7").as_ref()), Some(7));
        assert_eq!(percent(s("07").as_ref()), None);
        assert_eq!(percent(s("101").as_ref()), None);
        assert_eq!(percent(Some(&NumOrString::Number(20.0))), Some(20));
        assert_eq!(percent(Some(&NumOrString::Number(20.5))), None);
    }
}
