//! SSIMULACRA2 (Jon Sneyers' perceptual metric, libjxl) for pixfront's `quality=auto`: the
//! algorithm and constants of the `ssimulacra2` crate 0.5 (BSD-2-Clause, the rav1e contributors)
//! and its sRGB → XYB conversion from `yuvxyb` 0.4 (MIT, Josh Holmer); licences beside this
//! crate. Scores agree with that crate to about 0.01 (see the tests).
//!
//! Why a copy: the crate spends most of its time in `f32::mul_add`, which without a `+fma`
//! target is a libm call per multiply-add, and it converts and blurs the reference again for
//! every comparison. Here the arithmetic is plain (the compiler vectorises the vertical blur),
//! sRGB decoding is a table, the cube root is a few Newton steps, and a [`Reference`] keeps the
//! reference's planes, so each trial encode of a quality search pays only for its own side.

use std::sync::OnceLock;

const NUM_SCALES: usize = 6;

/// A reference image prepared once, to be compared with several distorted versions of it.
pub struct Reference {
    width: usize,
    height: usize,
    scales: Vec<RefScale>,
}

struct RefScale {
    img: [Vec<f32>; 3],
    mu: [Vec<f32>; 3],
    sigma_sq: [Vec<f32>; 3],
}

impl Reference {
    /// `rgb`: 8-bit sRGB, 3 bytes a pixel, row-major. `None` below 8×8 (the metric's minimum).
    pub fn new(rgb: &[u8], width: usize, height: usize) -> Option<Reference> {
        if width < 8 || height < 8 || rgb.len() != width * height * 3 {
            return None;
        }
        let mut scales = Vec::new();
        for_each_scale(linearize(rgb, width, height), |w, h, xyb| {
            let mu = blur3(&xyb, w, h);
            let sigma_sq = blur3(&multiply(&xyb, &xyb), w, h);
            scales.push(RefScale {
                img: xyb,
                mu,
                sigma_sq,
            });
        });
        Some(Reference {
            width,
            height,
            scales,
        })
    }

    /// The SSIMULACRA2 score of `rgb` (same layout and size as the reference): 100 = identical,
    /// about 90 = visually lossless, 70 = high quality, 50 = medium; lower is worse.
    pub fn score(&self, rgb: &[u8]) -> Option<f64> {
        if rgb.len() != self.width * self.height * 3 {
            return None;
        }
        let mut results = Vec::new();
        let mut scale = 0;
        for_each_scale(linearize(rgb, self.width, self.height), |w, h, xyb| {
            let r = &self.scales[scale];
            scale += 1;
            let mu = blur3(&xyb, w, h);
            let sigma_sq = blur3(&multiply(&xyb, &xyb), w, h);
            let sigma12 = blur3(&multiply(&r.img, &xyb), w, h);
            let ssim = ssim_map(&r.mu, &mu, &r.sigma_sq, &sigma_sq, &sigma12);
            let edge = edge_diff_map(&r.img, &r.mu, &xyb, &mu);
            results.push((ssim, edge));
        });
        Some(combine(&results))
    }
}

/// Planar linear RGB.
struct Linear {
    w: usize,
    h: usize,
    p: [Vec<f32>; 3],
}

/// Calls `f(width, height, xyb_planes)` for each scale, halving the linear image between scales
/// as the crate does (the size check comes before the halving).
fn for_each_scale(mut lin: Linear, mut f: impl FnMut(usize, usize, [Vec<f32>; 3])) {
    for scale in 0..NUM_SCALES {
        if lin.w < 8 || lin.h < 8 {
            break;
        }
        if scale > 0 {
            lin = downscale_by_2(&lin);
        }
        f(lin.w, lin.h, to_xyb(&lin));
    }
}

fn srgb_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        // yuvxyb's sRGB EOTF constants.
        const ALPHA: f32 = 1.055_010_7;
        const BETA: f32 = 0.003_041_282_5;
        std::array::from_fn(|i| {
            let x = i as f32 / 255.0;
            if x < 12.92 * BETA {
                x / 12.92
            } else {
                ((x + (ALPHA - 1.0)) / ALPHA).powf(2.4)
            }
        })
    })
}

fn linearize(rgb: &[u8], w: usize, h: usize) -> Linear {
    let t = srgb_table();
    let mut p = [vec![0f32; w * h], vec![0f32; w * h], vec![0f32; w * h]];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        p[0][i] = t[px[0] as usize];
        p[1][i] = t[px[1] as usize];
        p[2][i] = t[px[2] as usize];
    }
    Linear { w, h, p }
}

fn downscale_by_2(lin: &Linear) -> Linear {
    let (w, h) = (lin.w.div_ceil(2), lin.h.div_ceil(2));
    let p = std::array::from_fn(|c| {
        let src = &lin.p[c];
        let mut out = vec![0f32; w * h];
        for oy in 0..h {
            let (y0, y1) = (oy * 2, (oy * 2 + 1).min(lin.h - 1));
            for ox in 0..w {
                let (x0, x1) = (ox * 2, (ox * 2 + 1).min(lin.w - 1));
                let sum =
                    src[y0 * lin.w + x0] + src[y0 * lin.w + x1] + src[y1 * lin.w + x0] + src[y1 * lin.w + x1];
                out[oy * w + ox] = sum * 0.25;
            }
        }
        out
    });
    Linear { w, h, p }
}

/// Cube root of `x` > 0: a bit-level first guess and three Newton steps (f32 accuracy).
fn cbrt(x: f32) -> f32 {
    let mut y = f32::from_bits(x.to_bits() / 3 + 709_921_077);
    for _ in 0..3 {
        y -= (y * y * y - x) / (3.0 * y * y);
    }
    y
}

/// Linear sRGB → XYB (jxl's opsin absorbance), shifted to positive values as SSIMULACRA2 does.
fn to_xyb(lin: &Linear) -> [Vec<f32>; 3] {
    const M: [[f32; 3]; 3] = [
        [0.30, 1.0 - 0.078 - 0.30, 0.078],
        [0.23, 1.0 - 0.078 - 0.23, 0.078],
        [0.243_422_69, 0.204_767_45, 1.0 - 0.243_422_69 - 0.204_767_45],
    ];
    const BIAS: f32 = 0.003_793_073_4;
    let bias_cbrt = BIAS.cbrt();
    let n = lin.w * lin.h;
    let mut out = [vec![0f32; n], vec![0f32; n], vec![0f32; n]];
    for i in 0..n {
        let (r, g, b) = (lin.p[0][i], lin.p[1][i], lin.p[2][i]);
        let mix = |m: [f32; 3]| cbrt((m[0] * r + m[1] * g + m[2] * b + BIAS).max(0.0).max(1e-12)) - bias_cbrt;
        let (l, m, s) = (mix(M[0]), mix(M[1]), mix(M[2]));
        let (x, y) = (0.5 * (l - m), 0.5 * (l + m));
        out[0][i] = x * 14.0 + 0.42;
        out[1][i] = y + 0.01;
        out[2][i] = (s - y) + 0.55;
    }
    out
}

fn multiply(a: &[Vec<f32>; 3], b: &[Vec<f32>; 3]) -> [Vec<f32>; 3] {
    std::array::from_fn(|c| a[c].iter().zip(&b[c]).map(|(x, y)| x * y).collect())
}

/// The recursive Gaussian (σ = 1.5) of Charalampidis [2016], as the crate's build script
/// derives it: the radius and, for k = 1, 3, 5, the input weight n2 and feedback d1.
struct Kernel {
    radius: isize,
    n2: [f32; 3],
    d1: [f32; 3],
}

fn kernel() -> &'static Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    KERNEL.get_or_init(|| {
        use std::f64::consts::PI;
        let sigma = 1.5f64;
        let radius = (3.2795 * sigma + 0.2546).round();
        let omega = [1.0, 3.0, 5.0].map(|k| k * PI / (2.0 * radius));
        let p = [
            1.0 / (0.5 * omega[0]).tan(),
            -1.0 / (0.5 * omega[1]).tan(),
            1.0 / (0.5 * omega[2]).tan(),
        ];
        let r = [
            p[0] * p[0] / omega[0].sin(),
            -p[1] * p[1] / omega[1].sin(),
            p[2] * p[2] / omega[2].sin(),
        ];
        let rho = omega.map(|o| (-0.5 * sigma * sigma * o * o).exp() / radius);
        let d13 = p[0] * r[1] - r[0] * p[1];
        let d35 = p[1] * r[2] - r[1] * p[2];
        let d51 = p[2] * r[0] - r[2] * p[0];
        let (zeta15, zeta35) = (d35 / d13, d51 / d13);
        let a = [p, r, [zeta15, zeta35, 1.0]];
        let gamma = [
            1.0,
            radius * radius - sigma * sigma,
            zeta15 * rho[0] + zeta35 * rho[1] + rho[2],
        ];
        // beta = A⁻¹ γ, by Cramer's rule.
        let det = |m: [[f64; 3]; 3]| {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        };
        let d = det(a);
        let beta: [f64; 3] = std::array::from_fn(|j| {
            let mut m = a;
            for (row, g) in m.iter_mut().zip(gamma) {
                row[j] = g;
            }
            det(m) / d
        });
        Kernel {
            radius: radius as isize,
            n2: std::array::from_fn(|i| (-beta[i] * (omega[i] * (radius + 1.0)).cos()) as f32),
            d1: omega.map(|o| (-2.0 * o.cos()) as f32),
        }
    })
}

fn blur3(img: &[Vec<f32>; 3], w: usize, h: usize) -> [Vec<f32>; 3] {
    std::array::from_fn(|c| blur_plane(&img[c], w, h))
}

fn blur_plane(src: &[f32], w: usize, h: usize) -> Vec<f32> {
    let k = kernel();
    let mut tmp = vec![0f32; w * h];
    for (row, out) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        horizontal(k, row, out);
    }
    let mut out = vec![0f32; w * h];
    vertical(k, &tmp, &mut out, w, h);
    out
}

fn horizontal(k: &Kernel, input: &[f32], output: &mut [f32]) {
    let width = input.len() as isize;
    let (mut prev, mut prev2) = ([0f32; 3], [0f32; 3]);
    for n in (1 - k.radius)..width {
        let (left, right) = (n - k.radius - 1, n + k.radius - 1);
        let l = if left >= 0 { input[left as usize] } else { 0.0 };
        let r = if right < width { input[right as usize] } else { 0.0 };
        let sum = l + r;
        let mut total = 0.0;
        for i in 0..3 {
            let out = k.n2[i] * sum - prev2[i] - k.d1[i] * prev[i];
            prev2[i] = prev[i];
            prev[i] = out;
            total += out;
        }
        if n >= 0 {
            output[n as usize] = total;
        }
    }
}

/// The vertical pass, a whole row of columns at a time (vectorised).
fn vertical(k: &Kernel, input: &[f32], output: &mut [f32], w: usize, h: usize) {
    let zeros = vec![0f32; w];
    let mut prev = [vec![0f32; w], vec![0f32; w], vec![0f32; w]];
    let mut prev2 = prev.clone();
    let height = h as isize;
    for n in (1 - k.radius)..height {
        let (top, bottom) = (n - k.radius - 1, n + k.radius - 1);
        let t = if top >= 0 {
            &input[top as usize * w..][..w]
        } else {
            &zeros[..]
        };
        let b = if bottom < height {
            &input[bottom as usize * w..][..w]
        } else {
            &zeros[..]
        };
        for i in 0..3 {
            let (n2, d1) = (k.n2[i], k.d1[i]);
            for x in 0..w {
                let out = n2 * (t[x] + b[x]) - (d1 * prev[i][x] + prev2[i][x]);
                prev2[i][x] = prev[i][x];
                prev[i][x] = out;
            }
        }
        if n >= 0 {
            let row = &mut output[n as usize * w..][..w];
            for x in 0..w {
                row[x] = prev[0][x] + prev[1][x] + prev[2][x];
            }
        }
    }
}

/// Per channel: mean and 4-norm of 1 − SSIM (without SSIM's luminance-contrast product term).
fn ssim_map(
    m1: &[Vec<f32>; 3],
    m2: &[Vec<f32>; 3],
    s11: &[Vec<f32>; 3],
    s22: &[Vec<f32>; 3],
    s12: &[Vec<f32>; 3],
) -> [f64; 6] {
    const C2: f32 = 0.0009;
    let mut out = [0f64; 6];
    for c in 0..3 {
        let n = m1[c].len();
        let (mut sum1, mut sum4) = (0f64, 0f64);
        for i in 0..n {
            let (mu1, mu2) = (m1[c][i], m2[c][i]);
            let diff = mu1 - mu2;
            let num_m = 1.0 - diff * diff;
            let num_s = 2.0 * (s12[c][i] - mu1 * mu2) + C2;
            let denom_s = (s11[c][i] - mu1 * mu1) + (s22[c][i] - mu2 * mu2) + C2;
            let d = (1.0 - f64::from((num_m * num_s) / denom_s)).max(0.0);
            sum1 += d;
            sum4 += (d * d) * (d * d);
        }
        out[c * 2] = sum1 / n as f64;
        out[c * 2 + 1] = (sum4 / n as f64).sqrt().sqrt();
    }
    out
}

/// Per channel: mean and 4-norm of the artifacts (edges the distorted image gained) and of the
/// detail lost.
fn edge_diff_map(
    img1: &[Vec<f32>; 3],
    mu1: &[Vec<f32>; 3],
    img2: &[Vec<f32>; 3],
    mu2: &[Vec<f32>; 3],
) -> [f64; 12] {
    let mut out = [0f64; 12];
    for c in 0..3 {
        let n = img1[c].len();
        let mut sum = [0f64; 4];
        for i in 0..n {
            let d1 = (1.0 + f64::from((img2[c][i] - mu2[c][i]).abs()))
                / (1.0 + f64::from((img1[c][i] - mu1[c][i]).abs()))
                - 1.0;
            let artifact = d1.max(0.0);
            let lost = (-d1).max(0.0);
            sum[0] += artifact;
            sum[1] += (artifact * artifact) * (artifact * artifact);
            sum[2] += lost;
            sum[3] += (lost * lost) * (lost * lost);
        }
        let nf = n as f64;
        out[c * 4] = sum[0] / nf;
        out[c * 4 + 1] = (sum[1] / nf).sqrt().sqrt();
        out[c * 4 + 2] = sum[2] / nf;
        out[c * 4 + 3] = (sum[3] / nf).sqrt().sqrt();
    }
    out
}

/// The weighted sum of the 108 features and the final remapping to 0–100.
fn combine(scales: &[([f64; 6], [f64; 12])]) -> f64 {
    #[rustfmt::skip]
    const WEIGHT: [f64; 108] = [
    0.0, 0.000_737_660_670_740_658_6, 0.0, 0.0, 0.000_779_348_168_286_730_9, 0.0,
    0.0, 0.000_437_115_573_010_737_9, 0.0, 1.104_172_642_665_734_6, 0.000_662_848_341_292_71, 0.000_152_316_327_837_187_52,
    0.0, 0.001_640_643_745_659_975_4, 0.0, 1.842_245_552_053_929_8, 11.441_172_603_757_666, 0.0,
    0.000_798_910_943_601_516_3, 0.000_176_816_438_078_653, 0.0, 1.878_759_497_954_638_7, 10.949_069_906_051_42, 0.0,
    0.000_728_934_699_150_807_2, 0.967_793_708_062_683_3, 0.0, 0.000_140_034_242_854_358_84, 0.998_176_697_785_496_7, 0.000_319_497_559_344_350_53,
    0.000_455_099_211_379_206_3, 0.0, 0.0, 0.001_364_876_616_324_339_8, 0.0, 0.0,
    0.0, 0.0, 0.0, 7.466_890_328_078_848, 0.0, 17.445_833_984_131_262,
    0.000_623_560_163_404_146_6, 0.0, 0.0, 6.683_678_146_179_332, 0.000_377_244_079_796_112_96, 1.027_889_937_768_264,
    225.205_153_008_492_74, 0.0, 0.0, 19.213_238_186_143_016, 0.001_140_152_458_661_836_1, 0.001_237_755_635_509_985,
    176.393_175_984_506_94, 0.0, 0.0, 24.433_009_998_704_76, 0.285_208_026_121_177_57, 0.000_448_543_692_383_340_8,
    0.0, 0.0, 0.0, 34.779_063_444_837_72, 44.835_625_328_877_896, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.000_868_055_657_329_169_8, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.000_531_319_187_435_874_7, 0.0, 0.000_165_338_141_613_791_12, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.000_417_917_180_325_133_6, 0.001_729_082_823_472_283_3, 0.0,
    0.002_082_700_584_663_643_7, 0.0, 0.0, 8.826_982_764_996_862, 23.192_433_439_989_26, 0.0,
    95.108_049_881_108_6, 0.986_397_803_440_068_2, 0.983_438_279_246_535_3, 0.001_228_640_504_827_849_3, 171.266_725_589_730_7, 0.980_785_887_243_537_9,
    0.0, 0.0, 0.0, 0.000_513_006_458_899_067_9, 0.0, 0.000_108_540_578_584_115_37,
    ];
    let mut s = 0f64;
    let mut i = 0;
    for c in 0..3 {
        for (ssim, edge) in scales {
            for n in 0..2 {
                s += WEIGHT[i] * ssim[c * 2 + n].abs();
                s += WEIGHT[i + 1] * edge[c * 4 + n].abs();
                s += WEIGHT[i + 2] * edge[c * 4 + n + 2].abs();
                i += 3;
            }
        }
    }
    s *= 0.956_238_261_683_484_4;
    s = 6.248_496_625_763_138e-5 * s * s * s + 2.326_765_642_916_932 * s - 0.020_884_521_182_843_837 * s * s;
    if s > 0.0 {
        100.0 - 10.0 * s.powf(0.627_633_646_783_138_7)
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_score(w: usize, h: usize, a: &[u8], b: &[u8]) -> f64 {
        use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic};
        let load = |px: &[u8]| {
            let px: Vec<[f32; 3]> = px
                .chunks_exact(3)
                .map(|p| [0, 1, 2].map(|c| p[c] as f32 / 255.0))
                .collect();
            Rgb::new(px, w, h, TransferCharacteristic::SRGB, ColorPrimaries::BT709).unwrap()
        };
        ssimulacra2::compute_frame_ssimulacra2(load(a), load(b)).unwrap()
    }

    fn jpeg_round_trip(rgb: &[u8], w: usize, h: usize, q: f32) -> Vec<u8> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(w, h);
        c.set_quality(q);
        let mut s = c.start_compress(Vec::new()).unwrap();
        s.write_scanlines(rgb).unwrap();
        let jpeg = s.finish().unwrap();
        image::load_from_memory(&jpeg).unwrap().into_rgb8().into_raw()
    }

    #[test]
    fn scores_agree_with_the_ssimulacra2_crate() {
        let (w, h) = (203, 137);
        // A photo-like test card: gradients, a sharp edge, fine texture.
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                let tex = ((x * 7 + y * 13) % 17) as u8 * 3;
                let edge = if x > w / 2 { 60 } else { 0 };
                [
                    (x * 255 / w) as u8,
                    (y * 255 / h) as u8 / 2 + tex + edge,
                    200 - tex,
                ]
            })
            .collect();
        let reference = Reference::new(&rgb, w, h).unwrap();
        assert_eq!(reference.score(&rgb), Some(100.0));
        for q in [30.0, 60.0, 85.0] {
            let distorted = jpeg_round_trip(&rgb, w, h, q);
            let ours = reference.score(&distorted).unwrap();
            let theirs = crate_score(w, h, &rgb, &distorted);
            assert!((ours - theirs).abs() < 0.05, "q{q}: {ours} vs {theirs}");
            assert!(ours < 100.0);
        }
        assert!(Reference::new(&rgb[..7 * 7 * 3], 7, 7).is_none());
        assert_eq!(reference.score(&rgb[3..]), None);
    }
}
