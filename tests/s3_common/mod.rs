//! An S3-protocol server in-process for the S3 tests: s3s + s3s-fs on 127.0.0.1 with SigV4
//! auth (SimpleAuth), wrapped to inject the failures a real bucket shows: `private/…` is
//! AccessDenied, `down/…` always InternalError (500), `flaky/…` SlowDown (503) twice, then served.
#![allow(dead_code)]

#[path = "../shared_data/mod.rs"]
mod shared_data;
pub use shared_data::testdata;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use pixfront::config::Config;
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ACCESS_KEY: &str = "AKIAPIXFRONTTEST";
pub const SECRET_KEY: &str = "pixfront-test-secret-key";
pub const BUCKET: &str = "originals";

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(testdata().join(rel)).unwrap()
}

type Calls = Arc<Mutex<HashMap<String, u32>>>;

struct Faulty {
    fs: s3s_fs::FileSystem,
    calls: Calls,
}

#[async_trait::async_trait]
impl S3 for Faulty {
    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let key = req.input.key.clone();
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(key.clone()).or_default();
            *n += 1;
            *n
        };
        if key.starts_with("private/") {
            return Err(s3_error!(AccessDenied));
        }
        if key.starts_with("down/") {
            return Err(s3_error!(InternalError));
        }
        if key.starts_with("flaky/") && n <= 2 {
            return Err(s3_error!(SlowDown));
        }
        self.fs.get_object(req).await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.fs.put_object(req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.fs.head_object(req).await
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.fs.list_objects_v2(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }
}

/// A running S3 server; its root folder lives as long as this value.
pub struct S3Server {
    pub endpoint: String,
    pub root: tempfile::TempDir,
    calls: Calls,
}

impl S3Server {
    /// Starts on a random port with the bucket [`BUCKET`] (a folder, as s3s-fs lays it out).
    pub async fn start() -> S3Server {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(BUCKET)).unwrap();
        let calls = Calls::default();
        let s3 = Faulty {
            fs: s3s_fs::FileSystem::new(root.path()).unwrap(),
            calls: calls.clone(),
        };
        let mut builder = s3s::service::S3ServiceBuilder::new(s3);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        S3Server {
            endpoint: format!("http://{addr}"),
            root,
            calls,
        }
    }

    /// GetObject calls the server received for `key` (retries included).
    pub fn calls(&self, key: &str) -> u32 {
        self.calls.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    /// GetObject calls the server received, all keys and buckets together.
    pub fn total_calls(&self) -> u32 {
        self.calls.lock().unwrap().values().sum()
    }

    /// Copies a file into the bucket folder directly (no metadata, like an upload by `cp`).
    pub fn copy_in(&self, key: &str, bytes: &[u8]) {
        let path = self.root.path().join(BUCKET).join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// The SDK configuration a deployment would have, pointed here, with the given credentials
    /// and quick retries (3 attempts, 10 ms backoff, 500 ms per attempt).
    pub async fn sdk(&self, access_key: &str, secret_key: &str) -> SdkConfig {
        sdk_config(&self.endpoint, access_key, secret_key).await
    }

    /// A client with the right credentials, for uploading fixtures with metadata.
    pub async fn admin(&self) -> aws_sdk_s3::Client {
        let sdk = self.sdk(ACCESS_KEY, SECRET_KEY).await;
        let conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) {
        self.admin()
            .await
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .unwrap();
    }
}

pub async fn sdk_config(endpoint: &str, access_key: &str, secret_key: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_attempt_timeout(Duration::from_millis(500))
                .build(),
        )
        .load()
        .await
}

/// SIH-style settings reading [`BUCKET`] over path-style URLs.
pub fn config() -> Config {
    let mut c = Config::default();
    c.request.source_buckets = Some(BUCKET.into());
    c.s3.force_path_style = true;
    c
}
