//! `extend`: add pixels on each side, filled with `background` (sharp's default opaque black)
//! or by `extendWith` `copy` (repeat the edge), `repeat` (tile) or `mirror`.

use super::context::{check_output_size, OpContext};
use crate::edits::{Color, Extend};
use crate::error::Error;
use crate::pipeline::picture::Picture;
use image::{Rgba, RgbaImage};

#[derive(Clone, Copy)]
enum Mode {
    Background([u8; 4]),
    Copy,
    Repeat,
    Mirror,
}

pub fn extend(e: &Extend, pic: Picture, ctx: &OpContext) -> Result<Picture, Error> {
    let (top, bottom, left, right, bg, with) = match e {
        Extend::All(n) => (*n, *n, *n, *n, Color::BLACK, None),
        Extend::Sides(o) => (
            o.top.unwrap_or(0),
            o.bottom.unwrap_or(0),
            o.left.unwrap_or(0),
            o.right.unwrap_or(0),
            o.background.unwrap_or(Color::BLACK),
            o.extend_with.as_deref(),
        ),
    };
    let mode = match with.unwrap_or("background") {
        "background" => Mode::Background(bg.to_rgba8()),
        "copy" => Mode::Copy,
        "repeat" => Mode::Repeat,
        "mirror" => Mode::Mirror,
        other => {
            return Err(Error::invalid_edit(
                "extend",
                format!("unknown extendWith {other:?}"),
            ))
        }
    };
    let (w, h) = (pic.width() as u64, pic.height() as u64);
    let (ow, oh) = (w + left as u64 + right as u64, h + top as u64 + bottom as u64);
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    check_output_size("extend", (clamp(ow), clamp(oh)), ctx)?;
    if (ow, oh) == (w, h) {
        return Ok(pic);
    }
    let becomes_transparent = matches!(mode, Mode::Background(c) if c[3] < 255);
    let mut pic =
        pic.map_frames(|px| Ok::<_, Error>(extend_frame(&px, left, top, ow as u32, oh as u32, mode)))?;
    pic.has_alpha |= becomes_transparent;
    Ok(pic)
}

fn extend_frame(px: &RgbaImage, left: u32, top: u32, ow: u32, oh: u32, mode: Mode) -> RgbaImage {
    let (w, h) = (px.width() as i64, px.height() as i64);
    // Source coordinate for an output coordinate outside the image, per mode.
    let map = |v: i64, n: i64| -> i64 {
        match mode {
            Mode::Copy | Mode::Background(_) => v.clamp(0, n - 1),
            Mode::Repeat => v.rem_euclid(n),
            Mode::Mirror => {
                let period = 2 * n;
                let m = v.rem_euclid(period);
                if m < n {
                    m
                } else {
                    period - 1 - m
                }
            }
        }
    };
    RgbaImage::from_fn(ow, oh, |x, y| {
        let sx = x as i64 - left as i64;
        let sy = y as i64 - top as i64;
        let inside = (0..w).contains(&sx) && (0..h).contains(&sy);
        match mode {
            Mode::Background(c) if !inside => Rgba(c),
            _ => *px.get_pixel(map(sx, w) as u32, map(sy, h) as u32),
        }
    })
}
