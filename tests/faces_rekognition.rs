//! `FACE_DETECTOR=rekognition` through the real AWS SDK, against a local endpoint on 127.0.0.1
//! speaking Rekognition's JSON protocol (`X-Amz-Target: RekognitionService.*`,
//! `application/x-amz-json-1.1`), configured with `AWS_ENDPOINT_URL_REKOGNITION` as a
//! deployment would be.
//!
//! The fake answers by what it is sent: a 333 px wide image is throttled; any other gets two
//! faces (confidence 99.9 and 90) and, for moderation, one `Suggestive` label at 90 %.

mod pipeline_support;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use pipeline_support::testdata;
use pixfront::config::Config;
use pixfront::faces::FaceService;
use pixfront::http::{Handler, HttpRequest, HttpResponse};
use pixfront::storage::fs::FsStorage;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

/// What the fake endpoint received: (X-Amz-Target, image width, image height, JPEG?).
type Calls = Arc<Mutex<Vec<(String, u32, u32, bool)>>>;

/// The fake Rekognition, started once for the whole test binary on its own runtime; the
/// environment points the SDK at it before any client is built.
fn fake() -> &'static (SocketAddr, Calls) {
    static FAKE: OnceLock<(SocketAddr, Calls)> = OnceLock::new();
    FAKE.get_or_init(|| {
        let calls: Calls = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let state = calls.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
                    let state = state.clone();
                    async move { answer(&headers, &body, &state) }
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        for (k, v) in [
            ("AWS_ENDPOINT_URL_REKOGNITION", format!("http://{addr}")),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".into()),
            ("AWS_SECRET_ACCESS_KEY", "not-a-secret".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ] {
            std::env::set_var(k, v);
        }
        (addr, calls)
    })
}

fn answer(
    headers: &HeaderMap,
    body: &[u8],
    calls: &Calls,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let json_type = [("content-type", "application/x-amz-json-1.1")];
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let bytes = req["Image"]["Bytes"]
        .as_str()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_default();
    let Ok(img) = image::load_from_memory(&bytes) else {
        let err = json!({"__type": "InvalidImageFormatException", "message": "bad image"});
        return (StatusCode::BAD_REQUEST, json_type, err.to_string());
    };
    assert_eq!(content_type, "application/x-amz-json-1.1");
    calls.lock().unwrap().push((
        target.clone(),
        img.width(),
        img.height(),
        bytes.starts_with(&[0xFF, 0xD8]),
    ));
    if img.width() == 333 {
        let err = json!({"__type": "ThrottlingException", "message": "Rate exceeded"});
        return (StatusCode::BAD_REQUEST, json_type, err.to_string());
    }
    let body = match target.as_str() {
        "RekognitionService.DetectFaces" => json!({"FaceDetails": [
            {"BoundingBox": {"Width": 0.3, "Height": 0.25, "Left": 0.35, "Top": 0.1}, "Confidence": 99.9},
            {"BoundingBox": {"Width": 0.25, "Height": 0.2, "Left": 0.5, "Top": 0.5}, "Confidence": 90.0}
        ]}),
        "RekognitionService.DetectModerationLabels" => {
            let min = req["MinConfidence"].as_f64().unwrap_or(50.0);
            let labels = if min <= 90.0 {
                json!([{"Confidence": 90.0, "Name": "Suggestive", "ParentName": ""}])
            } else {
                json!([])
            };
            json!({"ModerationLabels": labels, "ModerationModelVersion": "7.0"})
        }
        other => {
            let err = json!({"__type": "UnknownOperationException", "message": other});
            return (StatusCode::BAD_REQUEST, json_type, err.to_string());
        }
    };
    (StatusCode::OK, json_type, body.to_string())
}

struct Fixture {
    dir: tempfile::TempDir,
}

/// `photos/{obama.jpg, kleiber.jpg, busy.png, quiet.png}` (the last two 333 px wide: throttled).
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    std::fs::copy(testdata().join("faces/obama.jpg"), photos.join("obama.jpg")).unwrap();
    std::fs::copy(
        testdata().join("large/kleiber_6028x3391.jpg"),
        photos.join("kleiber.jpg"),
    )
    .unwrap();
    for name in ["busy.png", "quiet.png"] {
        image::RgbImage::from_pixel(333, 200, image::Rgb([90, 120, 200]))
            .save(photos.join(name))
            .unwrap();
    }
    Fixture { dir }
}

async fn handler(fx: &Fixture, extra: &[(&str, &str)]) -> Handler {
    fake();
    let mut env: Vec<(String, String)> = vec![
        ("SOURCE_BUCKETS".into(), "photos".into()),
        ("FACE_DETECTOR".into(), "rekognition".into()),
        ("FACE_DETECTION_TIMEOUT_MS".into(), "3000".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap();
    let sdk = pixfront::aws::load_sdk_config().await;
    let faces = FaceService::from_sdk_config(&sdk, &config.faces);
    Handler::new(Arc::new(FsStorage::new(fx.dir.path())), config).with_faces(Arc::new(faces))
}

fn default_url(key: &str, edits: Value) -> String {
    let req = json!({"bucket": "photos", "key": key, "edits": edits});
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(req.to_string())
    )
}

async fn get(h: &Handler, path: &str) -> HttpResponse {
    h.handle(&HttpRequest::get(path)).await
}

fn code(r: &HttpResponse) -> String {
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    v["code"].as_str().unwrap_or("").to_string()
}

fn calls_for(width: u32) -> usize {
    fake().1.lock().unwrap().iter().filter(|c| c.1 == width).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn smart_crop_uses_rekognition_boxes() {
    let fx = fixture();
    let h = handler(&fx, &[]).await;
    // obama.jpg is 910×1137; face 1 (second most confident): left .5, top .5, .25 × .2.
    let r = get(
        &h,
        &default_url(
            "obama.jpg",
            json!({"smartCrop": {"faceIndex": 1}, "toFormat": "png"}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let img = image::load_from_memory(&r.body).unwrap();
    assert_eq!((img.width(), img.height()), (227, 227));
    // With padding, face 0: left = floor(.35·910 − 10) = 308, width = floor(.3·910 + 20) = 293.
    let r = get(
        &h,
        &default_url(
            "obama.jpg",
            json!({"smartCrop": {"padding": 10}, "toFormat": "png"}),
        ),
    )
    .await;
    let img = image::load_from_memory(&r.body).unwrap();
    assert_eq!((img.width(), img.height()), (293, 304));
    let r = get(
        &h,
        &default_url("obama.jpg", json!({"smartCrop": {"faceIndex": 2}})),
    )
    .await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (400, "SmartCrop::FaceIndexOutOfRange")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blur_sends_a_jpeg_proxy_once_per_original() {
    let fx = fixture();
    let h = handler(&fx, &[]).await;
    let before = calls_for(1280);
    let r = get(&h, "/fit-in/800x800/filters:blur_faces()/kleiber.jpg").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r
        .header("Server-Timing")
        .unwrap()
        .contains("desc=\"rekognition miss\""));
    let r = get(&h, "/fit-in/300x300/filters:blur_faces()/kleiber.jpg").await;
    assert!(r
        .header("Server-Timing")
        .unwrap()
        .contains("desc=\"rekognition hit\""));
    // 6028×3391 went out as a 1280-wide JPEG, once for both renditions: scaled from the 1/4
    // decode (libvips' floor size 1507×847), hence 719 rows rather than 720.
    assert_eq!(calls_for(1280) - before, 1);
    let calls = fake().1.lock().unwrap().clone();
    let sent = calls.iter().find(|c| c.1 == 1280).unwrap();
    assert_eq!((sent.2, sent.3), (719, true));
    // The face boxes are blurred: the first face's area (centre of .35–.65 × .1–.35) is smooth.
    let out = image::load_from_memory(
        &get(&h, "/filters:blur_faces()/filters:format(png)/obama.jpg")
            .await
            .body,
    )
    .unwrap()
    .into_luma8();
    let orig = image::open(testdata().join("faces/obama.jpg"))
        .unwrap()
        .into_luma8();
    let roughness = |img: &image::GrayImage| -> f64 {
        let (x0, y0) = (
            (0.4 * img.width() as f64) as u32,
            (0.15 * img.height() as f64) as u32,
        );
        let mut sum = 0.0;
        for y in y0..y0 + 100 {
            for x in x0..x0 + 100 {
                sum += (img.get_pixel(x, y)[0] as f64 - img.get_pixel(x + 1, y)[0] as f64).abs();
            }
        }
        sum / 10_000.0
    };
    assert!(
        roughness(&out) < roughness(&orig) / 3.0,
        "{} vs {}",
        roughness(&out),
        roughness(&orig)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn moderation_labels_blur_the_image() {
    let fx = fixture();
    let h = handler(&fx, &[]).await;
    let plain = get(&h, &default_url("obama.jpg", json!({"toFormat": "png"}))).await;
    let plain = image::load_from_memory(&plain.body).unwrap().into_rgba8();
    let plain = &plain;
    let diff = |edits: Value| {
        let h = &h;
        async move {
            let r = get(h, &default_url("obama.jpg", edits)).await;
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            let img = image::load_from_memory(&r.body).unwrap().into_rgba8();
            img.pixels()
                .zip(plain.pixels())
                .map(|(a, b)| (a[0] as f64 - b[0] as f64).abs())
                .sum::<f64>()
                / img.pixels().len() as f64
        }
    };
    // Any label at the default 75 %: blurred.
    assert!(diff(json!({"contentModeration": true, "toFormat": "png"})).await > 5.0);
    // Only listed labels count, and MinConfidence reaches Rekognition.
    assert!(
        diff(json!({"contentModeration": {"moderationLabels": ["Violence"]}, "toFormat": "png"})).await < 0.5
    );
    assert!(
        diff(json!({"contentModeration": {"moderationLabels": ["Suggestive"]}, "toFormat": "png"})).await
            > 5.0
    );
    assert!(diff(json!({"contentModeration": {"minConfidence": 95}, "toFormat": "png"})).await < 0.5);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_fails_closed() {
    let fx = fixture();
    let h = handler(&fx, &[("FORCE_BLUR_FACES", "photos/busy")]).await;
    let before = calls_for(333);
    for path in [
        // Forced, no edit in the URL.
        "/busy.png".to_string(),
        // Asked for, outside the forced prefix.
        "/filters:blur_faces()/quiet.png".to_string(),
        default_url("quiet.png", json!({"smartCrop": true})),
    ] {
        let r = get(&h, &path).await;
        assert_eq!(r.status, 503, "{path}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(code(&r), "FaceDetectionUnavailable");
        assert_eq!(r.header("Cache-Control"), Some("no-store"));
    }
    // The SDK retried the throttled calls before giving up.
    assert!(calls_for(333) - before > 3, "{}", calls_for(333) - before);
    let r = get(&h, &default_url("quiet.png", json!({"contentModeration": true}))).await;
    assert_eq!((r.status, code(&r).as_str()), (503, "ContentModerationFailed"));
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
}

/// `pixfront render` with `FACE_DETECTOR=rekognition`: the batch builds its own runtime for the
/// client, and every `blurFaces` rendition is blurred with Rekognition's boxes.
#[test]
fn batch_render_blurs_with_rekognition() {
    fake();
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    // 410 px wide: a size no other test sends, so this test's calls can be counted.
    let original = image::RgbImage::from_fn(410, 300, |x, y| {
        image::Rgb([(x % 7 * 36) as u8, (y % 5 * 50) as u8, ((x + y) % 2 * 255) as u8])
    });
    original.save(src.path().join("busy.png")).unwrap();
    let set = pixfront::renditions::Renditions::parse(
        r#"{"renditions": [{"name": "blurred", "edits": {"blurFaces": true},
            "outputFormat": "png", "key": "{stem}-{name}.png"}]}"#,
    )
    .unwrap();
    let args = pixfront::cli::render::Args {
        renditions: String::new(),
        src_dir: src.path().to_path_buf(),
        dest_dir: dest.path().to_path_buf(),
        root: None,
        jobs: Some(1),
        force: false,
    };
    let env = [("FACE_DETECTOR", "rekognition")];
    let config =
        Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap();
    let before = calls_for(410);
    let summary = pixfront::cli::render::render_dir(&set, &args, &config, false).unwrap();
    assert_eq!((summary.rendered, summary.failed), (1, 0), "{summary}");
    assert_eq!(calls_for(410) - before, 1);
    // Inside the first face box (.35–.65 × .1–.35) the checkerboard is smoothed away; outside
    // every box it is untouched.
    let out = image::open(dest.path().join("busy-blurred.png"))
        .unwrap()
        .into_rgb8();
    let (cx, cy) = (205, 67);
    let spread = |img: &image::RgbImage, x0: u32, y0: u32| -> i32 {
        let v: Vec<i32> = (0..6).map(|dx| img.get_pixel(x0 + dx, y0)[2] as i32).collect();
        v.iter().max().unwrap() - v.iter().min().unwrap()
    };
    assert!(spread(&out, cx, cy) < 100, "face area not blurred");
    assert_eq!(out.get_pixel(5, 290), original.get_pixel(5, 290));
    assert_eq!(spread(&out, 5, 290), 255);
}
