//! Object key of a Thumbor/Custom path: SIH's `parseImageKey` steps, in order.

use crate::error::Error;

// SIH's steps are JavaScript regexes (`/\d+x\d+(?=\/)/g`, …). They are written out as plain
// scans: three of them need lookahead, which the `regex` crate lacks, and a scan is several
// times faster than fancy-regex's backtracking on every request.

/// Removes every `/<segment>` whose segment (up to the next `/`, which stays) satisfies
/// `matches`: the `/X(?=\/)` patterns with the `g` flag.
fn remove_segments(s: &str, matches: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('/') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('/') {
            Some(j) if matches(&after[..j]) => rest = &after[j..],
            _ => {
                out.push('/');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[0-9]+x[0-9]+` (JavaScript's `\d` is ASCII).
fn is_size(seg: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    seg.split_once('x').is_some_and(|(w, h)| digits(w) && digits(h))
}

fn is_crop(seg: &str) -> bool {
    seg.split_once(':').is_some_and(|(a, b)| is_size(a) && is_size(b))
}

/// The first `filters:watermark\(.*\)`: greedy to the last `)` before a line terminator.
fn remove_watermark(s: &str) -> String {
    const OPEN: &str = "filters:watermark(";
    let mut from = 0;
    while let Some(i) = s[from..].find(OPEN).map(|i| i + from) {
        let body = i + OPEN.len();
        let line_end = s[body..]
            .find(['\n', '\r', '\u{2028}', '\u{2029}'])
            .map_or(s.len(), |e| body + e);
        if let Some(close) = s[body..line_end].rfind(')') {
            return format!("{}{}", &s[..i], &s[body + close + 1..]);
        }
        from = i + 1;
    }
    s.to_string()
}

/// Every `filters:[^/]+`.
fn remove_filters(s: &str) -> String {
    const F: &str = "filters:";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(F) {
        let after = &rest[i + F.len()..];
        let end = after.find('/').unwrap_or(after.len());
        if end == 0 {
            out.push_str(&rest[..i + F.len()]);
        } else {
            out.push_str(&rest[..i]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Strips the Thumbor operations from `path` and percent-decodes the rest.
pub fn from_path(path: &str, bucket: &str) -> Result<String, Error> {
    let s = remove_segments(path, is_crop);
    let s = remove_segments(&s, is_size);
    let s = remove_watermark(&s);
    let s = remove_filters(&s);
    let mut s = remove_segments(&s, |seg| seg == "fit-in");
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
            ("/filters:/a.jpg", "b", "filters:/a.jpg"),
            ("/filters:watermark(x/a.jpg", "b", "a.jpg"),
            ("/a/1x1:2x2/3x3/fit-in/fit-in/b.jpg", "b", "a/b.jpg"),
            ("/1x1/b.jpg/", "b", "b.jpg/"),
            ("/fit-in", "b", "fit-in"),
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
