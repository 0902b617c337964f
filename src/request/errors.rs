//! Constructors for the request errors SIH defines (§5.4 of the compatibility spec), so every
//! code and status is written once.

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

pub fn request_type() -> Error {
    Error::new(
        400,
        "RequestTypeError",
        "The type of request you are making could not be processed. Please ensure that your original image is of a supported file type (jpg/jpeg, png, tiff/tif, webp, svg, gif, avif) and that your image request is provided in the correct syntax. Refer to the documentation for additional guidance on forming image requests.",
    )
}

/// SIH's answer for every failed fetch of the main image (also a Default request without `key`).
pub fn no_such_key(key: &str) -> Error {
    Error::new(
        404,
        "NoSuchKey",
        format!("The image {key} does not exist or the request may not be base64 encoded properly."),
    )
}
