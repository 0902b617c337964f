//! Source bucket resolution against the `SOURCE_BUCKETS` allowlist.

use super::settings::RequestSettings;
use crate::error::Error;

/// `SOURCE_BUCKETS` with all whitespace removed, split on `,`; the first is the default.
pub fn allowed(config: &RequestSettings) -> Result<Vec<String>, Error> {
    let raw = config.source_buckets.as_deref().ok_or_else(|| {
        Error::new(
            400,
            "GetAllowedSourceBuckets::NoSourceBuckets",
            "The SOURCE_BUCKETS variable could not be read. Please check that it is not empty and contains at least one source bucket, or multiple buckets separated by commas. Spaces can be provided between commas and bucket names, these will be automatically parsed out when decoding.",
        )
    })?;
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(compact.split(',').map(str::to_string).collect())
}

pub fn cannot_access() -> Error {
    Error::new(
        403,
        "ImageBucket::CannotAccessBucket",
        "The bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS.",
    )
}

pub fn cannot_access_overlay() -> Error {
    Error::new(
        403,
        "ImageBucket::CannotAccessBucket",
        "The overlay image bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS.",
    )
}

/// Default requests: the JSON `bucket` must be allow-listed; absent means the first one.
pub fn for_default(requested: Option<&serde_json::Value>, allowed: &[String]) -> Result<String, Error> {
    match requested {
        None => Ok(allowed[0].clone()),
        Some(serde_json::Value::String(b)) if allowed.contains(b) => Ok(b.clone()),
        Some(_) => Err(cannot_access()),
    }
}

/// Thumbor/Custom requests: the first `/`-separated segment `s3:<bucket>` of the original path
/// whose bucket is allow-listed; otherwise the first allowed bucket.
pub fn for_path(path: &str, allowed: &[String]) -> String {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix("s3:"))
        .find(|b| allowed.iter().any(|a| a == b))
        .map(str::to_string)
        .unwrap_or_else(|| allowed[0].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(v: Option<&str>) -> RequestSettings {
        RequestSettings {
            source_buckets: v.map(str::to_string),
            ..RequestSettings::default()
        }
    }

    #[test]
    fn list_parsing_and_override() {
        let a = allowed(&cfg(Some(" b1 , b2,\tb3 "))).unwrap();
        assert_eq!(a, ["b1", "b2", "b3"]);
        assert_eq!(allowed(&cfg(None)).unwrap_err().status, 400);
        assert_eq!(allowed(&cfg(Some(""))).unwrap(), [""]);
        assert_eq!(for_path("/s3:b2/a.jpg", &a), "b2");
        assert_eq!(for_path("/s3:nope/s3:b3/a.jpg", &a), "b3");
        assert_eq!(for_path("/s3:nope/a.jpg", &a), "b1");
        assert_eq!(for_default(Some(&"b2".into()), &a).unwrap(), "b2");
        assert_eq!(for_default(Some(&"x".into()), &a).unwrap_err().status, 403);
        assert_eq!(for_default(None, &a).unwrap(), "b1");
    }
}
