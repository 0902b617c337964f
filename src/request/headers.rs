//! Default requests' `headers`: extra response headers, minus SIH's deny list.

use indexmap::IndexMap;
use serde_json::{Map, Value};

const EXACT: [&str; 9] = [
    "authorization",
    "connection",
    "server",
    "transfer-encoding",
    "referrer-policy",
    "permissions-policy",
    "www-authenticate",
    "proxy-authenticate",
    "x-api-key",
];
const PREFIXES: [&str; 10] = [
    "x-frame-",
    "x-content-",
    "x-xss-",
    "strict-transport-",
    "permissions-",
    "x-amz-",
    "x-amzn-",
    "access-control-",
    "cross-origin-",
    "content-",
];

/// True when SIH's `HEADER_DENY_LIST` (case-insensitive) refuses `name`.
pub fn denied(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    EXACT.contains(&n.as_str()) || PREFIXES.iter().any(|p| n.starts_with(p))
}

/// Allowed headers with string values (numbers and booleans written as JavaScript prints
/// them). Names or values that are not valid HTTP are dropped too, so the server never fails
/// on them.
pub fn filter(headers: &Map<String, Value>) -> IndexMap<String, String> {
    headers
        .iter()
        .filter(|(k, _)| !denied(k) && valid_name(k))
        .filter_map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            valid_value(&v).then(|| (k.clone(), v))
        })
        .collect()
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b))
}

fn valid_value(v: &str) -> bool {
    v.bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_list() {
        for (n, want) in [
            ("Cache-Control", false),
            ("X-Custom", false),
            ("Authorization", true),
            ("content-type", true),
            ("Content-Security-Policy", true),
            ("X-Amz-Meta-A", true),
            ("access-control-allow-origin", true),
            ("x-api-key", true),
            ("x-api-keys", false),
            ("Server", true),
            ("Vary", false),
        ] {
            assert_eq!(denied(n), want, "{n}");
        }
        let h = serde_json::json!({"Cache-Control": "max-age=10", "Content-Type": "x", "X-N": 5, "X-O": {}, "Bad Name": "v", "X-Nl": "a\r\nb"});
        let f = filter(h.as_object().unwrap());
        assert_eq!(f.len(), 2);
        assert_eq!(f["X-N"], "5");
    }
}
