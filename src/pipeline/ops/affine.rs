//! `affine` with libvips' conventions as sharp 0.35 calls them: the output is the bounding box
//! of the transformed input rectangle (edges rounded), each output pixel (X, Y) samples the
//! input at M⁻¹·(X + left − odx, Y + top − ody) − (idx, idy) with pixel centres on integers
//! (so a flop loses one edge column, as in libvips), and outside the input is the background.
//! Bilinear (sharp's default), bicubic (Catmull-Rom) or nearest; alpha premultiplied.

use super::context::{check_output_size, OpContext};
use crate::edits::{Affine, Color, Interpolator};
use crate::error::Error;
use crate::pipeline::picture::Picture;
use image::{Rgba, RgbaImage};

fn bad(message: impl std::fmt::Display) -> Error {
    Error::invalid_edit("affine", message)
}

pub fn affine(af: &Affine, pic: Picture, ctx: &OpContext) -> Result<Picture, Error> {
    if pic.is_animated() {
        return Err(bad("not supported for animated images (as in sharp)"));
    }
    let [a, b, c, d] = af.matrix;
    let det = a * d - b * c;
    let (w, h) = (pic.width(), pic.height());
    let ((ow, oh), (left, top)) = output_box(&af.matrix, w, h).ok_or_else(|| {
        if !det.is_finite() || det.abs() < 1e-12 {
            bad("singular or near-singular matrix")
        } else {
            bad("the transformed image is empty or too large")
        }
    })?;
    let opts = af.options.clone().unwrap_or_default();
    check_output_size("affine", (ow, oh), ctx)?;
    let inv = [d / det, -b / det, -c / det, a / det];
    let offsets = [
        left - opts.odx.unwrap_or(0.0),
        top - opts.ody.unwrap_or(0.0),
        opts.idx.unwrap_or(0.0),
        opts.idy.unwrap_or(0.0),
    ];
    let interp = opts.interpolator.unwrap_or(Interpolator::Bilinear);
    let opaque = !pic.has_alpha;
    let mut bg = opts.background.unwrap_or(Color::BLACK).to_rgba8();
    if opaque {
        bg[3] = 255;
    }
    let dims = (ow, oh);
    pic.map_frames(|px| Ok(transform(&px, dims, inv, offsets, interp, bg, opaque)))
}

/// The size of the transformed image and the offset of its top-left corner, or `None` for a
/// singular matrix or an empty/unrepresentable result. Shared with the memory plan
/// (`pipeline::memory`), which must reserve what this op will allocate.
pub(crate) fn output_box(matrix: &[f64; 4], w: u32, h: u32) -> Option<((u32, u32), (f64, f64))> {
    let [a, b, c, d] = *matrix;
    let det = a * d - b * c;
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    let (w, h) = (w as f64, h as f64);
    let span = |v: [f64; 4]| {
        (
            v.iter().copied().fold(f64::MAX, f64::min),
            v.iter().copied().fold(f64::MIN, f64::max),
        )
    };
    let (left, right) = span([0.0, a * w, b * h, a * w + b * h]);
    let (top, bottom) = span([0.0, c * w, d * h, c * w + d * h]);
    let (ow, oh) = ((right - left).round(), (bottom - top).round());
    if !(1.0..=u32::MAX as f64).contains(&ow) || !(1.0..=u32::MAX as f64).contains(&oh) {
        return None;
    }
    Some(((ow as u32, oh as u32), (left.round(), top.round())))
}

fn premultiplied(p: [u8; 4]) -> [f32; 4] {
    let a = p[3] as f32 / 255.0;
    [p[0] as f32 * a, p[1] as f32 * a, p[2] as f32 * a, p[3] as f32]
}

/// Catmull-Rom weights for a fraction t of the way between the middle two of four samples.
fn cubic_weights(t: f32) -> [f32; 4] {
    let (t2, t3) = (t * t, t * t * t);
    [
        0.5 * (-t3 + 2.0 * t2 - t),
        0.5 * (3.0 * t3 - 5.0 * t2 + 2.0),
        0.5 * (-3.0 * t3 + 4.0 * t2 + t),
        0.5 * (t3 - t2),
    ]
}

fn transform(
    px: &RgbaImage,
    (ow, oh): (u32, u32),
    inv: [f64; 4],
    [ox0, oy0, idx, idy]: [f64; 4],
    interp: Interpolator,
    bg: [u8; 4],
    opaque: bool,
) -> RgbaImage {
    // libvips resamples opaque 8-bit images in integers, rounding; sharp premultiplies images
    // with alpha into floats, which are truncated when cast back to 8 bits.
    let half = if opaque { 0.5 } else { 0.0 };
    let (iw, ih) = (px.width() as i64, px.height() as i64);
    let bg = premultiplied(bg);
    let sample = |x: i64, y: i64| -> [f32; 4] {
        if x < 0 || y < 0 || x >= iw || y >= ih {
            bg
        } else {
            premultiplied(px.get_pixel(x as u32, y as u32).0)
        }
    };
    RgbaImage::from_fn(ow, oh, |x, y| {
        let (ox, oy) = (x as f64 + ox0, y as f64 + oy0);
        let sx = inv[0] * ox + inv[1] * oy - idx;
        let sy = inv[2] * ox + inv[3] * oy - idy;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = ((sx - x0) as f32, (sy - y0) as f32);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut out = [0f32; 4];
        let mut add = |s: [f32; 4], wgt: f32| {
            for (o, v) in out.iter_mut().zip(s) {
                *o += v * wgt;
            }
        };
        match interp {
            Interpolator::Nearest => add(sample(x0, y0), 1.0),
            Interpolator::Bilinear => {
                add(sample(x0, y0), (1.0 - fx) * (1.0 - fy));
                add(sample(x0 + 1, y0), fx * (1.0 - fy));
                add(sample(x0, y0 + 1), (1.0 - fx) * fy);
                add(sample(x0 + 1, y0 + 1), fx * fy);
            }
            Interpolator::Bicubic => {
                let (wx, wy) = (cubic_weights(fx), cubic_weights(fy));
                for (j, wy) in wy.iter().enumerate() {
                    for (i, wx) in wx.iter().enumerate() {
                        add(sample(x0 - 1 + i as i64, y0 - 1 + j as i64), wx * wy);
                    }
                }
            }
        }
        let a = out[3].clamp(0.0, 255.0);
        let un = |v: f32| {
            if a > 0.0 {
                (v * 255.0 / a + half).floor().clamp(0.0, 255.0) as u8
            } else {
                0
            }
        };
        Rgba([un(out[0]), un(out[1]), un(out[2]), (a + half).floor() as u8])
    })
}
