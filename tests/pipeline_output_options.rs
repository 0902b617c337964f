//! Output options: `KEEP_ICC` (the original's profile kept, pixels unconverted), TIFF
//! compression (sharp's `tiff({compression, predictor})`) and HEIF output (AV1).

mod pipeline_support;

use image::ImageDecoder;
use pipeline_support::*;
use pixfront::config::Config;
use pixfront::edits::Format;
use pixfront::pipeline::{process, Output, Resources};
use serde_json::json;
use std::io::Cursor;

fn render(
    bytes: &bytes::Bytes,
    edits: serde_json::Value,
    config: &Config,
) -> Result<Output, pixfront::Error> {
    render_bytes(bytes, edits, None, config)
}

/// The ICC profile an output carries, read by `image`'s decoders.
fn profile(bytes: &[u8]) -> Option<Vec<u8>> {
    let c = Cursor::new(bytes);
    let icc = match image::guess_format(bytes).unwrap() {
        image::ImageFormat::Png => image::codecs::png::PngDecoder::new(c).unwrap().icc_profile(),
        image::ImageFormat::Jpeg => image::codecs::jpeg::JpegDecoder::new(c).unwrap().icc_profile(),
        image::ImageFormat::WebP => image::codecs::webp::WebPDecoder::new(c).unwrap().icc_profile(),
        image::ImageFormat::Tiff => image::codecs::tiff::TiffDecoder::new(c).unwrap().icc_profile(),
        f => panic!("{f:?}"),
    };
    icc.unwrap()
}

#[test]
fn keep_icc_keeps_display_p3_numbers_and_profile() {
    let original = fixture("p3_icc.png");
    let p3 = profile(&original).expect("fixture has an iCCP profile");
    // The fixture's numbers before they were tagged P3 (tests/data/formats/README.md).
    let numbers = decode(&fixture("src_rgb.png"));
    let mut keep = Config::default();
    keep.pipeline.keep_icc = true;
    for (edits, exact) in [
        (json!({"toFormat": "png"}), true),
        (json!({"webp": {"lossless": true}}), true),
        (json!({"tiff": {"compression": "lzw"}}), true),
        (
            json!({"jpeg": {"quality": 95, "chromaSubsampling": "4:4:4"}}),
            false,
        ),
    ] {
        let out = render(&original, edits.clone(), &keep).unwrap();
        assert_eq!(profile(&out.bytes).as_ref(), Some(&p3), "{edits}");
        let (max, mean) = (
            max_diff(&decode(&out.bytes), &numbers),
            mean_diff(&decode(&out.bytes), &numbers),
        );
        assert!(
            if exact { max == 0 } else { mean < 2.0 },
            "{edits}: max {max}, mean {mean}"
        );
        // By default the numbers are converted to sRGB and no profile is written.
        let plain = render(&original, edits.clone(), &Config::default()).unwrap();
        assert_eq!(profile(&plain.bytes), None, "{edits}");
        let converted = mean_diff(&decode(&plain.bytes), &numbers);
        assert!(converted > 8.0, "{edits}: {converted}");
    }
    // sharp's keepIccProfile() asks for the same in one request.
    let out = render(
        &original,
        json!({"keepIccProfile": true, "toFormat": "png"}),
        &Config::default(),
    )
    .unwrap();
    assert_eq!(profile(&out.bytes).as_ref(), Some(&p3));
    assert_eq!(max_diff(&decode(&out.bytes), &numbers), 0);
    // Formats that cannot carry the profile here are converted as by default.
    let gif = |c: &Config| decode(&render(&original, json!({"toFormat": "gif"}), c).unwrap().bytes);
    assert_eq!(gif(&keep), gif(&Config::default()));
}

fn tiff_compression(bytes: &[u8]) -> u32 {
    let mut d = tiff::decoder::Decoder::new(Cursor::new(bytes)).unwrap();
    d.get_tag_u32(tiff::tags::Tag::Compression).unwrap()
}

#[test]
fn tiff_compression_options() {
    let original = fixture("src_rgb.png");
    let pixels = decode(&original);
    let mut sizes = Vec::new();
    // TIFF codes: 1 none, 5 LZW, 8 Deflate, 32773 PackBits; the default is Deflate.
    for (opts, code) in [
        (json!({}), 8),
        (json!({"compression": "none"}), 1),
        (json!({"compression": "lzw", "predictor": "horizontal"}), 5),
        (json!({"compression": "deflate", "predictor": "none"}), 8),
        (json!({"compression": "packbits"}), 32773),
        (json!({"compression": "deflate", "quality": 80}), 8),
    ] {
        let out = render(&original, json!({"tiff": opts}), &Config::default()).unwrap();
        assert_eq!(out.content_type, "image/tiff");
        assert_eq!(tiff_compression(&out.bytes), code, "{opts}");
        assert_eq!(decode(&out.bytes), pixels, "{opts}: lossless");
        sizes.push(out.bytes.len());
    }
    assert!(sizes[0] < sizes[1], "deflate {} vs none {}", sizes[0], sizes[1]);
    for opts in [
        json!({"compression": "jpeg"}),
        json!({"compression": "webp"}),
        json!({"compression": "lzma"}),
        json!({"predictor": "float"}),
    ] {
        let e = render(&original, json!({"tiff": opts}), &Config::default()).unwrap_err();
        assert_eq!(e.status, 400, "{opts}");
    }
}

#[test]
fn heif_output_is_av1_and_hevc_is_refused() {
    let original = fixture("src_rgb.png");
    let (w, h) = decode(&original).dimensions();
    for edits in [
        json!({"toFormat": "heif"}),
        json!({"heif": {"compression": "av1", "quality": 60}}),
    ] {
        let out = render(&original, edits.clone(), &Config::default()).unwrap();
        assert_eq!(out.content_type, "image/heif", "{edits}");
        assert_eq!(&out.bytes[4..12], b"ftypavif");
        assert!(out.bytes[..32].windows(4).any(|b| b == b"mif1"));
        // It reads back as an AV1 HEIF, with the picture's size.
        let back = render(&out.bytes, json!({"toFormat": "png"}), &Config::default()).unwrap();
        assert_eq!(decode(&back.bytes).dimensions(), (w, h));
    }
    let mut req = request(json!({}));
    req.output_format = Some(Format::Heif);
    let out = process(
        &req,
        &original,
        None,
        &Resources::default(),
        &Config::default().pipeline,
    )
    .unwrap();
    assert_eq!(&out.bytes[4..12], b"ftypavif");
    for (edits, code) in [
        (
            json!({"heif": {"compression": "hevc"}}),
            "UnsupportedOutputImageFormatException",
        ),
        (
            json!({"heif": {"compression": "jpeg"}}),
            "ImageEdits::InvalidArgument",
        ),
    ] {
        let e = render(&original, edits.clone(), &Config::default()).unwrap_err();
        assert_eq!((e.status, &*e.code), (400, code), "{edits}");
    }
}
