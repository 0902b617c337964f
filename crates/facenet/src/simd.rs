//! Eight-lane float vectors for the kernels, one implementation per instruction set: AVX2 + FMA
//! (x86-64, chosen at run time), NEON (aarch64's baseline) and plain arrays elsewhere.
//!
//! The kernels are generic over [`Simd`] and `#[inline(always)]`; each instruction set has one
//! entry point compiled with its features enabled, into which everything is inlined. (Plain
//! `[f32; 8]` arithmetic is not enough on its own: LLVM keeps register tiles of such arrays in
//! memory and computes them lane by lane.)

/// Eight `f32` lanes.
pub trait Simd: Copy {
    /// The 8 values at `p`.
    ///
    /// # Safety
    /// `p` points to 8 readable values.
    unsafe fn load(p: *const f32) -> Self;
    fn splat(v: f32) -> Self;
    /// `a * b + self`.
    fn mul_add(self, a: Self, b: Self) -> Self;
    fn add(self, o: Self) -> Self;
    fn max(self, o: Self) -> Self;
    /// Writes the lanes to `p`.
    ///
    /// # Safety
    /// `p` points to 8 writable values.
    unsafe fn store(self, p: *mut f32);
}

#[cfg(target_arch = "x86_64")]
pub use avx2::Avx2;

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Simd;
    use std::arch::x86_64::*;

    /// Only made inside functions compiled with `avx2,fma`, after detecting both.
    #[derive(Clone, Copy)]
    pub struct Avx2(__m256);

    // SAFETY (every method): the intrinsics need AVX2/FMA, which the kernels' x86 entry points
    // enable, after checking the CPU has them; pointers are the callers' to vouch for.
    impl Simd for Avx2 {
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        fn splat(v: f32) -> Self {
            Avx2(unsafe { _mm256_set1_ps(v) })
        }
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            Avx2(unsafe { _mm256_fmadd_ps(a.0, b.0, self.0) })
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            Avx2(unsafe { _mm256_add_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            Avx2(unsafe { _mm256_max_ps(self.0, o.0) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
    }

    impl Avx2 {
        /// `self` + the lane-wise dot products of bfloat16 pairs `a` and `b` (`vdpbf16ps`).
        ///
        /// # Safety
        /// AVX-512 BF16 and VL are enabled.
        #[inline(always)]
        pub unsafe fn dot_bf16(self, a: __m256i, b: __m256i) -> Avx2 {
            // SAFETY: the caller enabled the features; the casts only rename the 256 bits.
            unsafe {
                let (a, b) = (
                    std::mem::transmute::<__m256i, __m256bh>(a),
                    std::mem::transmute::<__m256i, __m256bh>(b),
                );
                Avx2(_mm256_dpbf16_ps(self.0, a, b))
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
pub use neon::Neon;

#[cfg(target_arch = "aarch64")]
mod neon {
    use super::Simd;
    use std::arch::aarch64::*;

    /// Two NEON registers (NEON is part of the aarch64 baseline).
    #[derive(Clone, Copy)]
    pub struct Neon(float32x4_t, float32x4_t);

    // SAFETY (every method): NEON is always present on aarch64; pointers are the callers' to
    // vouch for.
    impl Simd for Neon {
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            unsafe { Neon(vld1q_f32(p), vld1q_f32(p.add(4))) }
        }
        #[inline(always)]
        fn splat(v: f32) -> Self {
            unsafe { Neon(vdupq_n_f32(v), vdupq_n_f32(v)) }
        }
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            unsafe { Neon(vfmaq_f32(self.0, a.0, b.0), vfmaq_f32(self.1, a.1, b.1)) }
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            unsafe { Neon(vaddq_f32(self.0, o.0), vaddq_f32(self.1, o.1)) }
        }
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            unsafe { Neon(vmaxq_f32(self.0, o.0), vmaxq_f32(self.1, o.1)) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe {
                vst1q_f32(p, self.0);
                vst1q_f32(p.add(4), self.1);
            }
        }
    }
}

/// Plain lanes: x86-64 without AVX2 (LLVM makes SSE code of it) and other targets.
#[cfg(not(target_arch = "aarch64"))]
#[derive(Clone, Copy)]
pub struct Lanes([f32; 8]);

#[cfg(not(target_arch = "aarch64"))]
impl Simd for Lanes {
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Lanes(unsafe { p.cast::<[f32; 8]>().read_unaligned() })
    }
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Lanes([v; 8])
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        // Not `f32::mul_add`: without FMA hardware it is a slow library call.
        Lanes(std::array::from_fn(|i| a.0[i] * b.0[i] + self.0[i]))
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Lanes(std::array::from_fn(|i| self.0[i] + o.0[i]))
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        Lanes(std::array::from_fn(|i| self.0[i].max(o.0[i])))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { p.cast::<[f32; 8]>().write_unaligned(self.0) }
    }
}
