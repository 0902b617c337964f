//! Is this upload an image pixfront can use? Decided from the bytes only (the name and the
//! browser's Content-Type are never trusted): the format is sniffed, the header's size is held
//! against `MAX_INPUT_PIXELS` before any pixel is decoded (so a decompression bomb costs
//! microseconds), then every rendition is rendered, or, without a renditions document, a small
//! probe, so a truncated or corrupt file is refused like `FAIL_ON` says before anything is stored.

use crate::error::Error;
use crate::pipeline::sniff::{self, InputFormat};
use crate::pipeline::{codecs, limits, PipelineSettings};
use crate::renditions::Renditions;
use std::sync::LazyLock;

/// Decodes the whole image and encodes a tiny PNG: the cheapest render that proves it decodes.
static PROBE: LazyLock<Renditions> = LazyLock::new(|| {
    Renditions::parse(
        r#"{"renditions": [{"name": "check", "edits": {"resize": {"width": 16, "height": 16, "fit": "inside"}},
            "outputFormat": "png", "key": "{key}"}]}"#,
    )
    .expect("the probe document is valid")
});

pub fn probe() -> &'static Renditions {
    &PROBE
}

/// The format, after the checks that need no decoding. Every message says what was wrong and
/// how to retry: it is shown to the person uploading.
pub fn format_of(bytes: &[u8], settings: &PipelineSettings) -> Result<InputFormat, Error> {
    if bytes.is_empty() {
        return Err(Error::new(
            400,
            "Upload::Empty",
            "The file is empty (0 bytes). Choose a photo and upload it again.",
        ));
    }
    let format = match sniff::sniff(bytes) {
        // SVG can carry scripts: served back from this origin it would run as a page.
        None | Some(InputFormat::Svg) => {
            return Err(Error::new(
                415,
                "Upload::NotAnImage",
                "The file is not an image pixfront can read, whatever its name says. Upload a JPEG, PNG, WebP, GIF, TIFF, AVIF or JPEG XL file.",
            ))
        }
        Some(f) => f,
    };
    let header = codecs::read_header(bytes, format).map_err(|e| {
        Error::new(
            400,
            "Upload::Unreadable",
            format!(
                "The image cannot be read ({}). Export it again and retry.",
                e.message
            ),
        )
    })?;
    limits::check_input(header.width, header.height, settings).map_err(|e| {
        Error::new(
            413,
            "Upload::TooManyPixels",
            format!("{} Make it smaller and upload it again.", e.message),
        )
    })?;
    Ok(format)
}

/// A render failure reworded for the person uploading.
pub fn render_refused(e: Error) -> Error {
    if e.status >= 500 {
        return e;
    }
    Error::new(
        400,
        "Upload::Unreadable",
        format!(
            "The image cannot be decoded ({}). Export it again and retry.",
            e.message
        ),
    )
}
