//! The network's first layer (a dense convolution of the picture: BlazeFace's 5×5/2, 3 → 24
//! channels, 15 % of a pass in f32) in 16-bit integers, on x86-64 CPUs with AVX-512 VNNI
//! (`vpdpwssd`: two multiply-adds per 32-bit lane where FMA does one, and exact).
//!
//! The input is read in steps of 1/255: BlazeFace's input is made from 8-bit pixels
//! (`v / 127.5 − 1 = (2v − 255) / 255`), so it is exact, and the zero padding stays zero. The
//! weights get 16 bits with a scale per output channel (15 significant bits, against 24 in
//! f32 and 8 in bfloat16); sums are exact 32-bit integers, then scaled, biased and stored in
//! f32. A row with inputs beyond ±128 (which would overflow 16 bits) takes the f32 kernel.

use crate::kernels::{DenseRow, LANES};
use std::arch::x86_64::*;

/// Input values are read as multiples of `1 / IN_STEPS`.
const IN_STEPS: f32 = 255.0;
/// The largest input magnitude that fits 16 bits in those steps.
const IN_MAX: f32 = 128.0;

/// A dense convolution's weights as pairs of 16-bit integers.
///
/// Within one kernel row, a window's inputs are `k × cin` consecutive values of the input row
/// (pixels, channels innermost), and so are its weights: pair `j` multiplies values `2j` and
/// `2j + 1`. With an odd count, the last pair's second value belongs to the next pixel and its
/// weight is zero.
#[derive(Debug)]
pub struct Weights {
    /// `[ky][pair][co]`, the even value in the low half.
    pub pairs: Vec<u32>,
    /// Pairs per kernel row: `ceil(k × cin / 2)`.
    pub per_row: usize,
    /// Per output channel: sum → f32 (the weight scale over [`IN_STEPS`]).
    pub unscale: Vec<f32>,
}

impl Weights {
    /// From f32 weights `[ky][kx][ci][co]`, `cout` padded to whole vectors.
    pub fn new(w: &[f32], k: usize, cin: usize, cout: usize) -> Weights {
        let per_row = (k * cin).div_ceil(2);
        let mut pairs = vec![0u32; k * per_row * cout];
        let mut unscale = vec![0.0; cout];
        for co in 0..cout {
            let largest = (0..k * k * cin).fold(0f32, |m, i| m.max(w[i * cout + co].abs()));
            if largest == 0.0 {
                continue;
            }
            let scale = largest / i16::MAX as f32;
            unscale[co] = scale / IN_STEPS;
            let q = |ky: usize, i: usize| match i < k * cin {
                true => (w[(ky * k * cin + i) * cout + co] / scale).round() as i16 as u16,
                false => 0,
            };
            for ky in 0..k {
                for j in 0..per_row {
                    let p = u32::from(q(ky, 2 * j)) | u32::from(q(ky, 2 * j + 1)) << 16;
                    pairs[(ky * per_row + j) * cout + co] = p;
                }
            }
        }
        Weights {
            pairs,
            per_row,
            unscale,
        }
    }
}

/// Writes the row as [`crate::kernels::dense_row`] does; false (nothing written) when an
/// input is out of 16-bit range. `rows16` is scratch room, grown as needed.
///
/// # Safety
/// [`crate::kernels`]' `check_dense` passed; the CPU has AVX2, FMA, AVX-512 F, VL and VNNI.
#[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512vnni")]
pub unsafe fn dense_row(r: &DenseRow, q: &Weights, out: &mut [f32], rows16: &mut Vec<i16>) -> bool {
    let k = r.k;
    let len = r.rows[0].len();
    // Two spare values: the last pair of the last pixel may read one past its window.
    let stride = len + 2;
    rows16.resize(stride * k, 0);
    // SAFETY: every row has `len` values (`check_dense`), `rows16` has room for `k` of them.
    unsafe {
        for (row, dst) in r.rows[..k].iter().zip(rows16.chunks_exact_mut(stride)) {
            if !to_i16(&row[..len], &mut dst[..len]) {
                return false;
            }
        }
        let nv = r.cout / LANES;
        let mut v0 = 0;
        while v0 < nv {
            let co0 = v0 * LANES;
            // As `dense_row_impl`: the accumulators, a weight row and an input in 32 registers.
            let chunk = match nv - v0 {
                n @ 1..=6 => n,
                _ => 6,
            };
            match chunk {
                1 => chunk_of::<1, 16>(r, q, rows16, stride, co0, out),
                2 => chunk_of::<2, 10>(r, q, rows16, stride, co0, out),
                3 => chunk_of::<3, 7>(r, q, rows16, stride, co0, out),
                4 => chunk_of::<4, 5>(r, q, rows16, stride, co0, out),
                5 => chunk_of::<5, 4>(r, q, rows16, stride, co0, out),
                _ => chunk_of::<6, 3>(r, q, rows16, stride, co0, out),
            }
            v0 += chunk;
        }
    }
    true
}

/// `row` in steps of 1/[`IN_STEPS`], rounded to the nearest; false when a value is out of
/// range.
#[inline(always)]
unsafe fn to_i16(row: &[f32], out: &mut [i16]) -> bool {
    let n = row.len() / LANES * LANES;
    // SAFETY: 8 values read and written per step, within both lengths (the caller's features).
    unsafe {
        let (steps, sign) = (_mm256_set1_ps(IN_STEPS), _mm256_set1_ps(-0.0));
        let mut largest = _mm256_setzero_ps();
        for i in (0..n).step_by(LANES) {
            let v = _mm256_loadu_ps(row.as_ptr().add(i));
            largest = _mm256_max_ps(largest, _mm256_andnot_ps(sign, v));
            let q = _mm256_cvtps_epi32(_mm256_mul_ps(v, steps));
            _mm_storeu_si128(out.as_mut_ptr().add(i).cast(), _mm256_cvtsepi32_epi16(q));
        }
        let mut lanes = [0f32; LANES];
        _mm256_storeu_ps(lanes.as_mut_ptr(), largest);
        let mut ok = lanes.iter().all(|&m| m <= IN_MAX);
        for (o, &v) in out[n..].iter_mut().zip(&row[n..]) {
            // NaN fails this too.
            ok &= v.abs() <= IN_MAX;
            *o = (v * IN_STEPS).round() as i16;
        }
        ok
    }
}

/// Output channels `co0..co0 + NV × 8` of every pixel, `NP` pixels at a time.
#[inline(always)]
unsafe fn chunk_of<const NV: usize, const NP: usize>(
    r: &DenseRow,
    q: &Weights,
    rows16: &[i16],
    stride: usize,
    co0: usize,
    out: &mut [f32],
) {
    let n = out.len() / r.cout;
    let mut p0 = 0;
    // SAFETY: as for `dense_row`.
    unsafe {
        while p0 + NP <= n {
            tile::<NV, NP>(r, q, rows16, stride, co0, p0, out);
            p0 += NP;
        }
        while p0 < n {
            tile::<NV, 1>(r, q, rows16, stride, co0, p0, out);
            p0 += 1;
        }
    }
}

#[inline(always)]
unsafe fn tile<const NV: usize, const NP: usize>(
    r: &DenseRow,
    q: &Weights,
    rows16: &[i16],
    stride: usize,
    co0: usize,
    p0: usize,
    out: &mut [f32],
) {
    let (cin, cout, st) = (r.cin, r.cout, r.stride);
    // SAFETY: the window of pixel p starts at ((p × st + x_off) × cin) and its last pair ends
    // at most one value past the window (`check_dense` bounds the window, `rows16` has two
    // spare values per row); weight, scale, bias and output indices within their lengths.
    unsafe {
        let mut acc = [[_mm256_setzero_si256(); NV]; NP];
        let mut wp = q.pairs.as_ptr().add(co0);
        for ky in 0..r.k {
            let xp = rows16.as_ptr().add(ky * stride + (p0 * st + r.x_off) * cin);
            for j in 0..q.per_row {
                let mut w = [_mm256_setzero_si256(); NV];
                for (v, wv) in w.iter_mut().enumerate() {
                    *wv = _mm256_loadu_si256(wp.add(v * LANES).cast());
                }
                for (p, accp) in acc.iter_mut().enumerate() {
                    let pair = xp.add(p * st * cin + 2 * j).cast::<i32>().read_unaligned();
                    let xv = _mm256_set1_epi32(pair);
                    for (a, wv) in accp.iter_mut().zip(&w) {
                        *a = _mm256_dpwssd_epi32(*a, xv, *wv);
                    }
                }
                wp = wp.add(cout);
            }
        }
        // A copy, as in `pw_tile`: `acc` stays in registers.
        let done = acc;
        let op = out.as_mut_ptr();
        for (p, accp) in done.iter().enumerate() {
            for (v, a) in accp.iter().enumerate() {
                let co = co0 + v * LANES;
                let f = _mm256_fmadd_ps(
                    _mm256_cvtepi32_ps(*a),
                    _mm256_loadu_ps(q.unscale.as_ptr().add(co)),
                    _mm256_loadu_ps(r.bias.as_ptr().add(co)),
                );
                let f = if r.relu {
                    _mm256_max_ps(f, _mm256_setzero_ps())
                } else {
                    f
                };
                _mm256_storeu_ps(op.add((p0 + p) * cout + co), f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_paired_per_kernel_row() {
        // k 2, cin 3: 6 values per kernel row, 3 pairs; cout 8, only channel 1 non-zero.
        let (k, cin, cout) = (2, 3, 8);
        let mut w = vec![0.0; k * k * cin * cout];
        for i in 0..k * k * cin {
            w[i * cout + 1] = i as f32 - 5.0;
        }
        let q = Weights::new(&w, k, cin, cout);
        assert_eq!(q.per_row, 3);
        // Largest |w| is 6 (i = 11): scale 6 / 32767.
        let s = 6.0 / 32767.0;
        assert!((q.unscale[1] - s / 255.0).abs() < 1e-12);
        assert_eq!(q.unscale[0], 0.0);
        // Kernel row 1, pair 2: values 10 and 11 of the window (w = 5 and 6).
        let p = q.pairs[(3 + 2) * cout + 1];
        assert_eq!(p as u16 as i16, (5.0f32 / s).round() as i16);
        assert_eq!((p >> 16) as u16 as i16, i16::MAX);
    }
}
