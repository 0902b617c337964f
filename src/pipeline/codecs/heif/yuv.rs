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

/// [0, 1] → 0–255, rounded; `as` saturates out-of-range values (and maps NaN to 0).
fn to_u8(v: f32) -> u8 {
    (v * 255.0 + 0.5) as u8
}

/// One chroma row upsampled horizontally to the output width (`xs`: each column's taps, from
/// `taps`; `shift`: the chroma subsampling). The regular cases (4:4:4, and 4:2:0/4:2:2 away
/// from the right edge) skip the taps' indirection and give the same values.
fn upsample_row(plane: &[u16], cw: u32, y: u32, xs: &[(u32, u32, f32)], shift: u8, out: &mut [f32]) {
    let row = &plane[(y * cw) as usize..((y + 1) * cw) as usize];
    let generic = |from: usize, out: &mut [f32]| {
        for (o, &(x0, x1, wx)) in out[from..].iter_mut().zip(&xs[from..]) {
            *o = row[x0 as usize] as f32 * (1.0 - wx) + row[x1 as usize] as f32 * wx;
        }
    };
    match shift {
        0 => out.iter_mut().zip(row).for_each(|(o, &v)| *o = v as f32),
        1 if !out.is_empty() => {
            // Column 0 is chroma sample 0; columns 2k+1 and 2k+2 lie between samples k and k+1,
            // a quarter and three quarters of the way.
            generic(0, &mut out[..1]);
            let n = (2 * (row.len() - 1)).min(out.len() - 1);
            for (o, r) in out[1..1 + n].chunks_mut(2).zip(row.windows(2)) {
                let (a, b) = (r[0] as f32, r[1] as f32);
                o[0] = a * 0.75 + b * 0.25;
                if let Some(o) = o.get_mut(1) {
                    *o = a * 0.25 + b * 0.75;
                }
            }
            generic(1 + n, out);
        }
        _ => generic(0, out),
    }
}

/// Converts `color` (and `alpha`'s luma, when given) to RGBA with colour `nclx`.
///
/// Row by row: the two chroma rows around an output row are upsampled horizontally once (and
/// reused by the next output row when it shares them), then blended and converted in one pass
/// over plain slices, which the compiler vectorises.
pub(super) fn to_rgba(color: &Planes, alpha: Option<&Planes>, nclx: Nclx) -> RgbaImage {
    let (w, h) = (color.width, color.height);
    let range = Range::new(color.depth, nclx.full_range);
    let (kr, kb) = kr_kb(nclx.matrix);
    let kg = 1.0 - kr - kb;
    let (cw, ch) = color.chroma_size();
    let xs = taps(w, cw, color.shift.0);
    let ys = taps(h, ch, color.shift.1);
    let alpha = alpha.filter(|a| (a.width, a.height) == (w, h));
    let alpha_range = alpha.map(|a| Range::new(a.depth, a.nclx.full_range));
    let chroma = match color.planes.get(1..3) {
        Some([u, v]) => Some((u, v)),
        _ => None,
    };
    let wu = w as usize;
    // Upsampled rows: chroma row index, then U and V.
    let mut top = (u32::MAX, vec![0f32; wu], vec![0f32; wu]);
    let mut bottom = (u32::MAX, vec![0f32; wu], vec![0f32; wu]);
    let (mut cb, mut cr) = (vec![0f32; wu], vec![0f32; wu]);
    let mut out = RgbaImage::new(w, h);
    for (py, row) in out.chunks_exact_mut(wu * 4).enumerate() {
        let luma_row = &color.planes[0][py * wu..(py + 1) * wu];
        if let Some((u, v)) = chroma {
            let (y0, y1, wy) = ys[py];
            if top.0 != y0 {
                if bottom.0 == y0 {
                    std::mem::swap(&mut top, &mut bottom);
                } else {
                    upsample_row(u, cw, y0, &xs, color.shift.0, &mut top.1);
                    upsample_row(v, cw, y0, &xs, color.shift.0, &mut top.2);
                    top.0 = y0;
                }
            }
            if bottom.0 != y1 {
                upsample_row(u, cw, y1, &xs, color.shift.0, &mut bottom.1);
                upsample_row(v, cw, y1, &xs, color.shift.0, &mut bottom.2);
                bottom.0 = y1;
            }
            for (o, (t, b)) in cb.iter_mut().zip(top.1.iter().zip(&bottom.1)) {
                *o = t * (1.0 - wy) + b * wy;
            }
            for (o, (t, b)) in cr.iter_mut().zip(top.2.iter().zip(&bottom.2)) {
                *o = t * (1.0 - wy) + b * wy;
            }
        }
        // One loop per case, without branches inside, so the compiler can vectorise each.
        let luma = |y: u16| (y as f32 - range.offset) * range.scale;
        let pixels = row.chunks_exact_mut(4).zip(luma_row);
        if chroma.is_none() {
            for (pixel, &y) in pixels {
                let l = to_u8(luma(y));
                pixel.copy_from_slice(&[l, l, l, 255]);
            }
        } else if nclx.matrix == 0 {
            // Identity: the planes are G, B, R, all with luma's range.
            let full = |c: f32| to_u8((c - range.offset) * range.scale);
            for ((pixel, &y), (&cb, &cr)) in pixels.zip(cb.iter().zip(&cr)) {
                pixel.copy_from_slice(&[full(cr), to_u8(luma(y)), full(cb), 255]);
            }
        } else {
            let (cr_r, cb_b) = (2.0 - 2.0 * kr, 2.0 - 2.0 * kb);
            for ((pixel, &y), (&cb, &cr)) in pixels.zip(cb.iter().zip(&cr)) {
                let l = luma(y);
                let cb = (cb - range.chroma_offset) * range.chroma_scale;
                let cr = (cr - range.chroma_offset) * range.chroma_scale;
                let r = l + cr_r * cr;
                let b = l + cb_b * cb;
                let g = (l - kr * r - kb * b) / kg;
                pixel.copy_from_slice(&[to_u8(r), to_u8(g), to_u8(b), 255]);
            }
        }
        if let (Some(a), Some(r)) = (alpha, alpha_range) {
            let alpha_row = &a.planes[0][py * wu..(py + 1) * wu];
            for (pixel, &a) in row.chunks_exact_mut(4).zip(alpha_row) {
                pixel[3] = to_u8((a as f32 - r.offset) * r.scale);
            }
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
    fn fast_upsampling_matches_the_taps() {
        // Shift 2 is no AV1 layout: it takes the generic path, the reference for the others.
        for (w, shift) in [(1, 1), (2, 1), (7, 1), (8, 1), (64, 1), (5, 0), (9, 0)] {
            let cw = (w + shift as u32) >> shift;
            let row: Vec<u16> = (0..cw).map(|i| (i * 37 % 251) as u16).collect();
            let xs = taps(w, cw, shift);
            let (mut fast, mut generic) = (vec![0f32; w as usize], vec![0f32; w as usize]);
            upsample_row(&row, cw, 0, &xs, shift, &mut fast);
            upsample_row(&row, cw, 0, &xs, 2, &mut generic);
            assert_eq!(fast, generic, "width {w}, shift {shift}");
        }
    }

    #[test]
    fn chroma_taps_are_centre_sited() {
        assert_eq!(
            taps(4, 2, 1),
            vec![(0, 1, 0.0), (0, 1, 0.25), (0, 1, 0.75), (1, 1, 0.25)]
        );
    }
}
