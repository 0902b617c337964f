//! URL signatures with the key read from Secrets Manager through the real AWS SDK. There is no
//! open-source Secrets Manager server, so a tiny axum server here speaks its JSON protocol
//! (`X-Amz-Target: secretsmanager.GetSecretValue`, `application/x-amz-json-1.1`); the SDK finds
//! it through the standard `AWS_ENDPOINT_URL_SECRETS_MANAGER`.

mod shared_data;
use shared_data::testdata;

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use pixfront::config::Config;
use pixfront::http::{Handler, HttpRequest, HttpResponse};
use pixfront::storage::fs::FsStorage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const BUCKET: &str = "originals";

/// Secret id → SecretString, and GetSecretValue calls per id.
#[derive(Default)]
struct Secrets {
    values: HashMap<String, String>,
    calls: HashMap<String, u32>,
}

static SECRETS: OnceLock<Arc<Mutex<Secrets>>> = OnceLock::new();

fn set_secret(id: &str, value: Option<&str>) {
    let mut s = secrets().lock().unwrap();
    match value {
        Some(v) => s.values.insert(id.into(), v.into()),
        None => s.values.remove(id),
    };
}

fn calls(id: &str) -> u32 {
    secrets().lock().unwrap().calls.get(id).copied().unwrap_or(0)
}

async fn get_secret_value(
    state: axum::extract::State<Arc<Mutex<Secrets>>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let json = |status: StatusCode, v: serde_json::Value| {
        (
            status,
            [("content-type", "application/x-amz-json-1.1")],
            v.to_string(),
        )
            .into_response()
    };
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    if target != Some("secretsmanager.GetSecretValue") {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"__type": "UnknownOperationException", "message": "unexpected target"}),
        );
    }
    // The SDK signs every call (SigV4); an unsigned one would be a bug.
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential=AKIASECRETSTEST/"));
    if !signed {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"__type": "UnrecognizedClientException", "message": "unsigned"}),
        );
    }
    let req: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let id = req["SecretId"].as_str().unwrap_or_default().to_string();
    let mut s = state.lock().unwrap();
    *s.calls.entry(id.clone()).or_default() += 1;
    match s.values.get(&id) {
        Some(v) => json(
            StatusCode::OK,
            serde_json::json!({
                "ARN": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{id}-AbCdEf"),
                "Name": id,
                "SecretString": v,
                "VersionId": "00000000-0000-0000-0000-000000000001",
                "VersionStages": ["AWSCURRENT"],
                "CreatedDate": 1.7e9
            }),
        ),
        None => json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({
                "__type": "ResourceNotFoundException",
                "message": "Secrets Manager can't find the specified secret."
            }),
        ),
    }
}

/// Starts the stand-in once (on its own thread and runtime, so it outlives each test's runtime)
/// and points the standard AWS environment at it before any SDK configuration is loaded.
fn secrets() -> &'static Arc<Mutex<Secrets>> {
    SECRETS.get_or_init(|| {
        let state = Arc::new(Mutex::new(Secrets::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/", axum::routing::post(get_secret_value))
            .with_state(state.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        // Set once, before any test reads the environment (every test calls `secrets()` first).
        for (k, v) in [
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", format!("http://{addr}")),
            ("AWS_ACCESS_KEY_ID", "AKIASECRETSTEST".into()),
            ("AWS_SECRET_ACCESS_KEY", "secret-access-key".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/nonexistent".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ] {
            std::env::set_var(k, v);
        }
        state
    })
}

/// A handler over a folder with `originals/cat.png`, signatures on, key from `secret_id`.
async fn handler(secret_id: &str, ttl_seconds: u64) -> (tempfile::TempDir, Handler) {
    secrets();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(BUCKET)).unwrap();
    std::fs::copy(
        testdata().join("sih/25x15.png"),
        dir.path().join(BUCKET).join("cat.png"),
    )
    .unwrap();
    let mut config = Config::default();
    config.request.source_buckets = Some(format!("{BUCKET},validBucket"));
    config.request.enable_signature = true;
    config.secrets.secrets_manager = Some(secret_id.into());
    config.secrets.secret_key = Some("signing-key".into());
    config.secrets.secrets_manager_ttl_seconds = ttl_seconds;
    // Must lose to Secrets Manager, as in SIH.
    config.secrets.signature_secret = Some("env-key".into());
    let provider = pixfront::secrets::provider_from_env(&config.secrets).await;
    let handler = Handler::new(Arc::new(FsStorage::new(dir.path())), config).with_secrets(provider);
    (dir, handler)
}

fn sign(key: &str, path: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(path.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn get(h: &Handler, path: &str) -> HttpResponse {
    h.handle(&HttpRequest::get(path)).await
}

async fn get_signed(h: &Handler, key: &str, path: &str) -> HttpResponse {
    get(h, &format!("{path}?signature={}", sign(key, path))).await
}

fn code(resp: &HttpResponse) -> String {
    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
    v["code"].as_str().unwrap_or_default().to_string()
}

fn secret_json(key: &str) -> String {
    serde_json::json!({"signing-key": key, "other": "x"}).to_string()
}

#[tokio::test]
async fn valid_invalid_and_missing_signatures() {
    set_secret("pixfront/basic", Some(&secret_json("s3cr3t")));
    let (_dir, h) = handler("pixfront/basic", 300).await;
    let path = "/fit-in/10x10/cat.png";

    let resp = get_signed(&h, "s3cr3t", path).await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert!(image::load_from_memory(&resp.body).is_ok());

    let resp = get_signed(&h, "env-key", path).await;
    assert_eq!((resp.status, code(&resp)), (403, "SignatureDoesNotMatch".into()));
    let resp = get(&h, &format!("{path}?signature={}", "0".repeat(64))).await;
    assert_eq!((resp.status, code(&resp)), (403, "SignatureDoesNotMatch".into()));

    let resp = get(&h, path).await;
    assert_eq!(
        (resp.status, code(&resp)),
        (400, "AuthorizationQueryParametersError".into())
    );

    assert_eq!(
        calls("pixfront/basic"),
        1,
        "read once, then served from the cache"
    );
}

#[tokio::test]
async fn sih_signature_vector_passes() {
    set_secret(
        "pixfront/vector",
        Some(&serde_json::json!({"signing-key": "secret"}).to_string()),
    );
    let (_dir, h) = handler("pixfront/vector", 300).await;
    let path =
        "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiZWRpdHMiOnsidG9Gb3JtYXQiOiJwbmcifX0=";
    let sig = "4d41311006641a56de7bca8abdbda91af254506107a2c7b338a13ca2fa95eac3";
    let resp = get(&h, &format!("{path}?signature={sig}")).await;
    // Past the signature check: the object does not exist.
    assert_eq!((resp.status, code(&resp)), (404, "NoSuchKey".into()));
}

#[tokio::test]
async fn missing_or_malformed_secret_is_500() {
    set_secret("pixfront/not-json", Some("s3cr3t"));
    set_secret("pixfront/no-field", Some(r#"{"other":"s3cr3t"}"#));
    set_secret("pixfront/not-string", Some(r#"{"signing-key":42}"#));
    for id in [
        "pixfront/absent",
        "pixfront/not-json",
        "pixfront/no-field",
        "pixfront/not-string",
    ] {
        let (_dir, h) = handler(id, 300).await;
        let resp = get_signed(&h, "s3cr3t", "/cat.png").await;
        assert_eq!(
            (resp.status, code(&resp)),
            (500, "SignatureValidationFailure".into()),
            "{id}"
        );
        assert_eq!(resp.header("Cache-Control"), Some("no-store"));
        // Missing signature is still the user's 400, checked before the key is needed.
        let resp = get(&h, "/cat.png").await;
        assert_eq!(resp.status, 400, "{id}");
    }
}

#[tokio::test]
async fn rotation_is_picked_up_after_the_ttl() {
    let id = "pixfront/rotating";
    set_secret(id, Some(&secret_json("old-key")));
    let (_dir, h) = handler(id, 1).await;
    let path = "/cat.png";
    assert_eq!(get_signed(&h, "old-key", path).await.status, 200);

    set_secret(id, Some(&secret_json("new-key")));
    // Within the TTL the cached key still rules.
    assert_eq!(get_signed(&h, "old-key", path).await.status, 200);
    assert_eq!(get_signed(&h, "new-key", path).await.status, 403);
    assert_eq!(calls(id), 1);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_signed(&h, "new-key", path).await.status, 200);
    assert_eq!(get_signed(&h, "old-key", path).await.status, 403);
    assert_eq!(calls(id), 2);
}

#[tokio::test]
async fn a_burst_after_expiry_reads_once_and_an_outage_keeps_the_key() {
    let id = "pixfront/burst";
    set_secret(id, Some(&secret_json("k1")));
    let (_dir, h) = handler(id, 1).await;
    let h = Arc::new(h);
    assert_eq!(get_signed(&h, "k1", "/cat.png").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let burst: Vec<_> = (0..16)
        .map(|_| {
            let h = h.clone();
            tokio::spawn(async move { get_signed(&h, "k1", "/cat.png").await.status })
        })
        .collect();
    for t in burst {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(calls(id), 2, "one read for the whole burst");

    // Secrets Manager loses the secret: the last good key keeps working.
    set_secret(id, None);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get_signed(&h, "k1", "/cat.png").await.status, 200);
    assert_eq!(calls(id), 3);
}
