//! The transport-neutral request and response every front end translates to and from.

use crate::faces::FaceStats;
use std::time::Duration;

/// A request as any transport delivers it.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// The path as received, percent-escapes intact, with its leading `/`.
    pub path: String,
    /// The raw query string without `?` (empty when none).
    pub query: String,
    pub headers: Vec<(String, String)>,
}

impl HttpRequest {
    pub fn get(path: &str) -> HttpRequest {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            headers: Vec::new(),
        }
    }

    /// What `?info` asks for (see `http::info`): `None` when the query has no `info` (or
    /// `info=false`), else whether face boxes are wanted too (`faces=true`).
    pub fn info_wanted(&self) -> Option<bool> {
        let (mut info, mut faces) = (false, false);
        for (k, v) in self
            .query
            .split('&')
            .map(|p| p.split_once('=').unwrap_or((p, "")))
        {
            let on = matches!(v, "" | "true" | "1");
            match k {
                "info" => info = on,
                "faces" => faces = on,
                _ => {}
            }
        }
        info.then_some(faces)
    }

    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back. For `HEAD` the body is empty and `Content-Length` says what GET would send.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    /// Per-stage times and the error code, for the front end's access log.
    pub log: RequestLog,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a front end logs about one request (never the query string: it may carry signatures).
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    /// Waiting for a render slot (`MAX_IN_FLIGHT`), after the original was fetched.
    pub queue: Duration,
    pub fetch: Duration,
    pub decode: Duration,
    pub transform: Duration,
    pub encode: Duration,
    /// The error code when the answer is an error (or a fallback image standing in for one).
    pub error: Option<String>,
    /// Face detection / moderation work, when the request needed any.
    pub faces: Option<FaceStats>,
    /// What `quality: "auto"` chose, when it was asked.
    pub quality: Option<crate::pipeline::quality::AutoQuality>,
}

/// Samples the demo page offers: a bucket and some keys in it.
#[derive(Debug, Clone, Default)]
pub struct DemoImages {
    pub bucket: String,
    pub keys: Vec<String>,
}
