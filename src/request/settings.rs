//! What the URL dialects need to know: allowed buckets, format negotiation, Custom rewrites and
//! whether URLs must be signed (the key itself is the secret provider's business).

use crate::settings::Lookup;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestSettings {
    /// `SOURCE_BUCKETS`: raw value; `None` when unset (requests then fail with SIH's 400
    /// `GetAllowedSourceBuckets::NoSourceBuckets`).
    pub source_buckets: Option<String>,
    /// `AUTO_WEBP=Yes`: answer WebP when `Accept` lists `image/webp`.
    pub auto_webp: bool,
    /// `AUTO_AVIF=Yes`: answer AVIF when `Accept` lists `image/avif` (preferred over WebP).
    pub auto_avif: bool,
    /// `REWRITE_MATCH_PATTERN`: a JS regex literal `/pattern/flags` (Custom requests).
    pub rewrite_match_pattern: Option<String>,
    /// `REWRITE_SUBSTITUTION`
    pub rewrite_substitution: Option<String>,
    /// `ENABLE_SIGNATURE=Yes`
    pub enable_signature: bool,
}

impl RequestSettings {
    pub fn from_lookup(get: &Lookup) -> RequestSettings {
        RequestSettings {
            source_buckets: get.get("SOURCE_BUCKETS"),
            auto_webp: get.yes("AUTO_WEBP"),
            auto_avif: get.yes("AUTO_AVIF"),
            rewrite_match_pattern: get.non_empty("REWRITE_MATCH_PATTERN"),
            rewrite_substitution: get.non_empty("REWRITE_SUBSTITUTION"),
            enable_signature: get.yes("ENABLE_SIGNATURE"),
        }
    }
}
