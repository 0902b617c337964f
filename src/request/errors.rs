//! Constructors for the request errors SIH defines (§5.4 of the compatibility spec), so every
//! code and status is written once.

use crate::error::Error;

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

/// `PRESETS_ONLY=Yes` and the URL is not exactly one or more presets: refused by the operator's
/// policy, whatever else it asks for.
pub fn presets_only() -> Error {
    Error::new(
        403,
        "PresetsOnly",
        "This server only renders presets: name one or more with filters:preset(name), ?preset=name or \"preset\" in a base64 request, and nothing else.",
    )
}
