//! What the upload and gallery pages read: on/off, where uploads go, limits, the write token's
//! source, whether the gallery is public, and where renditions are delivered from.

use crate::settings::Lookup;

#[derive(Debug, Clone, PartialEq)]
pub struct UploadSettings {
    /// `PIXFRONT_UPLOADS=Yes`: the pages and endpoints exist (off by default).
    pub enabled: bool,
    /// `PIXFRONT_RENDITIONS`: the renditions document rendered for each upload, if any.
    pub renditions: Option<String>,
    /// `UPLOAD_BUCKET` (default: the first of `SOURCE_BUCKETS`).
    pub bucket: Option<String>,
    /// `UPLOAD_PREFIX` (default `uploads/`): every upload key starts with it.
    pub prefix: String,
    /// `UPLOAD_MAX_BYTES` (default 25 MiB): larger files are refused while they stream in.
    pub max_bytes: u64,
    /// `UPLOAD_TOKEN` (or `UPLOAD_TOKEN_FILE`): the write token itself.
    pub token: Option<String>,
    /// `UPLOAD_TOKEN_SECRET_KEY`: the JSON field of the `SECRETS_MANAGER` secret holding the token.
    pub token_secret_key: Option<String>,
    /// `UPLOAD_GALLERY_PUBLIC=Yes`: reading the gallery needs no token.
    pub gallery_public: bool,
    /// `UPLOAD_RENDITIONS_URL`: base URL renditions are delivered from (the CDK's CloudFront
    /// output); unset, the gallery links them through this server.
    pub renditions_url: Option<String>,
    /// `UPLOAD_PRESIGN_SECONDS` (default 300): how long a presigned POST stays valid.
    pub presign_seconds: u64,
    /// `UPLOAD_NOT_AN_IMAGE` (default `keep`): what the upload pipeline does with an object
    /// that is not an image: `keep` it, `delete` it, or `quarantine` it (moved under
    /// `quarantine/`). It is never retried.
    pub not_an_image: NotAnImage,
}

/// What becomes of an uploaded object that turns out not to be an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotAnImage {
    #[default]
    Keep,
    Delete,
    Quarantine,
}

/// The key prefix a quarantined object is moved under (in the same bucket).
pub const QUARANTINE_PREFIX: &str = "quarantine/";

impl Default for UploadSettings {
    fn default() -> Self {
        UploadSettings {
            enabled: false,
            renditions: None,
            bucket: None,
            prefix: "uploads/".into(),
            max_bytes: 25 * 1024 * 1024,
            token: None,
            token_secret_key: None,
            gallery_public: false,
            renditions_url: None,
            presign_seconds: 300,
            not_an_image: NotAnImage::Keep,
        }
    }
}

impl UploadSettings {
    pub fn from_lookup(get: &Lookup) -> Result<UploadSettings, String> {
        let d = UploadSettings::default();
        let token = match get.non_empty("UPLOAD_TOKEN") {
            Some(t) => Some(t),
            None => match get.non_empty("UPLOAD_TOKEN_FILE") {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("UPLOAD_TOKEN_FILE {path}: {e}"))?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                ),
                None => None,
            },
        };
        let prefix = get.get("UPLOAD_PREFIX").unwrap_or(d.prefix);
        if prefix.starts_with('/') || prefix.split('/').any(|s| s == "..") {
            return Err(format!(
                "UPLOAD_PREFIX {prefix:?}: a key prefix cannot start with / or hold .."
            ));
        }
        let presign_seconds = get.number("UPLOAD_PRESIGN_SECONDS", d.presign_seconds)?;
        // SigV4 presigned requests are valid for at most 7 days.
        if presign_seconds == 0 || presign_seconds > 604_800 {
            return Err("UPLOAD_PRESIGN_SECONDS: expected 1 to 604800".into());
        }
        Ok(UploadSettings {
            enabled: get.yes("PIXFRONT_UPLOADS"),
            renditions: get.non_empty("PIXFRONT_RENDITIONS"),
            bucket: get.non_empty("UPLOAD_BUCKET"),
            prefix,
            max_bytes: get.number("UPLOAD_MAX_BYTES", d.max_bytes)?,
            token,
            token_secret_key: get.non_empty("UPLOAD_TOKEN_SECRET_KEY"),
            gallery_public: get.yes("UPLOAD_GALLERY_PUBLIC"),
            renditions_url: get
                .non_empty("UPLOAD_RENDITIONS_URL")
                .map(|u| u.trim_end_matches('/').to_string()),
            presign_seconds,
            not_an_image: match get
                .choice("UPLOAD_NOT_AN_IMAGE", &["keep", "delete", "quarantine"])?
                .as_deref()
            {
                Some("delete") => NotAnImage::Delete,
                Some("quarantine") => NotAnImage::Quarantine,
                _ => NotAnImage::Keep,
            },
        })
    }
}
