//! Text: `<text>` in SVG originals drawn with the bundled font, and the `textOverlay` edit.

mod pipeline_support;

use pipeline_support::{decode, request};
use pixfront::config::Config;
use pixfront::pipeline::{process, Resources};
use serde_json::json;

fn black_png(w: u32, h: u32) -> bytes::Bytes {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([0, 0, 0]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner().into()
}

fn render(original: &bytes::Bytes, edits: serde_json::Value) -> Result<image::RgbaImage, pixfront::Error> {
    let req = request(edits);
    let out = process(
        &req,
        original,
        None,
        &Resources::default(),
        &Config::default().pipeline,
    )?;
    Ok(decode(&out.bytes))
}

/// The box (x0, y0, x1, y1 inclusive) of pixels that are not black, if any.
fn ink_box(img: &image::RgbaImage) -> Option<(u32, u32, u32, u32)> {
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if p[0] > 0 || p[1] > 0 || p[2] > 0 {
            b = Some(match b {
                None => (x, y, x, y),
                Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x), e.max(y)),
            });
        }
    }
    b
}

#[test]
fn svg_text_is_drawn_with_the_bundled_font_whatever_the_family() {
    for family in ["Arial", "sans-serif", "monospace", "serif"] {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="black"/><text x="5" y="30" font-family="{family}" font-size="28" fill="white">Hello</text></svg>"#
        );
        let img = render(&svg.into_bytes().into(), json!({"toFormat": "png"})).unwrap();
        let (x0, y0, x1, y1) = ink_box(&img).unwrap_or_else(|| panic!("{family}: no text drawn"));
        // Drawn from x = 5 up to the baseline at y = 30, about a cap height (0.73 em) tall.
        assert!(
            (4..=7).contains(&x0) && (50..110).contains(&x1),
            "{family}: {x0}..{x1}"
        );
        assert!(
            (7..=12).contains(&y0) && (29..=31).contains(&y1),
            "{family}: {y0}..{y1}"
        );
    }
}

#[test]
fn svg_watermark_with_text_draws_through_overlay_with() {
    // SIH users' workaround for text watermarks: an SVG with <text> as the overlay.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="30"><text x="2" y="24" font-family="Helvetica, sans-serif" font-size="24" fill="blue">WM</text></svg>"#;
    let mut resources = Resources::default();
    resources
        .overlays
        .insert(("b".into(), "wm.svg".into()), bytes::Bytes::from_static(svg));
    let req =
        request(json!({"overlayWith": {"bucket": "b", "key": "wm.svg", "options": {"left": 0, "top": 0}}}));
    let out = process(
        &req,
        &black_png(200, 100),
        None,
        &resources,
        &Config::default().pipeline,
    )
    .unwrap();
    let img = decode(&out.bytes);
    let (x0, y0, x1, y1) = ink_box(&img).expect("watermark text drawn");
    assert!(x0 <= 4 && y0 <= 8 && x1 < 100 && y1 <= 25, "{x0},{y0} {x1},{y1}");
    assert!(img.pixels().all(|p| p[0] == 0 && p[1] == 0));
    assert!(img.pixels().filter(|p| p[2] == 255).count() > 100);
}

#[test]
fn text_overlay_puts_ink_in_its_colour_where_asked_and_nowhere_else() {
    let base = black_png(200, 100);
    let img = render(
        &base,
        json!({"textOverlay": {"text": "HIHI", "size": 40, "color": "#ff0000", "left": 10, "top": 12}}),
    )
    .unwrap();
    let (x0, y0, x1, y1) = ink_box(&img).expect("text drawn");
    // The glyphs' outline box starts at (10, 12); anti-aliasing may leave its first column blank.
    assert!((10..=11).contains(&x0) && (12..=13).contains(&y0), "{x0},{y0}");
    // "HIHI" at 40 px: cap height 29 px, about 2.2 em wide.
    assert!((27..=30).contains(&(y1 - y0)), "height {}", y1 - y0);
    assert!((70..=110).contains(&(x1 - x0)), "width {}", x1 - x0);
    // Red over black: only the red channel, fully red inside the stems.
    assert!(img.pixels().all(|p| p[1] == 0 && p[2] == 0));
    assert!(img.pixels().filter(|p| p[0] == 255).count() > 300);

    // Negative offsets count from the right and bottom edges, as in overlayWith.
    let img = render(
        &base,
        json!({"textOverlay": {"text": "HIHI", "size": 40, "color": "white", "left": "-10", "top": "-5"}}),
    )
    .unwrap();
    let (_, _, x1, y1) = ink_box(&img).unwrap();
    assert!((188..=189).contains(&x1) && (93..=94).contains(&y1), "{x1},{y1}");

    // alpha 50 leaves half the ink; the default is centred white at 5 % of the width.
    let img = render(&base, json!({"textOverlay": {"text": "HIHI", "alpha": 50}})).unwrap();
    let max = img.pixels().map(|p| p[0]).max().unwrap();
    assert!((126..=129).contains(&max), "{max}");
    let (x0, y0, x1, y1) = ink_box(&img).unwrap();
    assert!((x0 + x1).abs_diff(199) <= 2 && (y0 + y1).abs_diff(99) <= 2);
    assert!((6..=9).contains(&(y1 - y0)), "10 px text: {}", y1 - y0);
}

#[test]
fn markup_in_the_text_is_drawn_as_glyphs() {
    let base = black_png(300, 100);
    let img = render(
        &base,
        json!({"textOverlay": {"text": "</text><rect width=\"999\" height=\"999\" fill=\"red\"/>", "size": 12, "color": "#00ff00"}}),
    )
    .unwrap();
    let inked = img.pixels().filter(|p| p[1] > 0).count();
    assert!(inked > 50 && inked < 300 * 100 / 5, "{inked}");
    assert!(img.pixels().all(|p| p[0] == 0), "no red rectangle");
    assert_eq!(img.get_pixel(0, 0).0, [0, 0, 0, 255]);
}

#[test]
fn bad_text_arguments_are_400() {
    let base = black_png(20, 20);
    for edits in [
        json!({"textOverlay": {"text": "a", "left": "x", "top": 1}}),
        json!({"textOverlay": {"text": "a", "left": 1}}),
    ] {
        let req = request(edits.clone());
        let e = process(
            &req,
            &base,
            None,
            &Resources::default(),
            &Config::default().pipeline,
        )
        .unwrap_err();
        assert_eq!(e.status, 400, "{edits}");
    }
    for edits in [
        json!({"textOverlay": {"text": ""}}),
        json!({"textOverlay": {"text": "a", "size": -3}}),
        json!({"textOverlay": "hello"}),
    ] {
        let e = pixfront::edits::Edits::from_json(edits.as_object().unwrap()).unwrap_err();
        assert_eq!(e.status, 400, "{edits}");
    }
    // A huge size costs no more than the image: only its visible part is drawn.
    let img = render(&base, json!({"textOverlay": {"text": "W", "size": "100p"}})).unwrap();
    assert_eq!(img.dimensions(), (20, 20));
}

#[test]
fn thumbor_text_filter_carries_base64url_text() {
    use base64::Engine;
    let mut config = Config::default();
    config.request.source_buckets = Some("photos".into());
    let parse = |path: &str| {
        let input = pixfront::request::RequestInput {
            path,
            ..Default::default()
        };
        pixfront::request::parse_at(
            &input,
            &config.request,
            &pixfront::request::StaticSecret(None),
            time::OffsetDateTime::now_utc(),
        )
    };
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("© a, b: (c)");
    let req = parse(&format!(
        "/fit-in/200x100/filters:text({text},-10,-10p,4p,ff0000,30)/photo.jpg"
    ))
    .unwrap();
    assert_eq!(req.key, "photo.jpg");
    assert_eq!(
        serde_json::Value::Object(req.edits.to_json())["textOverlay"],
        json!({"text": "© a, b: (c)", "left": "-10", "top": "-10p", "size": "4p",
               "color": {"r": 255, "g": 0, "b": 0}, "alpha": "30"})
    );
    // Only the text is required; a text that is not base64url, or a bad size, is 400.
    let req = parse(&format!("/filters:text({text})/photo.jpg")).unwrap();
    assert!(req.edits.to_json().contains_key("textOverlay"));
    for bad in [
        "/filters:text(***)/photo.jpg",
        &format!("/filters:text({text},0,0,0)/photo.jpg"),
    ] {
        assert_eq!(parse(bad).unwrap_err().status, 400, "{bad}");
    }
}
