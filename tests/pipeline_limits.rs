//! Limits are enforced from the header, before decoding; broken files are 4xx, never a panic.

mod pipeline_support;

use image::AnimationDecoder;
use pipeline_support::*;
use pixfront::config::Config;
use pixfront::pipeline::{process, FailOn, Output, PipelineSettings, Resources};
use serde_json::json;
use std::time::{Duration, Instant};

/// A PNG whose IHDR claims `w`×`h`, followed by a tiny (wrong) IDAT.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]); // RGBA8, CRC not checked before us
    b.extend_from_slice(b"\0\0\0\0IDAT\0\0\0\0\0\0\0\0IEND\xAE\x42\x60\x82");
    b
}

/// A baseline JPEG header claiming `w`×`h` (SOF0) with no scan data.
fn jpeg_bomb(w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ];
    b.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

fn assert_rejected_fast(bytes: Vec<u8>, what: &str) {
    let req = request(json!({"resize": {"width": 100}}));
    let bytes = bytes::Bytes::from(bytes);
    // The fastest of five tries: one descheduling on a busy CI machine must not fail the test,
    // while a refusal that decodes (seconds for 2.5 GP) still does.
    let mut took = Duration::MAX;
    let mut err = None;
    for _ in 0..5 {
        let start = Instant::now();
        err = process(&req, &bytes, None, &Resources::default(), &Default::default()).err();
        took = took.min(start.elapsed());
    }
    let err = err.expect("bomb must be refused");
    assert_eq!(
        (err.status, err.code.as_ref()),
        (400, "ImageTooLarge"),
        "{what}: {err}"
    );
    assert!(err.message.contains("50000x50000"), "{}", err.message);
    assert!(took < Duration::from_millis(10), "{what} took {took:?}");
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    assert_rejected_fast(png_bomb(50_000, 50_000), "PNG");
    assert_rejected_fast(jpeg_bomb(50_000, 50_000), "JPEG");
}

#[test]
fn bombs_embedded_in_an_svg_are_refused_from_their_header() {
    use base64::Engine;
    let uri = base64::engine::general_purpose::STANDARD.encode(png_bomb(50_000, 50_000));
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image width="10" height="10" xlink:href="data:image/png;base64,{uri}"/></svg>"#
    );
    let req = request(json!({"resize": {"width": 5}}));
    let err = process(
        &req,
        &svg.into_bytes().into(),
        None,
        &Resources::default(),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (400, "ImageTooLarge"), "{err}");
    assert!(err.message.contains("50000x50000"), "{}", err.message);
}

#[test]
fn max_input_pixels_is_configurable() {
    let config = {
        let mut c = Config::default();
        c.pipeline.max_input_pixels = 128 * 127;
        c
    };
    let err = run_with("faces/hopper_128.jpg", json!({"flip": true}), None, &config).unwrap_err();
    assert_eq!(err.code, "ImageTooLarge");
    let config = {
        let mut c = Config::default();
        c.pipeline.max_input_pixels = 128 * 128;
        c
    };
    assert!(run_with("faces/hopper_128.jpg", json!({"flip": true}), None, &config).is_ok());
}

#[test]
fn animation_frames_times_pixels_are_limited() {
    // 42 frames of 245×245 = 2 521 050 pixels.
    let config = {
        let mut c = Config::default();
        c.pipeline.max_animation_pixels = 2_000_000;
        c
    };
    let err = run_with(
        "formats/iss634_animated.gif",
        json!({"flip": true}),
        None,
        &config,
    )
    .unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (400, "AnimationTooLarge"));
    // Only the first frame is decoded when the output is not animated: no limit applies.
    let out = run_with(
        "formats/iss634_animated.gif",
        json!({"toFormat": "png"}),
        None,
        &config,
    )
    .unwrap();
    assert_eq!(out.content_type, "image/png");
}

#[test]
fn output_dimension_is_limited() {
    let config = {
        let mut c = Config::default();
        c.pipeline.max_output_dimension = 1000;
        c
    };
    let err = run_with(
        "faces/hopper_128.jpg",
        json!({"resize": {"width": 1001}}),
        None,
        &config,
    )
    .unwrap_err();
    assert_eq!(err.status, 400, "{err}");
}

#[test]
fn truncated_and_corrupt_files_never_panic_or_500() {
    let files = [
        "formats/rocket.jpg",
        "formats/skimage_logo_rgba.png",
        "formats/hopper.webp",
        "formats/iss634_animated.gif",
        "formats/iss634_animated.webp",
        "formats/hopper.tif",
        "formats/cmyk.jpg",
    ];
    for file in files {
        let whole = read(file);
        for cut in [1, 10, 30, 100, whole.len() / 3, whole.len() - 10] {
            let bytes = bytes::Bytes::copy_from_slice(&whole[..cut]);
            let req = request(json!({"resize": {"width": 50}, "toFormat": "png"}));
            let result = std::panic::catch_unwind(|| {
                process(&req, &bytes, None, &Resources::default(), &Default::default())
            });
            match result {
                Err(_) => panic!("{file} cut at {cut}: panicked"),
                // Lenient decoders may render what they have, as sharp's failOnError:false.
                Ok(Ok(out)) => assert_eq!(decode(&out.bytes).width(), 50),
                Ok(Err(e)) => assert!(e.is_client_error(), "{file} cut at {cut}: {e}"),
            }
        }
        // Garbage after a valid signature.
        let mut garbage = whole[..16.min(whole.len())].to_vec();
        garbage.extend(std::iter::repeat_n(0xA5u8, 4000));
        let req = request(json!({"flip": true}));
        let out = process(
            &req,
            &garbage.into(),
            None,
            &Resources::default(),
            &Default::default(),
        );
        if let Err(e) = out {
            assert!(e.is_client_error(), "{file} garbage: {e}");
        }
    }
    let err = run_with("formats/rocket.jpg", json!({}), None, &Config::default()).map(|o| o.passthrough);
    assert_eq!(err, Ok(true));
    let req = request(json!({"flip": true}));
    let err = process(
        &req,
        &bytes::Bytes::from_static(b"not an image"),
        None,
        &Resources::default(),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!((err.status, err.code.as_ref()), (400, "UnsupportedInputFormat"));
}

fn cut(file: &str, fraction: f64) -> bytes::Bytes {
    let whole = read(file);
    bytes::Bytes::copy_from_slice(&whole[..(whole.len() as f64 * fraction) as usize])
}

fn render(
    bytes: &bytes::Bytes,
    edits: serde_json::Value,
    fail_on: FailOn,
) -> Result<Output, pixfront::Error> {
    let config = PipelineSettings {
        fail_on,
        ..PipelineSettings::default()
    };
    process(&request(edits), bytes, None, &Resources::default(), &config)
}

#[test]
fn truncated_originals_are_400_by_default_in_every_format() {
    let files = [
        "formats/rocket.jpg",
        "formats/infinite_sea_4096x4096_progressive.jpg",
        "formats/skimage_logo_rgba.png",
        "formats/hopper.webp",
        "formats/iss634_animated.gif",
        "formats/iss634_animated.webp",
        "formats/hopper.tif",
    ];
    for file in files {
        let file = file.replace("formats/infinite", "large/infinite");
        // TIFF is read by offsets: a cut past the last strip it points at loses no pixel.
        let fractions: &[f64] = if file.ends_with(".tif") {
            &[0.5, 0.9]
        } else {
            &[0.5, 0.9, 0.999]
        };
        for &fraction in fractions {
            let bytes = cut(&file, fraction);
            let err = render(&bytes, json!({"resize": {"width": 50}}), FailOn::Warning)
                .map(|o| o.content_type)
                .expect_err(&format!("{file} cut at {fraction}: rendered"));
            assert_eq!(err.status, 400, "{file} at {fraction}: {err}");
            assert!(
                ["TruncatedImage", "CorruptImage"].contains(&err.code.as_ref()),
                "{file} at {fraction}: {err}"
            );
        }
    }
    // A JPEG cut in half says why.
    let err = render(
        &cut("formats/rocket.jpg", 0.5),
        json!({"flip": true}),
        FailOn::Warning,
    )
    .unwrap_err();
    assert_eq!(err.code, "TruncatedImage", "{err}");
}

#[test]
fn lenient_decoding_renders_what_is_there_and_says_it_is_damaged() {
    let jpeg = cut("formats/rocket.jpg", 0.5);
    let out = render(&jpeg, json!({"resize": {"width": 50}}), FailOn::Error).unwrap();
    assert!(out.damaged);
    assert_eq!(decode(&out.bytes).width(), 50);
    let whole = render(
        &read("formats/rocket.jpg"),
        json!({"resize": {"width": 50}}),
        FailOn::Error,
    )
    .unwrap();
    assert!(!whole.damaged, "an intact original is not marked");

    // An animation cut short: `none` keeps the frames before the damage, `error` refuses.
    let gif = cut("formats/iss634_animated.gif", 0.6);
    let out = render(&gif, json!({"resize": {"width": 40}}), FailOn::None).unwrap();
    assert!(out.damaged);
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&out.bytes[..]))
        .unwrap()
        .into_frames()
        .count();
    let all =
        image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&read("formats/iss634_animated.gif")[..]))
            .unwrap()
            .into_frames()
            .count();
    assert!(frames >= 1 && frames < all, "{frames} of {all} frames");
}
