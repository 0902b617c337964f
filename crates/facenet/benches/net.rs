//! The network alone at the sizes pixfront runs it: the coarse pass (256×192), a typical
//! photo's fine pass (480×480) and a 12 MP photo's fine pass (800×600 → 800×608), on a
//! pseudo-random picture (the engine's cost does not depend on the pixels). Prints the median
//! and the minimum wall time: on a shared machine the minimum is the cost of the pass alone
//! (the thread's CPU time would need libc, and this crate has no dependencies; Linux's
//! schedstat counts in 4 ms ticks). Run: `cargo bench -p pixfront-facenet`.

use pixfront_facenet::blazeface::BlazeFace;
use std::time::Instant;

static MODEL: &[u8] = include_bytes!("../../../models/face_detection_back_256x256_barracuda.onnx");

fn main() {
    // Under `cargo test --all-targets` it only says how to get the figures.
    if !std::env::args().any(|a| a == "--bench") {
        println!("net: figures only; run cargo bench -p pixfront-facenet");
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let net = BlazeFace::load(MODEL).unwrap();
    for (w, h) in [(256, 192), (480, 480), (800, 600)] {
        let rgba: Vec<u8> = (0..w * h * 4)
            .map(|i| ((i as u32).wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            net.detect(&rgba, w, h, 0.5).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{w}×{h}: median {:.1} ms, min {:.1} ms ({runs} runs)",
            times[runs / 2],
            times[0]
        );
    }
}
