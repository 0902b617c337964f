//! The arithmetic: one output row of a dense convolution, or of a fused block (depthwise
//! convolution → 1×1 convolution → residual → ReLU), on rows stored channels-innermost with a
//! zero border left and right (see [`crate::stream`]).
//!
//! Register tiles of a few pixels × a few 8-channel vectors of output, so that each weight
//! vector and each input value loaded feeds several multiply-adds; vector code through
//! [`crate::simd`] (AVX2 + FMA when the CPU has them, NEON on aarch64).

use crate::simd::Simd;

/// Channels per vector. Stored channel counts (except the network input's) are multiples of it.
pub const LANES: usize = 8;

/// The instruction set the kernels run with, detected once per call (std caches the answer).
#[derive(Debug, Clone, Copy)]
pub enum Isa {
    /// AVX2 + FMA, 16 vector registers.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// The same 8-lane vectors with AVX-512's 32 registers (AVX512VL): larger register tiles.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// [`Isa::Avx512`] with the 1×1 convolutions after a depthwise one in bfloat16
    /// ([`crate::bf16`]) and the first layer in 16-bit integers ([`crate::int16`]): AVX-512
    /// BF16 and VNNI (every CPU with the first has the second: AMD Zen 4, Intel Cooper Lake,
    /// Sapphire Rapids and later).
    #[cfg(target_arch = "x86_64")]
    Avx512Bf16,
    Portable,
}

impl Isa {
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl") {
                if is_x86_feature_detected!("avx512bf16") && is_x86_feature_detected!("avx512vnni") {
                    return Isa::Avx512Bf16;
                }
                return Isa::Avx512;
            }
            return Isa::Avx2;
        }
        Isa::Portable
    }

    /// The best instruction set without bfloat16 products: f32 throughout (the tests compare
    /// both).
    #[cfg(test)]
    pub fn f32_only(self) -> Isa {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Bf16 => Isa::Avx512,
            isa => isa,
        }
    }
}

/// The vectors of the portable build: NEON on aarch64, plain lanes elsewhere.
#[cfg(target_arch = "aarch64")]
type Portable = crate::simd::Neon;
#[cfg(not(target_arch = "aarch64"))]
type Portable = crate::simd::Lanes;

/// A depthwise convolution's weights, `[ky][kx][c]`, and bias, `c` a multiple of [`LANES`].
pub struct DwWeights<'a> {
    pub k: usize,
    pub w: &'a [f32],
    pub bias: &'a [f32],
}

/// A 1×1 convolution's weights, `[ci][co]` with `co` padded to a multiple of [`LANES`], and
/// bias (padded likewise).
pub struct PwWeights<'a> {
    pub cout: usize,
    pub w: &'a [f32],
    pub bias: &'a [f32],
    /// `w` as bfloat16 pairs (`[ci / 2][co]`), or empty.
    #[cfg(target_arch = "x86_64")]
    pub pairs: &'a [u32],
}

/// What is added before the ReLU, for output pixel `x` of the row.
#[derive(Clone, Copy)]
pub enum Res<'a> {
    None,
    /// The block's input row itself (same size and channels), pixels from index 0.
    Same(&'a [f32]),
    /// 2×2 max pooling of two input rows (pixels `2x`, `2x + 1`), with `c` channels per input
    /// pixel; output channels past `c` get zero (ONNX: Concat with ConstantOfShape zeros).
    Pooled(&'a [f32], &'a [f32], usize),
}

/// One output row of a fused block.
pub struct BlockRow<'a> {
    /// Input rows: the depthwise window's `k` rows (or one row without depthwise); each starts
    /// at its left border.
    pub rows: &'a [&'a [f32]],
    /// Channels per input pixel.
    pub cin: usize,
    /// Input pixels skipped before the first window column: border − left padding.
    pub x_off: usize,
    pub stride: usize,
    pub dw: Option<DwWeights<'a>>,
    pub pw: PwWeights<'a>,
    pub res: Res<'a>,
    pub relu: bool,
}

impl BlockRow<'_> {
    /// The 1×1 convolution's products, in f32, of pixels `x`.
    #[inline(always)]
    fn products<'x>(&'x self, x: &'x [f32]) -> F32Products<'x> {
        F32Products {
            x,
            cin: self.cin,
            w: self.pw.w,
            cout: self.pw.cout,
        }
    }
}

/// One output row of a dense k×k convolution (the network's first layer: few input channels).
pub struct DenseRow<'a> {
    pub rows: &'a [&'a [f32]],
    pub cin: usize,
    pub x_off: usize,
    pub stride: usize,
    pub k: usize,
    /// `[ky][kx][ci][co]`, `co` padded to a multiple of [`LANES`].
    pub w: &'a [f32],
    pub bias: &'a [f32],
    pub cout: usize,
    pub relu: bool,
    /// `w` as 16-bit integers.
    #[cfg(target_arch = "x86_64")]
    pub q16: &'a crate::int16::Weights,
}

/// Pixels per depthwise → 1×1 hand-over: the depthwise output stays in the L1 cache.
pub const SEGMENT: usize = 32;

/// Room for [`SEGMENT`] pixels of depthwise output (and its bfloat16 copy), and for the
/// first layer's input rows in 16-bit integers.
pub struct Scratch {
    f32s: Vec<f32>,
    #[cfg(target_arch = "x86_64")]
    pairs: Vec<u32>,
    #[cfg(target_arch = "x86_64")]
    i16s: Vec<i16>,
}

impl Scratch {
    /// For inputs of up to `channels` channels.
    pub fn new(channels: usize) -> Scratch {
        Scratch {
            f32s: vec![0.0; SEGMENT * channels],
            #[cfg(target_arch = "x86_64")]
            pairs: vec![0; SEGMENT * channels / 2],
            #[cfg(target_arch = "x86_64")]
            i16s: Vec::new(),
        }
    }
}

/// Writes the row's pixels (no border, `cout` channels each) to `out`.
pub fn block_row(isa: Isa, r: &BlockRow, out: &mut [f32], scratch: &mut Scratch) {
    check_block(r, out, &scratch.f32s);
    // SAFETY: `check_block` bounds every access; the x86 variants are only chosen after
    // detecting their features.
    unsafe {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => block_row_avx2(r, out, &mut scratch.f32s),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => block_row_avx512(r, out, &mut scratch.f32s),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Bf16 => match &r.dw {
                Some(dw) if r.pw.pairs.len() >= r.cin / 2 * r.pw.cout => {
                    assert!(scratch.pairs.len() * 2 >= scratch.f32s.len());
                    block_row_bf16(r, dw, out, scratch)
                }
                _ => block_row_avx512(r, out, &mut scratch.f32s),
            },
            Isa::Portable => block_row_impl::<Portable, 16>(r, out, &mut scratch.f32s),
        }
    }
}

/// Writes the row's pixels (no border, `cout` channels each) to `out`.
pub fn dense_row(isa: Isa, r: &DenseRow, out: &mut [f32], scratch: &mut Scratch) {
    check_dense(r, out);
    // SAFETY: as above, with `check_dense`.
    unsafe {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => dense_row_avx2(r, out),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => dense_row_avx512(r, out),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Bf16 => {
                if !crate::int16::dense_row(r, r.q16, out, &mut scratch.i16s) {
                    dense_row_avx512(r, out)
                }
            }
            Isa::Portable => dense_row_impl::<Portable, 16>(r, out),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = scratch;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_row_avx2(r: &BlockRow, out: &mut [f32], scratch: &mut [f32]) {
    unsafe { block_row_impl::<crate::simd::Avx2, 16>(r, out, scratch) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
unsafe fn block_row_avx512(r: &BlockRow, out: &mut [f32], scratch: &mut [f32]) {
    unsafe { block_row_impl::<crate::simd::Avx2, 32>(r, out, scratch) }
}

/// [`block_row_impl`] for [`Isa::Avx512Bf16`]: the depthwise output of each segment is
/// rounded to bfloat16 pairs, and the 1×1 convolution multiplies those.
///
/// # Safety
/// [`check_block`] passed; the CPU has the features enabled here; `scratch.pairs` has room for
/// half as many values as `scratch.f32s`, `r.pw.pairs` holds the weights.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512bf16")]
unsafe fn block_row_bf16(r: &BlockRow, dw: &DwWeights, out: &mut [f32], scratch: &mut Scratch) {
    let cout = r.pw.cout;
    let n = out.len() / cout;
    let mut x0 = 0;
    while x0 < n {
        let len = SEGMENT.min(n - x0);
        let out = &mut out[x0 * cout..(x0 + len) * cout];
        let t = &mut scratch.f32s[..len * r.cin];
        let pairs = &mut scratch.pairs[..len * r.cin / 2];
        // SAFETY: within the bounds `check_block` asserted, for pixels x0..x0 + len.
        unsafe {
            depthwise_any::<crate::simd::Avx2, 32>(r, dw, x0, t);
            crate::bf16::to_pairs(t, pairs);
            let x = crate::bf16::Bf16Products {
                x: pairs,
                cin: r.cin,
                w: r.pw.pairs,
                cout,
            };
            pointwise::<crate::simd::Avx2, 32>(&x, r, x0, out);
        }
        x0 += len;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dense_row_avx2(r: &DenseRow, out: &mut [f32]) {
    unsafe { dense_row_impl::<crate::simd::Avx2, 16>(r, out) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
unsafe fn dense_row_avx512(r: &DenseRow, out: &mut [f32]) {
    unsafe { dense_row_impl::<crate::simd::Avx2, 32>(r, out) }
}

/// Panics unless every read and write of [`block_row_impl`] is in bounds (once per row, so the
/// inner loops need no checks).
fn check_block(r: &BlockRow, out: &[f32], scratch: &[f32]) {
    let (cin, cout) = (r.cin, r.pw.cout);
    assert!(cout % LANES == 0 && out.len() % cout == 0);
    let n = out.len() / cout;
    if n == 0 {
        return;
    }
    match &r.dw {
        Some(dw) => {
            assert!(
                cin % LANES == 0
                    && matches!(dw.k, 3 | 5)
                    && r.rows.len() >= dw.k
                    && matches!(r.stride, 1 | 2)
            );
            let last = ((n - 1) * r.stride + r.x_off + dw.k) * cin;
            assert!(r.rows[..dw.k].iter().all(|row| row.len() >= last));
            assert!(
                dw.w.len() >= dw.k * dw.k * cin && dw.bias.len() >= cin && scratch.len() >= SEGMENT * cin
            );
        }
        None => assert!(r.rows.len() >= 1 && r.rows[0].len() >= (r.x_off + n) * cin),
    }
    assert!(r.pw.w.len() >= cin * cout && r.pw.bias.len() >= cout);
    match r.res {
        Res::None => {}
        Res::Same(row) => assert!(row.len() >= n * cout),
        Res::Pooled(r0, r1, c) => assert!(c % LANES == 0 && r0.len() >= 2 * n * c && r1.len() >= 2 * n * c),
    }
}

fn check_dense(r: &DenseRow, out: &[f32]) {
    let (cin, cout, k) = (r.cin, r.cout, r.k);
    assert!(cout % LANES == 0 && out.len() % cout == 0 && r.rows.len() >= k);
    let n = out.len() / cout;
    if n == 0 {
        return;
    }
    let last = ((n - 1) * r.stride + r.x_off + k) * cin;
    assert!(r.rows[..k].iter().all(|row| row.len() >= last));
    assert!(r.w.len() >= k * k * cin * cout && r.bias.len() >= cout);
}

/// # Safety
/// [`check_block`] passed.
#[inline(always)]
unsafe fn block_row_impl<S: Simd, const R: usize>(r: &BlockRow, out: &mut [f32], scratch: &mut [f32]) {
    let cout = r.pw.cout;
    let n = out.len() / cout;
    let mut x0 = 0;
    while x0 < n {
        let len = SEGMENT.min(n - x0);
        let out = &mut out[x0 * cout..(x0 + len) * cout];
        // SAFETY (both arms): within the bounds `check_block` asserted, for pixels x0..x0 + len.
        unsafe {
            match &r.dw {
                Some(dw) => {
                    let t = &mut scratch[..len * r.cin];
                    depthwise_any::<S, R>(r, dw, x0, t);
                    pointwise::<S, R>(&r.products(t), r, x0, out);
                }
                None => {
                    let x = &r.rows[0][(r.x_off + x0) * r.cin..][..len * r.cin];
                    pointwise::<S, R>(&r.products(x), r, x0, out);
                }
            }
        }
        x0 += len;
    }
}

/// [`depthwise`] for the window and register count at hand: as many pixels at a time as
/// registers allow.
///
/// # Safety
/// As [`depthwise`].
#[inline(always)]
unsafe fn depthwise_any<S: Simd, const R: usize>(r: &BlockRow, dw: &DwWeights, x0: usize, t: &mut [f32]) {
    // SAFETY: as for this function.
    unsafe {
        match (dw.k, r.stride, R) {
            (3, 1, 32) => depthwise::<S, 3, 1, 8>(r, dw, x0, t),
            (3, 1, _) => depthwise::<S, 3, 1, 4>(r, dw, x0, t),
            (3, _, 32) => depthwise::<S, 3, 2, 8>(r, dw, x0, t),
            (3, _, _) => depthwise::<S, 3, 2, 4>(r, dw, x0, t),
            (5, 1, 32) => depthwise::<S, 5, 1, 8>(r, dw, x0, t),
            (5, 1, _) => depthwise::<S, 5, 1, 4>(r, dw, x0, t),
            (_, _, 32) => depthwise::<S, 5, 2, 8>(r, dw, x0, t),
            _ => depthwise::<S, 5, 2, 4>(r, dw, x0, t),
        }
    }
}

/// Depthwise k×k (stride `ST`) of output pixels `x0..x0 + t.len() / c` into `t`, `DW_PIXELS`
/// at a time: independent sums hide the multiply-add latency, and (stride 1) neighbours share
/// the input vectors they read.
///
/// # Safety
/// [`check_block`] passed for a row containing these pixels.
#[inline(always)]
unsafe fn depthwise<S: Simd, const K: usize, const ST: usize, const DW_PIXELS: usize>(
    r: &BlockRow,
    dw: &DwWeights,
    x0: usize,
    t: &mut [f32],
) {
    let c = r.cin;
    let n = t.len() / c;
    let tp = t.as_mut_ptr();
    let mut w = [[S::splat(0.0); K]; K];
    // Input vectors that DW_PIXELS outputs read in one row.
    let mut x = [S::splat(0.0); 24];
    let span = (DW_PIXELS - 1) * ST + K;
    for cv in (0..c).step_by(LANES) {
        // SAFETY (loads and stores below): indices within the asserted row, weight and
        // scratch lengths.
        unsafe {
            for (ky, wr) in w.iter_mut().enumerate() {
                for (kx, wv) in wr.iter_mut().enumerate() {
                    *wv = S::load(dw.w.as_ptr().add((ky * K + kx) * c + cv));
                }
            }
            let b = S::load(dw.bias.as_ptr().add(cv));
            let mut i = 0;
            while i + DW_PIXELS <= n {
                let mut acc = [b; DW_PIXELS];
                let first = ((x0 + i) * ST + r.x_off) * c + cv;
                for (row, wr) in r.rows[..K].iter().zip(&w) {
                    let p = row.as_ptr().add(first);
                    for (j, xv) in x.iter_mut().enumerate().take(span) {
                        *xv = S::load(p.add(j * c));
                    }
                    for (q, a) in acc.iter_mut().enumerate() {
                        for (kx, wv) in wr.iter().enumerate() {
                            *a = a.mul_add(x[q * ST + kx], *wv);
                        }
                    }
                }
                for (q, a) in acc.iter().enumerate() {
                    a.store(tp.add((i + q) * c + cv));
                }
                i += DW_PIXELS;
            }
            while i < n {
                let mut a = b;
                let first = ((x0 + i) * ST + r.x_off) * c + cv;
                for (row, wr) in r.rows[..K].iter().zip(&w) {
                    let p = row.as_ptr().add(first);
                    for (kx, wv) in wr.iter().enumerate() {
                        a = a.mul_add(S::load(p.add(kx * c)), *wv);
                    }
                }
                a.store(tp.add(i * c + cv));
                i += 1;
            }
        }
    }
}

/// Output vectors × pixels of one register tile, by register count and vectors left: the
/// accumulators, one row of weights and an input must fit in the registers (more spill to
/// memory).
#[inline(always)]
fn chunk_vectors<const R: usize>(left: usize) -> usize {
    match (R, left) {
        (32, 1..=6) | (16, 1..=4) => left,
        (32, _) => 6,
        _ => 3,
    }
}

/// The products of a 1×1 convolution: `Σ_ci x[p][ci] · w[ci][co]`, for a register tile.
pub trait Products<S: Simd> {
    /// Pixels of `x`.
    fn pixels(&self) -> usize;
    /// Adds the products of pixels `p0..p0 + NP` for output channels `co0..co0 + NV * LANES`
    /// to `acc`.
    ///
    /// # Safety
    /// Those pixels and channels exist ([`check_block`] passed for this row).
    unsafe fn add_to<const NV: usize, const NP: usize>(&self, p0: usize, co0: usize, acc: &mut [[S; NV]; NP]);
}

/// Products in f32: `x` is `cin` values per pixel, `w` is `[ci][co]`.
struct F32Products<'a> {
    x: &'a [f32],
    cin: usize,
    w: &'a [f32],
    cout: usize,
}

impl<S: Simd> Products<S> for F32Products<'_> {
    #[inline(always)]
    fn pixels(&self) -> usize {
        self.x.len() / self.cin
    }

    #[inline(always)]
    unsafe fn add_to<const NV: usize, const NP: usize>(
        &self,
        p0: usize,
        co0: usize,
        acc: &mut [[S; NV]; NP],
    ) {
        let (cin, cout) = (self.cin, self.cout);
        // SAFETY: pixel and weight indices within the lengths `check_block` asserted.
        unsafe {
            let xp = self.x.as_ptr().add(p0 * cin);
            let mut wp = self.w.as_ptr().add(co0);
            for ci in 0..cin {
                let mut w = [S::splat(0.0); NV];
                for (v, wv) in w.iter_mut().enumerate() {
                    *wv = S::load(wp.add(v * LANES));
                }
                for (p, accp) in acc.iter_mut().enumerate() {
                    let xv = S::splat(*xp.add(p * cin + ci));
                    for (a, wv) in accp.iter_mut().zip(&w) {
                        *a = a.mul_add(xv, *wv);
                    }
                }
                wp = wp.add(cout);
            }
        }
    }
}

/// `out = relu?(x · w + bias + residual)` for the pixels of `x`, which are output pixels
/// `x0..` of the row.
///
/// # Safety
/// [`check_block`] passed for a row containing these pixels; `x` holds them.
#[inline(always)]
unsafe fn pointwise<S: Simd, const R: usize>(x: &impl Products<S>, r: &BlockRow, x0: usize, out: &mut [f32]) {
    let nv = r.pw.cout / LANES;
    let mut v0 = 0;
    while v0 < nv {
        let chunk = chunk_vectors::<R>(nv - v0);
        let co0 = v0 * LANES;
        // SAFETY: as for this function.
        unsafe {
            match (R, chunk) {
                (32, 1) => pw_chunk::<S, 1, 16>(x, r, x0, co0, out),
                (32, 2) => pw_chunk::<S, 2, 10>(x, r, x0, co0, out),
                (32, 3) => pw_chunk::<S, 3, 7>(x, r, x0, co0, out),
                (32, 4) => pw_chunk::<S, 4, 5>(x, r, x0, co0, out),
                (32, 5) => pw_chunk::<S, 5, 4>(x, r, x0, co0, out),
                (32, _) => pw_chunk::<S, 6, 3>(x, r, x0, co0, out),
                (_, 1) => pw_chunk::<S, 1, 8>(x, r, x0, co0, out),
                (_, 2) => pw_chunk::<S, 2, 4>(x, r, x0, co0, out),
                (_, 3) => pw_chunk::<S, 3, 3>(x, r, x0, co0, out),
                _ => pw_chunk::<S, 4, 2>(x, r, x0, co0, out),
            }
        }
        v0 += chunk;
    }
}

/// # Safety
/// As [`pointwise`], for output channels `co0..co0 + NV * LANES`.
#[inline(always)]
unsafe fn pw_chunk<S: Simd, const NV: usize, const NP: usize>(
    x: &impl Products<S>,
    r: &BlockRow,
    x0: usize,
    co0: usize,
    out: &mut [f32],
) {
    let n = x.pixels();
    let mut p0 = 0;
    // SAFETY: as for this function.
    unsafe {
        while p0 + NP <= n {
            pw_tile::<S, NV, NP>(x, r, x0, co0, p0, out);
            p0 += NP;
        }
        while p0 < n {
            pw_tile::<S, NV, 1>(x, r, x0, co0, p0, out);
            p0 += 1;
        }
    }
}

/// # Safety
/// As [`pw_chunk`], for pixels `p0..p0 + NP` of `x`.
#[inline(always)]
unsafe fn pw_tile<S: Simd, const NV: usize, const NP: usize>(
    x: &impl Products<S>,
    r: &BlockRow,
    x0: usize,
    co0: usize,
    p0: usize,
    out: &mut [f32],
) {
    let cout = r.pw.cout;
    // SAFETY: bias, residual and output indices within the asserted lengths.
    unsafe {
        // Start from bias + residual. The loops that read or write whole tiles are too long
        // for LLVM to unroll, so they work on copies: `acc` itself is only ever indexed by
        // constants (in the unrolled loops of `add_to`) and stays in registers.
        let mut init = [[S::splat(0.0); NV]; NP];
        for (p, accp) in init.iter_mut().enumerate() {
            let px = x0 + p0 + p;
            for (v, a) in accp.iter_mut().enumerate() {
                let co = co0 + v * LANES;
                *a = S::load(r.pw.bias.as_ptr().add(co));
                match r.res {
                    Res::None => {}
                    Res::Same(row) => *a = a.add(S::load(row.as_ptr().add(px * cout + co))),
                    Res::Pooled(r0, r1, c) if co < c => {
                        let (i, j) = (2 * px * c + co, (2 * px + 1) * c + co);
                        let top = S::load(r0.as_ptr().add(i)).max(S::load(r0.as_ptr().add(j)));
                        let bottom = S::load(r1.as_ptr().add(i)).max(S::load(r1.as_ptr().add(j)));
                        *a = a.add(top.max(bottom));
                    }
                    Res::Pooled(..) => {}
                }
            }
        }
        let mut acc = init;
        x.add_to(p0, co0, &mut acc);
        let done = acc;
        let op = out.as_mut_ptr();
        for (p, accp) in done.iter().enumerate() {
            for (v, a) in accp.iter().enumerate() {
                let a = if r.relu { a.max(S::splat(0.0)) } else { *a };
                a.store(op.add((p0 + p) * cout + co0 + v * LANES));
            }
        }
    }
}

/// # Safety
/// [`check_dense`] passed.
#[inline(always)]
unsafe fn dense_row_impl<S: Simd, const R: usize>(r: &DenseRow, out: &mut [f32]) {
    let nv = r.cout / LANES;
    let mut v0 = 0;
    while v0 < nv {
        let chunk = chunk_vectors::<R>(nv - v0);
        let co0 = v0 * LANES;
        // SAFETY: as for this function.
        unsafe {
            match (R, chunk) {
                (32, 1) => dense_chunk::<S, 1, 16>(r, co0, out),
                (32, 2) => dense_chunk::<S, 2, 10>(r, co0, out),
                (32, 3) => dense_chunk::<S, 3, 7>(r, co0, out),
                (32, 4) => dense_chunk::<S, 4, 5>(r, co0, out),
                (32, 5) => dense_chunk::<S, 5, 4>(r, co0, out),
                (32, _) => dense_chunk::<S, 6, 3>(r, co0, out),
                (_, 1) => dense_chunk::<S, 1, 8>(r, co0, out),
                (_, 2) => dense_chunk::<S, 2, 4>(r, co0, out),
                (_, 3) => dense_chunk::<S, 3, 3>(r, co0, out),
                _ => dense_chunk::<S, 4, 2>(r, co0, out),
            }
        }
        v0 += chunk;
    }
}

/// # Safety
/// [`check_dense`] passed.
#[inline(always)]
unsafe fn dense_chunk<S: Simd, const NV: usize, const NP: usize>(r: &DenseRow, co0: usize, out: &mut [f32]) {
    let n = out.len() / r.cout;
    let mut p0 = 0;
    // SAFETY: as for this function.
    unsafe {
        while p0 + NP <= n {
            dense_tile::<S, NV, NP>(r, co0, p0, out);
            p0 += NP;
        }
        while p0 < n {
            dense_tile::<S, NV, 1>(r, co0, p0, out);
            p0 += 1;
        }
    }
}

/// # Safety
/// [`check_dense`] passed; pixels `p0..p0 + NP` are in the row.
#[inline(always)]
unsafe fn dense_tile<S: Simd, const NV: usize, const NP: usize>(
    r: &DenseRow,
    co0: usize,
    p0: usize,
    out: &mut [f32],
) {
    let (cin, cout, k, st) = (r.cin, r.cout, r.k, r.stride);
    // SAFETY: indices within the asserted row, weight, bias and output lengths.
    unsafe {
        let mut acc = [[S::splat(0.0); NV]; NP];
        for accp in acc.iter_mut() {
            for (v, a) in accp.iter_mut().enumerate() {
                *a = S::load(r.bias.as_ptr().add(co0 + v * LANES));
            }
        }
        let mut wp = r.w.as_ptr().add(co0);
        for row in &r.rows[..k] {
            let xp = row.as_ptr().add((p0 * st + r.x_off) * cin);
            // A kernel row is k × cin consecutive values of the input row.
            for j in 0..k * cin {
                let mut w = [S::splat(0.0); NV];
                for (v, wv) in w.iter_mut().enumerate() {
                    *wv = S::load(wp.add(v * LANES));
                }
                for (p, accp) in acc.iter_mut().enumerate() {
                    let xv = S::splat(*xp.add(p * st * cin + j));
                    for (a, wv) in accp.iter_mut().zip(&w) {
                        *a = a.mul_add(xv, *wv);
                    }
                }
                wp = wp.add(cout);
            }
        }
        // A copy, as in `pw_tile`.
        let done = acc;
        let op = out.as_mut_ptr();
        for (p, accp) in done.iter().enumerate() {
            for (v, a) in accp.iter().enumerate() {
                let a = if r.relu { a.max(S::splat(0.0)) } else { *a };
                a.store(op.add((p0 + p) * cout + co0 + v * LANES));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// Every instruction set this CPU has computes what the portable code computes (the
    /// network-level tests only run the one `Isa::detect` picks).
    #[test]
    fn every_instruction_set_agrees() {
        #[cfg(not(target_arch = "x86_64"))]
        let isas = [Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        let isas = {
            let mut v = vec![Isa::Portable];
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                v.push(Isa::Avx2);
            }
            if matches!(Isa::detect().f32_only(), Isa::Avx512) {
                v.push(Isa::Avx512);
            }
            if matches!(Isa::detect(), Isa::Avx512Bf16) {
                v.push(Isa::Avx512Bf16);
            }
            v
        };
        // 37 output pixels (a whole segment, then a ragged one), 3×3 stride 1 and 2, 48 → 40
        // channels (chunks of several sizes), pooled residual; a 5×5/2 dense convolution.
        let (n, cin, cout) = (37, 48, 40);
        let rows: Vec<Vec<f32>> = (0..5).map(|i| pseudo((2 * n + 6) * cin, i)).collect();
        let row_refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let (dw_w, dw_b, pw_w, pw_b) = (
            pseudo(25 * cin, 7),
            pseudo(cin, 8),
            pseudo(cin * cout, 9),
            pseudo(cout, 10),
        );
        #[cfg(target_arch = "x86_64")]
        let pw_pairs = crate::bf16::pairs(&pw_w, cin, cout);
        #[cfg(target_arch = "x86_64")]
        let dense_q16 = crate::int16::Weights::new(&pw_w[..5 * 5 * 3 * 24], 5, 3, 24);
        let results: Vec<Vec<Vec<f32>>> = isas
            .iter()
            .map(|&isa| {
                let mut outs = Vec::new();
                for (k, stride) in [(3, 1), (3, 2), (5, 2)] {
                    let r = BlockRow {
                        rows: &row_refs[..k],
                        cin,
                        x_off: 1,
                        stride,
                        dw: Some(DwWeights {
                            k,
                            w: &dw_w,
                            bias: &dw_b,
                        }),
                        pw: PwWeights {
                            cout,
                            w: &pw_w,
                            bias: &pw_b,
                            #[cfg(target_arch = "x86_64")]
                            pairs: &pw_pairs,
                        },
                        res: Res::Pooled(&rows[0], &rows[1], 16),
                        relu: true,
                    };
                    let mut out = vec![0.0; n * cout];
                    block_row(isa, &r, &mut out, &mut Scratch::new(cin));
                    outs.push(out);
                }
                let d = DenseRow {
                    rows: &row_refs,
                    cin: 3,
                    x_off: 0,
                    stride: 2,
                    k: 5,
                    w: &pw_w[..5 * 5 * 3 * 24],
                    bias: &pw_b[..24],
                    cout: 24,
                    relu: false,
                    #[cfg(target_arch = "x86_64")]
                    q16: &dense_q16,
                };
                let mut out = vec![0.0; n * 24];
                dense_row(isa, &d, &mut out, &mut Scratch::new(cin));
                outs.push(out);
                outs
            })
            .collect();
        let scale = 1.0 + results[0].iter().flatten().fold(0f32, |m, v| m.max(v.abs()));
        for (isa, r) in isas.iter().zip(&results).skip(1) {
            // bfloat16 products keep 8 significant bits: close, not equal.
            #[cfg(target_arch = "x86_64")]
            let tolerance = if matches!(isa, Isa::Avx512Bf16) {
                1e-2
            } else {
                1e-5
            };
            #[cfg(not(target_arch = "x86_64"))]
            let tolerance = 1e-5;
            for (a, b) in r.iter().flatten().zip(results[0].iter().flatten()) {
                assert!((a - b).abs() < tolerance * scale, "{isa:?}: {a} vs {b}");
            }
        }
        assert!(results[0].iter().flatten().any(|&v| v > 0.0));
    }
}
