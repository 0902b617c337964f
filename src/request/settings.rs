//! What the URL dialects need to know: allowed buckets, format negotiation, Custom rewrites and
//! whether URLs must be signed (the key itself is the secret provider's business), presets and
//! client hints.

use super::presets::Presets;
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
    /// `PIXFRONT_PRESETS`: named edit sets URLs may ask for (empty when unset).
    pub presets: Presets,
    /// `PRESETS_ONLY=Yes`: refuse every request that is not exactly one or more presets.
    pub presets_only: bool,
    /// `CLIENT_HINTS=Yes`: `Sec-CH-DPR`/`Sec-CH-Width`/`Sec-CH-Viewport-Width` fill in what the
    /// URL leaves open.
    pub client_hints: bool,
}

impl RequestSettings {
    /// Fails on a presets document that cannot be read or is invalid, and on `PRESETS_ONLY`
    /// without presets: a server must not start half-configured.
    pub fn from_lookup(get: &Lookup) -> Result<RequestSettings, String> {
        let presets = get
            .non_empty("PIXFRONT_PRESETS")
            .map(|v| Presets::load(&v))
            .transpose()?;
        let presets_only = get.yes("PRESETS_ONLY");
        if presets_only && presets.is_none() {
            return Err("PRESETS_ONLY=Yes needs PIXFRONT_PRESETS (every request would be refused)".into());
        }
        Ok(RequestSettings {
            source_buckets: get.get("SOURCE_BUCKETS"),
            auto_webp: get.yes("AUTO_WEBP"),
            auto_avif: get.yes("AUTO_AVIF"),
            rewrite_match_pattern: get.non_empty("REWRITE_MATCH_PATTERN"),
            rewrite_substitution: get.non_empty("REWRITE_SUBSTITUTION"),
            enable_signature: get.yes("ENABLE_SIGNATURE"),
            presets: presets.unwrap_or_default(),
            presets_only,
            client_hints: get.yes("CLIENT_HINTS"),
        })
    }
}
