//! Uploads and a gallery for `pixfront serve` (and the presign endpoint for any front end): the
//! service pages on `/`, so they never shadow an image key.
//!
//! - `GET /?upload`: the upload page (file picker, drag and drop, a progress bar per file);
//! - `POST /?upload`: multipart/form-data into a folder ([`receive`]): validated from the bytes
//!   ([`check`]), stored under a safe key ([`keys`]), rendered through `PIXFRONT_RENDITIONS` with
//!   the upload pipeline's code ([`crate::renditions::render_all`]);
//! - `POST /?presign&name=…`: with S3, a presigned POST for one object ([`presign`]), so the
//!   browser sends the bytes to S3 and the S3 → SQS → renditions pipeline does the rest;
//! - `GET /?gallery[&page=N]`: uploads newest first with their renditions and URLs ([`gallery`]).
//!
//! Off unless `PIXFRONT_UPLOADS=Yes`. Writing needs the upload token (header `X-Upload-Token`,
//! `Authorization: Bearer`, the form field `token` before the files, or the `pixfront-upload`
//! cookie the page sets), compared in constant time; reading the gallery too unless
//! `UPLOAD_GALLERY_PUBLIC=Yes`.

pub mod check;
mod gallery;
pub mod keys;
mod pages;
pub mod presign;
mod receive;
pub mod settings;
pub mod store;

pub use keys::random_hex;
pub use settings::{NotAnImage, UploadSettings, QUARANTINE_PREFIX};
pub use store::Backend;

use crate::error::Error;
use crate::faces::FaceService;
use crate::http::{HttpRequest, HttpResponse, HttpSettings};
use crate::pipeline::PipelineSettings;
use crate::renditions::{Renditions, Sink};
use crate::request::SecretProvider;
use std::sync::Arc;

/// What the pages need besides their own settings, as the front end composed it.
#[derive(Debug, Clone, Default)]
pub struct UploadContext {
    pub pipeline: PipelineSettings,
    pub http: HttpSettings,
    pub force_blur_faces: Vec<String>,
    /// The default bucket of Thumbor and query URLs (the first of `SOURCE_BUCKETS`).
    pub default_bucket: String,
    /// Uploads being received or rendered at once; the rest wait (memory stays bounded by
    /// this × `UPLOAD_MAX_BYTES`).
    pub concurrency: usize,
}

pub struct Uploads {
    settings: UploadSettings,
    ctx: UploadContext,
    bucket: String,
    set: Option<Arc<Renditions>>,
    sink: Option<Arc<dyn Sink>>,
    backend: Backend,
    token: Arc<dyn SecretProvider>,
    faces: Option<Arc<FaceService>>,
    permits: Arc<tokio::sync::Semaphore>,
}

/// Which service page a request on `/` names, if any of the uploads'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Upload,
    Gallery,
    Presign,
}

/// The page `path` + `query` names: the first query parameter's name on the path `/`.
pub fn page_of(path: &str, query: &str) -> Option<Page> {
    if path != "/" {
        return None;
    }
    match query
        .split('&')
        .next()
        .unwrap_or("")
        .split('=')
        .next()
        .unwrap_or("")
    {
        "upload" => Some(Page::Upload),
        "gallery" => Some(Page::Gallery),
        "presign" => Some(Page::Presign),
        _ => None,
    }
}

impl Uploads {
    /// Checks the settings against each other; every mistake is a start-up error.
    pub fn new(
        settings: UploadSettings,
        ctx: UploadContext,
        backend: Backend,
        token: Arc<dyn SecretProvider>,
    ) -> Result<Uploads, String> {
        let bucket = settings
            .bucket
            .clone()
            .or_else(|| (!ctx.default_bucket.is_empty()).then(|| ctx.default_bucket.clone()))
            .ok_or("PIXFRONT_UPLOADS: UPLOAD_BUCKET or SOURCE_BUCKETS names the bucket uploads go to")?;
        let set = settings.renditions.as_deref().map(Renditions::load).transpose()?;
        let mut sink = None;
        if let Some(set) = &set {
            let dest = set
                .destination_bucket
                .as_deref()
                .ok_or("PIXFRONT_RENDITIONS: destinationBucket is required for uploads")?;
            if !settings.prefix.starts_with(&set.source_prefix) {
                return Err(format!(
                    "UPLOAD_PREFIX {:?} is outside the renditions' sourcePrefix {:?}",
                    settings.prefix, set.source_prefix
                ));
            }
            if dest == bucket && !set.prefixes_separate() {
                return Err(
                    "PIXFRONT_RENDITIONS: renditions in the upload bucket need a separating sourcePrefix"
                        .into(),
                );
            }
            sink = Some(backend.sink(dest));
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(ctx.concurrency.max(1)));
        Ok(Uploads {
            settings,
            ctx,
            bucket,
            set: set.map(Arc::new),
            sink,
            backend,
            token,
            faces: None,
            permits,
        })
    }

    /// Face detection for renditions that blur faces (without it they fail closed).
    pub fn with_faces(mut self, faces: Arc<FaceService>) -> Uploads {
        self.faces = Some(faces);
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `GET`/`HEAD` of a page, or `POST /?presign`; `POST /?upload` with its body is
    /// [`Uploads::receive`].
    pub async fn handle(&self, page: Page, req: &HttpRequest) -> HttpResponse {
        let post = req.method.eq_ignore_ascii_case("POST");
        let get = matches!(req.method.to_ascii_uppercase().as_str(), "GET" | "HEAD");
        match page {
            Page::Upload if get => {
                let mode = if matches!(self.backend, Backend::S3 { .. }) {
                    "s3"
                } else {
                    "server"
                };
                let names = self
                    .set
                    .as_ref()
                    .map(|s| s.renditions.iter().map(|r| r.name.clone()).collect());
                pages::upload_page(&self.ctx.http, mode, self.settings.max_bytes, names)
            }
            Page::Gallery if get => self.gallery(req).await,
            Page::Presign if post => self.presign(req).await,
            _ => self.error(
                req,
                &Error::new(405, "MethodNotAllowed", "Use GET for the pages, POST to upload."),
            ),
        }
    }

    /// Ok when `req` carries the upload token.
    async fn authorize(&self, req: &HttpRequest, form_token: Option<&str>) -> Result<(), Error> {
        let given = form_token
            .map(str::to_string)
            .or_else(|| req.header("X-Upload-Token").map(str::to_string))
            .or_else(|| {
                req.header("Authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
                    .map(str::to_string)
            })
            .or_else(|| cookie(req, "pixfront-upload"));
        let Some(given) = given.filter(|t| !t.is_empty()) else {
            return Err(unauthorized("This needs the upload token."));
        };
        self.token.refresh().await;
        let expected = self.token.signing_key().map_err(|_| {
            Error::new(
                503,
                "Upload::TokenUnavailable",
                "The upload token cannot be read; please retry.",
            )
        })?;
        use subtle::ConstantTimeEq;
        if expected.is_empty() || !bool::from(given.as_bytes().ct_eq(&expected)) {
            return Err(unauthorized("The upload token is wrong."));
        }
        Ok(())
    }

    async fn gallery(&self, req: &HttpRequest) -> HttpResponse {
        if !self.settings.gallery_public {
            if let Err(e) = self.authorize(req, None).await {
                return self.error(req, &e);
            }
        }
        let page = query_value(&req.query, "page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        match self.backend.list(&self.bucket, &self.settings.prefix).await {
            Ok(listed) => {
                let view = gallery::View {
                    http: &self.ctx.http,
                    bucket: &self.bucket,
                    default_bucket: &self.ctx.default_bucket,
                    set: self.set.as_deref(),
                    renditions_url: self.settings.renditions_url.as_deref(),
                };
                gallery::page(&view, req, &listed, page)
            }
            Err(e) => self.error(req, &e),
        }
    }

    async fn presign(&self, req: &HttpRequest) -> HttpResponse {
        if let Err(e) = self.authorize(req, None).await {
            return self.error(req, &e);
        }
        let Backend::S3 {
            sdk,
            endpoint,
            path_style,
            ..
        } = &self.backend
        else {
            let e = Error::new(409, "Upload::NotS3", "Presigned uploads need S3 (pixfront serve --s3 or Lambda); POST the file to /?upload instead.");
            return self.error(req, &e);
        };
        let name = query_value(&req.query, "name").unwrap_or_default();
        let key = keys::presigned(&self.settings.prefix, &name, &random_hex(8));
        let creds = match signing_credentials(sdk).await {
            Ok(c) => c,
            Err(e) => return self.error(req, &e),
        };
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let post = presign::presign_post(
            &presign::PostRequest {
                url: presign::bucket_url(endpoint.as_deref(), *path_style, &self.bucket, &region),
                bucket: &self.bucket,
                key: &key,
                region: &region,
                max_bytes: self.settings.max_bytes,
                expires_in: std::time::Duration::from_secs(self.settings.presign_seconds),
            },
            &creds,
            time::OffsetDateTime::now_utc(),
        );
        let body = serde_json::to_string(&post).unwrap_or_default();
        pages::respond(&self.ctx.http, 200, "application/json", body)
    }

    /// The error as JSON for API clients, as a page with a way back for people.
    fn error(&self, req: &HttpRequest, e: &Error) -> HttpResponse {
        if wants_json(req) {
            pages::respond(&self.ctx.http, e.status, "application/json", e.to_json())
        } else {
            pages::error_page(&self.ctx.http, std::slice::from_ref(&(String::new(), e.clone())))
        }
    }
}

fn unauthorized(message: &str) -> Error {
    Error::new(
        401,
        "Upload::Unauthorized",
        format!("{message} Enter the token on the upload page (or send X-Upload-Token) and retry."),
    )
}

async fn signing_credentials(sdk: &aws_config::SdkConfig) -> Result<presign::SigningCredentials, Error> {
    use aws_sdk_s3::config::ProvideCredentials;
    let no_creds = |d: String| {
        Error::new(
            503,
            "Upload::NoCredentials",
            format!("No AWS credentials to sign with: {d}"),
        )
    };
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| no_creds("none configured".into()))?;
    let c = provider
        .provide_credentials()
        .await
        .map_err(|e| no_creds(crate::aws::describe(&e)))?;
    Ok(presign::SigningCredentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: c.session_token().map(str::to_string),
    })
}

/// True when the client asked for JSON (API clients, the upload page's script).
pub fn wants_json(req: &HttpRequest) -> bool {
    req.header("Accept")
        .is_some_and(|a| a.contains("application/json"))
}

fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    let raw = req.header("Cookie")?;
    raw.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn query_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_live_on_the_path_slash_only() {
        assert_eq!(page_of("/", "upload"), Some(Page::Upload));
        assert_eq!(page_of("/", "gallery&page=2"), Some(Page::Gallery));
        assert_eq!(page_of("/", "presign&name=a.jpg"), Some(Page::Presign));
        // Image keys and edit parameters are never pages.
        assert_eq!(page_of("/upload", ""), None);
        assert_eq!(page_of("/photo.jpg", "upload"), None);
        assert_eq!(page_of("/", "width=100&upload"), None);
        assert_eq!(page_of("/", ""), None);
        let req = HttpRequest {
            headers: vec![("Cookie".into(), "a=1; pixfront-upload=t%20k".into())],
            ..HttpRequest::default()
        };
        assert_eq!(cookie(&req, "pixfront-upload").as_deref(), Some("t k"));
        assert_eq!(cookie(&req, "b"), None);
    }
}
