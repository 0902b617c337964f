//! JSON number helpers. JavaScript has one number type, so SIH writes `255`, not `255.0`;
//! these keep our JSON identical to SIH's and accept the numeric strings SIH accepts.

use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// A JSON number the way JavaScript prints it: integral values without a fraction.
pub fn value(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

pub fn ser<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

pub fn ser_opt<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ser(v, s),
        None => s.serialize_none(),
    }
}

pub fn ser_vec<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| value(*x)))
}

/// A number, or a string JavaScript's `Number()` accepts (SIH's resize accepts `"99.1"`).
pub fn js_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// `resize.width/height`: present-and-null = auto; numbers and numeric strings are rounded
/// (`Math.round`); values ≤ 0 are rejected by the caller.
pub fn de_dim<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(Some(None));
    }
    let n = js_number(&v).ok_or_else(|| serde::de::Error::custom(format!("invalid dimension {v}")))?;
    let rounded = (n + 0.5).floor();
    if !(1.0..=u32::MAX as f64).contains(&rounded) {
        return Err(serde::de::Error::custom("The image size is invalid."));
    }
    Ok(Some(Some(rounded as u32)))
}

/// Encoder quality: a number (or numeric string) rounded into 1–100.
pub fn de_opt_u8<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    let n = js_number(&v).ok_or_else(|| serde::de::Error::custom(format!("invalid quality {v}")))?;
    if !(1.0..=100.0).contains(&n.round()) {
        return Err(serde::de::Error::custom("quality must be 1–100"));
    }
    Ok(Some(n.round() as u8))
}
