//! Where renditions are written: an S3 bucket, or a folder (batch mode, and the `events` mode
//! with `PIXFRONT_ROOT`).

use super::Rendered;
use crate::aws::describe as error_chain;
use crate::error::Error;
use crate::BoxFuture;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub trait Sink: Send + Sync {
    /// Writes one rendition whole (readers never see part of it).
    fn put<'a>(&'a self, rendition: &'a Rendered) -> BoxFuture<'a, Result<(), Error>>;
    /// Removes `key`; a key that is already gone is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>>;
    /// Where this sink writes, for logs (`s3://bucket`, a folder).
    fn describe(&self) -> String;
}

/// A write the pipeline should retry later: the store refused or did not answer.
fn write_failed(action: &str, key: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(
        503,
        "Renditions::WriteFailed",
        format!("{action} {key} failed: {detail}"),
    )
}

/// PutObject / DeleteObject in one bucket.
#[derive(Debug, Clone)]
pub struct S3Sink {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Sink {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Sink {
        S3Sink {
            client,
            bucket: bucket.into(),
        }
    }
}

impl Sink for S3Sink {
    fn put<'a>(&'a self, r: &'a Rendered) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&r.key)
                .content_type(&r.content_type)
                .cache_control(&r.cache_control)
                .body(r.bytes.clone().into());
            for (k, v) in &r.metadata {
                put = put.metadata(k, v);
            }
            put.send()
                .await
                .map_err(|e| write_failed("PutObject", &r.key, error_chain(&e)))?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            // S3 answers 204 for a key that does not exist.
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| write_failed("DeleteObject", key, error_chain(&e)))?;
            Ok(())
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}", self.bucket)
    }
}

/// Files under a folder: key `a/b.webp` is `ROOT/a/b.webp`. Metadata is not kept.
#[derive(Debug, Clone)]
pub struct FolderSink {
    root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FolderSink {
    pub fn new(root: impl Into<PathBuf>) -> FolderSink {
        FolderSink { root: root.into() }
    }

    /// The file for `key`; keys that would leave the folder (`..`, absolute) are refused.
    pub fn path(&self, key: &str) -> Result<PathBuf, Error> {
        let bad = key.is_empty()
            || key.starts_with('/')
            || key.contains(['\0', '\\'])
            || key.split('/').any(|s| s.is_empty() || s == "." || s == "..");
        if bad {
            return Err(Error::bad_request(
                "Renditions::InvalidKey",
                format!("{key:?} cannot be a file name under the destination folder."),
            ));
        }
        Ok(self.root.join(key))
    }

    /// Writes to a temporary file beside the target, then renames it over the target.
    pub fn write(&self, r: &Rendered) -> Result<(), Error> {
        let path = self.path(&r.key)?;
        let fail = |e: std::io::Error| write_failed("writing", &path.display().to_string(), e);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let tmp = temp_path(&path);
        std::fs::write(&tmp, &r.bytes).map_err(fail)?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }

    pub fn remove(&self, key: &str) -> Result<(), Error> {
        let path = self.path(key)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(write_failed("removing", &path.display().to_string(), e))
            }
            _ => Ok(()),
        }
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".pixfront-{}-{n}.tmp", std::process::id()));
    path.with_file_name(name)
}

impl Sink for FolderSink {
    fn put<'a>(&'a self, r: &'a Rendered) -> BoxFuture<'a, Result<(), Error>> {
        let (sink, r) = (self.clone(), r.clone());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || sink.write(&r))
                .await
                .unwrap_or_else(|e| Err(write_failed("writing", "a rendition", e)))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        let (sink, key) = (self.clone(), key.to_string());
        Box::pin(async move {
            tokio::task::spawn_blocking(move || sink.remove(&key))
                .await
                .unwrap_or_else(|e| Err(write_failed("removing", "a rendition", e)))
        })
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_writes_whole_files_and_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let sink = FolderSink::new(dir.path());
        let r = Rendered {
            rendition: "t".into(),
            key: "a/b/c.webp".into(),
            bytes: bytes::Bytes::from_static(b"RIFF"),
            content_type: "image/webp".into(),
            cache_control: String::new(),
            metadata: Vec::new(),
        };
        sink.write(&r).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b/c.webp")).unwrap(), b"RIFF");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path().join("a/b")).unwrap().count(), 1);
        sink.remove("a/b/c.webp").unwrap();
        sink.remove("a/b/c.webp").unwrap();
        assert!(!dir.path().join("a/b/c.webp").exists());
        for bad in ["../x", "/etc/x", "a//b", "a/./b", ""] {
            assert!(sink.path(bad).is_err(), "{bad}");
        }
    }
}
