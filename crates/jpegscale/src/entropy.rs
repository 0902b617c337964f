//! Huffman decoding of MCUs. Each block's coefficients go to the slots the scaled IDCT reads;
//! the others are decoded (their length has to be known) and dropped into a spare slot without
//! ever being stored where anything reads them.

use crate::bits::{Bits, Reader, Window};
use crate::geometry::Geometry;
use crate::huffman::Table;
use crate::idct::{idct, Quant};
use crate::markers::Frame;
use crate::strip::Writer;
use crate::Error;

/// What one component of the scan decodes with.
pub struct CompTables {
    dc: usize,
    ac: usize,
    keep: [u8; 128],
    q: Quant,
    s: usize,
    h: usize,
    v: usize,
}

/// The decoding tables of a scan, shared by every thread.
pub struct Tables {
    dc: Vec<Table>,
    ac: Vec<Table>,
    comps: Vec<CompTables>,
}

impl Tables {
    pub fn new(f: &Frame, geo: &Geometry) -> Result<Tables, Error> {
        let mut dc = Vec::new();
        let mut ac = Vec::new();
        let mut comps = Vec::new();
        for (c, g) in f.comps.iter().zip(&geo.comps) {
            let missing = Error::Unsupported("scan without Huffman tables");
            dc.push(Table::new(f.dc[c.td as usize].as_ref().ok_or(missing)?, true)?);
            ac.push(Table::new(f.ac[c.ta as usize].as_ref().ok_or(missing)?, false)?);
            comps.push(CompTables {
                dc: dc.len() - 1,
                ac: ac.len() - 1,
                // indexed by position + 1 (see `block`)
                keep: std::array::from_fn(|i| {
                    i.checked_sub(1)
                        .and_then(|k| g.keep.get(k))
                        .copied()
                        .unwrap_or(64)
                }),
                q: Quant::new(f.quant[c.tq as usize]),
                s: g.s,
                h: g.h,
                v: g.v,
            });
        }
        Ok(Tables { dc, ac, comps })
    }

    /// The dequantised DC times four, from the DC prediction of component `c`, as libjpeg
    /// computes it (16-bit coefficient × 16-bit multiplier, in `int`).
    #[inline(always)]
    pub fn dq4(&self, c: usize, pred: i32) -> i32 {
        (pred as i16 as i32)
            .wrapping_mul(self.comps[c].q.q[0] as i32)
            .wrapping_mul(4)
    }

    pub fn ncomp(&self) -> usize {
        self.comps.len()
    }

    /// IDCT size of component `c`.
    pub fn size(&self, c: usize) -> usize {
        self.comps[c].s
    }

    /// Blocks of component `c` in one MCU.
    pub fn blocks(&self, c: usize) -> usize {
        self.comps[c].h * self.comps[c].v
    }
}

/// Receives the blocks of each MCU in scan order: the DC difference, and the IDCT's `t`
/// (None for a block without AC the IDCT reads).
pub trait Sink {
    fn block(
        &mut self,
        c: usize,
        bx: usize,
        by: usize,
        diff: i32,
        t: Option<&[i32; 64]>,
    ) -> Result<(), Error>;
    fn end_mcu(&mut self) -> Result<(), Error>;
}

/// A block whose values leave the range where libjpeg-turbo's SIMD and C code agree (see
/// `idct.rs`): no real image has one, and libjpeg-turbo decides its pixels.
pub const OUT_OF_RANGE: Error = Error::Unsupported("coefficients beyond libjpeg-turbo's 16-bit range");

/// Blocks in an MCU, at most (libjpeg-turbo refuses more).
const MAX_BLOCKS: usize = 10;

/// Per-thread decoding state: an MCU's coefficient blocks (slot 64 and up: the spare slots),
/// their DC differences and whether they have AC, and the IDCT output.
pub struct Decoder<'t> {
    tables: &'t Tables,
    blks: Box<[[i16; 128]; MAX_BLOCKS]>,
    info: [(i32, bool); MAX_BLOCKS],
    t: [i32; 64],
}

impl<'t> Decoder<'t> {
    pub fn new(tables: &'t Tables) -> Self {
        Decoder {
            tables,
            blks: Box::new([[0; 128]; MAX_BLOCKS]),
            info: [(0, false); MAX_BLOCKS],
            t: [0; 64],
        }
    }

    /// Decodes one MCU; the caller made sure the reader holds an MCU's worth of bytes.
    #[inline]
    pub fn mcu<S: Sink>(&mut self, r: &mut Reader, sink: &mut S) -> Result<(), Error> {
        let tables = self.tables;
        huffman_mcu(tables, r, &mut self.blks, &mut self.info)?;
        let mut b = 0;
        for (c, ct) in tables.comps.iter().enumerate() {
            for by in 0..ct.v {
                for bx in 0..ct.h {
                    let (diff, kept) = self.info[b];
                    if kept {
                        let exact = idct(ct.s, &self.blks[b], &ct.q, &mut self.t);
                        // only the first 64 slots are read (64 is the spare)
                        self.blks[b][..64].fill(0);
                        if !exact {
                            return Err(OUT_OF_RANGE);
                        }
                        sink.block(c, bx, by, diff, Some(&self.t))?;
                    } else {
                        sink.block(c, bx, by, diff, None)?;
                    }
                    b += 1;
                }
            }
        }
        sink.end_mcu()
    }
}

/// The Huffman decoding of one MCU, apart from everything else so that the bit buffer and the
/// tables stay in registers.
#[inline(never)]
fn huffman_mcu(
    tables: &Tables,
    r: &mut Reader,
    blks: &mut [[i16; 128]; MAX_BLOCKS],
    info: &mut [(i32, bool); MAX_BLOCKS],
) -> Result<(), Error> {
    let mut st = r.st;
    let buf = r.window();
    // the symbol decoder expects at least 25 bits in the buffer
    st.refill(buf);
    let mut b = 0;
    for ct in &tables.comps {
        let (dc, ac) = (&tables.dc[ct.dc], &tables.ac[ct.ac]);
        for _ in 0..ct.h * ct.v {
            let (Some(blk), Some(inf)) = (blks.get_mut(b), info.get_mut(b)) else {
                return Err(Error::Corrupt("more than 10 blocks in an MCU"));
            };
            *inf = block(&mut st, buf, dc, ac, &ct.keep, blk)?;
            b += 1;
        }
    }
    r.st = st;
    Ok(())
}

/// One block: returns the DC difference and whether the block has AC coefficients (they may
/// all be in slots the IDCT skips, which only costs it a needless run). `keep` maps positions
/// plus one, 1..128 (runs can point past 63), to kept slots or the spare slot 64.
#[inline(always)]
fn block(
    r: &mut Bits,
    buf: &Window,
    dc: &Table,
    ac: &Table,
    keep: &[u8; 128],
    blk: &mut [i16; 128],
) -> Result<(i32, bool), Error> {
    let diff = dc.dc(r, buf)?;
    // one past the position of the last coefficient
    let mut k = 1usize;
    let fast = ac.fast();
    loop {
        let (step, v) = ac.ac(fast, r, buf)?;
        let next = k + step;
        // End of block and ZRL store a zero, harmlessly; positions past 63 go to the spare slot.
        blk[keep[next & 127] as usize & 127] = v as i16;
        if next >= 64 {
            // libjpeg-turbo would quietly write such a coefficient at position 63
            if next > 64 && v != 0 {
                return Err(Error::Corrupt("coefficient index past 63"));
            }
            return Ok((diff, k > 1 || next == 64));
        }
        k = next;
    }
}

/// Writes blocks straight into the strip writer, keeping the DC predictions.
pub struct Direct<'a, 'g, 'o> {
    pub tables: &'a Tables,
    pub writer: Writer<'g, 'o>,
    pub preds: [i32; 3],
}

impl Sink for Direct<'_, '_, '_> {
    #[inline(always)]
    fn block(
        &mut self,
        c: usize,
        bx: usize,
        by: usize,
        diff: i32,
        t: Option<&[i32; 64]>,
    ) -> Result<(), Error> {
        let pred = self.preds[c].wrapping_add(diff);
        self.preds[c] = pred;
        let dq4 = self.tables.dq4(c, pred);
        match t {
            Some(t) => self.writer.put_block(c, bx, by, t, false, dq4),
            None => self.writer.put_block(c, bx, by, &[], true, dq4),
        }
        Ok(())
    }

    #[inline(always)]
    fn end_mcu(&mut self) -> Result<(), Error> {
        self.writer.next()
    }
}
