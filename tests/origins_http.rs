//! Originals from an HTTP origin on 127.0.0.1 (docs/origins.md), through the in-process server:
//! every dialect renders from it exactly as from a local folder, path mappings and URL keys,
//! revalidation with `If-None-Match` (a `304` skips the download), 20 concurrent requests making
//! one origin fetch, no client header reaching the origin, and errors mapped like S3's.
//! The SSRF refusals are in `origins_ssrf.rs`.

#[path = "origin_support/mod.rs"]
mod origin_support;
#[path = "server_common/mod.rs"]
mod server_common;

use base64::Engine;
use origin_support::{Origin, Reply, Seen};
use pixfront::config::Config;
use pixfront::storage::fs::FsStorage;
use pixfront::storage::http::guard::{HostRule, Network};
use pixfront::storage::origins::{Origin as NamedOrigin, PathMapping};
use serde_json::json;
use server_common::{client, dimensions, error_of, header, json, testdata, Server};
use std::sync::Arc;
use std::time::Duration;

/// The folder bucket, the default one.
const LOCAL: &str = "local";

fn file(name: &str) -> Option<&'static str> {
    Some(match name {
        "rocket.jpg" => "formats/rocket.jpg",
        "logo.png" => "formats/skimage_logo_rgba.png",
        "people/obama.jpg" => "faces/obama.jpg",
        _ => return None,
    })
}

/// The test images below `/media/`, with an ETag, a misleading Content-Type (pixfront sniffs)
/// and a `304` to a matching `If-None-Match`.
fn images(seen: &Seen) -> Reply {
    let path = seen.path.split('?').next().unwrap_or_default();
    let Some(path) = path.strip_prefix("/media/").and_then(file) else {
        return Reply::status(404);
    };
    let etag = format!("\"v1-{}\"", path.len());
    if seen.header("if-none-match") == Some(etag.as_str()) {
        return Reply::body(304, &[("ETag", &etag)], Vec::new());
    }
    let body = std::fs::read(testdata().join(path)).unwrap();
    Reply::body(
        200,
        &[("ETag", &etag), ("Content-Type", "application/octet-stream")],
        body,
    )
}

/// `local` (a folder holding the same test images, the default bucket) and `web`, the HTTP
/// origin at `base` + `media/`, loopback allowed for it alone.
fn config(base: &str) -> Config {
    let mut c = Config::default();
    c.request.source_buckets = Some(format!("{LOCAL},web"));
    c.origins.origins = vec![NamedOrigin::parse(&format!("web={base}media/")).unwrap()];
    c.origin_http.allow_http = true;
    c.origin_http.allow_networks = vec![Network::parse("127.0.0.1/32").unwrap()];
    c.http.max_queue = Some(64);
    c
}

async fn start(config: Config) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    for name in ["rocket.jpg", "logo.png", "people/obama.jpg"] {
        let to = dir.path().join(LOCAL).join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(testdata().join(file(name).unwrap()), to).unwrap();
    }
    let storage = config.storage_over(Arc::new(FsStorage::new(dir.path()))).unwrap();
    (dir, Server::start(storage, config).await)
}

fn default_request(bucket: Option<&str>, key: &str, edits: serde_json::Value) -> String {
    let mut request = json!({"key": key, "edits": edits});
    if let Some(b) = bucket {
        request["bucket"] = json!(b);
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(request.to_string());
    format!("/{encoded}")
}

/// Status, Content-Type and body of `GET path`.
async fn get(server: &Server, path: &str) -> (u16, Option<String>, Vec<u8>) {
    let resp = client().get(server.url(path)).send().await.unwrap();
    let ct = header(&resp, "content-type");
    (resp.status().as_u16(), ct, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn every_dialect_renders_from_an_http_origin_as_from_a_folder() {
    let origin = Origin::start("127.0.0.1:0", images).await;
    let (_dir, server) = start(config(&origin.base())).await;
    let resize = json!({"resize": {"width": 120, "height": 90, "fit": "cover"}, "grayscale": true});
    let pairs = [
        // Thumbor, the origin chosen by an `s3:` segment.
        (
            "/s3:web/fit-in/200x150/rocket.jpg".to_string(),
            "/fit-in/200x150/rocket.jpg".to_string(),
        ),
        (
            "/s3:web/fit-in/100x100/filters:format(webp)/people/obama.jpg".into(),
            "/fit-in/100x100/filters:format(webp)/people/obama.jpg".into(),
        ),
        // Default (base64 JSON), the origin chosen by `bucket`.
        (
            default_request(Some("web"), "rocket.jpg", resize.clone()),
            default_request(Some(LOCAL), "rocket.jpg", resize),
        ),
        // v7 query parameters.
        (
            "/s3:web/logo.png?width=100&format=webp".into(),
            "/logo.png?width=100&format=webp".into(),
        ),
        // No edits: the original's bytes, typed by sniffing (the origin says octet-stream).
        ("/s3:web/rocket.jpg".into(), "/rocket.jpg".into()),
    ];
    for (remote, local) in &pairs {
        let (status, ct, body) = get(&server, remote).await;
        assert_eq!(status, 200, "{remote}: {}", String::from_utf8_lossy(&body));
        let (_, local_ct, local_body) = get(&server, local).await;
        assert_eq!(ct, local_ct, "{remote}");
        assert!(body == local_body, "{remote}: the same bytes as from the folder");
        assert!(dimensions(&body).0 > 0);
    }
    let (_, ct, body) = get(&server, "/s3:web/rocket.jpg").await;
    assert_eq!(ct.as_deref(), Some("image/jpeg"));
    assert_eq!(
        body,
        std::fs::read(testdata().join("formats/rocket.jpg")).unwrap()
    );
    // Each original was fetched once, then served from the cache of originals.
    let mut paths: Vec<String> = origin.seen().into_iter().map(|s| s.path).collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/media/logo.png", "/media/people/obama.jpg", "/media/rocket.jpg"]
    );
}

#[tokio::test]
async fn path_mappings_and_url_keys() {
    let origin = Origin::start("127.0.0.1:0", images).await;
    let mut c = config(&origin.base());
    // `web` is reachable through the mapping only.
    c.request.source_buckets = Some(LOCAL.into());
    c.origins.paths = vec![PathMapping {
        prefix: "cms/".into(),
        origin: "web".into(),
    }];
    let host = origin.addr.to_string();
    c.origin_http.url_hosts = vec![HostRule::parse(&host).unwrap()];
    let (_dir, server) = start(c).await;

    let (status, _, mapped) = get(&server, "/fit-in/100x100/cms/rocket.jpg").await;
    assert_eq!(status, 200);
    assert_eq!(mapped, get(&server, "/fit-in/100x100/rocket.jpg").await.2);
    assert_eq!(origin.seen()[0].path, "/media/rocket.jpg", "prefix removed");

    let encoded = format!(
        "http%3A%2F%2F{}%2Fmedia%2Fpeople%2Fobama.jpg",
        host.replace(':', "%3A")
    );
    for (path, from) in [
        (
            format!("/fit-in/100x100/http://{host}/media/logo.png"),
            "/media/logo.png",
        ),
        (format!("/fit-in/100x100/{encoded}"), "/media/people/obama.jpg"),
        (
            default_request(
                None,
                &format!("http://{host}/media/rocket.jpg?v=2"),
                json!({"rotate": 90}),
            ),
            "/media/rocket.jpg?v=2",
        ),
    ] {
        let (status, _, body) = get(&server, &path).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(origin.seen().last().unwrap().path, from);
    }
    // A name outside SOURCE_BUCKETS is not an origin a request may choose (SIH: 403 for
    // Default, ignored `s3:` for Thumbor).
    let refused = default_request(Some("web"), "rocket.jpg", json!({}));
    assert_eq!(error_of(&server, &refused).await.0, 403);
    assert_eq!(error_of(&server, "/s3:web/rocket.jpg").await.1, "NoSuchKey");
}

#[tokio::test]
async fn revalidation_sends_if_none_match_and_a_304_skips_the_download() {
    let origin = Origin::start("127.0.0.1:0", images).await;
    let mut c = config(&origin.base());
    // Every use of a cached original asks the origin first.
    c.origin_http.cache_ttl = Duration::ZERO;
    let (_dir, server) = start(c).await;
    let size = std::fs::read(testdata().join("formats/rocket.jpg"))
        .unwrap()
        .len() as u64;

    let first = client()
        .get(server.url("/s3:web/fit-in/64x64/rocket.jpg"))
        .send()
        .await
        .unwrap();
    let etag = header(&first, "etag").expect("an ETag from the origin's");
    let first = first.bytes().await.unwrap();
    let (status, _, second) = get(&server, "/s3:web/fit-in/64x64/rocket.jpg").await;
    assert_eq!(status, 200);
    assert_eq!(first, second);
    let seen = origin.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("if-none-match"), None);
    assert_eq!(seen[1].header("if-none-match"), Some("\"v1-18\""));
    assert_eq!(
        origin.body_bytes.load(std::sync::atomic::Ordering::SeqCst),
        size,
        "the 304 sent no body"
    );

    // The client's own revalidation: 304 from pixfront, after a 304 from the origin.
    let resp = client()
        .get(server.url("/s3:web/fit-in/64x64/rocket.jpg"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    assert_eq!(origin.seen().len(), 3);
    assert_eq!(origin.body_bytes.load(std::sync::atomic::Ordering::SeqCst), size);
}

#[tokio::test]
async fn last_modified_revalidates_with_if_modified_since() {
    const DATE: &str = "Tue, 24 Dec 2019 13:46:28 GMT";
    let origin = Origin::start("127.0.0.1:0", |seen: &Seen| {
        if seen.header("if-modified-since") == Some(DATE) {
            return Reply::status(304);
        }
        let body = std::fs::read(testdata().join("formats/rocket.jpg")).unwrap();
        Reply::body(
            200,
            &[("Last-Modified", DATE), ("Cache-Control", "max-age=600")],
            body,
        )
    })
    .await;
    let mut c = config(&origin.base());
    c.origin_http.cache_ttl = Duration::ZERO;
    let (_dir, server) = start(c).await;
    for _ in 0..2 {
        let resp = client()
            .get(server.url("/s3:web/fit-in/32x32/rocket.jpg"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        // SIH copies the original's Cache-Control and Last-Modified.
        assert_eq!(header(&resp, "cache-control").as_deref(), Some("max-age=600"));
        assert_eq!(header(&resp, "last-modified").as_deref(), Some(DATE));
    }
    let seen = origin.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("if-modified-since"), Some(DATE));
}

#[tokio::test]
async fn twenty_concurrent_requests_for_one_original_make_one_fetch() {
    // The origin takes its time, so all 20 requests arrive while the first fetch runs.
    let origin = Origin::start("127.0.0.1:0", |seen: &Seen| {
        Reply::Delayed(Duration::from_millis(400), Box::new(images(seen)))
    })
    .await;
    let (_dir, server) = start(config(&origin.base())).await;
    let server = Arc::new(server);
    let tasks: Vec<_> = (0..20u32)
        .map(|i| {
            let server = server.clone();
            tokio::spawn(async move {
                let size = 60 + i;
                let (status, _, body) =
                    get(&server, &format!("/s3:web/fit-in/{size}x{size}/rocket.jpg")).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                let (w, h) = dimensions(&body);
                assert_eq!(w.max(h), size);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(origin.seen().len(), 1, "one origin fetch for 20 renditions");
    assert_eq!(origin.connection_count(), 1);
}

#[tokio::test]
async fn without_a_cache_each_request_fetches_again() {
    let origin = Origin::start("127.0.0.1:0", images).await;
    let mut c = config(&origin.base());
    c.origin_http.cache_bytes = 0;
    let (_dir, server) = start(c).await;
    for _ in 0..2 {
        assert_eq!(get(&server, "/s3:web/fit-in/50x50/rocket.jpg").await.0, 200);
    }
    let seen = origin.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].header("if-none-match"),
        None,
        "nothing kept to revalidate"
    );
}

#[tokio::test]
async fn client_headers_never_reach_the_origin() {
    let origin = Origin::start("127.0.0.1:0", images).await;
    let (_dir, server) = start(config(&origin.base())).await;
    let resp = client()
        .get(server.url("/s3:web/fit-in/40x40/rocket.jpg"))
        .header("Cookie", "session=secret")
        .header("Authorization", "Bearer secret")
        .header("X-Forwarded-For", "10.0.0.1")
        .header("X-Api-Key", "secret")
        .header("Referer", "https://example.com/")
        .header("Range", "bytes=0-10")
        .header("Accept", "image/webp")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = &origin.seen()[0];
    let mut names: Vec<&str> = seen.headers.iter().map(|(k, _)| k.as_str()).collect();
    names.sort();
    assert_eq!(names, ["accept", "accept-encoding", "host", "user-agent"]);
    assert_eq!(seen.header("accept"), Some("image/*"));
    assert_eq!(seen.header("accept-encoding"), Some("identity"));
    assert!(seen.header("user-agent").unwrap().starts_with("pixfront/"));
}

#[tokio::test]
async fn origin_errors_map_like_s3s() {
    let origin = Origin::start("127.0.0.1:0", |seen: &Seen| match seen.path.as_str() {
        "/media/forbidden.jpg" => Reply::status(403),
        "/media/gone.jpg" => Reply::status(410),
        "/media/broken.jpg" => Reply::status(500),
        "/media/busy.jpg" => Reply::status(429),
        "/media/unasked.jpg" => Reply::status(304),
        "/media/page.jpg" => Reply::body(
            200,
            &[("Content-Type", "image/jpeg")],
            b"<html>soft 404</html>".to_vec(),
        ),
        "/media/moved.jpg" => Reply::redirect("/media/rocket.jpg"),
        _ => images(seen),
    })
    .await;
    let (_dir, server) = start(config(&origin.base())).await;
    for (key, status, code, cache) in [
        ("missing.jpg", 404, "NoSuchKey", "max-age=10"),
        ("forbidden.jpg", 404, "NoSuchKey", "max-age=10"),
        ("gone.jpg", 404, "NoSuchKey", "max-age=10"),
        ("broken.jpg", 503, "ImageRetrieval::Unavailable", "no-store"),
        ("busy.jpg", 503, "ImageRetrieval::Unavailable", "no-store"),
        ("unasked.jpg", 503, "ImageRetrieval::Unavailable", "no-store"),
        ("page.jpg", 400, "ImageOrigin::NotAnImage", "max-age=10"),
        ("moved.jpg", 502, "ImageOrigin::Redirected", "no-store"),
        ("../rocket.jpg", 404, "NoSuchKey", "max-age=10"),
    ] {
        let path = default_request(Some("web"), key, json!({}));
        let got = error_of(&server, &path).await;
        assert_eq!(got, (status, code.to_string(), Some(cache.to_string())), "{key}");
    }
    // SIH's message names the requested key.
    let resp = client()
        .get(server.url("/s3:web/missing.jpg"))
        .send()
        .await
        .unwrap();
    assert!(json(resp).await["message"]
        .as_str()
        .unwrap()
        .contains("The image missing.jpg does not exist"));

    // Redirects allowed: followed, and checked.
    let mut c = config(&origin.base());
    c.origin_http.max_redirects = 1;
    let (_dir2, follows) = start(c).await;
    assert_eq!(get(&follows, "/s3:web/moved.jpg").await.0, 200);
}

#[tokio::test]
async fn an_unreachable_origin_is_503_no_store_never_a_404() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let (_dir, server) = start(config(&base)).await;
    let (status, code, cache) = error_of(&server, "/s3:web/rocket.jpg").await;
    assert_eq!(
        (status, code.as_str(), cache.as_deref()),
        (503, "ImageRetrieval::Unavailable", Some("no-store"))
    );
    // The health check covers the object store, not the origins.
    assert_eq!(
        client()
            .get(server.url("/?health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
