//! Sizes at the chosen scale, as libjpeg-turbo computes them (jdmaster.c): the IDCT size of each
//! component (chroma is scaled up by the IDCT rather than upsampled when the ratios allow it),
//! the downsampled sizes the upsampler uses at the image edges, and the upsampling method.

use crate::markers::{Frame, ZIGZAG};
use crate::Error;

/// How chroma reaches the output grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsample {
    /// Same grid (4:4:4, and 4:2:0 whose chroma IDCT is twice the luma's), or grayscale.
    Full,
    /// 2:1 horizontally, triangle filter (libjpeg-turbo's "fancy" upsampling).
    H2Fancy,
    /// 2:1 horizontally, replicated (1/8 scale, or chroma at most 2 samples wide).
    H2Copy,
    /// 2:1 vertically, triangle filter: needs the neighbouring MCU rows.
    V2Fancy,
    /// 2:1 vertically, replicated (1/8 scale).
    V2Copy,
}

#[derive(Clone, Debug)]
pub struct CompGeometry {
    /// Blocks of this component in one MCU.
    pub h: usize,
    pub v: usize,
    /// Output samples per block side (the IDCT size: 1, 2, 4 or 8).
    pub s: usize,
    /// Width of this component's samples over one MCU row.
    pub plane_w: usize,
    /// Sample rows in one MCU row.
    pub rows: usize,
    /// Zigzag index → natural index when the IDCT reads that coefficient, else 64.
    pub keep: [u8; 64],
}

#[derive(Clone, Debug)]
pub struct Geometry {
    pub out_w: usize,
    pub out_h: usize,
    pub mcux: usize,
    pub mcuy: usize,
    /// Output rows covered by one MCU row.
    pub mcu_h: usize,
    pub comps: Vec<CompGeometry>,
    pub up: Upsample,
    /// Chroma size in samples before upsampling (libjpeg's downsampled_width/height).
    pub chroma_w: usize,
    pub chroma_h: usize,
    pub blocks: usize,
}

impl Geometry {
    pub fn total_mcus(&self) -> usize {
        self.mcux * self.mcuy
    }

    /// Worst-case clean bytes one MCU can take (64 symbols of at most 31 bits per block), with
    /// room for the bit buffer's look-ahead.
    pub fn mcu_bytes(&self) -> usize {
        self.blocks * 256 + 32
    }
}

pub fn geometry(f: &Frame, denom: u8) -> Result<Geometry, Error> {
    let m = match denom {
        2 => 4,
        4 => 2,
        8 => 1,
        _ => return Err(Error::BadArguments("scale must be 1/2, 1/4 or 1/8")),
    };
    let (w, h) = (f.width as usize, f.height as usize);
    let hmax = f.comps.iter().map(|c| c.h as usize).max().unwrap_or(1);
    let vmax = f.comps.iter().map(|c| c.v as usize).max().unwrap_or(1);
    let out_w = (w * m).div_ceil(8);
    let out_h = (h * m).div_ceil(8);
    if f.comps.len() == 1 {
        // One component: a non-interleaved scan, one block per MCU whatever its factors.
        let mcux = w.div_ceil(8);
        return Ok(Geometry {
            out_w,
            out_h,
            mcux,
            mcuy: h.div_ceil(8),
            mcu_h: m,
            comps: vec![comp(1, 1, m, mcux)],
            up: Upsample::Full,
            chroma_w: out_w,
            chroma_h: out_h,
            blocks: 1,
        });
    }
    let mcux = w.div_ceil(8 * hmax);
    let mcuy = h.div_ceil(8 * vmax);
    let blocks: usize = f.comps.iter().map(|c| c.h as usize * c.v as usize).sum();
    if blocks > 10 {
        return Err(Error::Corrupt("more than 10 blocks in an MCU"));
    }
    let mut comps = Vec::new();
    for c in &f.comps {
        let (ch, cv) = (c.h as usize, c.v as usize);
        // Double the IDCT size while the component's grid still divides the output grid.
        let mut s = m;
        while s < 8 && (hmax * m) % (ch * s * 2) == 0 && (vmax * m) % (cv * s * 2) == 0 {
            s *= 2;
        }
        comps.push(comp(ch, cv, s, mcux));
    }
    let c = &comps[1];
    let chroma_w = (w * c.h * c.s).div_ceil(hmax * 8);
    let chroma_h = (h * c.v * c.s).div_ceil(vmax * 8);
    let (h_in, v_in) = (c.h * c.s / m, c.v * c.s / m);
    let fancy = m > 1;
    let up = match (hmax / h_in, vmax / v_in, hmax % h_in, vmax % v_in) {
        (1, 1, 0, 0) => Upsample::Full,
        (2, 1, 0, 0) if fancy && chroma_w > 2 => Upsample::H2Fancy,
        (2, 1, 0, 0) => Upsample::H2Copy,
        (1, 2, 0, 0) if fancy => Upsample::V2Fancy,
        (1, 2, 0, 0) => Upsample::V2Copy,
        _ => return Err(Error::Unsupported("unusual chroma sampling")),
    };
    Ok(Geometry {
        out_w,
        out_h,
        mcux,
        mcuy,
        mcu_h: vmax * m,
        comps,
        up,
        chroma_w,
        chroma_h,
        blocks,
    })
}

fn comp(h: usize, v: usize, s: usize, mcux: usize) -> CompGeometry {
    CompGeometry {
        h,
        v,
        s,
        plane_w: mcux * h * s,
        rows: v * s,
        keep: keep(s),
    }
}

/// The coefficients libjpeg-turbo's IDCT of each size reads: none but DC for 1×1; rows and
/// columns 0,1,3,5,7 for 2×2 (jidctred.c skips 2, 4, 6); all but row and column 4 for 4×4; all
/// for 8×8. DC itself is handled apart, so it is never kept.
fn keep(s: usize) -> [u8; 64] {
    let used = |i: usize| match s {
        1 => false,
        2 => matches!(i, 0 | 1 | 3 | 5 | 7),
        4 => i != 4,
        _ => true,
    };
    let mut keep = [64u8; 64];
    for (k, &nat) in ZIGZAG.iter().enumerate().skip(1) {
        let (row, col) = (nat as usize / 8, nat as usize % 8);
        if used(row) && used(col) {
            keep[k] = nat;
        }
    }
    keep
}
