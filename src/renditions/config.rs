//! The renditions document (`PIXFRONT_RENDITIONS`: a file path, or inline JSON starting with `{`):
//!
//! ```json
//! {"destinationBucket": "thumbs", "sourcePrefix": "uploads/", "cacheControl": "max-age=86400",
//!  "renditions": [{"name": "thumb", "edits": {"resize": {"width": 300, "height": 300, "fit": "cover"}},
//!                  "outputFormat": "webp", "key": "{dir}/thumb/{stem}.webp"}]}
//! ```
//!
//! Every mistake is found at start, all of them at once, with the rendition it concerns: the
//! same rules as the CDK's `cdk/lib/renditions.ts`, plus the edits themselves (parsed with the
//! canonical vocabulary; an unknown edit name is refused here, where SIH would ignore it).

use crate::edits::{Edit, Edits, Format};
use crate::error::Error;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Cache-Control written with every rendition unless the document says otherwise (SIH's default
/// for answers).
pub const DEFAULT_CACHE_CONTROL: &str = "max-age=31536000,public";

/// Output formats a rendition may ask for (the encoders pixfront has).
const FORMATS: [Format; 7] = [
    Format::Jpeg,
    Format::Png,
    Format::Webp,
    Format::Avif,
    Format::Gif,
    Format::Tiff,
    Format::Heif,
];

/// A validated renditions document.
#[derive(Debug, Clone)]
pub struct Renditions {
    /// Where the upload pipeline writes (batch mode writes to its folder instead).
    pub destination_bucket: Option<String>,
    /// Only source keys starting with this are rendered (`""`: every key). With it, the
    /// destination may be the source bucket when no rendition key can start with it.
    pub source_prefix: String,
    pub cache_control: String,
    pub renditions: Vec<Rendition>,
}

#[derive(Debug, Clone)]
pub struct Rendition {
    pub name: String,
    pub edits: Edits,
    pub output_format: Option<Format>,
    pub key: KeyTemplate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Document {
    destination_bucket: Option<String>,
    #[serde(default)]
    source_prefix: String,
    cache_control: Option<String>,
    renditions: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRendition {
    name: String,
    #[serde(default)]
    edits: Map<String, Value>,
    output_format: Option<String>,
    key: String,
}

impl Renditions {
    /// Reads `PIXFRONT_RENDITIONS`' value: inline JSON when it starts with `{`, else a file.
    pub fn load(value: &str) -> Result<Renditions, String> {
        let value = value.trim();
        let text = if value.starts_with('{') {
            value.to_string()
        } else {
            std::fs::read_to_string(value)
                .map_err(|e| format!("PIXFRONT_RENDITIONS: cannot read {value}: {e}"))?
        };
        Renditions::parse(&text).map_err(|e| format!("PIXFRONT_RENDITIONS: {e}"))
    }

    /// Parses and checks a document; the error lists every problem found.
    pub fn parse(json: &str) -> Result<Renditions, String> {
        let doc: Document =
            serde_json::from_str(json).map_err(|e| format!("not a renditions document: {e}"))?;
        let mut problems = Vec::new();
        if doc.renditions.is_empty() {
            problems.push("renditions: at least one is needed".to_string());
        }
        if doc
            .destination_bucket
            .as_deref()
            .is_some_and(|b| b.trim().is_empty())
        {
            problems.push("destinationBucket is empty".to_string());
        }
        if doc.source_prefix.starts_with('/') {
            problems.push(format!(
                "sourcePrefix {:?} starts with \"/\" (S3 keys have no leading slash)",
                doc.source_prefix
            ));
        }
        let mut renditions: Vec<Rendition> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        // Resolved templates ({name} filled in) → rendition, to find two writing the same keys.
        let mut keys: Vec<(String, String)> = Vec::new();
        for (i, raw) in doc.renditions.into_iter().enumerate() {
            let name_hint = raw.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let at = if name_hint.is_empty() {
                format!("renditions[{i}]")
            } else {
                format!("renditions[{i}] ({name_hint})")
            };
            let raw: RawRendition = match serde_json::from_value(raw) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let before = problems.len();
            if raw.name.trim().is_empty() || raw.name.contains('/') {
                problems.push(format!("{at}: name must be a non-empty string without \"/\""));
            } else if names.contains(&raw.name) {
                problems.push(format!("{at}: name {:?} is used twice", raw.name));
            }
            names.push(raw.name.clone());
            let edits = match Edits::from_json(&raw.edits) {
                Ok((_, unknown)) if !unknown.is_empty() => {
                    problems.push(format!("{at}: unknown edit(s) {}", unknown.join(", ")));
                    None
                }
                Ok((edits, _)) => Some(edits),
                Err(e) => {
                    problems.push(format!("{at}: edits: {}", e.message));
                    None
                }
            };
            let output_format = match raw.output_format.as_deref() {
                None => None,
                Some(f) => match Format::parse(f).filter(|f| FORMATS.contains(f)) {
                    Some(f) => Some(f),
                    None => {
                        problems.push(format!(
                            "{at}: outputFormat {f:?} is not one of jpeg, jpg, png, webp, avif, gif, tiff, tif, heif"
                        ));
                        None
                    }
                },
            };
            let key = match KeyTemplate::parse(&raw.key) {
                Ok(k) => Some(k),
                Err(e) => {
                    problems.push(format!("{at}: {e}"));
                    None
                }
            };
            if let Some(k) = &key {
                let resolved = raw.key.replace("{name}", &raw.name);
                match keys.iter().find(|(r, _)| *r == resolved) {
                    Some((_, other)) => problems.push(format!(
                        "{at}: key {:?} is also {other}'s: they would overwrite each other",
                        k.as_str()
                    )),
                    None => keys.push((resolved, raw.name.clone())),
                }
            }
            if let (true, Some(edits), Some(key)) = (problems.len() == before, edits, key) {
                renditions.push(Rendition {
                    name: raw.name,
                    edits,
                    output_format,
                    key,
                });
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Renditions {
            destination_bucket: doc.destination_bucket.map(|b| b.trim().to_string()),
            source_prefix: doc.source_prefix,
            cache_control: doc
                .cache_control
                .filter(|c| !c.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_CACHE_CONTROL.to_string()),
            renditions,
        })
    }

    /// True when no key a rendition writes can start with `source_prefix`: renditions written
    /// into the source bucket can then never be uploads again.
    pub fn prefixes_separate(&self) -> bool {
        let prefix = self.source_prefix.as_str();
        !prefix.is_empty()
            && self.renditions.iter().all(|r| {
                let literal = r.key.literal_prefix();
                !literal.starts_with(prefix) && !prefix.starts_with(literal)
            })
    }

    /// (bucket, key) of every `overlayWith` image, once each.
    pub fn overlay_refs(&self) -> Vec<(String, String)> {
        let mut refs: Vec<(String, String)> = Vec::new();
        for r in &self.renditions {
            for e in r.edits.iter() {
                if let Edit::OverlayWith(o) = e {
                    let pair = (o.bucket.clone(), o.key.clone());
                    if !refs.contains(&pair) {
                        refs.push(pair);
                    }
                }
            }
        }
        refs
    }

    /// Checks against `SOURCE_BUCKETS` (the buckets the function may read): every overlay bucket
    /// is listed, and the destination is not a bucket uploads come from unless
    /// [`Renditions::prefixes_separate`] (else each rendition would be rendered again, forever).
    pub fn check_buckets(&self, allowed: &[String]) -> Result<(), String> {
        let mut overlay_buckets: Vec<String> = Vec::new();
        for (bucket, _) in self.overlay_refs() {
            if !overlay_buckets.contains(&bucket) {
                overlay_buckets.push(bucket);
            }
        }
        let mut problems = Vec::new();
        for b in &overlay_buckets {
            if !allowed.iter().any(|a| a == b) {
                problems.push(format!(
                    "overlayWith bucket {b:?} is not in SOURCE_BUCKETS ({})",
                    allowed.join(",")
                ));
            }
        }
        if let Some(dest) = &self.destination_bucket {
            // A bucket listed only for its overlays is not one uploads come from.
            let upload_source = allowed.iter().any(|a| a == dest) && !overlay_buckets.contains(dest);
            if upload_source && !self.prefixes_separate() {
                problems.push(format!(
                    "destinationBucket {dest:?} is also a source bucket (SOURCE_BUCKETS): renditions would be \
                     rendered again, forever. Use another destination, or a sourcePrefix no rendition key \
                     can start with{}",
                    if self.source_prefix.is_empty() {
                        String::new()
                    } else {
                        format!(" (with {:?}, a key template can)", self.source_prefix)
                    }
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("PIXFRONT_RENDITIONS: {}", problems.join("; ")))
        }
    }
}

/// A destination key template: literal text and `{dir}`, `{stem}`, `{ext}`, `{key}`, `{name}`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyTemplate {
    raw: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Dir,
    Stem,
    Ext,
    Key,
    Name,
}

impl KeyTemplate {
    /// Parses a template. A `{` without a closing `}` is literal text (as in the CDK's check).
    pub fn parse(template: &str) -> Result<KeyTemplate, String> {
        if template.trim().is_empty() {
            return Err("key (the destination key template) is required".into());
        }
        if template.starts_with('/') {
            return Err(format!(
                "key {template:?} starts with \"/\" (S3 keys have no leading slash)"
            ));
        }
        let mut parts = Vec::new();
        let mut unknown = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(len) = rest[open..].find('}') else {
                break;
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let name = &rest[open + 1..open + len];
            parts.push(match name {
                "dir" => Part::Dir,
                "stem" => Part::Stem,
                "ext" => Part::Ext,
                "key" => Part::Key,
                "name" => Part::Name,
                other => {
                    unknown.push(format!("{{{other}}}"));
                    Part::Literal(String::new())
                }
            });
            rest = &rest[open + len + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        if !unknown.is_empty() {
            return Err(format!(
                "key {template:?} has unknown placeholder(s) {} (known: {{dir}}, {{stem}}, {{ext}}, {{key}}, {{name}})",
                unknown.join(", ")
            ));
        }
        if !parts.iter().any(|p| matches!(p, Part::Key | Part::Stem)) {
            return Err(format!(
                "key {template:?} has neither {{key}} nor {{stem}}: every upload would write the same object"
            ));
        }
        Ok(KeyTemplate {
            raw: template.to_string(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The text before the first placeholder: every key written starts with it.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(s)) => s,
            _ => "",
        }
    }

    /// The destination key for `source_key` (`photos/2024/cat.jpg`: dir `photos/2024`, stem
    /// `cat`, ext `jpg`). Runs of `/` are collapsed and leading ones dropped, so `{dir}/x` of a
    /// key at the top level is `x`, not `/x`.
    pub fn resolve(&self, source_key: &str, rendition: &str) -> Result<String, Error> {
        let (dir, file) = source_key.rsplit_once('/').unwrap_or(("", source_key));
        // `.profile` has no extension; `a.tar.gz` has stem `a.tar`.
        let (stem, ext) = match file.rfind('.') {
            Some(i) if i > 0 => (&file[..i], &file[i + 1..]),
            _ => (file, ""),
        };
        let mut out = String::with_capacity(self.raw.len() + source_key.len());
        for part in &self.parts {
            out.push_str(match part {
                Part::Literal(s) => s,
                Part::Dir => dir,
                Part::Stem => stem,
                Part::Ext => ext,
                Part::Key => source_key,
                Part::Name => rendition,
            });
        }
        let mut key = String::with_capacity(out.len());
        for c in out.chars() {
            if !(c == '/' && (key.is_empty() || key.ends_with('/'))) {
                key.push(c);
            }
        }
        if key.is_empty() || key.ends_with('/') {
            return Err(Error::bad_request(
                "Renditions::InvalidKey",
                format!(
                    "The key template {:?} gives {out:?} for {source_key:?}.",
                    self.raw
                ),
            ));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"destinationBucket": "thumbs", "renditions": [
        {"name": "thumb", "edits": {"resize": {"width": 300, "height": 300, "fit": "cover"}},
         "outputFormat": "webp", "key": "{dir}/thumb/{stem}.webp"},
        {"name": "cover", "edits": {"resize": {"width": 800, "height": 800, "fit": "inside"}},
         "outputFormat": "jpg", "key": "{dir}/{name}/{stem}.{ext}"}]}"#;

    #[test]
    fn parses_the_documented_shape() {
        let r = Renditions::parse(DOC).unwrap();
        assert_eq!(r.destination_bucket.as_deref(), Some("thumbs"));
        assert_eq!(r.cache_control, DEFAULT_CACHE_CONTROL);
        assert_eq!(r.renditions.len(), 2);
        assert_eq!(r.renditions[0].output_format, Some(Format::Webp));
        assert_eq!(r.renditions[1].output_format, Some(Format::Jpeg));
        assert!(matches!(r.renditions[0].edits.entries[0].1, Edit::Resize(_)));
    }

    #[test]
    fn the_cdk_example_is_a_valid_document() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/cdk/renditions.example.json");
        let r = Renditions::load(path).unwrap();
        assert!(!r.renditions.is_empty());
        assert!(r.destination_bucket.is_some());
    }

    #[test]
    fn keys_from_templates() {
        let t = KeyTemplate::parse("{dir}/thumb/{stem}.webp").unwrap();
        assert_eq!(
            t.resolve("photos/2024/cat.jpg", "t").unwrap(),
            "photos/2024/thumb/cat.webp"
        );
        assert_eq!(t.resolve("cat.jpg", "t").unwrap(), "thumb/cat.webp");
        assert_eq!(
            t.resolve("my photos/été+1.JPG", "t").unwrap(),
            "my photos/thumb/été+1.webp"
        );
        let t = KeyTemplate::parse("r/{name}/{key}.{ext}").unwrap();
        assert_eq!(t.resolve("a/b.tar.gz", "big").unwrap(), "r/big/a/b.tar.gz.gz");
        assert_eq!(t.resolve("a/.profile", "x").unwrap(), "r/x/a/.profile.");
        assert_eq!(t.literal_prefix(), "r/");
        assert_eq!(KeyTemplate::parse("{stem}").unwrap().literal_prefix(), "");
        // An unclosed brace is text; a brace is closed by the next `}` (as the CDK reads it).
        let t = KeyTemplate::parse("{stem}.x{").unwrap();
        assert_eq!(t.resolve("a/b.png", "n").unwrap(), "b.x{");
        assert!(KeyTemplate::parse("x{/{stem}").unwrap_err().contains("{/{stem}"));
    }

    #[test]
    fn every_problem_is_reported_with_its_rendition() {
        let bad = r#"{"renditions": [
            {"name": "a", "edits": {"resize": {"width": 10}, "sepia": true}, "key": "{key}.png"},
            {"name": "a", "key": "{dir}/{stem}.png"},
            {"name": "b", "outputFormat": "raw", "key": "{stem}.{size}"},
            {"name": "c", "key": "/fixed.png"},
            {"name": "d", "key": "all.png"},
            {"name": "e", "edits": {"resize": {"width": -1}}, "key": "{key}.png"},
            {"name": "f", "key": "{dir}/{stem}.png"}]}"#;
        let err = Renditions::parse(bad).unwrap_err();
        for needle in [
            "renditions[0] (a): unknown edit(s) sepia",
            "renditions[1] (a): name \"a\" is used twice",
            "renditions[2] (b): outputFormat \"raw\"",
            "unknown placeholder(s) {size}",
            "renditions[3] (c): key \"/fixed.png\" starts with",
            "renditions[4] (d): key \"all.png\" has neither",
            "renditions[5] (e): edits:",
            "renditions[6] (f): key \"{dir}/{stem}.png\" is also a's",
        ] {
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
        assert!(Renditions::parse(r#"{"renditions": []}"#)
            .unwrap_err()
            .contains("at least one"));
        assert!(Renditions::parse(r#"{"renditions": [], "destination": "x"}"#)
            .unwrap_err()
            .contains("unknown field `destination`"));
        assert!(Renditions::parse("[]")
            .unwrap_err()
            .contains("not a renditions document"));
    }

    #[test]
    fn recursion_is_refused_unless_prefixes_keep_renditions_out() {
        let allowed = vec!["uploads".to_string(), "marks".to_string()];
        let doc = |dest: &str, prefix: &str, key: &str| {
            Renditions::parse(&format!(
                r#"{{"destinationBucket": "{dest}", "sourcePrefix": "{prefix}", "renditions": [
                    {{"name": "t", "edits": {{"overlayWith": {{"bucket": "marks", "key": "logo.png"}}}},
                      "key": "{key}"}}]}}"#
            ))
            .unwrap()
        };
        assert!(doc("thumbs", "", "{dir}/t/{stem}.webp")
            .check_buckets(&allowed)
            .is_ok());
        let err = doc("uploads", "", "{dir}/t/{stem}.webp")
            .check_buckets(&allowed)
            .unwrap_err();
        assert!(err.contains("rendered again, forever"), "{err}");
        assert!(doc("uploads", "in/", "{dir}/t/{stem}.webp")
            .check_buckets(&allowed)
            .is_err());
        assert!(doc("uploads", "in/", "in/r/{key}.webp")
            .check_buckets(&allowed)
            .is_err());
        assert!(doc("uploads", "in/", "out/{key}.webp")
            .check_buckets(&allowed)
            .is_ok());
        // The overlay's bucket is read, not a source of uploads.
        assert!(doc("marks", "", "{key}.webp").check_buckets(&allowed).is_ok());
        let err = doc("thumbs", "", "{key}.webp")
            .check_buckets(&["uploads".into()])
            .unwrap_err();
        assert!(
            err.contains("overlayWith bucket \"marks\" is not in SOURCE_BUCKETS"),
            "{err}"
        );
    }
}
