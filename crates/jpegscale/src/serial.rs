//! Decoding a run of MCUs in order with a known state: the whole scan, or whole restart
//! intervals (where the DC predictions restart at zero and the data at a byte boundary).

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

/// Decodes MCUs `mcus`, whose first one starts a restart interval (or the scan) at `raw[at]`,
/// writing them through `pool`; returns the pieces of strips it only partly wrote. The data
/// must end right after the last MCU: with the next interval's RST marker, or with EOI.
pub fn run(job: &Job, pool: &Pool, at: usize, mcus: Range<usize>) -> Result<Vec<Piece>, Error> {
    let mut reader = Reader::new(job.raw, at);
    let mut dec = Decoder::new(job.tables);
    let mut sink = Direct {
        tables: job.tables,
        writer: Writer::new(job.geo, pool, mcus.start),
        preds: [0; 3],
    };
    let need = job.geo.mcu_bytes();
    let ri = job.restart;
    for mcu in mcus.clone() {
        if ri > 0 && mcu % ri == 0 && mcu != mcus.start {
            reader.restart(((mcu / ri - 1) & 7) as u8)?;
            sink.preds = [0; 3];
        }
        reader.ensure(need)?;
        dec.mcu(&mut reader, &mut sink)?;
    }
    end(job, &mut reader, mcus.end)?;
    Ok(sink.writer.finish())
}

/// Checks what follows MCU `next - 1`: the RST marker of the next interval, or padding and
/// EOI after the last MCU.
pub fn end(job: &Job, reader: &mut Reader, next: usize) -> Result<(), Error> {
    if next < job.geo.total_mcus() {
        return reader.restart(((next / job.restart.max(1)).wrapping_sub(1) & 7) as u8);
    }
    reader.finish_segment()?;
    match reader.end() {
        End::Marker(0xD9, _) => Ok(()),
        End::Marker(..) => Err(Error::Unsupported("more than one scan")),
        _ => Err(Error::Corrupt("no EOI marker after the scan")),
    }
}
