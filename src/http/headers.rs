//! Response headers: SIH's success/error/CORS sets (§4 of the compatibility spec) plus what SIH
//! lacks (ETag, Vary, Server-Timing, error Cache-Control, preflight).

use super::message::{HttpRequest, HttpResponse, RequestLog};
use super::settings::HttpSettings;
use crate::error::Error;
use crate::pipeline::PipelineSettings;
use crate::request::ImageRequest;
use crate::storage::{sniff_content_type, Object};
use sha2::{Digest, Sha256};
use std::fmt;

/// SIH's Cache-Control when the original has none.
pub const DEFAULT_CACHE_CONTROL: &str = "max-age=31536000,public";
/// Methods the handler answers.
pub const ALLOW: &str = "GET, HEAD, OPTIONS";

/// Stored Content-Types SIH keeps as they are (§3.4).
const KNOWN_TYPES: [&str; 7] = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/tiff",
    "image/gif",
    "image/svg+xml",
    "image/avif",
];

/// An ordered header list where setting a name replaces any earlier value (case-insensitive).
#[derive(Debug, Default)]
pub struct HeaderList(Vec<(String, String)>);

impl HeaderList {
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.0.push((name.to_string(), value.to_string()));
    }

    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

/// SIH's CORS set, sent on every answer; the origin only when CORS is on.
pub fn cors(config: &HttpSettings, h: &mut HeaderList) {
    h.set("Access-Control-Allow-Methods", "GET");
    h.set("Access-Control-Allow-Headers", "Content-Type, Authorization");
    h.set("Access-Control-Allow-Credentials", "true");
    if config.cors_enabled {
        h.set("Access-Control-Allow-Origin", &config.cors_origin);
    }
}

/// Headers of a 200 (and of its 304), in SIH's order: Cache-Control, the request's custom
/// headers, the `expires` cap, CORS, Expires, Last-Modified; then `Accept-CH` when client hints
/// are on, and `Vary` when the format followed `Accept` or the size followed client hints.
/// Content-Type, ETag and Server-Timing are added by the caller.
pub fn success_headers(config: &HttpSettings, image: &ImageRequest, object: &Object) -> HeaderList {
    let mut h = HeaderList::default();
    h.set(
        "Cache-Control",
        object.cache_control.as_deref().unwrap_or(DEFAULT_CACHE_CONTROL),
    );
    for (k, v) in image.headers.iter().flatten() {
        h.set(k, v);
    }
    // A URL with `expires` must not outlive it in any cache (SIH v7).
    if let Some(secs) = image.seconds_to_expiry {
        h.set("Cache-Control", &format!("max-age={secs},public"));
    }
    cors(config, &mut h);
    if let Some(t) = object.expires {
        h.set("Expires", &httpdate::fmt_http_date(t));
    }
    if let Some(t) = object.last_modified {
        h.set("Last-Modified", &httpdate::fmt_http_date(t));
    }
    let mut vary = Vec::new();
    if image.format_negotiated {
        vary.push("Accept");
    }
    if let Some(used) = &image.client_hints {
        h.set("Accept-CH", crate::request::hints::ACCEPT_CH);
        vary.extend(used);
    }
    if !vary.is_empty() {
        h.set("Vary", &vary.join(", "));
    }
    h
}

/// Sets Content-Type, with `nosniff` so browsers never reinterpret the bytes, and a sandboxing
/// CSP on SVG: an SVG original is served as is and could otherwise run script on our origin
/// when opened directly.
pub fn content_type(h: &mut HeaderList, content_type: &str) {
    h.set("Content-Type", content_type);
    h.set("X-Content-Type-Options", "nosniff");
    if content_type.starts_with("image/svg") {
        h.set(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        );
    }
}

/// The JSON error answer: SIH's body and CORS set, plus a short Cache-Control so a CDN does not
/// pin a transient failure (4xx and 5xx values configurable) and `Retry-After` on 503.
pub fn error_response(config: &HttpSettings, err: &Error, log: RequestLog) -> HttpResponse {
    let mut h = HeaderList::default();
    cors(config, &mut h);
    h.set("Content-Type", "application/json");
    let cache = if err.status >= 500 {
        &config.error_cache_control_5xx
    } else {
        &config.error_cache_control_4xx
    };
    h.set("Cache-Control", error_cache_override(err).unwrap_or(cache));
    if err.status == 503 {
        h.set("Retry-After", "1");
    }
    HttpResponse {
        status: err.status,
        headers: h.into_vec(),
        body: err.to_json().into(),
        log,
    }
}

/// Errors no cache may keep, whatever `ERROR_CACHE_CONTROL_5XX` says: a face detector outage
/// must not pin a refusal (or a fallback image) at the URL once detection is back.
pub fn error_cache_override(err: &Error) -> Option<&'static str> {
    matches!(&*err.code, "FaceDetectionUnavailable" | "ContentModerationFailed").then_some("no-store")
}

/// `OPTIONS`: a CORS preflight answer when CORS is on, else just the allowed methods.
pub fn preflight(config: &HttpSettings, req: &HttpRequest) -> HttpResponse {
    let mut h = HeaderList::default();
    h.set("Allow", ALLOW);
    if config.cors_enabled {
        cors(config, &mut h);
        h.set("Access-Control-Allow-Methods", ALLOW);
        if let Some(asked) = req.header("Access-Control-Request-Headers") {
            h.set("Access-Control-Allow-Headers", asked);
        }
        h.set("Access-Control-Max-Age", "86400");
    }
    HttpResponse {
        status: 204,
        headers: h.into_vec(),
        body: bytes::Bytes::new(),
        log: RequestLog::default(),
    }
}

/// The content type SIH works with for an original (§3.4): a known stored type as is, another
/// stored type replaced by sniffing (500 `RequestTypeError` when nothing matches), none when the
/// store has none (the pipeline then labels pass-through output `image`, as SIH does).
pub fn source_content_type(object: &Object) -> Result<Option<String>, Error> {
    match object.content_type.as_deref() {
        None => Ok(None),
        Some(t) if KNOWN_TYPES.contains(&t) => Ok(Some(t.to_string())),
        Some(_) => sniff_content_type(&object.body)
            .map(|t| Some(t.to_string()))
            .ok_or_else(|| {
                Error::new(
                    500,
                    "RequestTypeError",
                    "The file does not have an extension and the file type could not be inferred. Please ensure that your original image is of a supported file type (jpg/jpeg, png, tiff, webp, gif, avif). Inferring the image type from hex headers is not available for SVG images. Refer to the documentation for additional guidance on forming image requests.",
                )
            }),
    }
}

/// A strong ETag for the rendered image: the original's ETag and the canonical request (which
/// includes any negotiated format) determine the output, together with the engine version and
/// the settings that change pixels.
pub fn etag(original_etag: &str, image: &ImageRequest, config: &PipelineSettings) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    h.update([0]);
    h.update(original_etag);
    h.update([0]);
    request_digest(&mut h, image, config);
    format!("\"{}\"", hex::encode(&h.finalize()[..16]))
}

/// The digest naming a stored rendition in `RESULT_BUCKET` (`RESULT_KEYS=hash`), hex: the
/// ETag's inputs without the original's ETag, which is unknown until the original is read.
/// SHA-256 over the canonical request (every edit, forced face blur included, and the output
/// format chosen by `Accept`) and the pixel-changing settings.
pub fn request_hash(image: &ImageRequest, config: &PipelineSettings) -> String {
    let mut h = Sha256::new();
    h.update(concat!("rendition/", env!("CARGO_PKG_VERSION")));
    h.update([0]);
    request_digest(&mut h, image, config);
    hex::encode(h.finalize())
}

fn request_digest(h: &mut Sha256, image: &ImageRequest, config: &PipelineSettings) {
    h.update(serde_json::to_vec(image).unwrap_or_default());
    h.update([0]);
    h.update(format!(
        "{}/{}/{}/{}/{:?}",
        config.keep_metadata,
        config.max_output_dimension,
        config.max_input_pixels,
        config.max_animation_pixels,
        config.auto_quality
    ));
}

/// `If-None-Match` semantics (weak comparison, RFC 9110 §13.1.2): `*` or any listed tag.
pub fn none_match_hits(header: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// `Server-Timing` value (milliseconds per stage).
pub struct Timing<'a>(&'a RequestLog);

impl<'a> From<&'a RequestLog> for Timing<'a> {
    fn from(log: &'a RequestLog) -> Self {
        Timing(log)
    }
}

impl fmt::Display for Timing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "queue;dur={:.1}, fetch;dur={:.1}, decode;dur={:.1}, transform;dur={:.1}, encode;dur={:.1}",
            ms(self.0.queue),
            ms(self.0.fetch),
            ms(self.0.decode),
            ms(self.0.transform),
            ms(self.0.encode)
        )?;
        // Part of `encode`: the level, the quality chosen and the sample's SSIMULACRA2 score
        // (none when the level's default was used without a search).
        if let Some(q) = &self.0.quality {
            write!(f, ", quality;desc=\"auto:{} q={}", q.level.name(), q.quality)?;
            if let Some(score) = q.score {
                write!(f, " ssimulacra2={score:.1} trials={}", q.trials)?;
            }
            f.write_str("\"")?;
        }
        // Part of `transform`; the description names the detector and the cache outcome.
        if let Some(faces) = &self.0.faces {
            let cache = match faces.cache_hit {
                Some(true) => " hit",
                Some(false) => " miss",
                None => "",
            };
            write!(
                f,
                ", faces;dur={:.1};desc=\"{}{cache}\"",
                ms(faces.elapsed),
                faces.detector.unwrap_or("none")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_names_the_auto_quality() {
        use crate::edits::AutoLevel;
        use crate::pipeline::quality::AutoQuality;
        let mut log = RequestLog::default();
        log.quality = Some(AutoQuality {
            level: AutoLevel::Good,
            quality: 72,
            score: Some(81.66),
            trials: 3,
        });
        let t = Timing::from(&log).to_string();
        assert!(
            t.ends_with(", quality;desc=\"auto:good q=72 ssimulacra2=81.7 trials=3\""),
            "{t}"
        );
        log.quality = Some(AutoQuality {
            level: AutoLevel::Eco,
            quality: 65,
            score: None,
            trials: 0,
        });
        assert!(Timing::from(&log)
            .to_string()
            .ends_with(", quality;desc=\"auto:eco q=65\""));
    }

    #[test]
    fn if_none_match_matching() {
        assert!(none_match_hits("\"abc\"", "\"abc\""));
        assert!(none_match_hits("W/\"abc\"", "\"abc\""));
        assert!(none_match_hits("\"x\", \"abc\"", "\"abc\""));
        assert!(none_match_hits("*", "\"abc\""));
        assert!(!none_match_hits("\"abd\"", "\"abc\""));
        assert!(!none_match_hits("", "\"abc\""));
    }

    #[test]
    fn source_content_type_follows_sih() {
        let obj = |ct: Option<&str>, body: &'static [u8]| Object {
            body: bytes::Bytes::from_static(body),
            content_type: ct.map(str::to_string),
            ..Object::default()
        };
        let png = b"\x89PNG\r\n\x1a\n";
        assert_eq!(source_content_type(&obj(None, png)).unwrap(), None);
        assert_eq!(
            source_content_type(&obj(Some("image/gif"), png))
                .unwrap()
                .as_deref(),
            Some("image/gif")
        );
        assert_eq!(
            source_content_type(&obj(Some("binary/octet-stream"), png))
                .unwrap()
                .as_deref(),
            Some("image/png")
        );
        let err = source_content_type(&obj(Some("image/jpg"), b"hello")).unwrap_err();
        assert_eq!((err.status, &*err.code), (500, "RequestTypeError"));
    }

    #[test]
    fn error_cache_control_by_class() {
        let c = HttpSettings::default();
        let r = error_response(&c, &Error::bad_request("X", "m"), RequestLog::default());
        assert!(r.headers.contains(&("Cache-Control".into(), "max-age=10".into())));
        let r = error_response(&c, &Error::internal(), RequestLog::default());
        assert!(r.headers.contains(&("Cache-Control".into(), "no-store".into())));
        let r = error_response(&c, &Error::new(503, "Overloaded", "m"), RequestLog::default());
        assert!(r.headers.contains(&("Retry-After".into(), "1".into())));
    }
}
