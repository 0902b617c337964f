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
    // Most embedded profiles are sRGB itself (cameras, phones, exports "for web"): a probe of
    // the colour cube tells an identity transform from a real one for the cost of 4 096 pixels,
    // and skips a pass over every pixel of the full-size decode.
    let probe: Vec<u8> = (0..16u32 * 16 * 16)
        .flat_map(|i| {
            [
                (i >> 8) as u8 * 17,
                ((i >> 4) & 15) as u8 * 17,
                (i & 15) as u8 * 17,
                255,
            ]
        })
        .collect();
    let mut probed = vec![0u8; probe.len()];
    if transform.transform(&probe, &mut probed).is_err() {
        return false;
    }
    if probe.iter().zip(&probed).all(|(a, b)| a.abs_diff(*b) <= 1) {
        return true;
    }
    let mut dst = Vec::new();
    for frame in &mut picture.frames {
        let px = frame.pixels.rgba();
        dst.resize(px.len(), 0);
        if transform.transform(px.as_raw(), &mut dst).is_err() {
            return false;
        }
        px.copy_from_slice(&dst);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    fn convert(profile: ColorProfile, px: [u8; 4]) -> [u8; 4] {
        let icc = profile.encode().expect("profile encodes");
        let mut pic = Picture::still(RgbaImage::from_pixel(1, 1, Rgba(px)), false);
        assert!(to_srgb(&mut pic, &icc));
        pic.frames[0].pixels.rgba().get_pixel(0, 0).0
    }

    #[test]
    fn srgb_profile_leaves_pixels_alone() {
        let out = convert(ColorProfile::new_srgb(), [200, 100, 50, 255]);
        for (a, b) in out.iter().zip([200u8, 100, 50, 255]) {
            assert!(a.abs_diff(b) <= 1, "{out:?}");
        }
    }

    #[test]
    fn adobe_rgb_becomes_more_saturated_srgb() {
        // Adobe RGB's primaries are wider: the same numbers mean a more saturated colour, so in
        // sRGB the dominant channel rises and the others fall. Alpha is untouched.
        let out = convert(ColorProfile::new_adobe_rgb(), [60, 160, 60, 128]);
        assert!(out[1] > 160 && out[0] < 60 && out[2] < 60, "{out:?}");
        assert_eq!(out[3], 128);
    }

    #[test]
    fn garbage_profile_is_ignored() {
        let mut pic = Picture::still(RgbaImage::from_pixel(1, 1, Rgba([1, 2, 3, 255])), false);
        assert!(!to_srgb(&mut pic, b"not a profile"));
        assert_eq!(pic.frames[0].pixels.rgba().get_pixel(0, 0).0, [1, 2, 3, 255]);
    }
}
