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
pub(crate) const fn fix(x: f64) -> i64 {
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

/// Limits within which libjpeg-turbo's SIMD IDCTs, which keep coefficients and the values
/// between their two passes in 16-bit lanes, compute exactly what its C code (and this file)
/// computes. Beyond them the implementations differ from each other (SSE2 saturates, C wraps,
/// Arm narrows), so a block that exceeds them is left to libjpeg-turbo. Real images stay far
/// inside: 8-bit samples make DCT coefficients of at most 2048 in magnitude.
const DQ_MAX: u32 = 32767;
/// Between the passes: room for the DC term, which is added later (`DQ4_MAX`).
pub(crate) const WS_MAX: u32 = 16383;
pub(crate) const WS0_MAX: u32 = 8191;
/// Largest |4 × dequantised DC| that keeps column 0 between the passes within 16 bits.
pub const DQ4_MAX: i32 = 8192;

/// The magnitudes seen while computing a block.
#[derive(Default)]
struct Seen {
    dq: u32,
    ws: u32,
    ws0: u32,
}

impl Seen {
    fn ok(&self) -> bool {
        self.dq <= DQ_MAX && self.ws <= WS_MAX && self.ws0 <= WS0_MAX
    }
}

/// A sample of an IDCT of size 2, 4 or 8 from its `t` and the block's dequantised DC times
/// four; false in the second value when the sample lies where libjpeg-turbo's SIMD and C
/// range limits differ (beyond ±512 around the centre).
#[inline(always)]
pub fn sample(t: i32, dq4: i32) -> (u8, bool) {
    let x = t.wrapping_add(dq4) >> 5;
    ((x + 128).clamp(0, 255) as u8, (x + 512) as u32 <= 1023)
}

/// A 1×1 IDCT's sample: libjpeg-turbo has no SIMD version of it, and its C code wraps.
#[inline(always)]
pub fn sample1(dq4: i32) -> u8 {
    LIMIT[(FLAT.wrapping_add(dq4) >> 5) as usize & 1023]
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

/// A quantisation table as the IDCTs read it.
pub struct Quant {
    pub q: [i16; 64],
    /// 4 × q, for the SIMD IDCTs' range check, when every entry allows it (|q| ≤ 8191, as in
    /// every 8-bit table).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) q4: Option<[i16; 64]>,
}

impl Quant {
    pub fn new(q: [i16; 64]) -> Quant {
        let q4 = q
            .iter()
            .all(|&v| v.unsigned_abs() <= 8191)
            .then(|| q.map(|v| v * 4));
        Quant { q, q4 }
    }
}

/// Computes `t` for a `s`×`s` output (row-major in `t`) from a block in natural order
/// (`blk[0]`, DC, is ignored) and the quantisation table. False when the block leaves the range
/// where libjpeg-turbo's implementations agree.
#[inline(always)]
pub fn idct(s: usize, blk: &[i16; 128], quant: &Quant, t: &mut [i32; 64]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let Some(q4) = &quant.q4 {
        let fast = match s {
            2 => crate::idct_sse2::idct2(blk, quant, q4, t),
            4 => crate::idct_sse2::idct4(blk, quant, q4, t),
            _ => None,
        };
        if let Some(exact) = fast {
            return exact;
        }
    }
    idct_64(s, blk, &quant.q, t)
}

/// `idct` in libjpeg's 64-bit arithmetic, for every block.
#[inline(always)]
pub(crate) fn idct_64(s: usize, blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64]) -> bool {
    let mut seen = Seen::default();
    match s {
        2 => idct2(blk, q, t, &mut seen),
        4 => idct4(blk, q, t, &mut seen),
        8 => idct8(blk, q, t, &mut seen),
        _ => t[0] = FLAT,
    }
    seen.ok()
}

/// Dequantised coefficient (libjpeg: short × short), DC left out.
#[inline(always)]
fn dq(blk: &[i16; 128], q: &[i16; 64], i: usize, seen: &mut Seen) -> i64 {
    if i == 0 {
        return 0;
    }
    let v = blk[i] as i32 * q[i & 63] as i32;
    seen.dq |= v.unsigned_abs();
    v as i64
}

/// A value between the passes, for column `c`.
#[inline(always)]
fn ws(v: i64, c: usize, seen: &mut Seen) -> i64 {
    let v = v as i32;
    if c == 0 {
        seen.ws0 |= v.unsigned_abs();
    } else {
        seen.ws |= v.unsigned_abs();
    }
    v as i64
}

/// The odd part of the reduced 2-point IDCT, over inputs 1, 3, 5, 7.
#[inline(always)]
fn odd2(x1: i64, x3: i64, x5: i64, x7: i64) -> i64 {
    x7 * -fix(0.720959822) + x5 * fix(0.850430095) + x3 * -fix(1.272758580) + x1 * fix(3.624509785)
}

/// Pass 1 of the 2×2 IDCT on column `c` (a constant once inlined): its two outputs.
#[inline(always)]
fn col2(blk: &[i16; 128], q: &[i16; 64], c: usize, seen: &mut Seen) -> [i64; 2] {
    let even = dq(blk, q, c, seen) << (CONST_BITS + 2);
    let n = CONST_BITS - PASS1_BITS + 2;
    if blk[8 + c] | blk[24 + c] | blk[40 + c] | blk[56 + c] == 0 {
        let v = ws(even >> n, c, seen); // descale(even), exactly
        return [v, v];
    }
    let d = |r: usize, seen: &mut Seen| dq(blk, q, r * 8 + c, seen);
    let o = odd2(d(1, seen), d(3, seen), d(5, seen), d(7, seen));
    [
        ws(descale(even + o, n), c, seen),
        ws(descale(even - o, n), c, seen),
    ]
}

#[inline(always)]
fn idct2(blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64], seen: &mut Seen) {
    let cols = [
        col2(blk, q, 0, seen),
        col2(blk, q, 1, seen),
        col2(blk, q, 3, seen),
        col2(blk, q, 5, seen),
        col2(blk, q, 7, seen),
    ];
    let n = CONST_BITS + PASS1_BITS + 3 + 2;
    for r in 0..2 {
        let even = cols[0][r] << (CONST_BITS + 2);
        let o = odd2(cols[1][r], cols[2][r], cols[3][r], cols[4][r]);
        t[r * 2] = t_of(even + o, n);
        t[r * 2 + 1] = t_of(even - o, n);
    }
}

/// One pass of the reduced 4-point IDCT (input 4 unused): even part from inputs 0, 2, 6, odd
/// from 1, 3, 5, 7; outputs before descaling.
#[inline(always)]
fn pass4(x: [i64; 7]) -> [i64; 4] {
    let [x0, x1, x2, x3, x5, x6, x7] = x;
    let tmp0 = x0 << (CONST_BITS + 1);
    let tmp2 = x2 * fix(1.847759065) + x6 * -fix(0.765366865);
    let (tmp10, tmp12) = (tmp0 + tmp2, tmp0 - tmp2);
    let o0 = x7 * -fix(0.211164243) + x5 * fix(1.451774981) + x3 * -fix(2.172734803) + x1 * fix(1.061594337);
    let o2 = x7 * -fix(0.509795579) + x5 * -fix(0.601344887) + x3 * fix(0.899976223) + x1 * fix(2.562915447);
    [tmp10 + o2, tmp12 + o0, tmp12 - o0, tmp10 - o2]
}

/// Pass 1 of the 4×4 IDCT on column `c`.
#[inline(always)]
fn col4(blk: &[i16; 128], q: &[i16; 64], c: usize, seen: &mut Seen) -> [i64; 4] {
    let x0 = dq(blk, q, c, seen);
    if blk[8 + c] | blk[16 + c] | blk[24 + c] | blk[40 + c] | blk[48 + c] | blk[56 + c] == 0 {
        let v = ws(x0 << PASS1_BITS, c, seen); // what the full pass gives, exactly
        return [v; 4];
    }
    let mut d = |r: usize| dq(blk, q, r * 8 + c, seen);
    let x = [x0, d(1), d(2), d(3), d(5), d(6), d(7)];
    pass4(x).map(|v| ws(descale(v, CONST_BITS - PASS1_BITS + 1), c, seen))
}

fn idct4(blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64], seen: &mut Seen) {
    let cols = [
        col4(blk, q, 0, seen),
        col4(blk, q, 1, seen),
        col4(blk, q, 2, seen),
        col4(blk, q, 3, seen),
        col4(blk, q, 5, seen),
        col4(blk, q, 6, seen),
        col4(blk, q, 7, seen),
    ];
    let n = CONST_BITS + PASS1_BITS + 3 + 1;
    for r in 0..4 {
        let out = pass4(cols.map(|c| c[r]));
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

/// Pass 1 of the 8×8 IDCT on column `c`.
#[inline(always)]
fn col8(blk: &[i16; 128], q: &[i16; 64], c: usize, seen: &mut Seen) -> [i64; 8] {
    let x0 = dq(blk, q, c, seen);
    if (1..8).all(|r| blk[r * 8 + c] == 0) {
        let v = ws(x0 << PASS1_BITS, c, seen); // what the full pass gives, exactly
        return [v; 8];
    }
    let x: [i64; 8] = std::array::from_fn(|r| if r == 0 { x0 } else { dq(blk, q, r * 8 + c, seen) });
    islow(x).map(|v| ws(descale(v, CONST_BITS - PASS1_BITS), c, seen))
}

fn idct8(blk: &[i16; 128], q: &[i16; 64], t: &mut [i32; 64], seen: &mut Seen) {
    let cols: [[i64; 8]; 8] = std::array::from_fn(|c| col8(blk, q, c, seen));
    let n = CONST_BITS + PASS1_BITS + 3;
    for r in 0..8 {
        let out = islow(cols.map(|c| c[r]));
        for (c, &x) in out.iter().enumerate() {
            t[r * 8 + c] = t_of(x, n);
        }
    }
}
