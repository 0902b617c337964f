//! `flip` (mirror top to bottom) and `flop` (mirror left to right).

use crate::pipeline::picture::Picture;
use image::imageops;

pub fn flip(pic: Picture) -> Picture {
    map(pic, imageops::flip_vertical_in_place)
}

pub fn flop(pic: Picture) -> Picture {
    map(pic, imageops::flip_horizontal_in_place)
}

fn map(mut pic: Picture, f: impl Fn(&mut image::RgbaImage)) -> Picture {
    for frame in &mut pic.frames {
        f(&mut frame.pixels);
    }
    pic
}
