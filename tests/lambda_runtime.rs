//! The real `pixfront` binary as a Lambda `bootstrap` under a local Runtime API (a small axum
//! server on 127.0.0.1, `lambda_common/`): API Gateway REST (v1), HTTP API (v2), ALB and Function URL
//! events in buffered mode; Function URL events in streaming mode (metadata prelude, 8 NUL bytes,
//! raw bytes); the 6 MB limit (1 MB for ALB); originals from an S3-protocol server (s3s, SigV4)
//! when `PIXFRONT_ROOT` is unset, or from an HTTP origin (`ORIGINS`); init errors.

mod shared_data;
use shared_data::{noise_png, testdata};

use base64::Engine;
use pixfront::config::Config;
use pixfront::request::{self, RequestInput, StaticSecret};
use pixfront::storage::{fs::FsStorage, Storage};
use serde_json::{json, Value};
use std::path::PathBuf;

#[path = "s3_common/mod.rs"]
mod s3_common;

#[path = "lambda_common/mod.rs"]
mod lambda_common;

#[path = "origin_support/mod.rs"]
mod origin_support;
use lambda_common::{Bootstrap, Posted, RuntimeApi};

const BUCKET: &str = "test-bucket";
/// A noise PNG no encoder can shrink: 2800 x 2600 RGB, about 21.8 MB whether passed through or
/// re-encoded, well over both 20 MB and the 6 MB buffered limit.
const BIG: (u32, u32) = (2800, 2600);
/// 640 x 640 noise: about 1.2 MB, 1.6 MB in base64.
const MEDIUM: (u32, u32) = (640, 640);

fn bootstrap(api: &RuntimeApi, root: &std::path::Path, env: &[(&str, &str)]) -> Bootstrap {
    let mut cmd = lambda_common::lambda_command(api);
    cmd.env("PIXFRONT_ROOT", root).env("SOURCE_BUCKETS", BUCKET);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Bootstrap::spawn(cmd)
}

/// `root/test-bucket/{rocket.jpg, people/obama.jpg, noise.png, medium.png}`.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join(BUCKET);
    std::fs::create_dir_all(bucket.join("people")).unwrap();
    let td = testdata();
    std::fs::copy(td.join("formats/rocket.jpg"), bucket.join("rocket.jpg")).unwrap();
    std::fs::copy(td.join("faces/obama.jpg"), bucket.join("people/obama.jpg")).unwrap();
    std::fs::write(bucket.join("noise.png"), noise_png(BIG.0, BIG.1)).unwrap();
    std::fs::write(bucket.join("medium.png"), noise_png(MEDIUM.0, MEDIUM.1)).unwrap();
    dir
}

/// An event of the given shape for `url` (path and optional query, as a browser sends them).
fn event(shape: &str, url: &str) -> Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/lambda/{shape}.json"));
    let mut e: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    match shape {
        "rest_v1" | "alb" => {
            e["path"] = json!(path);
            let mut single = serde_json::Map::new();
            let mut multi = serde_json::Map::new();
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                // API Gateway decodes the parameters it passes; ALB passes them as sent.
                let (k, v) = if shape == "rest_v1" {
                    let dec = |s: &str| {
                        percent_encoding::percent_decode_str(s)
                            .decode_utf8()
                            .unwrap()
                            .into_owned()
                    };
                    (dec(k), dec(v))
                } else {
                    (k.to_string(), v.to_string())
                };
                single.insert(k.clone(), json!(v));
                multi
                    .entry(k)
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .unwrap()
                    .push(json!(v));
            }
            e["queryStringParameters"] = Value::Object(single);
            if shape == "rest_v1" {
                e["multiValueQueryStringParameters"] = Value::Object(multi);
                e["pathParameters"]["proxy"] = json!(path.trim_start_matches('/'));
                e["requestContext"]["path"] = json!(format!("/image{path}"));
            }
        }
        _ => {
            e["rawPath"] = json!(path);
            e["rawQueryString"] = json!(query);
            e["requestContext"]["http"]["path"] = json!(path);
        }
    }
    e
}

/// A buffered answer as API Gateway / ALB reads it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    base64: bool,
    body: Vec<u8>,
    raw: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

fn buffered(posted: &Posted) -> Answer {
    assert_eq!(
        posted.kind,
        "response",
        "{}",
        String::from_utf8_lossy(&posted.body)
    );
    assert!(
        posted
            .headers
            .get("lambda-runtime-function-response-mode")
            .is_none(),
        "buffered answers are not streamed"
    );
    let raw: Value = serde_json::from_slice(&posted.body).expect("a JSON response object");
    let mut headers = Vec::new();
    for (k, v) in raw["headers"].as_object().into_iter().flatten() {
        headers.push((k.clone(), v.as_str().unwrap().to_string()));
    }
    for (k, vs) in raw["multiValueHeaders"].as_object().into_iter().flatten() {
        for v in vs.as_array().unwrap() {
            if !headers
                .iter()
                .any(|(hk, hv)| hk == k && hv == v.as_str().unwrap())
            {
                headers.push((k.clone(), v.as_str().unwrap().to_string()));
            }
        }
    }
    let base64 = raw["isBase64Encoded"].as_bool().unwrap_or(false);
    let text = raw["body"].as_str().unwrap_or("");
    let body = if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("valid base64")
    } else {
        text.as_bytes().to_vec()
    };
    Answer {
        status: raw["statusCode"].as_u64().unwrap() as u16,
        headers,
        base64,
        body,
        raw,
    }
}

/// A streamed answer: JSON prelude (status, headers), eight NUL bytes, then the body as is.
fn streamed(posted: &Posted) -> Answer {
    assert_eq!(posted.kind, "response");
    let h = |n: &str| posted.headers.get(n).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        h("lambda-runtime-function-response-mode").as_deref(),
        Some("streaming")
    );
    assert_eq!(h("transfer-encoding").as_deref(), Some("chunked"));
    assert_eq!(
        h("content-type").as_deref(),
        Some("application/vnd.awslambda.http-integration-response")
    );
    let sep = posted
        .body
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("the prelude separator");
    let prelude: Value = serde_json::from_slice(&posted.body[..sep]).expect("a JSON prelude first");
    let headers = prelude["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    Answer {
        status: prelude["statusCode"].as_u64().unwrap() as u16,
        headers,
        base64: false,
        body: posted.body[sep + 8..].to_vec(),
        raw: prelude,
    }
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("body is a decodable image");
    (img.width(), img.height())
}

/// The engine's own rendering of `url` (no Lambda involved): dimensions and content type.
async fn engine(root: &std::path::Path, url: &str) -> ((u32, u32), String) {
    let config = {
        let mut c = Config::default();
        c.request.source_buckets = Some(BUCKET.into());
        c
    };
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let input = RequestInput {
        path,
        query,
        accept: None,
        ..Default::default()
    };
    let req = request::parse(&input, &config.request, &StaticSecret(None)).unwrap();
    let obj = FsStorage::new(root).get(&req.bucket, &req.key).await.unwrap();
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

fn urls() -> Vec<String> {
    let default = json!({
        "bucket": BUCKET, "key": "people/obama.jpg",
        "edits": {"resize": {"width": 120, "height": 120, "fit": "cover"}, "grayscale": true}
    });
    let b64 = base64::engine::general_purpose::STANDARD.encode(default.to_string());
    vec![
        "/fit-in/128x128/filters:format(webp)/rocket.jpg".to_string(),
        format!("/{b64}"),
        "/rocket.jpg?width=100&format=png".to_string(),
    ]
}

#[tokio::test]
async fn every_event_shape_serves_every_dialect_buffered() {
    let dir = fixture();
    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &[]);
    for shape in ["rest_v1", "http_v2", "alb", "function_url"] {
        for url in urls() {
            let a = buffered(&api.invoke(event(shape, &url)).await);
            assert_eq!(a.status, 200, "{shape} {url}: {:?}", a.raw);
            assert!(a.base64, "{shape} {url}: images are base64-encoded");
            let (dims, ct) = engine(dir.path(), &url).await;
            assert_eq!(a.header("content-type"), Some(ct.as_str()), "{shape} {url}");
            assert_eq!(dimensions(&a.body), dims, "{shape} {url}");
            assert_eq!(a.header("cache-control"), Some("max-age=31536000,public"));
            assert_eq!(a.header("access-control-allow-methods"), Some("GET"));
            // SIH: every answer but ALB's carries the credentials header (§4.1).
            let credentials = a.header("access-control-allow-credentials");
            if shape == "alb" {
                assert_eq!(credentials, None, "{url}");
                assert_eq!(a.raw["statusDescription"], "200 OK");
            } else {
                assert_eq!(credentials, Some("true"), "{shape} {url}");
            }
        }
    }
}

#[tokio::test]
async fn errors_are_json_text_not_base64() {
    let dir = fixture();
    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &[]);
    for shape in ["rest_v1", "http_v2", "alb", "function_url"] {
        let a = buffered(&api.invoke(event(shape, "/fit-in/10x10/missing.jpg")).await);
        assert_eq!(a.status, 404, "{shape}");
        assert!(!a.base64, "{shape}: SIH sends error bodies as text");
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(a.json()["code"], "NoSuchKey");

        let a = buffered(&api.invoke(event(shape, "/rocket.jpg?width=abc")).await);
        assert_eq!(a.status, 400, "{shape}: {:?}", a.raw);
        assert!(!a.base64);
        assert_eq!(a.json()["code"], "QueryParameterParsingError");
    }
}

#[tokio::test]
async fn stage_and_encoded_paths_reach_the_handler_as_sih_sees_them() {
    let dir = fixture();
    std::fs::copy(
        testdata().join("sih/1x1.jpg"),
        dir.path().join(BUCKET).join("a b+c.jpg"),
    )
    .unwrap();
    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &[]);

    // HTTP API with a named stage: rawPath starts with it; the key does not.
    let mut e = event("http_v2", "/prod/fit-in/64x64/rocket.jpg");
    e["requestContext"]["stage"] = json!("prod");
    let a = buffered(&api.invoke(e).await);
    assert_eq!(a.status, 200, "{:?}", a.raw);
    assert_eq!(
        dimensions(&a.body),
        engine(dir.path(), "/fit-in/64x64/rocket.jpg").await.0
    );

    // REST API: `path` never has the stage (it is in requestContext.path), so nothing is removed
    // even when the first folder is named like the stage.
    let a = buffered(&api.invoke(event("rest_v1", "/image/rocket.jpg")).await);
    assert_eq!(a.status, 404, "{:?}", a.raw);
    assert!(a.json()["message"].as_str().unwrap().contains("image/rocket.jpg"));

    // Thumbor keys are percent-decoded once, from the path as received.
    for shape in ["rest_v1", "http_v2", "alb", "function_url"] {
        let a = buffered(&api.invoke(event(shape, "/a%20b%2Bc.jpg")).await);
        assert_eq!(a.status, 200, "{shape}: {:?}", a.raw);
        assert_eq!(dimensions(&a.body), (1, 1));
    }

    // Query values arrive decoded in v1 events and are re-escaped for the handler.
    let a = buffered(
        &api.invoke(event("rest_v1", "/rocket.jpg?width=50&format=jpeg"))
            .await,
    );
    assert_eq!(a.status, 200, "{:?}", a.raw);
    assert_eq!(
        dimensions(&a.body),
        engine(dir.path(), "/rocket.jpg?width=50&format=jpeg").await.0
    );
}

#[tokio::test]
async fn head_and_options_through_lambda() {
    let dir = fixture();
    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(
        &api,
        dir.path(),
        &[("CORS_ENABLED", "Yes"), ("CORS_ORIGIN", "https://example.com")],
    );
    let mut e = event("http_v2", "/fit-in/64x64/rocket.jpg");
    e["requestContext"]["http"]["method"] = json!("HEAD");
    let a = buffered(&api.invoke(e).await);
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty());
    assert!(a.header("content-length").unwrap().parse::<usize>().unwrap() > 0);
    assert_eq!(
        a.header("access-control-allow-origin"),
        Some("https://example.com")
    );

    let mut e = event("rest_v1", "/fit-in/64x64/rocket.jpg");
    e["httpMethod"] = json!("OPTIONS");
    let a = buffered(&api.invoke(e).await);
    assert_eq!(a.status, 204);
    assert_eq!(
        a.header("access-control-allow-origin"),
        Some("https://example.com")
    );
}

#[tokio::test]
async fn big_output_is_413_buffered_and_streams_whole() {
    let dir = fixture();
    let url = "/noise.png";

    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &[]);
    let a = buffered(&api.invoke(event("function_url", url)).await);
    assert_eq!(a.status, 413, "{:?}", a.header("content-type"));
    assert!(!a.base64);
    assert_eq!(
        a.json(),
        json!({"status": 413, "code": "TooLargeImageException",
               "message": "The converted image is too large to return."})
    );
    assert_eq!(a.header("cache-control"), Some("max-age=10"));
    // An ALB takes 1 MB at most; a 1.2 MB original is over it there, and fine elsewhere.
    let a = buffered(&api.invoke(event("alb", "/medium.png")).await);
    assert_eq!(a.status, 413);
    assert_eq!(a.json()["code"], "TooLargeImageException");
    let a = buffered(&api.invoke(event("rest_v1", "/medium.png")).await);
    assert_eq!(a.status, 200);
    assert_eq!(dimensions(&a.body), MEDIUM);

    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &[("PIXFRONT_LAMBDA_MODE", "streaming")]);
    let posted = api.invoke(event("function_url", url)).await;
    let a = streamed(&posted);
    assert_eq!(a.status, 200);
    assert!(a.body.len() >= 20_000_000, "streamed {} bytes", a.body.len());
    assert_eq!(a.header("content-type"), Some("image/png"));
    assert_eq!(dimensions(&a.body), BIG);
    println!("streamed a {} byte PNG through the Runtime API", a.body.len());
}

#[tokio::test]
async fn streaming_mode_answers_every_shape_with_a_prelude() {
    let dir = fixture();
    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &[("PIXFRONT_LAMBDA_MODE", "streaming")]);
    for shape in ["function_url", "rest_v1"] {
        for url in urls() {
            let a = streamed(&api.invoke(event(shape, &url)).await);
            assert_eq!(a.status, 200, "{shape} {url}");
            let (dims, ct) = engine(dir.path(), &url).await;
            assert_eq!(a.header("content-type"), Some(ct.as_str()));
            assert_eq!(dimensions(&a.body), dims, "{shape} {url}");
            assert_eq!(a.header("cache-control"), Some("max-age=31536000,public"));
        }
        let a = streamed(&api.invoke(event(shape, "/missing.jpg")).await);
        assert_eq!(a.status, 404);
        let body: Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(body["code"], "NoSuchKey");
    }
}

#[tokio::test]
async fn bad_configuration_is_an_init_error() {
    let dir = fixture();
    let mut api = RuntimeApi::start().await;
    let mut f = bootstrap(&api, dir.path(), &[("PIXFRONT_LAMBDA_MODE", "sideways")]);
    let posted = api.wait().await;
    assert_eq!(posted.kind, "init/error");
    assert_eq!(
        posted.headers.get("lambda-runtime-function-error-type").unwrap(),
        "Runtime.InitError"
    );
    let body: Value = serde_json::from_slice(&posted.body).unwrap();
    assert!(body["errorMessage"]
        .as_str()
        .unwrap()
        .contains("PIXFRONT_LAMBDA_MODE"));
    // The process has reported and exits on its own.
    assert!(!f.0.wait().unwrap().success());
}

/// The origin settings of `pixfront serve` work on Lambda: the bucket name is an HTTP origin
/// (ORIGINS), which every dialect renders from as the engine does from the folder; origin settings
/// that cannot work are an init error.
#[tokio::test]
async fn bootstrap_reads_originals_from_an_http_origin() {
    let dir = fixture();
    let bucket = dir.path().join(BUCKET);
    let origin =
        origin_support::Origin::start(
            "127.0.0.1:0",
            move |seen: &origin_support::Seen| match std::fs::read(
                bucket.join(seen.path.trim_start_matches('/')),
            ) {
                Ok(body) => origin_support::Reply::body(200, &[], body),
                Err(_) => origin_support::Reply::status(404),
            },
        )
        .await;
    let mut api = RuntimeApi::start().await;
    let origins = format!("{BUCKET}={}", origin.base());
    let env = [
        ("ORIGINS", origins.as_str()),
        ("ORIGIN_ALLOW_HTTP", "Yes"),
        ("ORIGIN_ALLOW_NETWORKS", "127.0.0.1/32"),
    ];
    // An empty folder: whatever renders came from the origin.
    let empty = tempfile::tempdir().unwrap();
    let _fn = bootstrap(&api, empty.path(), &env);
    for url in urls() {
        let a = buffered(&api.invoke(event("rest_v1", &url)).await);
        assert_eq!(a.status, 200, "{url}: {:?}", a.raw);
        let (dims, ct) = engine(dir.path(), &url).await;
        assert_eq!(a.header("content-type"), Some(ct.as_str()), "{url}");
        assert_eq!(dimensions(&a.body), dims, "{url}");
    }
    let mut paths: Vec<String> = origin.seen().into_iter().map(|s| s.path).collect();
    paths.sort();
    assert_eq!(paths, ["/people/obama.jpg", "/rocket.jpg"]);

    let mut api = RuntimeApi::start().await;
    let mut f = bootstrap(
        &api,
        empty.path(),
        &[("ORIGINS", "web=https://images.example.com/")],
    );
    let posted = api.wait().await;
    assert_eq!(posted.kind, "init/error");
    let body: Value = serde_json::from_slice(&posted.body).unwrap();
    assert!(
        body["errorMessage"].as_str().unwrap().contains("ORIGINS: web"),
        "{body}"
    );
    assert!(!f.0.wait().unwrap().success());
}

/// Without `PIXFRONT_ROOT` the bootstrap reads S3 through the standard AWS chain: credentials and
/// region from the environment, endpoint from `AWS_ENDPOINT_URL_S3`, path-style by
/// `S3_FORCE_PATH_STYLE`. Wrong credentials must not become a 200 or a cacheable 404.
#[tokio::test]
async fn bootstrap_reads_originals_from_s3() {
    let s3 = s3_common::S3Server::start().await;
    s3.put("people/obama.jpg", s3_common::fixture("faces/obama.jpg"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let env = |secret: &'static str| {
        vec![
            ("PIXFRONT_ROOT", ""),
            ("SOURCE_BUCKETS", s3_common::BUCKET),
            ("AWS_ENDPOINT_URL_S3", s3.endpoint.as_str()),
            ("S3_FORCE_PATH_STYLE", "Yes"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", s3_common::ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_MAX_ATTEMPTS", "2"),
        ]
    };

    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &env(s3_common::SECRET_KEY));
    for shape in ["rest_v1", "http_v2", "alb", "function_url"] {
        let a = buffered(&api.invoke(event(shape, "/fit-in/200x200/people/obama.jpg")).await);
        assert_eq!(a.status, 200, "{shape}: {:?}", a.raw);
        assert_eq!(a.header("content-type"), Some("image/jpeg"));
        let (w, h) = dimensions(&a.body);
        assert!(w <= 200 && h <= 200 && (w == 200 || h == 200), "{shape}: {w}x{h}");
        let a = buffered(&api.invoke(event(shape, "/people/nobody.jpg")).await);
        assert_eq!(a.status, 404, "{shape}");
        assert_eq!(a.json()["code"], "NoSuchKey");
    }

    let mut api = RuntimeApi::start().await;
    let _fn = bootstrap(&api, dir.path(), &env("not-the-secret"));
    let a = buffered(&api.invoke(event("rest_v1", "/people/obama.jpg")).await);
    assert!(
        a.status >= 500,
        "wrong credentials gave {}: {:?}",
        a.status,
        a.raw
    );
    assert_eq!(a.header("cache-control"), Some("no-store"));
}
