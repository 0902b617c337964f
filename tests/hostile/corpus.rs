//! The hostile corpus of issue 15, written by `scripts/hostile-corpus DIR` and by the
//! `server_hostile` test: originals that are legal but expensive (animation bombs, huge header
//! claims), damaged (every format cut short), tricky (SVG entities and external references),
//! and request URLs at the extremes (upscale, extend, rotate, convolve, deep JSON, a 100 KB
//! path). Everything is generated, so the corpus carries no third-party data.
//!
//! `write(dir, size)` makes `dir/hostile/…` (the bucket `hostile`) and returns the request
//! paths; `dir/urls.txt` lists them, one per line. [`Size::Issue`] has the issue's numbers (a
//! 256 Mpx GIF, a 20 MP JPEG); [`Size::Ci`] the same shapes at a size a debug build under test
//! gets through in seconds.

use base64::Engine;
use pixfront::edits::Format;
use pixfront::pipeline::codecs::{self, webp::AnimEncoder, EncodeOptions};
use pixfront::pipeline::picture::{Frame, Picture};
use std::path::Path;

pub const BUCKET: &str = "hostile";

#[derive(Clone, Copy, PartialEq)]
pub enum Size {
    Issue,
    Ci,
}

/// Normal requests mixed with the corpus under load; each must be a 200 (or a 503 under load).
pub const NORMAL: &[&str] = &[
    "/fit-in/300x300/normal.jpg",
    "/200x0/filters:format(webp)/normal.jpg",
];

fn gradient(w: u32, h: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            ((x ^ y) & 0xFF) as u8,
            255,
        ])
    })
}

fn encoded(img: image::RgbaImage, format: Format) -> Vec<u8> {
    codecs::encode(&Picture::still(img, false), format, &EncodeOptions::default()).unwrap()
}

/// `frames` frames of `w`×`h`, alternating two colours, LZW-encoded once and repeated: a few
/// kilobytes per frame in the file, `w`×`h` pixels per frame once decoded.
fn gif_bomb(w: u16, h: u16, frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [255, 0, 0, 0, 0, 255];
        let mut enc = gif::Encoder::new(&mut out, w, h, &palette).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        let mut pre = [0u8, 1].map(|i| {
            let mut f = gif::Frame::from_indexed_pixels(w, h, vec![i; w as usize * h as usize], None);
            f.delay = 2;
            f.make_lzw_pre_encoded();
            f
        });
        for i in 0..frames {
            let f = &mut pre[i % 2];
            enc.write_lzw_pre_encoded_frame(f).unwrap();
        }
    }
    out
}

fn webp_bomb(w: u32, h: u32, frames: usize) -> Vec<u8> {
    let mut enc = AnimEncoder::new((w, h), 0, &Default::default(), Some(0)).unwrap();
    let colours = [image::Rgba([200, 30, 30, 255]), image::Rgba([30, 30, 200, 255])];
    let pics = colours.map(|c| image::RgbaImage::from_pixel(w, h, c));
    for i in 0..frames {
        enc.add(&Frame::new(pics[i % 2].clone(), 20)).unwrap();
    }
    enc.finish(None).unwrap()
}

fn png_claim(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(b"\0\0\0\0IDAT\0\0\0\0\0\0\0\0IEND\xAE\x42\x60\x82");
    b
}

fn jpeg_claim(w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8];
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    b
}

fn gif_claim() -> Vec<u8> {
    // 65535×65535 screen, one 65535×65535 frame with almost no data.
    let mut b = b"GIF89a\xFF\xFF\xFF\xFF\x80\0\0".to_vec();
    b.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    b.extend_from_slice(b"\x2C\0\0\0\0\xFF\xFF\xFF\xFF\0\x02\x02\x44\x01\0\x3B");
    b
}

fn webp_claim() -> Vec<u8> {
    // VP8X canvas 16384×16384 with one tiny (wrong) VP8L chunk.
    let mut body = b"WEBPVP8X\x0A\0\0\0\0\0\0\0".to_vec();
    body.extend_from_slice(&[0xFF, 0x3F, 0x00, 0xFF, 0x3F, 0x00]);
    body.extend_from_slice(b"VP8L\x05\0\0\0\x2F\0\0\0\0\0");
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(&body);
    b
}

const SVG_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE svg [
<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><text y="50">&f;</text></svg>"#;

const SVG_EXTERNAL: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">
<image width="100" height="100" xlink:href="file:///etc/passwd"/>
<image width="100" height="100" href="http://169.254.169.254/latest/meta-data/"/>
<use xlink:href="http://example.invalid/x.svg#a"/>
<rect width="100" height="100" fill="url(http://example.invalid/p.svg#g)"/>
</svg>"#;

const SVG_HUGE: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="10" height="10"/></svg>"#;

fn svg_deep() -> String {
    let mut s = String::from(r#"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">"#);
    s.push_str(&"<g>".repeat(5000));
    s.push_str(r#"<rect width="8" height="8"/>"#);
    s.push_str(&"</g>".repeat(5000));
    s.push_str("</svg>");
    s
}

fn default_url(request: serde_json::Value) -> String {
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(request.to_string())
    )
}

/// Writes the corpus under `dir` and returns the request paths (also in `dir/urls.txt`).
pub fn write(dir: &Path, size: Size) -> Vec<String> {
    let issue = size == Size::Issue;
    let bucket = dir.join(BUCKET);
    std::fs::create_dir_all(&bucket).unwrap();
    let put = |name: &str, bytes: &[u8]| std::fs::write(bucket.join(name), bytes).unwrap();
    let mut urls: Vec<String> = Vec::new();

    // Normal originals, also cut short in every format.
    let normal = gradient(1200, 900);
    let whole = [
        ("jpg", encoded(normal.clone(), Format::Jpeg)),
        ("png", encoded(normal.clone(), Format::Png)),
        ("webp", encoded(normal.clone(), Format::Webp)),
        ("tif", encoded(gradient(300, 200), Format::Tiff)),
        ("gif", gif_bomb(300, 200, 3)),
    ];
    for (ext, bytes) in &whole {
        put(&format!("normal.{ext}"), bytes);
        for (tag, cut) in [
            ("half", bytes.len() / 2),
            ("most", bytes.len() * 9 / 10),
            ("head", 40),
        ] {
            let name = format!("cut-{tag}.{ext}");
            put(&name, &bytes[..cut]);
            urls.push(format!("/fit-in/200x200/{name}"));
        }
    }
    let (bw, bh) = if issue { (5000, 4000) } else { (2000, 1500) };
    put("big.jpg", &encoded(gradient(bw, bh), Format::Jpeg));

    // Animation bombs: 256 Mpx of GIF in ~500 KB (the issue's first row), 3 000 small frames,
    // and 150 Mpx of animated WebP (CI: 13 Mpx, 500 frames, 10 Mpx); the issue's GIF is over
    // the default MAX_ANIMATION_PIXELS (200 M) now. `huge.gif` (144 Mpx, under it) is asked only
    // with an edit that needs every frame at once, so the memory budget must refuse it before
    // decoding.
    if issue {
        put("bomb.gif", &gif_bomb(800, 800, 400));
        put("many.gif", &gif_bomb(64, 64, 3000));
        put("bomb.webp", &webp_bomb(1000, 1000, 150));
    } else {
        put("bomb.gif", &gif_bomb(400, 400, 80));
        put("many.gif", &gif_bomb(64, 64, 500));
        put("bomb.webp", &webp_bomb(500, 500, 40));
    }
    put("huge.gif", &gif_bomb(600, 600, 400));
    for url in [
        "/fit-in/100x100/filters:format(gif)/bomb.gif",
        "/fit-in/100x100/bomb.gif",
        "/bomb.gif",
        "/fit-in/100x100/filters:format(webp)/bomb.gif",
        "/fit-in/50x50/many.gif",
        "/fit-in/100x100/bomb.webp",
        "/fit-in/100x100/filters:format(gif)/bomb.webp",
    ] {
        urls.push(url.into());
    }

    // Headers that claim huge sizes.
    put("claim.png", &png_claim(50_000, 50_000));
    put("claim.jpg", &jpeg_claim(60_000, 60_000));
    put("claim.gif", &gif_claim());
    put("claim.webp", &webp_claim());
    for name in ["claim.png", "claim.jpg", "claim.gif", "claim.webp"] {
        urls.push(format!("/fit-in/100x100/{name}"));
    }

    // SVG tricks.
    put("laughs.svg", SVG_LAUGHS.as_bytes());
    put("external.svg", SVG_EXTERNAL.as_bytes());
    put("huge.svg", SVG_HUGE.as_bytes());
    put("deep.svg", svg_deep().as_bytes());
    for name in ["laughs.svg", "external.svg", "huge.svg", "deep.svg"] {
        urls.push(format!("/fit-in/100x100/filters:format(png)/{name}"));
    }

    // Edits at the extremes.
    let edit = |key: &str, edits: serde_json::Value| {
        default_url(serde_json::json!({"bucket": BUCKET, "key": key, "edits": edits}))
    };
    urls.push("/16384x16384/normal.jpg".into());
    urls.push("/fit-in/16384x16384/filters:upscale()/normal.jpg".into());
    urls.push(edit(
        "normal.jpg",
        serde_json::json!({"resize": {"width": 16384, "height": 16384, "fit": "fill"}}),
    ));
    urls.push(edit(
        "normal.jpg",
        serde_json::json!({"extend": {"top": 8000, "bottom": 8000, "left": 8000, "right": 8000}}),
    ));
    // Each side stays under MAX_OUTPUT_DIMENSION, but the picture is 180 M pixels: the memory
    // plan must count the affine's output size, not its input's.
    urls.push(edit(
        "normal.jpg",
        serde_json::json!({"affine": [[13, 0], [0, 13]]}),
    ));
    urls.push(edit(
        "big.jpg",
        serde_json::json!({"rotate": 33, "resize": {"width": 1600}}),
    ));
    urls.push(edit("normal.jpg", serde_json::json!({"convolve": {"width": 3, "height": 3, "kernel": [1e30, -1e30, 1e30, 0, 1, 0, 1e30, -1e30, 1e30]}})));
    urls.push(edit(
        "normal.jpg",
        serde_json::json!({"convolve": {"width": 1001, "height": 1, "kernel": vec![1; 1001]}}),
    ));
    urls.push(edit(
        "normal.jpg",
        serde_json::json!({"convolve": {"width": 3, "height": 3, "kernel": vec![0; 9]}}),
    ));
    urls.push(edit("normal.jpg", serde_json::json!({"blur": 1000})));
    urls.push(edit(
        "huge.gif",
        serde_json::json!({"normalize": true, "resize": {"width": 50}}),
    ));
    // Deep JSON: far past serde_json's recursion limit, still under the header size cap.
    let deep = format!(
        "{{\"bucket\":\"{BUCKET}\",\"key\":\"normal.jpg\",\"edits\":{{\"x\":{}{}}}}}",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    urls.push(format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(deep)
    ));
    // A 100 KB path.
    urls.push(format!("/{}", "a".repeat(100_000)));

    std::fs::write(dir.join("urls.txt"), urls.join("\n") + "\n").unwrap();
    urls
}
