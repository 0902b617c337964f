//! Helpers shared by the server integration tests: a bucket folder with real photos, an
//! in-process server on a random 127.0.0.1 port, and raw HTTP for paths clients would normalise.
#![allow(dead_code)]

#[path = "../shared_data/mod.rs"]
mod shared_data;
#[allow(unused_imports)] // chromium(): only the browser tests
pub use shared_data::{chromium, testdata};

use pixfront::config::Config;
use pixfront::http::Handler;
use pixfront::storage::{fs::FsStorage, no_such_key, BoxFuture, Object, Storage};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const BUCKET: &str = "test-bucket";
pub const SECRET: &str = "TOPSECRET-must-never-be-served";

/// `tmp/root/test-bucket/{rocket.jpg, logo.png, people/obama.jpg, note.txt}` plus secrets
/// beside the bucket, beside the root, and a symlink from the bucket to outside.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let bucket = root.join(BUCKET);
        std::fs::create_dir_all(bucket.join("people")).unwrap();
        std::fs::create_dir_all(root.join("other-bucket")).unwrap();
        let td = testdata();
        std::fs::copy(td.join("formats/rocket.jpg"), bucket.join("rocket.jpg")).unwrap();
        std::fs::copy(td.join("formats/skimage_logo_rgba.png"), bucket.join("logo.png")).unwrap();
        std::fs::copy(td.join("faces/obama.jpg"), bucket.join("people/obama.jpg")).unwrap();
        std::fs::copy(td.join("sih/1x1.jpg"), root.join("other-bucket/1x1.jpg")).unwrap();
        std::fs::write(bucket.join("note.txt"), "not an image").unwrap();
        std::fs::write(root.join("secret.txt"), SECRET).unwrap();
        std::fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), bucket.join("link-out")).unwrap();
        std::os::unix::fs::symlink(root.join("secret.txt"), bucket.join("link-up.jpg")).unwrap();
        Fixture { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn config(&self) -> Config {
        let mut c = Config::default();
        c.request.source_buckets = Some(BUCKET.into());
        c
    }

    pub async fn start(&self, config: Config) -> Server {
        let storage = Arc::new(FsStorage::new(self.root()));
        Server::start(storage, config).await
    }
}

/// A running in-process server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub done: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(storage: Arc<dyn Storage>, config: Config) -> Server {
        let handler = Arc::new(Handler::new(storage, config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            pixfront::server::serve(listener, handler, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            addr,
            stop: Some(tx),
            done: Some(done),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Starts a graceful shutdown.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Sends `GET <path>` exactly as written (no client-side normalisation) and returns the
    /// status and the whole raw answer.
    pub async fn raw_get(&self, path: &str) -> (u16, String) {
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, text)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Width and height of an encoded image.
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("body is a decodable image");
    (img.width(), img.height())
}

pub fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

/// An in-memory store with chosen metadata, optionally slow (to hold requests in flight).
#[derive(Default)]
pub struct MemStorage {
    objects: HashMap<(String, String), Object>,
    pub delay: std::time::Duration,
}

impl MemStorage {
    pub fn with(mut self, bucket: &str, key: &str, body: Vec<u8>, content_type: Option<&str>) -> Self {
        let obj = Object {
            body: body.into(),
            content_type: content_type.map(str::to_string),
            ..Object::default()
        };
        self.objects.insert((bucket.into(), key.into()), obj);
        self
    }
}

impl Storage for MemStorage {
    fn get<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, pixfront::Result<Object>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.objects
                .get(&(bucket.to_string(), key.to_string()))
                .cloned()
                .ok_or_else(|| no_such_key(key))
        })
    }

    fn health(&self) -> BoxFuture<'_, pixfront::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

pub async fn json(resp: reqwest::Response) -> serde_json::Value {
    serde_json::from_str(&resp.text().await.unwrap()).expect("JSON body")
}

/// Status, error code and Cache-Control of `GET path`.
pub async fn error_of(server: &Server, path: &str) -> (u16, String, Option<String>) {
    let resp = client().get(server.url(path)).send().await.unwrap();
    let status = resp.status().as_u16();
    let cache = header(&resp, "cache-control");
    let body = json(resp).await;
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
        cache,
    )
}
