//! AVIF image sequences (`avis`): the `moov` tracks, their sample tables and AV1 sample entries
//! (ISO/IEC 14496-12 §8). Only what frame-by-frame decoding needs: where each sample is, how
//! long it shows, the track's size and colour, and which track is the colour one's alpha.

use super::super::common::{be16, be32};
use super::container::{be64, boxes, find, property, Nclx, Property};

/// One track of an image sequence.
#[derive(Debug, Default)]
pub(super) struct Track {
    pub id: u32,
    /// The track this one is auxiliary to (`tref`/`auxl`), for an alpha track.
    pub aux_for: Option<u32>,
    pub handler: [u8; 4],
    pub size: (u32, u32),
    pub nclx: Option<Nclx>,
    pub icc: Option<Vec<u8>>,
    /// (file offset, length) of each sample (one AV1 temporal unit).
    pub samples: Vec<(u64, u64)>,
    /// Display time of each sample in milliseconds.
    pub delays_ms: Vec<u32>,
}

/// Every track of a `moov` payload that has an AV1 sample entry.
pub(super) fn tracks(moov: &[u8], file_len: usize) -> Vec<Track> {
    boxes(moov)
        .filter(|(k, _)| k == b"trak")
        .filter_map(|(_, t)| track(t, file_len))
        .collect()
}

fn track(trak: &[u8], file_len: usize) -> Option<Track> {
    let tkhd = find(trak, b"tkhd")?;
    let mut t = Track {
        id: be32(tkhd, if tkhd.first()? == &1 { 20 } else { 12 })?,
        ..Track::default()
    };
    t.aux_for = find(trak, b"tref")
        .and_then(|r| find(r, b"auxl"))
        .and_then(|a| be32(a, 0));
    let mdia = find(trak, b"mdia")?;
    let mdhd = find(mdia, b"mdhd")?;
    let timescale = be32(mdhd, if mdhd.first()? == &1 { 20 } else { 12 })?.max(1);
    t.handler = find(mdia, b"hdlr")?.get(8..12)?.try_into().ok()?;
    let stbl = find(find(mdia, b"minf")?, b"stbl")?;
    let stsd = find(stbl, b"stsd")?;
    let (kind, entry) = boxes(stsd.get(8..)?).next()?;
    if &kind != b"av01" {
        return None;
    }
    t.size = (be16(entry, 24)?, be16(entry, 26)?);
    for (k, p) in boxes(entry.get(78..)?) {
        if k == *b"colr" {
            match property(&k, p) {
                Some(Property::Nclx(n)) => t.nclx = Some(n),
                Some(Property::Icc(icc)) => t.icc = Some(icc.to_vec()),
                _ => {}
            }
        }
    }
    t.samples = samples(stbl, file_len)?;
    let mut delays = Vec::with_capacity(t.samples.len());
    let stts = find(stbl, b"stts")?;
    for i in 0..be32(stts, 4)? as usize {
        let (count, delta) = (be32(stts, 8 + i * 8)?, be32(stts, 12 + i * 8)?);
        let ms = (delta as u64 * 1000 / timescale as u64).min(u32::MAX as u64) as u32;
        for _ in 0..count.min((t.samples.len() - delays.len().min(t.samples.len())) as u32) {
            delays.push(ms);
        }
    }
    delays.resize(t.samples.len(), 0);
    t.delays_ms = delays;
    Some(t)
}

/// Sample locations from `stsz`, `stsc` and `stco`/`co64`. A count no file of this length could
/// hold (each sample is at least one byte) is refused rather than allocated.
fn samples(stbl: &[u8], file_len: usize) -> Option<Vec<(u64, u64)>> {
    let stsz = find(stbl, b"stsz")?;
    let (fixed, count) = (be32(stsz, 4)?, be32(stsz, 8)? as usize);
    if count > file_len {
        return None;
    }
    let size = |i: usize| match fixed {
        0 => be32(stsz, 12 + i * 4),
        n => Some(n),
    };
    let chunks: Vec<u64> = match (find(stbl, b"stco"), find(stbl, b"co64")) {
        (Some(stco), _) => (0..be32(stco, 4)? as usize)
            .map(|i| be32(stco, 8 + i * 4).map(u64::from))
            .collect::<Option<_>>()?,
        (None, Some(co64)) => (0..be32(co64, 4)? as usize)
            .map(|i| be64(co64, 8 + i * 8))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let stsc = find(stbl, b"stsc")?;
    let runs: Vec<(u32, u32)> = (0..be32(stsc, 4)? as usize)
        .map(|i| Some((be32(stsc, 8 + i * 12)?, be32(stsc, 12 + i * 12)?)))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(count);
    for (c, &chunk_offset) in chunks.iter().enumerate() {
        let chunk = c as u32 + 1;
        let per_chunk = runs.iter().rev().find(|(first, _)| *first <= chunk)?.1;
        let mut offset = chunk_offset;
        for _ in 0..per_chunk {
            if out.len() == count {
                return Some(out);
            }
            let len = size(out.len())? as u64;
            out.push((offset, len));
            offset = offset.checked_add(len)?;
        }
    }
    Some(out)
}
