//! libjpeg-turbo's integer IDCTs at 1×1, 2×2, 4×4 (jidctred.c) and 8×8 (jidctint.c "islow"),
//! computed from the published algorithms (same fixed-point constants, passes and rounding), so
//! the output matches libjpeg-turbo's bit for bit.
//!
//! The DC coefficient is kept out: each IDCT returns, per output sample, `t` such that the
//! sample is `LIMIT[((t + 4·dq) >> 5) & 1023]` for the dequantised DC `dq`. In every one of
//! these IDCTs DC enters as an exact multiple of the final shift divided by 32, so this is the
//! same number libjpeg computes; it lets the speculative decoder store `t` before it knows the
//! DC predictions. A block without AC has `t = 16` everywhere.

const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

/// FIX(x) of libjpeg: x in 13-bit fixed point, rounded.
const fn fix(x: f64) -> i64 {
    (x * (1 << CONST_BITS) as f64 + 0.5) as i64
}

/// `t` of a block with no AC coefficient.
pub const FLAT: i32 = 16;

/// libjpeg's post-IDCT range limit: the IDCT's output (centred on 0) masked to 10 bits,
/// clamped to 0..=255 around 128, with the upper half of the table wrapping like libjpeg's.
pub static LIMIT: [u8; 1024] = limit_table();

const fn limit_table() -> [u8; 1024] {
    let mut t = [0u8; 1024];
    let mut i = 0;
    while i < 1024 {
        t[i] = if i < 128 {
            (i + 128) as u8
        } else if i < 512 {
            255
        } else if i < 896 {
            0
        } else {
            (i - 896) as u8
        };
        i += 1;
    }
    t
}

/// A sample from `t` and the block's dequantised DC times four.
#[inline(always)]
pub fn sample(t: i32, dq4: i32) -> u8 {
    LIMIT[(t.wrapping_add(dq4) >> 5) as usize & 1023]
}

#[inline(always)]
fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// `t` for the final sum `x` of an IDCT whose last shift is `n`.
#[inline(always)]
fn t_of(x: i64, n: u32) -> i32 {
    ((x + (1 << (n - 1))) >> (n - 5)) as i32
}

/// Computes `t` for a `s`×`s` output (row-major in `t`) from a block in natural order
/// (`blk[0]`, DC, is ignored) and the quantisation table.
#[inline(always)]
pub fn idct(s: usize, blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64]) {
    match s {
        2 => idct2(blk, q, t),
        4 => idct4(blk, q, t),
        8 => idct8(blk, q, t),
        _ => t[0] = FLAT,
    }
}

/// Dequantised coefficient (libjpeg: short × short), DC left out.
#[inline(always)]
fn dq(blk: &[i16; 128], q: &[i16; 64], i: usize) -> i64 {
    if i == 0 {
        0
    } else {
        (blk[i] as i32 * q[i & 63] as i32) as i64
    }
}

/// The odd part of the reduced 2-point IDCT, over inputs 1, 3, 5, 7.
#[inline(always)]
fn odd2(x1: i64, x3: i64, x5: i64, x7: i64) -> i64 {
    x7 * -fix(0.720959822) + x5 * fix(0.850430095) + x3 * -fix(1.272758580) + x1 * fix(3.624509785)
}

/// Pass 1 of the 2×2 IDCT on column `c` (a constant once inlined): its two outputs.
#[inline(always)]
fn col2(blk: &[i16; 128], q: &[i16; 64], c: usize) -> (i64, i64) {
    let even = dq(blk, q, c) << (CONST_BITS + 2);
    let n = CONST_BITS - PASS1_BITS + 2;
    if blk[8 + c] | blk[24 + c] | blk[40 + c] | blk[56 + c] == 0 {
        let v = (even >> n) as i32 as i64; // descale(even), exactly
        return (v, v);
    }
    let o = odd2(
        dq(blk, q, 8 + c),
        dq(blk, q, 24 + c),
        dq(blk, q, 40 + c),
        dq(blk, q, 56 + c),
    );
    (
        descale(even + o, n) as i32 as i64,
        descale(even - o, n) as i32 as i64,
    )
}

#[inline(always)]
fn idct2(blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64]) {
    let cols = [
        col2(blk, q, 0),
        col2(blk, q, 1),
        col2(blk, q, 3),
        col2(blk, q, 5),
        col2(blk, q, 7),
    ];
    let n = CONST_BITS + PASS1_BITS + 3 + 2;
    for r in 0..2 {
        let w = |j: usize| if r == 0 { cols[j].0 } else { cols[j].1 };
        let even = w(0) << (CONST_BITS + 2);
        let o = odd2(w(1), w(2), w(3), w(4));
        t[r * 2] = t_of(even + o, n);
        t[r * 2 + 1] = t_of(even - o, n);
    }
}

fn idct4(blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64]) {
    // The reduced 4-point IDCT (input 4 unused): even part from inputs 0, 2, 6, odd from 1, 3, 5, 7.
    let pass = |x0: i64, x1: i64, x2: i64, x3: i64, x5: i64, x6: i64, x7: i64, shift: u32| {
        let tmp0 = x0 << shift;
        let tmp2 = x2 * fix(1.847759065) + x6 * -fix(0.765366865);
        let (tmp10, tmp12) = (tmp0 + tmp2, tmp0 - tmp2);
        let o0 =
            x7 * -fix(0.211164243) + x5 * fix(1.451774981) + x3 * -fix(2.172734803) + x1 * fix(1.061594337);
        let o2 =
            x7 * -fix(0.509795579) + x5 * -fix(0.601344887) + x3 * fix(0.899976223) + x1 * fix(2.562915447);
        [tmp10 + o2, tmp12 + o0, tmp12 - o0, tmp10 - o2]
    };
    const IDX: [usize; 7] = [0, 1, 2, 3, 5, 6, 7];
    let mut ws = [[0i32; 7]; 4];
    for (j, &c) in IDX.iter().enumerate() {
        let d = |r: usize| dq(blk, q, r * 8 + c);
        let out = pass(d(0), d(1), d(2), d(3), d(5), d(6), d(7), CONST_BITS + 1);
        for r in 0..4 {
            ws[r][j] = descale(out[r], CONST_BITS - PASS1_BITS + 1) as i32;
        }
    }
    let n = CONST_BITS + PASS1_BITS + 3 + 1;
    for (r, w) in ws.iter().enumerate() {
        let w = |i: usize| w[i] as i64;
        let out = pass(w(0), w(1), w(2), w(3), w(4), w(5), w(6), CONST_BITS + 1);
        for (c, &x) in out.iter().enumerate() {
            t[r * 4 + c] = t_of(x, n);
        }
    }
}

/// One 8-point pass of the "islow" IDCT: inputs x[0..8], outputs before descaling.
#[inline(always)]
fn islow(x: [i64; 8]) -> [i64; 8] {
    let z1 = (x[2] + x[6]) * fix(0.541196100);
    let tmp2 = z1 + x[6] * -fix(1.847759065);
    let tmp3 = z1 + x[2] * fix(0.765366865);
    let tmp0 = (x[0] + x[4]) << CONST_BITS;
    let tmp1 = (x[0] - x[4]) << CONST_BITS;
    let (tmp10, tmp13, tmp11, tmp12) = (tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2);
    let (o0, o1, o2, o3) = (x[7], x[5], x[3], x[1]);
    let (z1, z2, z3, z4) = (o0 + o3, o1 + o2, o0 + o2, o1 + o3);
    let z5 = (z3 + z4) * fix(1.175875602);
    let z1 = z1 * -fix(0.899976223);
    let z2 = z2 * -fix(2.562915447);
    let z3 = z3 * -fix(1.961570560) + z5;
    let z4 = z4 * -fix(0.390180644) + z5;
    let o0 = o0 * fix(0.298631336) + z1 + z3;
    let o1 = o1 * fix(2.053119869) + z2 + z4;
    let o2 = o2 * fix(3.072711026) + z2 + z3;
    let o3 = o3 * fix(1.501321110) + z1 + z4;
    [
        tmp10 + o3,
        tmp11 + o2,
        tmp12 + o1,
        tmp13 + o0,
        tmp13 - o0,
        tmp12 - o1,
        tmp11 - o2,
        tmp10 - o3,
    ]
}

fn idct8(blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64]) {
    let mut ws = [[0i32; 8]; 8];
    for c in 0..8 {
        let x: [i64; 8] = std::array::from_fn(|r| dq(blk, q, r * 8 + c));
        if x[1..].iter().all(|&v| v == 0) {
            let dc = (x[0] << PASS1_BITS) as i32;
            for row in ws.iter_mut() {
                row[c] = dc;
            }
            continue;
        }
        let out = islow(x);
        for (r, &v) in out.iter().enumerate() {
            ws[r][c] = descale(v, CONST_BITS - PASS1_BITS) as i32;
        }
    }
    let n = CONST_BITS + PASS1_BITS + 3;
    for (r, w) in ws.iter().enumerate() {
        let out = islow(std::array::from_fn(|i| w[i] as i64));
        for (c, &x) in out.iter().enumerate() {
            t[r * 8 + c] = t_of(x, n);
        }
    }
}
