//! EXIF orientation applied to the pixels, so outputs (which carry no EXIF by default) show
//! upright everywhere.

use super::picture::Picture;
use image::imageops;

/// Rotates/mirrors every frame as EXIF orientation `o` (1–8) says.
pub fn apply(picture: Picture, o: u8) -> Picture {
    if !(2..=8).contains(&o) {
        return picture;
    }
    let result: Result<Picture, std::convert::Infallible> = picture.map_pixels(|px| {
        Ok(crate::each_layout!(px, px => match o {
            2 => imageops::flip_horizontal(&px),
            3 => imageops::rotate180(&px),
            4 => imageops::flip_vertical(&px),
            5 => imageops::flip_horizontal(&imageops::rotate90(&px)),
            6 => imageops::rotate90(&px),
            7 => imageops::flip_horizontal(&imageops::rotate270(&px)),
            _ => imageops::rotate270(&px),
        }))
    });
    match result {
        Ok(p) => p,
        Err(never) => match never {},
    }
}

/// True when orientation `o` swaps width and height.
pub fn swaps_axes(o: u8) -> bool {
    (5..=8).contains(&o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn orientation_6_turns_clockwise() {
        // 2×1: red left, blue right. Orientation 6 = rotate 90° clockwise to display.
        let mut px = RgbaImage::new(2, 1);
        px.put_pixel(0, 0, Rgba([255, 0, 0, 255]));
        px.put_pixel(1, 0, Rgba([0, 0, 255, 255]));
        let mut out = apply(Picture::still(px, false), 6);
        let f = out.frames[0].pixels.rgba();
        assert_eq!(f.dimensions(), (1, 2));
        assert_eq!(f.get_pixel(0, 0).0, [255, 0, 0, 255]);
        assert_eq!(f.get_pixel(0, 1).0, [0, 0, 255, 255]);
    }
}
