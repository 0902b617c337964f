//! `trim`: cut away borders that match a background colour (default: the top-left pixel)
//! within a threshold (default 10), after libvips' `find_trim` as sharp uses it: the image is
//! 3×3 median-filtered first (so specks of noise do not count), colour is compared after
//! flattening onto the background, alpha separately, and the two bounding boxes are joined.
//! An image that is all background is left as it is.

use crate::edits::{BoolOrNumber, Trim};
use crate::error::Error;
use crate::pipeline::picture::Picture;
use image::RgbaImage;

pub fn trim(t: &Trim, pic: Picture) -> Result<Picture, Error> {
    let (threshold, background) = match t {
        Trim::Simple(BoolOrNumber::Bool(false)) => return Ok(pic),
        Trim::Simple(BoolOrNumber::Bool(true)) => (10.0, None),
        Trim::Simple(BoolOrNumber::Number(n)) => (*n, None),
        Trim::Options(o) => (o.threshold.unwrap_or(10.0), o.background.map(|c| c.to_rgba8())),
    };
    if !(threshold >= 0.0 && threshold.is_finite()) {
        return Err(Error::invalid_edit("trim", "threshold must be a number ≥ 0"));
    }
    Ok(trim_with(pic, threshold, background))
}

/// Trims every frame to the box found on the first frame (animations keep one size).
pub fn trim_with(pic: Picture, threshold: f64, background: Option<[u8; 4]>) -> Picture {
    let (bg, smoothed) = {
        let first = pic.frames[0].pixels.to_rgba();
        let bg = background.unwrap_or_else(|| first.get_pixel(0, 0).0);
        (bg, super::filters::median_filter(&first, 3, 4))
    };
    let Some((l, t, w, h)) = content_box(&smoothed, bg, threshold, pic.has_alpha) else {
        return pic;
    };
    if (w, h) == (pic.width(), pic.height()) {
        return pic;
    }
    let Ok(pic) = pic.map_pixels(|px| {
        Ok::<_, std::convert::Infallible>(crate::each_layout!(px, px =>
            image::imageops::crop_imm(&px, l, t, w, h).to_image()
        ))
    });
    pic
}

fn content_box(px: &RgbaImage, bg: [u8; 4], threshold: f64, has_alpha: bool) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    let mut found = false;
    for (x, y, p) in px.enumerate_pixels() {
        let a = p[3] as f64 / 255.0;
        let colour = (0..3).any(|c| {
            // Flattened onto the background colour, as find_trim sees an image with alpha.
            let v = p[c] as f64 * a + bg[c] as f64 * (1.0 - a);
            (v - bg[c] as f64).abs() > threshold
        });
        let alpha = has_alpha && (p[3] as f64 - bg[3] as f64).abs() > threshold;
        if colour || alpha {
            found = true;
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    found.then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}
