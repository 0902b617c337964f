//! `quality: "auto"` (issue 18): the search's observable choices, determinism, its budget
//! fallback, and the value in every dialect.

mod pipeline_support;
mod server_common;

use base64::Engine;
use pipeline_support::decode;
use pixfront::config::Config;
use pixfront::edits::{AutoLevel, Edit, Edits, Format, Quality};
use pixfront::pipeline::{process, Output, Resources};
use pixfront::request::{parse_at, ImageRequest, RequestInput, StaticSecret};
use serde_json::{json, Value};

fn png(img: &image::RgbImage) -> bytes::Bytes {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner().into()
}

/// A smooth gradient: compresses well, looks right at low qualities.
fn flat(w: u32, h: u32) -> bytes::Bytes {
    png(&image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
    }))
}

/// Fine texture (a deterministic hash pattern): every block is detail.
fn busy(w: u32, h: u32) -> bytes::Bytes {
    png(&image::RgbImage::from_fn(w, h, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).wrapping_mul(2_246_822_519) >> 24;
        image::Rgb([v as u8, (v as u8).wrapping_mul(3), (x * 255 / w) as u8])
    }))
}

fn render(original: &bytes::Bytes, edits: Value, config: &Config) -> Output {
    let (edits, ignored) = Edits::from_json(edits.as_object().unwrap()).unwrap();
    assert!(ignored.is_empty());
    let req = ImageRequest::new("b", "k", edits);
    process(&req, original, None, &Resources::default(), &config.pipeline).unwrap()
}

#[test]
fn a_flat_image_gets_a_lower_quality_than_a_busy_one() {
    let c = Config::default();
    for format in ["jpeg", "webp"] {
        // A downscale: the search's budget is a share of the pixels the render handles.
        let edits = json!({"resize": {"width": 480}, format: {"quality": "auto"}});
        let f = render(&flat(960, 640), edits.clone(), &c);
        let b = render(&busy(960, 640), edits, &c);
        let (fq, bq) = (f.quality.unwrap(), b.quality.unwrap());
        assert_eq!(fq.level, AutoLevel::Good);
        assert!(
            fq.score.is_some() && bq.score.is_some(),
            "searched: {fq:?} {bq:?}"
        );
        assert!(fq.quality < bq.quality, "{format}: flat {fq:?}, busy {bq:?}");
        assert!(f.bytes.len() < b.bytes.len());
        assert_eq!(decode(&f.bytes).dimensions(), (480, 320));
    }
}

#[test]
fn the_same_request_gives_the_same_bytes() {
    let c = Config::default();
    let original = busy(800, 600);
    let edits = json!({"resize": {"width": 400}, "webp": {"quality": "auto:eco"}});
    let a = render(&original, edits.clone(), &c);
    let b = render(&original, edits, &c);
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.quality, b.quality);
    assert_eq!(a.quality.unwrap().level, AutoLevel::Eco);
    assert!(a.quality.unwrap().score.is_some());
}

#[test]
fn a_render_too_small_for_the_budget_gets_the_levels_default() {
    // 100 × 100 rendered at its own size: a sixth of the render's pixels is no crop of half the
    // output. The same holds for larger originals rendered at their own size.
    let c = Config::default();
    let original = busy(100, 100);
    let auto = render(&original, json!({"jpeg": {"quality": "auto"}}), &c);
    let q = auto.quality.unwrap();
    assert_eq!((q.quality, q.score, q.trials), (80, None, 0));
    // auto outputs are progressive JPEGs (same pixels, fewer bytes).
    let fixed = render(
        &original,
        json!({"jpeg": {"quality": 80, "progressive": true}}),
        &c,
    );
    assert_eq!(auto.bytes, fixed.bytes);
    let best = render(&original, json!({"jpeg": {"quality": "auto:best"}}), &c);
    assert_eq!(best.quality.unwrap().quality, 90);
}

#[test]
fn auto_quality_setting_applies_only_without_a_quality() {
    let mut c = Config::default();
    c.pipeline.auto_quality = Some(AutoLevel::Good);
    let original = busy(800, 600);
    let out = render(
        &original,
        json!({"resize": {"width": 400}, "toFormat": "jpeg"}),
        &c,
    );
    assert!(out.quality.unwrap().score.is_some());
    let fixed = render(
        &original,
        json!({"resize": {"width": 400}, "jpeg": {"quality": 70}}),
        &c,
    );
    assert_eq!(fixed.quality, None);
    // PNG has no auto quality: unchanged (no palette).
    let png_out = render(&original, json!({"toFormat": "png"}), &c);
    assert_eq!(png_out.quality, None);
    assert_eq!(
        png_out.bytes,
        render(&original, json!({"toFormat": "png"}), &Config::default()).bytes
    );
}

fn parse(path: &str, query: Option<&str>) -> Result<ImageRequest, pixfront::Error> {
    let mut c = Config::default();
    c.request.source_buckets = Some("bucket-a".into());
    let input = RequestInput {
        path,
        query,
        accept: None,
        ..Default::default()
    };
    let now = time::macros::datetime!(2025-06-01 12:00 UTC);
    parse_at(&input, &c.request, &StaticSecret(None), now)
}

fn format_quality(req: &ImageRequest, format: Format) -> Option<Quality> {
    req.edits.iter().find_map(|e| match e {
        Edit::FormatOptions(f, o) if *f == format => o.quality,
        _ => None,
    })
}

fn b64(v: &Value) -> String {
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(v.to_string())
    )
}

#[test]
fn every_dialect_accepts_auto() {
    let req = parse(
        &b64(&json!({"key": "a.jpg", "edits": {"jpeg": {"quality": "auto:eco"}}})),
        None,
    )
    .unwrap();
    assert_eq!(
        format_quality(&req, Format::Jpeg),
        Some(Quality::Auto(AutoLevel::Eco))
    );
    // Round trip: the canonical JSON keeps the level.
    assert_eq!(req.edits.to_json()["jpeg"]["quality"], json!("auto:eco"));
    let req = parse(
        &b64(&json!({"key": "a.jpg", "edits": {"webp": {"quality": "AUTO"}}})),
        None,
    )
    .unwrap();
    assert_eq!(
        format_quality(&req, Format::Webp),
        Some(Quality::Auto(AutoLevel::Good))
    );

    let req = parse("/filters:quality(auto-best)/a.jpg", None).unwrap();
    assert_eq!(
        format_quality(&req, Format::Jpeg),
        Some(Quality::Auto(AutoLevel::Best))
    );
    let req = parse("/filters:format(webp):quality(auto)/a.jpg", None).unwrap();
    assert_eq!(
        format_quality(&req, Format::Webp),
        Some(Quality::Auto(AutoLevel::Good))
    );
    let req = parse("/filters:quality(70)/a.jpg", None).unwrap();
    assert_eq!(format_quality(&req, Format::Jpeg), Some(Quality::Fixed(70)));

    let req = parse("/200x100/a.jpg", Some("quality=auto:eco")).unwrap();
    assert!(req
        .edits
        .iter()
        .any(|e| *e == Edit::Quality(Quality::Auto(AutoLevel::Eco))));
    let req = parse("/a.jpg", Some("quality=auto-best")).unwrap();
    assert!(req
        .edits
        .iter()
        .any(|e| *e == Edit::Quality(Quality::Auto(AutoLevel::Best))));
    let req = parse("/a.jpg", Some("quality=65")).unwrap();
    assert!(req.edits.iter().any(|e| *e == Edit::Quality(Quality::Fixed(65))));

    let set = pixfront::renditions::Renditions::parse(
        r#"{"renditions": [{"name": "t", "edits": {"resize": {"width": 300}, "webp": {"quality": "auto:good"}},
            "outputFormat": "webp", "key": "{stem}-{name}.webp"}]}"#,
    )
    .unwrap();
    let has_auto = set.renditions[0]
        .edits
        .iter()
        .any(|e| matches!(e, Edit::FormatOptions(Format::Webp, o) if o.quality == Some(Quality::Auto(AutoLevel::Good))));
    assert!(has_auto);
}

#[test]
fn unknown_levels_are_refused_with_a_stable_code() {
    let bad = [
        parse(
            &b64(&json!({"key": "a.jpg", "edits": {"jpeg": {"quality": "auto:ultra"}}})),
            None,
        ),
        parse(
            &b64(&json!({"key": "a.jpg", "edits": {"jpeg": {"quality": "autox"}}})),
            None,
        ),
        parse("/filters:quality(auto-max)/a.jpg", None),
        parse("/a.jpg", Some("quality=auto:")),
        parse("/a.jpg", Some("quality=high")),
    ];
    for r in bad {
        let e = r.unwrap_err();
        assert_eq!(
            (e.status, &*e.code),
            (400, "ImageEdits::InvalidArgument"),
            "{e:?}"
        );
    }
    assert!(pixfront::renditions::Renditions::parse(
        r#"{"renditions": [{"name": "t", "edits": {"jpeg": {"quality": "auto:x"}}, "key": "{stem}.jpg"}]}"#
    )
    .is_err());
}

/// Over HTTP: `Server-Timing` names the level, the quality the search chose and its score, and
/// they are the ones the pipeline chose for the same request; a fixed quality adds no entry.
#[tokio::test]
async fn server_timing_carries_the_chosen_quality_and_score() {
    use server_common::{client, header, Fixture};
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let resp = client()
        .get(srv.url("/fit-in/200x200/filters:format(jpeg):quality(auto)/logo.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let timing = header(&resp, "server-timing").unwrap();
    let body = resp.bytes().await.unwrap();
    assert_eq!(decode(&body).dimensions(), (200, 200));

    let original: bytes::Bytes = std::fs::read(fx.root().join("test-bucket/logo.png"))
        .unwrap()
        .into();
    let out = render(
        &original,
        json!({"resize": {"width": 200, "height": 200, "fit": "inside"}, "toFormat": "jpeg", "jpeg": {"quality": "auto"}}),
        &Config::default(),
    );
    let q = out.quality.unwrap();
    let score = q.score.expect("a downscale is searched");
    let expected = format!(
        ", quality;desc=\"auto:good q={} ssimulacra2={score:.1} trials={}\"",
        q.quality, q.trials
    );
    assert!(timing.contains(&expected), "{timing} lacks {expected}");
    assert_eq!(body, out.bytes, "the served bytes are the searched ones");

    let fixed = client()
        .get(srv.url("/fit-in/200x200/filters:format(jpeg):quality(80)/logo.png"))
        .send()
        .await
        .unwrap();
    let timing = header(&fixed, "server-timing").unwrap();
    assert!(!timing.contains("quality;"), "{timing}");
}
