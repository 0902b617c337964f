//! URL dialect → canonical request.
//!
//! SIH accepts four dialects (base64 JSON "Default", Thumbor paths, Custom rewrites, v7 query
//! parameters); each is parsed in its own module into one [`ImageRequest`].

pub mod bucket;
pub mod custom;
pub mod default;
pub mod errors;
pub mod filters;
pub mod format;
pub mod headers;
pub mod hints;
mod jsnum;
pub mod key;
pub mod presets;
pub mod query;
pub mod settings;
pub mod signature;
pub mod thumbor;

use crate::edits::{Edit, Edits, Format};
use crate::error::Error;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};
pub use settings::RequestSettings;
pub use signature::{SecretProvider, StaticSecret};
use time::OffsetDateTime;

/// What `parse` needs from an HTTP request, whatever the transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestInput<'a> {
    /// The path with its leading `/`, as received (percent escapes intact), without the query.
    pub path: &'a str,
    /// The raw, undecoded query string (without `?`).
    pub query: Option<&'a str>,
    /// The `Accept` header.
    pub accept: Option<&'a str>,
    /// `Sec-CH-*` headers (read only with `CLIENT_HINTS=Yes`).
    pub hints: hints::ClientHints<'a>,
}

/// Parses a request the way SIH does before fetching the original: signature, `expires`,
/// request type, bucket (allowlist), key, edits, query-parameter edits, Default `headers`, and
/// output format (`toFormat` > `Accept` > `outputFormat`).
pub fn parse(
    input: &RequestInput,
    config: &RequestSettings,
    secrets: &dyn SecretProvider,
) -> Result<ImageRequest, Error> {
    parse_at(input, config, secrets, OffsetDateTime::now_utc())
}

/// [`parse`] with the current time given (for `expires`).
pub fn parse_at(
    input: &RequestInput,
    config: &RequestSettings,
    secrets: &dyn SecretProvider,
    now: OffsetDateTime,
) -> Result<ImageRequest, Error> {
    let path = input.path;
    let params = query::parse(input.query);
    if config.enable_signature {
        signature::verify(path, &params, secrets)?;
    }
    let seconds_to_expiry = signature::check_expires(&params, now)?.map(|s| s.max(0) as u64);

    let decoded = default::decode(path);
    let rewrite = match (&config.rewrite_match_pattern, &config.rewrite_substitution) {
        (Some(p), Some(s)) => Some((p.as_str(), s.as_str())),
        _ => None,
    };
    let request_type = if decoded.is_some() {
        RequestType::Default
    } else if rewrite.is_some() {
        RequestType::Custom
    } else if thumbor::is_thumbor(path) {
        RequestType::Thumbor
    } else {
        return Err(errors::request_type());
    };
    let allowed = bucket::allowed(config)?;

    let mut ignored = Vec::new();
    let mut requested_format = None;
    let mut effort_value = None;
    let mut headers = None;
    let mut preset_names = Vec::new();
    let (bucket, key, mut edits_json) = match (&decoded, rewrite) {
        (Some(request), _) => {
            let field = |k: &str| request.as_object().and_then(|o| o.get(k));
            let bucket = bucket::for_default(field("bucket"), &allowed)?;
            let key = match field("key") {
                Some(Value::String(k)) => k.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err(errors::no_such_key("undefined")),
            };
            let edits = match field("edits") {
                Some(Value::Object(m)) => m.clone(),
                None | Some(Value::Null) => Map::new(),
                Some(_) => {
                    ignored.push("edits".to_string());
                    Map::new()
                }
            };
            requested_format = match field("outputFormat") {
                None | Some(Value::Null) => None,
                Some(Value::String(f)) => {
                    Some(Format::parse(f).ok_or_else(|| crate::edits::errors::unsupported_format(f))?)
                }
                Some(other) => return Err(crate::edits::errors::unsupported_format(&other.to_string())),
            };
            effort_value = field("effort").cloned();
            if let Some(Value::Object(h)) = field("headers") {
                headers = Some(headers::filter(h));
            }
            match field("preset") {
                None | Some(Value::Null) => {}
                Some(Value::String(list)) => presets::push_names(list, &mut preset_names),
                Some(Value::Array(names)) => {
                    for n in names {
                        let n = n.as_str().ok_or_else(|| presets::unknown(&n.to_string()))?;
                        presets::push_names(n, &mut preset_names);
                    }
                }
                Some(other) => return Err(presets::unknown(&other.to_string())),
            }
            (bucket, key, edits)
        }
        (None, rw) => {
            let bucket = bucket::for_path(path, &allowed);
            let rewritten = match rw {
                Some((p, s)) => custom::Rewrite::cached(p, s)?.apply(path)?,
                None => path.to_string(),
            };
            let key = key::from_path(&rewritten, &bucket)?;
            let (edits, unknown) = thumbor::map_path(&rewritten)?;
            ignored.extend(unknown);
            preset_names = filters::preset_names(&rewritten);
            (bucket, key, edits)
        }
    };
    query::merge(&mut edits_json, query::edits(&params)?);
    if let Some(list) = params.get("preset") {
        presets::push_names(list, &mut preset_names);
    }
    if config.presets_only {
        let extras = requested_format.is_some() || effort_value.is_some() || headers.is_some();
        if preset_names.is_empty() || !edits_json.is_empty() || !ignored.is_empty() || extras {
            return Err(errors::presets_only());
        }
    }
    if !preset_names.is_empty() {
        edits_json = config.presets.resolve(&preset_names, edits_json)?;
    }
    let client_hints = config
        .client_hints
        .then(|| hints::apply(&input.hints, &mut edits_json));

    // Output format (SIH's getOutputFormat + determineOutputFormat).
    let to_format = match edits_json.get("toFormat") {
        Some(Value::String(f)) => {
            Some(Format::parse(f).ok_or_else(|| crate::edits::errors::unsupported_format(f))?)
        }
        _ => None,
    };
    let negotiated = format::negotiate(input.accept, config);
    let output_format = negotiated.or(requested_format);
    let effort = match (request_type, output_format, effort_value) {
        (RequestType::Default, Some(Format::Webp), Some(v)) => Some(effort(&v)),
        _ => None,
    };
    if matches!(request_type, RequestType::Thumbor | RequestType::Custom) {
        if let Some(f) = to_format.or(output_format) {
            fix_quality(&mut edits_json, f);
        }
    }

    let (edits, unknown) = Edits::from_json(&edits_json)?;
    ignored.extend(unknown);
    for e in edits.iter() {
        if let Edit::OverlayWith(o) = e {
            if !allowed.contains(&o.bucket) {
                return Err(bucket::cannot_access_overlay());
            }
        }
    }
    Ok(ImageRequest {
        request_type,
        bucket,
        key,
        edits,
        output_format,
        effort,
        headers,
        format_negotiated: (config.auto_webp || config.auto_avif) && to_format.is_none(),
        seconds_to_expiry,
        ignored,
        client_hints,
    })
}

/// Default `effort`: `Math.trunc`, valid 0–6, else sharp's default 4.
fn effort(v: &Value) -> u8 {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => jsnum::number(s),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    n.map(f64::trunc)
        .filter(|n| (0.0..=6.0).contains(n))
        .map_or(4, |n| n as u8)
}

/// SIH's `fixQuality` (Thumbor/Custom): the first per-format options edit is re-keyed to the
/// output format, so `quality(80)` on a `.jpg` served as WebP sets WebP's quality.
fn fix_quality(edits: &mut Map<String, Value>, output: Format) {
    const KEYS: [&str; 7] = ["jpeg", "png", "webp", "tiff", "heif", "gif", "avif"];
    let target = output.name();
    if !KEYS.contains(&target) {
        return;
    }
    let first = edits.keys().find(|k| KEYS.contains(&k.as_str())).cloned();
    if let Some(first) = first.filter(|k| k != target) {
        if let Some(v) = edits.get(&first).cloned() {
            edits.insert(target.to_string(), v);
            edits.shift_remove(&first);
        }
    }
}

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
    /// Seconds until the signed URL's `expires`, if given. SIH v7 then answers
    /// `Cache-Control: max-age=<this>,public` so caches never outlive the URL.
    #[serde(skip)]
    pub seconds_to_expiry: Option<u64>,
    /// Edit keys and Thumbor filters that were not understood (SIH ignores them silently).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// With `CLIENT_HINTS=Yes`: the hint headers the answer depends on (`Vary`); `None` when
    /// client hints are off (no `Accept-CH` either). What they set is in `edits`.
    #[serde(skip)]
    pub client_hints: Option<Vec<&'static str>>,
}

fn ser_edits<S: serde::Serializer>(e: &Edits, s: S) -> Result<S::Ok, S::Error> {
    e.to_json().serialize(s)
}

impl ImageRequest {
    /// A Default request for `bucket`/`key` with `edits` and nothing else (library callers,
    /// tests and benches).
    pub fn new(bucket: impl Into<String>, key: impl Into<String>, edits: Edits) -> ImageRequest {
        ImageRequest {
            request_type: RequestType::Default,
            bucket: bucket.into(),
            key: key.into(),
            edits,
            output_format: None,
            effort: None,
            headers: None,
            format_negotiated: false,
            seconds_to_expiry: None,
            ignored: Vec::new(),
            client_hints: None,
        }
    }

    /// The format the pipeline should encode to, before looking at the original: the last
    /// `toFormat` edit, else the negotiated/requested output format. `None` = keep the input's.
    pub fn requested_format(&self) -> Option<Format> {
        self.edits.to_format().or(self.output_format)
    }
}
