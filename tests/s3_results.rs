//! Rendition storage (`RESULT_BUCKET`) against the in-process S3 server: a render is stored and
//! the next identical request is answered from the bucket (proved by deleting the original),
//! edits and negotiated formats get their own renditions, refused requests never reach the
//! bucket, errors are not stored, and a broken result bucket does not fail requests.

mod s3_common;

use pixfront::config::Config;
use pixfront::http::{Handler, HttpRequest, HttpResponse};
use pixfront::storage::result::S3Results;
use pixfront::storage::s3::S3Storage;
use s3_common::*;
use std::sync::Arc;

const RESULTS: &str = "renditions";

async fn handler(s3: &S3Server, config: Config) -> Handler {
    let sdk = s3.sdk(ACCESS_KEY, SECRET_KEY).await;
    let storage = S3Storage::from_sdk_config(&sdk, &config.s3, config.health_buckets());
    let results = S3Results::from_settings(storage.client().clone(), &config.results).unwrap();
    Handler::new(Arc::new(storage), config.clone()).with_results(Arc::new(results), &config.results)
}

fn results_config(bucket: &str) -> Config {
    let mut c = config();
    c.results.bucket = Some(bucket.into());
    c.results.prefix = "r/".into();
    c
}

async fn start() -> S3Server {
    let s3 = S3Server::start().await;
    std::fs::create_dir_all(s3.root.path().join(RESULTS)).unwrap();
    s3
}

/// The request, then the background write finished.
async fn get(h: &Handler, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut req = HttpRequest::get(path);
    req.headers = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let resp = h.handle(&req).await;
    h.settle().await;
    resp
}

/// Objects in the result bucket (s3s-fs keeps metadata outside the bucket folder).
fn stored(s3: &S3Server) -> Vec<String> {
    fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let base = s3.root.path().join(RESULTS);
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    out
}

fn timing(resp: &HttpResponse) -> &str {
    resp.header("Server-Timing").unwrap_or_default()
}

#[tokio::test]
async fn second_request_is_served_from_the_bucket_without_the_original() {
    let s3 = start().await;
    s3.put("rocket.jpg", fixture("formats/rocket.jpg")).await;
    let h = handler(&s3, results_config(RESULTS)).await;
    let url = "/fit-in/120x90/rocket.jpg";

    let first = get(&h, url, &[]).await;
    assert_eq!(first.status, 200);
    assert!(
        timing(&first).contains("result;desc=\"miss\""),
        "{}",
        timing(&first)
    );
    let keys = stored(&s3);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("r/") && keys[0].len() == 2 + 64, "{keys:?}");

    // Only the bucket can answer now.
    std::fs::remove_file(s3.root.path().join(BUCKET).join("rocket.jpg")).unwrap();
    let second = get(&h, url, &[]).await;
    assert_eq!(second.status, 200, "{}", String::from_utf8_lossy(&second.body));
    assert!(
        timing(&second).contains("result;desc=\"hit\""),
        "{}",
        timing(&second)
    );
    assert_eq!(second.body, first.body);
    for name in ["ETag", "Content-Type", "Cache-Control", "Last-Modified"] {
        assert_eq!(second.header(name), first.header(name), "{name}");
    }
    let img = image::load_from_memory(&second.body).unwrap();
    assert!(img.width() <= 120 && img.height() <= 90);

    let etag = first.header("ETag").unwrap();
    let revalidated = get(&h, url, &[("If-None-Match", etag)]).await;
    assert_eq!(revalidated.status, 304);
    assert!(revalidated.body.is_empty());
    assert_eq!(revalidated.header("ETag"), Some(etag));

    // Another edit of the deleted original is not in the bucket: 404.
    assert_eq!(get(&h, "/fit-in/60x60/rocket.jpg", &[]).await.status, 404);
}

#[tokio::test]
async fn edits_and_negotiated_formats_get_their_own_renditions() {
    let s3 = start().await;
    s3.put("rocket.jpg", fixture("formats/rocket.jpg")).await;
    let mut c = results_config(RESULTS);
    c.request.auto_webp = true;
    let h = handler(&s3, c).await;
    let plain = get(&h, "/fit-in/80x80/rocket.jpg", &[]).await;
    let webp = get(&h, "/fit-in/80x80/rocket.jpg", &[("Accept", "image/webp,*/*")]).await;
    let gray = get(&h, "/fit-in/80x80/filters:grayscale()/rocket.jpg", &[]).await;
    let png = get(&h, "/fit-in/80x80/filters:format(png)/rocket.jpg", &[]).await;
    assert_eq!(stored(&s3).len(), 4, "{:?}", stored(&s3));
    assert_eq!(plain.header("Content-Type"), Some("image/jpeg"));
    assert_eq!(webp.header("Content-Type"), Some("image/webp"));
    assert_eq!(png.header("Content-Type"), Some("image/png"));

    // Hits keep the variant apart, Vary included.
    let webp_hit = get(&h, "/fit-in/80x80/rocket.jpg", &[("Accept", "image/webp")]).await;
    assert!(timing(&webp_hit).contains("\"hit\""));
    assert_eq!(webp_hit.header("Content-Type"), Some("image/webp"));
    assert_eq!(webp_hit.header("Vary"), Some("Accept"));
    assert_eq!(webp_hit.body, webp.body);
    let plain_hit = get(&h, "/fit-in/80x80/rocket.jpg", &[]).await;
    assert!(timing(&plain_hit).contains("\"hit\""));
    assert_eq!(plain_hit.body, plain.body);
    let gray_hit = get(&h, "/fit-in/80x80/filters:grayscale()/rocket.jpg", &[]).await;
    assert_eq!(gray_hit.body, gray.body);
    assert_ne!(gray.body, plain.body);
    assert_eq!(stored(&s3).len(), 4);
}

#[tokio::test]
async fn refused_requests_never_reach_the_bucket_and_errors_are_not_stored() {
    let s3 = start().await;
    s3.put("rocket.jpg", fixture("formats/rocket.jpg")).await;
    s3.put("broken.jpg", b"\xFF\xD8\xFF\xE0 not a jpeg at all".to_vec())
        .await;
    let mut c = results_config(RESULTS);
    c.request.enable_signature = true;
    c.secrets.signature_secret = Some("secret".into());
    let h = handler(&s3, c).await;
    let before = s3.total_calls();
    let resp = get(&h, "/fit-in/80x80/rocket.jpg?signature=0000", &[]).await;
    assert_eq!(resp.status, 403, "{}", String::from_utf8_lossy(&resp.body));
    let resp = get(&h, "/fit-in/80x80/rocket.jpg", &[]).await;
    assert_eq!(resp.status, 400, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(s3.total_calls(), before, "no GetObject, in either bucket");

    let h = handler(&s3, results_config(RESULTS)).await;
    assert_eq!(get(&h, "/nope.jpg", &[]).await.status, 404);
    let broken = get(&h, "/fit-in/10x10/broken.jpg", &[]).await;
    assert!(broken.status >= 400, "{}", broken.status);
    assert!(stored(&s3).is_empty(), "{:?}", stored(&s3));
}

#[tokio::test]
async fn a_broken_result_bucket_does_not_fail_requests() {
    let s3 = start().await;
    s3.put("rocket.jpg", fixture("formats/rocket.jpg")).await;
    // The bucket's folder is a file: every lookup and write fails.
    std::fs::write(s3.root.path().join("blocked"), b"").unwrap();
    let h = handler(&s3, results_config("blocked")).await;
    for _ in 0..2 {
        let resp = get(&h, "/fit-in/50x50/rocket.jpg", &[]).await;
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        assert!(!timing(&resp).contains("\"hit\""));
    }
}

#[tokio::test]
async fn a_forced_blur_never_gets_the_unblurred_rendition() {
    for keys in ["hash", "path"] {
        let s3 = start().await;
        s3.put("obama.jpg", fixture("faces/obama.jpg")).await;
        let mut plain = results_config(RESULTS);
        plain.results.keys = style(keys);
        let url = "/fit-in/200x200/obama.jpg";
        let open = get(&handler(&s3, plain.clone()).await, url, &[]).await;
        assert_eq!(open.status, 200);
        assert_eq!(stored(&s3).len(), 1, "{keys}");

        // The same URL once the bucket is under FORCE_BLUR_FACES.
        let mut forced = plain;
        forced.faces.force_blur_faces = pixfront::faces::policy::parse(BUCKET);
        let h = handler(&s3, forced).await;
        let blurred = get(&h, url, &[]).await;
        assert_eq!(
            blurred.status,
            200,
            "{keys}: {}",
            String::from_utf8_lossy(&blurred.body)
        );
        assert!(
            timing(&blurred).contains("result;desc=\"miss\""),
            "{keys}: {}",
            timing(&blurred)
        );
        assert!(
            timing(&blurred).contains("faces;dur="),
            "{keys}: {}",
            timing(&blurred)
        );
        assert_ne!(blurred.body, open.body, "{keys}");
        let again = get(&h, url, &[]).await;
        assert!(timing(&again).contains("\"hit\""), "{keys}: {}", timing(&again));
        assert_eq!(again.body, blurred.body, "{keys}");
    }
}

fn style(name: &str) -> pixfront::storage::result::KeyStyle {
    use pixfront::storage::result::KeyStyle;
    match name {
        "path" => KeyStyle::Path,
        _ => KeyStyle::Hash,
    }
}

#[tokio::test]
async fn path_keys_store_only_what_the_path_names() {
    let s3 = start().await;
    s3.put("rocket.jpg", fixture("formats/rocket.jpg")).await;
    let mut c = results_config(RESULTS);
    c.results.keys = style("path");
    c.request.auto_webp = true;
    let h = handler(&s3, c).await;
    let explicit = "/fit-in/80x80/filters:format(png)/rocket.jpg";
    assert_eq!(get(&h, explicit, &[]).await.status, 200);
    assert_eq!(
        stored(&s3),
        vec!["r/fit-in/80x80/filters:format(png)/rocket.jpg".to_string()]
    );
    // Accept decides the format, a query string, a percent-escape: none is stored under a path.
    for url in [
        "/fit-in/80x80/rocket.jpg",
        "/rocket.jpg?width=40&format=png",
        "/fit-in/80x80/filters:format(png)/rocket%2Ejpg",
    ] {
        let resp = get(&h, url, &[]).await;
        assert_eq!(resp.status, 200, "{url}");
        assert!(!timing(&resp).contains("result;"), "{url}: {}", timing(&resp));
    }
    assert_eq!(stored(&s3).len(), 1, "{:?}", stored(&s3));
    let hit = get(&h, explicit, &[]).await;
    assert!(timing(&hit).contains("\"hit\""), "{}", timing(&hit));
    assert_eq!(hit.header("Content-Type"), Some("image/png"));
}
