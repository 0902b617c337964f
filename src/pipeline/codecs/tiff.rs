//! TIFF: size and decode through `image`; encode through the `tiff` crate, with sharp's
//! `tiff({compression, predictor})` options where that crate can write them (`none`, `lzw`,
//! `deflate`, `packbits`) and a 400 for the others (`jpeg`, `webp`, `zstd`, `jp2k`,
//! `ccittfax4`). Without a `compression` the output is Deflate with the horizontal predictor:
//! sharp's default is JPEG-in-TIFF (lossy, q80), which no permissive Rust encoder writes; Deflate
//! keeps every pixel and is still far smaller than an uncompressed file.

use super::common::{encode_failed, packed, with_image, Decoded, HeaderInfo, Packed};
use crate::edits::{errors, Format, FormatOptions};
use crate::error::Error;
use crate::pipeline::picture::Picture;
use std::io::Cursor;
use tiff::encoder::{colortype, compression::DeflateLevel, Compression, Predictor, TiffEncoder};

pub(super) fn read_header(b: &[u8]) -> Option<HeaderInfo> {
    use image::ImageDecoder;
    let decoder = image::codecs::tiff::TiffDecoder::new(Cursor::new(b)).ok()?;
    let (width, height) = decoder.dimensions();
    Some(HeaderInfo {
        width,
        height,
        frames: 1,
        orientation: 1,
    })
}

pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, Error> {
    with_image(image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes)))
}

/// The compression and predictor `opts` ask for (see the module's notes).
fn compression(opts: &FormatOptions) -> Result<(Compression, Predictor), Error> {
    let text = |key: &str| -> Result<Option<String>, Error> {
        match opts.other.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.to_ascii_lowercase())),
            Some(v) => Err(Error::invalid_edit(
                "tiff",
                format!("{key} must be a string, not {v}"),
            )),
        }
    };
    let compression = match text("compression")?.as_deref() {
        None | Some("deflate") => Compression::Deflate(DeflateLevel::Balanced),
        Some("none") => Compression::Uncompressed,
        Some("lzw") => Compression::Lzw,
        Some("packbits") => Compression::Packbits,
        Some(c @ ("jpeg" | "webp" | "zstd" | "jp2k" | "ccittfax4")) => {
            return Err(errors::unsupported_edit(
                "tiff",
                format!("compression {c:?} cannot be written; use none, lzw, deflate or packbits"),
            ))
        }
        Some(c) => return Err(Error::invalid_edit("tiff", format!("unknown compression {c:?}"))),
    };
    let predictor = match text("predictor")?.as_deref() {
        None | Some("horizontal") => Predictor::Horizontal,
        Some("none") => Predictor::None,
        Some("float") => {
            return Err(errors::unsupported_edit(
                "tiff",
                "predictor \"float\" is for float samples; pixfront writes 8-bit ones",
            ))
        }
        Some(p) => return Err(Error::invalid_edit("tiff", format!("unknown predictor {p:?}"))),
    };
    // As libvips: the predictor only goes with the LZW and Deflate codecs.
    let predictor = match compression {
        Compression::Lzw | Compression::Deflate(_) => predictor,
        _ => Predictor::None,
    };
    Ok((compression, predictor))
}

pub(super) fn encode(picture: &Picture, opts: &FormatOptions, icc: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let (compression, predictor) = compression(opts)?;
    let px = &picture.frames[0].pixels;
    let (w, h) = px.dimensions();
    let failed = |e: tiff::TiffError| encode_failed(Format::Tiff, e);
    let mut out = Cursor::new(Vec::new());
    let mut tiff = TiffEncoder::new(&mut out)
        .map_err(failed)?
        .with_compression(compression)
        .with_predictor(predictor);
    match packed(px) {
        Packed::Rgb(rgb) => {
            let mut image = tiff.new_image::<colortype::RGB8>(w, h).map_err(failed)?;
            if let Some(icc) = icc {
                image
                    .encoder()
                    .write_tag(tiff::tags::Tag::IccProfile, icc)
                    .map_err(failed)?;
            }
            image.write_data(&rgb).map_err(failed)?;
        }
        Packed::Rgba(rgba) => {
            let mut image = tiff.new_image::<colortype::RGBA8>(w, h).map_err(failed)?;
            if let Some(icc) = icc {
                image
                    .encoder()
                    .write_tag(tiff::tags::Tag::IccProfile, icc)
                    .map_err(failed)?;
            }
            image.write_data(&rgba).map_err(failed)?;
        }
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: serde_json::Value) -> FormatOptions {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn sharp_compression_names() {
        assert!(matches!(
            compression(&opts(json!({}))).unwrap(),
            (Compression::Deflate(_), Predictor::Horizontal)
        ));
        assert!(matches!(
            compression(&opts(json!({"compression": "LZW", "predictor": "none"}))).unwrap(),
            (Compression::Lzw, Predictor::None)
        ));
        assert!(matches!(
            compression(&opts(json!({"compression": "packbits"}))).unwrap(),
            (Compression::Packbits, Predictor::None)
        ));
        for (bad, code) in [
            (
                json!({"compression": "jpeg", "quality": 70}),
                "ImageEdits::Unsupported",
            ),
            (json!({"compression": "zip"}), "ImageEdits::InvalidArgument"),
            (json!({"predictor": "float"}), "ImageEdits::Unsupported"),
            (json!({"compression": 5}), "ImageEdits::InvalidArgument"),
        ] {
            let Err(e) = compression(&opts(bad.clone())) else {
                panic!("{bad} accepted")
            };
            assert_eq!((e.status, &*e.code), (400, code), "{bad}");
        }
    }
}
