//! `rotate`: clockwise by any angle. Multiples of 90° move pixels exactly; other angles
//! resample bilinearly onto the bounding box of the rotated image, filling the corners with
//! sharp's default background (opaque black). image's `imageops` only rotates by right angles
//! and imageproc keeps the input size, so the general case is written here.

use crate::edits::Color;
use crate::error::Error;
use crate::pipeline::picture::Picture;
use image::{imageops, Rgba, RgbaImage};

pub fn rotate(angle: f64, pic: Picture) -> Result<Picture, Error> {
    if !angle.is_finite() {
        return Err(Error::invalid_edit("rotate", "angle must be a number"));
    }
    let deg = angle.rem_euclid(360.0);
    if deg == 0.0 {
        return Ok(pic);
    }
    // Right angles move pixels in either layout; other angles fill corners, which needs RGBA.
    if deg % 90.0 == 0.0 {
        let Ok(pic) = pic.map_pixels(|px| {
            Ok::<_, std::convert::Infallible>(crate::each_layout!(px, px => match deg {
                90.0 => imageops::rotate90(&px),
                180.0 => imageops::rotate180(&px),
                _ => imageops::rotate270(&px),
            }))
        });
        return Ok(pic);
    }
    let Ok(pic) = pic.map_frames(|px| Ok::<_, std::convert::Infallible>(rotate_any(&px, deg, Color::BLACK)));
    Ok(pic)
}

fn rotate_any(px: &RgbaImage, deg: f64, background: Color) -> RgbaImage {
    let (w, h) = (px.width() as f64, px.height() as f64);
    let (sin, cos) = deg.to_radians().sin_cos();
    // Bounding box of the rotated rectangle, rounded as libvips does (sharp: 128² at 45° is
    // 181², 100×60 at 30° is 117×102).
    let ow = (w * cos.abs() + h * sin.abs()).round().max(1.0) as u32;
    let oh = (w * sin.abs() + h * cos.abs()).round().max(1.0) as u32;
    let bg = background.to_rgba8();
    let bg_f = [bg[0] as f32, bg[1] as f32, bg[2] as f32, bg[3] as f32];
    let (icx, icy) = (w / 2.0, h / 2.0);
    let (ocx, ocy) = (ow as f64 / 2.0, oh as f64 / 2.0);
    let (iw, ih) = (px.width() as i64, px.height() as i64);
    // Premultiplied sample; outside the source counts as background.
    let sample = |x: i64, y: i64| -> [f32; 4] {
        if x < 0 || y < 0 || x >= iw || y >= ih {
            let a = bg_f[3] / 255.0;
            return [bg_f[0] * a, bg_f[1] * a, bg_f[2] * a, bg_f[3]];
        }
        let p = px.get_pixel(x as u32, y as u32);
        let a = p[3] as f32 / 255.0;
        [p[0] as f32 * a, p[1] as f32 * a, p[2] as f32 * a, p[3] as f32]
    };
    RgbaImage::from_fn(ow, oh, |ox, oy| {
        // Inverse mapping: output pixel centre back into the source (clockwise rotation).
        let dx = ox as f64 + 0.5 - ocx;
        let dy = oy as f64 + 0.5 - ocy;
        let sx = dx * cos + dy * sin + icx - 0.5;
        let sy = -dx * sin + dy * cos + icy - 0.5;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = ((sx - x0) as f32, (sy - y0) as f32);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let s = [
            sample(x0, y0),
            sample(x0 + 1, y0),
            sample(x0, y0 + 1),
            sample(x0 + 1, y0 + 1),
        ];
        let mut out = [0f32; 4];
        for (c, o) in out.iter_mut().enumerate() {
            let top = s[0][c] * (1.0 - fx) + s[1][c] * fx;
            let bottom = s[2][c] * (1.0 - fx) + s[3][c] * fx;
            *o = top * (1.0 - fy) + bottom * fy;
        }
        let a = out[3];
        let un = |v: f32| {
            if a > 0.0 {
                (v * 255.0 / a).round().clamp(0.0, 255.0) as u8
            } else {
                0
            }
        };
        Rgba([
            un(out[0]),
            un(out[1]),
            un(out[2]),
            a.round().clamp(0.0, 255.0) as u8,
        ])
    })
}
