//! Output edits (no pixel change): `toFormat` and the per-encoder options `jpeg`, `png`, `webp`,
//! `avif`, `gif`, `tiff`, `heif` (see docs/edits.md, "Output (no pixel change)").

use super::num;
use serde::{Deserialize, Serialize};
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "num::de_opt_u8"
    )]
    pub quality: Option<u8>,
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
