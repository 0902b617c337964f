//! Presets: named edit sets an operator defines once (`PIXFRONT_PRESETS`, a file path or inline
//! JSON starting with `{`) and URLs name instead of spelling edits out:
//!
//! ```json
//! {"presets": {"thumb": {"edits": {"resize": {"width": 300, "height": 300, "fit": "cover"}},
//!                        "outputFormat": "webp"},
//!              "grey":  {"edits": {"greyscale": true}}}}
//! ```
//!
//! Each preset uses the renditions document's vocabulary: `edits` (the canonical JSON edits,
//! checked at start: an unknown edit name or a bad argument refuses the whole document) and an
//! optional `outputFormat` (a `toFormat` edit appended to its edits). URLs name presets with
//! `filters:preset(a,b)` (Thumbor/Custom), `?preset=a,b` (any dialect) or `"preset": "a"` /
//! `["a","b"]` (base64 JSON).
//!
//! Combination rule ([`Presets::resolve`]): presets merge left to right, then the URL's own edits
//! on top. Merging is per edit key: a later non-object value replaces the earlier one; two
//! object values (`resize`, `jpeg`, …) merge field by field, the later field winning. So
//! `preset(thumb)` with `?width=200` keeps `thumb`'s height and fit and takes width 200.

use crate::edits::{Edits, Format};
use crate::error::Error;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The validated presets document; cheap to clone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Presets(Arc<IndexMap<String, Map<String, Value>>>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    presets: IndexMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPreset {
    #[serde(default)]
    edits: Map<String, Value>,
    output_format: Option<String>,
}

/// 400 for a name the document does not define (stable code `Preset::Unknown`).
pub fn unknown(name: &str) -> Error {
    Error::bad_request("Preset::Unknown", format!("There is no preset named {name:?}."))
}

impl Presets {
    /// Reads `PIXFRONT_PRESETS`' value: inline JSON when it starts with `{`, else a file.
    pub fn load(value: &str) -> Result<Presets, String> {
        let value = value.trim();
        let text = if value.starts_with('{') {
            value.to_string()
        } else {
            std::fs::read_to_string(value)
                .map_err(|e| format!("PIXFRONT_PRESETS: cannot read {value}: {e}"))?
        };
        Presets::parse(&text).map_err(|e| format!("PIXFRONT_PRESETS: {e}"))
    }

    /// Parses and checks a document; the error lists every problem found.
    pub fn parse(json: &str) -> Result<Presets, String> {
        let doc: Document = serde_json::from_str(json).map_err(|e| format!("not a presets document: {e}"))?;
        let mut problems = Vec::new();
        if doc.presets.is_empty() {
            problems.push("presets: at least one is needed".to_string());
        }
        let mut out = IndexMap::new();
        for (name, raw) in doc.presets {
            let at = format!("presets.{name}");
            if !valid_name(&name) {
                problems.push(format!(
                    "{at}: a name is letters, digits, `_` and `-` (it goes in URLs)"
                ));
                continue;
            }
            let raw: RawPreset = match serde_json::from_value(raw) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let mut edits = raw.edits;
            if let Some(f) = raw.output_format {
                match Format::parse(&f) {
                    Some(format) => {
                        edits.insert("toFormat".into(), Value::from(format.name()));
                    }
                    None => problems.push(format!("{at}: outputFormat {f:?} is not a format pixfront knows")),
                }
            }
            match Edits::from_json(&edits) {
                Ok((_, unknown)) if !unknown.is_empty() => {
                    problems.push(format!("{at}: unknown edit(s) {}", unknown.join(", ")))
                }
                Ok(_) => {
                    out.insert(name, edits);
                }
                Err(e) => problems.push(format!("{at}: edits: {}", e.message)),
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Presets(Arc::new(out)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The edits of `names` merged left to right, then `url_edits` merged on top (the module's
    /// rule). An unknown name is a 400.
    pub fn resolve(
        &self,
        names: &[String],
        url_edits: Map<String, Value>,
    ) -> Result<Map<String, Value>, Error> {
        let mut out = Map::new();
        for name in names {
            let preset = self.0.get(name).ok_or_else(|| unknown(name))?;
            merge(&mut out, preset.clone());
        }
        merge(&mut out, url_edits);
        Ok(out)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Per key: objects merge field by field, anything else replaces; new keys are appended.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Splits a list of names (`a,b`, blanks dropped) onto `out`.
pub fn push_names(list: &str, out: &mut Vec<String>) {
    out.extend(
        list.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOC: &str = r#"{"presets": {
        "thumb": {"edits": {"resize": {"width": 300, "height": 200, "fit": "cover"}}, "outputFormat": "webp"},
        "grey": {"edits": {"greyscale": true, "resize": {"fit": "inside"}}}}}"#;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn combine_left_to_right_then_url_on_top() {
        let p = Presets::parse(DOC).unwrap();
        let names = vec!["thumb".to_string(), "grey".to_string()];
        let got = p
            .resolve(&names, obj(json!({"resize": {"width": 100}, "flip": true})))
            .unwrap();
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            r#"{"resize":{"width":100,"height":200,"fit":"inside"},"toFormat":"webp","greyscale":true,"flip":true}"#
        );
        let err = p.resolve(&["nope".to_string()], Map::new()).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (400, "Preset::Unknown"));
    }

    #[test]
    fn a_bad_document_lists_every_problem() {
        let err = Presets::parse(
            r#"{"presets": {"a b": {}, "x": {"edits": {"frobnicate": 1}}, "y": {"edits": {"tint": "no"}},
                "z": {"outputFormat": "bmp"}, "w": {"key": "k"}}}"#,
        )
        .unwrap_err();
        for part in [
            "presets.a b",
            "presets.x: unknown edit(s) frobnicate",
            "presets.y: edits",
            "presets.z",
            "presets.w",
        ] {
            assert!(err.contains(part), "{part} in {err}");
        }
        assert!(Presets::parse(r#"{"presets": {}}"#)
            .unwrap_err()
            .contains("at least one"));
        assert!(Presets::parse("[1]")
            .unwrap_err()
            .contains("not a presets document"));
        assert!(Presets::load("/nonexistent/presets.json")
            .unwrap_err()
            .starts_with("PIXFRONT_PRESETS: cannot read"));
    }

    #[test]
    fn names() {
        let mut out = Vec::new();
        push_names(" a, ,b-2,", &mut out);
        assert_eq!(out, ["a", "b-2"]);
    }
}
