//! Geometry edits: `resize`, `crop`/`extract`, `rotate`, `flip`/`flop`, `extend`, `trim`,
//! `roundCrop` — their argument types (see docs/edits.md, "Geometry"). `rotate`, `flip` and
//! `flop` take plain values and need no type here.

use super::num;
use super::BoolOrNumber;
use super::Color;
use serde::{Deserialize, Serialize};

/// sharp's resize fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    Cover,
    Contain,
    Fill,
    Inside,
    Outside,
}

/// `resize.position`: a gravity/position string (`"centre"`, `"north"`, `"right top"`,
/// `"entropy"`, `"attention"`, …) or sharp's numeric constant. Kept as given; the pipeline
/// interprets it (and rejects unknown names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Position {
    Name(String),
    Code(u32),
}

/// A width or height: `null` means "auto" (derived from the aspect ratio).
pub type Dimension = Option<u32>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resize {
    /// `None` = key absent; `Some(None)` = explicit `null` (auto).
    #[serde(
        default,
        deserialize_with = "num::de_dim",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<Dimension>,
    #[serde(
        default,
        deserialize_with = "num::de_dim",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<Dimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<Fit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_enlargement: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_reduction: Option<bool>,
    /// SIH-only (Thumbor `proportion`): scale factor applied to the given or original size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub ratio: Option<f64>,
    /// sharp kernel name (`lanczos3` default, `nearest`, `cubic`, `mitchell`, `lanczos2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_shrink_on_load: Option<bool>,
}

/// `crop` / `extract`: a rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottom: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
    /// `background` (default), `copy`, `repeat`, `mirror`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend_with: Option<String>,
}

/// `extend`: the same number of pixels on every side, or per side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Extend {
    All(u32),
    Sides(ExtendOptions),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrimOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub threshold: Option<f64>,
}

/// `trim`: `true`, a threshold, or `{background, threshold}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Trim {
    Simple(BoolOrNumber),
    Options(TrimOptions),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoundCropOptions {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub top: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub left: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub rx: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub ry: Option<f64>,
}

/// `roundCrop`: `true` (inscribed ellipse) or `{top, left, rx, ry}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoundCrop {
    Bool(bool),
    Options(RoundCropOptions),
}

#[cfg(test)]
mod tests {
    use crate::edits::{Edit, Edits};
    use serde_json::json;

    #[test]
    fn width_strings_round_like_sih() {
        let (edits, _) = Edits::from_json(
            json!({"resize": {"width": "99.1", "height": "99.9"}})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let Edit::Resize(r) = &edits.entries[0].1 else {
            panic!()
        };
        assert_eq!((r.width, r.height), (Some(Some(99)), Some(Some(100))));
    }
}
