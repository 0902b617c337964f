//! URL dialect → canonical request.
//!
//! SIH accepts four dialects (base64 JSON "Default", Thumbor paths, Custom rewrites, v7 query
//! parameters); each is parsed in its own module into one [`ImageRequest`].

pub mod errors;

use crate::edits::{Edits, Format};
use indexmap::IndexMap;
use serde::Serialize;

/// Which dialect a path was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RequestType {
    Default,
    Custom,
    Thumbor,
}

/// The canonical request every dialect is parsed into. Its JSON form (`explain`) uses SIH's
/// Default-request field names, so base64-encoding it gives an equivalent Default request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRequest {
    pub request_type: RequestType,
    pub bucket: String,
    pub key: String,
    #[serde(serialize_with = "ser_edits")]
    pub edits: Edits,
    /// Output format chosen by `Accept` negotiation (AUTO_WEBP/AUTO_AVIF) or the Default
    /// request's `outputFormat`. `edits.toFormat` takes precedence over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<Format>,
    /// WebP effort 0–6 (Default requests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<u8>,
    /// Extra response headers from a Default request, deny list already applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, String>>,
    /// True when the output format depended on the `Accept` header (the response needs
    /// `Vary: Accept`).
    #[serde(skip)]
    pub format_negotiated: bool,
    /// Edit keys and Thumbor filters that were not understood (SIH ignores them silently).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

fn ser_edits<S: serde::Serializer>(e: &Edits, s: S) -> Result<S::Ok, S::Error> {
    e.to_json().serialize(s)
}

impl ImageRequest {
    /// The format the pipeline should encode to, before looking at the original: the last
    /// `toFormat` edit, else the negotiated/requested output format. `None` = keep the input's.
    pub fn requested_format(&self) -> Option<Format> {
        self.edits.to_format().or(self.output_format)
    }
}
