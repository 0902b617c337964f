//! The real bootstrap under the local Runtime API prints one CloudWatch Embedded Metric Format
//! line per invocation on stdout, and its numbers are the invocation's: status class, error
//! code, body bytes, one `total` latency sample; in events mode, the upload records by outcome
//! and the S3 calls.

mod shared_data;
use shared_data::{noise_png, testdata};

#[path = "lambda_common/mod.rs"]
mod lambda_common;
use lambda_common::{Bootstrap, RuntimeApi};
#[path = "s3_common/mod.rs"]
mod s3_common;

use base64::Engine;
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

/// An HTTP API (v2) event for `path`.
fn event(path: &str) -> Value {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lambda/http_v2.json");
    let mut e: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!("");
    e["requestContext"]["http"]["path"] = json!(path);
    e
}

/// The next stdout line that is an EMF document.
fn next_emf(lines: &mpsc::Receiver<String>) -> Value {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("an EMF line within 30 s of the answer");
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if v.get("_aws").is_some() {
                return v;
            }
        }
    }
}

/// Checks the EMF structure: every declared metric is at the root with a number (or a list of
/// numbers), the namespace and the `FunctionName` dimension are set.
fn check_emf(doc: &Value) {
    let aws = &doc["_aws"];
    assert!(aws["Timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    let directive = &aws["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "pixfront");
    assert_eq!(directive["Dimensions"], json!([["FunctionName"]]));
    assert_eq!(doc["FunctionName"], "pixfront");
    let metrics = directive["Metrics"].as_array().unwrap();
    assert!(!metrics.is_empty() && metrics.len() <= 100);
    for m in metrics {
        let name = m["Name"].as_str().unwrap();
        assert!(["Count", "Bytes", "Seconds"].contains(&m["Unit"].as_str().unwrap()));
        let v = &doc[name];
        let numeric = v.is_number() || v.as_array().is_some_and(|a| a.iter().all(Value::is_number));
        assert!(numeric, "{name}: {v}");
    }
}

/// The bootstrap's stdout, line by line (read on a thread so the pipe never fills).
fn stdout_lines(boot: &mut Bootstrap) -> mpsc::Receiver<String> {
    let stdout = boot.0.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    lines
}

#[tokio::test]
async fn one_emf_line_per_invocation_with_its_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("test-bucket");
    std::fs::create_dir_all(&bucket).unwrap();
    std::fs::copy(testdata().join("formats/rocket.jpg"), bucket.join("rocket.jpg")).unwrap();
    // About 1.2 MB as PNG: over an ALB's 1 MB.
    std::fs::write(bucket.join("noise.png"), noise_png(640, 640)).unwrap();
    let mut api = RuntimeApi::start().await;
    let mut cmd = lambda_common::lambda_command(&api);
    cmd.env("PIXFRONT_ROOT", dir.path())
        .env("SOURCE_BUCKETS", "test-bucket")
        .stdout(Stdio::piped());
    let mut boot = Bootstrap::spawn(cmd);
    let lines = stdout_lines(&mut boot);

    let posted = api.invoke(event("/fit-in/100x100/rocket.jpg")).await;
    let answer: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(answer["statusCode"], 200);
    let body = base64::engine::general_purpose::STANDARD
        .decode(answer["body"].as_str().unwrap())
        .unwrap();
    let doc = next_emf(&lines);
    check_emf(&doc);
    assert_eq!(doc["pixfront_requests_total"], 1);
    assert_eq!(doc["pixfront_requests_total.status=2xx"], 1);
    assert!(doc.get("pixfront_requests_total.status=4xx").is_none());
    assert_eq!(doc["pixfront_response_bytes_total"], body.len());
    let original = std::fs::metadata(bucket.join("rocket.jpg")).unwrap().len();
    assert_eq!(doc["pixfront_original_bytes_total"], original);
    let total = doc["pixfront_request_duration_seconds.stage=total"]
        .as_array()
        .unwrap();
    assert_eq!(total.len(), 1);
    assert!(total[0].as_f64().unwrap() > 0.0 && total[0].as_f64().unwrap() < 30.0);
    assert_eq!(
        doc["pixfront_request_duration_seconds.stage=decode"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(doc["pixfront_process_resident_bytes"].as_f64().unwrap() > 1e6);

    // The next invocation starts from zero: only its own 404.
    let posted = api.invoke(event("/fit-in/100x100/missing.jpg")).await;
    let answer: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(answer["statusCode"], 404);
    let doc = next_emf(&lines);
    check_emf(&doc);
    assert_eq!(doc["pixfront_requests_total"], 1);
    assert_eq!(doc["pixfront_requests_total.status=4xx"], 1);
    assert_eq!(doc["pixfront_errors_total.code=NoSuchKey"], 1);
    assert!(doc.get("pixfront_requests_total.status=2xx").is_none());
    assert!(doc.get("pixfront_original_bytes_total").is_none());
    assert_eq!(
        doc["pixfront_response_bytes_total"],
        answer["body"].as_str().unwrap().len()
    );
    assert!(doc
        .get("pixfront_request_duration_seconds.stage=decode")
        .is_none());

    // Over an ALB's 1 MB payload limit: counted as the 413 that was sent.
    let template = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lambda/alb.json");
    let mut alb: Value = serde_json::from_str(&std::fs::read_to_string(template).unwrap()).unwrap();
    alb["path"] = json!("/noise.png");
    let posted = api.invoke(alb).await;
    let answer: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(answer["statusCode"], 413);
    let doc = next_emf(&lines);
    assert_eq!(doc["pixfront_requests_total.status=4xx"], 1);
    assert!(doc.get("pixfront_requests_total.status=2xx").is_none());
    assert_eq!(doc["pixfront_errors_total.code=TooLargeImageException"], 1);
    let noise = std::fs::metadata(bucket.join("noise.png")).unwrap().len();
    assert_eq!(doc["pixfront_original_bytes_total"], noise);
}

/// An SQS message whose body is an S3 `ObjectCreated:Put` notification for `key`.
fn sqs_message(id: &str, key: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/events");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap()).unwrap()
    };
    let mut body = read("s3_put");
    body["Records"][0]["s3"]["object"]["key"] = json!(key);
    let mut m = read("sqs_message");
    m["messageId"] = json!(id);
    m["body"] = json!(body.to_string());
    m
}

#[tokio::test]
async fn upload_records_by_outcome_in_events_mode() {
    let s3 = s3_common::S3Server::start().await;
    std::fs::create_dir_all(s3.root.path().join("thumbs")).unwrap();
    s3.put("a.jpg", s3_common::fixture("formats/rocket.jpg")).await;
    s3.put("notes/readme.txt", b"not an image".to_vec()).await;
    let renditions = json!({"destinationBucket": "thumbs", "renditions": [
        {"name": "thumb", "edits": {"resize": {"width": 64}}, "key": "{dir}/thumb/{stem}.jpg"}]});
    let mut api = RuntimeApi::start().await;
    let mut cmd = lambda_common::lambda_command(&api);
    cmd.env("PIXFRONT_LAMBDA_MODE", "events")
        .env("PIXFRONT_RENDITIONS", renditions.to_string())
        .env("SOURCE_BUCKETS", s3_common::BUCKET)
        .env("AWS_ENDPOINT_URL_S3", &s3.endpoint)
        .env("S3_FORCE_PATH_STYLE", "Yes")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", s3_common::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3_common::SECRET_KEY)
        .stdout(Stdio::piped());
    let mut boot = Bootstrap::spawn(cmd);
    let lines = stdout_lines(&mut boot);

    // Rendered, acknowledged (not an image), retried (the store answers 500 under `down/`).
    let batch = json!({"Records": [
        sqs_message("m-a", "a.jpg"),
        sqs_message("m-txt", "notes/readme.txt"),
        sqs_message("m-down", "down/x.jpg"),
    ]});
    let posted = api.invoke(batch).await;
    let answer: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "m-down"}]})
    );
    let doc = next_emf(&lines);
    check_emf(&doc);
    assert_eq!(doc["pixfront_upload_records_total.outcome=rendered"], 1);
    assert_eq!(doc["pixfront_upload_records_total.outcome=acknowledged"], 1);
    assert_eq!(doc["pixfront_upload_records_total.outcome=retried"], 1);
    assert_eq!(doc["pixfront_upload_records_total"], 3);
    // GetObject of the two stored originals, and one failed call (its SDK retries inside).
    assert_eq!(doc["pixfront_aws_calls_total.outcome=ok"], 2);
    assert_eq!(doc["pixfront_aws_calls_total.outcome=error"], 1);
    assert_eq!(doc["pixfront_aws_calls_total.service=s3"], 3);
    assert!(
        doc.get("pixfront_requests_total").is_none(),
        "no HTTP request here"
    );
}
