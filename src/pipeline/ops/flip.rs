//! `flip` (mirror top to bottom) and `flop` (mirror left to right).

use crate::pipeline::picture::{Picture, Pixels};
use image::imageops;

pub fn flip(mut pic: Picture) -> Picture {
    for frame in &mut pic.frames {
        match &mut frame.pixels {
            Pixels::Rgb(px) => imageops::flip_vertical_in_place(px),
            Pixels::Rgba(px) => imageops::flip_vertical_in_place(px),
        }
    }
    pic
}

pub fn flop(mut pic: Picture) -> Picture {
    for frame in &mut pic.frames {
        match &mut frame.pixels {
            Pixels::Rgb(px) => imageops::flip_horizontal_in_place(px),
            Pixels::Rgba(px) => imageops::flip_horizontal_in_place(px),
        }
    }
    pic
}
