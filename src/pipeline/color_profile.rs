//! Colour → sRGB (moxcms). Outputs carry no profile (unless `KEEP_ICC=Yes` keeps an RGB one,
//! see `codecs::icc`), so every viewer shows them as sRGB: pixels from Adobe RGB, Display P3,
//! gray or CMYK originals must be converted, not relabelled.
//!
//! - [`to_srgb`]: an embedded RGB or gray ICC profile, applied to decoded RGBA frames.
//! - [`cmyk_to_srgb`]: CMYK pixels (JPEG) through their CMYK profile, or a naive conversion.
//! - [`cicp_profile`]: coding-independent code points (AVIF nclx, PNG cICP) as an ICC profile
//!   for [`to_srgb`]; PQ and HLG get a tone-mapping curve (see [`hdr_curve`]).

use super::picture::{Picture, Pixels};
use moxcms::{
    CicpColorPrimaries, CicpProfile, ColorProfile, DataColorSpace, Layout, MatrixCoefficients, ToneReprCurve,
    TransferCharacteristics, Transform8BitExecutor, TransformOptions,
};

/// Pixels per call into moxcms: bounds the scratch buffer for a 100 MP original.
const CHUNK: usize = 64 * 1024;

/// Converts every frame from `icc` to sRGB in place. Returns false (pixels untouched) when the
/// profile is unreadable or neither RGB nor gray: a broken profile must not fail the request;
/// the pixels are then taken as sRGB, as browsers do.
pub fn to_srgb(picture: &mut Picture, icc: &[u8]) -> bool {
    let Ok(source) = ColorProfile::new_from_slice(icc) else {
        return false;
    };
    match source.color_space {
        DataColorSpace::Rgb => rgb_to_srgb(picture, &source),
        DataColorSpace::Gray => gray_to_srgb(picture, &source),
        _ => false,
    }
}

/// Whether `icc` is a readable RGB profile (the kind `KEEP_ICC` keeps).
pub fn is_rgb(icc: &[u8]) -> bool {
    ColorProfile::new_from_slice(icc).is_ok_and(|p| p.color_space == DataColorSpace::Rgb)
}

fn rgb_to_srgb(picture: &mut Picture, source: &ColorProfile) -> bool {
    // One transform in the picture's layout (opaque frames are three-channel, see picture.rs);
    // a picture mixing layouts is widened to RGBA first.
    let rgb = picture.frames.iter().all(|f| matches!(f.pixels, Pixels::Rgb(_)));
    if !rgb {
        picture.frames.iter_mut().for_each(|f| {
            f.pixels.rgba();
        });
    }
    let (layout, n) = if rgb { (Layout::Rgb, 3) } else { (Layout::Rgba, 4) };
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) = source.create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
    else {
        return false;
    };
    // Most embedded profiles are sRGB itself (cameras, phones, exports "for web"): a probe of
    // the colour cube tells an identity transform from a real one for the cost of 4 096 pixels,
    // and skips a pass over every pixel of the full-size decode.
    let probe: Vec<u8> = (0..16u32 * 16 * 16)
        .map(|i| {
            [
                (i >> 8) as u8 * 17,
                ((i >> 4) & 15) as u8 * 17,
                (i & 15) as u8 * 17,
                255,
            ]
        })
        .flat_map(|px| px.into_iter().take(n))
        .collect();
    let mut probed = vec![0u8; probe.len()];
    if transform.transform(&probe, &mut probed).is_err() {
        return false;
    }
    if probe.iter().zip(&probed).all(|(a, b)| a.abs_diff(*b) <= 1) {
        return true;
    }
    picture.frames.iter_mut().all(|frame| match &mut frame.pixels {
        Pixels::Rgba(px) => in_place(transform.as_ref(), px, n),
        Pixels::Rgb(px) => in_place(transform.as_ref(), px, n),
    })
}

/// A gray profile is a tone curve: its 256 outputs, applied to R, G and B alike (equal in a
/// gray original; a colour image wrongly tagged gray keeps its hues).
fn gray_to_srgb(picture: &mut Picture, source: &ColorProfile) -> bool {
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        source.create_transform_8bit(Layout::Gray, &srgb, Layout::Rgb, TransformOptions::default())
    else {
        return false;
    };
    let ramp: Vec<u8> = (0..=255).collect();
    let mut rgb = vec![0u8; 256 * 3];
    if transform.transform(&ramp, &mut rgb).is_err() {
        return false;
    }
    let lut: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
    if lut.iter().zip(&ramp).all(|(a, b)| a.abs_diff(*b) <= 1) {
        return true;
    }
    for frame in &mut picture.frames {
        let (raw, channels) = match &mut frame.pixels {
            Pixels::Rgb(p) => (&mut **p, 3),
            Pixels::Rgba(p) => (&mut **p, 4),
        };
        for p in raw.chunks_exact_mut(channels) {
            for c in &mut p[..3] {
                *c = lut[*c as usize];
            }
        }
    }
    true
}

/// Runs `transform` over `n`-byte pixels in place, a chunk at a time.
fn in_place(transform: &Transform8BitExecutor, px: &mut [u8], n: usize) -> bool {
    let mut out = vec![0u8; CHUNK.min(px.len() / n) * n];
    for chunk in px.chunks_mut(CHUNK * n) {
        let out = &mut out[..chunk.len()];
        if transform.transform(chunk, out).is_err() {
            return false;
        }
        chunk.copy_from_slice(out);
    }
    true
}

/// CMYK (ICC convention: 0 = no ink; Adobe's inverted JPEG samples flipped by the caller) to
/// opaque RGBA in place, through `icc` when it is a usable CMYK profile. Without one, the naive
/// conversion (R = (1 − C)(1 − K), …, as Pillow and browsers without a CMS do): no permissively
/// licensed CMYK press profile exists to stand in for libvips' fallback. Returns whether the
/// profile was applied.
pub fn cmyk_to_srgb(px: &mut [u8], icc: Option<&[u8]>) -> bool {
    let transform = icc
        .and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
        .and_then(|p| {
            let srgb = ColorProfile::new_srgb();
            p.create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgba, TransformOptions::default())
                .ok()
        });
    let applied = transform.is_some_and(|t| in_place(t.as_ref(), px, 4));
    if !applied {
        for p in px.chunks_exact_mut(4) {
            let k = 255 - p[3] as u32;
            for c in &mut p[..3] {
                *c = (((255 - *c as u32) * k + 127) / 255) as u8;
            }
        }
    }
    for p in px.chunks_exact_mut(4) {
        p[3] = 255;
    }
    applied
}

/// An ICC profile for RGB pixels coded with these code points (ITU-T H.273), or `None` when
/// they are sRGB's (BT.709 primaries, or unspecified), or unknown: then the pixels are taken as
/// sRGB. Transfer 2 (unspecified) is taken as sRGB's. PQ (16) and HLG (18) are tone-mapped to
/// SDR by [`hdr_curve`].
pub fn cicp_profile(primaries: u16, transfer: u16, full_range: bool) -> Option<Vec<u8>> {
    let hdr = matches!(transfer, 16 | 18);
    if matches!(primaries, 1 | 2) && !hdr {
        return None;
    }
    let primaries = match primaries {
        2 => CicpColorPrimaries::Bt709,
        p => CicpColorPrimaries::try_from(u8::try_from(p).ok()?).ok()?,
    };
    let transfer_characteristics = match transfer {
        2 => TransferCharacteristics::Srgb,
        // The curve is replaced below; any SDR transfer builds the primaries.
        16 | 18 => TransferCharacteristics::Bt709,
        t => TransferCharacteristics::try_from(u8::try_from(t).ok()?).ok()?,
    };
    let mut profile = ColorProfile::new_from_cicp(CicpProfile {
        color_primaries: primaries,
        transfer_characteristics,
        matrix_coefficients: MatrixCoefficients::Identity,
        full_range,
    });
    // moxcms leaves reserved or unusable code points out of the profile.
    profile.cicp?;
    if hdr {
        let curve = ToneReprCurve::Lut(hdr_curve(transfer == 16));
        profile.red_trc = Some(curve.clone());
        profile.green_trc = Some(curve.clone());
        profile.blue_trc = Some(curve);
        // Otherwise moxcms would use the code points' own (untone-mapped) transfer.
        profile.cicp = None;
    }
    profile.encode().ok()
}

/// The display-light curve for a PQ (`pq`) or HLG signal, as SDR linear light 0–1: the signal's
/// luminance (PQ: absolute, up to 10 000 cd/m²; HLG: scene light through the BT.2100 OOTF on a
/// 1 000 cd/m² display, γ 1.2 per channel) relative to the BT.2408 reference white of 203 cd/m²,
/// linear up to 0.8 of it, then rolled off smoothly toward 1, so highlights keep some detail
/// and reference white comes out at about 95 % of sRGB white.
fn hdr_curve(pq: bool) -> Vec<u16> {
    const N: usize = 4096;
    const KNEE: f64 = 0.8;
    (0..N)
        .map(|i| {
            let v = i as f64 / (N - 1) as f64;
            let nits = if pq {
                pq_nits(v)
            } else {
                1000.0 * hlg_scene(v).powf(1.2)
            };
            let x = nits / 203.0;
            let y = if x <= KNEE {
                x
            } else {
                let t = (x - KNEE) / (1.0 - KNEE);
                KNEE + (1.0 - KNEE) * t / (1.0 + t)
            };
            (y.clamp(0.0, 1.0) * 65535.0).round() as u16
        })
        .collect()
}

/// SMPTE ST 2084 EOTF: signal 0–1 → cd/m².
fn pq_nits(v: f64) -> f64 {
    let (m1, m2) = (2610.0 / 16384.0, 2523.0 / 4096.0 * 128.0);
    let (c1, c2, c3) = (3424.0 / 4096.0, 2413.0 / 4096.0 * 32.0, 2392.0 / 4096.0 * 32.0);
    let e = v.powf(1.0 / m2);
    10000.0 * ((e - c1).max(0.0) / (c2 - c3 * e)).powf(1.0 / m1)
}

/// BT.2100 HLG inverse OETF: signal 0–1 → normalised scene light 0–1.
fn hlg_scene(v: f64) -> f64 {
    let (a, b, c) = (0.17883277, 0.28466892, 0.55991073);
    if v <= 0.5 {
        v * v / 3.0
    } else {
        (((v - c) / a).exp() + b) / 12.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    fn convert_icc(icc: &[u8], px: [u8; 4]) -> [u8; 4] {
        let mut pic = Picture::still(RgbaImage::from_pixel(1, 1, Rgba(px)), false);
        assert!(to_srgb(&mut pic, icc));
        pic.frames[0].pixels.rgba().get_pixel(0, 0).0
    }

    fn convert(profile: ColorProfile, px: [u8; 4]) -> [u8; 4] {
        convert_icc(&profile.encode().expect("profile encodes"), px)
    }

    #[test]
    fn srgb_profile_leaves_pixels_alone() {
        let out = convert(ColorProfile::new_srgb(), [200, 100, 50, 255]);
        for (a, b) in out.iter().zip([200u8, 100, 50, 255]) {
            assert!(a.abs_diff(b) <= 1, "{out:?}");
        }
    }

    #[test]
    fn adobe_rgb_becomes_more_saturated_srgb() {
        // Adobe RGB's primaries are wider: the same numbers mean a more saturated colour, so in
        // sRGB the dominant channel rises and the others fall. Alpha is untouched.
        let out = convert(ColorProfile::new_adobe_rgb(), [60, 160, 60, 128]);
        assert!(out[1] > 160 && out[0] < 60 && out[2] < 60, "{out:?}");
        assert_eq!(out[3], 128);
    }

    #[test]
    fn garbage_profile_is_ignored() {
        let mut pic = Picture::still(RgbaImage::from_pixel(1, 1, Rgba([1, 2, 3, 255])), false);
        assert!(!to_srgb(&mut pic, b"not a profile"));
        assert_eq!(pic.frames[0].pixels.rgba().get_pixel(0, 0).0, [1, 2, 3, 255]);
    }

    #[test]
    fn linear_gray_profile_brightens_mid_gray() {
        // Gray value 128 in linear light is 0.5, which sRGB encodes as 188; alpha is kept.
        let mut gray = ColorProfile::new_gray_with_gamma(1.0);
        gray.cicp = None;
        assert_eq!(convert(gray, [128, 128, 128, 77]), [188, 188, 188, 77]);
    }

    #[test]
    fn cmyk_without_profile_is_naive() {
        let mut px = [0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 128, 0, 64];
        assert!(!cmyk_to_srgb(&mut px, None));
        assert_eq!(
            px,
            [255, 255, 255, 255, 0, 255, 255, 255, 0, 0, 0, 255, 191, 95, 191, 255]
        );
        // An RGB profile is not a CMYK one: naive too.
        let rgb = ColorProfile::new_srgb().encode().unwrap();
        let mut px = [0, 0, 0, 255];
        assert!(!cmyk_to_srgb(&mut px, Some(&rgb)));
        assert_eq!(px, [0, 0, 0, 255]);
    }

    #[test]
    fn cicp_srgb_needs_no_profile_and_p3_converts() {
        assert_eq!(cicp_profile(1, 13, true), None);
        assert_eq!(cicp_profile(2, 2, true), None);
        assert_eq!(cicp_profile(200, 13, true), None);
        let p3 = cicp_profile(12, 13, true).unwrap();
        let out = convert_icc(&p3, [20, 200, 60, 255]);
        assert!(out[1] > 200 && out[2] < 60, "{out:?}");
    }

    #[test]
    fn pq_and_hlg_are_tone_mapped() {
        let pq = cicp_profile(9, 16, true).unwrap();
        // Black stays black, reference white (PQ 0.58 ≈ 203 cd/m²) is near white, the peak white.
        assert_eq!(convert_icc(&pq, [0, 0, 0, 255]), [0, 0, 0, 255]);
        let white = convert_icc(&pq, [148, 148, 148, 255]);
        assert!(white[..3].iter().all(|&c| (235..=250).contains(&c)), "{white:?}");
        assert_eq!(convert_icc(&pq, [255, 255, 255, 255]), [255, 255, 255, 255]);
        let hlg = cicp_profile(9, 18, true).unwrap();
        let white = convert_icc(&hlg, [191, 191, 191, 255]);
        assert!(white[..3].iter().all(|&c| (235..=250).contains(&c)), "{white:?}");
        let curve = hdr_curve(true);
        assert!(curve.windows(2).all(|w| w[0] <= w[1]));
    }
}
