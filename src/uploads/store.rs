//! Where uploads live: a folder per bucket (`pixfront serve --root`), written by this server,
//! or an S3 bucket, written by browsers through presigned POSTs. Both list for the gallery.

use crate::error::Error;
use crate::renditions::{FolderSink, S3Sink, Sink};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// One stored upload, for the gallery.
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: String,
    pub modified: SystemTime,
    pub size: u64,
}

/// Most objects the gallery lists from S3 (ten ListObjectsV2 pages).
const MAX_LISTED: usize = 10_000;

pub enum Backend {
    /// `ROOT/bucket/key`.
    Folder { root: PathBuf },
    /// S3 through the standard chain; `endpoint` (`AWS_ENDPOINT_URL_S3`, unset for AWS) and
    /// `path_style` say where browsers post to.
    S3 {
        client: aws_sdk_s3::Client,
        sdk: aws_config::SdkConfig,
        endpoint: Option<String>,
        path_style: bool,
    },
}

fn unavailable(action: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(
        503,
        "Upload::StoreUnavailable",
        format!("{action} failed: {detail}; please retry."),
    )
}

impl Backend {
    /// Newest first.
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Listed>, Error> {
        let mut out = match self {
            Backend::Folder { root } => {
                let dir = root.join(bucket);
                let start = dir.join(prefix.trim_end_matches('/'));
                tokio::task::spawn_blocking(move || list_folder(&dir, &start))
                    .await
                    .map_err(|_| Error::internal())?
            }
            Backend::S3 { client, .. } => list_s3(client, bucket, prefix).await?,
        };
        out.retain(|l| l.key.starts_with(prefix));
        out.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.key.cmp(&b.key)));
        Ok(out)
    }

    /// Where renditions of uploads are written.
    pub fn sink(&self, destination: &str) -> Arc<dyn Sink> {
        match self {
            Backend::Folder { root } => Arc::new(FolderSink::new(root.join(destination))),
            Backend::S3 { client, .. } => Arc::new(S3Sink::new(client.clone(), destination)),
        }
    }
}

fn list_folder(bucket_dir: &std::path::Path, start: &std::path::Path) -> Vec<Listed> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(start).into_iter().flatten() {
        let name = entry.file_name().to_string_lossy();
        // Temporary files of writes in progress, and hidden files, are not uploads.
        if !entry.file_type().is_file() || name.starts_with('.') || name.contains(".pixfront-") {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(bucket_dir) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        out.push(Listed {
            key: rel.to_string_lossy().replace('\\', "/"),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            size: meta.len(),
        });
    }
    out
}

async fn list_s3(client: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Result<Vec<Listed>, Error> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| unavailable("ListObjectsV2", crate::aws::describe(&e)))?;
        for o in page.contents() {
            let modified = o
                .last_modified()
                .and_then(|t| SystemTime::try_from(*t).ok())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            out.push(Listed {
                key: o.key().unwrap_or_default().to_string(),
                modified,
                size: o.size().unwrap_or(0).max(0) as u64,
            });
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() || out.len() >= MAX_LISTED {
            return Ok(out);
        }
    }
}

/// Writes `bytes` as `bucket/key` under `root`, whole: to a temporary file, then linked in
/// place. Without `overwrite`, an existing file wins and the answer is `Ok(false)` (the link
/// fails atomically, so two uploads of one name at once cannot both take it).
pub fn write_file(
    root: &std::path::Path,
    bucket: &str,
    key: &str,
    bytes: &[u8],
    overwrite: bool,
) -> Result<bool, Error> {
    let path = FolderSink::new(root.join(bucket)).path(key)?;
    let fail = |e: std::io::Error| unavailable("writing the upload", e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_file_name(format!(
        ".{}.pixfront-{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        super::keys::random_hex(8)
    ));
    std::fs::write(&tmp, bytes).map_err(fail)?;
    let placed = if overwrite {
        std::fs::rename(&tmp, &path).map(|_| true)
    } else {
        match std::fs::hard_link(&tmp, &path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    };
    let _ = std::fs::remove_file(&tmp);
    placed.map_err(fail)
}

/// True when `bucket/key` exists under `root`.
pub fn file_exists(root: &std::path::Path, bucket: &str, key: &str) -> bool {
    FolderSink::new(root.join(bucket))
        .path(key)
        .is_ok_and(|p| p.exists())
}

/// Removes `bucket/key` under `root` (a stored original whose renditions could not be written).
pub fn remove_file(root: &std::path::Path, bucket: &str, key: &str) {
    if let Ok(p) = FolderSink::new(root.join(bucket)).path(key) {
        let _ = std::fs::remove_file(p);
    }
}
