//! sRGB ⇄ linear ⇄ CIELAB (D65) conversions for the colour edits that sharp performs in LAB or
//! LCh (tint, modulate, normalise, sharpen). Small closed formulas; moxcms works on whole
//! profiles and buffers, not single values, so these few lines are written here.

/// sRGB 8-bit → linear light 0–1.
pub fn to_linear(v: u8) -> f32 {
    let c = v as f32 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light 0–1 → sRGB 8-bit.
pub fn from_linear(l: f32) -> u8 {
    let l = l.clamp(0.0, 1.0);
    let c = if l <= 0.0031308 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    };
    (c * 255.0).round() as u8
}

/// A 256-entry table of [`to_linear`].
pub fn linear_table() -> [f32; 256] {
    std::array::from_fn(|i| to_linear(i as u8))
}

/// Luminance (Rec. 709 weights in linear light) re-encoded as sRGB: libvips' sRGB → B_W.
pub fn grey(lin: &[f32; 256], r: u8, g: u8, b: u8) -> u8 {
    from_linear(0.2126 * lin[r as usize] + 0.7152 * lin[g as usize] + 0.0722 * lin[b as usize])
}

const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

fn f(t: f32) -> f32 {
    if t > 216.0 / 24389.0 {
        t.cbrt()
    } else {
        (24389.0 / 27.0 * t + 16.0) / 116.0
    }
}

fn f_inv(t: f32) -> f32 {
    let t3 = t * t * t;
    if t3 > 216.0 / 24389.0 {
        t3
    } else {
        (116.0 * t - 16.0) * 27.0 / 24389.0
    }
}

pub fn rgb_to_lab(lin: &[f32; 256], r: u8, g: u8, b: u8) -> [f32; 3] {
    let (r, g, b) = (lin[r as usize], lin[g as usize], lin[b as usize]);
    let x = 0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = 0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b;
    let (fx, fy, fz) = (f(x / WHITE[0]), f(y / WHITE[1]), f(z / WHITE[2]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

pub fn lab_to_rgb([l, a, b]: [f32; 3]) -> [u8; 3] {
    let fy = (l + 16.0) / 116.0;
    let fx = fy + a / 500.0;
    let fz = fy - b / 200.0;
    let (x, y, z) = (f_inv(fx) * WHITE[0], f_inv(fy) * WHITE[1], f_inv(fz) * WHITE[2]);
    let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
    let g = -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z;
    let bl = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
    [from_linear(r), from_linear(g), from_linear(bl)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_round_trips() {
        let lin = linear_table();
        for &(r, g, b) in &[(0u8, 0u8, 0u8), (255, 255, 255), (200, 30, 90), (12, 240, 77)] {
            let back = lab_to_rgb(rgb_to_lab(&lin, r, g, b));
            for (x, y) in back.iter().zip([r, g, b]) {
                assert!((*x as i32 - y as i32).abs() <= 1, "{back:?} vs {:?}", (r, g, b));
            }
        }
        let white = rgb_to_lab(&lin, 255, 255, 255);
        assert!((white[0] - 100.0).abs() < 0.1 && white[1].abs() < 0.1 && white[2].abs() < 0.1);
    }
}
