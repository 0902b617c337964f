//! Bytes at equal quality: sharp at SIH's defaults (JPEG/WebP q80, AVIF q50) against pixfront at
//! the same fixed quality and at each `quality: "auto"` level, on a corpus of photos and
//! graphics at three sizes. `scripts/bench-bytes/run.sh` gathers the corpus, installs sharp and
//! runs `cargo bench --bench bytes -- --sharp <node_modules> --corpus <dir> [--formats jpeg,webp]
//! [--sizes 256,640,1280] [--only NAME] [--oracle]`; it prints markdown tables
//! (docs/performance.md).
//!
//! `--oracle` adds, per format and box, the best any `auto` could do at sharp's median score:
//! for each image the lowest quality (1–100, by bisection) whose *whole* image scores at least
//! sharp's median for that format and box, with `auto`'s encoder settings; images that do not
//! reach it even at 100 are counted and take their 100's bytes.
//!
//! Each output is scored with SSIMULACRA2 (the `ssimulacra2` crate, the reference
//! implementation, not the faster copy the search uses) against the same side's lossless
//! render of the resize, transparent pixels over white. CPU is getrusage over one render (all
//! threads), so it is indicative only. Figures only: without `--bench` (as under
//! `cargo test --all-targets`) this does nothing.

mod score;

use pixfront::edits::Edits;
use pixfront::pipeline::sniff::InputFormat;
use pixfront::pipeline::{codecs, process, PipelineSettings, Resources};
use pixfront::request::ImageRequest;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const LEVELS: [&str; 3] = ["auto:best", "auto:good", "auto:eco"];

struct Args {
    sharp: PathBuf,
    corpus: PathBuf,
    formats: Vec<String>,
    sizes: Vec<u32>,
    only: Option<String>,
    oracle: bool,
}

fn args() -> Option<Args> {
    let all: Vec<String> = std::env::args().collect();
    if !all.iter().any(|a| a == "--bench") {
        return None;
    }
    let get = |k: &str| {
        all.iter()
            .position(|a| a == k)
            .and_then(|i| all.get(i + 1))
            .cloned()
    };
    Some(Args {
        sharp: get("--sharp").expect("--sharp <node_modules>").into(),
        corpus: get("--corpus").expect("--corpus <dir>").into(),
        formats: get("--formats")
            .unwrap_or_else(|| "jpeg,webp,avif".into())
            .split(',')
            .map(str::to_string)
            .collect(),
        sizes: get("--sizes")
            .unwrap_or_else(|| "256,640,1280".into())
            .split(',')
            .map(|s| s.parse().expect("size"))
            .collect(),
        only: get("--only"),
        oracle: all.iter().any(|a| a == "--oracle"),
    })
}

fn default_quality(format: &str) -> u8 {
    if format == "avif" {
        50
    } else {
        80
    }
}

fn cpu_ms() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// RGBA → RGB over white, as sharp.js flattens its side.
fn over_white(img: &image::RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y).0;
        let a = p[3] as u32;
        image::Rgb([0, 1, 2].map(|c| ((p[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8))
    })
}

fn decode(bytes: &[u8], format: &str) -> image::RgbImage {
    let input = match format {
        "jpeg" => InputFormat::Jpeg,
        "webp" => InputFormat::Webp,
        _ => InputFormat::Avif,
    };
    let d = codecs::decode(bytes, input, Default::default(), &PipelineSettings::default()).expect("decodes");
    over_white(&d.picture.frames[0].pixels.to_rgba())
}

/// One output: bytes, score, CPU ms, and what `auto` chose (quality, crop score if searched).
#[derive(Clone, Default)]
struct Row {
    bytes: usize,
    score: f64,
    cpu_ms: f64,
    auto: Option<(u8, Option<f64>)>,
}

/// Results for one (format, size): per image, sharp's row and pixfront's rows ("80", levels),
/// and with `--oracle` the oracle's quality (`None`: not reached at 100) and row.
#[derive(Default)]
struct Table {
    images: Vec<String>,
    sharp: Vec<Row>,
    pixfront: Vec<Vec<Row>>,
    oracle: Vec<(Option<u8>, Row)>,
}

/// The request `auto` encodes with at a fixed quality: its encoder settings
/// (src/pipeline/quality/mod.rs, `tune`: progressive JPEG; WebP method 5 with sharp YUV).
fn auto_settings(format: &str, quality: u8) -> Value {
    match format {
        "jpeg" => json!({"quality": quality, "progressive": true}),
        "webp" => json!({"quality": quality, "effort": 5, "smartSubsample": true}),
        _ => json!({ "quality": quality }),
    }
}

fn render(original: &bytes::Bytes, edits: Value) -> (Vec<u8>, f64) {
    let (out, cpu) = render_output(original, edits);
    (out.bytes.to_vec(), cpu)
}

fn render_output(original: &bytes::Bytes, edits: Value) -> (pixfront::pipeline::Output, f64) {
    let (edits, _) = Edits::from_json(edits.as_object().expect("object")).expect("edits");
    let req = ImageRequest::new("b", "k", edits);
    let t = cpu_ms();
    let out = process(
        &req,
        original,
        None,
        &Resources::default(),
        &PipelineSettings::default(),
    )
    .expect("render");
    (out, cpu_ms() - t)
}

fn box_resize(size: u32) -> Value {
    json!({"width": size, "height": size, "fit": "inside", "withoutEnlargement": true})
}

/// pixfront's lossless render of the resize, over white: what every output is scored against.
fn reference(original: &bytes::Bytes, size: u32) -> image::RgbImage {
    let (png, _) = render(original, json!({"resize": box_resize(size), "png": {}}));
    over_white(&image::load_from_memory(&png).expect("png").into_rgba8())
}

/// The lowest quality whose whole image scores at least `target` (`None` when 100 does not),
/// by bisection over 1–100 (scores rise with quality, all but monotonically), and its row.
fn oracle(
    original: &bytes::Bytes,
    reference: &image::RgbImage,
    format: &str,
    size: u32,
    target: f64,
) -> (Option<u8>, Row) {
    let at = |q: u8| {
        let (bytes, _) = render(
            original,
            json!({"resize": box_resize(size), format: auto_settings(format, q)}),
        );
        let score = score::ssimulacra2(reference, &decode(&bytes, format));
        Row {
            bytes: bytes.len(),
            score,
            ..Default::default()
        }
    };
    let top = at(100);
    if top.score < target {
        return (None, top);
    }
    // Invariant: `hi` reaches the target, everything tried below `lo` does not.
    let (mut lo, mut hi, mut best) = (1u8, 100u8, top);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let row = at(mid);
        if row.score >= target {
            (hi, best) = (mid, row);
        } else {
            lo = mid + 1;
        }
    }
    (Some(hi), best)
}

fn main() {
    let Some(a) = args() else { return };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench-bytes/sharp.js");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.corpus)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut tables: std::collections::BTreeMap<(String, u32), Table> = Default::default();
    let work = std::env::temp_dir().join(format!("pixfront-bench-bytes-{}", std::process::id()));
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if a.only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        eprintln!("{name}");
        let dir = work.join(&name);
        std::fs::create_dir_all(&dir).expect("work dir");
        let jobs: Vec<Value> = a
            .sizes
            .iter()
            .flat_map(|s| {
                a.formats
                    .iter()
                    .map(move |f| json!({"size": s, "format": f, "options": {"quality": default_quality(f)}}))
            })
            .collect();
        let jobs_file = dir.join("jobs.json");
        std::fs::write(&jobs_file, serde_json::to_vec(&jobs).unwrap()).unwrap();
        let out = Command::new("node")
            .arg(&script)
            .arg(file)
            .arg(&dir)
            .arg(&jobs_file)
            .env("NODE_PATH", &a.sharp)
            .output()
            .expect("node");
        assert!(
            out.status.success(),
            "sharp.js: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sharp: Vec<Value> = serde_json::from_slice(&out.stdout).expect("sharp.js JSON");
        let original: bytes::Bytes = std::fs::read(file).expect("original").into();
        for &size in &a.sizes {
            let resize = box_resize(size);
            let sharp_ref = image::open(dir.join(format!("{size}.ref.png")))
                .expect("ref")
                .into_rgb8();
            let ours_ref = reference(&original, size);
            for format in &a.formats {
                let s = sharp
                    .iter()
                    .find(|r| r["size"] == size && r["format"] == format.as_str())
                    .expect("sharp row");
                let decoded = image::open(dir.join(format!("{size}.{format}.png")))
                    .expect("png")
                    .into_rgb8();
                let table = tables.entry((format.clone(), size)).or_default();
                table.images.push(name.clone());
                table.sharp.push(Row {
                    bytes: s["bytes"].as_u64().unwrap() as usize,
                    score: score::ssimulacra2(&sharp_ref, &decoded),
                    cpu_ms: s["cpu_ms"].as_f64().unwrap(),
                    auto: None,
                });
                let mut rows = Vec::new();
                let qualities =
                    std::iter::once(json!(default_quality(format))).chain(LEVELS.map(|l| json!(l)));
                for q in qualities {
                    let (out, cpu) = render_output(
                        &original,
                        json!({"resize": resize, format.as_str(): {"quality": q}}),
                    );
                    let score = score::ssimulacra2(&ours_ref, &decode(&out.bytes, format));
                    rows.push(Row {
                        bytes: out.bytes.len(),
                        score,
                        cpu_ms: cpu,
                        auto: out.quality.map(|a| (a.quality, a.score)),
                    });
                }
                table.pixfront.push(rows);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    if a.oracle {
        // Sharp's medians are known only now, over all images: a second pass.
        for ((format, size), t) in tables.iter_mut() {
            let target = median(t.sharp.iter().map(|r| r.score).collect());
            for name in t.images.clone() {
                eprintln!("oracle {format} {size} {name}");
                let original: bytes::Bytes = std::fs::read(a.corpus.join(&name)).expect("original").into();
                let reference = reference(&original, *size);
                t.oracle
                    .push(oracle(&original, &reference, format, *size, target));
            }
        }
    }
    print_tables(&tables);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn print_tables(tables: &std::collections::BTreeMap<(String, u32), Table>) {
    println!("| format, box | side | total bytes | × sharp | median bytes | SSIMULACRA2 median | min (image) | below sharp's median | CPU ms / image (mean) | CPU > 2× fixed |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for ((format, size), t) in tables {
        let sharp_median = median(t.sharp.iter().map(|r| r.score).collect());
        let sharp_total: usize = t.sharp.iter().map(|r| r.bytes).sum();
        // Images whose render took more than twice the CPU of pixfront's fixed-quality render of
        // the same request (the per-request budget), for the `auto` rows.
        let over_budget = |rows: &[&Row]| {
            let n = rows
                .iter()
                .zip(&t.pixfront)
                .filter(|(r, p)| r.cpu_ms > 2.0 * p[0].cpu_ms)
                .count();
            format!("{n}/{}", rows.len())
        };
        let line = |side: &str, rows: Vec<&Row>, cpu: bool| {
            let total: usize = rows.iter().map(|r| r.bytes).sum();
            let (min_i, min) = rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i, r.score))
                .min_by(|a, b| a.1.partial_cmp(&b.1).unwrap())
                .unwrap();
            let below = rows.iter().filter(|r| r.score < sharp_median).count();
            let cpu = if cpu {
                format!(
                    "{:.1}",
                    rows.iter().map(|r| r.cpu_ms).sum::<f64>() / rows.len() as f64
                )
            } else {
                "–".to_string()
            };
            let over = if side.starts_with("auto") {
                over_budget(&rows)
            } else {
                "–".to_string()
            };
            println!(
                "| {format} {size} | {side} | {total} | {:.2} | {:.0} | {:.1} | {min:.1} ({}) | {below}/{} | {cpu} | {over} |",
                total as f64 / sharp_total as f64,
                median(rows.iter().map(|r| r.bytes as f64).collect()),
                median(rows.iter().map(|r| r.score).collect()),
                t.images[min_i],
                rows.len(),
            );
        };
        line("sharp q default", t.sharp.iter().collect(), true);
        let names = ["pixfront fixed"].into_iter().chain(LEVELS);
        for (i, side) in names.enumerate() {
            line(side, t.pixfront.iter().map(|rows| &rows[i]).collect(), true);
        }
        if !t.oracle.is_empty() {
            // "below": images that do not reach sharp's median even at quality 100.
            line(
                "oracle (lowest fixed quality reaching sharp's median)",
                t.oracle.iter().map(|(_, r)| r).collect(),
                false,
            );
        }
    }
    // Per image at the default level: where the bytes go and the worst cases. "q": the quality
    // `auto:good` chose, with its crop's score when it searched, "default" when it did not.
    println!();
    println!("| format, box | image | sharp bytes | sharp score | auto:good bytes | auto:good score | auto:good q (crop score) | CPU ms fixed / auto:good | oracle q | oracle bytes |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for ((format, size), t) in tables {
        for (i, name) in t.images.iter().enumerate() {
            let (s, g) = (&t.sharp[i], &t.pixfront[i][2]);
            let chosen = match g.auto {
                Some((q, Some(crop))) => format!("{q} ({crop:.1})"),
                Some((q, None)) => format!("{q} default"),
                None => "–".to_string(),
            };
            let (oq, ob) = match t.oracle.get(i) {
                Some((Some(q), r)) => (q.to_string(), r.bytes.to_string()),
                Some((None, r)) => (">100".to_string(), r.bytes.to_string()),
                None => ("–".to_string(), "–".to_string()),
            };
            println!(
                "| {format} {size} | {name} | {} | {:.1} | {} | {:.1} | {chosen} | {:.1} / {:.1} | {oq} | {ob} |",
                s.bytes, s.score, g.bytes, g.score, t.pixfront[i][0].cpu_ms, g.cpu_ms
            );
        }
    }
}
