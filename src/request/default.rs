//! The Default dialect: the path is standard-alphabet, padded base64 of a UTF-8 JSON request
//! `{bucket?, key, edits?, outputFormat?, effort?, headers?}`.

use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine;
use serde_json::Value;

/// Node's `Buffer.from(s, "base64")` is lenient about padding and trailing bits; SIH relies on
/// it after its own strict regex, so we decode the same way.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// SIH's `matchDefault` regex, `^(\/?)([0-9a-zA-Z+/]{4})*(([0-9a-zA-Z+/]{2}==)|([0-9a-zA-Z+/]{3}=))?$`,
/// checked by hand (the optional leading `/` is also a base64 character, so both readings count).
pub fn looks_like_base64(path: &str) -> bool {
    fn body(s: &[u8]) -> bool {
        if s.len() % 4 != 0 {
            return false;
        }
        let alpha = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
        let pad = s.iter().rev().take_while(|b| **b == b'=').count();
        pad <= 2 && s[..s.len() - pad].iter().all(alpha)
    }
    let b = path.as_bytes();
    body(b) || b.first() == Some(&b'/') && body(&b[1..])
}

/// Decodes the JSON payload of a Default path (one leading `/` stripped), or `None` when the
/// path is not a Default request.
pub fn decode(path: &str) -> Option<Value> {
    if !looks_like_base64(path) {
        return None;
    }
    let encoded = path.strip_prefix('/').unwrap_or(path).trim_end_matches('=');
    let bytes = LENIENT.decode(encoded).ok()?;
    // Node decodes invalid UTF-8 to U+FFFD before JSON.parse.
    serde_json::from_str(&String::from_utf8_lossy(&bytes)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_matches_sih_regex() {
        for (p, want) in [
            ("/eyJrZXkiOiJhLmpwZyJ9", true),
            ("eyJrZXkiOiJhLmpwZyJ9", true),
            ("/abc", true),
            ("/ab=", true),
            ("/abc==", false),
            ("/ab-_", false),
            ("/a.jpg", false),
            ("/", true),
        ] {
            assert_eq!(looks_like_base64(p), want, "{p}");
        }
    }

    #[test]
    fn decodes_json_only() {
        assert_eq!(
            decode("/eyJrZXkiOiJhLmpwZyJ9"),
            Some(serde_json::json!({"key":"a.jpg"}))
        );
        assert_eq!(decode("/MTIz"), Some(serde_json::json!(123)));
        assert_eq!(decode("/aGVsbG8="), None); // "hello"
    }
}
