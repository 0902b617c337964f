//! sharp's resize geometry: which size the image is scaled to and which canvas it ends on, for
//! every fit. A transcription of sharp's `ResolveShrink` (src/common.cc) and the crop/embed step
//! of its pipeline (src/pipeline.cc), checked row by row against sharp itself in
//! tests/ops_geometry.rs (table made by scripts/sharp-geometry/).

use crate::edits::errors::invalid_resize;
use crate::edits::{Fit, Resize};
use crate::error::Error;

/// The outcome of a resize: scale to `scaled`, then crop (cover) or embed (contain) to `canvas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub fit: Fit,
    pub scaled: (u32, u32),
    pub canvas: (u32, u32),
}

/// Target width and height after SIH's `ratio` rule: `round(W·ratio)`, `round(H·ratio)` of the
/// explicit width and height when both are given, else of `original`; a ratio makes `inside` the
/// default fit.
pub fn targets(resize: &Resize, original: (u32, u32)) -> Result<(Option<u32>, Option<u32>, Fit), Error> {
    let width = resize.width.flatten();
    let height = resize.height.flatten();
    let Some(ratio) = resize.ratio else {
        return Ok((width, height, resize.fit.unwrap_or(Fit::Cover)));
    };
    if !(ratio.is_finite() && ratio > 0.0) {
        return Err(invalid_resize());
    }
    let (bw, bh) = match (width, height) {
        (Some(w), Some(h)) => (w, h),
        _ => original,
    };
    // JavaScript's Math.round: halves go up.
    let scale = |v: u32| (v as f64 * ratio + 0.5).floor();
    let (w, h) = (scale(bw), scale(bh));
    if !(1.0..=u32::MAX as f64).contains(&w) || !(1.0..=u32::MAX as f64).contains(&h) {
        return Err(invalid_resize());
    }
    Ok((Some(w as u32), Some(h as u32), resize.fit.unwrap_or(Fit::Inside)))
}

/// sharp's geometry for resizing an `in_w`×`in_h` image.
pub fn plan(resize: &Resize, in_w: u32, in_h: u32, original: (u32, u32)) -> Result<Plan, Error> {
    let (tw, th, fit) = targets(resize, original)?;
    let (hshrink, vshrink) = resolve_shrink(in_w, in_h, tw, th, fit, flags(resize));
    let scaled = if hshrink != 1.0 || vshrink != 1.0 {
        (scaled_len(in_w, hshrink), scaled_len(in_h, vshrink))
    } else {
        (in_w, in_h)
    };
    // sharp: a missing target takes the scaled size; then cover crops and contain embeds.
    let want = (tw.unwrap_or(scaled.0), th.unwrap_or(scaled.1));
    let canvas = match fit {
        Fit::Cover => (want.0.min(scaled.0), want.1.min(scaled.1)),
        Fit::Contain => (want.0.max(scaled.0), want.1.max(scaled.1)),
        Fit::Fill | Fit::Inside | Fit::Outside => scaled,
    };
    Ok(Plan { fit, scaled, canvas })
}

/// libvips' `vips_resize` output length for a scale of `1/shrink`: rounded to nearest.
fn scaled_len(len: u32, shrink: f64) -> u32 {
    ((len as f64 / shrink).round() as u32).max(1)
}

/// `withoutEnlargement` and `withoutReduction` as sharp reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub without_enlargement: bool,
    pub without_reduction: bool,
}

pub fn flags(r: &Resize) -> Limits {
    Limits {
        without_enlargement: r.without_enlargement == Some(true),
        without_reduction: r.without_reduction == Some(true),
    }
}

/// sharp's `ResolveShrink`: the horizontal and vertical shrink factors (input / output) that
/// take a `w`×`h` image to the targets under `fit`.
pub fn resolve_shrink(
    w: u32,
    h: u32,
    tw: Option<u32>,
    th: Option<u32>,
    fit: Fit,
    limits: Limits,
) -> (f64, f64) {
    let (w, h) = (w as f64, h as f64);
    let (mut hs, mut vs) = (1.0, 1.0);
    match (tw, th) {
        (Some(tw), Some(th)) => {
            hs = w / tw as f64;
            vs = h / th as f64;
            match fit {
                Fit::Cover | Fit::Outside => {
                    let m = hs.min(vs);
                    (hs, vs) = (m, m);
                }
                Fit::Contain | Fit::Inside => {
                    let m = hs.max(vs);
                    (hs, vs) = (m, m);
                }
                Fit::Fill => {}
            }
        }
        (Some(tw), None) => {
            hs = w / tw as f64;
            if fit != Fit::Fill {
                vs = hs;
            }
        }
        (None, Some(th)) => {
            vs = h / th as f64;
            if fit != Fit::Fill {
                hs = vs;
            }
        }
        (None, None) => {}
    }
    if limits.without_reduction {
        hs = hs.min(1.0);
        vs = vs.min(1.0);
    } else if limits.without_enlargement {
        hs = hs.max(1.0);
        vs = vs.max(1.0);
    }
    // Never shrink an axis to nothing.
    (hs.min(w), vs.min(h))
}

/// Final width × height of `resize` applied to an `in_w`×`in_h` image, exactly as sharp
/// computes it. `ratio` scales `in_w`×`in_h` (call it with the original's size).
pub fn planned_size(resize: &Resize, in_w: u32, in_h: u32) -> Result<(u32, u32), Error> {
    if in_w == 0 || in_h == 0 {
        return Err(invalid_resize());
    }
    Ok(plan(resize, in_w, in_h, (in_w, in_h))?.canvas)
}
