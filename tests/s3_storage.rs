//! S3 originals through the real AWS SDK against an S3-protocol server (s3s + s3s-fs, SigV4 on),
//! end to end through `Handler`: keys, metadata headers, missing/denied keys, broken credentials,
//! throttling and outages, the fallback image, health, and `pixfront serve --s3`.

mod s3_common;

use base64::Engine;
use pixfront::config::Config;
use pixfront::http::{Handler, HttpRequest, HttpResponse};
use pixfront::storage::s3::S3Storage;
use pixfront::storage::Storage;
use s3_common::*;
use std::sync::Arc;

async fn handler(server: &S3Server, config: Config) -> Handler {
    handler_with(&server.sdk(ACCESS_KEY, SECRET_KEY).await, config)
}

fn handler_with(sdk: &aws_config::SdkConfig, config: Config) -> Handler {
    let storage = S3Storage::from_sdk_config(sdk, &config.s3, config.health_buckets());
    Handler::new(Arc::new(storage), config)
}

async fn get(h: &Handler, path: &str) -> HttpResponse {
    h.handle(&HttpRequest::get(path)).await
}

fn default_url(key: &str, edits: serde_json::Value) -> String {
    let json = serde_json::json!({"bucket": BUCKET, "key": key, "edits": edits});
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(json.to_string())
    )
}

fn dims(resp: &HttpResponse) -> (u32, u32) {
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let img = image::load_from_memory(&resp.body).expect("decodable image");
    (img.width(), img.height())
}

fn code(resp: &HttpResponse) -> String {
    let v: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error body");
    v["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn keys_with_spaces_plus_unicode_and_percent() {
    let s3 = S3Server::start().await;
    // Distinct sizes prove which object answered.
    let cases = [
        ("with space.png", "sih/25x15.png", (25, 15), "with%20space.png"),
        (
            "plus+sign.png",
            "sih/transparent-10x5.png",
            (10, 5),
            "plus+sign.png",
        ),
        (
            "ünï/猫 cat.png",
            "sih/transparent-5x10.png",
            (5, 10),
            "%C3%BCn%C3%AF/%E7%8C%AB%20cat.png",
        ),
        ("100%.png", "sih/transparent-5x5.png", (5, 5), "100%25.png"),
        ("a%20b.jpg", "sih/1x1.jpg", (1, 1), "a%2520b.jpg"),
    ];
    for (key, file, _, _) in &cases {
        s3.put(key, fixture(file)).await;
    }
    let h = handler(&s3, config()).await;
    for (key, _, size, thumbor) in &cases {
        let by_json = get(&h, &default_url(key, serde_json::json!({}))).await;
        assert_eq!(dims(&by_json), *size, "Default request for {key:?}");
        let by_path = get(&h, &format!("/{thumbor}")).await;
        assert_eq!(dims(&by_path), *size, "Thumbor request for {key:?}");
    }
    // `a%20b.jpg` is a literal key: the decoded spelling names nothing.
    let resp = get(&h, &default_url("a b.jpg", serde_json::json!({}))).await;
    assert_eq!((resp.status, code(&resp)), (404, "NoSuchKey".into()));
    // Resizing works on an S3 original like on any other.
    let resp = get(&h, "/fit-in/10x10/with%20space.png").await;
    assert_eq!(dims(&resp), (10, 6));
}

#[tokio::test]
async fn object_metadata_becomes_response_headers() {
    let s3 = S3Server::start().await;
    let admin = s3.admin().await;
    let expires = aws_sdk_s3::primitives::DateTime::from_secs(1_924_954_388); // 2030-12-31
    #[allow(deprecated)] // the setter is fine; only the getter's parsing is deprecated
    admin
        .put_object()
        .bucket(BUCKET)
        .key("meta/logo")
        .body(fixture("formats/skimage_logo_rgba.png").into())
        .content_type("binary/octet-stream")
        .cache_control("max-age=60, public")
        .expires(expires)
        .send()
        .await
        .unwrap();
    admin
        .put_object()
        .bucket(BUCKET)
        .key("meta/typed.jpg")
        .body(fixture("sih/1x1.jpg").into())
        .content_type("image/jpeg")
        .send()
        .await
        .unwrap();
    admin
        .put_object()
        .bucket(BUCKET)
        .key("meta/text.jpg")
        .body(b"not an image at all".to_vec().into())
        .content_type("image/jpg")
        .send()
        .await
        .unwrap();
    let h = handler(&s3, config()).await;

    // binary/octet-stream is sniffed (SIH §3.4); S3's Cache-Control and Expires pass through.
    let resp = get(&h, "/meta/logo").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Content-Type"), Some("image/png"));
    assert_eq!(resp.header("Cache-Control"), Some("max-age=60, public"));
    assert_eq!(resp.header("Expires"), Some("Tue, 31 Dec 2030 13:33:08 GMT"));
    let lm = resp.header("Last-Modified").expect("Last-Modified");
    let lm = httpdate::parse_http_date(lm).unwrap();
    let age = std::time::SystemTime::now().duration_since(lm).unwrap();
    assert!(age.as_secs() < 600, "Last-Modified is the upload time");
    let etag = resp.header("ETag").expect("ETag").to_string();
    assert!(image::load_from_memory(&resp.body).is_ok());

    // The ETag derives from S3's: a conditional request is answered 304 without a body, from
    // HeadObject alone (no second GetObject), with the same caching headers.
    assert_eq!(s3.calls("meta/logo"), 1);
    let mut req = HttpRequest::get("/meta/logo");
    req.headers.push(("If-None-Match".into(), etag.clone()));
    let resp = h.handle(&req).await;
    assert_eq!(resp.status, 304);
    assert!(resp.body.is_empty());
    assert_eq!(resp.header("ETag"), Some(etag.as_str()));
    assert_eq!(resp.header("Cache-Control"), Some("max-age=60, public"));
    assert_eq!(s3.calls("meta/logo"), 1);
    // Another rendition has another ETag: rendered in full.
    let mut req = HttpRequest::get("/fit-in/100x100/meta/logo");
    req.headers.push(("If-None-Match".into(), etag));
    let resp = h.handle(&req).await;
    assert_eq!(resp.status, 200);
    assert_eq!(s3.calls("meta/logo"), 2);

    // A known type is used as stored; no Cache-Control on the object → SIH's default.
    let resp = get(&h, "/meta/typed.jpg").await;
    assert_eq!(resp.header("Content-Type"), Some("image/jpeg"));
    assert_eq!(resp.header("Cache-Control"), Some("max-age=31536000,public"));
    assert_eq!(resp.header("Expires"), None);

    // An unknown stored type whose bytes are no image: SIH's 500 RequestTypeError.
    let resp = get(&h, "/meta/text.jpg").await;
    assert_eq!((resp.status, code(&resp)), (500, "RequestTypeError".into()));
}

#[tokio::test]
async fn missing_or_denied_keys_are_sih_404s() {
    let s3 = S3Server::start().await;
    s3.put("private/secret.jpg", fixture("sih/1x1.jpg")).await;
    let h = handler(&s3, config()).await;
    for path in [
        "/nope.jpg",
        "/fit-in/10x10/private/secret.jpg",
        "/s3:other-bucket/x.jpg",
    ] {
        let resp = get(&h, path).await;
        assert_eq!((resp.status, code(&resp)), (404, "NoSuchKey".into()), "{path}");
        // A real 404 may be cached briefly (4xx error Cache-Control).
        assert_eq!(resp.header("Cache-Control"), Some("max-age=10"), "{path}");
    }
    assert_eq!(s3.calls("private/secret.jpg"), 1, "AccessDenied is not retried");

    // An allow-listed bucket that does not exist is a 404 too (SIH).
    let mut c = config();
    c.request.source_buckets = Some("no-such-bucket".into());
    let resp = get(&handler(&s3, c).await, "/x.jpg").await;
    assert_eq!((resp.status, code(&resp)), (404, "NoSuchKey".into()));
}

#[tokio::test]
async fn wrong_credentials_are_an_uncacheable_503_not_a_404() {
    let s3 = S3Server::start().await;
    s3.put("cat.jpg", fixture("sih/1x1.jpg")).await;
    for (ak, sk) in [(ACCESS_KEY, "wrong-secret"), ("AKIAUNKNOWN", SECRET_KEY)] {
        let h = handler_with(&s3.sdk(ak, sk).await, config());
        for path in ["/cat.jpg", "/missing.jpg"] {
            let resp = get(&h, path).await;
            assert_eq!(resp.status, 503, "{ak}/{sk} {path}");
            assert_eq!(code(&resp), "ImageRetrieval::AccessRejected");
            assert_eq!(resp.header("Cache-Control"), Some("no-store"));
        }
    }
}

#[tokio::test]
async fn throttling_is_retried_with_backoff() {
    let s3 = S3Server::start().await;
    s3.put("flaky/cat.png", fixture("sih/25x15.png")).await;
    let h = handler(&s3, config()).await;
    let resp = get(&h, "/flaky/cat.png").await;
    assert_eq!(dims(&resp), (25, 15));
    assert_eq!(
        s3.calls("flaky/cat.png"),
        3,
        "two SlowDown answers, then the object"
    );
}

#[tokio::test]
async fn store_errors_are_503_after_retries() {
    let s3 = S3Server::start().await;
    s3.put("down/cat.png", fixture("sih/25x15.png")).await;
    let h = handler(&s3, config()).await;
    let resp = get(&h, "/down/cat.png").await;
    assert_eq!(
        (resp.status, code(&resp)),
        (503, "ImageRetrieval::Unavailable".into())
    );
    assert_eq!(resp.header("Cache-Control"), Some("no-store"));
    assert_eq!(s3.calls("down/cat.png"), 3, "three attempts");
}

#[tokio::test]
async fn unreachable_or_stalled_store_is_503() {
    // Accepts connections, never answers: every attempt times out.
    let stalled = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stalled_addr = stalled.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((s, _)) = stalled.accept().await {
            sockets.push(s);
        }
    });
    // A port nobody listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    for addr in [stalled_addr, closed_addr] {
        let sdk = sdk_config(&format!("http://{addr}"), ACCESS_KEY, SECRET_KEY).await;
        let h = handler_with(&sdk, config());
        let started = std::time::Instant::now();
        let resp = get(&h, "/cat.jpg").await;
        assert_eq!(
            (resp.status, code(&resp)),
            (503, "ImageRetrieval::Unavailable".into()),
            "{addr}"
        );
        assert_eq!(resp.header("Cache-Control"), Some("no-store"));
        assert!(started.elapsed().as_secs() < 10, "bounded by the attempt timeout");
    }
    hold.abort();
}

#[tokio::test]
async fn fallback_image_comes_from_s3() {
    let s3 = S3Server::start().await;
    let fallback = fixture("sih/aws_logo.png");
    s3.admin()
        .await
        .put_object()
        .bucket(BUCKET)
        .key("fallback/default.png")
        .body(fallback.clone().into())
        .content_type("image/png")
        .cache_control("max-age=5")
        .send()
        .await
        .unwrap();
    let mut c = config();
    c.http.enable_fallback_image = true;
    c.http.fallback_image_bucket = Some(BUCKET.into());
    c.http.fallback_image_key = Some("fallback/default.png".into());
    let h = handler(&s3, c.clone()).await;
    let resp = get(&h, "/fit-in/10x10/missing.jpg").await;
    assert_eq!(resp.status, 404, "the original error's status");
    assert_eq!(&resp.body[..], &fallback[..], "the fallback bytes, unprocessed");
    assert_eq!(resp.header("Content-Type"), Some("image/png"));
    assert_eq!(resp.header("Cache-Control"), Some("max-age=5"));
    assert!(resp.header("Last-Modified").is_some());

    // A store outage (`down/…` always fails) keeps its 5xx status, and the stand-in must not be
    // cached by a CDN whatever the fallback object's own Cache-Control says.
    let resp = get(&h, "/down/cat.jpg").await;
    assert_eq!(resp.status, 503);
    assert_eq!(&resp.body[..], &fallback[..]);
    assert_eq!(resp.header("Cache-Control"), Some("no-store"));

    // A fallback that cannot be read leaves the original error.
    c.http.fallback_image_key = Some("fallback/gone.png".into());
    let resp = get(&handler(&s3, c).await, "/missing.jpg").await;
    assert_eq!((resp.status, code(&resp)), (404, "NoSuchKey".into()));
}

#[tokio::test]
async fn health_heads_every_source_bucket() {
    let s3 = S3Server::start().await;
    let sdk = s3.sdk(ACCESS_KEY, SECRET_KEY).await;
    let ok = S3Storage::from_sdk_config(&sdk, &config().s3, config().health_buckets());
    assert!(ok.health().await.is_ok());
    let resp = get(&handler_with(&sdk, config()), "/?health").await;
    assert_eq!(resp.status, 200);

    let mut c = config();
    c.request.source_buckets = Some(format!("{BUCKET}, missing-bucket"));
    let err = S3Storage::from_sdk_config(&sdk, &c.s3, c.health_buckets())
        .health()
        .await
        .unwrap_err();
    assert_eq!((err.status, &*err.code), (503, "Storage::Unavailable"));
    assert!(err.message.contains("missing-bucket"), "{}", err.message);

    let bad = s3.sdk(ACCESS_KEY, "wrong").await;
    let resp = get(&handler_with(&bad, config()), "/?health").await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("Cache-Control"), Some("no-store"));
}

/// `pixfront serve --s3` reads the standard AWS variables and `S3_FORCE_PATH_STYLE`.
#[tokio::test]
async fn serve_s3_uses_the_standard_environment() {
    use tokio::io::AsyncBufReadExt;
    let s3 = S3Server::start().await;
    s3.put("photos/cat.png", fixture("sih/25x15.png")).await;
    s3.copy_in("photos/rocket.jpg", &fixture("formats/rocket.jpg"));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pixfront"))
        .args(["serve", "--s3", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL_S3", &s3.endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("S3_FORCE_PATH_STYLE", "Yes")
        .env("SOURCE_BUCKETS", BUCKET)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next_line().await.unwrap().expect("banner line");
        if let Some(i) = line.find("http://") {
            break line[i..].trim().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("{base}/fit-in/10x10/photos/cat.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let img = image::load_from_memory(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (10, 6));
    let resp = client
        .get(format!("{base}/photos/rocket.jpg?width=64"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client
        .get(format!("{base}/photos/nope.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = client.get(format!("{base}/?health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    child.kill().await.unwrap();
}
