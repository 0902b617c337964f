//! The network alone at the sizes pixfront runs it: the coarse pass (256×192), a typical
//! photo's fine pass (480×480) and a 12 MP photo's fine pass (800×600 → 800×608), on a
//! pseudo-random picture (the engine's cost does not depend on the pixels). Prints the median
//! and minimum CPU time of the thread. Run: `cargo bench -p pixfront-facenet`.

use pixfront_facenet::blazeface::{network_input, BlazeFace};

static MODEL: &[u8] = include_bytes!("../../../models/face_detection_back_256x256_barracuda.onnx");

/// CPU time of this thread, ms: other processes on a shared machine do not inflate it.
/// (Linux's schedstat: this crate has no dependencies to ask libc with; it is not a workspace
/// member, so it cannot have dev-dependencies.)
fn thread_cpu_ms() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1e6
}

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
            let t = thread_cpu_ms();
            let input = network_input(&rgba, w, h);
            net.detect(input, 0.5).unwrap();
            times.push(thread_cpu_ms() - t);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{w}×{h}: median {:.1} ms, min {:.1} ms ({runs} runs)",
            times[runs / 2],
            times[0]
        );
    }
}
