//! The info endpoint (`?info`) through `Handler` on real files: sizes after EXIF orientation,
//! frames of an animation, alpha, face boxes on the upright picture, the BlurHash, caching
//! headers, signatures, limits and JSON errors.

use indexmap::IndexMap;
use pixfront::config::Config;
use pixfront::http::{Handler, HttpRequest, HttpResponse};
use pixfront::request::signature;
use pixfront::storage::fs::FsStorage;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

fn testdata(rel: &str) -> Vec<u8> {
    let shared = Path::new("/work/shared/testdata").join(rel);
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel);
    std::fs::read(if local.exists() { local } else { shared }).unwrap()
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path().join("photos");
        std::fs::create_dir_all(&b).unwrap();
        for (name, rel) in [
            ("exif6.jpg", "faces/exif6_obama.jpg"),
            ("animated.gif", "formats/iss634_animated.gif"),
            ("alpha.png", "sih/transparent-10x10.png"),
            ("rocket.jpg", "formats/rocket.jpg"),
        ] {
            std::fs::write(b.join(name), testdata(rel)).unwrap();
        }
        std::fs::write(b.join("broken.jpg"), b"\xFF\xD8\xFF\xE0 not really").unwrap();
        std::fs::write(b.join("fake.png"), b"hello").unwrap();
        Fixture { dir }
    }

    fn handler(&self, mut c: Config) -> Handler {
        c.request.source_buckets = Some("photos".into());
        Handler::new(Arc::new(FsStorage::new(self.dir.path())), c)
    }
}

async fn get(h: &Handler, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut req = HttpRequest::get(url);
    req.headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    h.handle(&req).await
}

fn json(resp: &HttpResponse) -> Value {
    assert_eq!(resp.header("Content-Type"), Some("application/json"));
    serde_json::from_slice(&resp.body).expect("JSON body")
}

#[tokio::test]
async fn exif_rotated_photo_with_faces() {
    let fx = Fixture::new();
    let h = fx.handler(Config::default());
    let resp = get(&h, "/exif6.jpg?info=true&faces=true", &[]).await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let v = json(&resp);
    assert_eq!(
        (v["rawWidth"].as_u64(), v["rawHeight"].as_u64()),
        (Some(480), Some(384))
    );
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(384), Some(480))
    );
    assert_eq!(v["orientation"], 6);
    assert_eq!(v["format"], "jpeg");
    assert_eq!(v["contentType"], "image/jpeg");
    assert_eq!(v["frames"], 1);
    assert_eq!(v["hasAlpha"], false);
    assert_eq!(
        v["bytes"].as_u64(),
        Some(testdata("faces/exif6_obama.jpg").len() as u64)
    );
    // One face, upright: in the upper half, horizontally central (sideways it would not be).
    let faces = v["faces"].as_array().expect("faces asked for");
    assert_eq!(faces.len(), 1, "{faces:?}");
    let f = &faces[0];
    let cx = f["left"].as_f64().unwrap() + f["width"].as_f64().unwrap() / 2.0;
    let cy = f["top"].as_f64().unwrap() + f["height"].as_f64().unwrap() / 2.0;
    assert!((0.3..0.7).contains(&cx) && cy < 0.6, "{f}");
    assert!(f["confidence"].as_f64().unwrap() > 50.0);
    assert!(resp.header("Server-Timing").unwrap().contains("faces;dur="));
    // Without `faces`, no detection and no field.
    let plain = json(&get(&h, "/exif6.jpg?info", &[]).await);
    assert!(plain.get("faces").is_none());
}

#[tokio::test]
async fn animation_alpha_and_blurhash() {
    let fx = Fixture::new();
    let h = fx.handler(Config::default());
    let gif = json(&get(&h, "/animated.gif?info", &[]).await);
    assert_eq!(
        (gif["format"].as_str(), gif["frames"].as_u64()),
        (Some("gif"), Some(42))
    );
    assert_eq!(
        (gif["width"].as_u64(), gif["height"].as_u64()),
        (Some(245), Some(245))
    );
    let png = json(&get(&h, "/alpha.png?info", &[]).await);
    assert_eq!(png["hasAlpha"], true);
    assert_eq!(
        (png["width"].as_u64(), png["height"].as_u64()),
        (Some(10), Some(10))
    );

    // The placeholder decodes to the picture's average colour (4 × 3 components: 28 chars).
    let rocket = json(&get(&h, "/rocket.jpg?info", &[]).await);
    let hash = rocket["blurhash"].as_str().unwrap();
    assert_eq!(hash.len(), 28, "{hash}");
    let decoded = blurhash::decode(hash, 16, 12, 1.0).unwrap();
    let original = image::load_from_memory(&testdata("formats/rocket.jpg"))
        .unwrap()
        .into_rgb8();
    for c in 0..3 {
        let mean_orig = original.pixels().map(|p| p[c] as f64).sum::<f64>() / original.pixels().len() as f64;
        let mean_hash = decoded.chunks(4).map(|p| p[c] as f64).sum::<f64>() / (decoded.len() / 4) as f64;
        assert!(
            (mean_orig - mean_hash).abs() < 20.0,
            "channel {c}: {mean_orig} vs {mean_hash}"
        );
    }
    assert_ne!(gif["blurhash"], rocket["blurhash"]);
}

#[tokio::test]
async fn cacheable_with_its_own_etag() {
    let fx = Fixture::new();
    let h = fx.handler(Config::default());
    let info = get(&h, "/rocket.jpg?info", &[]).await;
    let image = get(&h, "/rocket.jpg", &[]).await;
    assert_eq!(info.header("Cache-Control"), Some("max-age=31536000,public"));
    let etag = info.header("ETag").unwrap();
    assert_ne!(Some(etag), image.header("ETag"));
    assert_ne!(
        Some(etag),
        get(&h, "/rocket.jpg?info&faces=true", &[]).await.header("ETag")
    );
    let again = get(&h, "/rocket.jpg?info", &[("If-None-Match", etag)]).await;
    assert_eq!(again.status, 304);
    // Edits in the URL name the same original: the same answer.
    let edited = get(&h, "/fit-in/10x10/rocket.jpg?info", &[]).await;
    assert_eq!(json(&edited)["width"], 640);
    let query = get(&h, "/rocket.jpg?width=100&info=true", &[]).await;
    assert_eq!(json(&query)["width"], 640);
}

#[tokio::test]
async fn signatures_limits_and_errors() {
    let fx = Fixture::new();
    let mut c = Config::default();
    c.request.enable_signature = true;
    c.secrets.signature_secret = Some("secret".into());
    let h = fx.handler(c);
    let sign = |path: &str, query: &[(&str, &str)]| {
        let params: IndexMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        signature::sign(b"secret", &signature::string_to_sign(path, &params))
    };
    // The image's signature does not cover `info`.
    let image_sig = sign("/rocket.jpg", &[]);
    assert_eq!(
        get(&h, &format!("/rocket.jpg?signature={image_sig}"), &[])
            .await
            .status,
        200
    );
    let resp = get(&h, &format!("/rocket.jpg?info=true&signature={image_sig}"), &[]).await;
    assert_eq!(resp.status, 403);
    assert_eq!(json(&resp)["status"], 403);
    let sig = sign("/rocket.jpg", &[("info", "true")]);
    let resp = get(&h, &format!("/rocket.jpg?info=true&signature={sig}"), &[]).await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(json(&resp)["width"], 640);

    let h = fx.handler(Config::default());
    let code = |r: &HttpResponse| json(r)["code"].as_str().unwrap().to_string();
    let missing = get(&h, "/nope.jpg?info", &[]).await;
    assert_eq!((missing.status, code(&missing)), (404, "NoSuchKey".into()));
    let text = get(&h, "/fake.png?info", &[]).await;
    assert_eq!((text.status, code(&text)), (400, "UnsupportedInputFormat".into()));
    let broken = get(&h, "/broken.jpg?info", &[]).await;
    assert!((400..500).contains(&broken.status), "{}", broken.status);
    // Pixel limits apply before any decode.
    let mut c = Config::default();
    c.pipeline.max_input_pixels = 100_000;
    let h = fx.handler(c);
    let big = get(&h, "/rocket.jpg?info", &[]).await;
    assert_eq!(big.status, 400, "{}", String::from_utf8_lossy(&big.body));
    assert_eq!(json(&get(&h, "/alpha.png?info", &[]).await)["width"], 10);
}
