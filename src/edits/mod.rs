//! The canonical edit vocabulary: SIH's Default-request `edits` object (sharp's names and value
//! shapes), typed.
//!
//! Every dialect (base64 JSON, Thumbor, Custom rewrite, query parameters) produces the JSON object
//! SIH would produce; [`Edits::from_json`] turns it into typed [`Edit`]s, keeping key order (edits
//! run in that order) and listing keys it does not know. [`Edits::to_json`] writes the same JSON
//! back, so `explain`'s output base64-encoded is a Default request that means the same thing.
//!
//! This file holds the typed [`Edit`] enum, the ordered [`Edits`] list and the SIH-shaped JSON
//! (de)serialisation (`from_json`/`parse_one`, `to_json`). Each edit's argument types live with
//! their family, one file each in docs/edits.md's order: `geometry.rs`, `color.rs` (colour),
//! `filters.rs`, `alpha.rs`, `overlay.rs`, `text.rs`, `output.rs` and `faces.rs`; all are
//! re-exported here.

mod affine;
mod alpha;
mod channels;
pub mod color;
pub mod dpr;
pub mod errors;
mod faces;
mod filters;
mod geometry;
mod levels;
mod num;
mod output;
mod overlay;
mod text;

pub use affine::{Affine, AffineOptions, Interpolator};
pub use alpha::{Flatten, FlattenArg};
pub use channels::{BandBool, Colourspace, ExtractChannel};
pub use color::{Color, Modulate, Negate, NegateOptions};
pub use faces::{
    BlurFaces, BlurFacesOptions, ContentModeration, ContentModerationOptions, SmartCrop, SmartCropOptions,
};
pub use filters::{Clahe, Convolve, Sharpen, SharpenOptions};
pub use geometry::{
    Dimension, Extend, ExtendOptions, Fit, Position, Region, Resize, RoundCrop, RoundCropOptions, Trim,
    TrimOptions,
};
pub use levels::{Linear, Recomb};
pub use output::{AutoLevel, Format, FormatOptions, Quality};
pub use overlay::{NumOrString, Overlay, OverlayOptions};
pub use text::{TextOverlay, TextSize};

use crate::error::Error;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{Map, Value};

/// `true`/`false`, or a number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BoolOrNumber {
    Bool(bool),
    #[serde(serialize_with = "num::ser")]
    Number(f64),
}

/// One edit, applied in request order.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Resize(Resize),
    /// SIH's `crop` (400 `Crop::AreaOutOfBounds` on bad arguments).
    Crop(Region),
    /// sharp's `extract`.
    Extract(Region),
    /// Degrees; `None` (`null`) = auto-orient from EXIF and strip metadata.
    Rotate(Option<f64>),
    Flip(bool),
    Flop(bool),
    /// `grayscale` or `greyscale`.
    Grayscale(bool),
    /// `true` = mild blur; a number = Gaussian sigma (0.3–1000).
    Blur(BoolOrNumber),
    Sharpen(Sharpen),
    Tint(Color),
    Flatten(FlattenArg),
    /// `normalize` / `normalise`.
    Normalize(bool),
    Negate(Negate),
    Gamma(f64),
    /// Window size (`true` = 3).
    Median(BoolOrNumber),
    /// `true` = 128; a number 0–255.
    Threshold(BoolOrNumber),
    Modulate(Modulate),
    Convolve(Convolve),
    Clahe(Clahe),
    Affine(Affine),
    Extend(Extend),
    Trim(Trim),
    RemoveAlpha(bool),
    /// `true` = opaque; a number = alpha 0–1.
    EnsureAlpha(BoolOrNumber),
    ToFormat(Format),
    /// `jpeg: {quality: 70}` etc.: options for one encoder (and, as in sharp, a switch to it).
    FormatOptions(Format, FormatOptions),
    /// pixfront's top-level `quality` (a number or `"auto…"`): for whichever format the output
    /// is, unless that format's own options give one. The query's `quality=` sets it.
    Quality(Quality),
    RoundCrop(RoundCrop),
    OverlayWith(Overlay),
    /// pixfront's text watermark (not in SIH).
    TextOverlay(TextOverlay),
    /// sharp's `keepIccProfile()`: keep the original's RGB ICC profile, as `KEEP_ICC=Yes` does
    /// for every request.
    KeepIccProfile(bool),
    SmartCrop(SmartCrop),
    ContentModeration(ContentModeration),
    Animated(bool),
    BlurFaces(BlurFaces),
    Linear(Linear),
    Recomb(Recomb),
    /// White (luminance 255) becomes transparent.
    Unflatten(bool),
    ExtractChannel(ExtractChannel),
    BandBool(BandBool),
    /// `toColourspace` / `toColorspace`: the output colourspace.
    ToColourspace(Colourspace),
    /// `pipelineColourspace` / `pipelineColorspace`: only sRGB (the only one pixfront works in).
    PipelineColourspace(Colourspace),
}

/// The ordered edit list. Each entry keeps the key it was given (`grayscale` vs `greyscale`,
/// `normalize` vs `normalise`) so it serialises back to the same JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edits {
    pub entries: Vec<(String, Edit)>,
}

fn parse_arg<T: DeserializeOwned>(name: &str, value: &Value) -> Result<T, Error> {
    serde_json::from_value(value.clone()).map_err(|e| Error::invalid_edit(name, e))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Edit> {
        self.entries.iter().map(|(_, e)| e)
    }

    /// Parses SIH's `edits` JSON object. Returns the edits and the keys it did not understand
    /// (SIH ignores them silently; we report them).
    pub fn from_json(map: &Map<String, Value>) -> Result<(Edits, Vec<String>), Error> {
        let mut entries = Vec::with_capacity(map.len());
        let mut ignored = Vec::new();
        // `dpr` scales `resize` wherever it stands, so it is read first and applied last.
        let dpr = map.get("dpr").map(dpr::factor).transpose()?;
        for (name, value) in map {
            if name == "dpr" {
                continue;
            }
            match Self::parse_one(name, value)? {
                Some(edit) => entries.push((name.clone(), edit)),
                None => ignored.push(name.clone()),
            }
        }
        if let Some(factor) = dpr {
            for (_, edit) in entries.iter_mut() {
                if let Edit::Resize(r) = edit {
                    dpr::apply([&mut r.width, &mut r.height], &mut r.without_enlargement, factor);
                }
            }
        }
        Ok((Edits { entries }, ignored))
    }

    fn parse_one(name: &str, v: &Value) -> Result<Option<Edit>, Error> {
        let edit = match name {
            "resize" => {
                // SIH: a width/height that is present, non-null and ≤ 0 is 400 InvalidResizeException.
                let bad_dim = |k: &str| {
                    v.get(k)
                        .filter(|d| !d.is_null())
                        .is_some_and(|d| num::js_number(d).is_none_or(|n| (n + 0.5).floor() <= 0.0))
                };
                if bad_dim("width") || bad_dim("height") {
                    return Err(errors::invalid_resize());
                }
                Edit::Resize(parse_arg(name, v)?)
            }
            "crop" => {
                let r: Region =
                    serde_json::from_value(v.clone()).map_err(|_| errors::crop_out_of_bounds())?;
                // SIH fails an empty area only when encoding (500); it is the user's mistake.
                if r.width == 0 || r.height == 0 {
                    return Err(errors::crop_out_of_bounds());
                }
                Edit::Crop(r)
            }
            "extract" => Edit::Extract(parse_arg(name, v)?),
            "rotate" => Edit::Rotate(parse_arg::<Option<f64>>(name, v)?),
            "flip" => Edit::Flip(truthy(v)),
            "flop" => Edit::Flop(truthy(v)),
            "grayscale" | "greyscale" => Edit::Grayscale(truthy(v)),
            "blur" => Edit::Blur(parse_arg(name, v)?),
            "sharpen" => Edit::Sharpen(parse_arg(name, v)?),
            "tint" => Edit::Tint(parse_arg(name, v)?),
            "flatten" => Edit::Flatten(parse_arg(name, v)?),
            "normalize" | "normalise" => Edit::Normalize(truthy(v)),
            "negate" => Edit::Negate(parse_arg(name, v)?),
            "gamma" => Edit::Gamma(parse_arg(name, v)?),
            "median" => Edit::Median(parse_arg(name, v)?),
            "threshold" => Edit::Threshold(parse_arg(name, v)?),
            "modulate" => Edit::Modulate(parse_arg(name, v)?),
            "convolve" => Edit::Convolve(parse_arg(name, v)?),
            "clahe" => Edit::Clahe(parse_arg(name, v)?),
            "affine" => Edit::Affine(Affine::from_json(v)?),
            "extend" => Edit::Extend(parse_arg(name, v)?),
            "trim" => Edit::Trim(parse_arg(name, v)?),
            "removeAlpha" => Edit::RemoveAlpha(truthy(v)),
            "ensureAlpha" => Edit::EnsureAlpha(parse_arg(name, v)?),
            "toFormat" => {
                let s: String = parse_arg(name, v)?;
                Edit::ToFormat(Format::parse(&s).ok_or_else(|| errors::unsupported_format(&s))?)
            }
            "jpeg" | "png" | "webp" | "avif" | "gif" | "tiff" | "heif" => {
                let format = Format::parse(name).ok_or_else(|| errors::unsupported_format(name))?;
                let opts = if v.is_object() {
                    parse_arg(name, v)?
                } else {
                    FormatOptions::default()
                };
                Edit::FormatOptions(format, opts)
            }
            "quality" => Edit::Quality(parse_arg(name, v)?),
            "roundCrop" => Edit::RoundCrop(parse_arg(name, v)?),
            "overlayWith" => Edit::OverlayWith(parse_arg(name, v)?),
            "textOverlay" => Edit::TextOverlay(TextOverlay::from_json(v)?),
            "keepIccProfile" => Edit::KeepIccProfile(truthy(v)),
            "smartCrop" => Edit::SmartCrop(parse_arg(name, v)?),
            "contentModeration" => Edit::ContentModeration(parse_arg(name, v)?),
            "animated" => Edit::Animated(truthy(v)),
            "blurFaces" => Edit::BlurFaces(parse_arg(name, v)?),
            "linear" => Edit::Linear(Linear::from_json(v)?),
            "recomb" => Edit::Recomb(Recomb::from_json(v)?),
            "unflatten" => Edit::Unflatten(truthy(v)),
            "extractChannel" => Edit::ExtractChannel(ExtractChannel::from_json(v)?),
            "bandbool" => Edit::BandBool(BandBool::from_json(v)?),
            "toColourspace" | "toColorspace" => Edit::ToColourspace(Colourspace::from_json(name, v)?),
            "pipelineColourspace" | "pipelineColorspace" => {
                let c = Colourspace::from_json(name, v)?;
                if c.is_grey() {
                    return Err(errors::unsupported_edit(name, "pixfront works in sRGB only"));
                }
                Edit::PipelineColourspace(c)
            }
            // In SIH's allowlist, refused rather than ignored: `joinChannel` needs images and
            // `boolean` two arguments, so SIH's one-argument call always fails too.
            "joinChannel" | "boolean" => {
                return Err(errors::unsupported_edit(name, "not supported by pixfront"))
            }
            _ => return Ok(None),
        };
        Ok(Some(edit))
    }

    /// Writes the edits back as SIH's JSON object, in order.
    pub fn to_json(&self) -> Map<String, Value> {
        self.entries
            .iter()
            .map(|(name, edit)| (name.clone(), edit.to_json()))
            .collect()
    }

    /// The last `toFormat`, if any (sharp: the last format call wins).
    pub fn to_format(&self) -> Option<Format> {
        self.iter().rev().find_map(|e| match e {
            Edit::ToFormat(f) => Some(*f),
            _ => None,
        })
    }
}

impl Edit {
    pub fn to_json(&self) -> Value {
        fn v<T: Serialize>(t: &T) -> Value {
            serde_json::to_value(t).unwrap_or(Value::Null)
        }
        match self {
            Edit::Resize(x) => v(x),
            Edit::Crop(x) | Edit::Extract(x) => v(x),
            Edit::Rotate(x) => x.map(num::value).unwrap_or(Value::Null),
            Edit::Flip(b)
            | Edit::Flop(b)
            | Edit::Grayscale(b)
            | Edit::Normalize(b)
            | Edit::RemoveAlpha(b)
            | Edit::Animated(b) => Value::Bool(*b),
            Edit::Blur(x) | Edit::Median(x) | Edit::Threshold(x) | Edit::EnsureAlpha(x) => v(x),
            Edit::Sharpen(x) => v(x),
            Edit::Tint(x) => v(x),
            Edit::Flatten(x) => v(x),
            Edit::Negate(x) => v(x),
            Edit::Gamma(x) => num::value(*x),
            Edit::Modulate(x) => v(x),
            Edit::Convolve(x) => v(x),
            Edit::Clahe(x) => v(x),
            Edit::Affine(x) => x.to_json(),
            Edit::Extend(x) => v(x),
            Edit::Trim(x) => v(x),
            Edit::ToFormat(f) => Value::String(f.name().to_string()),
            Edit::FormatOptions(_, o) => v(o),
            Edit::Quality(q) => v(q),
            Edit::RoundCrop(x) => v(x),
            Edit::OverlayWith(x) => v(x),
            Edit::TextOverlay(x) => v(x),
            Edit::SmartCrop(x) => v(x),
            Edit::ContentModeration(x) => v(x),
            Edit::BlurFaces(x) => v(x),
            Edit::Linear(x) => x.to_json(),
            Edit::Recomb(x) => x.to_json(),
            Edit::Unflatten(b) | Edit::KeepIccProfile(b) => Value::Bool(*b),
            Edit::ExtractChannel(x) => x.to_json(),
            Edit::BandBool(x) => x.to_json(),
            Edit::ToColourspace(c) | Edit::PipelineColourspace(c) => Value::from(c.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: Value) -> Value {
        let (edits, ignored) = Edits::from_json(v.as_object().unwrap()).unwrap();
        assert!(ignored.is_empty(), "{ignored:?}");
        Value::Object(edits.to_json())
    }

    #[test]
    fn round_trips_keep_order_and_shapes() {
        let v = json!({
            "crop": {"left": 1, "top": 2, "width": 3, "height": 4},
            "resize": {"fit": "inside", "width": 400, "height": null},
            "rotate": null,
            "greyscale": true,
            "blur": 30,
            "tint": {"r": 255, "g": 0, "b": 0},
            "webp": {"quality": 60},
            "toFormat": "png",
            "overlayWith": {"bucket": "b", "key": "k.png", "alpha": "10", "wRatio": "20", "hRatio": "20",
                            "options": {"left": "-10p", "top": "5"}},
            "blurFaces": true
        });
        let out = round_trip(v.clone());
        assert_eq!(out, v);
        let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys[0], "crop");
        assert_eq!(keys[9], "blurFaces");
    }

    #[test]
    fn unknown_keys_are_reported() {
        let (edits, ignored) =
            Edits::from_json(json!({"toFile": "x", "flip": true}).as_object().unwrap()).unwrap();
        assert_eq!(ignored, vec!["toFile".to_string()]);
        assert_eq!(edits.entries.len(), 1);
    }

    #[test]
    fn bad_arguments_are_400() {
        let err = Edits::from_json(json!({"tint": "not-a-colour"}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.status, 400);
        let err = Edits::from_json(json!({"crop": {"left": -1}}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.code, "Crop::AreaOutOfBounds");
        let err = Edits::from_json(json!({"toFormat": "bmp"}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.status, 400);
    }
}
