//! Colours as sharp accepts them: a CSS string (`"red"`, `"#ff0000"`, `"rgba(…)"`) or an
//! object `{r, g, b, alpha?}`. Serialised the way SIH's `Color(c).object()` writes them:
//! `{r, g, b}` plus `alpha` only when it is not 1.
//!
//! Also the colour family's argument types (`negate`, `modulate`; `tint` takes a [`Color`], the
//! others plain values; see docs/edits.md, "Colour"). [`Color`] is shared: geometry and alpha
//! edits take one as their background.

use super::num;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Color {
    /// 0–255
    pub r: f64,
    pub g: f64,
    pub b: f64,
    /// 0–1
    pub alpha: f64,
}

impl Color {
    pub const BLACK: Color = Color {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        alpha: 1.0,
    };
    pub const WHITE: Color = Color {
        r: 255.0,
        g: 255.0,
        b: 255.0,
        alpha: 1.0,
    };
    pub const TRANSPARENT: Color = Color {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        alpha: 0.0,
    };

    /// Parses a CSS colour, or a bare hex string without `#` as Thumbor writes it (`ffffff`).
    pub fn parse_css(s: &str) -> Option<Color> {
        let s = s.trim();
        let bare_hex = matches!(s.len(), 3 | 4 | 6 | 8) && s.bytes().all(|b| b.is_ascii_hexdigit());
        let parsed = if bare_hex {
            csscolorparser::parse(&format!("#{s}"))
        } else {
            csscolorparser::parse(s)
        };
        let c = parsed.ok()?;
        Some(Color {
            r: (c.r as f64 * 255.0).round(),
            g: (c.g as f64 * 255.0).round(),
            b: (c.b as f64 * 255.0).round(),
            alpha: c.a as f64,
        })
    }

    /// RGBA with 8-bit channels (alpha scaled to 0–255).
    pub fn to_rgba8(&self) -> [u8; 4] {
        let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
        [c(self.r), c(self.g), c(self.b), c(self.alpha * 255.0)]
    }
}

#[derive(Serialize, Deserialize)]
struct ColorObject {
    #[serde(serialize_with = "super::num::ser")]
    r: f64,
    #[serde(serialize_with = "super::num::ser")]
    g: f64,
    #[serde(serialize_with = "super::num::ser")]
    b: f64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::num::ser_opt"
    )]
    alpha: Option<f64>,
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let alpha = if (self.alpha - 1.0).abs() < f64::EPSILON {
            None
        } else {
            Some(self.alpha)
        };
        ColorObject {
            r: self.r,
            g: self.g,
            b: self.b,
            alpha,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Css(String),
            Obj(ColorObject),
        }
        match Repr::deserialize(d)? {
            Repr::Css(s) => Color::parse_css(&s)
                .ok_or_else(|| serde::de::Error::custom(format!("unparsable colour {s:?}"))),
            Repr::Obj(o) => {
                let in_range = |v: f64| (0.0..=255.0).contains(&v);
                let alpha = o.alpha.unwrap_or(1.0);
                if !(in_range(o.r) && in_range(o.g) && in_range(o.b) && (0.0..=1.0).contains(&alpha)) {
                    return Err(serde::de::Error::custom(
                        "colour channels must be 0–255 and alpha 0–1",
                    ));
                }
                Ok(Color {
                    r: o.r,
                    g: o.g,
                    b: o.b,
                    alpha,
                })
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_thumbor_and_css_forms() {
        assert_eq!(
            Color::parse_css("ffffff").unwrap().to_rgba8(),
            [255, 255, 255, 255]
        );
        assert_eq!(Color::parse_css("f00").unwrap().to_rgba8(), [255, 0, 0, 255]);
        assert_eq!(Color::parse_css("red").unwrap().to_rgba8(), [255, 0, 0, 255]);
        assert_eq!(Color::parse_css("#00ff0080").unwrap().to_rgba8()[3], 128);
        assert!(Color::parse_css("notacolour").is_none());
    }

    #[test]
    fn serialises_like_color_object() {
        let v = serde_json::to_value(Color::parse_css("ffffff").unwrap()).unwrap();
        assert_eq!(v, serde_json::json!({"r":255,"g":255,"b":255}));
        let c: Color = serde_json::from_value(serde_json::json!({"r":1,"g":2,"b":3,"alpha":0.5})).unwrap();
        assert_eq!(c.to_rgba8(), [1, 2, 3, 128]);
    }
}
