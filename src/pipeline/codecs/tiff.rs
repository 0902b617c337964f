//! TIFF: size, decode and (uncompressed) encode all through `image`.

use super::common::{encode_failed, packed, with_image, Decoded, HeaderInfo, Packed};
use crate::edits::Format;
use crate::error::Error;
use crate::pipeline::picture::Picture;
use std::io::Cursor;

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

pub(super) fn encode(picture: &Picture) -> Result<Vec<u8>, Error> {
    let px = &picture.frames[0].pixels;
    let mut out = Cursor::new(Vec::new());
    let (w, h) = px.dimensions();
    let img = match packed(px) {
        Packed::Rgb(rgb) => {
            image::RgbImage::from_raw(w, h, rgb.into_owned()).map(image::DynamicImage::ImageRgb8)
        }
        Packed::Rgba(rgba) => {
            image::RgbaImage::from_raw(w, h, rgba.to_vec()).map(image::DynamicImage::ImageRgba8)
        }
    }
    .ok_or_else(|| encode_failed(Format::Tiff, "pixel buffer"))?;
    img.write_to(&mut out, image::ImageFormat::Tiff)
        .map_err(|e| encode_failed(Format::Tiff, e))?;
    Ok(out.into_inner())
}
