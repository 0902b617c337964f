//! What a trial encode is scored on: the whole output when it fits the budget, else its centre
//! (same aspect ratio, on the 16-pixel grid of JPEG MCUs and WebP macroblocks, so the crop's
//! blocks are coded as they are in place), and the SSIMULACRA2 reference prepared once for it.
//!
//! A contiguous crop rather than a mosaic of tiles from all over the image: the seams of a
//! mosaic are strong edges both sides share, and they inflated the scores (by up to 7 points
//! against the whole image's on the bytes corpus).

use crate::pipeline::codecs;
use crate::pipeline::picture::Picture;

/// Block grid the crop stays on.
const GRID: u32 = 16;
/// Smaller crops say too little about the image: no search below this (128 × 128).
const MIN_PIXELS: u64 = 16_384;

/// The pixels trial encodes are made of, and the reference they are scored against.
pub struct Sample {
    pub picture: Picture,
    pub reference: pixfront_ssim2::Reference,
}

/// A sample of `picture` of at most `max_pixels` pixels; `None` when none of at least
/// [`MIN_PIXELS`] fits.
pub fn take(picture: &Picture, max_pixels: u64) -> Option<Sample> {
    let px = &picture.frames[0].pixels;
    let (w, h) = px.dimensions();
    let total = w as u64 * h as u64;
    let image = if total <= max_pixels {
        if total < MIN_PIXELS.min(max_pixels) || w < 8 || h < 8 {
            return None;
        }
        px.clone()
    } else {
        let f = (max_pixels as f64 / total as f64).sqrt();
        let side = |n: u32| ((n as f64 * f) as u32 / GRID * GRID).max(GRID).min(n);
        let (cw, ch) = (side(w), side(h));
        if (cw as u64 * ch as u64) < MIN_PIXELS {
            return None;
        }
        let (x, y) = ((w - cw) / 2 / GRID * GRID, (h - ch) / 2 / GRID * GRID);
        crate::each_layout!(px, px => image::imageops::crop_imm(px, x, y, cw, ch).to_image())
    };
    let rgb = codecs::rgb_over_black(&image);
    let reference = pixfront_ssim2::Reference::new(&rgb, image.width() as usize, image.height() as usize)?;
    Some(Sample {
        picture: Picture::still(image, picture.has_alpha),
        reference,
    })
}

/// The image the crop sees, for tests: `None` when no search would run.
#[cfg(test)]
pub fn size_of(picture: &Picture, max_pixels: u64) -> Option<(u32, u32)> {
    take(picture, max_pixels).map(|s| (s.picture.width(), s.picture.height()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::RgbaImage;

    #[test]
    fn crops_the_centre_on_the_block_grid() {
        let pic = Picture::still(
            RgbaImage::from_pixel(800, 450, image::Rgba([9, 99, 199, 255])),
            false,
        );
        assert_eq!(size_of(&pic, 1_000_000), Some((800, 450)));
        // sqrt(131072 / 360000) = 0.603: 482 → 480, 271 → 256.
        assert_eq!(size_of(&pic, 131_072), Some((480, 256)));
        assert_eq!(size_of(&pic, 10_000), None);
        let small = Picture::still(RgbaImage::new(100, 100), true);
        assert_eq!(size_of(&small, 1_000_000), None);
    }
}
