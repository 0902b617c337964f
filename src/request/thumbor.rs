//! Thumbor paths → SIH edits (`thumbor-mapper.ts` `mapPathToEdits`). SIH does not parse Thumbor
//! positionally: it runs independent patterns over the whole path, and so do we.

use super::filters;
use crate::error::Error;
use serde_json::{json, Map, Value};
use std::sync::LazyLock;

static CROP: LazyLock<regex::Regex> =
    LazyLock::new(|| re(r"([0-9]{1,6})x([0-9]{1,6}):([0-9]{1,6})x([0-9]{1,6})"));
static SIZE: LazyLock<regex::Regex> = LazyLock::new(|| re(r"/([0-9]+)x([0-9]+)/"));

fn re(p: &str) -> regex::Regex {
    #[allow(clippy::expect_used)]
    regex::Regex::new(p).expect("static pattern")
}

/// True when SIH would read `path` as Thumbor: no extension at all, or one of the image
/// extensions (`matchThumbor2 || matchThumbor3`; `matchThumbor1` always matches).
pub fn is_thumbor(path: &str) -> bool {
    const LINE: [char; 4] = ['\n', '\r', '\u{2028}', '\u{2029}'];
    let no_ext = !path.contains(LINE)
        && match path.rfind('.') {
            Some(i) if i >= 1 => {
                let ext = &path[i + 1..];
                ext.is_empty() || ext.contains(['\\', '/'])
            }
            _ => true,
        };
    let lower = path.to_ascii_lowercase();
    let known = [".jpg", ".jpeg", ".webp", ".tiff", ".tif", ".svg", ".gif", ".avif"]
        .iter()
        .any(|e| lower.ends_with(e))
        || lower
            .strip_suffix(".png")
            .and_then(|p| p.chars().last())
            .is_some_and(|c| !LINE.contains(&c));
    no_ext || known
}

/// Maps a Thumbor path to SIH's edits object: `crop`, then `resize`, then the filters in
/// lexicographic order. Returns the edits and the filters that were not understood.
pub fn map_path(path: &str) -> Result<(Map<String, Value>, Vec<String>), Error> {
    let mut edits = Map::new();
    if let Some(c) = CROP.captures(path) {
        let n = |i: usize| c[i].parse::<i64>().unwrap_or(0);
        edits.insert(
            "crop".into(),
            json!({"left": n(1), "top": n(2), "width": n(3) - n(1), "height": n(4) - n(2)}),
        );
    }
    if let Some(c) = SIZE.captures(path) {
        // Digit runs too long for f64 precision still parse (to a huge number, rejected later).
        let n = |i: usize| c[i].parse::<f64>().unwrap_or(f64::MAX);
        let (w, h) = (n(1), n(2));
        let mut r = Map::new();
        if w == 0.0 || h == 0.0 {
            r.insert("fit".into(), json!("inside"));
        }
        let dim = |d: f64| if d == 0.0 { Value::Null } else { json!(d as u64) };
        r.insert("width".into(), dim(w));
        r.insert("height".into(), dim(h));
        edits.insert("resize".into(), Value::Object(r));
    }
    if path.contains("fit-in") {
        if let Value::Object(r) = edits.entry("resize").or_insert_with(|| json!({})) {
            r.insert("fit".into(), json!("inside"));
        }
    }
    let ext = path.rfind('.').map_or(path, |i| &path[i + 1..]);
    let mut ignored = Vec::new();
    for f in filters::extract(path) {
        if !filters::apply(&f, ext, &mut edits)? {
            ignored.push(f);
        }
    }
    Ok((edits, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        for (p, want) in [
            ("/image", true),
            ("/a/b/image", true),
            ("image.JPG", true),
            ("/x.", true),
            ("/a.bmp", false),
            ("/a.abc", false),
            ("/.png", true),
            (".png", true), // the first character is never checked by matchThumbor2
            ("/a.png", true),
            ("/dir.v2/image", true),
            ("/a.tif", true),
        ] {
            assert_eq!(is_thumbor(p), want, "{p}");
        }
    }
}
