//! Content-aware `cover` crops: `position: "entropy"` and `"attention"`, after libvips'
//! `vips_smartcrop` (which sharp calls). No Rust crate does this, so it is written here.

use super::colorspace::{linear_table, rgb_to_lab};
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

/// libvips' attention strategy (`pick_attention` in smartcrop.c): on a 32×32 copy, add the
/// Laplacian edges of L*, a skin-tone score and chroma, blur by a tenth of the crop's diagonal,
/// and centre the window on the maximum.
pub fn attention_crop(px: &RgbaImage, cw: u32, ch: u32) -> (u32, u32) {
    const N: usize = 32;
    let (w, h) = px.dimensions();
    let lin = linear_table();
    // Box-average the image down to N×N and convert to LAB.
    let mut lab = vec![[0f32; 3]; N * N];
    for (j, row) in lab.chunks_mut(N).enumerate() {
        let (y0, y1) = (
            j as u32 * h / N as u32,
            ((j as u32 + 1) * h / N as u32).max(j as u32 * h / N as u32 + 1),
        );
        for (i, cell) in row.iter_mut().enumerate() {
            let (x0, x1) = (
                i as u32 * w / N as u32,
                ((i as u32 + 1) * w / N as u32).max(i as u32 * w / N as u32 + 1),
            );
            let mut acc = [0u32; 3];
            let mut n = 0;
            for y in y0..y1.min(h) {
                for x in x0..x1.min(w) {
                    let p = px.get_pixel(x, y);
                    for c in 0..3 {
                        acc[c] += p[c] as u32;
                    }
                    n += 1;
                }
            }
            let n = n.max(1);
            let avg = |c: usize| (acc[c] / n) as u8;
            *cell = rgb_to_lab(&lin, avg(0), avg(1), avg(2));
        }
    }
    let at =
        |x: i64, y: i64| lab[(y.clamp(0, N as i64 - 1) as usize) * N + x.clamp(0, N as i64 - 1) as usize];
    const SKIN: [f32; 3] = [0.78, 0.57, 0.44];
    let mut score = vec![0f32; N * N];
    for y in 0..N as i64 {
        for x in 0..N as i64 {
            let [l, a, b] = at(x, y);
            let mut lap = 8.0 * l;
            for (dx, dy) in [
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                lap -= at(x + dx, y + dy)[0];
            }
            let (skin, chroma) = if l > 5.0 {
                let norm = (l * l + a * a + b * b).sqrt().max(1e-6);
                let d = [l / norm - SKIN[0], a / norm - SKIN[1], b / norm - SKIN[2]];
                let dist = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                (100.0 - 100.0 * dist, (a * a + b * b).sqrt())
            } else {
                (0.0, 0.0)
            };
            score[y as usize * N + x as usize] = lap.abs() + skin + chroma;
        }
    }
    let (hs, vs) = (N as f32 / w as f32, N as f32 / h as f32);
    let sigma = ((cw as f32 * hs).powi(2) + (ch as f32 * vs).powi(2)).sqrt() / 10.0;
    let blurred = gaussian(&score, N, sigma.max(0.5));
    let best = blurred.iter().enumerate().fold(
        (0usize, f32::MIN),
        |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
    );
    let (bx, by) = ((best.0 % N) as f32 / hs, (best.0 / N) as f32 / vs);
    let left = (bx - cw as f32 / 2.0).clamp(0.0, (w - cw) as f32) as u32;
    let top = (by - ch as f32 / 2.0).clamp(0.0, (h - ch) as f32) as u32;
    (left, top)
}

/// Separable Gaussian on an n×n plane, edges clamped.
fn gaussian(src: &[f32], n: usize, sigma: f32) -> Vec<f32> {
    let r = (sigma * 3.0).ceil() as i64;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let pass = |src: &[f32], horizontal: bool| {
        let mut out = vec![0f32; src.len()];
        for y in 0..n as i64 {
            for x in 0..n as i64 {
                let mut acc = 0.0;
                for (t, kv) in k.iter().enumerate() {
                    let d = t as i64 - r;
                    let (xx, yy) = if horizontal {
                        ((x + d).clamp(0, n as i64 - 1), y)
                    } else {
                        (x, (y + d).clamp(0, n as i64 - 1))
                    };
                    acc += kv * src[yy as usize * n + xx as usize];
                }
                out[y as usize * n + x as usize] = acc;
            }
        }
        out
    };
    pass(&pass(src, true), false)
}
