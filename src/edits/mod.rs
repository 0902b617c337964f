//! The canonical edit vocabulary: SIH's Default-request `edits` object (sharp's names and value
//! shapes), typed.
//!
//! Every dialect (base64 JSON, Thumbor, Custom rewrite, query parameters) produces the JSON object
//! SIH would produce; [`Edits::from_json`] turns it into typed [`Edit`]s, keeping key order (edits
//! run in that order) and listing keys it does not know. [`Edits::to_json`] writes the same JSON
//! back, so `explain`'s output base64-encoded is a Default request that means the same thing.

pub mod color;
mod num;

pub use color::Color;

use crate::error::Error;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
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

/// `true`/`false`, or a number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BoolOrNumber {
    Bool(bool),
    #[serde(serialize_with = "num::ser")]
    Number(f64),
}

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

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Flatten {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
}

/// `flatten`: `true` (black background) or `{background}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlattenArg {
    Bool(bool),
    Options(Flatten),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegateOptions {
    pub alpha: bool,
}

/// `negate`: `true`, or `{alpha: false}` to leave alpha alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Negate {
    Bool(bool),
    Options(NegateOptions),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Modulate {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub brightness: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub saturation: Option<f64>,
    /// degrees
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub hue: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub lightness: Option<f64>,
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

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmartCropOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_index: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub padding: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SmartCrop {
    Bool(bool),
    Options(SmartCropOptions),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentModerationOptions {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub min_confidence: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub blur: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation_labels: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContentModeration {
    Bool(bool),
    Options(ContentModerationOptions),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlurFacesOptions {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub sigma: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixelate: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub padding: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub min_confidence: Option<f64>,
}

/// pixfront's `blurFaces`: `true` or `{sigma?, pixelate?, padding?, minConfidence?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlurFaces {
    Bool(bool),
    Options(BlurFacesOptions),
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
    Extend(Extend),
    Trim(Trim),
    RemoveAlpha(bool),
    /// `true` = opaque; a number = alpha 0–1.
    EnsureAlpha(BoolOrNumber),
    ToFormat(Format),
    /// `jpeg: {quality: 70}` etc.: options for one encoder (and, as in sharp, a switch to it).
    FormatOptions(Format, FormatOptions),
    RoundCrop(RoundCrop),
    OverlayWith(Overlay),
    SmartCrop(SmartCrop),
    ContentModeration(ContentModeration),
    Animated(bool),
    BlurFaces(BlurFaces),
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
        for (name, value) in map {
            match Self::parse_one(name, value)? {
                Some(edit) => entries.push((name.clone(), edit)),
                None => ignored.push(name.clone()),
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
                    return Err(crate::request::errors::invalid_resize());
                }
                Edit::Resize(parse_arg(name, v)?)
            }
            "crop" => {
                let r: Region = serde_json::from_value(v.clone())
                    .map_err(|_| crate::request::errors::crop_out_of_bounds())?;
                // SIH fails an empty area only when encoding (500); it is the user's mistake.
                if r.width == 0 || r.height == 0 {
                    return Err(crate::request::errors::crop_out_of_bounds());
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
            "extend" => Edit::Extend(parse_arg(name, v)?),
            "trim" => Edit::Trim(parse_arg(name, v)?),
            "removeAlpha" => Edit::RemoveAlpha(truthy(v)),
            "ensureAlpha" => Edit::EnsureAlpha(parse_arg(name, v)?),
            "toFormat" => {
                let s: String = parse_arg(name, v)?;
                Edit::ToFormat(
                    Format::parse(&s).ok_or_else(|| crate::request::errors::unsupported_format(&s))?,
                )
            }
            "jpeg" | "png" | "webp" | "avif" | "gif" | "tiff" | "heif" => {
                let format =
                    Format::parse(name).ok_or_else(|| crate::request::errors::unsupported_format(name))?;
                let opts = if v.is_object() {
                    parse_arg(name, v)?
                } else {
                    FormatOptions::default()
                };
                Edit::FormatOptions(format, opts)
            }
            "roundCrop" => Edit::RoundCrop(parse_arg(name, v)?),
            "overlayWith" => Edit::OverlayWith(parse_arg(name, v)?),
            "smartCrop" => Edit::SmartCrop(parse_arg(name, v)?),
            "contentModeration" => Edit::ContentModeration(parse_arg(name, v)?),
            "animated" => Edit::Animated(truthy(v)),
            "blurFaces" => Edit::BlurFaces(parse_arg(name, v)?),
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
            Edit::Extend(x) => v(x),
            Edit::Trim(x) => v(x),
            Edit::ToFormat(f) => Value::String(f.name().to_string()),
            Edit::FormatOptions(_, o) => v(o),
            Edit::RoundCrop(x) => v(x),
            Edit::OverlayWith(x) => v(x),
            Edit::SmartCrop(x) => v(x),
            Edit::ContentModeration(x) => v(x),
            Edit::BlurFaces(x) => v(x),
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
