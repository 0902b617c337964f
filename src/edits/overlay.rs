//! The overlay edit: SIH's `overlayWith` watermark and its arguments (see docs/edits.md,
//! "Overlay").

use super::num;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A number or a string as SIH passes it on (watermark arguments stay strings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumOrString {
    #[serde(serialize_with = "num::ser")]
    Number(f64),
    String(String),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OverlayOptions {
    /// Pixels (`10`, `"-10"`) or percent of the base (`"25p"`, `"-10p"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<NumOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<NumOrString>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overlay {
    pub bucket: String,
    pub key: String,
    /// Percent of the base width (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_ratio: Option<NumOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h_ratio: Option<NumOrString>,
    /// Transparency 0 (opaque) – 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<NumOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<OverlayOptions>,
}
