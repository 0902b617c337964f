//! Thumbor filters → SIH edits (`thumbor-mapper.ts` `mapFilter`). Each filter mutates the JSON
//! edits object the way SIH does; unknown filters are reported, not applied.

use super::jsnum::{self, value as number};
use crate::edits::Color;
use crate::error::Error;
use serde_json::{json, Map, Value};

/// The filters of a path as SIH finds them: every match of `filters(:[^)]*\))+`, split on `:`,
/// each re-prefixed `filters:`, sorted (JavaScript sorts by UTF-16 code units).
pub fn extract(path: &str) -> Vec<String> {
    let mut out = in_path_order(path);
    out.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    out
}

fn in_path_order(path: &str) -> Vec<String> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        #[allow(clippy::expect_used)]
        regex::Regex::new(r"filters(?::[^)]*\))+").expect("static pattern")
    });
    RE.find_iter(path)
        .flat_map(|m| m.as_str().split(':').skip(1).map(|f| format!("filters:{f}")))
        .collect()
}

/// The names of `filters:preset(a,b)` filters in path order (presets combine left to right,
/// so they cannot follow the sorted order the other filters are applied in).
pub fn preset_names(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    for f in in_path_order(path) {
        if let Some(("preset", list)) = split(&f) {
            super::presets::push_names(list, &mut names);
        }
    }
    names
}

/// Splits `filters:name(args)` like SIH's `/:(.+)\((.*)\)/`: the name runs to the last `(`
/// that has a `)` after it, the arguments to the last `)`.
fn split(expr: &str) -> Option<(&str, &str)> {
    let rest = expr.strip_prefix("filters:")?;
    let close = rest.rfind(')')?;
    let open = rest[..close].rfind('(')?;
    let (name, args) = (&rest[..open], &rest[open + 1..close]);
    let line_break = |s: &str| s.contains(['\n', '\r', '\u{2028}', '\u{2029}']);
    (open > 0 && !line_break(name) && !line_break(args)).then_some((name, args))
}

/// Applies one filter expression to `edits`. Returns `false` when SIH would not apply it
/// (unknown name, or an expression its regex does not match).
pub fn apply(expr: &str, file_ext: &str, edits: &mut Map<String, Value>) -> Result<bool, Error> {
    let Some((name, v)) = split(expr) else {
        return Ok(false);
    };
    let num = |s: &str| {
        jsnum::number(s).ok_or_else(|| Error::invalid_edit(name, format_args!("{s:?} is not a number")))
    };
    match name {
        "autojpg" => {
            edits.insert("toFormat".into(), json!("jpeg"));
        }
        "background_color" => {
            edits.insert("flatten".into(), json!({ "background": color(name, v)? }));
        }
        "blur" => {
            let mut parts = v.split(',');
            let radius = parts.next().unwrap_or("");
            let sigma = parts.next().filter(|s| !s.is_empty()).and_then(jsnum::number);
            let sigma = match sigma {
                Some(s) => s,
                None if radius.is_empty() => return Err(Error::invalid_edit(name, "missing radius")),
                None => num(radius)? / 2.0,
            };
            edits.insert("blur".into(), number(sigma));
        }
        "convolution" => {
            let mut parts = v.split(',');
            let kernel = parts
                .next()
                .unwrap_or("")
                .split(';')
                .map(num)
                .collect::<Result<Vec<_>, _>>()?;
            let width = num(parts
                .next()
                .ok_or_else(|| Error::invalid_edit(name, "missing width"))?)?;
            if width < 1.0 || width.fract() != 0.0 {
                return Err(Error::invalid_edit(name, "width must be a positive integer"));
            }
            let height = (kernel.len() as f64 / width).ceil();
            let kernel: Vec<Value> = kernel.into_iter().map(number).collect();
            edits.insert(
                "convolve".into(),
                json!({"width": number(width), "height": number(height), "kernel": kernel}),
            );
        }
        // pixfront: `dpr(2)`, the pixel ratio multiplying the requested size (src/edits/dpr.rs).
        "dpr" => {
            edits.insert("dpr".into(), number(num(v)?));
        }
        // pixfront: read by `preset_names`; known here so it is not reported as ignored.
        "preset" => {}
        "equalize" => {
            edits.insert("normalize".into(), json!(true));
        }
        "fill" => {
            let c = color(name, v)?;
            let r = resize(edits);
            r.insert("fit".into(), json!("contain"));
            r.insert("background".into(), c);
        }
        "format" => {
            let cleaned: String = v.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            let f = replace_first_jpg(&cleaned);
            const ACCEPTED: [&str; 9] = [
                "heic", "heif", "jpeg", "png", "raw", "tiff", "webp", "gif", "avif",
            ];
            if ACCEPTED.contains(&f.as_str()) {
                edits.insert("toFormat".into(), Value::String(f));
            }
        }
        "grayscale" => {
            edits.insert("grayscale".into(), json!(true));
        }
        "no_upscale" => {
            resize(edits).insert("withoutEnlargement".into(), json!(true));
        }
        "proportion" => {
            let ratio = num(v)?;
            let r = resize(edits);
            let dim = |k: &str| r.get(k).and_then(Value::as_f64).filter(|d| *d != 0.0);
            match (dim("width"), dim("height")) {
                (Some(w), Some(h)) => {
                    r.insert("width".into(), number(w * ratio));
                    r.insert("height".into(), number(h * ratio));
                }
                _ => {
                    r.insert("ratio".into(), number(ratio));
                }
            }
        }
        "quality" => {
            // pixfront: `quality(auto)`, `quality(auto:eco)`.
            let q = match crate::edits::Quality::parse_auto(v) {
                Some(auto) => json!(auto
                    .map_err(|e| Error::invalid_edit("quality", e))?
                    .to_json_string()),
                None => number(num(v)?),
            };
            fn supported(f: &str) -> Option<&'static str> {
                const KEYS: [&str; 6] = ["png", "webp", "tiff", "heif", "gif", "avif"];
                match f {
                    "jpg" | "jpeg" => Some("jpeg"),
                    _ => KEYS.iter().find(|k| **k == f).copied(),
                }
            }
            let to_format = edits.get("toFormat").and_then(Value::as_str).unwrap_or("");
            if let Some(target) = supported(file_ext).or(supported(to_format)) {
                edits.insert(target.to_string(), json!({ "quality": q }));
            }
        }
        "rgb" => {
            let pct = v.split(',').map(num).collect::<Result<Vec<_>, _>>()?;
            let [r, g, b] = pct[..] else {
                return Err(Error::invalid_edit(name, "expected three percentages"));
            };
            let ch = |p: f64| number(255.0 * (p / 100.0));
            edits.insert("tint".into(), json!({"r": ch(r), "g": ch(g), "b": ch(b)}));
        }
        "rotate" => {
            edits.insert("rotate".into(), number(num(v)?));
        }
        "sharpen" => {
            let radius = v
                .split(',')
                .nth(1)
                .ok_or_else(|| Error::invalid_edit(name, "missing radius"))?;
            edits.insert("sharpen".into(), number(1.0 + num(radius)? / 2.0));
        }
        "stretch" => {
            let r = resize(edits);
            if r.get("fit").and_then(Value::as_str) != Some("inside") {
                r.insert("fit".into(), json!("fill"));
            }
        }
        "strip_exif" | "strip_icc" => {
            edits.insert("rotate".into(), Value::Null);
        }
        "upscale" => {
            resize(edits).insert("fit".into(), json!("inside"));
        }
        "watermark" => {
            let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            let parts: Vec<&str> = compact.split(',').collect();
            let arg = |i: usize| parts.get(i).map(|s| Value::String(s.to_string()));
            let mut overlay = Map::new();
            for (i, k) in [
                (0, "bucket"),
                (1, "key"),
                (4, "alpha"),
                (5, "wRatio"),
                (6, "hRatio"),
            ] {
                if let Some(a) = arg(i) {
                    overlay.insert(k.into(), a);
                }
            }
            let mut options = Map::new();
            for (i, k) in [(2, "left"), (3, "top")] {
                if let Some(p) = parts.get(i).filter(|p| position_ok(p)) {
                    options.insert(k.into(), Value::String(p.to_string()));
                }
            }
            overlay.insert("options".into(), Value::Object(options));
            edits.insert("overlayWith".into(), Value::Object(overlay));
        }
        "animated" => {
            edits.insert("animated".into(), json!(v.to_lowercase() != "false"));
        }
        // pixfront: `blur_faces()`, `blur_faces(pixelate)`.
        "blur_faces" => {
            let value = match v.trim() {
                "" | "true" => json!(true),
                "pixelate" => json!({"pixelate": true}),
                other => {
                    return Err(Error::invalid_edit(
                        name,
                        format_args!("{other:?}: expected no argument or `pixelate`"),
                    ))
                }
            };
            edits.insert("blurFaces".into(), value);
        }
        // pixfront: `text(base64url text,left,top,size,color,alpha)`, the `textOverlay` edit.
        // The text is base64url (as imgproxy's `watermark_text`): Thumbor's filter syntax
        // cannot carry `,`, `:` or `)`. Empty arguments are left to the edit's defaults.
        "text" => {
            use base64::Engine;
            let parts: Vec<&str> = v.split(',').map(str::trim).collect();
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::URL_SAFE,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            let text = engine
                .decode(parts[0])
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| Error::invalid_edit(name, "the text must be base64url of UTF-8"))?;
            let mut t = Map::new();
            t.insert("text".into(), Value::String(text));
            for (i, k) in [(1, "left"), (2, "top"), (3, "size"), (5, "alpha")] {
                if let Some(a) = parts.get(i).filter(|a| !a.is_empty()) {
                    t.insert(k.into(), Value::String(a.to_string()));
                }
            }
            if let Some(c) = parts.get(4).filter(|c| !c.is_empty()) {
                t.insert("color".into(), color(name, c)?);
            }
            edits.insert("textOverlay".into(), Value::Object(t));
        }
        // v7: `smart_crop(faceIndex,padding)`.
        "smart_crop" => {
            let mut parts = v.split(',');
            let mut sc = Map::new();
            for k in ["faceIndex", "padding"] {
                if let Some(p) = parts.next().filter(|p| !p.is_empty()) {
                    let n = jsnum::parse_int(p)
                        .ok_or_else(|| Error::invalid_edit(name, format_args!("{p:?} is not a number")))?;
                    sc.insert(k.into(), number(n));
                }
            }
            edits.insert("smartCrop".into(), Value::Object(sc));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Watermark x/y: `Np` percentages in -100..=100, or anything `Number()` accepts.
fn position_ok(p: &str) -> bool {
    let pct = p.strip_suffix('p').is_some_and(|n| {
        let digits = n.strip_prefix('-').unwrap_or(n);
        !digits.is_empty()
            && digits.len() <= 3
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits.len() == 1 || !digits.starts_with('0'))
            && digits.parse::<u32>().is_ok_and(|v| v <= 100)
            && !(n.starts_with('-') && digits == "0")
    });
    pct || jsnum::number(p).is_some()
}

/// `"jpg"` → `"jpeg"` on the first case-insensitive occurrence, as `replace(/jpg/i, "jpeg")`.
fn replace_first_jpg(s: &str) -> String {
    match s.to_ascii_lowercase().find("jpg") {
        Some(i) => format!("{}jpeg{}", &s[..i], &s[i + 3..]),
        None => s.to_string(),
    }
}

/// `Color(c).object()` for SIH's `fill`/`background_color`: a CSS colour name, else hex digits
/// without `#`. SIH answers an unparsable colour with 500; we answer 400.
fn color(filter: &str, v: &str) -> Result<Value, Error> {
    let hex = |s: &str| u8::from_str_radix(s, 16).ok().map(f64::from);
    let bad = || Error::invalid_edit(filter, format_args!("unparsable colour {v:?}"));
    let c = if v.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(v.len(), 3 | 4 | 6 | 8) {
        let full: String = if v.len() <= 4 {
            v.chars().flat_map(|c| [c, c]).collect()
        } else {
            v.to_string()
        };
        let ch = |i: usize| hex(&full[i..i + 2]).ok_or_else(bad);
        Color {
            r: ch(0)?,
            g: ch(2)?,
            b: ch(4)?,
            alpha: if full.len() == 8 { ch(6)? / 255.0 } else { 1.0 },
        }
    } else if !v.is_empty() && v.bytes().all(|b| b.is_ascii_lowercase()) {
        Color::parse_css(v).ok_or_else(bad)?
    } else {
        return Err(bad());
    };
    serde_json::to_value(c).map_err(|_| bad())
}

/// `edits.resize`, created (appended) when absent.
fn resize(edits: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let slot = edits.entry("resize").or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}
