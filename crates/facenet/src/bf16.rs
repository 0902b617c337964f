//! 1×1 convolutions with bfloat16 products, on x86-64 CPUs with AVX-512 BF16 (AMD Zen 4,
//! Intel Sapphire Rapids and later): `vdpbf16ps` does two multiply-adds per lane where FMA does
//! one, and these layers are most of the network's arithmetic. Their inputs and weights are
//! rounded to bfloat16 (8 significant bits); sums, bias, residual and every other layer stay
//! f32. On the face test set this changes no detection (docs/faces.md).

use crate::kernels::{Products, LANES};
use crate::simd::Avx2;
use std::arch::x86_64::*;

/// `v` rounded to the nearest bfloat16 (ties to even), as its 16 bits.
fn round(v: f32) -> u16 {
    let b = v.to_bits();
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// Weights `[ci][co]` (`cin` even) as bfloat16 pairs of consecutive input channels,
/// `[ci / 2][co]`, the even channel in the low half: what `vdpbf16ps` multiplies lane by lane
/// with a pixel's pair of inputs.
pub fn pairs(w: &[f32], cin: usize, cout: usize) -> Vec<u32> {
    let mut out = vec![0; cin / 2 * cout];
    for (k, row) in out.chunks_exact_mut(cout).enumerate() {
        for (co, p) in row.iter_mut().enumerate() {
            let (lo, hi) = (round(w[2 * k * cout + co]), round(w[(2 * k + 1) * cout + co]));
            *p = u32::from(lo) | u32::from(hi) << 16;
        }
    }
    out
}

/// `t` (f32, a multiple of 8 values) rounded to bfloat16 into `out` (`t.len() / 2` pairs).
///
/// # Safety
/// AVX-512 BF16 and VL are enabled; `out` holds `t.len() / 2` values.
#[inline(always)]
pub unsafe fn to_pairs(t: &[f32], out: &mut [u32]) {
    // SAFETY: 8 values read and 4 pairs written per step, within both lengths.
    unsafe {
        for (i, o) in (0..t.len()).step_by(LANES).zip((0..).step_by(LANES / 2)) {
            let v = _mm256_cvtneps_pbh(_mm256_loadu_ps(t.as_ptr().add(i)));
            _mm_storeu_si128(
                out.as_mut_ptr().add(o).cast(),
                std::mem::transmute::<__m128bh, __m128i>(v),
            );
        }
    }
}

/// Products of bfloat16 pairs: `x` is `cin / 2` pairs per pixel, `w` as [`pairs`] makes them.
pub struct Bf16Products<'a> {
    pub x: &'a [u32],
    pub cin: usize,
    pub w: &'a [u32],
    pub cout: usize,
}

impl Products<Avx2> for Bf16Products<'_> {
    #[inline(always)]
    fn pixels(&self) -> usize {
        self.x.len() * 2 / self.cin
    }

    #[inline(always)]
    unsafe fn add_to<const NV: usize, const NP: usize>(
        &self,
        p0: usize,
        co0: usize,
        acc: &mut [[Avx2; NV]; NP],
    ) {
        let (k_n, cout) = (self.cin / 2, self.cout);
        // SAFETY: the caller enabled AVX-512 BF16; pixel and weight indices within the lengths
        // `check_block` asserted.
        unsafe {
            let xp = self.x.as_ptr().add(p0 * k_n);
            let mut wp = self.w.as_ptr().add(co0);
            for k in 0..k_n {
                let mut w = [_mm256_setzero_si256(); NV];
                for (v, wv) in w.iter_mut().enumerate() {
                    *wv = _mm256_loadu_si256(wp.add(v * LANES).cast());
                }
                for (p, accp) in acc.iter_mut().enumerate() {
                    let xv = _mm256_set1_epi32(*xp.add(p * k_n + k) as i32);
                    for (a, wv) in accp.iter_mut().zip(&w) {
                        *a = a.dot_bf16(xv, *wv);
                    }
                }
                wp = wp.add(cout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_to_bfloat16() {
        assert_eq!(round(1.0), 0x3f80);
        assert_eq!(round(-2.0), 0xc000);
        // 1 + 2⁻⁸ is halfway between two bfloat16 values: ties to the even one (1.0).
        assert_eq!(round(1.0 + 1.0 / 256.0), 0x3f80);
        assert_eq!(round(1.0 + 3.0 / 256.0), 0x3f82);
        let w: Vec<f32> = (0..4 * 8).map(|i| i as f32).collect();
        let p = pairs(&w, 4, 8);
        // Pair (ci 2, ci 3) of output channel 1: 17.0 and 25.0.
        assert_eq!(p[8 + 1], u32::from(round(17.0)) | u32::from(round(25.0)) << 16);
    }
}
