//! Colour edits with sharp's semantics: `grayscale`, `tint`, `negate`, `modulate`, `normalize`,
//! `threshold`, `gamma`. Alpha is never touched except where sharp touches it (`negate`,
//! `threshold`).

use super::colorspace::{grey, lab_to_rgb, linear_table, rgb_to_lab};
use crate::edits::{BoolOrNumber, Color, Modulate, Negate};
use crate::error::Error;
use crate::pipeline::picture::{Picture, Pixels};
use image::RgbaImage;

pub(super) fn each_pixel(mut pic: Picture, mut f: impl FnMut(&mut [u8; 4])) -> Picture {
    for frame in &mut pic.frames {
        for p in frame.pixels.rgba().pixels_mut() {
            f(&mut p.0);
        }
    }
    pic
}

/// sRGB → B_W in linear light, as libvips does; R = G = B afterwards.
pub fn grayscale(pic: Picture) -> Picture {
    let lin = linear_table();
    each_pixel(pic, |p| {
        let y = grey(&lin, p[0], p[1], p[2]);
        p[..3].fill(y);
    })
}

/// sharp's tint: the image's luminance keeps its L*, and takes the tint colour's a*/b*,
/// weighted so that black and white stay neutral.
pub fn tint(c: &Color, pic: Picture) -> Picture {
    let lin = linear_table();
    let [r, g, b, _] = c.to_rgba8();
    let tint_lab = rgb_to_lab(&lin, r, g, b);
    let lut: Vec<[u8; 3]> = (0..=255u8)
        .map(|v| {
            let l = rgb_to_lab(&lin, v, v, v)[0];
            let t = l / 100.0;
            let w = 1.0 - 4.0 * (t - 0.5) * (t - 0.5);
            lab_to_rgb([l, w * tint_lab[1], w * tint_lab[2]])
        })
        .collect();
    each_pixel(pic, |p| {
        let y = grey(&lin, p[0], p[1], p[2]);
        p[..3].copy_from_slice(&lut[y as usize]);
    })
}

/// `negate`: inverts colour, and alpha too unless `{alpha: false}` (sharp's default is true).
pub fn negate(n: &Negate, pic: Picture) -> Picture {
    let (on, alpha) = match n {
        Negate::Bool(b) => (*b, true),
        Negate::Options(o) => (true, o.alpha),
    };
    if !on {
        return pic;
    }
    let alpha = alpha && pic.has_alpha;
    each_pixel(pic, |p| {
        for c in &mut p[..3] {
            *c = 255 - *c;
        }
        if alpha {
            p[3] = 255 - p[3];
        }
    })
}

/// `modulate` in LCh: L·brightness + lightness, C·saturation, h + hue.
pub fn modulate(m: &Modulate, pic: Picture) -> Result<Picture, Error> {
    let brightness = m.brightness.unwrap_or(1.0);
    let saturation = m.saturation.unwrap_or(1.0);
    let hue = m.hue.unwrap_or(0.0);
    let lightness = m.lightness.unwrap_or(0.0);
    if brightness < 0.0
        || saturation < 0.0
        || ![brightness, saturation, hue, lightness]
            .iter()
            .all(|v| v.is_finite())
    {
        return Err(Error::invalid_edit(
            "modulate",
            "brightness and saturation must be ≥ 0, hue and lightness numbers",
        ));
    }
    // sharp rounds the hue to whole degrees.
    let hue = (hue.round() as f32).to_radians();
    let (hs, hc) = hue.sin_cos();
    let (br, sat, li) = (brightness as f32, saturation as f32, lightness as f32);
    let lin = linear_table();
    Ok(each_pixel(pic, |p| {
        let [l, a, b] = rgb_to_lab(&lin, p[0], p[1], p[2]);
        // Scaling chroma and rotating hue is a scale + rotation of (a, b).
        let (a2, b2) = ((a * hc - b * hs) * sat, (a * hs + b * hc) * sat);
        p[..3].copy_from_slice(&lab_to_rgb([l * br + li, a2, b2]));
    }))
}

/// `normalize`: stretch L* so its 1st and 99th percentiles become 0 and 100 (sharp's defaults).
/// The percentiles are taken over all frames.
pub fn normalize(pic: Picture) -> Picture {
    let lin = linear_table();
    let mut hist = [0u64; 101];
    let mut n = 0u64;
    for frame in &pic.frames {
        let (raw, channels) = match &frame.pixels {
            Pixels::Rgb(px) => (px.as_raw(), 3),
            Pixels::Rgba(px) => (px.as_raw(), 4),
        };
        for p in raw.chunks_exact(channels) {
            let l = rgb_to_lab(&lin, p[0], p[1], p[2])[0];
            hist[l.round().clamp(0.0, 100.0) as usize] += 1;
            n += 1;
        }
    }
    let percentile = |pc: u64| {
        let target = (n * pc).div_ceil(100);
        let mut acc = 0;
        for (i, c) in hist.iter().enumerate() {
            acc += c;
            if acc >= target {
                return i as f32;
            }
        }
        100.0
    };
    let (min, max) = (percentile(1), percentile(99));
    if (max - min).abs() <= 1.0 {
        return pic;
    }
    let f = 100.0 / (max - min);
    let add = -min * f;
    each_pixel(pic, |p| {
        let [l, a, b] = rgb_to_lab(&lin, p[0], p[1], p[2]);
        p[..3].copy_from_slice(&lab_to_rgb([l * f + add, a, b]));
    })
}

/// `threshold`: greyscale, then ≥ t → 255, else 0 (alpha too when there is one, as sharp's
/// per-band comparison does). `true` = 128; 0 is a no-op as in sharp.
pub fn threshold(t: &BoolOrNumber, pic: Picture) -> Result<Picture, Error> {
    let t = match t {
        BoolOrNumber::Bool(false) => return Ok(pic),
        BoolOrNumber::Bool(true) => 128.0,
        BoolOrNumber::Number(n) if (0.0..=255.0).contains(n) => *n,
        BoolOrNumber::Number(_) => return Err(Error::invalid_edit("threshold", "must be 0–255")),
    };
    if t == 0.0 {
        return Ok(pic);
    }
    let lin = linear_table();
    let alpha = pic.has_alpha;
    let cut = |v: u8| if v as f64 >= t { 255 } else { 0 };
    Ok(each_pixel(pic, |p| {
        let y = cut(grey(&lin, p[0], p[1], p[2]));
        p[..3].fill(y);
        if alpha {
            p[3] = cut(p[3]);
        }
    }))
}

/// `gamma`: sharp darkens by 1/γ before resizing and brightens by γ after it, so on its own it
/// changes no pixel; it changes how a later `resize` mixes pixels ([`super::apply_all`] resizes
/// in the γ-encoded space when a `gamma` edit came first).
pub fn check_gamma(g: f64) -> Result<(), Error> {
    if !(1.0..=3.0).contains(&g) {
        return Err(Error::invalid_edit("gamma", "must be between 1.0 and 3.0"));
    }
    Ok(())
}

/// Maps every colour channel through `v ↦ 255·(v/255)^e` (alpha untouched).
pub fn gamma_map(px: &mut RgbaImage, e: f64) {
    let lut: Vec<u8> = (0..=255u32)
        .map(|v| (255.0 * (v as f64 / 255.0).powf(e)).round() as u8)
        .collect();
    for p in px.pixels_mut() {
        for c in &mut p.0[..3] {
            *c = lut[*c as usize];
        }
    }
}
