//! What only the Lambda front end reads: its mode and, for local runs and the events mode, where
//! originals and renditions come from.

use crate::settings::Lookup;
use std::path::PathBuf;

/// How answers go back to the event source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Buffered,
    Streaming,
    /// Upload pipeline (S3/SQS notifications) and S3 Object Lambda.
    Events,
}

impl Mode {
    /// `PIXFRONT_LAMBDA_MODE`: `buffered` (default), `streaming` or `events`.
    pub fn parse(value: Option<&str>) -> Result<Mode, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Mode::Buffered),
            Some(v) if v.eq_ignore_ascii_case("buffered") => Ok(Mode::Buffered),
            Some(v) if v.eq_ignore_ascii_case("streaming") => Ok(Mode::Streaming),
            Some(v) if v.eq_ignore_ascii_case("events") => Ok(Mode::Events),
            Some(v) => Err(format!(
                "PIXFRONT_LAMBDA_MODE: expected buffered, streaming or events, got {v:?}"
            )),
        }
    }
}

/// The Lambda-only variables.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaSettings {
    /// `PIXFRONT_LAMBDA_MODE`
    pub mode: Mode,
    /// `PIXFRONT_ROOT`: a folder per bucket instead of S3 (running the bootstrap without AWS).
    pub root: Option<PathBuf>,
    /// `PIXFRONT_RENDITIONS`: the renditions document (a path or inline JSON) of the upload
    /// pipeline.
    pub renditions: Option<String>,
    /// `PIXFRONT_OBJECT_LAMBDA_EDITS`: the fixed edits of an S3 Object Lambda transform.
    pub object_lambda_edits: Option<String>,
}

impl LambdaSettings {
    pub fn from_lookup(get: &Lookup) -> Result<LambdaSettings, String> {
        Ok(LambdaSettings {
            mode: Mode::parse(get.get("PIXFRONT_LAMBDA_MODE").as_deref())?,
            root: get.non_empty("PIXFRONT_ROOT").map(PathBuf::from),
            renditions: get.non_empty("PIXFRONT_RENDITIONS"),
            object_lambda_edits: get.non_empty("PIXFRONT_OBJECT_LAMBDA_EDITS"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_from_env() {
        assert_eq!(Mode::parse(None), Ok(Mode::Buffered));
        assert_eq!(Mode::parse(Some("")), Ok(Mode::Buffered));
        assert_eq!(Mode::parse(Some("Streaming")), Ok(Mode::Streaming));
        assert_eq!(Mode::parse(Some("events")), Ok(Mode::Events));
        assert!(Mode::parse(Some("stream")).is_err());
    }
}
