//! ICC profiles written into outputs (`KEEP_ICC=Yes`): the original's profile, unchanged, so
//! its unconverted pixels are shown in their own (e.g. Display P3) colours. JPEG gets APP2
//! `ICC_PROFILE` segments, PNG an `iCCP` chunk, WebP an `ICCP` chunk (libwebp's muxer); TIFF
//! writes its tag itself. AVIF, HEIF and GIF cannot carry one here (ravif writes no `colr`
//! profile box; GIF has none): those outputs are converted to sRGB as by default.

use super::common::encode_failed;
use super::webp;
use crate::edits::Format;
use crate::error::Error;

/// Whether `format` can carry a kept profile.
pub fn carries(format: Format) -> bool {
    matches!(format, Format::Jpeg | Format::Png | Format::Webp | Format::Tiff)
}

/// Adds `icc` to an encoded JPEG, PNG or WebP (other formats unchanged).
pub(super) fn embed(format: Format, bytes: Vec<u8>, icc: &[u8]) -> Result<Vec<u8>, Error> {
    match format {
        Format::Jpeg => jpeg(bytes, icc),
        Format::Png => png(bytes, icc),
        Format::Webp => webp::with_chunk(&bytes, c"ICCP", icc),
        _ => Ok(bytes),
    }
}

/// After SOI and the JFIF/EXIF segments, as libjpeg's `jpeg_write_icc_profile` places them:
/// `ICC_PROFILE\0`, sequence number, count, then up to 65 519 bytes of profile per segment.
fn jpeg(bytes: Vec<u8>, icc: &[u8]) -> Result<Vec<u8>, Error> {
    const PER_SEGMENT: usize = 65_519;
    let bad = || encode_failed(Format::Jpeg, "ICC profile");
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) || icc.is_empty() {
        return Err(bad());
    }
    let chunks: Vec<&[u8]> = icc.chunks(PER_SEGMENT).collect();
    let count = u8::try_from(chunks.len()).map_err(|_| bad())?;
    let mut at = 2;
    while let [0xFF, 0xE0 | 0xE1, hi, lo, ..] = bytes[at..] {
        at += 2 + u16::from_be_bytes([hi, lo]) as usize;
        if at > bytes.len() {
            return Err(bad());
        }
    }
    let mut out = Vec::with_capacity(bytes.len() + icc.len() + 18 * chunks.len());
    out.extend_from_slice(&bytes[..at]);
    for (i, chunk) in chunks.iter().enumerate() {
        let len = (2 + 12 + 2 + chunk.len()) as u16;
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend_from_slice(&[i as u8 + 1, count]);
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&bytes[at..]);
    Ok(out)
}

/// An `iCCP` chunk (name, compression method 0, zlib data) right after IHDR: it must come
/// before PLTE and IDAT.
fn png(bytes: Vec<u8>, icc: &[u8]) -> Result<Vec<u8>, Error> {
    use std::io::Write;
    let bad = |e: &dyn std::fmt::Display| encode_failed(Format::Png, format!("ICC profile: {e}"));
    // Signature (8) + IHDR (4 length, 4 type, 13 data, 4 CRC).
    const AFTER_IHDR: usize = 33;
    if bytes.get(12..16) != Some(b"IHDR") || bytes.len() < AFTER_IHDR {
        return Err(bad(&"not a PNG"));
    }
    let mut data = b"ICC profile\0\0".to_vec();
    let mut z = flate2::write::ZlibEncoder::new(&mut data, flate2::Compression::default());
    z.write_all(icc).map_err(|e| bad(&e))?;
    z.finish().map_err(|e| bad(&e))?;
    let mut crc = flate2::Crc::new();
    crc.update(b"iCCP");
    crc.update(&data);
    let mut out = Vec::with_capacity(bytes.len() + data.len() + 12);
    out.extend_from_slice(&bytes[..AFTER_IHDR]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(b"iCCP");
    out.extend_from_slice(&data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out.extend_from_slice(&bytes[AFTER_IHDR..]);
    Ok(out)
}
