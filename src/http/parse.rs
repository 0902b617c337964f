//! Turns an [`HttpRequest`] into the canonical [`ImageRequest`].
//!
//! INTERIM: until the dialects module's `request::parse` lands on main, this reads every path
//! as a plain key in the first `SOURCE_BUCKETS` bucket, without edits. It is replaced by a call
//! to `request::parse` (the only thing this file will then do is build its input).

use super::HttpRequest;
use crate::config::Config;
use crate::edits::Edits;
use crate::error::Error;
use crate::request::{ImageRequest, RequestType};

pub fn parse(req: &HttpRequest, config: &Config) -> Result<ImageRequest, Error> {
    let buckets = config.source_buckets.as_deref().ok_or_else(|| {
        Error::bad_request(
            "GetAllowedSourceBuckets::NoSourceBuckets",
            "The SOURCE_BUCKETS variable could not be read. Please check that it is not empty and contains at least one source bucket, or multiple buckets separated by commas. Spaces can be provided between commas and bucket names, these will be automatically parsed out when decoding.",
        )
    })?;
    let bucket: String = buckets
        .split(',')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let key = percent_encoding::percent_decode_str(req.path.trim_start_matches('/'))
        .decode_utf8()
        .map_err(|_| {
            // SIH answers a malformed escape with a 500 (URIError); it is the caller's mistake.
            Error::bad_request(
                "DecodeRequest::CannotReadPath",
                "The URL path you provided could not be read. Please ensure that it is properly formed according to the solution documentation.",
            )
        })?
        .into_owned();
    Ok(ImageRequest {
        request_type: RequestType::Thumbor,
        bucket,
        key,
        edits: Edits::default(),
        output_format: None,
        effort: None,
        headers: None,
        format_negotiated: false,
        ignored: Vec::new(),
    })
}
