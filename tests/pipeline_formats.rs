//! Decode every test image, encode every output format, animation, passthrough.

mod pipeline_support;

use pipeline_support::*;
use pixfront::config::Config;
use pixfront::edits::Format;
use serde_json::json;

#[test]
fn every_raster_test_image_decodes_and_resizes() {
    let files = [
        "faces/astronaut.png",
        "faces/camera_gray.png",
        "faces/hopper_128.jpg",
        "faces/hopper_exif_orientation6.jpg",
        "faces/obama.jpg",
        "faces/obama2.jpg",
        "faces/obama2_rgba.png",
        "formats/cmyk.jpg",
        "formats/hopper.avif",
        "formats/hopper.tif",
        "formats/hopper.webp",
        "formats/iss634_animated.gif",
        "formats/iss634_animated.webp",
        "formats/rocket.jpg",
        "formats/skimage_logo_rgba.png",
        "formats/star_animated.avifs",
        "sih/1x1.jpg",
        "sih/25x15.png",
        "sih/aws_logo.png",
        "sih/inline-1x1-rgba-red-a127.png",
        "sih/inline-4x4.jpg",
        "sih/inline-5x5-white-1bit.png",
        "sih/transparent-10x5.jpeg",
        "sih/transparent-5x10.png",
        "sih/transparent-5x5-2page.gif",
    ];
    for file in files {
        let out = run(
            file,
            json!({"resize": {"width": 40, "height": 30, "fit": "fill"}, "toFormat": "png"}),
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(out.content_type, "image/png", "{file}");
        assert!(!out.passthrough);
        assert_eq!(decode(&out.bytes).dimensions(), (40, 30), "{file}");
    }
}

#[test]
fn every_output_format_has_matching_bytes_and_content_type() {
    let cases = [
        ("jpeg", "image/jpeg", &b"\xFF\xD8\xFF"[..]),
        ("png", "image/png", &b"\x89PNG"[..]),
        ("webp", "image/webp", &b"RIFF"[..]),
        ("gif", "image/gif", &b"GIF8"[..]),
        ("tiff", "image/tiff", &b"II*\0"[..]),
        ("avif", "image/avif", &b"\0\0\0"[..]),
    ];
    for (format, mime, magic) in cases {
        let out = run(
            "formats/rocket.jpg",
            json!({"resize": {"width": 64}, "toFormat": format}),
        )
        .unwrap();
        assert_eq!(out.content_type, mime);
        assert!(out.bytes.starts_with(magic), "{format}");
        if format == "avif" {
            assert_eq!(&out.bytes[4..12], b"ftypavif");
        } else {
            // sharp's size: loaded at 1/8 (80×53), 53 / 1.25 = 42.4 (not 427 / 10 = 42.7).
            assert_eq!(decode(&out.bytes).dimensions(), (64, 42), "{format}");
        }
    }
    // HEIF is written with AV1 (sharp's default compression); HEVC is refused.
    let err = run("formats/rocket.jpg", json!({"heif": {"compression": "hevc"}})).unwrap_err();
    assert_eq!(
        (err.status, err.code.as_ref()),
        (400, "UnsupportedOutputImageFormatException")
    );
}

#[test]
fn input_format_is_kept_and_format_option_edits_switch_the_encoder() {
    let out = run("formats/hopper.webp", json!({"flip": true})).unwrap();
    assert_eq!(out.content_type, "image/webp");
    assert!(out.bytes.starts_with(b"RIFF"));
    // sharp: `png({...})` switches the encoder; the Content-Type follows the bytes (SIH's
    // mislabelled `image/jpeg` is not reproduced).
    let out = run("formats/rocket.jpg", json!({"png": {"compressionLevel": 9}})).unwrap();
    assert_eq!(out.content_type, "image/png");
    assert!(out.bytes.starts_with(b"\x89PNG"));
    // outputFormat (or AUTO_WEBP) applies when there is no toFormat.
    let out = run_with(
        "formats/rocket.jpg",
        json!({}),
        Some(Format::Webp),
        &Config::default(),
    )
    .unwrap();
    assert_eq!(out.content_type, "image/webp");
    assert!(!out.passthrough);
}

#[test]
fn jpeg_quality_and_progressive() {
    let small = run("formats/rocket.jpg", json!({"jpeg": {"quality": 30}})).unwrap();
    let large = run("formats/rocket.jpg", json!({"jpeg": {"quality": 95}})).unwrap();
    assert!(
        small.bytes.len() * 2 < large.bytes.len(),
        "{} vs {}",
        small.bytes.len(),
        large.bytes.len()
    );
    let progressive = run(
        "formats/rocket.jpg",
        json!({"jpeg": {"quality": 80, "progressive": true}}),
    )
    .unwrap();
    // SOF2 marks a progressive JPEG.
    assert!(progressive.bytes.windows(2).any(|w| w == [0xFF, 0xC2]));
    assert!(!small.bytes.windows(2).any(|w| w == [0xFF, 0xC2]));
    assert_eq!(decode(&progressive.bytes).dimensions(), (640, 427));
}

#[test]
fn png_palette_when_quality_is_asked() {
    let out = run("formats/skimage_logo_rgba.png", json!({"png": {"quality": 80}})).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&out.bytes[..]));
    let reader = decoder.read_info().unwrap();
    assert_eq!(reader.info().color_type, png::ColorType::Indexed);
    // Transparent pixels stay transparent.
    let out = run("sih/aws_logo.png", json!({"png": {"quality": 80}})).unwrap();
    let input = decode(&read("sih/aws_logo.png"));
    let img = decode(&out.bytes);
    let clear: Vec<_> = input
        .enumerate_pixels()
        .filter(|p| p.2[3] == 0)
        .map(|p| (p.0, p.1))
        .collect();
    assert!(clear.len() > 100, "{}", clear.len());
    assert!(clear.iter().all(|&(x, y)| img.get_pixel(x, y)[3] < 16));
    let truecolor = run("sih/aws_logo.png", json!({"png": {"compressionLevel": 6}})).unwrap();
    let reader = png::Decoder::new(std::io::Cursor::new(&truecolor.bytes[..]))
        .read_info()
        .unwrap();
    assert_eq!(reader.info().color_type, png::ColorType::Rgba);
}

#[test]
fn webp_lossless_keeps_pixels_exactly() {
    let input = decode(&read("formats/skimage_logo_rgba.png"));
    let out = run(
        "formats/skimage_logo_rgba.png",
        json!({"webp": {"lossless": true}}),
    )
    .unwrap();
    let output = decode(&out.bytes);
    // Fully transparent pixels may have their colour dropped; compare the visible ones.
    for (p, q) in input.pixels().zip(output.pixels()) {
        if p[3] > 0 {
            assert_eq!(p, q);
        }
    }
    let lossy = run("formats/skimage_logo_rgba.png", json!({"webp": {"quality": 50}})).unwrap();
    assert!(lossy.bytes.len() < out.bytes.len());
}

/// Every frame with its delay in ms.
fn frames<'a>(dec: impl image::AnimationDecoder<'a>) -> Vec<(u32, image::RgbaImage)> {
    dec.into_frames()
        .map(|f| {
            let f = f.unwrap();
            let (n, d) = f.delay().numer_denom_ms();
            (n / d, f.into_buffer())
        })
        .collect()
}

fn gif_frames(bytes: &[u8]) -> Vec<(u32, image::RgbaImage)> {
    frames(image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).unwrap())
}

fn webp_frames(bytes: &[u8]) -> Vec<(u32, image::RgbaImage)> {
    frames(image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap())
}

#[test]
fn animated_gif_stays_animated_with_its_delays() {
    let original = gif_frames(&read("formats/iss634_animated.gif"));
    assert_eq!(original.len(), 42);
    let out = run("formats/iss634_animated.gif", json!({"resize": {"width": 100}})).unwrap();
    assert_eq!(out.content_type, "image/gif");
    let frames = gif_frames(&out.bytes);
    assert_eq!(frames.len(), 42);
    for (a, b) in original.iter().zip(&frames) {
        assert_eq!(a.0, b.0, "delay");
        assert_eq!(b.1.dimensions(), (100, 100));
    }
    // GIF → WebP: first frame only, as SIH; `animated: true` keeps the frames and delays.
    let still = run(
        "formats/iss634_animated.gif",
        json!({"resize": {"width": 100}, "toFormat": "webp"}),
    )
    .unwrap();
    assert!(!still.bytes.windows(4).any(|w| w == b"ANMF"));
    let anim = run(
        "formats/iss634_animated.gif",
        json!({"resize": {"width": 100}, "toFormat": "webp", "animated": true}),
    )
    .unwrap();
    let frames = webp_frames(&anim.bytes);
    assert_eq!(frames.len(), 42);
    for (a, b) in original.iter().zip(&frames) {
        assert_eq!(a.0, b.0, "delay");
    }
}

#[test]
fn animated_webp_stays_animated() {
    let original = webp_frames(&read("formats/iss634_animated.webp"));
    let out = run("formats/iss634_animated.webp", json!({"resize": {"width": 50}})).unwrap();
    let frames = webp_frames(&out.bytes);
    // libwebp's animation encoder (as in libvips) merges frames that became identical after
    // the downscale, adding up their delays: the timeline is kept, not the frame count.
    assert!(frames.len() > 1 && frames.len() <= original.len());
    let total = |f: &[(u32, image::RgbaImage)]| f.iter().map(|f| f.0).sum::<u32>();
    assert_eq!(total(&frames), total(&original));
    assert!(frames.iter().all(|f| f.1.dimensions() == (50, 50)));
    let first = run(
        "formats/iss634_animated.webp",
        json!({"resize": {"width": 50}, "animated": false}),
    )
    .unwrap();
    assert!(!first.bytes.windows(4).any(|w| w == b"ANMF"));
}

#[test]
fn no_edits_pass_the_original_through() {
    let original = read("formats/rocket.jpg");
    let out = run("formats/rocket.jpg", json!({})).unwrap();
    assert!(out.passthrough);
    assert_eq!(out.bytes, original);
    assert_eq!(out.content_type, "image/jpeg");
}

#[test]
fn svg_passthrough_and_rasterisation() {
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="20" height="20" fill="red"/><image href="/etc/passwd" width="10" height="10"/></svg>"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.svg"), svg).unwrap();
    let config = Config::default();
    let req = request(json!({}));
    let bytes = bytes::Bytes::from_static(svg);
    let resources = pixfront::pipeline::Resources::default();
    // No edits: untouched, even when a format was negotiated.
    let mut negotiated = req.clone();
    negotiated.output_format = Some(Format::Webp);
    let out = pixfront::pipeline::process(&negotiated, &bytes, None, &resources, &config.pipeline).unwrap();
    assert!(out.passthrough);
    assert_eq!(out.content_type, "image/svg+xml");
    // With edits and no format: PNG.
    let req = request(json!({"flop": true}));
    let out = pixfront::pipeline::process(&req, &bytes, None, &resources, &config.pipeline).unwrap();
    assert_eq!(out.content_type, "image/png");
    let img = decode(&out.bytes);
    assert_eq!(img.dimensions(), (40, 20));
    // Flopped: the red square is now on the right, the left is transparent.
    assert_eq!(img.get_pixel(30, 10).0, [255, 0, 0, 255]);
    assert_eq!(img.get_pixel(5, 10)[3], 0);
}

#[test]
fn cmyk_jpeg_matches_an_independent_decoder() {
    // zune-jpeg (through `image`) converts Adobe CMYK itself: a second opinion.
    let reference = decode(&read("formats/cmyk.jpg"));
    let out = run("formats/cmyk.jpg", json!({"toFormat": "png"})).unwrap();
    let ours = decode(&out.bytes);
    let d = mean_diff(&reference, &ours);
    assert!(d < 3.0, "mean difference {d}");
}

#[test]
fn avif_input_is_decoded() {
    let out = run(
        "formats/hopper.avif",
        json!({"resize": {"width": 10}, "toFormat": "png"}),
    )
    .unwrap();
    assert_eq!(decode(&out.bytes).dimensions(), (10, 10));
}

/// Opaque originals stay three-channel from decode on (a quarter less memory and resampling
/// work than RGBA); originals with alpha keep four.
#[test]
fn opaque_originals_decode_to_rgb_and_alpha_ones_to_rgba() {
    use pixfront::pipeline::codecs::{decode, DecodeOptions};
    use pixfront::pipeline::picture::Pixels;
    use pixfront::pipeline::sniff::sniff;
    let config = Config::default().pipeline;
    let cases = [
        ("faces/obama.jpg", 3),
        ("formats/hopper.webp", 3),
        ("faces/astronaut.png", 3),
        ("formats/hopper.tif", 3),
        ("formats/cmyk.jpg", 3),
        ("formats/skimage_logo_rgba.png", 4),
        ("sih/transparent-5x10.png", 4),
    ];
    for (file, channels) in cases {
        let bytes = read(file);
        let format = sniff(&bytes).unwrap();
        let decoded = decode(&bytes, format, DecodeOptions::default(), &config).unwrap();
        let got = match &decoded.picture.frames[0].pixels {
            Pixels::Rgb(_) => 3,
            Pixels::Rgba(_) => 4,
        };
        assert_eq!(got, channels, "{file}");
        assert_eq!(decoded.picture.has_alpha, channels == 4, "{file}");
    }
}

/// The three-channel path gives the pixels the four-channel one did: the same opaque JPEG,
/// resized to JPEG, PNG and WebP, against a render that an alpha edit forced through RGBA.
#[test]
fn rgb_and_rgba_paths_render_the_same_pixels() {
    for format in ["png", "webp", "jpeg"] {
        let rgb = run(
            "faces/obama.jpg",
            json!({"resize": {"width": 120}, "toFormat": format}),
        )
        .unwrap();
        // ensureAlpha(1) widens to RGBA without changing a pixel; encoders drop the opaque alpha.
        let rgba = run(
            "faces/obama.jpg",
            json!({"resize": {"width": 120}, "ensureAlpha": 1, "toFormat": format}),
        )
        .unwrap();
        let (a, b) = (decode(&rgb.bytes), decode(&rgba.bytes));
        assert_eq!(a.dimensions(), b.dimensions(), "{format}");
        assert!(mean_diff(&a, &b) < 0.01, "{format}: {}", mean_diff(&a, &b));
    }
}
