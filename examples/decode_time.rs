//! Decode time of originals through pixfront's decoders (docs/performance.md, "Decoding AVIF and
//! JPEG XL"): `decode_time RUNS FILE...` prints the best and median wall time of a full decode
//! (header check, sniff and decode to pixels) per file. Run by scripts/bench-decode/run.sh.

use std::time::Instant;

use pixfront::pipeline::codecs::{self, DecodeOptions};
use pixfront::pipeline::settings::PipelineSettings;
use pixfront::pipeline::sniff::sniff;

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or_else(|| {
        eprintln!("usage: decode_time RUNS FILE...");
        std::process::exit(2)
    });
    let settings = PipelineSettings::default();
    for path in args {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let format = sniff(&bytes).unwrap_or_else(|| panic!("{path}: unknown format"));
        let mut times = Vec::with_capacity(runs);
        let mut size = (0, 0);
        for _ in 0..runs {
            let start = Instant::now();
            codecs::read_header(&bytes, format).unwrap_or_else(|e| panic!("{path}: {e:?}"));
            let decoded = codecs::decode(&bytes, format, DecodeOptions::default(), &settings)
                .unwrap_or_else(|e| panic!("{path}: {e:?}"));
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            size = (decoded.picture.width(), decoded.picture.height());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{path}\t{}x{}\tbest {:.0} ms\tmedian {:.0} ms",
            size.0,
            size.1,
            times[0],
            times[times.len() / 2]
        );
    }
}
