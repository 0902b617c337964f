//! Colour of originals: CMYK JPEG through its ICC profile, gray ICC profiles (PNG, JPEG),
//! Display P3 PNG (iCCP and cICP), PQ (cICP), Display P3 and Rec.2020 AVIF (nclx). Decoded
//! pixels are compared with littleCMS's conversions of the same files to sRGB, made by
//! tests/data/formats/make.py (see the README there).

mod pipeline_support;

use pipeline_support::*;
use pixfront::config::Config;
use pixfront::edits::Format;
use pixfront::pipeline::Output;
use serde_json::json;

fn render(bytes: &bytes::Bytes, format: Format, config: &Config) -> Result<Output, pixfront::Error> {
    render_bytes(bytes, json!({}), Some(format), config)
}

/// The original decoded through the pipeline, as lossless PNG.
fn decoded(name: &str) -> image::RgbaImage {
    decode(
        &render(&fixture(name), Format::Png, &Config::default())
            .unwrap()
            .bytes,
    )
}

/// `name` decoded by pixfront against littleCMS's sRGB conversion `reference`: mean and
/// largest per-channel differences within the given bounds.
fn assert_matches(name: &str, reference: &str, mean_at_most: f64, max_at_most: u8) -> image::RgbaImage {
    let ours = decoded(name);
    let reference = decode(&fixture(reference));
    let (mean, max) = (mean_diff(&ours, &reference), max_diff(&ours, &reference));
    println!("{name}: mean {mean:.3}, max {max}");
    assert!(
        mean <= mean_at_most && max <= max_at_most,
        "{name}: mean {mean:.3}, max {max}"
    );
    ours
}

fn near(px: image::Rgba<u8>, rgb: [u8; 3], tolerance: u8) -> bool {
    (0..3).all(|c| px[c].abs_diff(rgb[c]) <= tolerance)
}

#[test]
fn cmyk_jpeg_goes_through_its_profile() {
    // moxcms and littleCMS interpolate the same 9-point CLUT (differently), on CMYK from two
    // libjpeg-turbo builds (±1 each): a few levels apart where the ink model bends hardest.
    let ours = assert_matches("cmyk_icc.jpg", "cmyk_icc.ref.png", 1.0, 6);
    // 100 % K is the profile's dark grey, where the naive conversion gives black; no ink is white.
    assert!(
        near(*ours.get_pixel(56, 8), [75, 73, 74], 3),
        "{:?}",
        ours.get_pixel(56, 8)
    );
    assert!(
        near(*ours.get_pixel(8, 8), [255, 255, 255], 1),
        "{:?}",
        ours.get_pixel(8, 8)
    );
}

#[test]
fn gray_profiles_are_applied() {
    // Gray.icc has a linear tone curve: gray 128 is sRGB 188.
    for (name, reference) in [
        ("gray_icc.png", "gray_icc.ref.png"),
        ("gray_icc.jpg", "gray_icc.jpg.ref.png"),
    ] {
        let ours = assert_matches(name, reference, 0.5, 1);
        assert!(near(*ours.get_pixel(30, 25), [188, 188, 188], 1), "{name}");
    }
}

#[test]
fn display_p3_png_by_iccp_or_cicp() {
    // Both carry the same numbers, tagged by an ICC profile or by code points 12/13/0/1.
    let iccp = assert_matches("p3_icc.png", "p3.srgb.ref.png", 0.5, 2);
    let cicp = assert_matches("p3_cicp.png", "p3.srgb.ref.png", 0.5, 2);
    assert!(max_diff(&iccp, &cicp) <= 2);
    // The source's green block (20, 200, 60) in P3 is a purer green in sRGB.
    assert!(
        near(*iccp.get_pixel(50, 36), [0, 204, 13], 2),
        "{:?}",
        iccp.get_pixel(50, 36)
    );
}

#[test]
fn pq_png_is_tone_mapped_to_sdr() {
    // Patches of PQ signal 0, 64, 128, 148 (≈203 cd/m², reference white), 191 and 255.
    let ours = decoded("pq_cicp.png");
    let patches: Vec<u8> = (0..6).map(|i| ours.get_pixel(i * 8 + 4, 4)[0]).collect();
    println!("PQ patches: {patches:?}");
    assert_eq!(patches[0], 0);
    assert!(patches.windows(2).all(|w| w[0] < w[1]), "{patches:?}");
    assert!((235..=250).contains(&patches[3]), "{patches:?}");
    assert!(patches[5] >= 254, "{patches:?}");
    // Untreated, PQ's numbers would show reference white as mid-grey 148.
    assert!(patches[2] > 128 + 40, "{patches:?}");
}

#[test]
fn wide_gamut_avif_comes_out_in_srgb() {
    // avifdec's numbers converted by littleCMS: the YUV conversions differ along colour edges
    // (libavif point-samples 4:2:0 chroma, pixfront interpolates), hence the larger maximum.
    let p3 = assert_matches("p3.avif", "p3.avif.srgb.ref.png", 1.5, 40);
    assert!(
        near(*p3.get_pixel(50, 36), [0, 204, 13], 6),
        "{:?}",
        p3.get_pixel(50, 36)
    );
    // 10-bit 4:4:4: no chroma upsampling, only rounding and the two CMSs differ.
    assert_matches("rec2020.avif", "rec2020.srgb.ref.png", 1.0, 6);
}

#[test]
fn outputs_carry_no_profile_even_with_keep_metadata() {
    // Colours are converted, never relabelled: KEEP_METADATA keeps EXIF only, so a profile in
    // the output would describe the wrong numbers.
    let mut keep = Config::default();
    keep.pipeline.keep_metadata = true;
    let plain = render(&fixture("p3_icc.png"), Format::Png, &Config::default()).unwrap();
    let kept = render(&fixture("p3_icc.png"), Format::Png, &keep).unwrap();
    assert_eq!(decode(&plain.bytes), decode(&kept.bytes));
    for out in [
        &kept,
        &render(&fixture("cmyk_icc.jpg"), Format::Jpeg, &keep).unwrap(),
    ] {
        let b = &out.bytes[..];
        assert!(!b.windows(4).any(|w| w == b"iCCP"), "iCCP chunk in the output");
        assert!(
            !b.windows(11).any(|w| w == b"ICC_PROFILE"),
            "ICC segment in the output"
        );
    }
}

#[test]
fn damaged_colour_files_are_4xx() {
    for name in [
        "cmyk_icc.jpg",
        "gray_icc.jpg",
        "gray_icc.png",
        "p3_icc.png",
        "p3_cicp.png",
        "pq_cicp.png",
        "rec2020.avif",
    ] {
        let file = fixture(name);
        let step = (file.len() / 150).max(1);
        for len in (0..file.len()).step_by(step) {
            if let Err(e) = render(&file.slice(..len), Format::Png, &Config::default()) {
                assert!((400..500).contains(&e.status), "{name} cut at {len}: {e:?}");
            }
        }
        // Bytes flipped all over, the profile and colour chunks included.
        let mut flipped = file.to_vec();
        for i in (20..flipped.len()).step_by(11) {
            flipped[i] ^= 0x5A;
        }
        if let Err(e) = render(&flipped.into(), Format::Png, &Config::default()) {
            assert!((400..500).contains(&e.status), "{name} damaged: {e:?}");
        }
    }
}
