//! Channel edits that end with one grey channel (`extractChannel`, `bandbool`) and the output
//! colourspace (`toColourspace`). A grey result is R = G = B; sharp's single band has no alpha,
//! so the picture becomes opaque.

use super::color::{self, each_pixel as each_rgba};
use crate::edits::{BandBool, Colourspace, ExtractChannel};
use crate::error::Error;
use crate::pipeline::picture::Picture;

fn to_grey(mut pic: Picture, f: impl Fn(&[u8; 4]) -> u8) -> Picture {
    pic = each_rgba(pic, |p| {
        let v = f(p);
        *p = [v, v, v, 255];
    });
    pic.has_alpha = false;
    pic
}

/// sharp: channel 3 of an image without alpha is an error.
pub fn extract_channel(e: &ExtractChannel, pic: Picture) -> Result<Picture, Error> {
    let i = e.index as usize;
    if i == 3 && !pic.has_alpha {
        return Err(Error::invalid_edit(
            "extractChannel",
            "cannot extract channel 3 from image with channels 0-2",
        ));
    }
    Ok(to_grey(pic, |p| p[i]))
}

/// Every channel, alpha included when there is one (libvips' `bandbool` takes all bands).
pub fn bandbool(op: &BandBool, pic: Picture) -> Picture {
    let bands = if pic.has_alpha { 4 } else { 3 };
    let f: fn(u8, u8) -> u8 = match op {
        BandBool::And => |x, y| x & y,
        BandBool::Or => |x, y| x | y,
        BandBool::Eor => |x, y| x ^ y,
    };
    to_grey(pic, |p| p[1..bands].iter().fold(p[0], |acc, v| f(acc, *v)))
}

/// `b-w`/`grey16` is libvips' sRGB → B_W, which is `greyscale` (alpha kept); the sRGB names
/// leave the pixels as they are.
pub fn to_colourspace(c: &Colourspace, pic: Picture) -> Picture {
    if c.is_grey() {
        color::grayscale(pic)
    } else {
        pic
    }
}
