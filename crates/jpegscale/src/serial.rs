//! Decoding MCUs in order from a known state: the whole scan, whole restart intervals (where
//! the DC predictions restart at zero and the data at a byte boundary), or, in the speculative
//! split, the stretches no speculative decoder synchronised on.

use crate::bits::{End, Reader};
use crate::entropy::{Decoder, Direct, Tables};
use crate::geometry::Geometry;
use crate::strip::{Piece, Pool, Writer};
use crate::Error;
use std::ops::Range;

/// What every decoding thread shares.
pub struct Job<'a> {
    pub geo: &'a Geometry,
    pub tables: &'a Tables,
    /// The whole file.
    pub raw: &'a [u8],
    pub restart: usize,
}

/// A decoder that knows where it is: reader, DC predictions, output position.
pub struct Cursor<'a, 'g, 'o> {
    pub reader: Reader<'a>,
    dec: Decoder<'a>,
    sink: Direct<'a, 'g, 'o>,
    need: usize,
    /// Pieces of strips written by earlier writers of this cursor.
    pieces: Vec<Piece>,
}

impl<'a, 'g, 'o> Cursor<'a, 'g, 'o> {
    /// A cursor at MCU `mcu`, with `reader` at its first bit and these DC predictions.
    pub fn new(
        job: &'g Job<'a>,
        pool: &'g Pool<'o>,
        reader: Reader<'a>,
        mcu: usize,
        preds: [i32; 3],
    ) -> Self {
        Cursor {
            reader,
            dec: Decoder::new(job.tables),
            sink: Direct {
                tables: job.tables,
                writer: Writer::new(job.geo, pool, mcu),
                preds,
            },
            need: job.geo.mcu_bytes(),
            pieces: Vec::new(),
        }
    }

    /// Index of the next MCU.
    pub fn mcu(&self) -> usize {
        self.sink.writer.mcu()
    }

    pub fn preds(&self) -> [i32; 3] {
        self.sink.preds
    }

    /// Decodes the next MCU.
    #[inline]
    pub fn step(&mut self) -> Result<(), Error> {
        self.reader.ensure(self.need)?;
        self.dec.mcu(&mut self.reader, &mut self.sink)
    }

    /// Starts a new restart interval: checks its RST marker, resets the DC predictions.
    pub fn restart(&mut self, n: usize) -> Result<(), Error> {
        self.reader.restart((n & 7) as u8)?;
        self.sink.preds = [0; 3];
        Ok(())
    }

    /// Moves the cursor to MCU `mcu`, with another reader and predictions: the state a
    /// speculative decoder reached once its MCUs are accounted for.
    pub fn jump(
        &mut self,
        job: &'g Job<'a>,
        pool: &'g Pool<'o>,
        reader: Reader<'a>,
        mcu: usize,
        preds: [i32; 3],
    ) {
        let writer = std::mem::replace(&mut self.sink.writer, Writer::new(job.geo, pool, mcu));
        self.pieces.extend(writer.finish());
        self.reader = reader;
        self.sink.preds = preds;
    }

    pub fn finish(mut self) -> Vec<Piece> {
        self.pieces.extend(self.sink.writer.finish());
        self.pieces
    }
}

/// Decodes MCUs `mcus`, whose first one starts a restart interval (or the scan) at `raw[at]`,
/// writing them through `pool`; returns the pieces of strips it only partly wrote. The data
/// must end right after the last MCU: with the next interval's RST marker, or with EOI.
pub fn run(job: &Job, pool: &Pool, at: usize, mcus: Range<usize>) -> Result<Vec<Piece>, Error> {
    let mut cur = Cursor::new(job, pool, Reader::new(job.raw, at), mcus.start, [0; 3]);
    let ri = job.restart;
    for mcu in mcus.clone() {
        if ri > 0 && mcu % ri == 0 && mcu != mcus.start {
            cur.restart(mcu / ri - 1)?;
        }
        cur.step()?;
    }
    end(job, &mut cur.reader, mcus.end)?;
    Ok(cur.finish())
}

/// Checks what follows MCU `next - 1`: the RST marker of the next interval, or padding and
/// EOI after the last MCU.
pub fn end(job: &Job, reader: &mut Reader, next: usize) -> Result<(), Error> {
    if next < job.geo.total_mcus() {
        if job.restart == 0 || !next.is_multiple_of(job.restart) {
            return Err(Error::Corrupt("decoder state: range ends inside an interval"));
        }
        return reader.restart(((next / job.restart - 1) & 7) as u8);
    }
    reader.finish_segment()?;
    match reader.end() {
        End::Marker(0xD9, _) => Ok(()),
        End::Marker(..) => Err(Error::Unsupported("more than one scan")),
        _ => Err(Error::Corrupt("no EOI marker after the scan")),
    }
}
