//! Butteraugli distances of sharp's quality ladder (ladder.js's rows.json): one TSV line per
//! output, `image format quality bytes max-norm 3-norm`. See README.md.

use butteraugli::{ButteraugliParams, ButteraugliReference};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn main() {
    let path = std::env::args().nth(1).expect("usage: bench-bytes-butteraugli <rows.json>");
    let rows: Vec<Value> = serde_json::from_slice(&std::fs::read(path).expect("rows.json")).expect("JSON");
    let mut by_ref: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for r in &rows {
        by_ref.entry(r["ref"].as_str().expect("ref")).or_default().push(r);
    }
    let lines: Vec<String> = by_ref
        .par_iter()
        .flat_map(|(reference, rows)| {
            let img = image::open(reference).expect("reference").into_rgb8();
            let (w, h) = img.dimensions();
            // Prepared once per image, compared with each of its outputs.
            let prepared =
                ButteraugliReference::new(img.as_raw(), w as usize, h as usize, ButteraugliParams::default())
                    .expect("butteraugli reference");
            rows.iter()
                .map(|r| {
                    let out = image::open(r["dist"].as_str().expect("dist")).expect("output").into_rgb8();
                    let d = prepared.compare(out.as_raw()).expect("butteraugli");
                    format!(
                        "{}\t{}\t{}\t{}\t{:.4}\t{:.4}",
                        r["image"].as_str().unwrap(),
                        r["format"].as_str().unwrap(),
                        r["quality"],
                        r["bytes"],
                        d.score,
                        d.pnorm_3
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for l in lines {
        println!("{l}");
    }
}
