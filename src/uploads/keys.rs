//! Safe, readable keys for uploads: the browser's file name is only a hint. Its last path
//! component is kept (letters, digits, `.`, `_`, `-`; anything else becomes `-`), the extension
//! comes from the bytes' format, and the key never leaves the upload prefix.

use crate::pipeline::sniff::InputFormat;

/// `n` random bytes, hex: tokens printed at start, presigned upload folders, temporary files.
pub fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    // The kernel's generator; a failure here means no safe token can be made at all.
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("/dev/urandom is readable");
    hex::encode(buf)
}

/// Longest stem kept from a file name (S3 keys may be 1024 bytes; names this long are noise).
const MAX_STEM_CHARS: usize = 80;

/// The readable part of `name` (as a browser or client sent it): no directory, no extension,
/// no character that could mean a path or need escaping in a key. Never empty.
pub fn stem(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let base = match base.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s,
        _ => base,
    };
    let mut out = String::new();
    for c in base.chars() {
        let keep = c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
        let c = if keep { c } else { '-' };
        // One separator for a run of replaced characters.
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
        if out.chars().count() >= MAX_STEM_CHARS {
            break;
        }
    }
    // No leading dots (hidden files, `..`) nor separators at either end.
    let trimmed = out.trim_start_matches(['.', '-']).trim_end_matches(['.', '-']);
    if trimmed.is_empty() {
        "upload".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The extension written for a format (what the bytes are, whatever the name said).
pub fn extension(format: InputFormat) -> &'static str {
    match format {
        InputFormat::Jpeg => "jpg",
        InputFormat::Png => "png",
        InputFormat::Webp => "webp",
        InputFormat::Gif => "gif",
        InputFormat::Tiff => "tif",
        InputFormat::Avif => "avif",
        InputFormat::Heic => "heic",
        InputFormat::Jxl => "jxl",
        InputFormat::Svg => "svg",
    }
}

/// `prefix` + stem + (`-n` from the second candidate on) + extension.
pub fn candidate(prefix: &str, stem: &str, format: InputFormat, n: u32) -> String {
    let ext = extension(format);
    if n <= 1 {
        format!("{prefix}{stem}.{ext}")
    } else {
        format!("{prefix}{stem}-{n}.{ext}")
    }
}

/// A key for a presigned upload: the server cannot check S3 for an existing key atomically
/// before the browser's POST, so each upload gets its own random folder and keeps its name.
pub fn presigned(prefix: &str, name: &str, random: &str) -> String {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "img".into());
    format!("{prefix}{random}/{}.{ext}", stem(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_readable_and_cannot_escape() {
        assert_eq!(stem("Holiday photo (1).JPG"), "Holiday-photo-1");
        assert_eq!(stem("../../etc/passwd"), "passwd");
        assert_eq!(stem("C:\\Users\\me\\été.jpg"), "été");
        assert_eq!(stem(".."), "upload");
        assert_eq!(stem(".hidden.png"), "hidden");
        assert_eq!(stem("a\0b\r\nc.png"), "a-b-c");
        assert_eq!(stem(""), "upload");
        assert_eq!(stem(&"x".repeat(500)).len(), MAX_STEM_CHARS);
        assert_eq!(
            candidate("uploads/", "cat", InputFormat::Png, 1),
            "uploads/cat.png"
        );
        assert_eq!(
            candidate("uploads/", "cat", InputFormat::Jpeg, 3),
            "uploads/cat-3.jpg"
        );
        assert_eq!(presigned("u/", "../x y.JPEG", "ab12"), "u/ab12/x-y.jpeg");
        assert_eq!(presigned("u/", "noext", "ab12"), "u/ab12/noext.img");
    }
}
