//! The offline face detectors on the face test set (tests/data/faces, built by
//! scripts/build-face-testset.py): recall on faces ≥ 1.5 % of the picture's longer side, false
//! positives per image, milliseconds per detection; whether any detector finds a face again
//! after `blurFaces` (output 200 px wide, 800 px wide, original size); and the cost of one
//! detection for a 12 MP JPEG as a request pays it (`Server-Timing: faces`), with its parts. Prints the tables of
//! docs/faces.md. Run: `cargo bench --bench faces`; `cargo bench --bench faces -- detect` (or
//! `blur`, `12mp`) prints only that table. The network alone, pass by pass:
//! `cargo bench -p pixfront-facenet`.
//!
//! Times are wall-clock medians and, beside them, the CPU time of the thread (getrusage), which
//! other processes on a shared machine do not inflate.

#[path = "../tests/faces_support/mod.rs"]
mod faces_support;

use faces_support::{load_set, matches, overlaps, process_with, read, render, score, to_px, Box4, Labeled};
use pixfront::faces::{local::LocalDetector, proxy, seeta::SeetaDetector, FaceDetector, FaceService, Source};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

const RUNS: usize = 5;

fn thread_cpu_ms() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid rusage for the call to fill.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (wall ms, cpu ms) of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (t, c) = (Instant::now(), thread_cpu_ms());
    let out = f();
    (out, t.elapsed().as_secs_f64() * 1000.0, thread_cpu_ms() - c)
}

struct Tally {
    counted: usize,
    hit: usize,
    fp: usize,
    images: usize,
    wall: Vec<f64>,
    cpu: Vec<f64>,
    misses: Vec<String>,
    fps: Vec<String>,
}

fn main() {
    // Under `cargo test --all-targets` (no `--bench` argument) it only says where the figures
    // come from: tests/faces_testset.rs asserts the same recall and blur results on every run,
    // and the full tables take minutes in a test build.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("faces: figures only; run cargo bench --bench faces");
        return;
    }
    let only: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |section: &str| only.is_empty() || only.contains(&section);
    // The default `FACE_proxy_size_SIZE`; SeetaFace gets the same.
    let proxy_size = pixfront::faces::FaceSettings::default().proxy_size;
    let blaze: Arc<dyn FaceDetector> = Arc::new(LocalDetector::new(proxy_size));
    let seeta: Arc<dyn FaceDetector> = Arc::new(SeetaDetector::new(proxy_size));
    let detectors: [(&str, &Arc<dyn FaceDetector>); 2] =
        [("BlazeFace (local)", &blaze), ("SeetaFace", &seeta)];
    let service = Arc::new(FaceService::new(Ok(blaze.clone()), None, 1));
    let set = load_set();
    let uprights: Vec<(&Labeled, image::RgbaImage)> = set
        .iter()
        .map(|l| (l, render(&service, &read(&l.file), json!({"toFormat": "png"}))))
        .collect();

    // Each detector on the proxy of each upright picture, as FaceService does it.
    let detect = |d: &Arc<dyn FaceDetector>, img: &image::RgbaImage| -> Vec<Box4> {
        let p = proxy(img, d.proxy_size()).unwrap();
        let found = d.detect(&p).unwrap();
        // Faces, not the weaker candidates only blurFaces uses.
        found
            .iter()
            .filter(|f| f.confidence >= d.sure_confidence())
            .map(|f| to_px(f, img.width(), img.height()))
            .collect()
    };
    if wanted("detect") {
        let mut tallies = Vec::new();
        let mut combined = (0, 0, 0);
        for (name, d) in detectors {
            let mut t = Tally {
                counted: 0,
                hit: 0,
                fp: 0,
                images: 0,
                wall: Vec::new(),
                cpu: Vec::new(),
                misses: Vec::new(),
                fps: Vec::new(),
            };
            for (l, img) in &uprights {
                assert_eq!(img.dimensions(), l.size, "{}", l.file);
                let (found, wall, cpu) = timed(|| detect(d, img));
                let (c, h, fp) = score(&l.faces, &found, l.size.0.max(l.size.1) as f32);
                t.counted += c;
                t.hit += h;
                t.fp += fp;
                t.images += 1;
                t.wall.push(wall);
                t.cpu.push(cpu);
                if h < c {
                    t.misses.push(format!("{} ({}/{})", l.file, h, c));
                }
                if fp > 0 {
                    t.fps.push(format!("{} ({fp})", l.file));
                }
            }
            tallies.push((name, t));
        }
        // Both together: a face counts when either finds it; a false positive of either counts.
        for (l, img) in &uprights {
            let mut found = detect(&blaze, img);
            let extra: Vec<Box4> = detect(&seeta, img)
                .into_iter()
                .filter(|s| !found.iter().any(|b| overlaps(b, s)))
                .collect();
            found.extend(extra);
            let (c, h, fp) = score(&l.faces, &found, l.size.0.max(l.size.1) as f32);
            combined = (combined.0 + c, combined.1 + h, combined.2 + fp);
        }

        let faces: usize = set.iter().map(|l| l.faces.len()).sum();
        println!(
            "Face test set: {} images, {faces} labelled faces; proxy {proxy_size} px; recall on faces ≥ 1.5 % of the longer side",
            set.len()
        );
        println!();
        println!("| detector | recall | false positives per image | median ms per detection (wall / CPU) | slowest (wall) |");
        println!("|---|---|---|---|---|");
        for (name, t) in &tallies {
            println!(
                "| {name} | {:.3} ({}/{}) | {:.3} ({} in {} images) | {:.1} / {:.1} | {:.0} |",
                t.hit as f64 / t.counted as f64,
                t.hit,
                t.counted,
                t.fp as f64 / t.images as f64,
                t.fp,
                t.images,
                median(t.wall.clone()),
                median(t.cpu.clone()),
                t.wall.iter().cloned().fold(0.0, f64::max)
            );
        }
        println!(
            "| both (BlazeFace ∪ SeetaFace) | {:.3} ({}/{}) | {:.3} ({}) | sum of the two | |",
            combined.1 as f64 / combined.0 as f64,
            combined.1,
            combined.0,
            combined.2 as f64 / set.len() as f64,
            combined.2
        );
        println!();
        for (name, t) in &tallies {
            println!("{name}: missed in {:?}", t.misses);
            println!("{name}: false positives in {:?}", t.fps);
        }
    }

    if wanted("blur") {
        // After blurFaces (the local detector's boxes), each detector on each rendition: detections
        // of a labelled face (`matches`, as for recall), and detections merely overlapping one.
        println!();
        println!("| detector | renditions checked | faces found before blurFaces | faces found after blurFaces (w=200 / 800 / original) | detections overlapping a face after (200 / 800 / original) |");
        println!("|---|---|---|---|---|");
        let mut blur_ms = Vec::new();
        let mut after = vec![[0usize; 3]; detectors.len()];
        let mut touching = vec![[0usize; 3]; detectors.len()];
        let mut before = vec![0usize; detectors.len()];
        let mut renditions = 0;
        let mut leaks = Vec::new();
        for (l, _) in uprights.iter().filter(|(l, _)| !l.faces.is_empty()) {
            let original = read(&l.file);
            for (k, w) in [Some(200u32), Some(800), None].into_iter().enumerate() {
                let (mut plain, mut blurred) = (
                    json!({"toFormat": "png"}),
                    json!({"blurFaces": true, "toFormat": "png"}),
                );
                if let Some(w) = w {
                    plain["resize"] = json!({"width": w});
                    blurred["resize"] = json!({"width": w});
                }
                let plain = render(&service, &original, plain);
                let (out, ms, _) = timed(|| render(&service, &original, blurred));
                if w.is_none() {
                    blur_ms.push(ms);
                }
                renditions += 1;
                let f = out.width() as f32 / l.size.0 as f32;
                let faces: Vec<Box4> = l.faces.iter().map(|b| b.map(|v| v * f)).collect();
                for (i, (name, d)) in detectors.iter().enumerate() {
                    before[i] += detect(d, &plain)
                        .iter()
                        .filter(|d| faces.iter().any(|f| matches(f, d)))
                        .count();
                    let found = detect(d, &out);
                    let again = found
                        .iter()
                        .filter(|d| faces.iter().any(|f| matches(f, d)))
                        .count();
                    after[i][k] += again;
                    touching[i][k] += found
                        .iter()
                        .filter(|d| faces.iter().any(|f| overlaps(f, d)))
                        .count();
                    if again > 0 {
                        leaks.push(format!("{name}: {} at {w:?}", l.file));
                    }
                }
            }
        }
        for (i, (name, _)) in detectors.iter().enumerate() {
            println!(
                "| {name} | {renditions} | {} | {} / {} / {} | {} / {} / {} |",
                before[i],
                after[i][0],
                after[i][1],
                after[i][2],
                touching[i][0],
                touching[i][1],
                touching[i][2]
            );
        }
        println!();
        println!("found again: {leaks:?}");
        println!(
            "blurFaces render at the original size (decode, detection with an empty cache, blur, PNG encode): median {:.0} ms",
            median(blur_ms)
        );
    }

    if wanted("12mp") {
        // One detection for a 12 MP JPEG as a request pays it: `Server-Timing: faces` (the
        // proxy scaled from the picture the render decoded, both passes, NMS; empty cache) for
        // a request to 800 px wide (the render decodes at 1/4, 1000×750: shrink-on-load) and
        // at the original size (the render decodes all 12 MP); then the parts, and the
        // alternative of a second, DCT-scaled decode for the proxy.
        let scene = &uprights
            .iter()
            .find(|(l, _)| l.file.starts_with("scene_"))
            .unwrap()
            .1;
        let big = image::imageops::resize(scene, 4000, 3000, image::imageops::FilterType::Triangle);
        let big_rgb = image::DynamicImage::ImageRgba8(big).to_rgb8();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&big_rgb)
            .unwrap();
        let jpeg: bytes::Bytes = jpeg.into();
        let quarter = image::imageops::resize(&big_rgb, 1000, 750, image::imageops::FilterType::Triangle);
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        println!();
        println!(
            "12 MP JPEG (4000×3000, q90), median of {RUNS} (load {}):",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
        println!("| request | faces (Server-Timing) | decode | transform (faces + blur + resize) | encode | total wall |");
        println!("|---|---|---|---|---|---|");
        let mut per_detection = 0.0;
        for (name, edits) in [
            (
                "blurFaces, 800 px wide",
                json!({"resize": {"width": 800}, "blurFaces": true}),
            ),
            ("blurFaces, original size", json!({"blurFaces": true})),
            ("no faces, 800 px wide", json!({"resize": {"width": 800}})),
        ] {
            let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()];
            for _ in 0..RUNS {
                let fresh = Arc::new(FaceService::new(Ok(blaze.clone()), None, 1));
                let ((out, stats), wall, _) = timed(|| process_with(&fresh, &jpeg, edits.clone()));
                t[0].push(ms(stats.elapsed));
                t[1].push(ms(out.timings.decode));
                t[2].push(ms(out.timings.transform));
                t[3].push(ms(out.timings.encode));
                t[4].push(wall);
            }
            let [f, d, tr, e, w] = t.map(median);
            if per_detection == 0.0 {
                per_detection = f;
            }
            println!("| {name} | {f:.1} | {d:.1} | {tr:.1} | {e:.1} | {w:.1} |");
        }
        let mut parts = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..RUNS {
            let (p, w, _) = timed(|| quarter.proxy(proxy_size).unwrap());
            parts[0].push(w);
            parts[1].push(timed(|| big_rgb.proxy(proxy_size).unwrap()).1);
            parts[2].push(timed(|| blaze.detect(&p).unwrap()).1);
            parts[3].push(
                timed(|| {
                    let opts = pixfront_jpegscale::Options {
                        denom: 4,
                        threads: 1,
                        max_pixels: u64::MAX,
                    };
                    let mut out = vec![0u8; 1000 * 750 * 3];
                    pixfront_jpegscale::decode_scaled(&jpeg, &opts, &mut out, 3000).unwrap()
                })
                .1,
            );
        }
        let [q, full, net, scaled_decode] = parts.map(median);
        println!();
        println!("- proxy ({proxy_size} px) from the render's 1/4 decode (1000×750 RGB): {q:.1} ms; from the full 12 MP RGB picture: {full:.1} ms");
        println!("- both network passes and NMS on the proxy: {net:.1} ms");
        println!("- a second decode of the JPEG at 1/4 for the proxy (jpegscale, one thread): {scaled_decode:.1} ms");
        println!();
        println!("12 MP detection per request (proxy included, shrink-on-load decode reused): {per_detection:.1} ms");
    }
}
