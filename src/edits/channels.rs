//! Channel and colourspace edits: sharp's `extractChannel`, `bandbool`, `toColourspace` and
//! `pipelineColourspace` (docs/edits.md, "Channels and colourspace").

use super::errors;
use crate::error::Error;
use serde_json::Value;

/// `extractChannel`: 0–3 or `red`/`green`/`blue`/`alpha`; `named` keeps the spelling given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractChannel {
    pub index: u8,
    pub named: bool,
}

const CHANNEL_NAMES: [&str; 4] = ["red", "green", "blue", "alpha"];

impl ExtractChannel {
    pub fn from_json(v: &Value) -> Result<ExtractChannel, Error> {
        let by_name = v
            .as_str()
            .and_then(|s| CHANNEL_NAMES.iter().position(|n| *n == s));
        let by_index = v.as_u64().filter(|i| *i < 4).map(|i| i as usize);
        match (by_name, by_index) {
            (Some(i), _) => Ok(ExtractChannel {
                index: i as u8,
                named: true,
            }),
            (None, Some(i)) => Ok(ExtractChannel {
                index: i as u8,
                named: false,
            }),
            _ => Err(Error::invalid_edit(
                "extractChannel",
                "expected an integer 0–3 or one of: red, green, blue, alpha",
            )),
        }
    }

    pub fn to_json(&self) -> Value {
        if self.named {
            Value::from(CHANNEL_NAMES[self.index as usize])
        } else {
            Value::from(self.index)
        }
    }
}

/// `bandbool`: a bitwise operation across every channel, giving one grey channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BandBool {
    And,
    Or,
    Eor,
}

impl BandBool {
    pub fn from_json(v: &Value) -> Result<BandBool, Error> {
        match v.as_str() {
            Some("and") => Ok(BandBool::And),
            Some("or") => Ok(BandBool::Or),
            Some("eor") => Ok(BandBool::Eor),
            _ => Err(Error::invalid_edit("bandbool", "expected one of: and, or, eor")),
        }
    }

    pub fn to_json(&self) -> Value {
        Value::from(match self {
            BandBool::And => "and",
            BandBool::Or => "or",
            BandBool::Eor => "eor",
        })
    }
}

/// The colourspaces pixfront's 8-bit sRGB pictures can honour. The 16-bit names give the same
/// pixels at 8 bits (the encoders write 8-bit output).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Colourspace {
    Srgb,
    Rgb,
    Rgb16,
    BW,
    Grey16,
}

/// libvips' other interpretation names: valid in sharp, refused here (400 `ImageEdits::Unsupported`).
const OTHER_SPACES: [&str; 16] = [
    "multiband",
    "histogram",
    "xyz",
    "lab",
    "cmyk",
    "labq",
    "cmc",
    "lch",
    "labs",
    "yxy",
    "fourier",
    "matrix",
    "scrgb",
    "hsv",
    "oklab",
    "oklch",
];

impl Colourspace {
    const NAMES: [(&str, Colourspace); 5] = [
        ("srgb", Colourspace::Srgb),
        ("rgb", Colourspace::Rgb),
        ("rgb16", Colourspace::Rgb16),
        ("b-w", Colourspace::BW),
        ("grey16", Colourspace::Grey16),
    ];

    /// `edit` is the key as given (`toColourspace`, `pipelineColorspace`…), for the messages.
    pub fn from_json(edit: &str, v: &Value) -> Result<Colourspace, Error> {
        let s = v
            .as_str()
            .ok_or_else(|| Error::invalid_edit(edit, "expected a colourspace name"))?;
        if let Some((_, c)) = Self::NAMES.iter().find(|(n, _)| *n == s) {
            return Ok(*c);
        }
        if OTHER_SPACES.contains(&s) {
            return Err(errors::unsupported_edit(
                edit,
                format!("colourspace {s:?} is not supported (srgb, rgb, rgb16, b-w, grey16 are)"),
            ));
        }
        Err(Error::invalid_edit(edit, format!("unknown colourspace {s:?}")))
    }

    pub fn name(&self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, c)| c == self)
            .map_or("srgb", |(n, _)| n)
    }

    pub fn is_grey(&self) -> bool {
        matches!(self, Colourspace::BW | Colourspace::Grey16)
    }
}
