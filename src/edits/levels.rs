//! Level edits: sharp's `linear` and `recomb`. Parsed by hand rather than by serde because
//! sharp's rules for the argument shapes (which defaults fill `a` or `b`, that a bare array is
//! an error) are not ones serde's untagged enums can express.

use super::num;
use crate::error::Error;
use serde_json::{Map, Value};

/// `linear`: output = a · input + b per channel. SIH passes one argument, so a bare number is
/// `a` with `b = 0` and `null` is a no-op (empty lists); `{a, b}` (each a number or one value
/// per channel) is pixfront's spelling of sharp's two arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
}

fn bad(message: impl std::fmt::Display) -> Error {
    Error::invalid_edit("linear", message)
}

fn levels(v: Option<&Value>, name: &str) -> Result<Option<Vec<f64>>, Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(vec![n.as_f64().unwrap_or(f64::NAN)])),
        Some(Value::Array(xs)) if !xs.is_empty() => xs
            .iter()
            .map(|x| x.as_f64())
            .collect::<Option<Vec<f64>>>()
            .map(Some)
            .ok_or_else(|| bad(format!("`{name}` must be a number or an array of numbers"))),
        Some(_) => Err(bad(format!("`{name}` must be a number or an array of numbers"))),
    }
}

impl Linear {
    pub fn from_json(v: &Value) -> Result<Linear, Error> {
        let (a, b) = match v {
            Value::Null => (None, None),
            Value::Number(_) => (levels(Some(v), "a")?, None),
            Value::Object(o) => {
                if let Some(k) = o.keys().find(|k| *k != "a" && *k != "b") {
                    return Err(bad(format!("unknown option `{k}`")));
                }
                (levels(o.get("a"), "a")?, levels(o.get("b"), "b")?)
            }
            _ => return Err(bad("expected a number (a, with b = 0) or {a, b}")),
        };
        // sharp: a lone number on either side gets the other's neutral value.
        let (a, b) = match (a, b) {
            (None, Some(b)) if b.len() == 1 => (vec![1.0], b),
            (Some(a), None) if a.len() == 1 => (a, vec![0.0]),
            (a, b) => (a.unwrap_or_default(), b.unwrap_or_default()),
        };
        if a.len() != b.len() {
            return Err(bad("expected a and b to be arrays of the same length"));
        }
        Ok(Linear { a, b })
    }

    pub fn to_json(&self) -> Value {
        match (self.a.as_slice(), self.b.as_slice()) {
            ([], _) => Value::Null,
            ([a], [b]) if *b == 0.0 => num::value(*a),
            (a, b) => {
                let list = |xs: &[f64]| Value::Array(xs.iter().map(|x| num::value(*x)).collect());
                Value::Object(Map::from_iter([
                    ("a".to_string(), list(a)),
                    ("b".to_string(), list(b)),
                ]))
            }
        }
    }
}

/// `recomb`: a 3×3 matrix (applied to R, G, B; alpha kept) or 4×4 (R, G, B, A), row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Recomb {
    pub rows: Vec<Vec<f64>>,
}

impl Recomb {
    pub fn from_json(v: &Value) -> Result<Recomb, Error> {
        let bad = || Error::invalid_edit("recomb", "expected a 3×3 or 4×4 array of numbers");
        let rows = v.as_array().ok_or_else(bad)?;
        let n = rows.len();
        if n != 3 && n != 4 {
            return Err(bad());
        }
        let rows = rows
            .iter()
            .map(|row| {
                let row = row.as_array().filter(|r| r.len() == n)?;
                row.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>()
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        Ok(Recomb { rows })
    }

    pub fn to_json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|r| Value::Array(r.iter().map(|x| num::value(*x)).collect()))
                .collect(),
        )
    }
}
