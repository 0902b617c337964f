//! Size limits, checked from the file header before any pixel is decoded.
//!
//! The headers are read by hand because a decoder's constructor may already allocate or scan
//! the whole file; these walkers only read the few bytes that hold the dimensions (and, for
//! GIF/WebP, skip over frame data to count frames), so a 50 000 × 50 000 "bomb" is refused
//! in microseconds without allocating its bitmap.

use super::settings::PipelineSettings;
use super::sniff::InputFormat;
use crate::error::Error;

/// What the header says about the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Canvas size as stored (before EXIF orientation).
    pub width: u32,
    pub height: u32,
    /// Number of frames (1 for stills).
    pub frames: u32,
    /// EXIF orientation 1–8 where the header walk saw it (JPEG, WebP); 1 otherwise.
    pub orientation: u8,
}

impl HeaderInfo {
    pub fn pixels(&self) -> u64 {
        self.width as u64 * self.height as u64
    }
}

pub fn corrupt(what: &str) -> Error {
    Error::bad_request("CorruptImage", format!("The image could not be decoded: {what}."))
}

/// Reads the header of a raster original. SVG has no binary header: its size is checked after
/// parsing (see `decode`), AVIF is refused before this is called.
pub fn read_header(bytes: &[u8], format: InputFormat) -> Result<HeaderInfo, Error> {
    let info = match format {
        InputFormat::Jpeg => jpeg(bytes),
        InputFormat::Png => png(bytes),
        InputFormat::Gif => gif(bytes),
        InputFormat::Webp => webp(bytes),
        InputFormat::Tiff => tiff(bytes),
        InputFormat::Avif | InputFormat::Svg => None,
    };
    let info = info.ok_or_else(|| corrupt("unreadable header"))?;
    if info.width == 0 || info.height == 0 {
        return Err(corrupt("zero width or height"));
    }
    Ok(info)
}

/// Refuses originals over `MAX_INPUT_PIXELS`.
pub fn check_input(width: u32, height: u32, config: &PipelineSettings) -> Result<(), Error> {
    let pixels = width as u64 * height as u64;
    if pixels > config.max_input_pixels {
        return Err(Error::bad_request(
            "ImageTooLarge",
            format!(
                "The image is {width}x{height} ({pixels} pixels); the limit is {} pixels.",
                config.max_input_pixels
            ),
        ));
    }
    Ok(())
}

/// Refuses animations whose frames × width × height exceed `MAX_ANIMATION_PIXELS`.
pub fn check_animation(info: &HeaderInfo, config: &PipelineSettings) -> Result<(), Error> {
    let total = info.pixels().saturating_mul(info.frames as u64);
    if total > config.max_animation_pixels {
        return Err(Error::bad_request(
            "AnimationTooLarge",
            format!(
                "The animation has {} frames of {}x{} ({total} pixels); the limit is {} pixels.",
                info.frames, info.width, info.height, config.max_animation_pixels
            ),
        ));
    }
    Ok(())
}

/// Refuses outputs wider or taller than `MAX_OUTPUT_DIMENSION`.
pub fn check_output(width: u32, height: u32, config: &PipelineSettings) -> Result<(), Error> {
    let max = config.max_output_dimension;
    if width > max || height > max {
        return Err(Error::bad_request(
            "OutputTooLarge",
            format!("The output would be {width}x{height}; the largest side allowed is {max} pixels."),
        ));
    }
    Ok(())
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks JPEG marker segments up to the first SOFn.
/// EXIF orientation from an EXIF block (with or without the `Exif\0\0` prefix); 1 if absent.
pub fn exif_orientation(exif: &[u8]) -> u8 {
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    image::metadata::Orientation::from_exif_chunk(tiff).map_or(1, |o| o.to_exif())
}

fn jpeg(b: &[u8]) -> Option<HeaderInfo> {
    let mut i = 2;
    let mut orientation = 1;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while *b.get(i)? != 0xFF {
            i += 1;
        }
        while *b.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return None, // end of image or scan data before any frame header
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be16(b, i + 3)?;
                let width = be16(b, i + 5)?;
                return Some(HeaderInfo {
                    width,
                    height,
                    frames: 1,
                    orientation,
                });
            }
            0xE1 => {
                let len = be16(b, i)? as usize;
                if let Some(seg) = b.get(i + 2..i + len) {
                    if seg.starts_with(b"Exif\0\0") && orientation == 1 {
                        orientation = exif_orientation(seg);
                    }
                }
                i += len;
            }
            _ => i += be16(b, i)? as usize,
        }
    }
}

fn png(b: &[u8]) -> Option<HeaderInfo> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some(HeaderInfo {
        width: be32(b, 16)?,
        height: be32(b, 20)?,
        frames: 1,
        orientation: 1,
    })
}

/// Reads the logical screen and counts image descriptors, skipping LZW data sub-block by
/// sub-block. Frames larger than the screen count with their own size.
fn gif(b: &[u8]) -> Option<HeaderInfo> {
    let (mut width, mut height) = (le16(b, 6)?, le16(b, 8)?);
    let flags = *b.get(10)?;
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 7) + 1);
    }
    let skip_sub_blocks = |mut i: usize| -> Option<usize> {
        loop {
            let len = *b.get(i)? as usize;
            i += 1 + len;
            if len == 0 {
                return Some(i);
            }
        }
    };
    let mut frames = 0;
    loop {
        match b.get(i) {
            Some(0x21) => i = skip_sub_blocks(i + 2)?,
            Some(0x2C) => {
                let w = le16(b, i + 5)?;
                let h = le16(b, i + 7)?;
                width = width.max(w);
                height = height.max(h);
                let local = *b.get(i + 9)?;
                i += 10;
                if local & 0x80 != 0 {
                    i += 3 << ((local & 7) + 1);
                }
                frames += 1;
                // A truncated last frame still counts: the decoder is lenient with it.
                match skip_sub_blocks(i + 1) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            // Trailer, end of data, or garbage after the last frame.
            _ => break,
        }
    }
    (frames > 0).then_some(HeaderInfo {
        width,
        height,
        frames,
        orientation: 1,
    })
}

/// Walks RIFF chunks: VP8X gives the canvas, VP8/VP8L a still's size; ANMF chunks are frames.
fn webp(b: &[u8]) -> Option<HeaderInfo> {
    let mut i = 12;
    let mut canvas = None;
    let mut frames = 0u32;
    while let Some(fourcc) = b.get(i..i + 4) {
        let size = le32(b, i + 4)? as usize;
        let data = i + 8;
        match fourcc {
            b"VP8X" => canvas = Some((le24(b, data + 4)? + 1, le24(b, data + 7)? + 1)),
            b"VP8 " if canvas.is_none() => {
                if b.get(data + 3..data + 6)? != [0x9D, 0x01, 0x2A] {
                    return None;
                }
                let w = le16(b, data + 6)? & 0x3FFF;
                let h = le16(b, data + 8)? & 0x3FFF;
                return Some(HeaderInfo {
                    width: w,
                    height: h,
                    frames: 1,
                    orientation: 1,
                });
            }
            b"VP8L" if canvas.is_none() => {
                if *b.get(data)? != 0x2F {
                    return None;
                }
                let bits = le32(b, data + 1)?;
                let w = (bits & 0x3FFF) + 1;
                let h = ((bits >> 14) & 0x3FFF) + 1;
                return Some(HeaderInfo {
                    width: w,
                    height: h,
                    frames: 1,
                    orientation: 1,
                });
            }
            b"ANMF" => frames += 1,
            _ => {}
        }
        i = data.checked_add(size)?.checked_add(size & 1)?;
    }
    let (width, height) = canvas?;
    let orientation = super::decode::webp_chunk(b, b"EXIF").map_or(1, exif_orientation);
    Some(HeaderInfo {
        width,
        height,
        frames: frames.max(1),
        orientation,
    })
}

fn tiff(b: &[u8]) -> Option<HeaderInfo> {
    use image::ImageDecoder;
    let decoder = image::codecs::tiff::TiffDecoder::new(std::io::Cursor::new(b)).ok()?;
    let (width, height) = decoder.dimensions();
    Some(HeaderInfo {
        width,
        height,
        frames: 1,
        orientation: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_header_with_fill_bytes_and_app_segments() {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xFF];
        b.extend_from_slice(&[0xC2, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x02, 0x58, 0x03]);
        assert_eq!(
            jpeg(&b),
            Some(HeaderInfo {
                width: 600,
                height: 300,
                frames: 1,
                orientation: 1
            })
        );
        assert_eq!(jpeg(&b[..12]), None);
    }

    #[test]
    fn limits_name_the_numbers() {
        let config = PipelineSettings {
            max_input_pixels: 100,
            ..PipelineSettings::default()
        };
        assert!(check_input(10, 10, &config).is_ok());
        let err = check_input(11, 10, &config).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (400, "ImageTooLarge"));
        let err = check_output(16_385, 1, &PipelineSettings::default()).unwrap_err();
        assert_eq!(err.code, "OutputTooLarge");
    }
}
