//! JavaScript's `Number()` and `parseInt()` on strings. SIH converts Thumbor filter arguments and
//! query parameters with them, and their rules (empty string = 0, hex prefixes, prefix parsing)
//! differ from Rust's `str::parse`, so they are written out here.

/// `Number(s)`, returning `None` for `NaN` and for infinities (no edit accepts them).
pub fn number(s: &str) -> Option<f64> {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return Some(0.0);
    }
    for (prefix, radix) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] {
        if let Some(digits) = t.strip_prefix(prefix) {
            return u64::from_str_radix(digits, radix).ok().map(|v| v as f64);
        }
    }
    // Rust also accepts "inf", "nan", "infinity"; JavaScript does not (and we refuse Infinity).
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `parseInt(s)` (radix 10, or 16 with a `0x` prefix): the longest integer prefix.
pub fn parse_int(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(is_js_space);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (digits, radix) = match t.get(..2) {
        Some("0x") | Some("0X") => (&t[2..], 16),
        _ => (t, 10),
    };
    let end = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let v = digits[..end].chars().fold(0f64, |acc, c| {
        acc * radix as f64 + c.to_digit(radix).unwrap_or(0) as f64
    });
    Some(if neg { -v } else { v })
}

/// A JSON number written as JavaScript would: integral values without a fraction.
pub fn value(v: f64) -> serde_json::Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        serde_json::Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_like_javascript() {
        for (s, want) in [
            ("", Some(0.0)),
            (" 12 ", Some(12.0)),
            ("1e3", Some(1000.0)),
            ("0x10", Some(16.0)),
            (".5", Some(0.5)),
            ("abc", None),
            ("inf", None),
            ("NaN", None),
            ("12px", None),
        ] {
            assert_eq!(number(s), want, "{s:?}");
        }
    }

    #[test]
    fn parse_int_like_javascript() {
        for (s, want) in [
            ("12px", Some(12.0)),
            ("-3", Some(-3.0)),
            ("0x1f", Some(31.0)),
            ("", None),
            ("abc", None),
            ("  7", Some(7.0)),
            ("4.9", Some(4.0)),
        ] {
            assert_eq!(parse_int(s), want, "{s:?}");
        }
    }
}
