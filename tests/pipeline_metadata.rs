//! Safe defaults: EXIF orientation applied, EXIF/XMP/ICC not written, ICC converted to sRGB.

mod pipeline_support;

use pipeline_support::*;
use serde_json::json;

fn has_exif(bytes: &[u8]) -> bool {
    bytes.windows(6).any(|w| w == b"Exif\0\0")
}

#[test]
fn exif_orientation_6_comes_out_upright() {
    let upright = decode(&read("faces/hopper_128.jpg"));
    let out = run("faces/hopper_exif_orientation6.jpg", json!({"toFormat": "png"})).unwrap();
    let ours = decode(&out.bytes);
    let d = mean_diff(&upright, &ours);
    // The stored (sideways) pixels differ by far more than JPEG noise.
    let sideways = decode(&read("faces/hopper_exif_orientation6.jpg"));
    let sideways = image::imageops::rotate90(&image::imageops::rotate180(&sideways));
    assert!(d < 6.0, "upright diff {d}");
    assert!(mean_diff(&upright, &sideways) > 20.0);
    // Shrink-on-load keeps the orientation right too.
    let out = run(
        "faces/hopper_exif_orientation6.jpg",
        json!({"resize": {"width": 32}, "toFormat": "png"}),
    )
    .unwrap();
    let small = decode(&out.bytes);
    let reference = image::imageops::resize(&upright, 32, 32, image::imageops::FilterType::Lanczos3);
    assert!(mean_diff(&reference, &small) < 8.0);
}

#[test]
fn exif_gps_and_icc_are_not_written() {
    let original = read("faces/obama.jpg");
    assert!(has_exif(&original));
    for format in ["jpeg", "png", "webp"] {
        let out = run(
            "faces/obama.jpg",
            json!({"resize": {"width": 100}, "toFormat": format}),
        )
        .unwrap();
        assert!(!has_exif(&out.bytes), "{format}");
        assert!(!out.bytes.windows(11).any(|w| w == b"ICC_PROFILE"), "{format}");
        assert!(
            !out.bytes.windows(4).any(|w| w == b"iCCP" || w == b"ICCP"),
            "{format}"
        );
    }
}

#[test]
fn no_edit_request_keeps_the_file_exactly() {
    let original = read("faces/hopper_exif_orientation6.jpg");
    let out = run("faces/hopper_exif_orientation6.jpg", json!({})).unwrap();
    assert!(out.passthrough);
    assert_eq!(out.bytes, original);
}

#[test]
fn shrink_on_load_gives_sharps_size_and_the_same_picture() {
    // 20 MP JPEG: decoded at 1/2 (3014×1696) for an 800 px target, then Lanczos to 800×450.
    let fast = run(
        "large/kleiber_6028x3391.jpg",
        json!({"resize": {"width": 800}, "toFormat": "png"}),
    )
    .unwrap();
    let img = decode(&fast.bytes);
    assert_eq!(img.dimensions(), (800, 450));
    let full = run(
        "large/kleiber_6028x3391.jpg",
        json!({"resize": {"width": 800, "fastShrinkOnLoad": false}, "toFormat": "png"}),
    )
    .unwrap();
    let d = mean_diff(&img, &decode(&full.bytes));
    assert!(d < 2.0, "shrink-on-load changed the picture: {d}");
}

#[test]
fn keep_metadata_keeps_exif_with_orientation_reset() {
    let config = {
        let mut c = pixfront::config::Config::default();
        c.pipeline.keep_metadata = true;
        c
    };
    for format in ["jpeg", "png", "webp"] {
        let out = run_with(
            "faces/hopper_exif_orientation6.jpg",
            json!({"toFormat": format}),
            None,
            &config,
        )
        .unwrap();
        let exif = match format {
            "png" => {
                let at = out
                    .bytes
                    .windows(4)
                    .position(|w| w == b"eXIf")
                    .expect("eXIf chunk");
                let len = u32::from_be_bytes(out.bytes[at - 4..at].try_into().unwrap()) as usize;
                out.bytes[at + 4..at + 4 + len].to_vec()
            }
            "webp" => pixfront::pipeline::codecs::webp::chunk(&out.bytes, b"EXIF")
                .expect("EXIF chunk")
                .to_vec(),
            _ => {
                let at = out
                    .bytes
                    .windows(6)
                    .position(|w| w == b"Exif\0\0")
                    .expect("EXIF kept");
                out.bytes[at + 6..].to_vec()
            }
        };
        let orientation = image::metadata::Orientation::from_exif_chunk(&exif).map(|o| o.to_exif());
        assert_eq!(orientation, Some(1), "{format}");
        // Pixels are upright, so the reset tag is right.
        assert_eq!(decode(&out.bytes).dimensions(), (128, 128));
    }
}
