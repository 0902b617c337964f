//! Magic bytes → input format. The stored Content-Type and the key's extension are never trusted.

use crate::edits::Format;

/// Formats pixfront can recognise in an original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Tiff,
    /// AVIF and AV1-coded HEIF (and `mif1` files of unknown coding: the decoder tells).
    Avif,
    /// HEVC-coded HEIF: recognised to be refused with its own error.
    Heic,
    /// JPEG XL (bare codestream or ISOBMFF container); decode only.
    Jxl,
    Svg,
}

impl InputFormat {
    /// The output format a re-encode keeps when nothing else is asked (SVG becomes PNG).
    pub fn default_output(self) -> Format {
        match self {
            InputFormat::Jpeg => Format::Jpeg,
            InputFormat::Png | InputFormat::Svg => Format::Png,
            InputFormat::Webp => Format::Webp,
            InputFormat::Gif => Format::Gif,
            InputFormat::Tiff => Format::Tiff,
            InputFormat::Avif => Format::Avif,
            InputFormat::Heic => Format::Heif,
            // No JPEG XL output: PNG keeps every pixel and the alpha.
            InputFormat::Jxl => Format::Png,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            InputFormat::Svg => "image/svg+xml",
            InputFormat::Heic => "image/heic",
            InputFormat::Jxl => "image/jxl",
            other => other.default_output().mime(),
        }
    }
}

/// Identifies the format from the first bytes; `None` when it is not an image we know.
pub fn sniff(bytes: &[u8]) -> Option<InputFormat> {
    let b = bytes;
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(InputFormat::Jpeg);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(InputFormat::Png);
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return Some(InputFormat::Webp);
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some(InputFormat::Gif);
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return Some(InputFormat::Tiff);
    }
    if b.starts_with(&[0xFF, 0x0A]) || b.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some(InputFormat::Jxl);
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        return heif_brand(b);
    }
    if looks_like_svg(b) {
        return Some(InputFormat::Svg);
    }
    None
}

/// A HEIF family file by its `ftyp` brands (major, then compatible): AVIF's brands first,
/// then HEVC's; a bare `mif1`/`msf1` is left to the decoder, which reads the item's coding.
fn heif_brand(b: &[u8]) -> Option<InputFormat> {
    let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let end = size.clamp(12, b.len().min(4096));
    let brands: Vec<&[u8]> = std::iter::once(&b[8..12])
        .chain(b.get(16..end).unwrap_or_default().chunks_exact(4))
        .collect();
    let has = |names: &[&[u8]]| brands.iter().any(|b| names.contains(b));
    if has(&[b"avif", b"avis"]) {
        Some(InputFormat::Avif)
    } else if has(&[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
    ]) {
        Some(InputFormat::Heic)
    } else if has(&[b"mif1", b"msf1"]) {
        Some(InputFormat::Avif)
    } else {
        None
    }
}

/// An SVG is XML whose root element is `<svg`: skip a BOM, whitespace, the XML declaration,
/// comments and a doctype, looking at most at the first 4 KiB.
fn looks_like_svg(b: &[u8]) -> bool {
    let head = &b[..b.len().min(4096)];
    let Ok(text) = std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
    else {
        return false;
    };
    let mut s = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("<?") {
            match rest.find("?>") {
                Some(i) => s = rest[i + 2..].trim_start(),
                None => return false,
            }
        } else if let Some(rest) = s.strip_prefix("<!--") {
            match rest.find("-->") {
                Some(i) => s = rest[i + 3..].trim_start(),
                None => return false,
            }
        } else if let Some(rest) = s.strip_prefix("<!") {
            // A doctype's internal subset (`[<!ENTITY …>]`, as Illustrator writes) holds `>`s
            // of its own: the doctype ends at the first `>` after its `]`.
            let end = match (rest.find('['), rest.find('>')) {
                (Some(open), Some(gt)) if open < gt => rest[open..]
                    .find(']')
                    .and_then(|c| rest[open + c..].find('>').map(|g| open + c + g)),
                (_, gt) => gt,
            };
            match end {
                Some(i) => s = rest[i + 1..].trim_start(),
                None => return false,
            }
        } else {
            return s.starts_with("<svg") || s.starts_with("<svg:svg");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Some(InputFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(InputFormat::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(InputFormat::Webp));
        assert_eq!(sniff(b"GIF89a...."), Some(InputFormat::Gif));
        assert_eq!(sniff(b"MM\0*...."), Some(InputFormat::Tiff));
        assert_eq!(sniff(b"\0\0\0\x1cftypavif\0\0"), Some(InputFormat::Avif));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic"),
            Some(InputFormat::Heic)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Some(InputFormat::Heic)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"),
            Some(InputFormat::Avif)
        );
        assert_eq!(sniff(b"\0\0\0\x10ftypisom\0\0\0\0"), None);
        assert_eq!(sniff(b"\xFF\x0A\xFA\x7F"), Some(InputFormat::Jxl));
        assert_eq!(sniff(b"\0\0\0\x0cJXL \r\n\x87\n\0\0"), Some(InputFormat::Jxl));
        assert_eq!(
            sniff(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- c --><!DOCTYPE svg><svg xmlns=''/>"),
            Some(InputFormat::Svg)
        );
        assert_eq!(
            sniff(b"<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\" [\n<!ENTITY ns \"a\">\n<!ENTITY b \"&ns;\">\n]>\n<svg/>"),
            Some(InputFormat::Svg)
        );
        assert_eq!(sniff(b"<!DOCTYPE svg [<!ENTITY a \"x\">"), None);
        assert_eq!(sniff(b"<html><svg/></html>"), None);
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(sniff(b""), None);
    }
}
