//! Resize geometry against sharp itself: every row of tests/data/sharp_geometry.json (made by
//! scripts/sharp-geometry/run.sh) must give the same output size from `planned_size`, and, for
//! the small inputs, from a real resize.

use pixfront::config::Config;
use pixfront::edits::{Edit, Fit, Resize};
use pixfront::pipeline::ops::{apply, planned_size, OpContext};
use pixfront::pipeline::picture::Picture;
use pixfront::pipeline::Resources;
use serde_json::Value;

struct Row {
    input: (u32, u32),
    resize: Resize,
    out: Option<(u32, u32)>,
    text: String,
}

fn rows() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sharp_geometry.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dim = |v: &Value| -> Option<Option<u32>> { Some(v.as_u64().map(|n| n as u32)) };
    let pair = |v: &Value| (v[0].as_u64().unwrap() as u32, v[1].as_u64().unwrap() as u32);
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Row {
            input: pair(&r["in"]),
            resize: Resize {
                width: dim(&r["width"]),
                height: dim(&r["height"]),
                fit: Some(serde_json::from_value::<Fit>(r["fit"].clone()).unwrap()),
                without_enlargement: r["withoutEnlargement"].as_bool(),
                without_reduction: r["withoutReduction"].as_bool(),
                ..Resize::default()
            },
            out: r.get("out").map(pair),
            text: r.to_string(),
        })
        .collect()
}

#[test]
fn planned_size_equals_sharp_for_every_row() {
    let rows = rows();
    assert!(rows.len() > 5000, "table too small: {}", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let got = planned_size(&row.resize, row.input.0, row.input.1).ok();
        if got != row.out {
            failures.push(format!("{} → ours {:?}", row.text, got));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ, e.g.:\n{}",
        failures.len(),
        rows.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn real_resize_output_equals_sharp_for_small_inputs() {
    let config = Config::default();
    let resources = Resources::default();
    let mut checked = 0;
    for row in rows() {
        let Some(out) = row.out else { continue };
        let (w, h) = row.input;
        if w * h > 101 * 101 || out.0 as u64 * out.1 as u64 > 4_000 {
            continue;
        }
        let px = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x * 7) as u8, (y * 5) as u8, 90, 255]));
        let ctx = OpContext {
            resources: &resources,
            config: &config.pipeline,
            original_size: (w, h),
            first_resize_from: None,
        };
        let pic = apply(&Edit::Resize(row.resize.clone()), Picture::still(px, false), &ctx)
            .unwrap_or_else(|e| panic!("{}: {e}", row.text));
        assert_eq!((pic.width(), pic.height()), out, "{}", row.text);
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} rows resized");
}
