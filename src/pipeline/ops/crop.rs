//! `crop` (SIH) and `extract` (sharp): cut a rectangle out of the current image.

use crate::edits::errors::crop_out_of_bounds;
use crate::edits::Region;
use crate::error::Error;
use crate::pipeline::picture::Picture;

/// `crop`: an area that is empty or leaves the image is SIH's 400 `Crop::AreaOutOfBounds`
/// (SIH itself only notices an out-of-image area when encoding, and answers 500).
pub fn crop(r: &Region, pic: Picture) -> Result<Picture, Error> {
    if !fits(r, &pic) {
        return Err(crop_out_of_bounds());
    }
    Ok(cut(r, pic))
}

/// `extract`: same operation; a bad area is a 400 `ImageEdits::InvalidArgument` (SIH: 500).
pub fn extract(r: &Region, pic: Picture) -> Result<Picture, Error> {
    if !fits(r, &pic) {
        return Err(Error::invalid_edit(
            "extract",
            format!(
                "area {}x{}+{}+{} is empty or outside the {}x{} image",
                r.width,
                r.height,
                r.left,
                r.top,
                pic.width(),
                pic.height()
            ),
        ));
    }
    Ok(cut(r, pic))
}

fn fits(r: &Region, pic: &Picture) -> bool {
    r.width > 0
        && r.height > 0
        && r.left as u64 + r.width as u64 <= pic.width() as u64
        && r.top as u64 + r.height as u64 <= pic.height() as u64
}

fn cut(r: &Region, pic: Picture) -> Picture {
    let Ok(pic) = pic.map_pixels(|px| {
        Ok::<_, std::convert::Infallible>(crate::each_layout!(px, px =>
            image::imageops::crop_imm(&px, r.left, r.top, r.width, r.height).to_image()
        ))
    });
    pic
}
