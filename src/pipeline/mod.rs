//! The engine: canonical request + original bytes → output bytes + content type.
//! Pure and synchronous; knows nothing of HTTP, S3 or Lambda.

pub mod ops;
pub mod picture;

use crate::config::Config;
use crate::error::Error;
use crate::request::ImageRequest;
use std::collections::HashMap;
use std::time::Duration;

/// Objects the pipeline needs besides the original (overlays), fetched beforehand by the
/// front end through the storage trait so the pipeline never does I/O.
#[derive(Debug, Default, Clone)]
pub struct Resources {
    /// (bucket, key) → bytes of each `overlayWith` image.
    pub overlays: HashMap<(String, String), bytes::Bytes>,
}

/// Time spent per stage, for `Server-Timing` and logs.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Timings {
    pub decode: Duration,
    pub transform: Duration,
    pub encode: Duration,
}

/// The rendered image.
#[derive(Debug, Clone)]
pub struct Output {
    pub bytes: bytes::Bytes,
    pub content_type: String,
    /// True when the original bytes were returned untouched (no edits, no format change).
    pub passthrough: bool,
    pub timings: Timings,
}

/// The (bucket, key) of every overlay the request needs.
pub fn overlay_refs(req: &ImageRequest) -> Vec<(String, String)> {
    req.edits
        .iter()
        .filter_map(|e| match e {
            crate::edits::Edit::OverlayWith(o) => Some((o.bucket.clone(), o.key.clone())),
            _ => None,
        })
        .collect()
}

/// Renders `req` from the original's bytes. `content_type` is the original's stored
/// Content-Type, if any (the real format is always sniffed from the bytes).
pub fn process(
    req: &ImageRequest,
    original: &bytes::Bytes,
    content_type: Option<&str>,
    resources: &Resources,
    config: &Config,
) -> Result<Output, Error> {
    let _ = (req, content_type, resources, config);
    // Placeholder until the pipeline lands: pass the original through.
    Ok(Output {
        bytes: original.clone(),
        content_type: content_type.unwrap_or("image").to_string(),
        passthrough: true,
        timings: Timings::default(),
    })
}
