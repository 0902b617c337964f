//! `roundCrop` (SIH): keep an ellipse, make the rest transparent, then trim (SIH re-opens the
//! result with `sharp(buf).trim()`, so later edits see the trimmed size).

use super::trim::trim_with;
use crate::edits::RoundCrop;
use crate::pipeline::picture::Picture;

pub fn round_crop(rc: &RoundCrop, mut pic: Picture) -> Picture {
    let opts = match rc {
        RoundCrop::Bool(false) => return pic,
        RoundCrop::Bool(true) => Default::default(),
        RoundCrop::Options(o) => o.clone(),
    };
    let (w, h) = (pic.width() as f64, pic.height() as f64);
    // SIH uses a parameter only when it is truthy and ≥ 0 (so 0 means "default").
    let pick = |v: Option<f64>, default: f64| match v {
        Some(v) if v > 0.0 && v.is_finite() => v,
        _ => default,
    };
    let rx = pick(opts.rx, w.min(h) / 2.0);
    let ry = pick(opts.ry, w.min(h) / 2.0);
    let cx = pick(opts.left, w / 2.0);
    let cy = pick(opts.top, h / 2.0);
    // 4×4 supersampling gives the ellipse an anti-aliased edge like librsvg's.
    const S: u32 = 4;
    for frame in &mut pic.frames {
        for (x, y, p) in frame.pixels.rgba().enumerate_pixels_mut() {
            let mut inside = 0;
            for sy in 0..S {
                for sx in 0..S {
                    let px = x as f64 + (sx as f64 + 0.5) / S as f64;
                    let py = y as f64 + (sy as f64 + 0.5) / S as f64;
                    let (dx, dy) = ((px - cx) / rx, (py - cy) / ry);
                    if dx * dx + dy * dy <= 1.0 {
                        inside += 1;
                    }
                }
            }
            p[3] = ((p[3] as u32 * inside + (S * S) / 2) / (S * S)) as u8;
        }
    }
    pic.has_alpha = true;
    trim_with(pic, 10.0, None)
}
