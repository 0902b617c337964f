//! `linear` and `recomb` with sharp's (libvips') arithmetic: float per pixel, then clipped to
//! 0–255 and truncated, as libvips casts float to 8 bits.

use super::color::each_pixel as each_rgba;
use crate::edits::{Linear, Recomb};
use crate::error::Error;
use crate::pipeline::picture::Picture;

fn to_u8(v: f32) -> u8 {
    v.clamp(0.0, 255.0) as u8
}

/// sharp's `Linear`: one value (or one per colour channel) leaves alpha alone; one per channel
/// including alpha changes alpha too; more values than channels, or a count that is neither,
/// is refused as libvips refuses it.
pub fn linear(l: &Linear, pic: Picture) -> Result<Picture, Error> {
    let n = l.a.len();
    if n == 0 {
        return Ok(pic);
    }
    let bands = if pic.has_alpha { 4 } else { 3 };
    if n > bands {
        return Err(Error::invalid_edit(
            "linear",
            "band expansion using linear is unsupported",
        ));
    }
    if n != 1 && n != 3 && n != bands {
        return Err(Error::invalid_edit(
            "linear",
            format!("expected 1, 3 or {bands} values, got {n}"),
        ));
    }
    let touched = if n == 4 { 4 } else { 3 };
    let coef = |c: usize| {
        let i = if n == 1 { 0 } else { c };
        (l.a[i] as f32, l.b[i] as f32)
    };
    let coefs: Vec<(f32, f32)> = (0..touched).map(coef).collect();
    Ok(each_rgba(pic, |p| {
        for (v, (a, b)) in p.iter_mut().zip(&coefs) {
            *v = to_u8(a * *v as f32 + b);
        }
    }))
}

/// sharp's `Recomb`: a 3×3 matrix mixes R, G, B (alpha kept); a 4×4 one mixes all four and
/// needs an alpha channel (libvips: "bands in must equal matrix width").
pub fn recomb(r: &Recomb, pic: Picture) -> Result<Picture, Error> {
    let n = r.rows.len();
    if n == 4 && !pic.has_alpha {
        return Err(Error::invalid_edit(
            "recomb",
            "a 4×4 matrix needs an image with an alpha channel",
        ));
    }
    let m: Vec<Vec<f32>> = r
        .rows
        .iter()
        .map(|row| row.iter().map(|x| *x as f32).collect())
        .collect();
    Ok(each_rgba(pic, |p| {
        let input = [p[0] as f32, p[1] as f32, p[2] as f32, p[3] as f32];
        for (out, row) in p.iter_mut().zip(&m) {
            *out = to_u8(row.iter().zip(&input).map(|(k, v)| k * v).sum());
        }
    }))
}
