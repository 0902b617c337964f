//! Filter edits: `blur`, `sharpen`, `median`, `convolve`, `clahe` — the argument types that are not a
//! plain [`BoolOrNumber`](super::BoolOrNumber) (see docs/edits.md, "Filters").

use super::num;
use super::BoolOrNumber;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharpenOptions {
    #[serde(serialize_with = "num::ser")]
    pub sigma: f64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub m1: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub m2: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub x1: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub y2: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub y3: Option<f64>,
}

/// `sharpen`: `true` (mild), a sigma, or sharp's full options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Sharpen {
    Simple(BoolOrNumber),
    Options(SharpenOptions),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Convolve {
    pub width: u32,
    pub height: u32,
    #[serde(serialize_with = "num::ser_vec")]
    pub kernel: Vec<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub scale: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub offset: Option<f64>,
}

/// `clahe`: window `width`×`height` (integers ≥ 1) and `maxSlope` (0–100, sharp's default 3;
/// 0 = plain local equalisation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Clahe {
    pub width: u32,
    pub height: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_slope: Option<u32>,
}
