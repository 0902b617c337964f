//! URL signatures (`ENABLE_SIGNATURE=Yes`) and the `expires` parameter, as SIH v7 checks them.

use crate::error::Error;
use hmac::{Hmac, Mac};
use indexmap::IndexMap;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// Where the URL signing key comes from (env, file, Secrets Manager…).
pub trait SecretProvider: Send + Sync {
    /// The key; an error here is answered as 500 `SignatureValidationFailure`.
    fn signing_key(&self) -> Result<Vec<u8>, Error>;

    /// Brings a cached key up to date (e.g. re-reads Secrets Manager after its TTL); front ends
    /// await it before [`super::parse`]. Keys known up front need nothing.
    fn refresh(&self) -> crate::BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// A key known up front (`SIGNATURE_SECRET`); `None` fails validation with a 500.
#[derive(Debug, Clone, Default)]
pub struct StaticSecret(pub Option<String>);

impl SecretProvider for StaticSecret {
    fn signing_key(&self) -> Result<Vec<u8>, Error> {
        self.0
            .as_ref()
            .map(|k| k.as_bytes().to_vec())
            .ok_or_else(validation_failure)
    }
}

/// v7's string to sign: the path, plus `?k=v&…` over every query parameter but `signature`,
/// sorted as JavaScript sorts `[key, value]` pairs (by `"key,value"` in UTF-16 order), values
/// decoded and not re-encoded.
pub fn string_to_sign(path: &str, params: &IndexMap<String, String>) -> String {
    let mut pairs: Vec<(&String, &String)> = params.iter().filter(|(k, _)| *k != "signature").collect();
    if pairs.is_empty() {
        return path.to_string();
    }
    pairs.sort_by(|a, b| {
        let ka = format!("{},{}", a.0, a.1);
        let kb = format!("{},{}", b.0, b.1);
        ka.encode_utf16().cmp(kb.encode_utf16())
    });
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", query.join("&"))
}

/// HMAC-SHA256 of `message`, lowercase hex.
pub fn sign(key: &[u8], message: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn validation_failure() -> Error {
    Error::new(500, "SignatureValidationFailure", "Signature validation failed.")
}

/// Checks the `signature` parameter. Missing/empty ⇒ 400, mismatch ⇒ 403, no key ⇒ 500.
pub fn verify(
    path: &str,
    params: &IndexMap<String, String>,
    secrets: &dyn SecretProvider,
) -> Result<(), Error> {
    let given = params.get("signature").filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::bad_request(
            "AuthorizationQueryParametersError",
            "Query-string requires the signature parameter.",
        )
    })?;
    let key = secrets.signing_key()?;
    let expected = sign(&key, &string_to_sign(path, params));
    // Constant time, unlike SIH's `!==`, so the comparison leaks nothing about the signature.
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(Error::new(
            403,
            "SignatureDoesNotMatch",
            "Signature does not match.",
        ))
    }
}

/// Checks `expires` (`YYYYMMDDTHHmmssZ`, UTC) against `now`. Returns seconds left, if given.
pub fn check_expires(params: &IndexMap<String, String>, now: OffsetDateTime) -> Result<Option<i64>, Error> {
    let Some(raw) = params.get("expires") else {
        return Ok(None);
    };
    let expiry = parse_expires(raw).ok_or_else(|| {
        Error::bad_request(
            "ImageRequestExpiryFormat",
            "Request has invalid expires value. The expires query param should map to a real date and follow the following format: YYYYMMDDTHHmmssZ (Ex: Jan 2nd, 1970 at 12:03:04PM UTC becomes 19700102T120304Z).",
        )
    })?;
    if expiry < now {
        return Err(Error::bad_request("ImageRequestExpired", "Request has expired."));
    }
    Ok(Some((expiry - now).whole_seconds()))
}

/// Strict `YYYYMMDDTHHmmssZ`: exactly 16 characters, a real calendar date and time.
pub fn parse_expires(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let month = time::Month::try_from(n(4..6)? as u8).ok()?;
    let date = time::Date::from_calendar_date(n(0..4)? as i32, month, n(6..8)? as u8).ok()?;
    let t = time::Time::from_hms(n(9..11)? as u8, n(11..13)? as u8, n(13..15)? as u8).ok()?;
    Some(date.with_time(t).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn sih_vector() {
        let path =
            "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiZWRpdHMiOnsidG9Gb3JtYXQiOiJwbmcifX0=";
        assert_eq!(
            sign(b"secret", &string_to_sign(path, &IndexMap::new())),
            "4d41311006641a56de7bca8abdbda91af254506107a2c7b338a13ca2fa95eac3"
        );
    }

    #[test]
    fn sorted_query_without_signature() {
        let p = super::super::query::parse(Some("width=10&signature=x&expires=20300101T000000Z&a=1"));
        assert_eq!(
            string_to_sign("/a.jpg", &p),
            "/a.jpg?a=1&expires=20300101T000000Z&width=10"
        );
    }

    #[test]
    fn expires_parsing() {
        let now = datetime!(2025-01-01 0:00 UTC);
        let q = |v: &str| super::super::query::parse(Some(&format!("expires={v}")));
        assert_eq!(check_expires(&q("20250101T000100Z"), now).unwrap(), Some(60));
        for bad in [
            "20250230T000000Z",
            "2025-01-01T00:00:00Z",
            "20250101T000000",
            "20250101T246000Z",
            "+2025101T000000Z",
            "",
        ] {
            assert_eq!(
                check_expires(&q(bad), now).unwrap_err().code,
                "ImageRequestExpiryFormat",
                "{bad}"
            );
        }
        assert_eq!(
            check_expires(&q("20241231T235959Z"), now).unwrap_err().code,
            "ImageRequestExpired"
        );
        assert_eq!(check_expires(&IndexMap::new(), now).unwrap(), None);
    }
}
