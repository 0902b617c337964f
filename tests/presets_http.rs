//! Presets (`PIXFRONT_PRESETS`, `PRESETS_ONLY`), `dpr` and client hints (`CLIENT_HINTS`) through
//! the shared HTTP handler: every dialect, the combination rule, refusals, signatures and
//! FORCE_BLUR_FACES, dimensions and headers of the answers.

#[path = "shared_data/mod.rs"]
mod shared_data;

use base64::Engine;
use pixfront::config::Config;
use pixfront::error::Error;
use pixfront::faces::{Face, FaceDetector, FaceService};
use pixfront::http::{Handler, HttpRequest, HttpResponse};
use pixfront::request::presets::Presets;
use pixfront::storage::fs::FsStorage;
use serde_json::json;
use std::sync::Arc;

const BUCKET: &str = "photos";

const PRESETS: &str = r#"{"presets": {
    "thumb": {"edits": {"resize": {"width": 200, "height": 100, "fit": "cover"}}, "outputFormat": "png"},
    "wide": {"edits": {"resize": {"width": 300}}},
    "grey": {"edits": {"greyscale": true}},
    "nofaces": {"edits": {"blurFaces": false, "resize": {"width": 100}}}}}"#;

/// `root/photos/rocket.jpg` (640x427).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(BUCKET)).unwrap();
    let rocket = shared_data::testdata().join("formats/rocket.jpg");
    std::fs::copy(rocket, dir.path().join(BUCKET).join("rocket.jpg")).unwrap();
    dir
}

fn config() -> Config {
    let mut c = Config::default();
    c.request.source_buckets = Some(BUCKET.into());
    c.request.presets = Presets::parse(PRESETS).unwrap();
    c
}

fn handler(dir: &tempfile::TempDir, config: Config) -> Handler {
    Handler::new(Arc::new(FsStorage::new(dir.path())), config)
}

async fn get(h: &Handler, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut req = HttpRequest::get(url);
    req.headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    h.handle(&req).await
}

fn header<'a>(r: &'a HttpResponse, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Status, and the picture's size or the error's code.
fn outcome(r: &HttpResponse) -> (u16, String) {
    if r.status == 200 {
        let img = image::load_from_memory(&r.body).unwrap();
        (200, format!("{}x{}", img.width(), img.height()))
    } else {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        (r.status, body["code"].as_str().unwrap().to_string())
    }
}

fn default_url(v: serde_json::Value) -> String {
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(v.to_string())
    )
}

#[tokio::test]
async fn every_dialect_names_presets_and_the_url_merges_on_top() {
    let dir = fixture();
    let h = handler(&dir, config());
    let ok = |size: &str| (200, size.to_string());
    for (url, want) in [
        ("/filters:preset(thumb)/rocket.jpg".to_string(), ok("200x100")),
        ("/rocket.jpg?preset=thumb".to_string(), ok("200x100")),
        (
            default_url(json!({"bucket": BUCKET, "key": "rocket.jpg", "preset": "thumb"})),
            ok("200x100"),
        ),
        // Left to right: wide's width replaces thumb's, thumb's height and fit stay.
        (
            "/filters:preset(thumb):preset(wide)/rocket.jpg".to_string(),
            ok("300x100"),
        ),
        (
            "/filters:preset(thumb,wide)/rocket.jpg".to_string(),
            ok("300x100"),
        ),
        (
            "/filters:preset(wide,thumb)/rocket.jpg".to_string(),
            ok("200x100"),
        ),
        (
            default_url(json!({"key": "rocket.jpg", "preset": ["thumb", "wide"]})),
            ok("300x100"),
        ),
        // The URL's own edits on top, field by field.
        ("/rocket.jpg?preset=thumb&width=120".to_string(), ok("120x100")),
        (
            "/filters:preset(wide)/rocket.jpg?preset=thumb".to_string(),
            ok("200x100"),
        ),
        (
            default_url(json!({"key": "rocket.jpg", "preset": "thumb", "edits": {"resize": {"height": 50}}})),
            ok("200x50"),
        ),
    ] {
        let r = get(&h, &url, &[]).await;
        assert_eq!(outcome(&r), want, "{url}");
    }
    // The preset's outputFormat.
    let r = get(&h, "/rocket.jpg?preset=thumb", &[]).await;
    assert_eq!(header(&r, "Content-Type"), Some("image/png"));
    // Unknown names are a 400 with a stable code, in every dialect.
    for url in [
        "/filters:preset(nope)/rocket.jpg".to_string(),
        "/rocket.jpg?preset=thumb,nope".to_string(),
        default_url(json!({"key": "rocket.jpg", "preset": "nope"})),
        default_url(json!({"key": "rocket.jpg", "preset": 7})),
    ] {
        let r = get(&h, &url, &[]).await;
        assert_eq!(outcome(&r), (400, "Preset::Unknown".into()), "{url}");
    }
    // Custom rewrites: the rewritten path's preset filters.
    let mut c = config();
    c.request.rewrite_match_pattern = Some("/^\\/t\\/(.*)$/".into());
    c.request.rewrite_substitution = Some("/filters:preset(thumb)/$1".into());
    let r = get(&handler(&dir, c), "/t/rocket.jpg?preset=grey", &[]).await;
    assert_eq!(outcome(&r), (200, "200x100".into()));
    // Without a presets document every name is unknown.
    let mut c = config();
    c.request.presets = Presets::default();
    let r = get(&handler(&dir, c), "/rocket.jpg?preset=thumb", &[]).await;
    assert_eq!(outcome(&r).1, "Preset::Unknown");
}

#[tokio::test]
async fn presets_only_refuses_everything_but_presets() {
    let dir = fixture();
    let mut c = config();
    c.request.presets_only = true;
    let h = handler(&dir, c);
    for url in [
        "/filters:preset(thumb)/rocket.jpg".to_string(),
        "/rocket.jpg?preset=thumb,grey".to_string(),
        "/rocket.jpg?preset=thumb&utm_source=x".to_string(),
        default_url(json!({"bucket": BUCKET, "key": "rocket.jpg", "preset": "thumb", "edits": {}})),
    ] {
        assert_eq!(get(&h, &url, &[]).await.status, 200, "{url}");
    }
    for url in [
        "/rocket.jpg".to_string(),
        "/100x100/filters:preset(thumb)/rocket.jpg".to_string(),
        "/fit-in/filters:preset(thumb)/rocket.jpg".to_string(),
        "/filters:preset(thumb):grayscale()/rocket.jpg".to_string(),
        "/filters:preset(thumb):frobnicate()/rocket.jpg".to_string(),
        "/rocket.jpg?preset=thumb&width=5".to_string(),
        "/rocket.jpg?preset=thumb&dpr=2".to_string(),
        default_url(json!({"key": "rocket.jpg", "preset": "thumb", "edits": {"flip": true}})),
        default_url(json!({"key": "rocket.jpg", "preset": "thumb", "outputFormat": "webp"})),
        default_url(
            json!({"key": "rocket.jpg", "preset": "thumb", "headers": {"Cache-Control": "no-store"}}),
        ),
        default_url(json!({"key": "rocket.jpg"})),
    ] {
        let r = get(&h, &url, &[]).await;
        assert_eq!(outcome(&r), (403, "PresetsOnly".into()), "{url}");
        assert_eq!(header(&r, "Content-Type"), Some("application/json"));
    }
}

#[tokio::test]
async fn presets_are_signed_like_any_url() {
    let dir = fixture();
    let mut c = config();
    c.request.enable_signature = true;
    c.secrets.signature_secret = Some("k".into());
    let h = handler(&dir, c);
    // Unsigned: SIH's 400 for the missing parameter.
    let r = get(&h, "/filters:preset(thumb)/rocket.jpg", &[]).await;
    assert_eq!(r.status, 400);
    let signed = pixfront::cli::sign::sign("/rocket.jpg?preset=thumb", b"k");
    assert_eq!(outcome(&get(&h, &signed, &[]).await), (200, "200x100".into()));
    // The preset name is part of what is signed.
    let swapped = signed.replace("preset=thumb", "preset=wide");
    assert_eq!(get(&h, &swapped, &[]).await.status, 403);
}

/// A face detector that is down: a request that must blur faces fails closed (503).
struct Broken;
impl FaceDetector for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn proxy_size(&self) -> u32 {
        640
    }
    fn detect(&self, _: &image::RgbaImage) -> Result<Vec<Face>, Error> {
        Err(pixfront::faces::unavailable("simulated outage"))
    }
}

#[tokio::test]
async fn a_preset_cannot_turn_forced_face_blur_off() {
    let dir = fixture();
    let broken = || Arc::new(FaceService::new(Ok(Arc::new(Broken)), None, 8));
    let open = handler(&dir, config()).with_faces(broken());
    assert_eq!(
        get(&open, "/filters:preset(nofaces)/rocket.jpg", &[])
            .await
            .status,
        200
    );
    let mut c = config();
    c.faces.force_blur_faces = pixfront::faces::policy::parse(BUCKET);
    c.request.presets_only = true;
    let forced = handler(&dir, c).with_faces(broken());
    let r = get(&forced, "/filters:preset(nofaces)/rocket.jpg", &[]).await;
    assert_eq!(outcome(&r), (503, "FaceDetectionUnavailable".into()));
}

#[test]
fn a_bad_presets_document_stops_the_start() {
    let from = |vars: &'static [(&'static str, &'static str)]| {
        Config::from_lookup(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    };
    let err = from(&[(
        "PIXFRONT_PRESETS",
        r#"{"presets": {"x": {"edits": {"frobnicate": 1}}}}"#,
    )])
    .unwrap_err();
    assert!(
        err.starts_with("PIXFRONT_PRESETS: ") && err.contains("presets.x: unknown edit(s) frobnicate"),
        "{err}"
    );
    let err = from(&[("PIXFRONT_PRESETS", "/nonexistent/presets.json")]).unwrap_err();
    assert!(err.contains("cannot read /nonexistent/presets.json"), "{err}");
    let err = from(&[("PRESETS_ONLY", "Yes")]).unwrap_err();
    assert!(err.contains("PRESETS_ONLY=Yes needs PIXFRONT_PRESETS"), "{err}");
    let ok = from(&[
        ("PIXFRONT_PRESETS", PRESETS),
        ("PRESETS_ONLY", "Yes"),
        ("CLIENT_HINTS", "Yes"),
    ])
    .unwrap();
    assert!(ok.request.presets_only && ok.request.client_hints && !ok.request.presets.is_empty());
}

#[tokio::test]
async fn dpr_multiplies_the_requested_size_without_enlarging() {
    let dir = fixture();
    let h = handler(&dir, config());
    for (url, want) in [
        (
            "/200x0/filters:dpr(2)/rocket.jpg".to_string(),
            (200, "400x267".to_string()),
        ),
        ("/rocket.jpg?width=200&dpr=2".to_string(), (200, "400x267".into())),
        (
            default_url(json!({"key": "rocket.jpg", "edits": {"dpr": 1.5, "resize": {"width": 200}}})),
            (200, "300x200".into()),
        ),
        // 3 x 300 = 900 > 640: the original's width, not an enlargement.
        ("/rocket.jpg?width=300&dpr=3".to_string(), (200, "640x427".into())),
        // An explicit withoutEnlargement: false enlarges.
        (
            default_url(
                json!({"key": "rocket.jpg", "edits": {"dpr": 3, "resize": {"width": 300, "withoutEnlargement": false}}}),
            ),
            (200, "900x600".into()),
        ),
        // Clamped to 4.
        (
            "/rocket.jpg?width=100&dpr=10".to_string(),
            (200, "400x267".into()),
        ),
        // Presets take dpr like any edit.
        (
            "/rocket.jpg?preset=wide&dpr=2".to_string(),
            (200, "600x400".into()),
        ),
        (
            "/rocket.jpg?width=100&dpr=abc".to_string(),
            (400, "QueryParameterParsingError".into()),
        ),
        (
            "/100x0/filters:dpr(0)/rocket.jpg".to_string(),
            (400, "ImageEdits::InvalidArgument".into()),
        ),
    ] {
        assert_eq!(outcome(&get(&h, &url, &[]).await), want, "{url}");
    }
}

#[tokio::test]
async fn client_hints_fill_what_the_url_leaves_open() {
    let dir = fixture();
    let mut c = config();
    c.request.client_hints = true;
    let h = handler(&dir, c);
    let dpr2 = [("Sec-CH-DPR", "2")];
    // A size without dpr: the pixel ratio hint multiplies it.
    let r = get(&h, "/rocket.jpg?width=150", &dpr2).await;
    assert_eq!(outcome(&r), (200, "300x200".into()));
    assert_eq!(header(&r, "Vary"), Some("Sec-CH-DPR"));
    assert_eq!(
        header(&r, "Accept-CH"),
        Some("Sec-CH-DPR, Sec-CH-Width, Sec-CH-Viewport-Width")
    );
    let etag_2x = header(&r, "ETag").unwrap().to_string();
    let r1 = get(&h, "/rocket.jpg?width=150", &[]).await;
    assert_eq!(outcome(&r1), (200, "150x100".into()));
    assert_ne!(header(&r1, "ETag").unwrap(), etag_2x);
    // The URL's dpr wins, and the answer does not vary on hints.
    let r = get(&h, "/rocket.jpg?width=150&dpr=1", &dpr2).await;
    assert_eq!(outcome(&r), (200, "150x100".into()));
    assert_eq!(header(&r, "Vary"), None);
    // No size: the width hint, snapped up to a breakpoint (300 -> 320).
    let r = get(&h, "/rocket.jpg", &[("Sec-CH-Width", "300")]).await;
    assert_eq!(outcome(&r), (200, "320x214".into()));
    assert_eq!(
        header(&r, "Vary"),
        Some("Sec-CH-Width, Sec-CH-Viewport-Width, Sec-CH-DPR")
    );
    // Viewport x pixel ratio (200 x 2 = 400 -> 480); never beyond the original.
    let vp = [("Sec-CH-Viewport-Width", "200"), ("Sec-CH-DPR", "2")];
    assert_eq!(
        outcome(&get(&h, "/rocket.jpg", &vp).await),
        (200, "480x320".into())
    );
    let big = [("Sec-CH-Width", "2000")];
    assert_eq!(
        outcome(&get(&h, "/rocket.jpg", &big).await),
        (200, "640x427".into())
    );
    // With Accept negotiation too, both are listed.
    let mut c = config();
    c.request.client_hints = true;
    c.request.auto_webp = true;
    let r = get(
        &handler(&dir, c),
        "/rocket.jpg?width=150",
        &[("Accept", "image/webp"), ("Sec-CH-DPR", "2")],
    )
    .await;
    assert_eq!(header(&r, "Vary"), Some("Accept, Sec-CH-DPR"));
    // Off (the default): hints are ignored and not asked for.
    let off = handler(&dir, config());
    let r = get(&off, "/rocket.jpg?width=150", &dpr2).await;
    assert_eq!(outcome(&r), (200, "150x100".into()));
    assert_eq!((header(&r, "Vary"), header(&r, "Accept-CH")), (None, None));
}
