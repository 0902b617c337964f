//! Face edits through the shared HTTP handler: the three dialects, FORCE_BLUR_FACES (also for
//! requests without edits), fail-closed 503s, smartCrop, Server-Timing.

mod pipeline_support;

use base64::Engine;
use pipeline_support::testdata;
use pixfront::config::Config;
use pixfront::error::Error;
use pixfront::faces::{local::LocalDetector, Face, FaceDetector, FaceService};
use pixfront::http::{Handler, HttpRequest, HttpResponse};
use pixfront::storage::fs::FsStorage;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// `root/photos/{people/obama.jpg, people/hopper.jpg, brick.jpg}` and `root/public/obama.jpg`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let td = testdata();
        let photos = dir.path().join("photos");
        std::fs::create_dir_all(photos.join("people")).unwrap();
        std::fs::create_dir_all(dir.path().join("public")).unwrap();
        std::fs::copy(td.join("faces/obama.jpg"), photos.join("people/obama.jpg")).unwrap();
        std::fs::copy(
            td.join("faces/hopper_exif_orientation6.jpg"),
            photos.join("people/hopper.jpg"),
        )
        .unwrap();
        // A photo without a face (the rocket of formats/rocket.jpg has a face-like logo that
        // BlazeFace reports, see docs/faces.md).
        let brick = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/faces/none_brick.jpg");
        std::fs::copy(brick, photos.join("brick.jpg")).unwrap();
        std::fs::copy(td.join("faces/obama.jpg"), dir.path().join("public/obama.jpg")).unwrap();
        Fixture { dir }
    }

    fn handler(&self, config: Config) -> Handler {
        let config = {
            let mut c = config;
            c.request.source_buckets = Some("photos,public".into());
            c
        };
        Handler::new(Arc::new(FsStorage::new(self.dir.path())), config)
    }

    fn original(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(rel)).unwrap()
    }
}

/// A detector that is down.
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

fn broken() -> Arc<FaceService> {
    Arc::new(FaceService::new(Ok(Arc::new(Broken)), None, 8))
}

async fn get(h: &Handler, path: &str) -> HttpResponse {
    h.handle(&HttpRequest::get(path)).await
}

fn default_url(v: serde_json::Value) -> String {
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(v.to_string())
    )
}

fn detect(bytes: &[u8]) -> Vec<Face> {
    let img = image::load_from_memory(bytes).unwrap().into_rgba8();
    let svc = FaceService::new(Ok(Arc::new(LocalDetector::new(640))), None, 1);
    svc.faces_uncached(&img, &Mutex::default()).unwrap()
}

fn forced(entries: &str) -> Config {
    let mut c = Config::default();
    c.faces.force_blur_faces = pixfront::faces::policy::parse(entries);
    c
}

#[tokio::test]
async fn every_dialect_asks_for_blur() {
    let fx = Fixture::new();
    let h = fx.handler(Config::default());
    for path in [
        default_url(json!({"bucket": "photos", "key": "people/obama.jpg", "edits": {"blurFaces": true}})),
        "/filters:blur_faces()/people/obama.jpg".to_string(),
        "/filters:blur_faces(pixelate)/people/obama.jpg".to_string(),
        "/people/obama.jpg?blurFaces=true".to_string(),
    ] {
        let r = get(&h, &path).await;
        assert_eq!(r.status, 200, "{path}: {}", String::from_utf8_lossy(&r.body));
        assert!(detect(&r.body).is_empty(), "{path}: face still visible");
        let timing = r.header("Server-Timing").unwrap();
        assert!(timing.contains("faces;dur="), "{timing}");
    }
    // Without blur the face is there (so the checks above can fail).
    let r = get(&h, "/people/obama.jpg").await;
    assert_eq!(r.body.as_ref(), fx.original("photos/people/obama.jpg"));
    assert_eq!(detect(&r.body).len(), 1);
}

#[tokio::test]
async fn second_rendition_of_a_photo_uses_the_cache() {
    let fx = Fixture::new();
    let h = fx.handler(Config::default());
    let first = get(&h, "/fit-in/400x400/filters:blur_faces()/people/obama.jpg").await;
    assert!(first
        .header("Server-Timing")
        .unwrap()
        .contains("desc=\"local miss\""));
    let second = get(&h, "/fit-in/200x200/filters:blur_faces()/people/obama.jpg").await;
    assert_eq!(second.status, 200);
    assert!(second
        .header("Server-Timing")
        .unwrap()
        .contains("desc=\"local hit\""));
}

#[tokio::test]
async fn forced_prefix_blurs_even_requests_without_edits() {
    let fx = Fixture::new();
    let h = fx.handler(forced("photos/people/"));
    for path in [
        "/people/obama.jpg".to_string(),
        "/fit-in/800x800/people/obama.jpg".to_string(),
        // A URL cannot switch the blur off or weaken it.
        "/people/obama.jpg?blurFaces=false".to_string(),
        default_url(json!({"bucket": "photos", "key": "people/obama.jpg",
                           "edits": {"blurFaces": {"sigma": 0.3, "minConfidence": 100}}})),
        // Slash tricks name the same file but not another prefix.
        "/people//obama.jpg".to_string(),
    ] {
        let r = get(&h, &path).await;
        assert_eq!(r.status, 200, "{path}: {}", String::from_utf8_lossy(&r.body));
        assert_ne!(r.body.as_ref(), fx.original("photos/people/obama.jpg"), "{path}");
        assert!(detect(&r.body).is_empty(), "{path}: face visible");
    }
    // The EXIF-rotated photo is blurred where the face really is.
    let r = get(&h, "/people/hopper.jpg").await;
    assert_eq!(r.status, 200);
    // Outside the prefix, and in another bucket, nothing is forced.
    let r = get(&h, "/brick.jpg").await;
    assert_eq!(r.body.as_ref(), fx.original("photos/brick.jpg"));
    let r = get(&h, "/s3:public/obama.jpg").await;
    assert_eq!(r.body.as_ref(), fx.original("public/obama.jpg"));
}

#[tokio::test]
async fn detector_failure_is_503_no_store_never_the_image() {
    let fx = Fixture::new();
    let config = {
        let mut c = forced("photos");
        c.http.error_cache_control_5xx = "max-age=60".into();
        c
    };
    let h = fx.handler(config).with_faces(broken());
    for path in [
        "/people/obama.jpg".to_string(),
        "/brick.jpg".to_string(),
        "/fit-in/100x100/filters:format(webp)/people/obama.jpg".to_string(),
    ] {
        let r = get(&h, &path).await;
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(r.header("Cache-Control"), Some("no-store"), "{path}");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["code"], "FaceDetectionUnavailable");
    }
    // An asked-for blur fails closed the same way outside forced buckets.
    let r = get(&h, "/s3:public/filters:blur_faces()/obama.jpg").await;
    assert_eq!((r.status, r.header("Cache-Control")), (503, Some("no-store")));
    // Requests that need no face detection are unaffected.
    let r = get(&h, "/s3:public/obama.jpg").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn detector_not_configured_fails_closed() {
    let fx = Fixture::new();
    let config = {
        let mut c = Config::default();
        c.faces.detector = pixfront::faces::DetectorKind::Rekognition;
        c
    };
    // FACE_DETECTOR=rekognition but the front end installed no client.
    let h = fx.handler(config);
    let r = get(&h, "/filters:blur_faces()/people/obama.jpg").await;
    assert_eq!((r.status, r.header("Cache-Control")), (503, Some("no-store")));
}

#[tokio::test]
async fn smart_crop_crops_to_the_face() {
    let fx = Fixture::new();
    let h = fx.handler(Config::default());
    let r = get(
        &h,
        &default_url(json!({"bucket": "photos", "key": "people/obama.jpg",
                                          "edits": {"smartCrop": {"padding": 10}, "toFormat": "png"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let img = image::load_from_memory(&r.body).unwrap();
    // obama.jpg is 910×1137 with one face about 290 px wide: the crop is the face + 2×10 px.
    assert!(
        (250..400).contains(&img.width()) && (250..400).contains(&img.height()),
        "{}x{}",
        img.width(),
        img.height()
    );
    // Thumbor's v7 filter and faceIndex out of range.
    let r = get(&h, "/filters:smart_crop(1,0)/people/obama.jpg").await;
    assert_eq!(r.status, 400);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["code"], "SmartCrop::FaceIndexOutOfRange");
    // No face: the whole image.
    let r = get(
        &h,
        &default_url(json!({"bucket": "photos", "key": "brick.jpg",
                                          "edits": {"smartCrop": {"faceIndex": 3}, "toFormat": "png"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(image::load_from_memory(&r.body).unwrap().width(), 512);
    // Negative padding that empties the area.
    let r = get(
        &h,
        &default_url(json!({"bucket": "photos", "key": "people/obama.jpg",
                                          "edits": {"smartCrop": {"padding": -400}}})),
    )
    .await;
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (r.status, body["code"].as_str()),
        (400, Some("SmartCrop::PaddingOutOfBounds"))
    );
}

#[tokio::test]
async fn moderation_without_a_backend_is_a_clear_400() {
    let fx = Fixture::new();
    let h = fx.handler(Config::default());
    let r = get(
        &h,
        &default_url(json!({"bucket": "photos", "key": "brick.jpg",
                                          "edits": {"contentModeration": true}})),
    )
    .await;
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (r.status, body["code"].as_str()),
        (400, Some("ContentModerationUnavailable"))
    );
}

#[tokio::test]
async fn overlays_from_forced_originals_are_blurred_too() {
    let fx = Fixture::new();
    let url = default_url(json!({"bucket": "photos", "key": "brick.jpg", "edits": {
        "overlayWith": {"bucket": "photos", "key": "people/obama.jpg", "wRatio": "100", "hRatio": "100"},
        "toFormat": "png"}}));
    // Not forced: the watermark shows the face (so the check below can fail).
    let r = get(&fx.handler(Config::default()), &url).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(detect(&r.body).len(), 1);
    // Forced: the base (outside the prefix) is left alone, the face in the overlay is blurred.
    let r = get(&fx.handler(forced("photos/people")), &url).await;
    assert_eq!(r.status, 200);
    assert!(detect(&r.body).is_empty());
    // And a detector outage withholds the image.
    let r = get(&fx.handler(forced("photos/people")).with_faces(broken()), &url).await;
    assert_eq!(r.status, 503);
}
