//! Alpha edits: `flatten`, `removeAlpha`, `ensureAlpha`, `unflatten`.

use super::colorspace::{grey, linear_table};
use crate::edits::{BoolOrNumber, Color, FlattenArg};
use crate::error::Error;
use crate::pipeline::picture::Picture;

/// `flatten`: composite onto `background` (sharp's default black) and drop alpha.
pub fn flatten(f: &FlattenArg, mut pic: Picture) -> Picture {
    let bg = match f {
        FlattenArg::Bool(false) => return pic,
        FlattenArg::Bool(true) => Color::BLACK,
        FlattenArg::Options(o) => o.background.unwrap_or(Color::BLACK),
    };
    if !pic.has_alpha {
        return pic;
    }
    let bg = bg.to_rgba8();
    for frame in &mut pic.frames {
        for p in frame.pixels.rgba().pixels_mut() {
            let a = p[3] as u32;
            for c in 0..3 {
                p[c] = ((p[c] as u32 * a + bg[c] as u32 * (255 - a) + 127) / 255) as u8;
            }
            p[3] = 255;
        }
    }
    pic.has_alpha = false;
    pic
}

/// `removeAlpha`: drop the alpha channel (pixels keep their colour, become opaque).
pub fn remove_alpha(on: bool, mut pic: Picture) -> Picture {
    if !on || !pic.has_alpha {
        return pic;
    }
    for frame in &mut pic.frames {
        for p in frame.pixels.rgba().pixels_mut() {
            p[3] = 255;
        }
    }
    pic.has_alpha = false;
    pic
}

/// `ensureAlpha`: add an alpha channel of the given opacity (`true` = 1) if there is none;
/// an existing alpha channel is kept as it is (sharp).
pub fn ensure_alpha(v: &BoolOrNumber, mut pic: Picture) -> Result<Picture, Error> {
    let alpha = match v {
        BoolOrNumber::Bool(false) => return Ok(pic),
        BoolOrNumber::Bool(true) => 1.0,
        BoolOrNumber::Number(n) if (0.0..=1.0).contains(n) => *n,
        BoolOrNumber::Number(_) => return Err(Error::invalid_edit("ensureAlpha", "alpha must be 0–1")),
    };
    if pic.has_alpha {
        return Ok(pic);
    }
    let a = (alpha * 255.0).round() as u8;
    for frame in &mut pic.frames {
        for p in frame.pixels.rgba().pixels_mut() {
            p[3] = a;
        }
    }
    pic.has_alpha = true;
    Ok(pic)
}

/// `unflatten` (sharp ≥ 0.32.1): pixels whose luminance is white (255 after libvips' B_W
/// conversion) become fully transparent; other pixels keep their alpha (opaque if none).
pub fn unflatten(on: bool, pic: Picture) -> Picture {
    if !on {
        return pic;
    }
    let lin = linear_table();
    let mut pic = super::color::each_pixel(pic, |p| {
        if grey(&lin, p[0], p[1], p[2]) == 255 {
            p[3] = 0;
        }
    });
    pic.has_alpha = true;
    pic
}
