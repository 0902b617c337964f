//! Huffman decoding of MCUs. Each block's coefficients go to the slots the scaled IDCT reads;
//! the others are decoded (their length has to be known) and dropped into a spare slot without
//! ever being stored where anything reads them.

use crate::bits::Reader;
use crate::geometry::Geometry;
use crate::huffman::Table;
use crate::idct::idct;
use crate::markers::Frame;
use crate::strip::Writer;
use crate::Error;

/// What one component of the scan decodes with.
pub struct CompTables {
    dc: usize,
    ac: usize,
    keep: [u8; 64],
    q: [i16; 64],
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
                keep: g.keep,
                q: f.quant[c.tq as usize],
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
            .wrapping_mul(self.comps[c].q[0] as i32)
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

/// Per-thread decoding state: the coefficient block (slot 64 and up: the spare slots) and the
/// IDCT output.
pub struct Decoder<'t> {
    tables: &'t Tables,
    blk: [i16; 128],
    t: [i32; 64],
}

impl<'t> Decoder<'t> {
    pub fn new(tables: &'t Tables) -> Self {
        Decoder {
            tables,
            blk: [0; 128],
            t: [0; 64],
        }
    }

    /// Decodes one MCU; the caller made sure the reader holds an MCU's worth of bytes.
    #[inline]
    pub fn mcu<S: Sink>(&mut self, r: &mut Reader, sink: &mut S) -> Result<(), Error> {
        let tables = self.tables;
        for (c, ct) in tables.comps.iter().enumerate() {
            let (dc, ac) = (&tables.dc[ct.dc], &tables.ac[ct.ac]);
            for by in 0..ct.v {
                for bx in 0..ct.h {
                    let (diff, kept) = block(r, dc, ac, &ct.keep, &mut self.blk)?;
                    if kept {
                        idct(ct.s, &self.blk, &ct.q, &mut self.t);
                        self.blk = [0; 128];
                        sink.block(c, bx, by, diff, Some(&self.t))?;
                    } else {
                        sink.block(c, bx, by, diff, None)?;
                    }
                }
            }
        }
        sink.end_mcu()
    }
}

/// One block: returns the DC difference and whether an AC coefficient landed in a kept slot.
#[inline(always)]
fn block(
    r: &mut Reader,
    dc: &Table,
    ac: &Table,
    keep: &[u8; 64],
    blk: &mut [i16; 128],
) -> Result<(i32, bool), Error> {
    r.refill();
    let (_, diff) = dc.decode(r)?;
    let mut kept = false;
    let mut k = 1usize;
    while k < 64 {
        r.refill();
        let (sym, v) = ac.decode(r)?;
        let run = (sym >> 4) as usize;
        if sym & 15 == 0 {
            if run != 15 {
                break; // end of block
            }
            k += 16; // sixteen zeros
            continue;
        }
        k += run;
        // libjpeg-turbo would quietly write such a coefficient at position 63
        let Some(&slot) = keep.get(k) else {
            return Err(Error::Corrupt("coefficient index past 63"));
        };
        blk[slot as usize & 127] = v as i16;
        kept |= slot != 64;
        k += 1;
    }
    Ok((diff, kept))
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
