//! Output edits (no pixel change): `toFormat` and the per-encoder options `jpeg`, `png`, `webp`,
//! `avif`, `gif`, `tiff`, `heif` (see docs/edits.md, "Output (no pixel change)").

use super::num;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Output formats. `jpg` and `tif` are accepted as aliases on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[serde(alias = "jpg")]
    Jpeg,
    Png,
    Webp,
    #[serde(alias = "tif")]
    Tiff,
    Gif,
    Avif,
    Heif,
    Raw,
}

impl Format {
    /// Parses a format name as sharp's `toFormat` accepts it (sharp lower-cases the name;
    /// `jpg` = `jpeg`, `tif` = `tiff`).
    pub fn parse(s: &str) -> Option<Format> {
        serde_json::from_value(Value::String(s.to_ascii_lowercase())).ok()
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Tiff => "tiff",
            Format::Gif => "gif",
            Format::Avif => "avif",
            Format::Heif => "heif",
            Format::Raw => "raw",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Tiff => "image/tiff",
            Format::Gif => "image/gif",
            Format::Avif => "image/avif",
            Format::Heif => "image/heif",
            Format::Raw => "application/octet-stream",
        }
    }
}

/// Per-format encoder options (`jpeg`, `png`, `webp`, `avif`, `gif`, `tiff`, `heif` edits).
/// Options pixfront does not use are kept in `other` so they survive a round trip.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormatOptions {
    /// A number 1–100, or `"auto"` / `"auto:best|good|eco"` (see [`Quality`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progressive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lossless: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_lossless: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression_level: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub palette: Option<bool>,
    /// `"4:2:0"` (default for JPEG/AVIF) or `"4:4:4"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chroma_subsampling: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha_quality: Option<u8>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// An encoder quality: sharp's number, or pixfront's `auto` search (`src/pipeline/quality/`),
/// which picks the lowest quality whose output still scores the level's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Fixed(u8),
    Auto(AutoLevel),
}

/// How close to the unencoded image `quality: "auto"` stays (targets in docs/edits.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoLevel {
    Best,
    Good,
    Eco,
}

impl AutoLevel {
    /// `best`, `good` or `eco` (ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<AutoLevel> {
        match s.to_ascii_lowercase().as_str() {
            "best" => Some(AutoLevel::Best),
            "good" => Some(AutoLevel::Good),
            "eco" => Some(AutoLevel::Eco),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AutoLevel::Best => "best",
            AutoLevel::Good => "good",
            AutoLevel::Eco => "eco",
        }
    }
}

impl Quality {
    /// `auto` (= `auto:good`) or `auto:<level>`, also `auto-<level>` (Thumbor splits its
    /// filters at `:`); `None` when `s` does not start with `auto`, `Some(Err(..))` for an
    /// unknown level.
    pub fn parse_auto(s: &str) -> Option<Result<Quality, String>> {
        let lower = s.trim().to_ascii_lowercase();
        let rest = lower.strip_prefix("auto")?;
        let level = match rest.strip_prefix(':').or_else(|| rest.strip_prefix('-')) {
            None if rest.is_empty() => Some(AutoLevel::Good),
            Some(level) => AutoLevel::parse(level),
            None => None,
        };
        Some(level.map(Quality::Auto).ok_or_else(|| {
            format!(
                "invalid quality {s:?}: expected 1–100, \"auto\" or \"auto:best|good|eco\" (or auto-best…)"
            )
        }))
    }
}

impl Quality {
    /// The JSON string form of an `auto` quality (`"auto:good"`), the number's digits otherwise.
    pub fn to_json_string(self) -> String {
        match self {
            Quality::Fixed(q) => q.to_string(),
            Quality::Auto(level) => format!("auto:{}", level.name()),
        }
    }
}

impl Serialize for Quality {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Quality::Fixed(q) => s.serialize_u8(*q),
            Quality::Auto(_) => s.serialize_str(&self.to_json_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Quality {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Quality, D::Error> {
        let v = Value::deserialize(d)?;
        if let Some(auto) = v.as_str().and_then(Quality::parse_auto) {
            return auto.map_err(serde::de::Error::custom);
        }
        match num::de_opt_u8(v).map_err(serde::de::Error::custom)? {
            Some(q) => Ok(Quality::Fixed(q)),
            None => Err(serde::de::Error::custom("invalid quality null")),
        }
    }
}
