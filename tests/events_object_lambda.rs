//! S3 Object Lambda end to end: the real `pixfront` binary in `PIXFRONT_LAMBDA_MODE=events` under a
//! local Runtime API, given a real GetObject event (tests/data/events/object_lambda_get.json). A
//! local HTTP server stands in for both S3 endpoints: the presigned `inputS3Url` and the
//! `WriteGetObjectResponse` API. The SDK puts `{outputRoute}.` in front of the endpoint's host,
//! which no local name resolves, so the function reaches the stand-in through `HTTP_PROXY` (the
//! SDK and the HTTP client both honour it) and the stand-in checks the host it was asked for.

mod shared_data;
use shared_data::testdata;

#[path = "lambda_common/mod.rs"]
mod lambda_common;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use lambda_common::{Bootstrap, RuntimeApi};
use pixfront::config::Config;
use pixfront::edits::Edits;
use pixfront::faces::{FaceJob, FaceService};
use pixfront::pipeline::{self, Resources};
use pixfront::request::ImageRequest;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

const ROUTE: &str = "io-use1-001";
const TOKEN: &str = "OutputTokenExampleQwErTy0123456789";

/// What arrived at WriteGetObjectResponse.
#[derive(Debug)]
struct Written {
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Written {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct StandIn {
    originals: HashMap<String, Vec<u8>>,
    written: mpsc::UnboundedSender<Written>,
}

async fn original(
    State(s): State<Arc<StandIn>>,
    Path(key): Path<String>,
    uri: Uri,
) -> axum::response::Response {
    assert!(
        uri.query().unwrap_or("").contains("X-Amz-Signature="),
        "the presigned URL is used as given"
    );
    match s.originals.get(&key) {
        Some(bytes) => (
            [("content-type", "image/jpeg"), ("etag", "\"0123abcd\""), ("cache-control", "max-age=600")],
            bytes.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [("content-type", "application/xml")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
        )
            .into_response(),
    }
}

async fn write_get_object_response(
    State(s): State<Arc<StandIn>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let _ = s.written.send(Written {
        uri: uri.to_string(),
        headers,
        body,
    });
    StatusCode::OK
}

struct Setup {
    api: RuntimeApi,
    _fn: Bootstrap,
    base: String,
    written: Mutex<mpsc::UnboundedReceiver<Written>>,
}

async fn start(policy: Option<&str>) -> Setup {
    let mut originals = HashMap::new();
    originals.insert(
        "team/offsite.jpg".to_string(),
        std::fs::read(testdata().join("faces/obama.jpg")).unwrap(),
    );
    originals.insert("notes/readme.jpg".to_string(), b"not an image at all".to_vec());
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Arc::new(StandIn {
        originals,
        written: tx,
    });
    let app = Router::new()
        .route("/WriteGetObjectResponse", post(write_get_object_response))
        .route("/{*key}", get(original))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let api = RuntimeApi::start().await;
    let mut cmd = lambda_common::lambda_command(&api);
    cmd.env("PIXFRONT_LAMBDA_MODE", "events")
        // Deployed like the CDK does: no PIXFRONT_ROOT, no SOURCE_BUCKETS, S3 through the SDK.
        .env("AWS_ENDPOINT_URL_S3", "http://s3-object-lambda.test")
        .env("HTTP_PROXY", format!("http://{addr}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAPIXFRONTTEST")
        .env("AWS_SECRET_ACCESS_KEY", "pixfront-test-secret-key");
    if let Some(p) = policy {
        cmd.env("PIXFRONT_OBJECT_LAMBDA_EDITS", p);
    }
    Setup {
        api,
        _fn: Bootstrap::spawn(cmd),
        base: format!("http://127.0.0.1:{}", addr.port()),
        written: Mutex::new(rx),
    }
}

impl Setup {
    /// Sends the GetObject event for `key` with the caller's `query`; returns what the function
    /// wrote back and its own answer.
    async fn get(&mut self, key: &str, query: &str) -> (Written, Value) {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/events/object_lambda_get.json");
        let mut e: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let presigned = e["getObjectContext"]["inputS3Url"].as_str().unwrap().to_string();
        let (_, signature) = presigned.split_once('?').unwrap();
        e["getObjectContext"]["inputS3Url"] = json!(format!("{}/{key}?{signature}", self.base));
        let mut url =
            format!("https://pixfront-olap-123456789012.s3-object-lambda.us-east-1.amazonaws.com/{key}");
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        e["userRequest"]["url"] = json!(url);
        let posted = self.api.invoke(e).await;
        assert_eq!(
            posted.kind,
            "response",
            "{}",
            String::from_utf8_lossy(&posted.body)
        );
        let written = tokio::time::timeout(Duration::from_secs(60), self.written.lock().await.recv())
            .await
            .expect("WriteGetObjectResponse within 60 s")
            .unwrap();
        (written, serde_json::from_slice(&posted.body).unwrap())
    }
}

/// What the engine renders for `edits` (JSON) on the same original, in this process.
fn engine(edits: Value) -> Vec<u8> {
    let config = Config::default();
    let (edits, _) = Edits::from_json(edits.as_object().unwrap()).unwrap();
    let original: bytes::Bytes = std::fs::read(testdata().join("faces/obama.jpg")).unwrap().into();
    let resources = Resources {
        faces: Some(FaceJob::new(
            Arc::new(FaceService::from_config(&config.faces)),
            None,
        )),
        ..Resources::default()
    };
    let req = ImageRequest::new("", "team/offsite.jpg", edits);
    pipeline::process(&req, &original, Some("image/jpeg"), &resources, &config.pipeline)
        .unwrap()
        .bytes
        .to_vec()
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("a decodable image");
    (img.width(), img.height())
}

#[tokio::test]
async fn every_get_is_blurred_by_the_policy_and_query_edits_come_on_top() {
    let mut t = start(Some(r#"{"blurFaces": true}"#)).await;
    let (w, answer) = t.get("team/offsite.jpg", "").await;
    assert_eq!(answer, json!({"statusCode": 200}));
    // The SDK's request, as S3 Object Lambda would receive it.
    assert_eq!(
        w.header("host"),
        Some(format!("{ROUTE}.s3-object-lambda.test").as_str()),
        "{}",
        w.uri
    );
    assert_eq!(w.header("x-amz-request-route"), Some(ROUTE));
    assert_eq!(w.header("x-amz-request-token"), Some(TOKEN));
    assert_eq!(w.header("x-amz-fwd-status"), Some("200"));
    assert_eq!(w.header("x-amz-fwd-header-content-type"), Some("image/jpeg"));
    assert_eq!(w.header("x-amz-fwd-header-cache-control"), Some("max-age=600"));
    assert!(w
        .header("authorization")
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256 "));
    // The blurred image: byte for byte what the engine gives with blurFaces, not the original.
    let blurred = engine(json!({"blurFaces": true}));
    assert_eq!(w.body.as_ref(), blurred.as_slice());
    assert_ne!(w.body.as_ref(), engine(json!({"jpeg": {}})).as_slice());

    // The caller's query edits come on top; `blurFaces=false` cannot lift the policy.
    let (w, _) = t
        .get("team/offsite.jpg", "width=200&format=webp&blurFaces=false")
        .await;
    assert_eq!(w.header("x-amz-fwd-header-content-type"), Some("image/webp"));
    assert_eq!(dimensions(&w.body).0, 200);
    let expected = engine(json!({"blurFaces": true, "resize": {"width": 200}, "toFormat": "webp"}));
    assert_eq!(w.body.as_ref(), expected.as_slice());
}

#[tokio::test]
async fn errors_come_back_as_s3_error_codes() {
    let mut t = start(Some(r#"{"blurFaces": true}"#)).await;
    let (w, answer) = t.get("team/missing.jpg", "").await;
    assert_eq!(answer, json!({"statusCode": 404}));
    assert_eq!(w.header("x-amz-fwd-status"), Some("404"));
    assert_eq!(w.header("x-amz-fwd-error-code"), Some("NoSuchKey"));
    assert!(w.body.is_empty());

    // Not an image, while the policy asks for a blur: refused, never passed through.
    let (w, _) = t.get("notes/readme.jpg", "").await;
    assert_eq!(w.header("x-amz-fwd-status"), Some("400"));
    assert_eq!(w.header("x-amz-fwd-error-code"), Some("InvalidRequest"));
    assert!(w
        .header("x-amz-fwd-error-message")
        .unwrap()
        .contains("UnsupportedInputFormat"));

    let (w, _) = t.get("team/offsite.jpg", "width=abc").await;
    assert_eq!(w.header("x-amz-fwd-status"), Some("400"));
    assert!(w
        .header("x-amz-fwd-error-message")
        .unwrap()
        .contains("QueryParameterParsingError"));
}

#[tokio::test]
async fn without_edits_objects_pass_through_unchanged() {
    let mut t = start(None).await;
    let (w, _) = t.get("notes/readme.jpg", "").await;
    assert_eq!(w.header("x-amz-fwd-status"), Some("200"));
    assert_eq!(w.body.as_ref(), b"not an image at all");
    let (w, _) = t.get("team/offsite.jpg", "width=100").await;
    assert_eq!(dimensions(&w.body).0, 100);
}
