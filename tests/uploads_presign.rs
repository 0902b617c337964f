//! Presigned S3 POST uploads against the in-process S3-protocol server (s3s, which checks the
//! policy and its SigV4 signature like S3): the form `POST /?presign` returns stores the object
//! when a browser posts it; a larger file, a non-image Content-Type or another key is refused by
//! the policy; the gallery lists the bucket.

#[path = "s3_common/mod.rs"]
mod s3_common;

#[path = "lambda_common/mod.rs"]
mod lambda_common;

use pixfront::http::Handler;
use pixfront::storage::s3::S3Storage;
use pixfront::uploads::{Backend, UploadContext, Uploads};
use s3_common::*;
use std::sync::Arc;

const TOKEN: &str = "presign-token";
const MAX_BYTES: u64 = 150_000;

async fn start(s3: &S3Server) -> std::net::SocketAddr {
    let sdk = s3.sdk(ACCESS_KEY, SECRET_KEY).await;
    let client = s3.admin().await;
    let mut c = config();
    c.uploads.enabled = true;
    c.uploads.token = Some(TOKEN.into());
    c.uploads.max_bytes = MAX_BYTES;
    c.uploads.gallery_public = true;
    let ctx = UploadContext {
        default_bucket: BUCKET.into(),
        concurrency: 2,
        ..UploadContext::default()
    };
    let backend = Backend::S3 {
        client: client.clone(),
        sdk,
        endpoint: Some(s3.endpoint.clone()),
        path_style: true,
    };
    let token = Arc::new(pixfront::request::StaticSecret(Some(TOKEN.into())));
    let uploads = Uploads::new(c.uploads.clone(), ctx, backend, token).unwrap();
    let handler = Arc::new(Handler::new(Arc::new(S3Storage::new(client, vec![])), c));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let uploads = Some(Arc::new(uploads));
    tokio::spawn(async move {
        let limits = Default::default();
        pixfront::server::serve_with_uploads(listener, handler, uploads, &limits, std::future::pending())
            .await
    });
    addr
}

async fn presign(addr: std::net::SocketAddr, name: &str) -> serde_json::Value {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/?presign&name={name}"))
        .header("X-Upload-Token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

/// The browser's form: the presigned fields in order, Content-Type, then the file.
async fn browser_post(
    form: &serde_json::Value,
    content_type: &str,
    file: &[u8],
    key: Option<&str>,
) -> (u16, String) {
    let boundary = "----browser-boundary-91c2";
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    };
    for (k, v) in form["fields"].as_object().unwrap() {
        let v = if k == "key" {
            key.unwrap_or(v.as_str().unwrap())
        } else {
            v.as_str().unwrap()
        };
        field(k, v);
    }
    field("Content-Type", content_type);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.jpg\"\r\nContent-Type: {content_type}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = reqwest::Client::new()
        .post(form["url"].as_str().unwrap())
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presigned_post_stores_one_image_and_nothing_else() {
    let s3 = S3Server::start().await;
    let addr = start(&s3).await;
    let rocket = fixture("formats/rocket.jpg");

    let refused = reqwest::Client::new()
        .post(format!("http://{addr}/?presign&name=a.jpg"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401, "no token, no form");

    let form = presign(addr, "Rocket%20launch.jpg").await;
    let key = form["key"].as_str().unwrap().to_string();
    assert!(
        key.starts_with("uploads/") && key.ends_with("/Rocket-launch.jpg"),
        "{key}"
    );
    assert_eq!(form["url"], format!("{}/{BUCKET}", s3.endpoint));

    // Another key than the policy's, a text Content-Type, a file over the limit: refused.
    // (S3 answers 403 "Invalid according to Policy"; s3s 400 InvalidPolicyDocument.)
    let (status, text) = browser_post(&form, "image/jpeg", &rocket, Some("uploads/elsewhere.jpg")).await;
    assert!(
        matches!(status, 400 | 403) && text.contains("key"),
        "{status} {text}"
    );
    let (status, text) = browser_post(&form, "text/plain", b"not an image", None).await;
    assert!(
        matches!(status, 400 | 403) && text.contains("content-type"),
        "{status} {text}"
    );
    let mut big = rocket.clone();
    big.resize(MAX_BYTES as usize + 1, 0);
    let (status, text) = browser_post(&form, "image/jpeg", &big, None).await;
    assert!(matches!(status, 400 | 403), "{status} {text}");
    assert!(
        text.contains("EntityTooLarge") || text.contains("content-length-range") || text.contains("Policy"),
        "{text}"
    );
    // The signature is checked: another secret's signature is refused.
    let mut forged = form.clone();
    forged["fields"]["x-amz-signature"] = "0".repeat(64).into();
    let (status, text) = browser_post(&forged, "image/jpeg", &rocket, None).await;
    assert_eq!(status, 403, "{text}");
    let listed = s3
        .admin()
        .await
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), 0, "nothing stored by refused posts");

    let (status, text) = browser_post(&form, "image/jpeg", &rocket, None).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let got = s3
        .admin()
        .await
        .get_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        &rocket[..]
    );

    // The gallery lists it, and its on-the-fly URL renders.
    let html = reqwest::get(format!("http://{addr}/?gallery"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("data-key=\"{key}\"")), "{html}");
    let r = reqwest::get(format!("http://{addr}/fit-in/64x64/{key}"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // The upload page in S3 mode uses the presign endpoint.
    let page = reqwest::get(format!("http://{addr}/?upload"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#""mode":"s3""#));
}

/// The same endpoint on Lambda: the real bootstrap (buffered Function URL events) over S3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_hands_out_presigned_posts_to_token_holders() {
    let s3 = S3Server::start().await;
    let mut api = lambda_common::RuntimeApi::start().await;
    let mut cmd = lambda_common::lambda_command(&api);
    for (k, v) in [
        ("SOURCE_BUCKETS", BUCKET),
        ("AWS_ENDPOINT_URL_S3", s3.endpoint.as_str()),
        ("S3_FORCE_PATH_STYLE", "Yes"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("PIXFRONT_UPLOADS", "Yes"),
        ("UPLOAD_TOKEN", TOKEN),
    ] {
        cmd.env(k, v);
    }
    let _fn = lambda_common::Bootstrap::spawn(cmd);
    let file =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lambda/function_url.json");
    let mut event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    event["rawPath"] = "/".into();
    event["rawQueryString"] = "presign&name=beach.jpg".into();
    event["requestContext"]["http"]["path"] = "/".into();
    event["requestContext"]["http"]["method"] = "POST".into();
    event["headers"]["accept"] = "application/json".into();

    let answer = |posted: lambda_common::Posted| -> (u16, String) {
        let raw: serde_json::Value = serde_json::from_slice(&posted.body).unwrap();
        (
            raw["statusCode"].as_u64().unwrap() as u16,
            raw["body"].as_str().unwrap_or("").to_string(),
        )
    };
    let (status, body) = answer(api.invoke(event.clone()).await);
    assert_eq!(status, 401, "no token: {body}");
    event["headers"]["x-upload-token"] = TOKEN.into();
    let (status, body) = answer(api.invoke(event).await);
    assert_eq!(status, 200, "{body}");
    let form: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rocket = fixture("formats/rocket.jpg");
    let (status, text) = browser_post(&form, "image/jpeg", &rocket, None).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let key = form["key"].as_str().unwrap();
    assert!(key.ends_with("/beach.jpg"), "{key}");
    let got = s3
        .admin()
        .await
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().len(), rocket.len());
}
