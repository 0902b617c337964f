//! Where originals come from. Front ends hold a `dyn Storage`; the engine never does I/O.
//!
//! Backends: [`fs::FsStorage`] (a folder per bucket, for self-hosting and tests) and
//! [`s3::S3Storage`] (Amazon S3 or any S3-compatible endpoint). [`origins::Origins`] puts named
//! origins in front of either: HTTP(S) servers ([`http::HttpStore`], behind an SSRF guard) and
//! other names for buckets, chosen by bucket name, key prefix or (when allowed) a URL key.

pub mod fs;
pub mod http;
pub mod origins;
pub mod result;
pub mod s3;

use crate::error::Error;
pub use crate::BoxFuture;
use std::time::SystemTime;

/// An original image and the metadata SIH copies into response headers.
#[derive(Debug, Clone, Default)]
pub struct Object {
    pub body: bytes::Bytes,
    /// The stored Content-Type, as S3 would report it (`None` when the store has none).
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<SystemTime>,
    pub last_modified: Option<SystemTime>,
    /// The store's entity tag, quoted (`"…"`), when it has one.
    pub etag: Option<String>,
}

pub trait Storage: Send + Sync {
    /// Fetches `key` from `bucket`. A missing or unreadable object is SIH's 404 `NoSuchKey`.
    fn get<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>>;

    /// The object's metadata with an empty body, for answering a revalidation (`If-None-Match`)
    /// without downloading the original. The default reads the whole object; S3 (HeadObject)
    /// and folders (a stat) override it.
    fn head<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>> {
        Box::pin(async move {
            let mut object = self.get(bucket, key).await?;
            object.body = Default::default();
            Ok(object)
        })
    }

    /// Ok when the store is reachable (health endpoint).
    fn health(&self) -> BoxFuture<'_, Result<(), Error>>;
}

/// SIH's answer for any failure to read the main image (§5.4): always 404, whatever the cause,
/// so callers cannot probe which keys exist outside what they may read.
pub fn no_such_key(key: &str) -> Error {
    Error::new(
        404,
        "NoSuchKey",
        format!("The image {key} does not exist or the request may not be base64 encoded properly."),
    )
}

/// The image type from the first bytes, with the signatures SIH's `inferImageType` knows (§3.4).
pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, 0x50, 0x4E, 0x47]) {
        Some("image/png")
    } else if bytes.starts_with(b"RIFF") {
        Some("image/webp")
    } else if bytes.starts_with(&[0x49, 0x49, 0x2A, 0x00]) || bytes.starts_with(&[0x4D, 0x4D, 0x00, 0x2A]) {
        Some("image/tiff")
    } else if bytes.starts_with(b"GIF8") {
        Some("image/gif")
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[4..12] == b"ftypavif" {
        Some("image/avif")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_sih_signatures() {
        assert_eq!(sniff_content_type(b"\x89PNG\r\n"), Some("image/png"));
        assert_eq!(sniff_content_type(b"RIFF\0\0\0\0WEBP"), Some("image/webp"));
        assert_eq!(sniff_content_type(b"II*\0"), Some("image/tiff"));
        assert_eq!(sniff_content_type(b"MM\0*"), Some("image/tiff"));
        assert_eq!(sniff_content_type(b"GIF89a"), Some("image/gif"));
        assert_eq!(sniff_content_type(&[0xFF, 0xD8, 0xFF]), Some("image/jpeg"));
        assert_eq!(sniff_content_type(b"\0\0\0\x1cftypavif"), Some("image/avif"));
        assert_eq!(sniff_content_type(b"<svg"), None);
        assert_eq!(sniff_content_type(b""), None);
    }
}
