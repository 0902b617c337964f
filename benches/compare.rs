//! pixfront against sharp (npm, libvips), side by side, on the workloads of the performance
//! issue: `scripts/bench-compare/run.sh` installs sharp and runs
//! `cargo bench --bench compare -- --sharp <node_modules> [--runs N] [--workers 1,2] [--only NAME]`.
//!
//! For each workload it first renders one output per side and checks its dimensions (and frame
//! count), scores it, then times each side in a fresh child process per worker count (so peak
//! RSS is that workload's alone) and prints markdown tables. Figures only: nothing here gates
//! CI, and without cargo bench's `--bench` argument (as under `cargo test --all-targets`) it
//! does nothing.
//!
//! Quality: SSIMULACRA2 (higher is better, 100 = identical) of each output against a
//! reference rendered by the same side losslessly (PNG) and without shrink-on-load, i.e. what
//! that side's speed shortcuts and encoder cost. The two references are also scored against
//! each other, which shows whether the two resamplers agree.

mod score;

use pixfront::edits::Edits;
use pixfront::pipeline::PipelineSettings;
use pixfront::pipeline::{process, Resources};
use pixfront::request::ImageRequest;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Workload {
    name: &'static str,
    /// Under the test data folder.
    input: &'static str,
    /// pixfront's edits (SIH Default-request JSON).
    edits: Value,
    /// The same job for sharp.js: resize options, output format and its options.
    sharp: Value,
    /// Expected output size and frame count.
    size: (u32, u32),
    frames: u32,
    ext: &'static str,
    /// Throughput ratio the issue asks for.
    target: f64,
}

fn workloads() -> Vec<Workload> {
    let kleiber = "large/kleiber_6028x3391.jpg";
    vec![
        Workload {
            name: "20MP JPEG → 800w JPEG q80",
            input: kleiber,
            edits: json!({"resize": {"width": 800}, "jpeg": {"quality": 80}}),
            sharp: json!({"resize": {"width": 800}, "format": "jpeg", "options": {"quality": 80}}),
            size: (800, 450),
            frames: 1,
            ext: "jpg",
            target: 2.0,
        },
        // sharp's other mode: a factor of two left for the resize (1/2 here instead of 1/4).
        Workload {
            name: "same, fastShrinkOnLoad false",
            input: kleiber,
            edits: json!({"resize": {"width": 800, "fastShrinkOnLoad": false}, "jpeg": {"quality": 80}}),
            sharp: json!({"resize": {"width": 800, "fastShrinkOnLoad": false}, "format": "jpeg", "options": {"quality": 80}}),
            size: (800, 450),
            frames: 1,
            ext: "jpg",
            target: 1.0,
        },
        Workload {
            name: "20MP JPEG → 800w WebP q80",
            input: kleiber,
            edits: json!({"resize": {"width": 800}, "webp": {"quality": 80}}),
            sharp: json!({"resize": {"width": 800}, "format": "webp", "options": {"quality": 80}}),
            size: (800, 450),
            frames: 1,
            ext: "webp",
            target: 1.3,
        },
        Workload {
            name: "20MP JPEG → 400² cover AVIF",
            input: kleiber,
            edits: json!({"resize": {"width": 400, "height": 400, "fit": "cover"}, "toFormat": "avif"}),
            sharp: json!({"resize": {"width": 400, "height": 400, "fit": "cover"}, "format": "avif"}),
            size: (400, 400),
            frames: 1,
            ext: "avif",
            target: 1.0,
        },
        Workload {
            name: "4096² progressive JPEG → 1024w JPEG",
            input: "large/infinite_sea_4096x4096_progressive.jpg",
            edits: json!({"resize": {"width": 1024}, "toFormat": "jpeg"}),
            sharp: json!({"resize": {"width": 1024}, "format": "jpeg"}),
            size: (1024, 1024),
            frames: 1,
            ext: "jpg",
            target: 1.5,
        },
        Workload {
            name: "4096² WebP → 512w WebP",
            input: "large/adwaita_d_4096x4096.webp",
            edits: json!({"resize": {"width": 512}, "toFormat": "webp"}),
            sharp: json!({"resize": {"width": 512}, "format": "webp"}),
            size: (512, 512),
            frames: 1,
            ext: "webp",
            target: 1.2,
        },
        Workload {
            name: "500² RGBA PNG → 200w PNG",
            input: "formats/skimage_logo_rgba.png",
            edits: json!({"resize": {"width": 200}, "toFormat": "png"}),
            sharp: json!({"resize": {"width": 200}, "format": "png"}),
            size: (200, 200),
            frames: 1,
            ext: "png",
            target: 1.2,
        },
        Workload {
            name: "small JPEG → 300² cover JPEG",
            input: "faces/obama.jpg",
            edits: json!({"resize": {"width": 300, "height": 300, "fit": "cover"}, "toFormat": "jpeg"}),
            sharp: json!({"resize": {"width": 300, "height": 300, "fit": "cover"}, "format": "jpeg"}),
            size: (300, 300),
            frames: 1,
            ext: "jpg",
            target: 1.5,
        },
        Workload {
            name: "42-frame GIF → 100w GIF",
            input: "formats/iss634_animated.gif",
            edits: json!({"resize": {"width": 100}, "toFormat": "gif"}),
            sharp: json!({"animated": true, "resize": {"width": 100}, "format": "gif"}),
            size: (100, 100),
            frames: 42,
            ext: "gif",
            target: 1.0,
        },
    ]
}

fn testdata() -> PathBuf {
    std::env::var_os("PIXFRONT_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"))
}

fn sharp_js() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/bench-compare/sharp.js")
}

/// The workload's job rendered losslessly from the full-size decode (the quality reference).
fn reference_edits(edits: &Value) -> Value {
    let mut e = edits.clone();
    let map = e.as_object_mut().expect("edits object");
    map["resize"]["fastShrinkOnLoad"] = json!(false);
    map.retain(|k, _| k == "resize");
    map.insert("toFormat".into(), json!("png"));
    e
}

fn reference_sharp(spec: &Value) -> Value {
    let mut s = spec.clone();
    s["resize"]["fastShrinkOnLoad"] = json!(false);
    s["animated"] = json!(false);
    s["format"] = json!("png");
    s["options"] = json!({});
    s
}

fn request(edits: &Value) -> ImageRequest {
    let (edits, _) = Edits::from_json(edits.as_object().expect("edits object")).expect("edits");
    ImageRequest::new("bench", "bench", edits)
}

fn render_pixfront(edits: &Value, original: &bytes::Bytes) -> Vec<u8> {
    let out = process(
        &request(edits),
        original,
        None,
        &Resources::default(),
        &PipelineSettings::default(),
    )
    .expect("pixfront render");
    out.bytes.to_vec()
}

/// Runs `node sharp.js args…` and parses its one JSON line.
fn node(sharp: &Path, threads: usize, args: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(sharp_js())
        .args(args)
        .env("NODE_PATH", sharp)
        .env("UV_THREADPOOL_SIZE", threads.to_string())
        .output()
        .expect("node");
    if !out.status.success() {
        panic!("sharp.js {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).expect("sharp.js JSON")
}

/// SSIMULACRA2 of two RGB PNGs of the same size.
fn ssimulacra2(reference: &Path, distorted: &Path) -> f64 {
    let load = |p: &Path| image::open(p).expect("decoded PNG").into_rgb8();
    score::ssimulacra2(&load(reference), &load(distorted))
}

/// One workload's checked outputs.
struct Checked {
    pixfront_bytes: usize,
    sharp_bytes: usize,
    /// pixfront vs its reference, sharp vs its reference, the references against each other.
    q_pixfront: f64,
    q_sharp: f64,
    q_refs: f64,
}

/// Renders both sides once, checks sizes and frame counts, scores quality.
fn check(w: &Workload, sharp: &Path, dir: &Path) -> Checked {
    let input = testdata().join(w.input);
    let original: bytes::Bytes = std::fs::read(&input).expect("test image").into();
    let slug: String = w
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let file = |side: &str, ext: &str| dir.join(format!("{slug}.{side}.{ext}"));
    let outputs = [
        ("pixfront", file("pixfront", w.ext)),
        ("sharp", file("sharp", w.ext)),
        ("pixfront-ref", file("pixfront-ref", "png")),
        ("sharp-ref", file("sharp-ref", "png")),
    ];
    std::fs::write(&outputs[0].1, render_pixfront(&w.edits, &original)).expect("write");
    std::fs::write(
        &outputs[2].1,
        render_pixfront(&reference_edits(&w.edits), &original),
    )
    .expect("write");
    let input_s = input.to_str().expect("utf-8 path");
    for (spec, path) in [
        (w.sharp.clone(), &outputs[1].1),
        (reference_sharp(&w.sharp), &outputs[3].1),
    ] {
        node(
            sharp,
            1,
            &[
                "render",
                &spec.to_string(),
                input_s,
                path.to_str().expect("utf-8 path"),
            ],
        );
    }
    // Every file is measured by the same decoder (sharp's), which also reads AVIF.
    let mut decoded = Vec::new();
    for (side, path) in &outputs {
        let png = path.with_extension(format!("{}.dec.png", path.extension().unwrap().to_string_lossy()));
        let info = node(
            sharp,
            1,
            &["decode", path.to_str().unwrap(), png.to_str().unwrap()],
        );
        let size = (
            info["width"].as_u64().unwrap() as u32,
            info["height"].as_u64().unwrap() as u32,
        );
        let frames = info["pages"].as_u64().unwrap() as u32;
        let want_frames = if side.ends_with("-ref") { 1 } else { w.frames };
        if size != w.size || frames != want_frames {
            eprintln!(
                "{}: {side} output is {}×{} with {frames} frame(s), expected {}×{} with {want_frames}",
                w.name, size.0, size.1, w.size.0, w.size.1
            );
            std::process::exit(1);
        }
        decoded.push(png);
    }
    Checked {
        pixfront_bytes: std::fs::metadata(&outputs[0].1).unwrap().len() as usize,
        sharp_bytes: std::fs::metadata(&outputs[1].1).unwrap().len() as usize,
        q_pixfront: ssimulacra2(&decoded[2], &decoded[0]),
        q_sharp: ssimulacra2(&decoded[3], &decoded[1]),
        q_refs: ssimulacra2(&decoded[3], &decoded[2]),
    }
}

/// One side's timed run, as both sides report it.
#[derive(Debug)]
struct Timed {
    ms: Vec<f64>,
    wall_ms: f64,
    cpu_ms: f64,
    idle_rss_kib: f64,
    peak_rss_kib: f64,
}

impl Timed {
    fn from_json(v: &Value) -> Timed {
        let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("missing {k} in {v}"));
        Timed {
            ms: v["ms"]
                .as_array()
                .expect("ms")
                .iter()
                .filter_map(Value::as_f64)
                .collect(),
            wall_ms: f("wall_ms"),
            cpu_ms: f("cpu_ms"),
            idle_rss_kib: f("idle_rss_kib"),
            peak_rss_kib: f("peak_rss_kib"),
        }
    }
    fn median_ms(&self) -> f64 {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    fn ops_per_s(&self) -> f64 {
        self.ms.len() as f64 * 1000.0 / self.wall_ms
    }
    fn cpu_ms_per_op(&self) -> f64 {
        self.cpu_ms / self.ms.len() as f64
    }
}

/// The child process that times pixfront: `worker <index> <workers> <runs>`.
fn worker(index: usize, workers: usize, runs: usize) {
    let w = &workloads()[index];
    let original: bytes::Bytes = std::fs::read(testdata().join(w.input))
        .expect("test image")
        .into();
    let req = request(&w.edits);
    let (resources, config) = (Resources::default(), PipelineSettings::default());
    let idle = status_kib("VmRSS");
    let run = || process(&req, &original, None, &resources, &config).expect("render");
    // One warm-up operation per worker, as on the sharp side.
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| run());
        }
    });
    let cpu0 = cpu_ms();
    let start = Instant::now();
    let ms: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    (0..runs)
                        .map(|_| {
                            let t = Instant::now();
                            run();
                            t.elapsed().as_secs_f64() * 1000.0
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({
            "ms": ms,
            "wall_ms": wall_ms,
            "cpu_ms": cpu_ms() - cpu0,
            "idle_rss_kib": idle,
            "peak_rss_kib": status_kib("VmHWM"),
        })
    );
}

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of this process (all threads) in ms.
fn cpu_ms() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn time_pixfront(index: usize, workers: usize, runs: usize) -> Timed {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--bench",
            "worker",
            &index.to_string(),
            &workers.to_string(),
            &runs.to_string(),
        ])
        // ravif (rav1e) runs on rayon's pool: give it the workers' threads, as sharp gets
        // UV_THREADPOOL_SIZE with one libvips thread per image.
        .env("RAYON_NUM_THREADS", workers.to_string())
        .output()
        .expect("worker process");
    if !out.status.success() {
        panic!("pixfront worker: {}", String::from_utf8_lossy(&out.stderr));
    }
    Timed::from_json(&serde_json::from_slice(&out.stdout).expect("worker JSON"))
}

fn time_sharp(w: &Workload, sharp: &Path, workers: usize, runs: usize) -> Timed {
    let input = testdata().join(w.input);
    let v = node(
        sharp,
        workers,
        &[
            "time",
            &w.sharp.to_string(),
            input.to_str().expect("utf-8 path"),
            &workers.to_string(),
            &runs.to_string(),
        ],
    );
    Timed::from_json(&v)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Options {
    sharp: PathBuf,
    runs: usize,
    workers: Vec<usize>,
    only: Option<String>,
    out: PathBuf,
}

fn parse_options(args: &[String]) -> Options {
    let mut o = Options {
        sharp: PathBuf::new(),
        runs: 10,
        workers: vec![1, 2],
        only: None,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-compare"),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--sharp" => o.sharp = PathBuf::from(value()),
            "--runs" => o.runs = value().parse().expect("--runs N"),
            "--workers" => {
                o.workers = value()
                    .split(',')
                    .map(|n| n.parse().expect("--workers 1,2"))
                    .collect()
            }
            "--only" => o.only = Some(value()),
            "--out" => o.out = PathBuf::from(value()),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    if o.sharp.as_os_str().is_empty() {
        panic!("--sharp <node_modules folder with sharp> is required (scripts/bench-compare/run.sh sets it)");
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("compare: figures only; run scripts/bench-compare/run.sh");
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "worker") {
        let n = |k: usize| {
            args[i + k]
                .parse::<usize>()
                .expect("worker <index> <workers> <runs>")
        };
        return worker(n(1), n(2), n(3));
    }
    let o = parse_options(&args);
    std::fs::create_dir_all(&o.out).expect("output folder");
    let all = workloads();
    let chosen: Vec<(usize, &Workload)> = all
        .iter()
        .enumerate()
        .filter(|(_, w)| o.only.as_deref().is_none_or(|s| w.name.contains(s)))
        .collect();

    eprintln!("checking outputs (sizes, frames, quality) in {}", o.out.display());
    let checked: Vec<Checked> = chosen.iter().map(|(_, w)| check(w, &o.sharp, &o.out)).collect();

    let load_before = loadavg();
    let mut rows = Vec::new();
    for (i, w) in &chosen {
        for &workers in &o.workers {
            eprintln!("timing {} with {workers} worker(s)", w.name);
            // pixfront first, then sharp, back to back, so both see the same machine load.
            let p = time_pixfront(*i, workers, o.runs);
            let s = time_sharp(w, &o.sharp, workers, o.runs);
            rows.push((*i, workers, p, s));
        }
    }
    let load_after = loadavg();

    println!(
        "{} runs per worker after one warm-up each; load average {load_before} before, {load_after} after.\n",
        o.runs
    );
    println!("| workload | workers | pixfront ms/op | sharp ms/op | pixfront ops/s | sharp ops/s | ratio | target | pixfront CPU ms/op | sharp CPU ms/op | CPU ratio |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, workers, p, s) in &rows {
        let w = &all[*i];
        let ratio = p.ops_per_s() / s.ops_per_s();
        println!(
            "| {} | {workers} | {:.1} | {:.1} | {:.2} | {:.2} | **{ratio:.2}×** {} | ≥ {:.1}× | {:.1} | {:.1} | {:.2}× |",
            w.name,
            p.median_ms(),
            s.median_ms(),
            p.ops_per_s(),
            s.ops_per_s(),
            if ratio >= w.target { "met" } else { "not met" },
            w.target,
            p.cpu_ms_per_op(),
            s.cpu_ms_per_op(),
            s.cpu_ms_per_op() / p.cpu_ms_per_op(),
        );
    }
    println!();
    println!("| workload | pixfront bytes | sharp bytes | bytes ±% | SSIMULACRA2 pixfront | SSIMULACRA2 sharp | refs agree | peak RSS MiB pixfront / sharp (1 worker) | RSS over idle MiB pixfront / sharp |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mib = |kib: f64| kib / 1024.0;
    for ((i, w), c) in chosen.iter().zip(&checked) {
        let one = rows
            .iter()
            .find(|r| r.0 == *i && r.1 == 1)
            .or_else(|| rows.iter().find(|r| r.0 == *i));
        let (rss, over) = match one {
            Some((_, _, p, s)) => (
                format!("{:.0} / {:.0}", mib(p.peak_rss_kib), mib(s.peak_rss_kib)),
                format!(
                    "{:.0} / {:.0}",
                    mib(p.peak_rss_kib - p.idle_rss_kib),
                    mib(s.peak_rss_kib - s.idle_rss_kib)
                ),
            ),
            None => (String::new(), String::new()),
        };
        println!(
            "| {} | {} | {} | {:+.1} % | {:.1} | {:.1} | {:.1} | {rss} | {over} |",
            w.name,
            c.pixfront_bytes,
            c.sharp_bytes,
            (c.pixfront_bytes as f64 / c.sharp_bytes as f64 - 1.0) * 100.0,
            c.q_pixfront,
            c.q_sharp,
            c.q_refs,
        );
    }
}
