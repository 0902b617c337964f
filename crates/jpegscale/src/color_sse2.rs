//! `color::ycc_row` in SSE2 (which every x86-64 processor has), eight pixels at a time: the
//! same numbers, with each multiplier above 16 bits split into a multiple of 2^16 and a 16-bit
//! rest for `pmaddwd` (91881 = 2^16 + 26345, -46802 = -2^16 + 18734, 116130 = 2^17 - 14942),
//! and the clamps done by saturating packs.

use crate::color::fix;
use std::arch::x86_64::*;

/// Eight bytes from `v[at..at + 8]` in the low half.
#[inline(always)]
fn load8(v: &[u8], at: usize) -> __m128i {
    let b: &[u8; 8] = v[at..at + 8].try_into().expect("eight bytes");
    // SAFETY: reads the 8 bytes of `b`; `loadl` has no alignment requirement.
    unsafe { _mm_loadl_epi64(b.as_ptr().cast()) }
}

/// Converts the row's pixels eight at a time, leaving the last one to nine for the caller (each
/// pixel is stored as four bytes, the fourth overwritten by the next pixel); returns how many
/// it converted.
pub fn ycc_row(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) -> usize {
    let n = y.len().min(cb.len()).min(cr.len()).min(out.len() / 3);
    let mut i = 0;
    while i + 9 <= n {
        let px = convert8(load8(y, i), load8(cb, i), load8(cr, i));
        let dst: &mut [u8; 25] = (&mut out[3 * i..3 * i + 25]).try_into().expect("25 bytes");
        for (j, p) in px.iter().enumerate() {
            dst[3 * j..3 * j + 4].copy_from_slice(&p.to_le_bytes());
        }
        i += 8;
    }
    i
}

/// Eight pixels, as R, G, B, 0 in each 32-bit word.
#[inline(always)]
fn convert8(y: __m128i, cb: __m128i, cr: __m128i) -> [u32; 8] {
    let (r_lo, g_cb, g_cr_lo, b_lo) = (
        fix(1.40200) - (1 << 16),
        -fix(0.34414),
        (1 << 16) - fix(0.71414),
        fix(1.77200) - (2 << 16),
    );
    // SAFETY: SSE2, all these intrinsics need, is part of x86-64 itself; the store writes
    // within `px`.
    unsafe {
        let z = _mm_setzero_si128();
        let c128 = _mm_set1_epi16(128);
        let y = _mm_unpacklo_epi8(y, z);
        let cb = _mm_sub_epi16(_mm_unpacklo_epi8(cb, z), c128);
        let cr = _mm_sub_epi16(_mm_unpacklo_epi8(cr, z), c128);
        let half = _mm_set1_epi32(1 << 15);
        let k_r = _mm_set1_epi32(r_lo & 0xFFFF);
        let k_g = _mm_set1_epi32((g_cr_lo << 16) | (g_cb & 0xFFFF));
        let k_b = _mm_set1_epi32(b_lo & 0xFFFF);
        let channels = |hi: bool| {
            let unpack = |a, b| {
                if hi {
                    _mm_unpackhi_epi16(a, b)
                } else {
                    _mm_unpacklo_epi16(a, b)
                }
            };
            let (cb0, cr0) = (unpack(cb, z), unpack(cr, z)); // (c, 0) pairs
            let (cb16, cr16) = (unpack(z, cb), unpack(z, cr)); // c << 16
            let r = _mm_add_epi32(_mm_add_epi32(_mm_madd_epi16(cr0, k_r), cr16), half);
            let g = _mm_add_epi32(_mm_sub_epi32(_mm_madd_epi16(unpack(cb, cr), k_g), cr16), half);
            let b = _mm_add_epi32(
                _mm_add_epi32(_mm_madd_epi16(cb0, k_b), _mm_slli_epi32::<1>(cb16)),
                half,
            );
            (
                _mm_srai_epi32::<16>(r),
                _mm_srai_epi32::<16>(g),
                _mm_srai_epi32::<16>(b),
            )
        };
        let ((r0, g0, b0), (r1, g1, b1)) = (channels(false), channels(true));
        let r = _mm_add_epi16(_mm_packs_epi32(r0, r1), y);
        let g = _mm_add_epi16(_mm_packs_epi32(g0, g1), y);
        let b = _mm_add_epi16(_mm_packs_epi32(b0, b1), y);
        let rg = _mm_packus_epi16(r, g); // R0..R7, G0..G7
        let rg = _mm_unpacklo_epi8(rg, _mm_srli_si128::<8>(rg));
        let b0 = _mm_unpacklo_epi8(_mm_packus_epi16(b, z), z);
        let mut px = [0u32; 8];
        _mm_storeu_si128(px.as_mut_ptr().cast(), _mm_unpacklo_epi16(rg, b0));
        _mm_storeu_si128(px.as_mut_ptr().add(4).cast(), _mm_unpackhi_epi16(rg, b0));
        px
    }
}
