//! One image on several threads. The entropy-coded data is cut at byte offsets into one chunk a
//! thread. With restart markers each thread decodes the intervals that start in its chunk:
//! their state is known (DC predictions zero, MCU index from the markers before them). Without,
//! the chunks are decoded speculatively (`spec.rs`).

use crate::serial::{run, Job};
use crate::spec;
use crate::strip::{fix_v2, join, Piece, Pool};
use crate::{Error, Mode};
use std::thread;

/// Entropy-coded bytes a thread gets at least: below this, threads cost more than they save.
const MIN_CHUNK: usize = 1024;

pub fn decode(
    job: &Job,
    scan: usize,
    threads: usize,
    out: &mut [u8],
    stride: usize,
) -> Result<(Mode, usize), Error> {
    let available = job.raw.len().saturating_sub(scan);
    let n = threads.min(available / MIN_CHUNK).max(1);
    let (mode, used) = {
        let pool = Pool::new(out, stride, job.geo);
        let (mode, used, pieces) = if n == 1 {
            (Mode::Serial, 1, run(job, &pool, scan, 0..job.geo.total_mcus())?)
        } else {
            // the RST markers the scan should have, at most (one more is already one too many)
            let expected = match job.restart {
                0 => 0,
                ri => job.geo.total_mcus().div_ceil(ri) - 1,
            };
            let markers = scan_markers(job.raw, scan, n, expected + 1);
            let end = markers.end.ok_or(Error::Corrupt("no marker after the scan"))?;
            if job.restart > 0 {
                let (used, pieces) = restart(job, &pool, scan, &markers.rst, n)?;
                (Mode::Restart, used, pieces)
            } else if !markers.rst.is_empty() {
                return Err(Error::Corrupt("restart marker in a scan without restarts"));
            } else {
                let (used, pieces) = spec::decode(job, &pool, scan, end, n)?;
                (Mode::Speculative, used, pieces)
            }
        };
        join(job.geo, &pool, pieces)?;
        (mode, used)
    };
    fix_v2(job.geo, out, stride);
    Ok((mode, used))
}

/// The markers in the entropy-coded data: RSTn (the offsets of their FF), and the first other
/// one, which ends the data.
struct Markers {
    rst: Vec<usize>,
    end: Option<usize>,
}

/// Finds the markers after `scan`, on `n` threads (each scans a chunk of the file), keeping at
/// most `most` RST positions per chunk (memory stays bounded by the image's MCUs).
fn scan_markers(raw: &[u8], scan: usize, n: usize, most: usize) -> Markers {
    let bounds: Vec<usize> = (0..=n).map(|t| scan + (raw.len() - scan) * t / n).collect();
    let parts: Vec<Markers> = thread::scope(|s| {
        let handles: Vec<_> = (1..n)
            .map(|t| {
                let (from, to) = (bounds[t], bounds[t + 1]);
                s.spawn(move || scan_chunk(raw, from, to, most))
            })
            .collect();
        let mut parts = vec![scan_chunk(raw, bounds[0], bounds[1], most)];
        parts.extend(handles.into_iter().map(|h| {
            h.join().unwrap_or(Markers {
                rst: Vec::new(),
                end: Some(0),
            })
        }));
        parts
    });
    let mut all = Markers {
        rst: Vec::new(),
        end: None,
    };
    for p in parts {
        all.rst.extend(p.rst);
        if let Some(e) = p.end {
            all.end = Some(e);
            break;
        }
    }
    if let Some(e) = all.end {
        all.rst.retain(|&r| r < e);
    }
    all
}

/// The markers whose FF lies in `raw[from..to]`, up to `most` RSTs. An FF in the data is
/// always followed by 00 (stuffing), by more FFs (fill before a marker) or by a marker code.
fn scan_chunk(raw: &[u8], from: usize, to: usize, most: usize) -> Markers {
    let mut rst = Vec::new();
    let mut i = from;
    while let Some(p) = memchr::memchr(0xFF, &raw[i..to]) {
        let ff = i + p;
        match raw.get(ff + 1) {
            Some(0x00) | Some(0xFF) => {}
            Some(0xD0..=0xD7) if rst.len() < most => rst.push(ff),
            Some(0xD0..=0xD7) => break,
            Some(_) => return Markers { rst, end: Some(ff) },
            None => break,
        }
        i = ff + 1;
    }
    Markers { rst, end: None }
}

/// Restart intervals shared out: thread t decodes the intervals whose first byte lies in the
/// t-th chunk of the data.
fn restart(
    job: &Job,
    pool: &Pool,
    scan: usize,
    rst: &[usize],
    n: usize,
) -> Result<(usize, Vec<Piece>), Error> {
    let total = job.geo.total_mcus();
    let ri = job.restart;
    let intervals = total.div_ceil(ri);
    if rst.len() != intervals - 1 {
        return Err(Error::Corrupt("wrong number of restart markers"));
    }
    // interval i starts at starts[i]
    let starts: Vec<usize> = std::iter::once(scan).chain(rst.iter().map(|&r| r + 2)).collect();
    let len = starts[intervals - 1] + 1 - scan;
    let mut first: Vec<usize> = (0..n)
        .map(|t| starts.partition_point(|&s| s < scan + len * t / n))
        .collect();
    first.push(intervals);
    first.dedup();
    let used = first.len() - 1;
    let range = |k: usize| (starts[first[k]], first[k] * ri..(first[k + 1] * ri).min(total));
    let results: Vec<Result<Vec<Piece>, Error>> = thread::scope(|s| {
        let handles: Vec<_> = (1..used)
            .map(|k| {
                let (at, mcus) = range(k);
                s.spawn(move || run(job, pool, at, mcus))
            })
            .collect();
        let (at, mcus) = range(0);
        let mut results = vec![run(job, pool, at, mcus)];
        results.extend(handles.into_iter().map(joined));
        results
    });
    let mut pieces = Vec::new();
    for r in results {
        pieces.extend(r?);
    }
    Ok((used, pieces))
}

/// A scoped thread's result; a panic (a bug) becomes an error rather than crossing threads.
pub fn joined<T>(h: thread::ScopedJoinHandle<'_, Result<T, Error>>) -> Result<T, Error> {
    h.join().unwrap_or(Err(Error::Corrupt("decoder thread failed")))
}
