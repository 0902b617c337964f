//! Neighbourhood filters with sharp's semantics: `blur`, `sharpen`, `median`, `convolve`.
//! Colour is filtered premultiplied by alpha so transparent pixels do not bleed.

use super::colorspace::{lab_to_rgb, linear_table, rgb_to_lab};
use crate::edits::{BoolOrNumber, Convolve, Sharpen};
use crate::error::Error;
use crate::pipeline::picture::Picture;
use image::{imageops, RgbaImage};

/// `blur`: `true` = 3×3 box blur (sharp's fast mild blur); a number = Gaussian sigma 0.3–1000.
pub fn blur(b: &BoolOrNumber, pic: Picture) -> Result<Picture, Error> {
    let sigma = match b {
        BoolOrNumber::Bool(false) => return Ok(pic),
        BoolOrNumber::Bool(true) => None,
        BoolOrNumber::Number(s) if (0.3..=1000.0).contains(s) => Some(*s as f32),
        BoolOrNumber::Number(_) => return Err(Error::invalid_edit("blur", "sigma must be 0.3–1000")),
    };
    let has_alpha = pic.has_alpha;
    pic.map_frames(|px| {
        Ok(match sigma {
            None => premultiplied(px, has_alpha, |px| {
                convolve_rgba(&px, 3, 3, &[1.0; 9], 9.0, 0.0, true)
            }),
            // libvips' truncated Gaussian (sharp's kernel) for ordinary sigmas; image's box
            // approximation, linear in sigma, where the kernel would be hundreds of taps wide.
            Some(s) if s <= 20.0 => gaussian_rgba(&px, s),
            Some(s) => premultiplied(px, has_alpha, |px| imageops::fast_blur(&px, s)),
        })
    })
}

/// Runs `f` on premultiplied pixels when the image has alpha.
fn premultiplied(mut px: RgbaImage, has_alpha: bool, f: impl FnOnce(RgbaImage) -> RgbaImage) -> RgbaImage {
    if !has_alpha {
        return f(px);
    }
    for p in px.pixels_mut() {
        let a = p[3] as u32;
        for c in &mut p.0[..3] {
            *c = ((*c as u32 * a + 127) / 255) as u8;
        }
    }
    let mut out = f(px);
    for p in out.pixels_mut() {
        let a = p[3] as u32;
        for c in &mut p.0[..3] {
            *c = (*c as u32 * 255 + a / 2)
                .checked_div(a)
                .map_or(0, |v| v.min(255) as u8);
        }
    }
    out
}

const MAX_KERNEL_AREA: u32 = 51 * 51;

/// `convolve`: a `width`×`height` kernel (odd, 3–1001), output = Σk·p / scale + offset, edges
/// extended by copying. Alpha is convolved too when the image has one (sharp convolves every band).
pub fn convolve(c: &Convolve, pic: Picture) -> Result<Picture, Error> {
    let ok_side = |v: u32| v % 2 == 1 && (3..=1001).contains(&v);
    if !ok_side(c.width) || !ok_side(c.height) || c.kernel.len() != (c.width * c.height) as usize {
        return Err(Error::invalid_edit(
            "convolve",
            "width and height must be odd 3–1001 and kernel must have width×height numbers",
        ));
    }
    // Each output pixel costs one multiply per kernel cell: cap the area (sharp allows
    // 1001×1001) so one URL cannot buy hours of CPU.
    if c.width * c.height > MAX_KERNEL_AREA {
        return Err(Error::invalid_edit(
            "convolve",
            format!(
                "kernel has {} cells; at most {MAX_KERNEL_AREA} are allowed",
                c.width * c.height
            ),
        ));
    }
    let kernel: Vec<f32> = c.kernel.iter().map(|&k| k as f32).collect();
    let sum: f32 = kernel.iter().sum();
    let scale = c
        .scale
        .map(|s| s as f32)
        .unwrap_or(if sum == 0.0 { 1.0 } else { sum });
    if scale == 0.0 || !scale.is_finite() {
        return Err(Error::invalid_edit("convolve", "scale must be a non-zero number"));
    }
    let offset = c.offset.unwrap_or(0.0) as f32;
    let alpha = pic.has_alpha;
    pic.map_frames(|px| {
        Ok(convolve_rgba(
            &px, c.width, c.height, &kernel, scale, offset, alpha,
        ))
    })
}

fn convolve_rgba(
    px: &RgbaImage,
    kw: u32,
    kh: u32,
    k: &[f32],
    scale: f32,
    offset: f32,
    alpha: bool,
) -> RgbaImage {
    let (w, h) = (px.width() as i64, px.height() as i64);
    let (rx, ry) = ((kw / 2) as i64, (kh / 2) as i64);
    let bands = if alpha { 4 } else { 3 };
    RgbaImage::from_fn(px.width(), px.height(), |x, y| {
        let mut acc = [0f32; 4];
        for j in 0..kh as i64 {
            let yy = (y as i64 + j - ry).clamp(0, h - 1) as u32;
            for i in 0..kw as i64 {
                let kv = k[(j * kw as i64 + i) as usize];
                if kv == 0.0 {
                    continue;
                }
                let xx = (x as i64 + i - rx).clamp(0, w - 1) as u32;
                let p = px.get_pixel(xx, yy);
                for (b, a) in acc.iter_mut().enumerate().take(bands) {
                    *a += kv * p[b] as f32;
                }
            }
        }
        let mut out = *px.get_pixel(x, y);
        for b in 0..bands {
            out[b] = (acc[b] / scale + offset).round().clamp(0.0, 255.0) as u8;
        }
        out
    })
}

/// `median`: each channel replaced by the median of a `size`×`size` window (`true` = 3).
/// Huang's sliding histogram keeps the cost linear in `size`; sizes above 51 are refused so a
/// URL cannot buy minutes of CPU (sharp accepts up to 1000).
pub fn median(m: &BoolOrNumber, pic: Picture) -> Result<Picture, Error> {
    let size = match m {
        BoolOrNumber::Bool(false) => return Ok(pic),
        BoolOrNumber::Bool(true) => 3,
        BoolOrNumber::Number(n) if n.fract() == 0.0 && (1.0..=51.0).contains(n) => *n as u32,
        BoolOrNumber::Number(_) => return Err(Error::invalid_edit("median", "size must be an integer 1–51")),
    };
    if size == 1 {
        return Ok(pic);
    }
    let bands = if pic.has_alpha { 4 } else { 3 };
    pic.map_frames(|px| Ok(median_filter(&px, size, bands)))
}

pub(super) fn median_filter(px: &RgbaImage, size: u32, bands: usize) -> RgbaImage {
    let (w, h) = (px.width() as i64, px.height() as i64);
    let r = (size / 2) as i64;
    let half = (size * size).div_ceil(2);
    let mut out = px.clone();
    for y in 0..h {
        let mut hist = vec![[0u32; 256]; bands];
        let column = |hist: &mut Vec<[u32; 256]>, x: i64, add: bool| {
            let xx = x.clamp(0, w - 1) as u32;
            for j in -r..=r {
                let p = px.get_pixel(xx, (y + j).clamp(0, h - 1) as u32);
                for (b, hb) in hist.iter_mut().enumerate() {
                    if add {
                        hb[p[b] as usize] += 1;
                    } else {
                        hb[p[b] as usize] -= 1;
                    }
                }
            }
        };
        for x in -r..=r {
            column(&mut hist, x, true);
        }
        for x in 0..w {
            if x > 0 {
                column(&mut hist, x - r - 1, false);
                column(&mut hist, x + r, true);
            }
            let o = out.get_pixel_mut(x as u32, y as u32);
            for (b, hb) in hist.iter().enumerate() {
                let mut acc = 0;
                for (v, c) in hb.iter().enumerate() {
                    acc += c;
                    if acc >= half {
                        o[b] = v as u8;
                        break;
                    }
                }
            }
        }
    }
    out
}

/// `sharpen`: `true` = sharp's mild 3×3 sharpen; a sigma (or options) = libvips' unsharp mask
/// on L* with sharp's defaults m1 = 1, m2 = 2, x1 = 2, y2 = 10, y3 = 20.
pub fn sharpen(s: &Sharpen, pic: Picture) -> Result<Picture, Error> {
    let (sigma, m1, m2, x1, y2, y3) = match s {
        Sharpen::Simple(BoolOrNumber::Bool(false)) => return Ok(pic),
        Sharpen::Simple(BoolOrNumber::Bool(true)) => {
            let k = [-1.0, -1.0, -1.0, -1.0, 32.0, -1.0, -1.0, -1.0, -1.0];
            return pic.map_frames(|px| Ok(convolve_rgba(&px, 3, 3, &k, 24.0, 0.0, false)));
        }
        Sharpen::Simple(BoolOrNumber::Number(s)) => (*s, 1.0, 2.0, 2.0, 10.0, 20.0),
        Sharpen::Options(o) => (
            o.sigma,
            o.m1.unwrap_or(1.0),
            o.m2.unwrap_or(2.0),
            o.x1.unwrap_or(2.0),
            o.y2.unwrap_or(10.0),
            o.y3.unwrap_or(20.0),
        ),
    };
    if !(0.000_001..=10.0).contains(&sigma)
        || [m1, m2, x1, y2, y3]
            .iter()
            .any(|v| !(0.0..=1_000_000.0).contains(v))
    {
        return Err(Error::invalid_edit(
            "sharpen",
            "sigma must be 0.000001–10, other options ≥ 0",
        ));
    }
    let (m1, m2, x1, y2, y3) = (m1 as f32, m2 as f32, x1 as f32, y2 as f32, y3 as f32);
    let lin = linear_table();
    pic.map_frames(|mut px| {
        let (w, h) = px.dimensions();
        let lab: Vec<[f32; 3]> = px.pixels().map(|p| rgb_to_lab(&lin, p[0], p[1], p[2])).collect();
        let l: Vec<f32> = lab.iter().map(|v| v[0]).collect();
        let blurred = gaussian_plane(&l, w as usize, h as usize, sigma as f32);
        for (i, p) in px.pixels_mut().enumerate() {
            let d = l[i] - blurred[i];
            let ad = d.abs();
            let y = if ad <= x1 {
                m1 * ad
            } else {
                m1 * x1 + m2 * (ad - x1)
            };
            let y = if d >= 0.0 { y.min(y2) } else { -y.min(y3) };
            let rgb = lab_to_rgb([l[i] + y, lab[i][1], lab[i][2]]);
            p.0[..3].copy_from_slice(&rgb);
        }
        Ok(px)
    })
}

/// libvips' `gaussmat` as sharp calls it (`min_ampl` 0.2): a normalised Gaussian truncated
/// where it falls below a fifth of its peak, so about 1.8σ wide rather than 3σ.
fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (sigma * (-2.0 * 0.2f32.ln()).sqrt()).floor().max(1.0) as i64;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter().map(|v| v / sum).collect()
}

/// Separable convolution of `bands` interleaved float planes, edges clamped.
fn separable(src: &[f32], w: usize, h: usize, bands: usize, k: &[f32]) -> Vec<f32> {
    let r = (k.len() / 2) as i64;
    let pass = |src: &[f32], horizontal: bool| {
        let mut out = vec![0f32; src.len()];
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let o = (y as usize * w + x as usize) * bands;
                for (t, kv) in k.iter().enumerate() {
                    let d = t as i64 - r;
                    let (xx, yy) = if horizontal {
                        ((x + d).clamp(0, w as i64 - 1), y)
                    } else {
                        (x, (y + d).clamp(0, h as i64 - 1))
                    };
                    let i = (yy as usize * w + xx as usize) * bands;
                    for b in 0..bands {
                        out[o + b] += kv * src[i + b];
                    }
                }
            }
        }
        out
    };
    pass(&pass(src, true), false)
}

fn gaussian_plane(src: &[f32], w: usize, h: usize, sigma: f32) -> Vec<f32> {
    separable(src, w, h, 1, &gaussian_kernel(sigma))
}

/// Gaussian blur of all four channels in float, premultiplied by alpha.
fn gaussian_rgba(px: &RgbaImage, sigma: f32) -> RgbaImage {
    let (w, h) = (px.width() as usize, px.height() as usize);
    let mut buf = Vec::with_capacity(w * h * 4);
    for p in px.pixels() {
        let a = p[3] as f32 / 255.0;
        buf.extend_from_slice(&[p[0] as f32 * a, p[1] as f32 * a, p[2] as f32 * a, p[3] as f32]);
    }
    let out = separable(&buf, w, h, 4, &gaussian_kernel(sigma));
    RgbaImage::from_fn(px.width(), px.height(), |x, y| {
        let i = (y as usize * w + x as usize) * 4;
        let a = out[i + 3];
        let un = |v: f32| {
            if a > 0.0 {
                (v * 255.0 / a).round().clamp(0.0, 255.0) as u8
            } else {
                0
            }
        };
        image::Rgba([
            un(out[i]),
            un(out[i + 1]),
            un(out[i + 2]),
            a.round().clamp(0.0, 255.0) as u8,
        ])
    })
}
