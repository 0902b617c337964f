//! The `textOverlay` edit (pixfront's, not SIH's): a line of text drawn over the image as a
//! watermark, with the bundled font (see docs/edits.md, "Text watermark"). Checked here, when
//! the request is parsed: every argument error is a 400 before anything is fetched.

use super::{Color, NumOrString};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many characters: a watermark, not a paragraph.
pub const MAX_TEXT_CHARS: usize = 256;
/// Largest font size in pixels (a percentage of the width is not capped: what falls outside
/// the image is never drawn).
pub const MAX_SIZE_PX: f64 = 1000.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TextOverlay {
    /// One line, 1–256 characters, no control characters.
    pub text: String,
    /// Font size: pixels (`24`, `"24"`) or percent of the image's width (`"5p"`); default `"5p"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<NumOrString>,
    /// Any colour `tint` takes; default white.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// Transparency 0 (opaque, default) – 100, as `overlayWith`'s `alpha`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<NumOrString>,
    /// Where the text's box goes, as `overlayWith`'s `options.left`/`top`; centred without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<NumOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<NumOrString>,
}

/// The font size, as asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TextSize {
    Pixels(f64),
    PercentOfWidth(f64),
}

impl TextSize {
    pub fn pixels(self, base_width: u32) -> f64 {
        match self {
            TextSize::Pixels(px) => px,
            TextSize::PercentOfWidth(p) => (base_width as f64 * p / 100.0).max(1.0),
        }
    }
}

fn bad(message: impl std::fmt::Display) -> Error {
    Error::invalid_edit("textOverlay", message)
}

impl TextOverlay {
    pub fn from_json(v: &Value) -> Result<TextOverlay, Error> {
        let t: TextOverlay = serde_json::from_value(v.clone()).map_err(bad)?;
        let chars = t.text.chars().count();
        if chars == 0 || chars > MAX_TEXT_CHARS {
            return Err(bad(format!("text must be 1–{MAX_TEXT_CHARS} characters")));
        }
        if t.text.chars().any(char::is_control) {
            return Err(bad("text must be one line without control characters"));
        }
        t.size()?;
        t.transparency()?;
        Ok(t)
    }

    pub fn size(&self) -> Result<TextSize, Error> {
        let (number, percent) = match &self.size {
            None => return Ok(TextSize::PercentOfWidth(5.0)),
            Some(NumOrString::Number(n)) => (*n, false),
            Some(NumOrString::String(s)) => {
                let s = s.trim();
                let (digits, percent) = match s.strip_suffix('p') {
                    Some(d) => (d, true),
                    None => (s, false),
                };
                (digits.parse::<f64>().unwrap_or(f64::NAN), percent)
            }
        };
        match percent {
            true if number > 0.0 && number <= 100.0 => Ok(TextSize::PercentOfWidth(number)),
            false if (1.0..=MAX_SIZE_PX).contains(&number) => Ok(TextSize::Pixels(number)),
            _ => Err(bad(format!(
                "size must be 1–{MAX_SIZE_PX} pixels or \"Np\" with N in (0, 100]"
            ))),
        }
    }

    /// How much of the ink stays, 0–1 (`alpha` 0 → 1).
    pub fn transparency(&self) -> Result<f64, Error> {
        let a = match &self.alpha {
            None => 0.0,
            Some(NumOrString::Number(n)) => *n,
            Some(NumOrString::String(s)) => s.trim().parse().unwrap_or(f64::NAN),
        };
        if !(0.0..=100.0).contains(&a) {
            return Err(bad("alpha must be 0 (opaque) – 100"));
        }
        Ok(1.0 - a / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arguments_are_checked() {
        let ok = TextOverlay::from_json(&json!({"text": "© 2026", "size": "10p", "alpha": 30})).unwrap();
        assert_eq!(ok.size().unwrap(), TextSize::PercentOfWidth(10.0));
        assert!((ok.transparency().unwrap() - 0.7).abs() < 1e-9);
        assert_eq!(
            TextOverlay::from_json(&json!({"text": "a", "size": 24}))
                .unwrap()
                .size()
                .unwrap(),
            TextSize::Pixels(24.0)
        );
        for bad in [
            json!({"text": ""}),
            json!({"text": "x".repeat(MAX_TEXT_CHARS + 1)}),
            json!({"text": "two\nlines"}),
            json!({"text": "a", "size": 0}),
            json!({"text": "a", "size": 5000}),
            json!({"text": "a", "size": "101p"}),
            json!({"text": "a", "size": "big"}),
            json!({"text": "a", "alpha": 120}),
            json!({"text": "a", "color": "nope"}),
            json!({"text": "a", "font": "Comic Sans"}),
            json!({"size": 10}),
        ] {
            let e = TextOverlay::from_json(&bad).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
    }
}
