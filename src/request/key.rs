//! Object key of a Thumbor/Custom path: SIH's `parseImageKey` steps, in order.

use crate::error::Error;
use fancy_regex::Regex;
use std::sync::LazyLock;

// Lookaheads keep the `/` after each removed segment, so consecutive segments all go; the
// `regex` crate has no lookaround, hence fancy-regex. `[0-9]` because JavaScript's `\d` is ASCII.
static CROP: LazyLock<Regex> = LazyLock::new(|| re(r"/[0-9]+x[0-9]+:[0-9]+x[0-9]+(?=/)"));
static SIZE: LazyLock<Regex> = LazyLock::new(|| re(r"/[0-9]+x[0-9]+(?=/)"));
// JavaScript's `.` stops at all line terminators.
static WATERMARK: LazyLock<Regex> = LazyLock::new(|| re(r"filters:watermark\([^\n\r\u{2028}\u{2029}]*\)"));
static FILTERS: LazyLock<Regex> = LazyLock::new(|| re(r"filters:[^/]+"));
static FIT_IN: LazyLock<Regex> = LazyLock::new(|| re(r"/fit-in(?=/)"));

fn re(p: &str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(p).expect("static pattern")
}

/// Strips the Thumbor operations from `path` and percent-decodes the rest.
pub fn from_path(path: &str, bucket: &str) -> Result<String, Error> {
    let s = CROP.replace_all(path, "");
    let s = SIZE.replace_all(&s, "");
    let s = WATERMARK.replace(&s, "");
    let s = FILTERS.replace_all(&s, "");
    let mut s = FIT_IN.replace_all(&s, "").into_owned();
    let prefix = format!("s3:{bucket}/");
    if let Some(i) = s.find(&prefix) {
        s.replace_range(i..i + prefix.len(), "");
    }
    decode_uri_component(s.trim_start_matches('/'))
}

/// JavaScript's `decodeURIComponent`: `%XX` escapes must be well formed and decode to UTF-8;
/// `+` stays `+`. SIH answers a malformed escape with 500; it is the user's mistake, so 400.
pub fn decode_uri_component(s: &str) -> Result<String, Error> {
    if !s.contains('%') {
        return Ok(s.to_string());
    }
    let bad = || {
        Error::bad_request(
            "ImageKey::MalformedEscape",
            format!("The image key {s:?} contains a malformed percent escape."),
        )
    };
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sih_key_examples() {
        for (path, bucket, key) in [
            (
                "/filters:rotate(90)/filters:grayscale()/thumbor-image (1).jpg",
                "b",
                "thumbor-image (1).jpg",
            ),
            (
                "/100x100/test-100x100/test/beach-100x100.jpg",
                "b",
                "test-100x100/test/beach-100x100.jpg",
            ),
            (
                "/fit-in/400x0/filters:fill(ffffff)/fit-in-thumbor-image (1) suffix.jpg",
                "b",
                "fit-in-thumbor-image (1) suffix.jpg",
            ),
            (
                "/fit-in/400x400/filters:watermark(bucket,folder/key.png,0,0)/image.jpg",
                "b",
                "image.jpg",
            ),
            ("/unsafe/a.jpg", "b", "unsafe/a.jpg"),
            ("/10x10:100x100/200x200/a.jpg", "b", "a.jpg"),
            ("/s3:other/fit-in/a.jpg", "other", "a.jpg"),
            ("/s3:other/a.jpg", "b", "s3:other/a.jpg"),
            ("/a%20b%2Fc+d.jpg", "b", "a b/c+d.jpg"),
            ("/%E2%82%AC.png", "b", "€.png"),
            ("/1x1/2x2/a.jpg", "b", "a.jpg"),
            ("/filters:watermark(b,k.png,0,0)/a(1).jpg", "b", ".jpg"),
        ] {
            assert_eq!(from_path(path, bucket).unwrap(), key, "{path}");
        }
    }

    #[test]
    fn malformed_escapes_are_400() {
        for p in ["/a%2.jpg", "/a%zz.jpg", "/%C3.jpg", "/%"] {
            let e = from_path(p, "b").unwrap_err();
            assert_eq!(
                (e.status, e.code.as_ref()),
                (400, "ImageKey::MalformedEscape"),
                "{p}"
            );
        }
    }
}
