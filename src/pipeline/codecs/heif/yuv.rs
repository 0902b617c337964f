//! Decoded AV1 planes → 8-bit RGBA: the `colr`/sequence header matrix coefficients (BT.601,
//! BT.709, BT.2020, identity/GBR), limited or full range, any of 8/10/12 bits, chroma upsampled
//! bilinearly from centre-sited samples (libavif's built-in filter), and the alpha auxiliary
//! image's luma as alpha.

use super::av1::Planes;
use super::container::Nclx;
use image::RgbaImage;

/// (Kr, Kb) of a CICP matrix coefficients value; unspecified ones are read as BT.601, as libavif
/// does.
fn kr_kb(matrix: u16) -> (f32, f32) {
    match matrix {
        1 => (0.2126, 0.0722),
        4 => (0.30, 0.11),
        7 => (0.212, 0.087),
        9 | 10 => (0.2627, 0.0593),
        _ => (0.299, 0.114),
    }
}

/// Sample → [0, 1] for luma/alpha and [-0.5, 0.5] for chroma.
#[derive(Clone, Copy)]
struct Range {
    offset: f32,
    scale: f32,
    chroma_offset: f32,
    chroma_scale: f32,
}

impl Range {
    fn new(depth: u8, full: bool) -> Range {
        let s = (1u32 << (depth - 8)) as f32;
        let max = ((1u32 << depth) - 1) as f32;
        match full {
            true => Range {
                offset: 0.0,
                scale: 1.0 / max,
                chroma_offset: 128.0 * s,
                chroma_scale: 1.0 / max,
            },
            false => Range {
                offset: 16.0 * s,
                scale: 1.0 / (219.0 * s),
                chroma_offset: 128.0 * s,
                chroma_scale: 1.0 / (224.0 * s),
            },
        }
    }
}

/// For each output coordinate: the two chroma samples around it and the second one's weight.
fn taps(len: u32, chroma_len: u32, shift: u8) -> Vec<(u32, u32, f32)> {
    let last = chroma_len.saturating_sub(1);
    (0..len)
        .map(|i| {
            if shift == 0 {
                return (i.min(last), i.min(last), 0.0);
            }
            let c = (i as f32 + 0.5) / (1 << shift) as f32 - 0.5;
            let lo = c.floor();
            let w = c - lo;
            let lo = lo.max(0.0) as u32;
            (lo.min(last), (lo + 1).min(last), if c < 0.0 { 0.0 } else { w })
        })
        .collect()
}

fn to_u8(v: f32) -> u8 {
    (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8
}

/// Converts `color` (and `alpha`'s luma, when given) to RGBA with colour `nclx`.
pub(super) fn to_rgba(color: &Planes, alpha: Option<&Planes>, nclx: Nclx) -> RgbaImage {
    let (w, h) = (color.width, color.height);
    let range = Range::new(color.depth, nclx.full_range);
    let (kr, kb) = kr_kb(nclx.matrix);
    let kg = 1.0 - kr - kb;
    let (cw, ch) = color.chroma_size();
    let xs = taps(w, cw, color.shift.0);
    let ys = taps(h, ch, color.shift.1);
    let y_plane = &color.planes[0];
    let alpha = alpha.filter(|a| (a.width, a.height) == (w, h));
    let alpha_range = alpha.map(|a| Range::new(a.depth, a.nclx.full_range));
    let mut out = RgbaImage::new(w, h);
    for (py, row) in out.rows_mut().enumerate() {
        let (y0, y1, wy) = ys[py];
        for (px, pixel) in row.enumerate() {
            let i = py * w as usize + px;
            let luma = (y_plane[i] as f32 - range.offset) * range.scale;
            let rgb = match color.planes.get(1..3) {
                None => [luma; 3],
                Some([u, v]) => {
                    let (x0, x1, wx) = xs[px];
                    let sample = |p: &[u16]| {
                        let at = |x: u32, y: u32| p[(y * cw + x) as usize] as f32;
                        let top = at(x0, y0) * (1.0 - wx) + at(x1, y0) * wx;
                        let bottom = at(x0, y1) * (1.0 - wx) + at(x1, y1) * wx;
                        top * (1.0 - wy) + bottom * wy
                    };
                    let (cb, cr) = (sample(u), sample(v));
                    if nclx.matrix == 0 {
                        // Identity: the planes are G, B, R, all with luma's range.
                        let full = |c: f32| (c - range.offset) * range.scale;
                        [full(cr), luma, full(cb)]
                    } else {
                        let cb = (cb - range.chroma_offset) * range.chroma_scale;
                        let cr = (cr - range.chroma_offset) * range.chroma_scale;
                        let r = luma + (2.0 - 2.0 * kr) * cr;
                        let b = luma + (2.0 - 2.0 * kb) * cb;
                        [r, (luma - kr * r - kb * b) / kg, b]
                    }
                }
                Some(_) => [luma; 3],
            };
            let a = match (alpha, alpha_range) {
                (Some(a), Some(r)) => to_u8((a.planes[0][i] as f32 - r.offset) * r.scale),
                _ => 255,
            };
            pixel.0 = [to_u8(rgb[0]), to_u8(rgb[1]), to_u8(rgb[2]), a];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planes(depth: u8, y: u16, u: u16, v: u16) -> Planes {
        Planes {
            width: 2,
            height: 2,
            depth,
            shift: (1, 1),
            planes: vec![vec![y; 4], vec![u], vec![v]],
            nclx: Nclx {
                primaries: 1,
                transfer: 13,
                matrix: 1,
                full_range: false,
            },
        }
    }

    #[test]
    fn limited_range_bt709_grey_and_red() {
        let nclx = planes(8, 0, 0, 0).nclx;
        let grey = to_rgba(&planes(8, 126, 128, 128), None, nclx);
        assert_eq!(grey.get_pixel(1, 1).0, [128, 128, 128, 255]);
        // BT.709 limited-range pure red is (63, 102, 240).
        let red = to_rgba(&planes(8, 63, 102, 240), None, nclx);
        let [r, g, b, _] = red.get_pixel(0, 0).0;
        assert!(r >= 253 && g <= 2 && b <= 2, "{:?}", red.get_pixel(0, 0));
        // The same at 10 bits: every value × 4.
        let red10 = to_rgba(&planes(10, 252, 408, 960), None, nclx);
        assert_eq!(red10.get_pixel(0, 0).0, red.get_pixel(0, 0).0);
    }

    #[test]
    fn chroma_taps_are_centre_sited() {
        assert_eq!(
            taps(4, 2, 1),
            vec![(0, 1, 0.0), (0, 1, 0.25), (0, 1, 0.75), (1, 1, 0.25)]
        );
    }
}
