//! Filesystem backend: bucket `B` is the folder `ROOT/B/`, key `K` the file `ROOT/B/K` (the
//! layout S3-compatible servers such as MinIO use on disk).
//!
//! Keys never escape their bucket: names with NUL, absolute paths, `.`/`..` segments are refused
//! before touching the disk, and the resolved path (symlinks followed) must still lie inside the
//! bucket folder. Every refusal is the same 404 `NoSuchKey` a missing file gets.

use super::{no_such_key, sniff_content_type, BoxFuture, Object, Storage};
use crate::error::Error;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

#[derive(Debug, Clone)]
pub struct FsStorage {
    root: PathBuf,
}

impl FsStorage {
    pub fn new(root: impl Into<PathBuf>) -> FsStorage {
        FsStorage { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file for (bucket, key), or `None` when it is missing or outside the bucket.
    async fn resolve(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        if !is_plain_segment(bucket) || key.is_empty() || key.starts_with('/') || key.contains('\0') {
            return None;
        }
        if key.split('/').any(|s| s == "." || s == "..") {
            return None;
        }
        let bucket_dir = tokio::fs::canonicalize(self.root.join(bucket)).await.ok()?;
        let file = tokio::fs::canonicalize(bucket_dir.join(key)).await.ok()?;
        // Symlinks inside the bucket are fine; ones that lead out are not.
        if !file.starts_with(&bucket_dir) {
            return None;
        }
        Some(file)
    }
}

/// A single path segment that names a folder below the root.
fn is_plain_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

impl FsStorage {
    /// The regular file behind `key` and its metadata; anything else is SIH's 404.
    async fn file(&self, bucket: &str, key: &str) -> Result<(PathBuf, std::fs::Metadata), Error> {
        let path = self.resolve(bucket, key).await.ok_or_else(|| no_such_key(key))?;
        let meta = tokio::fs::metadata(&path).await.map_err(|_| no_such_key(key))?;
        if !meta.is_file() {
            return Err(no_such_key(key));
        }
        Ok((path, meta))
    }
}

/// Size + mtime, as nginx does: cheap, known without reading the file, and changes whenever
/// the file is replaced.
fn etag(meta: &std::fs::Metadata) -> String {
    let nanos = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{:x}-{:x}\"", meta.len(), nanos)
}

impl Storage for FsStorage {
    fn get<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>> {
        Box::pin(async move {
            let (path, meta) = self.file(bucket, key).await?;
            let body = tokio::fs::read(&path).await.map_err(|_| no_such_key(key))?;
            let content_type = sniff_content_type(&body).map(str::to_string).or_else(|| {
                let svg = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg"));
                svg.then(|| "image/svg+xml".to_string())
            });
            Ok(Object {
                body: body.into(),
                content_type,
                cache_control: None,
                expires: None,
                last_modified: meta.modified().ok(),
                etag: Some(etag(&meta)),
            })
        })
    }

    /// The file's metadata only: a revalidation does not read the file.
    fn head<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>> {
        Box::pin(async move {
            let (_, meta) = self.file(bucket, key).await?;
            Ok(Object {
                last_modified: meta.modified().ok(),
                etag: Some(etag(&meta)),
                ..Object::default()
            })
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            match tokio::fs::metadata(&self.root).await {
                Ok(m) if m.is_dir() => Ok(()),
                _ => Err(Error::new(
                    503,
                    "Storage::Unavailable",
                    "The storage root folder cannot be read.",
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, FsStorage) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/sub")).unwrap();
        std::fs::write(dir.path().join("b/sub/a.png"), b"\x89PNG\r\n\x1a\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"outside").unwrap();
        std::fs::create_dir_all(dir.path().join("other")).unwrap();
        std::fs::write(dir.path().join("other/x.jpg"), [0xFF, 0xD8, 0xFF]).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), dir.path().join("b/link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("b/sub/a.png"), dir.path().join("b/inside")).unwrap();
        let fs = FsStorage::new(dir.path());
        (dir, fs)
    }

    #[tokio::test]
    async fn reads_object_with_metadata() {
        let (_d, fs) = setup();
        let o = fs.get("b", "sub/a.png").await.unwrap();
        assert_eq!(&o.body[..4], b"\x89PNG");
        assert_eq!(o.content_type.as_deref(), Some("image/png"));
        assert!(o.last_modified.is_some());
        assert!(o.etag.unwrap().starts_with("\"8-"));
        assert_eq!(fs.get("b", "inside").await.unwrap().body.len(), 8);
    }

    #[tokio::test]
    async fn refuses_everything_outside_the_bucket() {
        let (_d, fs) = setup();
        for (bucket, key) in [
            ("b", "../secret.txt"),
            ("b", "sub/../../secret.txt"),
            ("b", "/etc/passwd"),
            ("b", "link"),
            ("b", "sub"),
            ("b", "sub/a.png\0"),
            ("b", ""),
            ("b", "./sub/a.png"),
            ("b", "../other/x.jpg"),
            ("..", "secret.txt"),
            (".", "b/sub/a.png"),
            ("", "secret.txt"),
            ("b/..", "secret.txt"),
            ("missing", "a.png"),
        ] {
            let err = fs.get(bucket, key).await.unwrap_err();
            assert_eq!((err.status, &*err.code), (404, "NoSuchKey"), "{bucket:?} {key:?}");
        }
    }

    #[tokio::test]
    async fn health_reflects_root() {
        let (d, fs) = setup();
        assert!(fs.health().await.is_ok());
        let gone = FsStorage::new(d.path().join("nope"));
        assert_eq!(gone.health().await.unwrap_err().status, 503);
    }
}
