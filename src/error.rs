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
