//! What a trial encode is scored on: the whole output when it is small, else a mosaic of
//! 64 × 64 tiles taken evenly across it, and the SSIMULACRA2 reference prepared once for it.

use crate::pipeline::picture::Picture;
use image::RgbaImage;

/// Tile side: a whole number of JPEG MCUs, WebP macroblocks and AV1 superblocks, so a tile's
/// blocks are coded as they would be in place.
const TILE: u32 = 64;
/// Mosaic width in tiles: 512 px, wide enough for all six SSIMULACRA2 scales (down to 8 px
/// at 1/32). Tiles come in whole rows of this many.
const ROW: u32 = 8;

/// The pixels trial encodes are made of, and the reference they are scored against.
pub struct Sample {
    pub picture: Picture,
    pub reference: pixfront_ssim2::Reference,
}

/// A sample of `picture` scoring at most `max_pixels` pixels; `None` when no usable one fits
/// (fewer than one row of tiles, or an output under 8 × 8, the metric's minimum).
pub fn take(picture: &Picture, max_pixels: u64) -> Option<Sample> {
    let px = &picture.frames[0].pixels;
    let (w, h) = px.dimensions();
    let image = if w as u64 * h as u64 <= max_pixels {
        px.clone()
    } else {
        mosaic(px, max_pixels)?
    };
    let rgb = composite(image.as_raw());
    let reference = pixfront_ssim2::Reference::new(&rgb, image.width() as usize, image.height() as usize)?;
    Some(Sample {
        picture: Picture::still(image, picture.has_alpha),
        reference,
    })
}

/// Evenly spaced whole tiles (in raster order over the picture's grid), `ROW` to a mosaic row.
fn mosaic(px: &RgbaImage, max_pixels: u64) -> Option<RgbaImage> {
    let (cols, rows) = (px.width() / TILE, px.height() / TILE);
    let available = cols * rows;
    let wanted = (max_pixels / (TILE * TILE) as u64).min(available as u64) as u32;
    let n = wanted / ROW * ROW;
    if n == 0 {
        return None;
    }
    let mut out = RgbaImage::new(ROW * TILE, n / ROW * TILE);
    for k in 0..n {
        // The k-th of n tiles spread over the `available` ones.
        let index = (k as u64 * available as u64 / n as u64) as u32;
        let (sx, sy) = (index % cols * TILE, index / cols * TILE);
        let (dx, dy) = (k % ROW * TILE, k / ROW * TILE);
        for y in 0..TILE {
            let src = ((sy + y) * px.width() + sx) as usize * 4;
            let dst = ((dy + y) * out.width() + dx) as usize * 4;
            let len = TILE as usize * 4;
            out.as_mut()[dst..dst + len].copy_from_slice(&px.as_raw()[src..src + len]);
        }
    }
    Some(out)
}

/// RGBA → RGB over black: what a viewer sees of a translucent pixel is its colour weighted by
/// its alpha, so hidden colours under transparent pixels (which encoders may change) do not
/// count. JPEG's own flattening is the same.
pub fn composite(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let a = p[3] as u32;
            [0, 1, 2].map(|c| ((p[c] as u32 * a + 127) / 255) as u8)
        })
        .collect()
}
