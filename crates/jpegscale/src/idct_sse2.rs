//! The 2×2 and 4×4 IDCTs of `idct.rs` in SSE2 (which every x86-64 processor has), one block at
//! a time: eight columns in the lanes of a register for the first pass, 16-bit coefficients
//! multiplied and summed in pairs by `pmaddwd`, like libjpeg-turbo's own SIMD code.
//!
//! They compute in 32 bits where `idct.rs` computes in 64 (libjpeg's `JLONG`). That is exact
//! while every dequantised coefficient is within ±16383: the largest sum is then below 2^31
//! (2×2: 16383 × (2^15 + 52991); 4×4: 16383 × (2^14 + 21407 + 40119)), and the values between
//! the passes obey the same bound once `WS_MAX` holds. A block beyond it (no real image has
//! one) returns `None` and goes to the 64-bit code; the range checks are `idct.rs`'s.

use crate::idct::{fix, Quant, WS0_MAX, WS_MAX};
use std::arch::x86_64::*;

/// Eight 16-bit values from `v[at..at + 8]`.
#[inline(always)]
fn load(v: &[i16], at: usize) -> __m128i {
    let row: &[i16; 8] = v[at..at + 8].try_into().expect("eight values");
    // SAFETY: reads the 16 bytes of `row`; `loadu` has no alignment requirement.
    unsafe { _mm_loadu_si128(row.as_ptr().cast()) }
}

#[inline(always)]
fn store(v: &mut [i32], at: usize, x: __m128i) {
    let dst: &mut [i32; 4] = (&mut v[at..at + 4]).try_into().expect("four values");
    // SAFETY: writes the 16 bytes of `dst`; `storeu` has no alignment requirement.
    unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), x) }
}

/// Row `r` of the block dequantised (16-bit products, exact when the check passes), and into
/// `bad` anything but zero where a product leaves ±16383 (`mulhi` by 4q is the product >> 14).
#[inline(always)]
fn dq_row(blk: &[i16; 128], q: &Quant, q4: &[i16; 64], r: usize, bad: &mut __m128i) -> __m128i {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let x = load(blk, 8 * r);
        let h = _mm_mulhi_epi16(x, load(q4, 8 * r));
        *bad = _mm_or_si128(*bad, _mm_xor_si128(h, _mm_srai_epi16::<15>(h)));
        _mm_mullo_epi16(x, load(&q.q, 8 * r))
    }
}

fn all_zero(v: __m128i) -> bool {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe { _mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_setzero_si128())) == 0xFFFF }
}

/// Two 16-bit multipliers, for `pmaddwd` on pairs interleaved `a, b`.
#[inline(always)]
fn pair(a: i64, b: i64) -> __m128i {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe { _mm_set1_epi32(((b as i32) << 16) | (a as i32 & 0xFFFF)) }
}

/// `a·ka + b·kb` per lane, in 32 bits: the low four lanes (`hi` false) or the high four.
#[inline(always)]
fn madd(a: __m128i, b: __m128i, k: __m128i, hi: bool) -> __m128i {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let ab = if hi {
            _mm_unpackhi_epi16(a, b)
        } else {
            _mm_unpacklo_epi16(a, b)
        };
        _mm_madd_epi16(ab, k)
    }
}

/// Lanes of `x` (low four or high four) widened to 32 bits and shifted left by 16 - `S`.
#[inline(always)]
fn widen_shl<const S: i32>(x: __m128i, hi: bool) -> __m128i {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let z = _mm_setzero_si128();
        let w = if hi {
            _mm_unpackhi_epi16(z, x)
        } else {
            _mm_unpacklo_epi16(z, x)
        };
        _mm_srai_epi32::<S>(w)
    }
}

/// Whether every lane of the two rows between the passes is within `idct.rs`'s limits (column
/// 0 has the tighter one). Beyond 16 bits `packs` saturated them, which the check sees too.
#[inline(always)]
fn ws_ok(rows: &[__m128i]) -> bool {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let z = _mm_setzero_si128();
        let lim = _mm_setr_epi16(
            WS0_MAX as i16,
            WS_MAX as i16,
            WS_MAX as i16,
            WS_MAX as i16,
            WS_MAX as i16,
            WS_MAX as i16,
            WS_MAX as i16,
            WS_MAX as i16,
        );
        let mut over = z;
        for &v in rows {
            let abs = _mm_max_epi16(v, _mm_subs_epi16(z, v));
            over = _mm_or_si128(over, _mm_cmpgt_epi16(abs, lim));
        }
        _mm_movemask_epi8(over) == 0
    }
}

/// `idct::t_of` for a final shift of `N`: `(x + 2^(N-1)) >> (N - 5)`.
#[inline(always)]
fn t_of<const N: i32>(x: __m128i) -> __m128i {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let x = _mm_add_epi32(x, _mm_set1_epi32(1 << (N - 1)));
        _mm_sra_epi32(x, _mm_cvtsi32_si128(N - 5))
    }
}

/// `(x + 2^(N-1)) >> N`, on 32-bit lanes.
#[inline(always)]
fn descale<const N: i32>(x: __m128i) -> __m128i {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe { _mm_srai_epi32::<N>(_mm_add_epi32(x, _mm_set1_epi32(1 << (N - 1)))) }
}

/// The 2×2 IDCT (`idct::idct2`): `t[0..4]`, and whether the block stays within the limits; None
/// when it leaves 32 bits.
#[inline(always)]
pub fn idct2(blk: &[i16; 128], q: &Quant, q4: &[i16; 64], t: &mut [i32; 64]) -> Option<bool> {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let mut bad = _mm_setzero_si128();
        let x0 = dq_row(blk, q, q4, 0, &mut bad);
        let x1 = dq_row(blk, q, q4, 1, &mut bad);
        let x3 = dq_row(blk, q, q4, 3, &mut bad);
        let x5 = dq_row(blk, q, q4, 5, &mut bad);
        let x7 = dq_row(blk, q, q4, 7, &mut bad);
        if !all_zero(bad) {
            return None;
        }
        let (k1, k3, k5, k7) = (
            fix(3.624509785),
            -fix(1.272758580),
            fix(0.850430095),
            -fix(0.720959822),
        );
        let (k13, k57) = (pair(k1, k3), pair(k5, k7));
        // pass 1, columns in lanes: rows 0 and 1 of the 2×2 output of each column
        let half = |hi: bool| {
            let odd = _mm_add_epi32(madd(x1, x3, k13, hi), madd(x5, x7, k57, hi));
            let even = widen_shl::<1>(x0, hi); // x0 << 15
            (
                descale::<13>(_mm_add_epi32(even, odd)),
                descale::<13>(_mm_sub_epi32(even, odd)),
            )
        };
        let ((t_lo, b_lo), (t_hi, b_hi)) = (half(false), half(true));
        let top = _mm_packs_epi32(t_lo, t_hi);
        let bot = _mm_packs_epi32(b_lo, b_hi);
        let exact = ws_ok(&[top, bot]);
        // pass 2: each row's odd part summed across its lanes
        let kr = _mm_setr_epi16(0, k1 as i16, 0, k3 as i16, 0, k5 as i16, 0, k7 as i16);
        let (mt, mb) = (_mm_madd_epi16(top, kr), _mm_madd_epi16(bot, kr));
        let w = _mm_add_epi32(_mm_unpacklo_epi32(mt, mb), _mm_unpackhi_epi32(mt, mb));
        let odd = _mm_add_epi32(w, _mm_shuffle_epi32::<0b01_00_11_10>(w)); // top, bottom, top, bottom
        let odd = _mm_shuffle_epi32::<0b01_01_00_00>(odd);
        let even = widen_shl::<1>(_mm_unpacklo_epi16(top, bot), false); // top, bottom (<< 15)
        let even = _mm_shuffle_epi32::<0b01_01_00_00>(even);
        let sign = _mm_setr_epi32(0, -1, 0, -1);
        let odd = _mm_sub_epi32(_mm_xor_si128(odd, sign), sign); // +, -, +, -
        store(t, 0, t_of::<20>(_mm_add_epi32(even, odd)));
        Some(exact)
    }
}

/// The reduced 4-point IDCT on eight lanes (half `hi` of the pairs): inputs 0, 1, 2, 3, 5, 6, 7
/// (`x0` already shifted to 32 bits by the caller's `widen`), outputs before descaling.
#[inline(always)]
fn pass4(x0: __m128i, p26: __m128i, p13: __m128i, p57: __m128i) -> [__m128i; 4] {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let tmp2 = _mm_madd_epi16(p26, pair(fix(1.847759065), -fix(0.765366865)));
        let (tmp10, tmp12) = (_mm_add_epi32(x0, tmp2), _mm_sub_epi32(x0, tmp2));
        let o0 = _mm_add_epi32(
            _mm_madd_epi16(p13, pair(fix(1.061594337), -fix(2.172734803))),
            _mm_madd_epi16(p57, pair(fix(1.451774981), -fix(0.211164243))),
        );
        let o2 = _mm_add_epi32(
            _mm_madd_epi16(p13, pair(fix(2.562915447), fix(0.899976223))),
            _mm_madd_epi16(p57, pair(-fix(0.601344887), -fix(0.509795579))),
        );
        [
            _mm_add_epi32(tmp10, o2),
            _mm_add_epi32(tmp12, o0),
            _mm_sub_epi32(tmp12, o0),
            _mm_sub_epi32(tmp10, o2),
        ]
    }
}

fn interleave(a: __m128i, b: __m128i, hi: bool) -> __m128i {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        if hi {
            _mm_unpackhi_epi16(a, b)
        } else {
            _mm_unpacklo_epi16(a, b)
        }
    }
}

/// The 4×4 IDCT (`idct::idct4`): `t[0..16]`, as `idct2`.
#[inline(always)]
pub fn idct4(blk: &[i16; 128], q: &Quant, q4: &[i16; 64], t: &mut [i32; 64]) -> Option<bool> {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself.
    unsafe {
        let mut bad = _mm_setzero_si128();
        let x: [__m128i; 8] = std::array::from_fn(|r| {
            if r == 4 {
                _mm_setzero_si128()
            } else {
                dq_row(blk, q, q4, r, &mut bad)
            }
        });
        if !all_zero(bad) {
            return None;
        }
        // pass 1, columns in lanes
        let half = |hi: bool| {
            let x0 = widen_shl::<2>(x[0], hi); // << 14
            let p26 = interleave(x[2], x[6], hi);
            let p13 = interleave(x[1], x[3], hi);
            let p57 = interleave(x[5], x[7], hi);
            pass4(x0, p26, p13, p57).map(descale::<12>)
        };
        let (lo, hi) = (half(false), half(true));
        let rows: [__m128i; 4] = std::array::from_fn(|r| _mm_packs_epi32(lo[r], hi[r]));
        let exact = ws_ok(&rows);
        // transpose: column pairs with the four rows in lanes
        let a = _mm_unpacklo_epi16(rows[0], rows[1]);
        let b = _mm_unpacklo_epi16(rows[2], rows[3]);
        let c = _mm_unpackhi_epi16(rows[0], rows[1]);
        let d = _mm_unpackhi_epi16(rows[2], rows[3]);
        let c01 = _mm_unpacklo_epi32(a, b);
        let c23 = _mm_unpackhi_epi32(a, b);
        let c45 = _mm_unpacklo_epi32(c, d);
        let c67 = _mm_unpackhi_epi32(c, d);
        // pass 2, rows in lanes: the four output columns
        let out = pass4(
            widen_shl::<2>(c01, false),
            _mm_unpacklo_epi16(c23, c67),
            _mm_unpackhi_epi16(c01, c23),
            _mm_unpackhi_epi16(c45, c67),
        )
        .map(t_of::<19>);
        // back to rows
        let t0 = _mm_unpacklo_epi32(out[0], out[1]);
        let t1 = _mm_unpacklo_epi32(out[2], out[3]);
        let t2 = _mm_unpackhi_epi32(out[0], out[1]);
        let t3 = _mm_unpackhi_epi32(out[2], out[3]);
        store(t, 0, _mm_unpacklo_epi64(t0, t1));
        store(t, 4, _mm_unpackhi_epi64(t0, t1));
        store(t, 8, _mm_unpacklo_epi64(t2, t3));
        store(t, 12, _mm_unpackhi_epi64(t2, t3));
        Some(exact)
    }
}

/// `strip::put` for 2×2 and 4×4 blocks: the samples of `t` with the dequantised DC times four
/// `dq4` (`idct::sample`), written at `plane[at..]`, rows `w` apart. False when a sample leaves
/// ±512 around the centre, or a row lies outside the plane.
#[inline(always)]
pub fn put<const S: usize>(plane: &mut [u8], w: usize, at: usize, t: &[i32; 64], dq4: i32) -> bool {
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself; the loads read
    // within `t`.
    let (bytes, over) = unsafe {
        let dc = _mm_set1_epi32(dq4);
        let (lo, hi) = (_mm_set1_epi32(511), _mm_set1_epi32(-512));
        let mut over = _mm_setzero_si128();
        let mut words = [_mm_setzero_si128(); 2];
        for (i, word) in words.iter_mut().enumerate().take(S * S / 8 + (S == 2) as usize) {
            let mut x = [_mm_setzero_si128(); 2];
            for (j, x) in x.iter_mut().enumerate().take(if S == 2 { 1 } else { 2 }) {
                let v = load32(t, 8 * i + 4 * j);
                let v = _mm_srai_epi32::<5>(_mm_add_epi32(v, dc));
                over = _mm_or_si128(over, _mm_or_si128(_mm_cmpgt_epi32(v, lo), _mm_cmplt_epi32(v, hi)));
                *x = _mm_add_epi32(v, _mm_set1_epi32(128));
            }
            *word = _mm_packs_epi32(x[0], x[1]);
        }
        let bytes = _mm_packus_epi16(words[0], words[1]);
        let mut out = [0u8; 16];
        _mm_storeu_si128(out.as_mut_ptr().cast(), bytes);
        (out, _mm_movemask_epi8(over))
    };
    for (r, src) in bytes.chunks_exact(S).take(S).enumerate() {
        let Some(row) = plane.get_mut(at + r * w..at + r * w + S) else {
            return false;
        };
        row.copy_from_slice(src);
    }
    over == 0
}

/// Four 32-bit values from `v[at..at + 4]`.
#[inline(always)]
fn load32(v: &[i32; 64], at: usize) -> __m128i {
    let row: &[i32; 4] = v[at..at + 4].try_into().expect("four values");
    // SAFETY: reads the 16 bytes of `row`; `loadu` has no alignment requirement.
    unsafe { _mm_loadu_si128(row.as_ptr().cast()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idct::idct_64;

    /// xorshift: blocks of every kind, reproducibly.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A value of up to `bits` magnitude bits, often zero.
        fn coef(&mut self, bits: u32) -> i16 {
            let r = self.next();
            if r.is_multiple_of(3) {
                return 0;
            }
            let m = ((r >> 8) % (1 << bits)) as i16;
            if r & 16 == 0 {
                -m
            } else {
                m
            }
        }
    }

    /// The SIMD IDCTs and sample writer give what the 64-bit code gives, whenever they answer:
    /// the same range verdict, the same `t` and the same samples for blocks within the limits,
    /// on ordinary blocks and on blocks at and beyond the limits.
    #[test]
    fn simd_matches_the_64_bit_code() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut answered, mut fell_back, mut inexact) = (0, 0, 0);
        for round in 0..40_000 {
            let bits = [6, 9, 11, 13, 15][round % 5];
            let qbits = [3, 6, 8, 12][(round / 5) % 4];
            let quant = Quant::new(std::array::from_fn(|_| (rng.next() % (1 << qbits)) as i16 + 1));
            let q4 = quant.q4.expect("small multipliers");
            let mut all = [0i16; 64];
            for v in all[1..].iter_mut() {
                *v = rng.coef(bits);
            }
            let dq4 = (rng.coef(13) as i32) * 4;
            for s in [2, 4] {
                // what the Huffman decoder leaves: the coefficients this IDCT reads, zeros elsewhere
                let used = |i: usize| {
                    if s == 2 {
                        matches!(i, 0 | 1 | 3 | 5 | 7)
                    } else {
                        i != 4
                    }
                };
                let mut blk = [0i16; 128];
                for (i, v) in all.iter().enumerate() {
                    if used(i / 8) && used(i % 8) {
                        blk[i] = *v;
                    }
                }
                let (mut t_simd, mut t_64) = ([0i32; 64], [0i32; 64]);
                let exact_64 = idct_64(s, &blk, &quant.q, &mut t_64);
                let simd = if s == 2 {
                    idct2(&blk, &quant, &q4, &mut t_simd)
                } else {
                    idct4(&blk, &quant, &q4, &mut t_simd)
                };
                let Some(exact) = simd else {
                    fell_back += 1;
                    continue;
                };
                answered += 1;
                assert_eq!(exact, exact_64, "range verdict, {s}×{s}, round {round}");
                if !exact {
                    inexact += 1;
                    continue;
                }
                assert_eq!(t_simd[..s * s], t_64[..s * s], "t, {s}×{s}, round {round}");
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                let ok_simd = if s == 2 {
                    put::<2>(&mut a, 8, 0, &t_simd, dq4)
                } else {
                    put::<4>(&mut a, 8, 0, &t_simd, dq4)
                };
                let mut ok_64 = true;
                for r in 0..s {
                    for c in 0..s {
                        let (v, ok) = crate::idct::sample(t_64[r * s + c], dq4);
                        b[r * 8 + c] = v;
                        ok_64 &= ok;
                    }
                }
                assert_eq!(ok_simd, ok_64, "sample range, {s}×{s}, round {round}");
                assert_eq!(a, b, "samples, {s}×{s}, round {round}");
            }
        }
        // every path taken
        assert!(
            answered > 10_000 && fell_back > 1_000 && inexact > 1_000,
            "{answered} {fell_back} {inexact}"
        );
    }
}
