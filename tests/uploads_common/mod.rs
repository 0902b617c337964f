//! Helpers of the upload tests: a served folder with uploads on (renditions into a second
//! bucket folder), and multipart forms built by hand so a test controls every byte.
#![allow(dead_code)]

#[path = "../shared_data/mod.rs"]
mod shared_data;
#[allow(unused_imports)] // chromium(): only the browser tests
pub use shared_data::{chromium, testdata};

use pixfront::config::Config;
use pixfront::http::Handler;
use pixfront::storage::fs::FsStorage;
use pixfront::uploads::{Backend, UploadContext, Uploads};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub const BUCKET: &str = "photos";
pub const RENDITIONS_BUCKET: &str = "renditions";
pub const TOKEN: &str = "upload-token-for-tests";
pub const BOUNDARY: &str = "----pixfront-test-boundary-7d4a";

pub const RENDITIONS: &str = r#"{"destinationBucket": "renditions", "sourcePrefix": "uploads/",
  "renditions": [
    {"name": "thumb", "edits": {"resize": {"width": 120, "height": 120, "fit": "cover"}},
     "outputFormat": "webp", "key": "{dir}/thumb/{stem}.webp"},
    {"name": "small", "edits": {"resize": {"width": 320}}, "outputFormat": "jpeg",
     "key": "{dir}/small/{stem}.jpg"}]}"#;

pub struct Site {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Site {
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Files (keys) under a bucket folder, sorted.
    pub fn files(&self, bucket: &str) -> Vec<String> {
        let base = self.root().join(bucket);
        let mut out: Vec<String> = walkdir(&base)
            .into_iter()
            .map(|p| p.strip_prefix(&base).unwrap().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }
}

fn walkdir(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walkdir(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A server over `tmp/root/{photos (rocket.jpg), renditions}` with uploads on; `tweak` edits
/// the config first.
pub async fn start(tweak: impl FnOnce(&mut Config)) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    std::fs::create_dir_all(root.join(RENDITIONS_BUCKET)).unwrap();
    std::fs::copy(
        testdata().join("formats/rocket.jpg"),
        root.join(BUCKET).join("rocket.jpg"),
    )
    .unwrap();
    let mut c = Config::default();
    c.request.source_buckets = Some(format!("{BUCKET},{RENDITIONS_BUCKET}"));
    c.uploads.enabled = true;
    c.uploads.renditions = Some(RENDITIONS.into());
    c.uploads.token = Some(TOKEN.into());
    c.uploads.max_bytes = 4 << 20;
    tweak(&mut c);
    let ctx = UploadContext {
        pipeline: c.pipeline.clone(),
        http: c.http.clone(),
        force_blur_faces: Vec::new(),
        default_bucket: BUCKET.into(),
        concurrency: 4,
    };
    let token = Arc::new(pixfront::request::StaticSecret(c.uploads.token.clone()));
    let uploads = Uploads::new(
        c.uploads.clone(),
        ctx,
        Backend::Folder { root: root.clone() },
        token,
    )
    .unwrap();
    let handler = Arc::new(Handler::new(Arc::new(FsStorage::new(&root)), c));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        pixfront::server::serve_with_uploads(
            listener,
            handler,
            Some(Arc::new(uploads)),
            &Default::default(),
            async {
                let _ = rx.await;
            },
        )
        .await
        .unwrap();
    });
    Site {
        dir,
        addr,
        stop: Some(tx),
    }
}

/// A form part: field name, file name (None for a text field), bytes.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

pub fn form(parts: &[Part]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, file, data) in parts {
        b.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => b.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => b.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

pub fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// POSTs a form to `/?upload` asking for JSON; (status, JSON body).
pub async fn post(site: &Site, body: Vec<u8>) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(site.url("/?upload"))
        .header("Content-Type", content_type())
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

pub fn photo(rel: &str) -> Vec<u8> {
    std::fs::read(testdata().join(rel)).unwrap()
}
