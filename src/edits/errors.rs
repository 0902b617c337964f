//! SIH's errors for invalid edits (§5.4 of the compatibility spec), written once for the
//! parser and the operations that check the same rules on real sizes.

use crate::error::Error;

pub fn invalid_resize() -> Error {
    Error::new(400, "InvalidResizeException", "The image size is invalid.")
}

pub fn crop_out_of_bounds() -> Error {
    Error::new(
        400,
        "Crop::AreaOutOfBounds",
        "The cropping area you provided exceeds the boundaries of the original image. Please try choosing a correct cropping value.",
    )
}

/// SIH answers 500 `UnsupportedOutputImageFormatException`; an unknown format name in a URL is
/// the user's mistake, so we answer 400 with the same code.
pub fn unsupported_format(name: &str) -> Error {
    Error::new(
        400,
        "UnsupportedOutputImageFormatException",
        format!("Format to {name} not supported"),
    )
}

/// A sharp edit (or one of its arguments) that pixfront knows but does not implement: refused
/// rather than ignored, so a request never silently renders something else.
pub fn unsupported_edit(edit: &str, message: impl std::fmt::Display) -> Error {
    Error::new(
        400,
        "ImageEdits::Unsupported",
        format!("Edit `{edit}`: {message}"),
    )
}
