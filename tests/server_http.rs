//! The HTTP contract end to end: a real server on 127.0.0.1, driven by an HTTP client.

mod server_common;

use pixfront::config::Config;
use server_common::*;

#[tokio::test]
async fn success_headers_and_image() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let resp = client().get(srv.url("/rocket.jpg")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("image/jpeg"));
    assert_eq!(
        header(&resp, "cache-control").as_deref(),
        Some("max-age=31536000,public")
    );
    assert_eq!(
        header(&resp, "access-control-allow-methods").as_deref(),
        Some("GET")
    );
    assert_eq!(
        header(&resp, "access-control-allow-headers").as_deref(),
        Some("Content-Type, Authorization")
    );
    assert_eq!(
        header(&resp, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(header(&resp, "access-control-allow-origin"), None, "CORS is off");
    assert!(httpdate::parse_http_date(&header(&resp, "last-modified").unwrap()).is_ok());
    let etag = header(&resp, "etag").unwrap();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
        "{etag}"
    );
    let timing = header(&resp, "server-timing").unwrap();
    for stage in [
        "queue;dur=",
        "fetch;dur=",
        "decode;dur=",
        "transform;dur=",
        "encode;dur=",
    ] {
        assert!(timing.contains(stage), "{timing}");
    }
    assert_eq!(header(&resp, "vary"), None, "format not negotiated");
    let body = resp.bytes().await.unwrap();
    assert_eq!(dimensions(&body), (640, 427));
}

#[tokio::test]
async fn etag_and_if_none_match() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let c = client();
    let first = c.get(srv.url("/rocket.jpg")).send().await.unwrap();
    let etag = header(&first, "etag").unwrap();
    let other = c.get(srv.url("/logo.png")).send().await.unwrap();
    assert_ne!(
        header(&other, "etag").unwrap(),
        etag,
        "different images, different tags"
    );

    let not_modified = c
        .get(srv.url("/rocket.jpg"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(header(&not_modified, "etag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        header(&not_modified, "cache-control").as_deref(),
        Some("max-age=31536000,public")
    );
    assert!(not_modified.bytes().await.unwrap().is_empty());

    let weak = c
        .get(srv.url("/rocket.jpg"))
        .header("If-None-Match", format!("\"zzz\", W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 304);

    let changed = c
        .get(srv.url("/rocket.jpg"))
        .header("If-None-Match", "\"0123\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);

    // Replacing the original changes the tag.
    std::fs::copy(
        testdata().join("sih/1x1.jpg"),
        fx.root().join(BUCKET).join("rocket.jpg"),
    )
    .unwrap();
    let replaced = c
        .get(srv.url("/rocket.jpg"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 200);
    assert_ne!(header(&replaced, "etag").unwrap(), etag);
}

#[tokio::test]
async fn head_has_headers_and_no_body() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let c = client();
    let get = c.get(srv.url("/logo.png")).send().await.unwrap();
    let get_len = get.bytes().await.unwrap().len();
    let head = c.head(srv.url("/logo.png")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-type").as_deref(), Some("image/png"));
    assert_eq!(header(&head, "content-length"), Some(get_len.to_string()));
    assert!(header(&head, "etag").is_some());
    assert!(head.bytes().await.unwrap().is_empty());

    let missing = c.head(srv.url("/nope.png")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        header(&missing, "content-type").as_deref(),
        Some("application/json")
    );
}

#[tokio::test]
async fn options_preflight() {
    let fx = Fixture::new();
    let cors = {
        let mut c = fx.config();
        c.http.cors_enabled = true;
        c.http.cors_origin = "https://app.example".into();
        c
    };
    let srv = fx.start(cors).await;
    let c = client();
    let pre = c
        .request(reqwest::Method::OPTIONS, srv.url("/rocket.jpg"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "x-custom")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(
        header(&pre, "access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(
        header(&pre, "access-control-allow-methods").as_deref(),
        Some("GET, HEAD, OPTIONS")
    );
    assert_eq!(
        header(&pre, "access-control-allow-headers").as_deref(),
        Some("x-custom")
    );
    assert_eq!(header(&pre, "access-control-max-age").as_deref(), Some("86400"));
    let get = c.get(srv.url("/rocket.jpg")).send().await.unwrap();
    assert_eq!(
        header(&get, "access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );

    let plain = fx.start(fx.config()).await;
    let pre = c
        .request(reqwest::Method::OPTIONS, plain.url("/rocket.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(header(&pre, "allow").as_deref(), Some("GET, HEAD, OPTIONS"));
    assert_eq!(header(&pre, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn other_methods_are_405() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let resp = client().post(srv.url("/rocket.jpg")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(header(&resp, "allow").as_deref(), Some("GET, HEAD, OPTIONS"));
    let v = json(resp).await;
    assert_eq!(v["code"], "MethodNotAllowed");
}

#[tokio::test]
async fn missing_key_is_404_json_with_short_cache() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let resp = client().get(srv.url("/nope.jpg")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("application/json"));
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=10"));
    assert_eq!(
        header(&resp, "access-control-allow-methods").as_deref(),
        Some("GET")
    );
    assert_eq!(header(&resp, "last-modified"), None);
    let body = resp.text().await.unwrap();
    assert_eq!(
        body,
        r#"{"status":404,"code":"NoSuchKey","message":"The image nope.jpg does not exist or the request may not be base64 encoded properly."}"#
    );
}

#[tokio::test]
async fn error_cache_control_is_configurable() {
    let fx = Fixture::new();
    let cfg = {
        let mut c = fx.config();
        c.http.error_cache_control_4xx = "max-age=60".into();
        c
    };
    let srv = fx.start(cfg).await;
    let resp = client().get(srv.url("/nope.jpg")).send().await.unwrap();
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=60"));
}

#[tokio::test]
async fn stored_content_type_rules() {
    // SIH §3.4: a stored type outside its list is replaced by sniffing; nothing sniffable is a
    // 500 RequestTypeError, which must not be cached.
    let png = std::fs::read(testdata().join("sih/25x15.png")).unwrap();
    let store = MemStorage::default()
        .with("b", "octet.png", png, Some("binary/octet-stream"))
        .with("b", "text.jpg", b"plain text".to_vec(), Some("image/jpg"));
    let cfg = {
        let mut c = Config::default();
        c.request.source_buckets = Some("b".into());
        c
    };
    let srv = Server::start(std::sync::Arc::new(store), cfg).await;
    let c = client();
    let ok = c.get(srv.url("/octet.png")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(header(&ok, "content-type").as_deref(), Some("image/png"));
    assert_eq!(header(&ok, "etag"), None, "no original ETag, no ETag");
    let bad = c.get(srv.url("/text.jpg")).send().await.unwrap();
    assert_eq!(bad.status(), 500);
    assert_eq!(header(&bad, "cache-control").as_deref(), Some("no-store"));
    let v = json(bad).await;
    assert_eq!(v["code"], "RequestTypeError");
}

#[tokio::test]
async fn no_source_buckets_is_400() {
    let fx = Fixture::new();
    let srv = fx.start(Config::default()).await;
    let resp = client().get(srv.url("/rocket.jpg")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let v = json(resp).await;
    assert_eq!(v["code"], "GetAllowedSourceBuckets::NoSourceBuckets");
}

#[tokio::test]
async fn fallback_image_takes_the_error_status() {
    let fx = Fixture::new();
    let cfg = {
        let mut c = fx.config();
        c.http.enable_fallback_image = true;
        c.http.fallback_image_bucket = Some(BUCKET.into());
        c.http.fallback_image_key = Some("logo.png".into());
        c.http.cors_enabled = true;
        c
    };
    let srv = fx.start(cfg.clone()).await;
    let c = client();
    let resp = c.get(srv.url("/nope.jpg")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("image/png"));
    assert_eq!(
        header(&resp, "cache-control").as_deref(),
        Some("max-age=31536000,public")
    );
    assert_eq!(header(&resp, "access-control-allow-origin").as_deref(), Some("*"));
    assert!(header(&resp, "last-modified").is_some());
    assert_eq!(header(&resp, "etag"), None);
    assert_eq!(dimensions(&resp.bytes().await.unwrap()), (500, 500));

    // A fallback that cannot be read leaves the JSON error in place.
    let broken = {
        let mut c = cfg.clone();
        c.http.fallback_image_key = Some("missing.png".into());
        c
    };
    let srv2 = fx.start(broken).await;
    let resp = c.get(srv2.url("/nope.jpg")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("application/json"));

    // Switched off (or blank names): no fallback.
    let off = {
        let mut c = cfg;
        c.http.enable_fallback_image = false;
        c
    };
    let srv3 = fx.start(off).await;
    let resp = c.get(srv3.url("/nope.jpg")).send().await.unwrap();
    assert_eq!(header(&resp, "content-type").as_deref(), Some("application/json"));
}

#[tokio::test]
async fn demo_page_and_health() {
    let fx = Fixture::new();
    let srv = fx.start(fx.config()).await;
    let c = client();
    let page = c.get(srv.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        header(&page, "content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("pixfront demo") && !html.contains("/*DEMO*/"));

    let health = c.get(srv.url("/?health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(header(&health, "cache-control").as_deref(), Some("no-store"));
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok"}"#);

    std::fs::remove_dir_all(fx.root()).unwrap();
    let down = c.get(srv.url("/?health")).send().await.unwrap();
    assert_eq!(down.status(), 503);
}

#[tokio::test]
async fn svg_originals_are_sandboxed() {
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script></svg>"#;
    let store = MemStorage::default().with("b", "x.svg", svg.to_vec(), Some("image/svg+xml"));
    let cfg = {
        let mut c = Config::default();
        c.request.source_buckets = Some("b".into());
        c
    };
    let srv = Server::start(std::sync::Arc::new(store), cfg).await;
    let resp = client().get(srv.url("/x.svg")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type").as_deref(), Some("image/svg+xml"));
    assert_eq!(
        header(&resp, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
    let csp = header(&resp, "content-security-policy").unwrap();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
}

#[tokio::test]
async fn damaged_originals_are_400_or_short_lived() {
    let fx = Fixture::new();
    let whole = std::fs::read(fx.root().join(BUCKET).join("rocket.jpg")).unwrap();
    std::fs::write(fx.root().join(BUCKET).join("cut.jpg"), &whole[..whole.len() / 2]).unwrap();
    // Default FAIL_ON=warning: refused with the 4xx error's short Cache-Control.
    let srv = fx.start(fx.config()).await;
    let resp = client()
        .get(srv.url("/fit-in/100x100/cut.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=10"));
    assert!(resp.text().await.unwrap().contains("TruncatedImage"));
    // FAIL_ON=error renders what is there, never with the year-long Cache-Control.
    let mut config = fx.config();
    config.pipeline.fail_on = pixfront::pipeline::FailOn::Error;
    let srv = fx.start(config).await;
    let resp = client()
        .get(srv.url("/fit-in/100x100/cut.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=10"));
    assert_eq!(dimensions(&resp.bytes().await.unwrap()).0, 100);
    let resp = client()
        .get(srv.url("/fit-in/100x100/rocket.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&resp, "cache-control").as_deref(),
        Some("max-age=31536000,public")
    );
}

#[tokio::test]
async fn a_render_over_the_memory_budget_is_400_naming_it() {
    let fx = Fixture::new();
    let mut config = fx.config();
    // rocket.jpg is 640×427: about 1 MB per RGBA copy, more than 1 MB in all.
    config.http.memory_budget_mb = Some(1);
    let srv = fx.start(config).await;
    let resp = client()
        .get(srv.url("/fit-in/100x100/rocket.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("MemoryBudgetExceeded") && body.contains("MEMORY_BUDGET_MB"),
        "{body}"
    );
    // Passthrough needs no pixels: served.
    let resp = client().get(srv.url("/rocket.jpg")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}
