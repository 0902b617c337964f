//! Decode time of one JPEG at 1/2, 1/4 and 1/8: this crate (1 thread and more) against
//! libjpeg-turbo's scaled decode (through mozjpeg), best and median of N runs each.
//!
//!     cargo run --release -p pixfront-jpegscale --example bench -- FILE [RUNS] [THREADS...]
//!
//! `BENCH_DENOM=4` runs one scale only; `BENCH_ONLY=libjpeg` or `BENCH_ONLY=jpegscale` one
//! decoder only (to count its cycles with `perf stat`).

use pixfront_jpegscale::{decode_scaled, probe, Options};
use std::time::{Duration, Instant};

/// CPU time of the calling thread (Linux), so that single-thread figures on a busy machine
/// count only this thread's work.
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

/// CPU time of the whole process, every thread (Linux; 10 ms ticks, so only a mean over many
/// runs means anything).
fn process_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Best and median wall time, median CPU time of this thread, and mean CPU time of the
/// process, over `runs`.
fn time<F: FnMut()>(runs: usize, mut f: F) -> (Duration, Duration, Duration, Duration) {
    f(); // warm up
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let p0 = process_cpu();
    for _ in 0..runs {
        let (start, c0) = (Instant::now(), thread_cpu());
        f();
        wall.push(start.elapsed());
        cpu.push(thread_cpu() - c0);
    }
    let total = (process_cpu() - p0) / runs as u32;
    wall.sort();
    cpu.sort();
    (wall[0], wall[runs / 2], cpu[runs / 2], total)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .map_or("../shared/testdata/large/kleiber_6028x3391.jpg", |s| s.as_str());
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(15);
    let threads: Vec<usize> = if args.len() > 2 {
        args[2..].iter().filter_map(|s| s.parse().ok()).collect()
    } else {
        vec![1, 2]
    };
    let bytes = std::fs::read(path).expect("read the file");
    let hdr = probe(&bytes).expect("the fast path applies to this file");
    println!(
        "{path}: {}x{} {:?}, restart interval {}",
        hdr.width, hdr.height, hdr.sampling, hdr.restart_interval
    );
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let denoms: Vec<u8> = match std::env::var("BENCH_DENOM").ok().and_then(|d| d.parse().ok()) {
        Some(d) => vec![d],
        None => vec![4, 2, 8],
    };
    for denom in denoms {
        let (w, h) = hdr.scaled_size(denom);
        let mut out = vec![0u8; 3 * w as usize * h as usize];
        if only != "jpegscale" {
            let (best, median, cpu, _) = time(runs, || {
                let mut d = mozjpeg::Decompress::new_mem(&bytes).unwrap();
                d.scale(8 / denom);
                let mut s = d.rgb().unwrap();
                s.read_scanlines_into(&mut out).unwrap();
                s.finish().unwrap();
            });
            println!(
                "1/{denom} {w}x{h}  libjpeg-turbo: best {:6.1} ms  median {:6.1} ms  (cpu {:6.1} ms)",
                ms(best),
                ms(median),
                ms(cpu)
            );
        }
        for &n in threads.iter().filter(|_| only != "libjpeg") {
            let opts = Options {
                denom,
                threads: n,
                max_pixels: u64::MAX,
            };
            let mut mode = None;
            let (best, median, cpu, total) = time(runs, || {
                mode = Some(decode_scaled(&bytes, &opts, &mut out, 3 * w as usize).expect("decode"));
            });
            let info = mode.expect("ran");
            println!(
                "1/{denom} {w}x{h}  jpegscale {n} thread(s) ({:?}, {} used): best {:6.1} ms  median {:6.1} ms  \
                 (cpu of the calling thread {:6.1} ms, of all threads {:6.1} ms)",
                info.mode,
                info.threads,
                ms(best),
                ms(median),
                ms(cpu),
                ms(total)
            );
        }
    }
}
