//! Embedded ICC profile → sRGB (moxcms). Outputs carry no profile, so every viewer shows them
//! as sRGB: pixels from Adobe RGB or Display P3 originals must be converted, not relabelled.

use super::picture::Picture;
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

/// Converts every frame from `icc` to sRGB in place. Returns false (pixels untouched) when the
/// profile is unreadable or not an RGB profile: a broken profile must not fail the request;
/// the pixels are then taken as sRGB, as browsers do.
pub fn to_srgb(picture: &mut Picture, icc: &[u8]) -> bool {
    let Ok(source) = ColorProfile::new_from_slice(icc) else {
        return false;
    };
    if source.color_space != DataColorSpace::Rgb {
        return false;
    }
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        source.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgba, TransformOptions::default())
    else {
        return false;
    };
    for frame in &mut picture.frames {
        let src = frame.pixels.as_raw();
        let mut dst = vec![0u8; src.len()];
        if transform.transform(src, &mut dst).is_err() {
            return false;
        }
        frame.pixels.copy_from_slice(&dst);
    }
    true
}
