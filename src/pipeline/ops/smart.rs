//! Content-aware `cover` crops: `position: "entropy"` and `"attention"`, after libvips'
//! `vips_smartcrop` (which sharp calls). No Rust crate does this, so it is written here.

use image::RgbaImage;

fn luma(p: &image::Rgba<u8>) -> u8 {
    ((54 * p[0] as u32 + 183 * p[1] as u32 + 19 * p[2] as u32) >> 8) as u8
}

/// Shannon entropy of the luminance in a rectangle.
fn entropy(px: &RgbaImage, left: u32, top: u32, w: u32, h: u32) -> f64 {
    let mut hist = [0u32; 256];
    for y in top..top + h {
        for x in left..left + w {
            hist[luma(px.get_pixel(x, y)) as usize] += 1;
        }
    }
    let n = (w * h) as f64;
    hist.iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// libvips' entropy strategy: repeatedly cut a slice from whichever side has less entropy.
pub fn entropy_crop(px: &RgbaImage, cw: u32, ch: u32) -> (u32, u32) {
    let (mut left, mut top) = (0, 0);
    let (mut w, mut h) = px.dimensions();
    while w > cw || h > ch {
        let sw = (w - cw).min(8.max((w - cw) / 10));
        if sw > 0 {
            let l = entropy(px, left, top, sw, h);
            let r = entropy(px, left + w - sw, top, sw, h);
            if l < r {
                left += sw;
            }
            w -= sw;
        }
        let sh = (h - ch).min(8.max((h - ch) / 10));
        if sh > 0 {
            let t = entropy(px, left, top, w, sh);
            let b = entropy(px, left, top + h - sh, w, sh);
            if t < b {
                top += sh;
            }
            h -= sh;
        }
    }
    (left, top)
}

/// libvips' attention strategy: score edges, skin tones and saturated colour, blur the score
/// map, and centre the window on its maximum.
pub fn attention_crop(px: &RgbaImage, cw: u32, ch: u32) -> (u32, u32) {
    let (w, h) = px.dimensions();
    // Score a reduced copy: the maximum of a blurred map does not need full resolution.
    let step = (w.max(h) / 256).max(1);
    let (sw, sh) = (w.div_ceil(step), h.div_ceil(step));
    let at = |x: u32, y: u32| px.get_pixel((x * step).min(w - 1), (y * step).min(h - 1));
    let mut score = vec![0f32; (sw * sh) as usize];
    for y in 0..sh {
        for x in 0..sw {
            let p = at(x, y);
            let l = luma(p) as f32;
            let lx = luma(at((x + 1).min(sw - 1), y)) as f32;
            let ly = luma(at(x, (y + 1).min(sh - 1))) as f32;
            let edge = (l - lx).abs() + (l - ly).abs();
            let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
            let max = r.max(g).max(b);
            let min = r.min(g).min(b);
            let sat = if max > 0.0 { (max - min) / max } else { 0.0 };
            // Skin: reddish, moderately saturated, not too dark (a cheap stand-in for libvips'
            // LAB skin test).
            let skin = r > 95.0 && g > 40.0 && b > 20.0 && r > g && r > b && (r - g) > 15.0;
            let alpha = p[3] as f32 / 255.0;
            score[(y * sw + x) as usize] =
                alpha * (edge + if skin { 60.0 } else { 0.0 } + if sat > 0.4 { 30.0 * sat } else { 0.0 });
        }
    }
    let blurred = box_blur(&score, sw, sh, (sw.max(sh) / 16).max(1));
    let best = blurred.iter().enumerate().fold(
        (0usize, f32::MIN),
        |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
    );
    let (bx, by) = ((best.0 as u32 % sw) * step, (best.0 as u32 / sw) * step);
    let left = bx.saturating_sub(cw / 2).min(w - cw);
    let top = by.saturating_sub(ch / 2).min(h - ch);
    (left, top)
}

fn box_blur(src: &[f32], w: u32, h: u32, r: u32) -> Vec<f32> {
    let (w, h, r) = (w as i64, h as i64, r as i64);
    let pass = |src: &[f32], horizontal: bool| {
        let mut out = vec![0f32; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut sum = 0.0;
                for d in -r..=r {
                    let (xx, yy) = if horizontal {
                        ((x + d).clamp(0, w - 1), y)
                    } else {
                        (x, (y + d).clamp(0, h - 1))
                    };
                    sum += src[(yy * w + xx) as usize];
                }
                out[(y * w + x) as usize] = sum;
            }
        }
        out
    };
    pass(&pass(src, true), false)
}
