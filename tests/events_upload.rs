//! The upload pipeline end to end: the real `pixfront` binary in `PIXFRONT_LAMBDA_MODE=events`
//! under a local Runtime API, S3 through an in-process S3 server (s3s, SigV4), and real S3 and
//! SQS notification JSON (tests/data/events/): renditions land with their sizes and headers,
//! keys with spaces and unicode, an SQS batch with a corrupt image reports only that message,
//! re-delivery rewrites identical bytes, ObjectRemoved deletes, recursion is refused at start.

#[path = "lambda_common/mod.rs"]
mod lambda_common;
#[path = "s3_common/mod.rs"]
mod s3_common;

use lambda_common::{Bootstrap, Posted, RuntimeApi};
use s3_common::{S3Server, BUCKET};
use serde_json::{json, Value};
use std::path::PathBuf;

const DEST: &str = "thumbs";
const KEY: &str = "my photos/café (1).jpg";

fn renditions(dest: &str) -> String {
    json!({"destinationBucket": dest, "cacheControl": "max-age=86400,public", "renditions": [
        {"name": "thumb", "edits": {"resize": {"width": 300, "height": 300, "fit": "cover"}},
         "outputFormat": "webp", "key": "{dir}/thumb/{stem}.webp"},
        {"name": "cover", "edits": {"resize": {"width": 800, "height": 800, "fit": "inside"}},
         "outputFormat": "jpeg", "key": "{dir}/cover/{stem}.jpg"}]})
    .to_string()
}

fn fixture_event(name: &str) -> Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/events/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// S3's encoding of keys in notifications: form-style, `+` for a space.
fn s3_encode(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The S3 notification of `fixture` (`s3_put`, `s3_delete`) for `key`.
fn s3_event(fixture: &str, key: &str) -> Value {
    let mut e = fixture_event(fixture);
    e["Records"][0]["s3"]["object"]["key"] = json!(s3_encode(key));
    e
}

/// An SQS batch, one message per (id, body).
fn sqs(messages: &[(&str, Value)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            let mut m = fixture_event("sqs_message");
            m["messageId"] = json!(id);
            m["body"] = json!(body.to_string());
            m
        })
        .collect();
    json!({ "Records": records })
}

struct Setup {
    s3: S3Server,
    api: RuntimeApi,
    _fn: Bootstrap,
    admin: aws_sdk_s3::Client,
}

async fn start(renditions: &str) -> Setup {
    let s3 = S3Server::start().await;
    std::fs::create_dir_all(s3.root.path().join(DEST)).unwrap();
    let api = RuntimeApi::start().await;
    let f = spawn(&api, &s3, renditions);
    let admin = s3.admin().await;
    Setup {
        s3,
        api,
        _fn: f,
        admin,
    }
}

fn spawn(api: &RuntimeApi, s3: &S3Server, renditions: &str) -> Bootstrap {
    let mut cmd = lambda_common::lambda_command(api);
    cmd.env("PIXFRONT_LAMBDA_MODE", "events")
        .env("PIXFRONT_RENDITIONS", renditions)
        .env("SOURCE_BUCKETS", BUCKET)
        .env("AWS_ENDPOINT_URL_S3", &s3.endpoint)
        .env("S3_FORCE_PATH_STYLE", "Yes")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", s3_common::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", s3_common::SECRET_KEY);
    Bootstrap::spawn(cmd)
}

fn answer(posted: &Posted) -> Value {
    assert_eq!(
        posted.kind,
        "response",
        "{}",
        String::from_utf8_lossy(&posted.body)
    );
    serde_json::from_slice(&posted.body).unwrap()
}

struct Stored {
    bytes: Vec<u8>,
    content_type: Option<String>,
    cache_control: Option<String>,
    metadata: std::collections::HashMap<String, String>,
    etag: Option<String>,
}

async fn get(admin: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Stored> {
    let out = admin.get_object().bucket(bucket).key(key).send().await.ok()?;
    Some(Stored {
        content_type: out.content_type().map(str::to_string),
        cache_control: out.cache_control().map(str::to_string),
        metadata: out.metadata().cloned().unwrap_or_default(),
        etag: out.e_tag().map(str::to_string),
        bytes: out.body.collect().await.unwrap().to_vec(),
    })
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("a decodable image");
    (img.width(), img.height())
}

async fn source_etag(admin: &aws_sdk_s3::Client, key: &str) -> String {
    let out = get(admin, BUCKET, key).await.unwrap();
    out.etag.unwrap().trim_matches('"').to_string()
}

#[tokio::test]
async fn s3_put_renders_every_rendition_with_headers_and_source_etag() {
    let mut t = start(&renditions(DEST)).await;
    t.s3.put(KEY, s3_common::fixture("faces/obama.jpg")).await;
    let event = fixture_event("s3_put");
    assert_eq!(
        event["Records"][0]["s3"]["object"]["key"], "my+photos/caf%C3%A9+%281%29.jpg",
        "the fixture carries the key as S3 encodes it"
    );
    let a = answer(&t.api.invoke(event).await);
    assert_eq!(a, json!({"records": 1}));

    let etag = source_etag(&t.admin, KEY).await;
    let thumb = get(&t.admin, DEST, "my photos/thumb/café (1).webp")
        .await
        .expect("thumb written");
    assert_eq!(dimensions(&thumb.bytes), (300, 300));
    assert_eq!(thumb.content_type.as_deref(), Some("image/webp"));
    assert_eq!(thumb.cache_control.as_deref(), Some("max-age=86400,public"));
    assert_eq!(thumb.metadata.get("source-etag"), Some(&etag));
    let cover = get(&t.admin, DEST, "my photos/cover/café (1).jpg")
        .await
        .expect("cover written");
    assert_eq!(cover.content_type.as_deref(), Some("image/jpeg"));
    let (w, h) = dimensions(&cover.bytes);
    let (ow, oh) = dimensions(&s3_common::fixture("faces/obama.jpg"));
    assert_eq!(
        (w, h),
        if ow >= oh {
            (800, (800 * oh + ow / 2) / ow)
        } else {
            ((800 * ow + oh / 2) / oh, 800)
        }
    );
    // Nothing else was written.
    assert!(get(&t.admin, BUCKET, "my photos/thumb/café (1).webp")
        .await
        .is_none());
}

#[tokio::test]
async fn sqs_batch_reports_only_the_failed_messages_and_redelivery_rewrites_identical_bytes() {
    let mut t = start(&renditions(DEST)).await;
    t.s3.put("a.jpg", s3_common::fixture("formats/rocket.jpg")).await;
    let mut corrupt = s3_common::fixture("formats/rocket.jpg");
    corrupt.truncate(600);
    corrupt.extend(std::iter::repeat_n(0x55u8, 4000));
    t.s3.put("b.jpg", corrupt).await;
    t.s3.put("c/d.png", s3_common::fixture("sih/25x15.png")).await;

    let batch = sqs(&[
        ("m-a", s3_event("s3_put", "a.jpg")),
        ("m-b", s3_event("s3_put", "b.jpg")),
        ("m-c", s3_event("s3_put", "c/d.png")),
    ]);
    let a = answer(&t.api.invoke(batch).await);
    assert_eq!(a, json!({"batchItemFailures": [{"itemIdentifier": "m-b"}]}));
    let first = get(&t.admin, DEST, "thumb/a.webp").await.expect("a rendered");
    assert_eq!(dimensions(&first.bytes), (300, 300));
    assert_eq!(
        dimensions(&get(&t.admin, DEST, "c/thumb/d.webp").await.unwrap().bytes),
        (300, 300)
    );
    // Never a partial set for the corrupt one.
    assert!(get(&t.admin, DEST, "thumb/b.webp").await.is_none());
    assert!(get(&t.admin, DEST, "cover/b.jpg").await.is_none());

    // SQS delivers at least once: the same message again writes the same bytes.
    let a = answer(&t.api.invoke(sqs(&[("m-a2", s3_event("s3_put", "a.jpg"))])).await);
    assert_eq!(a, json!({"batchItemFailures": []}));
    let again = get(&t.admin, DEST, "thumb/a.webp").await.unwrap();
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(again.etag, first.etag);

    // Acknowledged without retry: not an image, an original gone (403 without ListBucket),
    // S3's test event. Retried: the store failing (500).
    t.s3.put("notes/readme.txt", b"not an image".to_vec()).await;
    let test_event = fixture_event("s3_test_event");
    let batch = sqs(&[
        ("m-txt", s3_event("s3_put", "notes/readme.txt")),
        ("m-private", s3_event("s3_put", "private/x.jpg")),
        ("m-test", test_event),
        ("m-down", s3_event("s3_put", "down/x.jpg")),
    ]);
    let a = answer(&t.api.invoke(batch).await);
    assert_eq!(a, json!({"batchItemFailures": [{"itemIdentifier": "m-down"}]}));
    assert!(get(&t.admin, DEST, "notes/thumb/readme.webp").await.is_none());
    // The failing GetObject was retried by the SDK before the message was given back.
    assert_eq!(t.s3.calls("down/x.jpg"), pixfront::aws::MAX_ATTEMPTS);
}

#[tokio::test]
async fn object_removed_deletes_the_renditions_unless_the_original_is_back() {
    let mut t = start(&renditions(DEST)).await;
    t.s3.put(KEY, s3_common::fixture("faces/hopper_128.jpg")).await;
    answer(&t.api.invoke(s3_event("s3_put", KEY)).await);
    let thumb = "my photos/thumb/café (1).webp";
    assert!(get(&t.admin, DEST, thumb).await.is_some());

    // The delete notification arrives while the original exists again (a later upload): kept.
    let a = answer(&t.api.invoke(sqs(&[("m-del", s3_event("s3_delete", KEY))])).await);
    assert_eq!(a, json!({"batchItemFailures": []}));
    assert!(get(&t.admin, DEST, thumb).await.is_some());

    t.admin
        .delete_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    let a = answer(&t.api.invoke(sqs(&[("m-del", fixture_event("s3_delete"))])).await);
    assert_eq!(a, json!({"batchItemFailures": []}));
    assert!(get(&t.admin, DEST, thumb).await.is_none());
    assert!(get(&t.admin, DEST, "my photos/cover/café (1).jpg")
        .await
        .is_none());
}

#[tokio::test]
async fn recursion_and_bad_documents_are_refused_at_start() {
    let s3 = S3Server::start().await;
    let refused = [
        (renditions(BUCKET), "rendered again, forever"),
        (
            json!({"destinationBucket": BUCKET, "sourcePrefix": "incoming/", "renditions": [
                {"name": "t", "key": "{dir}/t/{stem}.webp"}]})
            .to_string(),
            "sourcePrefix no rendition key can start with",
        ),
        (
            json!({"destinationBucket": DEST, "renditions": [
                {"name": "t", "edits": {"sepia": 1}, "key": "{stem}.webp"}]})
            .to_string(),
            "unknown edit(s) sepia",
        ),
    ];
    for (doc, needle) in refused {
        let mut api = RuntimeApi::start().await;
        let mut f = spawn(&api, &s3, &doc);
        let posted = api.wait().await;
        assert_eq!(posted.kind, "init/error");
        let body: Value = serde_json::from_slice(&posted.body).unwrap();
        let message = body["errorMessage"].as_str().unwrap();
        assert!(
            message.contains("PIXFRONT_RENDITIONS") && message.contains(needle),
            "{message}"
        );
        assert!(!f.0.wait().unwrap().success());
    }
}

#[tokio::test]
async fn same_bucket_works_when_the_source_prefix_keeps_renditions_out() {
    let doc = json!({"destinationBucket": BUCKET, "sourcePrefix": "incoming/", "renditions": [
        {"name": "t", "edits": {"resize": {"width": 40}}, "outputFormat": "png", "key": "renditions/{key}.png"}]})
    .to_string();
    let mut t = start(&doc).await;
    t.s3.put("incoming/x.jpg", s3_common::fixture("faces/hopper_128.jpg"))
        .await;
    let a = answer(&t.api.invoke(s3_event("s3_put", "incoming/x.jpg")).await);
    assert_eq!(a, json!({"records": 1}));
    let written = get(&t.admin, BUCKET, "renditions/incoming/x.jpg.png")
        .await
        .expect("written");
    assert_eq!(dimensions(&written.bytes).0, 40);
    // Its own notification (were the bucket to send one) is outside the prefix: nothing more.
    let a = answer(
        &t.api
            .invoke(s3_event("s3_put", "renditions/incoming/x.jpg.png"))
            .await,
    );
    assert_eq!(a, json!({"records": 1}));
    assert!(
        get(&t.admin, BUCKET, "renditions/renditions/incoming/x.jpg.png.png")
            .await
            .is_none()
    );
}

/// `event` as SNS delivers it: a notification envelope whose `Message` is the JSON string.
fn sns_envelope(event: &Value) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": "5c3f1a4e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads",
        "Subject": "Amazon S3 Notification",
        "Message": event.to_string(),
        "Timestamp": "2026-11-23T09:00:00.000Z"
    })
}

#[tokio::test]
async fn sns_fan_out_directly_and_through_sqs_renders_too() {
    let mut t = start(&renditions(DEST)).await;
    t.s3.put("sns/a.jpg", s3_common::fixture("formats/rocket.jpg"))
        .await;
    t.s3.put("sns/b.png", s3_common::fixture("sih/25x15.png")).await;

    // S3 → SNS → SQS, without raw delivery: the SQS body is the SNS envelope.
    let batch = sqs(&[
        ("m-sns", sns_envelope(&s3_event("s3_put", "sns/a.jpg"))),
        ("m-sns-test", sns_envelope(&fixture_event("s3_test_event"))),
        (
            "m-sns-garbage",
            json!({"Type": "Notification", "Message": "not json"}),
        ),
    ]);
    let a = answer(&t.api.invoke(batch).await);
    assert_eq!(
        a,
        json!({"batchItemFailures": [{"itemIdentifier": "m-sns-garbage"}]})
    );
    let thumb = get(&t.admin, DEST, "sns/thumb/a.webp")
        .await
        .expect("rendered via SNS in SQS");
    assert_eq!(dimensions(&thumb.bytes), (300, 300));

    // S3 → SNS → Lambda: an SNS event, one notification per record.
    let event = json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:uploads:0000",
        "Sns": sns_envelope(&s3_event("s3_put", "sns/b.png")),
    }]});
    let a = answer(&t.api.invoke(event).await);
    assert_eq!(a, json!({"records": 1}));
    let cover = get(&t.admin, DEST, "sns/cover/b.jpg")
        .await
        .expect("rendered via SNS");
    assert_eq!(cover.content_type.as_deref(), Some("image/jpeg"));

    // A failing record fails the SNS invocation, so SNS delivers it again.
    let event = json!({"Records": [{
        "EventSource": "aws:sns",
        "Sns": sns_envelope(&s3_event("s3_put", "down/x.jpg")),
    }]});
    let posted = t.api.invoke(event).await;
    assert_eq!(posted.kind, "error", "{}", String::from_utf8_lossy(&posted.body));
}
