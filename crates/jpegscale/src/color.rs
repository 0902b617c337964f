//! Chroma upsampling and YCbCr → RGB, row by row, with libjpeg-turbo's arithmetic (jdsample.c
//! triangle filters and their edge rules, jdcolor.c's 16-bit fixed-point tables).

const SCALEBITS: u32 = 16;
const ONE_HALF: i32 = 1 << (SCALEBITS - 1);

pub(crate) const fn fix(x: f64) -> i32 {
    (x * (1 << SCALEBITS) as f64 + 0.5) as i32
}

/// One row of YCbCr samples (same width) to RGB: libjpeg-turbo's table values, computed. On
/// x86-64 `color_sse2` converts all but the last few pixels.
pub fn ycc_row(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    let (y, cb, cr, out) = {
        let done = crate::color_sse2::ycc_row(y, cb, cr, out);
        (&y[done..], &cb[done..], &cr[done..], &mut out[3 * done..])
    };
    let (cr_r, cb_b, cr_g, cb_g) = (fix(1.40200), fix(1.77200), fix(0.71414), fix(0.34414));
    for (((px, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
        let y = y as i32;
        let (cb, cr) = (cb as i32 - 128, cr as i32 - 128);
        px[0] = clamp(y + ((cr_r * cr + ONE_HALF) >> SCALEBITS));
        px[1] = clamp(y + ((-cb_g * cb - cr_g * cr + ONE_HALF) >> SCALEBITS));
        px[2] = clamp(y + ((cb_b * cb + ONE_HALF) >> SCALEBITS));
    }
}

#[inline(always)]
fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Grayscale to RGB: the sample three times.
pub fn gray_row(y: &[u8], out: &mut [u8]) {
    for (px, &v) in out.chunks_exact_mut(3).zip(y) {
        px.fill(v);
    }
}

/// Doubles a row of `c.len()` chroma samples (at least 3) with the triangle filter: each
/// output is ¾ of the nearer input and ¼ of the other, rounded alternately down and up; the
/// first and last inputs are repeated at the edges.
pub fn h2_fancy(c: &[u8], out: &mut [u8]) {
    let n = c.len();
    out[0] = c[0];
    out[2 * n - 1] = c[n - 1];
    for i in 0..n - 1 {
        let (a, b) = (c[i] as u16, c[i + 1] as u16);
        out[2 * i + 1] = ((3 * a + b + 2) >> 2) as u8;
        out[2 * i + 2] = ((3 * b + a + 1) >> 2) as u8;
    }
}

/// Doubles a row by repetition.
pub fn h2_copy(c: &[u8], out: &mut [u8]) {
    for (pair, &v) in out.chunks_exact_mut(2).zip(c) {
        pair.fill(v);
    }
}

/// A row between two chroma rows: ¾ of the nearer and ¼ of the other, plus `bias` (1 for the
/// upper output row of a pair, 2 for the lower), divided by 4.
pub fn v2_fancy(near: &[u8], far: &[u8], bias: u16, out: &mut [u8]) {
    for ((o, &a), &b) in out.iter_mut().zip(near).zip(far) {
        *o = ((3 * a as u16 + b as u16 + bias) >> 2) as u8;
    }
}
