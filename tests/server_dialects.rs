//! Every URL dialect through the real server: the answer is what the engine renders for the
//! parsed request, with the request's headers; bucket, signature and request errors map to SIH's
//! statuses and codes.

mod server_common;

use base64::Engine;
use pixfront::config::Config;
use pixfront::request::{self, RequestInput, StaticSecret};
use pixfront::storage::{fs::FsStorage, Storage};
use server_common::*;

fn b64(json: &serde_json::Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(json.to_string())
}

/// The engine's own rendering of `url` (no HTTP involved), as (dimensions, content type).
async fn engine(fx: &Fixture, config: &Config, url: &str, accept: Option<&str>) -> ((u32, u32), String) {
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let input = RequestInput {
        path,
        query,
        accept,
        ..Default::default()
    };
    let secret = StaticSecret(config.secrets.signature_secret.clone());
    let req = request::parse(&input, &config.request, &secret).unwrap();
    let obj = FsStorage::new(fx.root())
        .get(&req.bucket, &req.key)
        .await
        .unwrap();
    let out = pixfront::pipeline::process(
        &req,
        &obj.body,
        obj.content_type.as_deref(),
        &Default::default(),
        &config.pipeline,
    )
    .unwrap();
    (dimensions(&out.bytes), out.content_type)
}

#[tokio::test]
async fn every_dialect_renders_what_the_engine_renders() {
    let fx = Fixture::new();
    let config = {
        let mut c = fx.config();
        c.request.rewrite_match_pattern = Some("/^\\/small\\/(.*)$/".into());
        c.request.rewrite_substitution = Some("/fit-in/100x100/$1".into());
        c
    };
    let srv = fx.start(config.clone()).await;
    let default = serde_json::json!({
        "bucket": BUCKET, "key": "people/obama.jpg",
        "edits": {"resize": {"width": 200, "height": 200, "fit": "cover"}, "grayscale": true}
    });
    let urls = [
        "/fit-in/300x200/rocket.jpg".to_string(),
        "/200x0/filters:format(png)/people/obama.jpg".to_string(),
        format!("/{}", b64(&default)),
        "/logo.png?width=120&format=webp".to_string(),
        "/fit-in/100x100/filters:grayscale()/logo.png?height=50".to_string(),
        "/small/rocket.jpg".to_string(),
    ];
    let c = client();
    for url in &urls {
        let resp = c.get(srv.url(url)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        let ct = header(&resp, "content-type").unwrap();
        let body = resp.bytes().await.unwrap();
        let (dims, engine_ct) = engine(&fx, &config, url, None).await;
        assert_eq!((dimensions(&body), ct), (dims, engine_ct), "{url}");
    }
}

#[tokio::test]
async fn buckets_are_allow_listed() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let c = client();
    let other = serde_json::json!({"bucket": "other-bucket", "key": "1x1.jpg"});
    let resp = c.get(srv.url(&format!("/{}", b64(&other)))).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=10"));
    assert_eq!(json(resp).await["code"], "ImageBucket::CannotAccessBucket");

    let both = {
        let mut c = fx.config();
        c.request.source_buckets = Some(format!("{BUCKET}, other-bucket"));
        c
    };
    let srv = fx.start(both).await;
    let resp = c.get(srv.url(&format!("/{}", b64(&other)))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let thumbor = c.get(srv.url("/s3:other-bucket/1x1.jpg")).send().await.unwrap();
    assert_eq!(thumbor.status(), 200);
    assert_eq!(dimensions(&thumbor.bytes().await.unwrap()), (1, 1));
}

#[tokio::test]
async fn request_errors_are_400_json() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let c = client();
    for (url, code) in [
        ("/rocket.bmp", "RequestTypeError"),
        ("/rocket.jpg?expires=20000101T000000Z", "ImageRequestExpired"),
        ("/rocket.jpg?expires=tomorrow", "ImageRequestExpiryFormat"),
    ] {
        let resp = c.get(srv.url(url)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{url}");
        assert_eq!(header(&resp, "content-type").as_deref(), Some("application/json"));
        assert_eq!(json(resp).await["code"], code, "{url}");
    }
}

#[tokio::test]
async fn signed_urls() {
    let fx = Fixture::new();
    let config = {
        let mut c = fx.config();
        c.request.enable_signature = true;
        c.secrets.signature_secret = Some("s3cret".into());
        c
    };
    let srv = fx.start(config).await;
    let c = client();
    let signed = pixfront::cli::sign::sign("/fit-in/100x100/rocket.jpg", b"s3cret");
    assert_eq!(c.get(srv.url(&signed)).send().await.unwrap().status(), 200);

    let unsigned = c.get(srv.url("/fit-in/100x100/rocket.jpg")).send().await.unwrap();
    assert_eq!(unsigned.status(), 400);
    assert_eq!(json(unsigned).await["code"], "AuthorizationQueryParametersError");

    let forged = signed.replace("100x100", "900x900");
    let resp = c.get(srv.url(&forged)).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(json(resp).await["code"], "SignatureDoesNotMatch");
}

#[tokio::test]
async fn negotiated_format_varies_on_accept() {
    let fx = Fixture::new();
    let config = {
        let mut c = fx.config();
        c.request.auto_webp = true;
        c
    };
    let srv = fx.start(config).await;
    let c = client();
    let plain = c.get(srv.url("/fit-in/100x100/rocket.jpg")).send().await.unwrap();
    // Without Accept the answer is JPEG, but it still depends on Accept.
    assert_eq!(header(&plain, "vary").as_deref(), Some("Accept"));
    let webp = c
        .get(srv.url("/fit-in/100x100/rocket.jpg"))
        .header("Accept", "image/avif,image/webp,*/*")
        .send()
        .await
        .unwrap();
    assert_eq!(webp.status(), 200);
    assert_eq!(header(&webp, "vary").as_deref(), Some("Accept"));
    assert_ne!(
        header(&webp, "etag"),
        header(&plain, "etag"),
        "one tag per representation"
    );
    // An explicit format does not depend on Accept.
    let explicit = c
        .get(srv.url("/fit-in/100x100/filters:format(png)/rocket.jpg"))
        .header("Accept", "image/webp")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&explicit, "vary"), None);
}

#[tokio::test]
async fn default_request_headers_with_deny_list() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let req = serde_json::json!({
        "key": "rocket.jpg",
        "headers": {"Cache-Control": "max-age=60", "X-Frame-Options": "DENY", "X-Pixfront-Test": "1"}
    });
    let resp = client()
        .get(srv.url(&format!("/{}", b64(&req))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=60"));
    assert_eq!(header(&resp, "x-pixfront-test").as_deref(), Some("1"));
    assert_eq!(header(&resp, "x-frame-options"), None, "deny-listed");
}

#[tokio::test]
async fn fallback_precedence_and_signature_errors() {
    let fx = Fixture::new();
    let config = {
        let mut c = fx.config();
        c.http.enable_fallback_image = true;
        c.http.fallback_image_bucket = Some(BUCKET.into());
        c.http.fallback_image_key = Some("logo.png".into());
        c
    };
    let srv = fx.start(config.clone()).await;
    let c = client();
    // No Cache-Control on the fallback object: the Default request's header is next.
    let req = serde_json::json!({"key": "missing.jpg", "headers": {"Cache-Control": "max-age=5"}});
    let resp = c.get(srv.url(&format!("/{}", b64(&req)))).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=5"));
    assert_eq!(header(&resp, "content-type").as_deref(), Some("image/png"));

    // Served for signature errors too, with their status.
    let signed = {
        let mut c = config;
        c.request.enable_signature = true;
        c.secrets.signature_secret = Some("k".into());
        c
    };
    let srv = fx.start(signed).await;
    let resp = c.get(srv.url("/rocket.jpg?signature=00")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("image/png"));
    assert_eq!(dimensions(&resp.bytes().await.unwrap()), (500, 500));
}

#[tokio::test]
async fn expiring_urls_are_cached_no_longer_than_they_live() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let resp = client()
        .get(srv.url("/rocket.jpg?expires=20991231T235959Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cc = header(&resp, "cache-control").unwrap();
    let secs: u64 = cc
        .strip_prefix("max-age=")
        .and_then(|r| r.strip_suffix(",public"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{cc}"));
    let until_2100 = 4_102_444_800
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
    assert!(
        secs < until_2100 && secs + 120 > until_2100 - 1,
        "{secs} vs {until_2100}"
    );
}
