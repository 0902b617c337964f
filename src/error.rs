//! Errors are values: every failure a user can see carries an HTTP status and a stable code.
//!
//! The JSON body is `{"status":N,"code":"…","message":"…"}` in that key order, as SIH writes it.

use serde::Serialize;
use std::borrow::Cow;

/// An error with an HTTP status, a stable machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub message: String,
}

impl Error {
    pub fn new(status: u16, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// 400 with the given code.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    /// An edit argument sharp would reject. SIH answers these with a 500; we answer 400.
    pub fn invalid_edit(edit: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "ImageEdits::InvalidArgument",
            format!("Edit `{edit}`: {message}"),
        )
    }

    /// SIH's catch-all for failures that are ours, not the user's.
    pub fn internal() -> Self {
        Self::new(
            500,
            "InternalError",
            "Internal error. Please contact the system administrator.",
        )
    }

    /// 503 `ImageRetrieval::Unavailable`: the store or HTTP origin is down, refusing
    /// connections, overloaded (5xx, 429) or broke off mid-answer. Transient: answered `no-store`.
    pub fn store_unavailable() -> Self {
        Self::new(
            503,
            "ImageRetrieval::Unavailable",
            "The image store is unavailable or slow; please retry.",
        )
    }

    /// 503 `ImageRetrieval::Timeout`: an HTTP origin did not connect, send or finish its answer
    /// within its timeouts (`ORIGIN_*_TIMEOUT_MS`).
    pub fn origin_timeout() -> Self {
        Self::new(
            503,
            "ImageRetrieval::Timeout",
            "The image origin did not answer in time; please retry.",
        )
    }

    /// 403 `ImageOrigin::AddressRefused`: the origin's host is, or resolves only to, an address
    /// that is not public (loopback, private, link-local, metadata…) and not in
    /// `ORIGIN_ALLOW_NETWORKS`. The address is logged, not sent.
    pub fn origin_address_refused() -> Self {
        Self::new(
            403,
            "ImageOrigin::AddressRefused",
            "The image origin's address is not a public one; pixfront does not fetch from it.",
        )
    }

    /// 403 `ImageOrigin::UrlRefused`: a URL pixfront will not fetch (scheme other than https,
    /// or http without `ORIGIN_ALLOW_HTTP`; credentials in it; host not in `ORIGIN_URL_HOSTS`).
    pub fn origin_url_refused(why: &str) -> Self {
        Self::new(
            403,
            "ImageOrigin::UrlRefused",
            format!("The image URL is not allowed: {why}."),
        )
    }

    /// 502 `ImageOrigin::Redirected`: the origin answered with a redirect pixfront may not follow
    /// (`ORIGIN_MAX_REDIRECTS`, default 0) or one without a usable `Location`.
    pub fn origin_redirected() -> Self {
        Self::new(
            502,
            "ImageOrigin::Redirected",
            "The image origin answered with a redirect that is not followed.",
        )
    }

    /// 400 `ImageOrigin::TooLarge`: the original is larger than `ORIGIN_MAX_BYTES`.
    pub fn origin_too_large(limit: u64) -> Self {
        Self::bad_request(
            "ImageOrigin::TooLarge",
            format!("The original is larger than the {limit} bytes pixfront fetches."),
        )
    }

    /// 400 `ImageOrigin::NotAnImage`: the origin's answer is not an image pixfront can read
    /// (judged from its bytes; its Content-Type is never trusted).
    pub fn origin_not_an_image() -> Self {
        Self::bad_request(
            "ImageOrigin::NotAnImage",
            "The image origin's answer is not an image pixfront can read.",
        )
    }

    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }

    /// The JSON body sent to clients.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
