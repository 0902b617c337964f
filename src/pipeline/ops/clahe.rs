//! `clahe`: libvips' `hist_local` as sharp calls it. Each output value is the input's rank in
//! the histogram of the `width`×`height` window centred on it (edges mirrored), scaled to
//! 0–255; with `maxSlope` > 0, histogram bins are clipped at that count and the clipped excess
//! spread evenly over the 256 bins. Every channel, alpha included, is equalised on its own.

use crate::edits::Clahe;
use crate::error::Error;
use crate::pipeline::picture::Picture;
use image::RgbaImage;

/// sharp allows windows up to 65 536; the work per pixel grows with the window height, so
/// pixfront caps each side (as it caps `median` and `convolve`) to bound the CPU per URL.
const MAX_WINDOW: u32 = 256;

fn bad(message: impl std::fmt::Display) -> Error {
    Error::invalid_edit("clahe", message)
}

pub fn clahe(c: &Clahe, pic: Picture) -> Result<Picture, Error> {
    let max_slope = c.max_slope.unwrap_or(3);
    if c.width == 0 || c.height == 0 || max_slope > 100 {
        return Err(bad("width and height must be ≥ 1 and maxSlope 0–100"));
    }
    if c.width > MAX_WINDOW || c.height > MAX_WINDOW {
        return Err(bad(format!(
            "windows above {MAX_WINDOW} pixels are not supported"
        )));
    }
    if c.width > pic.width() || c.height > pic.height() {
        return Err(bad("window too large for the image"));
    }
    let bands = if pic.has_alpha { 4 } else { 3 };
    pic.map_frames(|px| {
        Ok(equalise(
            &px,
            c.width as usize,
            c.height as usize,
            max_slope,
            bands,
        ))
    })
}

/// libvips' `VIPS_EXTEND_MIRROR`: the image tiled with flipped copies, so the edge pixel
/// repeats (index -1 reads 0, `n` reads `n - 1`).
fn mirror(i: isize, n: usize) -> usize {
    let n = n as isize;
    let period = 2 * n;
    let m = i.rem_euclid(period);
    (if m < n { m } else { period - 1 - m }) as usize
}

fn equalise(src: &RgbaImage, ww: usize, wh: usize, max_slope: u32, bands: usize) -> RgbaImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let raw = src.as_raw();
    let mut out = src.clone();
    let dst: &mut [u8] = &mut out;
    let area = (ww * wh) as u32;
    // Window columns and rows in source coordinates: centre minus half the window.
    let cols: Vec<usize> = (0..w + ww)
        .map(|x| mirror(x as isize - (ww / 2) as isize, w))
        .collect();
    for y in 0..h {
        let rows: Vec<usize> = (0..wh)
            .map(|j| mirror((y + j) as isize - (wh / 2) as isize, h))
            .collect();
        for b in 0..bands {
            let mut hist = [0u32; 256];
            for &r in &rows {
                for &cx in &cols[..ww] {
                    hist[raw[(r * w + cx) * 4 + b] as usize] += 1;
                }
            }
            for x in 0..w {
                let target = raw[(y * w + x) * 4 + b] as usize;
                let sum = if max_slope > 0 {
                    let (mut sum, mut over) = (0u32, 0u32);
                    for (i, &n) in hist.iter().enumerate() {
                        let kept = n.min(max_slope);
                        over += n - kept;
                        if i <= target {
                            sum += kept;
                        }
                    }
                    sum + (target as u32 + 1) * over / 256
                } else {
                    hist[..=target].iter().sum()
                };
                dst[(y * w + x) * 4 + b] = (255 * sum / area) as u8;
                // Slide the window one column right.
                for &r in &rows {
                    hist[raw[(r * w + cols[x]) * 4 + b] as usize] -= 1;
                    hist[raw[(r * w + cols[x + ww]) * 4 + b] as usize] += 1;
                }
            }
        }
    }
    out
}
