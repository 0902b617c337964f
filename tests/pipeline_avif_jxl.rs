//! AVIF/AV1-HEIF (rav1d) and JPEG XL (jxl-oxide) originals: decoded pixels against libavif's and
//! libjxl's references made from the same files (tests/data/formats/README.md), transforms,
//! grids, sequences, HEIC's refusal, and hostile headers refused before decoding.

mod pipeline_support;

use image::AnimationDecoder;
use pipeline_support::*;
use pixfront::config::Config;
use pixfront::edits::Format;
use pixfront::pipeline::{process, Output, Resources};
use serde_json::json;

fn render(
    bytes: &bytes::Bytes,
    edits: serde_json::Value,
    config: &Config,
) -> Result<Output, pixfront::Error> {
    render_bytes(bytes, edits, Some(Format::Png), config)
}

/// The original decoded as PNG, unedited.
fn decoded(bytes: &bytes::Bytes) -> image::RgbaImage {
    decode(&render(bytes, json!({}), &Config::default()).unwrap().bytes)
}

/// Largest per-channel difference (RGBA).
fn max_diff(a: &image::RgbaImage, b: &image::RgbaImage) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap()
}

/// Fully transparent pixels with their colour zeroed: encoders may keep or drop it (lossless
/// WebP drops it).
fn visible(img: &image::RgbaImage) -> image::RgbaImage {
    let mut img = img.clone();
    img.pixels_mut()
        .filter(|p| p.0[3] == 0)
        .for_each(|p| p.0 = [0; 4]);
    img
}

/// Mean and largest differences stay within what two YUV → RGB conversions differ by: libavif
/// upsamples 8-bit 4:2:0 chroma by point sampling (libyuv), pixfront bilinearly, so only the
/// pixels along colour edges differ by more than rounding.
fn assert_close(name: &str, ours: &image::RgbaImage, reference: &image::RgbaImage) {
    let (mean, max) = (mean_diff(ours, reference), max_diff(ours, reference));
    println!("{name}: mean {mean:.3}, max {max}");
    assert!(mean < 2.0 && max <= 100, "{name}: mean {mean:.3}, max {max}");
}

#[test]
fn stills_match_libavif_at_8_10_and_12_bits() {
    for name in ["rgb8_420", "rgba10_444", "rgb12_420", "grid"] {
        let ours = decoded(&fixture(&format!("{name}.avif")));
        let reference = decode(&fixture(&format!("{name}.ref.png")));
        assert_close(name, &ours, &reference);
    }
    // 4:4:4 has no upsampling to disagree on: rounding only.
    let ours = decoded(&fixture("rgba10_444.avif"));
    let reference = decode(&fixture("rgba10_444.ref.png"));
    assert!(
        max_diff(&ours, &reference) <= 3,
        "{}",
        max_diff(&ours, &reference)
    );
}

#[test]
fn alpha_auxiliary_image_is_the_alpha_channel() {
    let ours = decoded(&fixture("rgba10_444.avif"));
    // The source's alpha: 0 for x < 8, then 4·x up to 255.
    assert_eq!(ours.get_pixel(3, 10).0[3], 0);
    assert!(
        ours.get_pixel(20, 10).0[3].abs_diff(80) <= 2,
        "{:?}",
        ours.get_pixel(20, 10)
    );
    assert!(
        ours.get_pixel(63, 10).0[3].abs_diff(252) <= 2,
        "{:?}",
        ours.get_pixel(63, 10)
    );
    // Opaque files stay opaque.
    assert!(decoded(&fixture("rgb8_420.avif")).pixels().all(|p| p.0[3] == 255));
}

#[test]
fn irot_and_imir_turn_the_pixels() {
    // irot 1 (a quarter turn anti-clockwise) then imir 0 (top ↔ bottom) is a transpose.
    let ours = decoded(&fixture("rot_mir.avif"));
    assert_eq!(ours.dimensions(), (48, 64));
    let plain = decode(&fixture("rgb8_420.ref.png"));
    let transposed = image::RgbaImage::from_fn(48, 64, |x, y| *plain.get_pixel(y, x));
    assert_close("rot_mir", &ours, &transposed);
    // The red square (rows 8–23, columns 8–23 of the source) stays at the top left.
    let [r, g, b, _] = ours.get_pixel(15, 15).0;
    assert!(r > 200 && g < 60 && b < 60, "{:?}", ours.get_pixel(15, 15));
}

#[test]
fn display_p3_is_converted_to_srgb() {
    // avifdec leaves the P3 numbers as they are; in sRGB P3's green block is more saturated.
    let ours = decoded(&fixture("p3.avif"));
    let p3 = decode(&fixture("p3.ref.png"));
    let (o, r) = (ours.get_pixel(50, 36).0, p3.get_pixel(50, 36).0);
    assert!(o[1] > r[1] && o[0] < r[0], "sRGB {o:?} vs P3 numbers {r:?}");
}

#[test]
fn shared_fixtures_render() {
    let hopper = read("formats/hopper.avif");
    let out = render(&hopper, json!({}), &Config::default()).unwrap();
    assert_close("hopper", &decode(&out.bytes), &decode(&fixture("hopper.ref.png")));
    let out = run("formats/hopper.avif", json!({"resize": {"width": 50}})).unwrap();
    assert_eq!(out.content_type, "image/avif");
    let star = run(
        "formats/star_animated.avifs",
        json!({"resize": {"width": 80}, "toFormat": "png"}),
    )
    .unwrap();
    assert_eq!(decode(&star.bytes).dimensions(), (80, 80));
    let anim = run(
        "formats/star_animated.avifs",
        json!({"animated": true, "toFormat": "gif"}),
    )
    .unwrap();
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&anim.bytes[..]))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 5);
}

#[test]
fn sequences_keep_frames_and_delays() {
    let out = render(
        &fixture("anim.avifs"),
        json!({"animated": true, "webp": {"lossless": true}}),
        &Config::default(),
    );
    let mut req = request(json!({"animated": true, "webp": {"lossless": true}}));
    req.output_format = Some(Format::Webp);
    let webp = process(
        &req,
        &fixture("anim.avifs"),
        None,
        &Resources::default(),
        &Config::default().pipeline,
    )
    .unwrap();
    let frames = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&webp.bytes[..]))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 3);
    for (i, (frame, ms)) in frames.iter().zip([200, 100, 300]).enumerate() {
        assert_eq!(frame.delay().numer_denom_ms(), (ms, 1), "frame {i}");
        let reference = decode(&fixture(&format!("anim{i}.ref.png")));
        assert_close(
            &format!("anim{i}"),
            &visible(frame.buffer()),
            &visible(&reference),
        );
    }
    // A still output gets the first frame.
    assert_close(
        "anim still",
        &decode(&out.unwrap().bytes),
        &decode(&fixture("anim0.ref.png")),
    );
}

#[test]
fn heic_is_refused_with_its_own_code() {
    for edits in [json!({}), json!({"resize": {"width": 10}})] {
        let err = render(&fixture("rgb.heic"), edits, &Config::default()).unwrap_err();
        assert_eq!((err.status, err.code.as_ref()), (400, "UnsupportedHeic"));
    }
}

/// Replaces the first `ispe` property's size.
fn with_ispe(bytes: &[u8], w: u32, h: u32) -> bytes::Bytes {
    let at = bytes.windows(4).position(|x| x == b"ispe").unwrap() + 8;
    let mut b = bytes.to_vec();
    b[at..at + 4].copy_from_slice(&w.to_be_bytes());
    b[at + 4..at + 8].copy_from_slice(&h.to_be_bytes());
    b.into()
}

#[test]
fn hostile_headers_are_refused_before_decoding() {
    let file = fixture("rgb8_420.avif");
    let err = render(&with_ispe(&file, 60_000, 60_000), json!({}), &Config::default()).unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (400, "ImageTooLarge"));
    // A header that lies small: the decoder's own frame limit refuses the real 64×48 frame.
    let mut config = Config::default();
    config.pipeline.max_input_pixels = 100;
    let err = render(&with_ispe(&file, 8, 8), json!({}), &config).unwrap_err();
    assert_eq!(err.status, 400, "{err:?}");
}

#[test]
fn truncated_and_damaged_files_are_4xx() {
    for name in ["rgb8_420.avif", "rgba10_444.avif", "grid.avif", "anim.avifs"] {
        let file = fixture(name);
        for len in (0..file.len()).step_by(7) {
            let cut = file.slice(..len);
            if let Err(e) = render(&cut, json!({"animated": true}), &Config::default()) {
                assert!((400..500).contains(&e.status), "{name} cut at {len}: {e:?}");
            }
        }
        let mut flipped = file.to_vec();
        for i in (40..flipped.len()).step_by(13) {
            flipped[i] ^= 0x5A;
        }
        if let Err(e) = render(&flipped.into(), json!({}), &Config::default()) {
            assert!((400..500).contains(&e.status), "{name} damaged: {e:?}");
        }
    }
}

#[test]
fn jpeg_xl_stills_match_libjxl() {
    let ours = decoded(&fixture("rgb.jxl"));
    assert_close("rgb.jxl", &ours, &decode(&fixture("rgb.jxl.ref.png")));
    // Lossless with alpha: every pixel of the source, alpha included.
    let ours = decoded(&fixture("rgba_lossless.jxl"));
    assert_eq!(max_diff(&ours, &decode(&fixture("src_rgba.png"))), 0);
}

#[test]
fn jpeg_xl_animations_keep_frames_and_delays() {
    let mut req = request(json!({"animated": true, "webp": {"lossless": true}}));
    req.output_format = Some(Format::Webp);
    let webp = process(
        &req,
        &fixture("anim.jxl"),
        None,
        &Resources::default(),
        &Config::default().pipeline,
    )
    .unwrap();
    let ours = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&webp.bytes[..]))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    let source = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&fixture("anim.gif")[..]))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(ours.len(), 3);
    for (i, (ours, source)) in ours.iter().zip(&source).enumerate() {
        assert_eq!(
            ours.delay().numer_denom_ms(),
            source.delay().numer_denom_ms(),
            "frame {i}"
        );
        // Lossless, but later frames are blended over earlier ones in floating point: ±1.
        assert!(max_diff(ours.buffer(), source.buffer()) <= 1, "frame {i}");
    }
}

#[test]
fn jpeg_xl_limits_and_damage() {
    let mut config = Config::default();
    config.pipeline.max_input_pixels = 1000;
    let err = render(&fixture("rgb.jxl"), json!({}), &config).unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (400, "ImageTooLarge"));
    for name in ["rgb.jxl", "anim.jxl"] {
        let file = fixture(name);
        for len in (0..file.len()).step_by(5) {
            if let Err(e) = render(&file.slice(..len), json!({"animated": true}), &Config::default()) {
                assert!((400..500).contains(&e.status), "{name} cut at {len}: {e:?}");
            }
        }
    }
}
