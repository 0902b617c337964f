//! Query parameters: decoding, and v7's mapping of `format, fit, width, height, rotate, flip,
//! flop, grayscale, greyscale` onto edits, plus pixfront's `quality`, `blurFaces` and `dpr`
//! (`preset` names presets: read in `request::parse`).

use super::jsnum;
use crate::error::Error;
use indexmap::IndexMap;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

/// Decoded query parameters in first-seen order; a repeated name keeps its first position and
/// its last value (as API Gateway's `queryStringParameters` object does). `+` is kept as `+`.
pub fn parse(raw: Option<&str>) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        out.insert(dec(k), dec(v));
    }
    out
}

fn parsing_error(message: String) -> Error {
    Error::bad_request("QueryParameterParsingError", message)
}

/// v7's `QueryParamMapper`: the edits the query asks for, in query order.
pub fn edits(params: &IndexMap<String, String>) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    let int = |k: &str, v: &str, zero_is_null: bool| -> Result<Value, Error> {
        if v.is_empty() || zero_is_null && v == "0" {
            return Ok(Value::Null);
        }
        jsnum::parse_int(v)
            .map(jsnum::value)
            .ok_or_else(|| parsing_error(format!("Query parameter {k}={v:?} is not a number")))
    };
    let boolean = |v: &str| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "");
    for (k, v) in params {
        let (key, value) = match k.as_str() {
            "format" => ("toFormat", json!(v)),
            "rotate" => ("rotate", int(k, v, false)?),
            // pixfront: `quality=70` or `quality=auto[:level]`, for whatever format is output.
            "quality" => ("quality", json!(v)),
            "flip" | "flop" => (k.as_str(), json!(boolean(v))),
            // pixfront: `dpr=2`, the pixel ratio multiplying the requested size.
            "dpr" => match jsnum::number(v) {
                Some(n) => ("dpr", jsnum::value(n)),
                None => {
                    return Err(parsing_error(format!(
                        "Query parameter dpr={v:?} is not a number"
                    )))
                }
            },
            "grayscale" | "greyscale" => ("greyscale", json!(boolean(v))),
            // pixfront: `blurFaces=true` (or `=pixelate`).
            "blurFaces" if v.eq_ignore_ascii_case("pixelate") => ("blurFaces", json!({"pixelate": true})),
            "blurFaces" => ("blurFaces", json!(boolean(v))),
            "fit" | "width" | "height" => {
                let value = if k == "fit" { json!(v) } else { int(k, v, true)? };
                if let Value::Object(r) = out.entry("resize").or_insert_with(|| json!({})) {
                    r.insert(k.clone(), value);
                }
                continue;
            }
            _ => continue,
        };
        out.insert(key.into(), value);
    }
    Ok(out)
}

/// `{...pathEdits, ...queryEdits}`: query keys replace whole path values in place; new ones
/// are appended.
pub fn merge(path_edits: &mut Map<String, Value>, query_edits: Map<String, Value>) {
    for (k, v) in query_edits {
        path_edits.insert(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_maps() {
        let p = parse(Some(
            "width=300&height=0&format=webp&x=1&grayscale=FALSE&flip=yes&rotate=&a%20b=c%2Bd+e",
        ));
        assert_eq!(p["a b"], "c+d+e");
        let e = edits(&p).unwrap();
        assert_eq!(
            Value::Object(e),
            json!({"resize": {"width": 300, "height": null}, "toFormat": "webp", "greyscale": false,
                   "flip": true, "rotate": null})
        );
        let err = edits(&parse(Some("width=abc"))).unwrap_err();
        assert_eq!(
            (err.status, err.code.as_ref()),
            (400, "QueryParameterParsingError")
        );
    }

    #[test]
    fn shallow_merge_replaces_whole_values() {
        let mut path = json!({"resize": {"width": 100, "height": 100, "fit": "inside"}, "grayscale": true})
            .as_object()
            .unwrap()
            .clone();
        merge(&mut path, edits(&parse(Some("width=50&flip=1"))).unwrap());
        assert_eq!(
            serde_json::to_string(&path).unwrap(),
            r#"{"resize":{"width":50},"grayscale":true,"flip":true}"#
        );
    }
}
