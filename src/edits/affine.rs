//! `affine`'s argument: a 2×2 matrix (`[a, b, c, d]` or `[[a, b], [c, d]]`, the one argument
//! SIH passes), or pixfront's `{matrix, background?, idx?, idy?, odx?, ody?, interpolator?}`
//! for sharp's second argument (docs/edits.md, "Geometry").

use super::{errors, num, Color};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolator {
    Nearest,
    Bilinear,
    Bicubic,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffineOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub idx: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub idy: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub odx: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "num::ser_opt"
    )]
    pub ody: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpolator: Option<Interpolator>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Affine {
    /// Row-major [a, b, c, d]: output = [[a, b], [c, d]] · input.
    pub matrix: [f64; 4],
    /// Given as `[[a, b], [c, d]]` (kept for the JSON written back).
    pub nested: bool,
    /// `None` for the bare-matrix form.
    pub options: Option<AffineOptions>,
}

/// sharp's other interpolators, valid there but not implemented here.
const OTHER_INTERPOLATORS: [&str; 3] = ["lbb", "nohalo", "vsqbs"];

fn bad(message: impl std::fmt::Display) -> Error {
    Error::invalid_edit("affine", message)
}

fn matrix(v: &Value) -> Option<([f64; 4], bool)> {
    let xs = v.as_array()?;
    let flat: Vec<f64> = match xs.len() {
        4 => xs.iter().map(Value::as_f64).collect::<Option<_>>()?,
        2 => xs
            .iter()
            .map(|row| row.as_array().filter(|r| r.len() == 2))
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .flatten()
            .map(Value::as_f64)
            .collect::<Option<_>>()?,
        _ => return None,
    };
    Some(([flat[0], flat[1], flat[2], flat[3]], xs.len() == 2))
}

impl Affine {
    pub fn from_json(v: &Value) -> Result<Affine, Error> {
        let not_matrix = || bad("expected a 1×4 or 2×2 array of numbers");
        let Value::Object(o) = v else {
            let (matrix, nested) = matrix(v).ok_or_else(not_matrix)?;
            return Ok(Affine {
                matrix,
                nested,
                options: None,
            });
        };
        let (matrix, nested) = o.get("matrix").and_then(matrix).ok_or_else(not_matrix)?;
        let mut rest = o.clone();
        rest.remove("matrix");
        if let Some(name) = rest.get("interpolator").and_then(Value::as_str) {
            if OTHER_INTERPOLATORS.contains(&name) {
                return Err(errors::unsupported_edit(
                    "affine",
                    format!("interpolator {name:?} is not supported (nearest, bilinear, bicubic are)"),
                ));
            }
        }
        let options: AffineOptions = serde_json::from_value(Value::Object(rest)).map_err(bad)?;
        Ok(Affine {
            matrix,
            nested,
            options: Some(options),
        })
    }

    pub fn to_json(&self) -> Value {
        let [a, b, c, d] = self.matrix.map(num::value);
        let m = if self.nested {
            Value::Array(vec![Value::Array(vec![a, b]), Value::Array(vec![c, d])])
        } else {
            Value::Array(vec![a, b, c, d])
        };
        match &self.options {
            None => m,
            Some(o) => {
                let mut map = Map::new();
                map.insert("matrix".into(), m);
                if let Ok(Value::Object(rest)) = serde_json::to_value(o) {
                    map.extend(rest);
                }
                Value::Object(map)
            }
        }
    }
}
