//! Bytes at equal quality: sharp at SIH's defaults (JPEG/WebP q80, AVIF q50) against pixfront at
//! the same fixed quality and at each `quality: "auto"` level, on a corpus of photos and
//! graphics at three sizes. `scripts/bench-bytes/run.sh` gathers the corpus, installs sharp and
//! runs `cargo bench --bench bytes -- --sharp <node_modules> --corpus <dir> [--formats jpeg,webp]
//! [--sizes 256,640,1280] [--only NAME]`; it prints markdown tables (docs/performance.md).
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

/// One output: bytes, score, CPU ms, and the quality auto chose.
#[derive(Clone, Default)]
struct Row {
    bytes: usize,
    score: f64,
    cpu_ms: f64,
}

/// Results for one (format, size): per image, sharp's row and pixfront's rows ("80", levels).
#[derive(Default)]
struct Table {
    images: Vec<String>,
    sharp: Vec<Row>,
    pixfront: Vec<Vec<Row>>,
}

fn render(original: &bytes::Bytes, edits: Value) -> (Vec<u8>, f64) {
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
    (out.bytes.to_vec(), cpu_ms() - t)
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
            let resize = json!({"width": size, "height": size, "fit": "inside", "withoutEnlargement": true});
            let sharp_ref = image::open(dir.join(format!("{size}.ref.png")))
                .expect("ref")
                .into_rgb8();
            let (png, _) = render(&original, json!({"resize": resize, "png": {}}));
            let ours_ref = over_white(&image::load_from_memory(&png).expect("png").into_rgba8());
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
                });
                let mut rows = Vec::new();
                let qualities =
                    std::iter::once(json!(default_quality(format))).chain(LEVELS.map(|l| json!(l)));
                for q in qualities {
                    let (bytes, cpu) = render(
                        &original,
                        json!({"resize": resize, format.as_str(): {"quality": q}}),
                    );
                    let score = score::ssimulacra2(&ours_ref, &decode(&bytes, format));
                    rows.push(Row {
                        bytes: bytes.len(),
                        score,
                        cpu_ms: cpu,
                    });
                }
                table.pixfront.push(rows);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
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
    println!("| format, box | side | total bytes | × sharp | median bytes | SSIMULACRA2 median | min (image) | below sharp's median | CPU ms / image (mean) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for ((format, size), t) in tables {
        let sharp_median = median(t.sharp.iter().map(|r| r.score).collect());
        let sharp_total: usize = t.sharp.iter().map(|r| r.bytes).sum();
        let line = |side: &str, rows: Vec<&Row>| {
            let total: usize = rows.iter().map(|r| r.bytes).sum();
            let (min_i, min) = rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i, r.score))
                .min_by(|a, b| a.1.partial_cmp(&b.1).unwrap())
                .unwrap();
            let below = rows.iter().filter(|r| r.score < sharp_median).count();
            println!(
                "| {format} {size} | {side} | {total} | {:.2} | {:.0} | {:.1} | {min:.1} ({}) | {below}/{} | {:.1} |",
                total as f64 / sharp_total as f64,
                median(rows.iter().map(|r| r.bytes as f64).collect()),
                median(rows.iter().map(|r| r.score).collect()),
                t.images[min_i],
                rows.len(),
                rows.iter().map(|r| r.cpu_ms).sum::<f64>() / rows.len() as f64,
            );
        };
        line("sharp q default", t.sharp.iter().collect());
        let names = ["pixfront fixed"].into_iter().chain(LEVELS);
        for (i, side) in names.enumerate() {
            line(side, t.pixfront.iter().map(|rows| &rows[i]).collect());
        }
    }
    // Per image at the default level: where the bytes go and the worst cases.
    println!();
    println!("| format, box | image | sharp bytes | sharp score | auto:good bytes | auto:good score |");
    println!("|---|---|---|---|---|---|");
    for ((format, size), t) in tables {
        for (i, name) in t.images.iter().enumerate() {
            let (s, g) = (&t.sharp[i], &t.pixfront[i][2]);
            println!(
                "| {format} {size} | {name} | {} | {:.1} | {} | {:.1} |",
                s.bytes, s.score, g.bytes, g.score
            );
        }
    }
}
