//! Speculative decoding of a scan without restart markers, after S. T. Klein and Y. Wiseman,
//! "Parallel Huffman decoding with applications to JPEG files", The Computer Journal 46(5),
//! 2003: Huffman codes resynchronise by themselves, so a decoder started at an arbitrary byte
//! soon decodes the same codewords, blocks and MCUs as one that started at the beginning; JPEG's
//! differential DC values are fixed up afterwards. The synchronisation check (a decoder meets
//! the state recorded by the next chunk's speculative decoder) is the one of A. Weißenberger and
//! B. Schmidt, "Massively parallel Huffman decoding on GPUs", ICPP 2018.
//!
//! Thread 0 decodes the first chunk of the data for real. Each other thread starts at its
//! chunk's first byte as if an MCU began there, and decodes until the first MCU starting in the
//! next chunk, recording where its MCUs start (in bits from its chunk's first byte) and keeping
//! each MCU's DC differences and IDCT outputs without their DC (`idct.rs`), since the DC
//! predictions it started from are wrong. Then, in order, the true decoding state at the end
//! of chunk t-1 is matched against the MCU starts recorded in chunk t: at the first equal
//! position the two decoders are in the same state except for the DC predictions, which differ
//! by a constant from there on, so chunk t's MCUs from that point are true once that constant
//! is added (Klein & Wiseman's fix-up of JPEG's differential DC). Where no position matches
//! (not synchronised yet, or the thread gave up), the true decoder decodes on itself until one
//! does. Finally each thread turns its kept MCUs into pixels. The result is the serial decode,
//! bit for bit, and a damaged file fails where the serial decoder fails.

use crate::bits::{clean_len, Reader};
use crate::entropy::{Decoder, Sink, Tables};
use crate::idct::FLAT;
use crate::parallel::joined;
use crate::serial::{end, Cursor, Job};
use crate::strip::{Piece, Pool, Writer};
use crate::Error;
use std::ops::Range;
use std::thread;

/// MCU starts a speculative decoder records: it synchronises long before this many, or never.
const RECORDED: usize = 4096;
/// Restarts a speculative decoder makes after an error (a sign that it has not synchronised
/// yet), each further into its chunk.
const RETRIES: usize = 8;

/// What a speculative decoder leaves.
struct Spec<'a> {
    /// Bit position (from the chunk's first byte) and DC predictions at the start of each of
    /// the first MCUs.
    starts: Vec<(u64, [i32; 3])>,
    /// Per MCU, per block: the DC difference, then the IDCT's `t` (none for 1×1 blocks).
    store: Vec<i16>,
    /// MCUs decoded; the reader is at the start of the next one.
    count: usize,
    reader: Option<Reader<'a>>,
    preds: [i32; 3],
}

/// Entries of the store per MCU.
fn stride(tables: &Tables) -> usize {
    (0..tables.ncomp())
        .map(|c| {
            let s = tables.size(c);
            tables.blocks(c) * (1 + if s > 1 { s * s } else { 0 })
        })
        .sum()
}

/// Decodes the data `raw[scan..end]` on `n` threads.
pub fn decode(
    job: &Job,
    pool: &Pool,
    scan: usize,
    end_of_data: usize,
    n: usize,
) -> Result<(usize, Vec<Piece>), Error> {
    let raw = job.raw;
    // chunk starts, never right after an FF (inside a stuffed pair or fill bytes)
    let mut bounds: Vec<usize> = (1..n)
        .map(|t| {
            let mut b = scan + (end_of_data - scan) * t / n;
            while b < end_of_data && raw[b - 1] == 0xFF {
                b += 1;
            }
            b
        })
        .collect();
    bounds.dedup();
    let n = bounds.len() + 1;
    let budget = pool.bytes() * 2 / n + (1 << 20);
    let (first, specs) = thread::scope(|s| {
        let handles: Vec<_> = (1..n)
            .map(|t| {
                s.spawn({
                    let bounds = &bounds;
                    move || Ok(speculate(job, bounds, scan..end_of_data, t, budget))
                })
            })
            .collect();
        let first = head(job, pool, scan, &bounds);
        let specs: Vec<Result<Spec, Error>> = handles.into_iter().map(joined).collect();
        (first, specs)
    });
    let mut cur = first?;
    let mut specs: Vec<Spec> = specs.into_iter().collect::<Result<_, _>>()?;
    let total = job.geo.total_mcus();
    let need = job.geo.mcu_bytes();
    // Match the true state against each chunk's recorded MCU starts, in order.
    let mut replays = Vec::new();
    for t in 1..n {
        let spec = &mut specs[t - 1];
        let limit = bounds.get(t).map(|&b| clean_len(raw, bounds[t - 1], b) * 8);
        while cur.mcu() < total {
            // an MCU the true decoder could not start is no synchronisation point
            cur.reader.ensure(need)?;
            // bits from the chunk's first byte, once the true decoder is past it
            let p = cur
                .reader
                .mark(t - 1)
                .and_then(|m| cur.reader.position().checked_sub(m * 8));
            if let Some(p) = p {
                if let Ok(k) = spec.starts.binary_search_by_key(&p, |s| s.0) {
                    let reader = spec
                        .reader
                        .take()
                        .ok_or(Error::Corrupt("decoder state: reader gone"))?;
                    let a = cur.mcu();
                    if a + (spec.count - k) > total {
                        return Err(Error::Corrupt("extraneous data after the last MCU"));
                    }
                    // From here on the speculative DC predictions are off by a constant.
                    let (theirs, ours) = (spec.starts[k].1, cur.preds());
                    let preds =
                        std::array::from_fn(|c| spec.preds[c].wrapping_add(ours[c].wrapping_sub(theirs[c])));
                    cur.jump(job, pool, reader, a + spec.count - k, preds);
                    replays.push((t - 1, k, a, ours));
                    break;
                }
                if limit.is_some_and(|l| p >= l) {
                    break; // in the next chunk: look for synchronisation there
                }
            }
            cur.step()?;
        }
    }
    while cur.mcu() < total {
        cur.step()?;
    }
    end(job, &mut cur.reader, total)?;
    let mut pieces = cur.finish();
    // Pixels from the kept MCUs, shared out evenly between all threads.
    let parts = share(job.tables, &specs, &replays, n);
    let results: Vec<Result<Vec<Piece>, Error>> = thread::scope(|s| {
        let specs = &specs;
        let handles: Vec<_> = parts
            .iter()
            .skip(1)
            .map(|part| s.spawn(move || replay_all(job, pool, specs, part)))
            .collect();
        let mut results: Vec<_> = parts
            .first()
            .map(|part| replay_all(job, pool, specs, part))
            .into_iter()
            .collect();
        results.extend(handles.into_iter().map(joined));
        results
    });
    for r in results {
        pieces.extend(r?);
    }
    Ok((n, pieces))
}

/// Stored MCUs `from..to` of chunk `spec`, which are the image's MCUs from `mcu` on, with the
/// true DC predictions at `from`.
#[derive(Clone, Copy)]
struct Replay {
    spec: usize,
    from: usize,
    to: usize,
    mcu: usize,
    preds: [i32; 3],
}

/// Cuts the replays into `n` parts of about as many MCUs; a cut inside a chunk needs the DC
/// predictions there, summed from the stored differences.
fn share(
    tables: &Tables,
    specs: &[Spec],
    replays: &[(usize, usize, usize, [i32; 3])],
    n: usize,
) -> Vec<Vec<Replay>> {
    let total: usize = replays.iter().map(|&(i, k, _, _)| specs[i].count - k).sum();
    let each = total.div_ceil(n).max(1);
    let mut parts = vec![Vec::new()];
    let mut room = each;
    for &(spec, from, mcu, preds) in replays {
        let mut r = Replay {
            spec,
            from,
            to: specs[spec].count,
            mcu,
            preds,
        };
        while r.to - r.from > room {
            let cut = r.from + room;
            if let Some(p) = parts.last_mut() {
                p.push(Replay { to: cut, ..r });
            }
            parts.push(Vec::new());
            r.preds = advance(tables, &specs[spec], r.from, cut, r.preds);
            r.mcu += cut - r.from;
            r.from = cut;
            room = each;
        }
        room -= r.to - r.from;
        if let Some(p) = parts.last_mut() {
            p.push(r);
        }
    }
    parts
}

/// The DC predictions after stored MCUs `from..to` of a chunk, from those before them.
fn advance(tables: &Tables, spec: &Spec, from: usize, to: usize, mut preds: [i32; 3]) -> [i32; 3] {
    let per_mcu = stride(tables);
    for mcu in spec.store[from * per_mcu..to * per_mcu].chunks_exact(per_mcu) {
        let mut i = 0;
        for (c, pred) in preds.iter_mut().enumerate().take(tables.ncomp()) {
            let s = tables.size(c);
            for _ in 0..tables.blocks(c) {
                *pred = pred.wrapping_add(mcu[i] as i32);
                i += 1 + if s > 1 { s * s } else { 0 };
            }
        }
    }
    preds
}

fn replay_all(job: &Job, pool: &Pool, specs: &[Spec], part: &[Replay]) -> Result<Vec<Piece>, Error> {
    let mut pieces = Vec::new();
    for r in part {
        pieces.extend(replay(job, pool, &specs[r.spec], r)?);
    }
    Ok(pieces)
}

/// Thread 0: the first chunk, decoded for real up to the first MCU that starts in the next.
fn head<'a, 'g, 'o>(
    job: &'g Job<'a>,
    pool: &'g Pool<'o>,
    scan: usize,
    bounds: &[usize],
) -> Result<Cursor<'a, 'g, 'o>, Error> {
    let reader = Reader::new(job.raw, scan).with_marks(bounds);
    let mut cur = Cursor::new(job, pool, reader, 0, [0; 3]);
    let total = job.geo.total_mcus();
    while cur.mcu() < total {
        if let Some(m) = cur.reader.mark(0) {
            if cur.reader.position() >= m * 8 {
                break;
            }
        }
        cur.step()?;
    }
    Ok(cur)
}

/// Thread t: chunk t decoded from its first byte as if an MCU started there. The entropy-coded
/// data is `raw[data]` (a marker follows it).
fn speculate<'a>(job: &Job<'a>, bounds: &[usize], data: Range<usize>, t: usize, budget: usize) -> Spec<'a> {
    let end_of_data = data.end;
    let raw = job.raw;
    let (chunk, next) = (bounds[t - 1], bounds.get(t).copied());
    let limit = next.unwrap_or(end_of_data);
    let per_mcu = stride(job.tables);
    let mut start = chunk;
    // room for the chunk's share of the MCUs (and a margin), so that the store is not copied
    // as it grows
    let share = (limit - chunk) as f64 / data.len().max(1) as f64;
    let expected = (job.geo.total_mcus() as f64 * share.min(1.0) * 1.1) as usize * per_mcu;
    let mut spec = Spec {
        starts: Vec::new(),
        store: Vec::with_capacity(expected.min(budget / 2)),
        count: 0,
        reader: None,
        preds: [0; 3],
    };
    for _ in 0..RETRIES {
        if start >= limit {
            break;
        }
        let skipped = clean_len(raw, chunk, start) * 8;
        let mut reader = Reader::new(raw, start).with_marks(bounds);
        let mut dec = Decoder::new(job.tables);
        let mut sink = Store {
            tables: job.tables,
            store: &mut spec.store,
            preds: [0; 3],
            overflow: false,
        };
        sink.store.clear();
        spec.starts.clear();
        spec.count = 0;
        let need = job.geo.mcu_bytes();
        let failed = loop {
            if reader.ensure(need).is_err() {
                break true;
            }
            let here = skipped + reader.position();
            let stop = match next {
                Some(_) => reader.mark(t).is_some_and(|m| reader.position() >= m * 8),
                None => reader.exhausted(),
            };
            if stop || sink.store.len() * 2 > budget {
                break false;
            }
            if spec.starts.len() < RECORDED {
                spec.starts.push((here, sink.preds));
            }
            let (saved, preds, len) = (reader.st, sink.preds, sink.store.len());
            match dec.mcu(&mut reader, &mut sink) {
                Ok(()) => spec.count += 1,
                Err(_) if sink.overflow => {
                    // values beyond 16 bits (no real image has them): stop here, cleanly
                    reader.st = saved;
                    sink.preds = preds;
                    sink.store.truncate(len);
                    spec.starts.truncate(spec.count);
                    break false;
                }
                Err(_) => break true,
            }
        };
        if !failed {
            spec.preds = sink.preds;
            spec.reader = Some(reader);
            debug_assert_eq!(spec.store.len(), spec.count * per_mcu);
            return spec;
        }
        // Not synchronised yet (or damaged data): try again further on.
        start += 1 + (limit - chunk) / (RETRIES + 1);
        while start < limit && raw[start - 1] == 0xFF {
            start += 1;
        }
    }
    spec.starts.clear();
    spec.store.clear();
    spec.count = 0;
    spec
}

/// Keeps each block's DC difference and IDCT output in the store.
struct Store<'s> {
    tables: &'s Tables,
    store: &'s mut Vec<i16>,
    preds: [i32; 3],
    overflow: bool,
}

impl Sink for Store<'_> {
    #[inline]
    fn block(
        &mut self,
        c: usize,
        _bx: usize,
        _by: usize,
        diff: i32,
        t: Option<&[i32; 64]>,
    ) -> Result<(), Error> {
        self.preds[c] = self.preds[c].wrapping_add(diff);
        // a DC difference has at most 15 magnitude bits
        self.store.push(diff as i16);
        let s = self.tables.size(c);
        if s > 1 {
            match t {
                Some(t) => {
                    for &v in &t[..s * s] {
                        let v16 = v as i16;
                        self.overflow |= v16 as i32 != v;
                        self.store.push(v16);
                    }
                }
                None => self.store.extend(std::iter::repeat_n(FLAT as i16, s * s)),
            }
        }
        Ok(())
    }

    fn end_mcu(&mut self) -> Result<(), Error> {
        if self.overflow {
            return Err(Error::Unsupported("IDCT output beyond 16 bits"));
        }
        Ok(())
    }
}

/// Pixels of stored MCUs.
fn replay(job: &Job, pool: &Pool, spec: &Spec, r: &Replay) -> Result<Vec<Piece>, Error> {
    let (k, a, mut preds) = (r.from, r.mcu, r.preds);
    let tables = job.tables;
    let per_mcu = stride(tables);
    let mut writer = Writer::new(job.geo, pool, a);
    let mut t = [0i32; 64];
    let store = spec
        .store
        .get(k * per_mcu..r.to * per_mcu)
        .ok_or(Error::Corrupt("decoder state: store"))?;
    for mcu in store.chunks_exact(per_mcu) {
        let mut i = 0;
        for (c, pred) in preds.iter_mut().enumerate().take(tables.ncomp()) {
            let s = tables.size(c);
            let g = &job.geo.comps[c];
            for by in 0..g.v {
                for bx in 0..g.h {
                    *pred = pred.wrapping_add(mcu[i] as i32);
                    let dq4 = tables.dq4(c, *pred);
                    i += 1;
                    if s > 1 {
                        for (o, &v) in t.iter_mut().zip(&mcu[i..i + s * s]) {
                            *o = v as i32;
                        }
                        i += s * s;
                        writer.put_block(c, bx, by, &t, false, dq4);
                    } else {
                        writer.put_block(c, bx, by, &[], true, dq4);
                    }
                }
            }
        }
        writer.next()?;
    }
    Ok(writer.finish())
}
