//! MCU rows ("strips"): decoded samples gather in one MCU row of component planes, and a
//! complete strip is upsampled and converted straight into its rows of the output. A decoder
//! whose range of MCUs starts or ends inside a strip hands that part over as a `Piece`; pieces
//! are joined and converted once every range is done.

use crate::color::{gray_row, h2_copy, h2_fancy, v2_fancy, ycc_row};
use crate::entropy::OUT_OF_RANGE;
use crate::geometry::{Geometry, Upsample};
use crate::idct::{sample, sample1, DQ4_MAX, FLAT};
use crate::Error;
use std::sync::Mutex;

const LOST: Error = Error::Corrupt("decoder state: strip written twice");

/// The output, cut into strips that decoders take once each, from any thread.
pub struct Pool<'o> {
    strips: Mutex<Vec<Option<&'o mut [u8]>>>,
    pub stride: usize,
}

impl<'o> Pool<'o> {
    pub fn new(out: &'o mut [u8], stride: usize, geo: &Geometry) -> Self {
        let strips = out
            .chunks_mut(geo.mcu_h * stride)
            .take(geo.mcuy)
            .map(Some)
            .collect();
        Pool {
            strips: Mutex::new(strips),
            stride,
        }
    }

    /// Bytes of the output.
    pub fn bytes(&self) -> usize {
        let strips = self.strips.lock().unwrap_or_else(|e| e.into_inner());
        strips.iter().flatten().map(|s| s.len()).sum()
    }

    fn take(&self, s: usize) -> Result<&'o mut [u8], Error> {
        let mut strips = self.strips.lock().unwrap_or_else(|e| e.into_inner());
        strips.get_mut(s).and_then(Option::take).ok_or(LOST)
    }
}

/// Part of a strip: MCU columns `from..to` filled in `planes`.
pub struct Piece {
    strip: usize,
    from: usize,
    to: usize,
    planes: Vec<Vec<u8>>,
}

pub struct Writer<'g, 'o> {
    geo: &'g Geometry,
    pool: &'g Pool<'o>,
    planes: Vec<Vec<u8>>,
    strip: usize,
    first: usize,
    col: usize,
    pieces: Vec<Piece>,
    tmp: Vec<u8>,
    /// A sample left the range where libjpeg-turbo's implementations agree.
    inexact: bool,
}

fn planes(geo: &Geometry) -> Vec<Vec<u8>> {
    geo.comps.iter().map(|c| vec![0; c.plane_w * c.rows]).collect()
}

impl<'g, 'o> Writer<'g, 'o> {
    /// A writer of the MCUs from index `mcu` on.
    pub fn new(geo: &'g Geometry, pool: &'g Pool<'o>, mcu: usize) -> Self {
        Writer {
            geo,
            pool,
            planes: planes(geo),
            strip: mcu / geo.mcux,
            first: mcu % geo.mcux,
            col: mcu % geo.mcux,
            pieces: Vec::new(),
            tmp: Vec::new(),
            inexact: false,
        }
    }

    /// Index of the MCU being written.
    pub fn mcu(&self) -> usize {
        self.strip * self.geo.mcux + self.col
    }

    /// Writes block (`bx`, `by`) of component `c` of the current MCU: samples from the IDCT's
    /// `t` (or a flat block) and the dequantised DC times four.
    #[inline(always)]
    pub fn put_block(&mut self, c: usize, bx: usize, by: usize, t: &[i32], flat: bool, dq4: i32) {
        let g = &self.geo.comps[c];
        let (s, w) = (g.s, g.plane_w);
        let at = by * s * w + (self.col * g.h + bx) * s;
        let plane = &mut self.planes[c];
        let exact = match s {
            1 => {
                if let Some(o) = plane.get_mut(at) {
                    *o = sample1(dq4);
                }
                true
            }
            2 => put::<2>(plane, w, at, t, flat, dq4),
            4 => put::<4>(plane, w, at, t, flat, dq4),
            _ => put::<8>(plane, w, at, t, flat, dq4),
        };
        self.inexact |= !exact;
    }

    /// Ends the current MCU; converts the strip when it is complete.
    pub fn next(&mut self) -> Result<(), Error> {
        if self.inexact {
            return Err(OUT_OF_RANGE);
        }
        self.col += 1;
        if self.col == self.geo.mcux {
            if self.first == 0 {
                let dst = self.pool.take(self.strip)?;
                convert(
                    self.geo,
                    &self.planes,
                    &mut self.tmp,
                    dst,
                    self.pool.stride,
                    self.strip,
                );
            } else {
                self.hand_over();
            }
            self.strip += 1;
            self.first = 0;
            self.col = 0;
        }
        Ok(())
    }

    fn hand_over(&mut self) {
        let planes = std::mem::replace(&mut self.planes, planes(self.geo));
        self.pieces.push(Piece {
            strip: self.strip,
            from: self.first,
            to: self.col,
            planes,
        });
    }

    /// The pieces of partly written strips.
    pub fn finish(mut self) -> Vec<Piece> {
        if self.col > self.first {
            self.hand_over();
        }
        self.pieces
    }
}

/// Writes an `S`×`S` block at `plane[at..]` (rows `w` apart); false when a sample leaves the
/// range where libjpeg-turbo's implementations agree (or the DC is too large for it).
#[inline(always)]
fn put<const S: usize>(plane: &mut [u8], w: usize, at: usize, t: &[i32], flat: bool, dq4: i32) -> bool {
    let mut exact = dq4.unsigned_abs() <= DQ4_MAX as u32;
    if flat {
        let (v, ok) = sample(FLAT, dq4);
        for r in 0..S {
            if let Some(row) = plane.get_mut(at + r * w..at + r * w + S) {
                row.fill(v);
            }
        }
        return exact && ok;
    }
    #[cfg(target_arch = "x86_64")]
    if let (2 | 4, Ok(t)) = (S, <&[i32; 64]>::try_from(t)) {
        return crate::idct_sse2::put::<S>(plane, w, at, t, dq4) && exact;
    }
    let Some(t) = t.get(..S * S) else {
        return false;
    };
    for (r, t) in t.chunks_exact(S).enumerate() {
        let Some(row) = plane.get_mut(at + r * w..at + r * w + S) else {
            return false;
        };
        for (o, &t) in row.iter_mut().zip(t) {
            let (v, ok) = sample(t, dq4);
            *o = v;
            exact &= ok;
        }
    }
    exact
}

/// Joins the pieces of each strip and converts the strips they complete. Every strip must
/// end up complete.
pub fn join(geo: &Geometry, pool: &Pool, mut pieces: Vec<Piece>) -> Result<(), Error> {
    pieces.sort_by_key(|p| (p.strip, p.from));
    let mut tmp = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let strip = pieces[i].strip;
        let mut end = pieces[i].to;
        if pieces[i].from != 0 {
            return Err(Error::Corrupt("decoder state: strip incomplete"));
        }
        let mut j = i + 1;
        while j < pieces.len() && pieces[j].strip == strip {
            let (head, tail) = pieces.split_at_mut(j);
            let (into, p) = (&mut head[i], &tail[0]);
            if p.from != end {
                return Err(Error::Corrupt("decoder state: strip incomplete"));
            }
            for (c, g) in geo.comps.iter().enumerate() {
                let (a, b) = (p.from * g.h * g.s, p.to * g.h * g.s);
                for r in 0..g.rows {
                    let row = r * g.plane_w;
                    into.planes[c][row + a..row + b].copy_from_slice(&p.planes[c][row + a..row + b]);
                }
            }
            end = p.to;
            j += 1;
        }
        if end != geo.mcux {
            return Err(Error::Corrupt("decoder state: strip incomplete"));
        }
        let dst = pool.take(strip)?;
        convert(geo, &pieces[i].planes, &mut tmp, dst, pool.stride, strip);
        i = j;
    }
    Ok(())
}

/// Upsamples and converts strip `s` (its planes) into its output rows `dst`. With vertical
/// triangle filtering, a row whose second-nearest chroma row lies in another strip is written
/// raw (Y, Cb, Cr of its nearest row) for `fix_v2` to finish.
fn convert(geo: &Geometry, planes: &[Vec<u8>], tmp: &mut Vec<u8>, dst: &mut [u8], stride: usize, s: usize) {
    let y0 = s * geo.mcu_h;
    let rows = geo.mcu_h.min(geo.out_h - y0);
    let w = geo.out_w;
    let gray = planes.len() == 1;
    let pw = geo.comps[0].plane_w;
    let cw = if gray { 0 } else { geo.comps[1].plane_w };
    tmp.resize(4 * cw + 4, 0);
    let (ta, tb) = tmp.split_at_mut(2 * cw + 2);
    for ly in 0..rows {
        let Some(out) = dst.get_mut(ly * stride..ly * stride + 3 * w) else {
            return;
        };
        let y = &planes[0][ly * pw..ly * pw + w];
        if gray {
            gray_row(y, out);
            continue;
        }
        let crow = |p: usize, r: usize| &planes[p][r * cw..(r + 1) * cw];
        match geo.up {
            Upsample::Full => ycc_row(y, &crow(1, ly)[..w], &crow(2, ly)[..w], out),
            Upsample::H2Fancy | Upsample::H2Copy => {
                let n = if geo.up == Upsample::H2Fancy {
                    geo.chroma_w
                } else {
                    w.div_ceil(2)
                };
                let up = if geo.up == Upsample::H2Fancy {
                    h2_fancy
                } else {
                    h2_copy
                };
                up(&crow(1, ly)[..n], &mut ta[..2 * n]);
                up(&crow(2, ly)[..n], &mut tb[..2 * n]);
                ycc_row(y, &ta[..w], &tb[..w], out);
            }
            Upsample::V2Copy => ycc_row(y, &crow(1, ly / 2)[..w], &crow(2, ly / 2)[..w], out),
            Upsample::V2Fancy => {
                let m = geo.comps[1].rows;
                let r = (y0 + ly) / 2;
                let other = if (y0 + ly).is_multiple_of(2) {
                    r.saturating_sub(1)
                } else {
                    (r + 1).min(geo.chroma_h - 1)
                };
                let (near, bias) = (ly / 2, if (y0 + ly).is_multiple_of(2) { 1 } else { 2 });
                if other / m != s {
                    for (((px, &y), &cb), &cr) in out
                        .chunks_exact_mut(3)
                        .zip(y)
                        .zip(crow(1, near))
                        .zip(crow(2, near))
                    {
                        px.copy_from_slice(&[y, cb, cr]);
                    }
                    continue;
                }
                let far = other - s * m;
                v2_fancy(&crow(1, near)[..w], &crow(1, far)[..w], bias, &mut ta[..w]);
                v2_fancy(&crow(2, near)[..w], &crow(2, far)[..w], bias, &mut tb[..w]);
                ycc_row(y, &ta[..w], &tb[..w], out);
            }
        }
    }
}

/// Finishes the rows `convert` left raw: at each strip boundary with chroma on both sides,
/// the last row above and the first row below each need the other side's chroma row.
pub fn fix_v2(geo: &Geometry, out: &mut [u8], stride: usize) {
    if geo.up != Upsample::V2Fancy {
        return;
    }
    let m = geo.comps[1].rows;
    let w = geo.out_w;
    let mut buf = vec![0u8; 6 * w];
    let mut cbcr = vec![0u8; 2 * w];
    for s in 1..geo.mcuy {
        let r1 = s * m;
        if r1 > geo.chroma_h - 1 {
            break;
        }
        let (l, f) = (2 * r1 - 1, 2 * r1);
        let (Some(lrow), Some(frow)) = (
            out.get(l * stride..l * stride + 3 * w),
            out.get(f * stride..f * stride + 3 * w),
        ) else {
            return;
        };
        // planes of the two raw rows: Y, Cb, Cr of the upper, then of the lower
        let (upper, lower) = buf.split_at_mut(3 * w);
        for (k, (a, b)) in lrow.chunks_exact(3).zip(frow.chunks_exact(3)).enumerate() {
            for p in 0..3 {
                upper[p * w + k] = a[p];
                lower[p * w + k] = b[p];
            }
        }
        let (cb, cr) = cbcr.split_at_mut(w);
        for (row, (near, far, bias)) in [(l, (&*upper, &*lower, 2)), (f, (&*lower, &*upper, 1))] {
            v2_fancy(&near[w..2 * w], &far[w..2 * w], bias, cb);
            v2_fancy(&near[2 * w..], &far[2 * w..], bias, cr);
            if let Some(o) = out.get_mut(row * stride..row * stride + 3 * w) {
                ycc_row(&near[..w], cb, cr, o);
            }
        }
    }
}
