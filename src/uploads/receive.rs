//! `POST /?upload`: multipart/form-data read as it streams in, one file at a time, never more
//! than `UPLOAD_MAX_BYTES` of it in memory; each file checked from its bytes, stored under a
//! fresh key and rendered, or refused with nothing stored.

use super::{check, keys, pages, store, wants_json, Backend, Uploads};
use crate::error::Error;
use crate::faces::{CacheKey, FaceJob};
use crate::http::{HttpRequest, HttpResponse};
use crate::pipeline::Resources;
use crate::renditions::{self, Renditions};
use crate::storage::Object;
use bytes::Bytes;
use futures_util::Stream;
use std::sync::Arc;

/// Files one request may carry.
const MAX_FILES: u64 = 20;
/// Room for the form's other fields and part headers.
const FORM_OVERHEAD: u64 = 1 << 20;
/// Longest a form may take to arrive and be handled: a client trickling its body would
/// otherwise hold one of the upload slots for ever.
const FORM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
/// Name candidates tried (`name.jpg`, `name-2.jpg`, …) before giving up.
const MAX_CANDIDATES: u32 = 1000;

/// One file's outcome.
pub struct Outcome {
    pub name: String,
    pub result: Result<Stored, Error>,
}

pub struct Stored {
    pub key: String,
    /// (rendition name, key in the destination bucket)
    pub renditions: Vec<(String, String)>,
}

impl Uploads {
    /// Reads the form in `body` (the request's bytes as they arrive) and answers for each file.
    pub async fn receive<S, E>(&self, req: &HttpRequest, body: S) -> HttpResponse
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let timed_out = || {
            Error::new(
                408,
                "Upload::Timeout",
                "The upload took too long to arrive; please retry.",
            )
        };
        match tokio::time::timeout(FORM_TIMEOUT, self.receive_form(req, body)).await {
            Ok(Ok(outcomes)) => self.answer(req, outcomes),
            Ok(Err(e)) => self.error(req, &e),
            Err(_) => self.error(req, &timed_out()),
        }
    }

    async fn receive_form<S, E>(&self, req: &HttpRequest, body: S) -> Result<Vec<Outcome>, Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let Backend::Folder { root } = &self.backend else {
            return Err(Error::new(
                409,
                "Upload::UsePresign",
                "With S3, files go straight to the bucket: ask POST /?presign for a form.",
            ));
        };
        let boundary = req
            .header("Content-Type")
            .and_then(|ct| multer::parse_boundary(ct).ok())
            .ok_or_else(|| {
                Error::new(
                    415,
                    "Upload::NotAForm",
                    "Send the files as multipart/form-data (a form with a file field).",
                )
            })?;
        let max = self.settings.max_bytes;
        let whole = max.saturating_mul(MAX_FILES).saturating_add(FORM_OVERHEAD);
        // A declared length over the limit is refused before a byte of the body is read.
        if let Some(len) = req
            .header("Content-Length")
            .and_then(|l| l.trim().parse::<u64>().ok())
        {
            if len > whole {
                return Err(too_large(max));
            }
        }
        let mut authorized = match self.authorize(req, None).await {
            Ok(()) => true,
            Err(e) if e.status == 401 => false,
            Err(e) => return Err(e),
        };
        let missing = || super::unauthorized("This needs the upload token.");
        // Held while the body is read and rendered, so memory is bounded by permits × max.
        let _permit = self.permits.acquire().await.map_err(|_| Error::internal())?;
        let limits = multer::SizeLimit::new().whole_stream(whole).per_field(max);
        let mut form = multer::Multipart::with_constraints(
            body,
            boundary,
            multer::Constraints::new().size_limit(limits),
        );
        let mut overwrite = false;
        let mut outcomes = Vec::new();
        while let Some(mut field) = form.next_field().await.map_err(form_error(max))? {
            match field.name().unwrap_or("") {
                "token" if !authorized => {
                    let token = field.text().await.map_err(form_error(max))?;
                    self.authorize(req, Some(token.trim())).await?;
                    authorized = true;
                }
                "overwrite" => {
                    let v = field.text().await.map_err(form_error(max))?;
                    overwrite = matches!(v.trim(), "yes" | "on" | "true" | "1");
                }
                "file" => {
                    if !authorized {
                        return Err(missing());
                    }
                    if outcomes.len() as u64 >= MAX_FILES {
                        return Err(Error::new(
                            413,
                            "Upload::TooManyFiles",
                            format!("At most {MAX_FILES} files per upload; send the rest in another."),
                        ));
                    }
                    let name = field.file_name().unwrap_or("").to_string();
                    let mut bytes = bytes::BytesMut::new();
                    while let Some(chunk) = field.chunk().await.map_err(form_error(max))? {
                        bytes.extend_from_slice(&chunk);
                    }
                    // A picker with nothing chosen still sends one empty, nameless part.
                    if name.is_empty() && bytes.is_empty() {
                        continue;
                    }
                    let result = self.store_one(root, &name, bytes.freeze(), overwrite).await;
                    outcomes.push(Outcome { name, result });
                }
                // Anything else is read past, within the limits.
                _ => while field.chunk().await.map_err(form_error(max))?.is_some() {},
            }
        }
        if outcomes.is_empty() {
            if !authorized {
                return Err(missing());
            }
            return Err(Error::new(
                400,
                "Upload::NoFile",
                "The form had no file. Choose one or more photos and upload again.",
            ));
        }
        Ok(outcomes)
    }

    /// Checks, names, renders and writes one file; on any failure nothing of it is kept.
    async fn store_one(
        &self,
        root: &std::path::Path,
        name: &str,
        bytes: Bytes,
        overwrite: bool,
    ) -> Result<Stored, Error> {
        let format = check::format_of(&bytes, &self.ctx.pipeline)?;
        let stem = keys::stem(name);
        let prefix = self.settings.prefix.clone();
        for n in 1..=MAX_CANDIDATES {
            let key = keys::candidate(&prefix, &stem, format, n);
            if !overwrite && self.taken(root, &key) {
                continue;
            }
            let rendered = self.render(&key, &bytes).await?;
            let (root2, bucket, key2, body) = (
                root.to_path_buf(),
                self.bucket.clone(),
                key.clone(),
                bytes.clone(),
            );
            let placed = tokio::task::spawn_blocking(move || {
                store::write_file(&root2, &bucket, &key2, &body, overwrite)
            })
            .await
            .map_err(|_| Error::internal())??;
            if !placed {
                continue; // taken meanwhile by another upload of the same name
            }
            let mut renditions = Vec::new();
            if let Some(sink) = &self.sink {
                for r in &rendered {
                    if let Err(e) = sink.put(r).await {
                        store::remove_file(root, &self.bucket, &key);
                        return Err(e);
                    }
                    renditions.push((r.rendition.clone(), r.key.clone()));
                }
            }
            return Ok(Stored { key, renditions });
        }
        Err(Error::new(
            409,
            "Upload::NameTaken",
            "Too many uploads have this name; rename the file and retry.",
        ))
    }

    /// True when `key`, or a rendition it would write, exists: `a.png` after `a.jpg` would
    /// otherwise replace `a.jpg`'s renditions (`{stem}` is the same).
    fn taken(&self, root: &std::path::Path, key: &str) -> bool {
        if store::file_exists(root, &self.bucket, key) {
            return true;
        }
        let Some(set) = &self.set else { return false };
        let dest = set.destination_bucket.as_deref().unwrap_or_default();
        set.renditions.iter().any(|r| {
            r.key
                .resolve(key, &r.name)
                .is_ok_and(|k| store::file_exists(root, dest, &k))
        })
    }

    /// Every rendition of the document (or the probe when there is none), in memory.
    async fn render(&self, key: &str, bytes: &Bytes) -> Result<Vec<renditions::Rendered>, Error> {
        let set: Arc<Renditions> = match &self.set {
            Some(set) => set.clone(),
            None => Arc::new(check::probe().clone()),
        };
        let mut resources = Resources::default();
        if let Some(faces) = &self.faces {
            let cache_key = Some(CacheKey {
                bucket: self.bucket.clone(),
                key: key.to_string(),
                etag: format!("\"upload-{}\"", keys::random_hex(8)),
            });
            resources.faces = Some(FaceJob::new(faces.clone(), cache_key));
        }
        let original = Object {
            body: bytes.clone(),
            ..Object::default()
        };
        let (bucket, key, ctx) = (self.bucket.clone(), key.to_string(), self.ctx.clone());
        tokio::task::spawn_blocking(move || {
            renditions::render_all(
                &set,
                &bucket,
                &key,
                &original,
                &resources,
                &ctx.pipeline,
                &ctx.force_blur_faces,
            )
        })
        .await
        .map_err(|_| Error::internal())?
        .map_err(check::render_refused)
    }

    fn answer(&self, req: &HttpRequest, outcomes: Vec<Outcome>) -> HttpResponse {
        let failed: Vec<(String, Error)> = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().err().map(|e| (o.name.clone(), e.clone())))
            .collect();
        if wants_json(req) {
            let status = failed.first().map_or(201, |(_, e)| e.status);
            let list: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|o| match &o.result {
                    Ok(s) => serde_json::json!({
                        "name": o.name, "status": 201, "key": s.key,
                        "renditions": s.renditions.iter().map(|(n, k)| serde_json::json!({"name": n, "key": k})).collect::<Vec<_>>(),
                    }),
                    Err(e) => serde_json::json!({"name": o.name, "status": e.status, "code": e.code, "message": e.message}),
                })
                .collect();
            let body = serde_json::json!({ "uploads": list }).to_string();
            return pages::respond(&self.ctx.http, status, "application/json", body);
        }
        if failed.is_empty() {
            return pages::see_other("/?gallery");
        }
        pages::error_page(&self.ctx.http, &failed)
    }
}

fn too_large(max: u64) -> Error {
    Error::new(
        413,
        "Upload::TooLarge",
        format!(
            "The file is larger than {} MB, the upload limit. Make it smaller and upload it again.",
            max.div_ceil(1 << 20)
        ),
    )
}

/// A form that breaks off or breaks a limit while it is read.
fn form_error(max: u64) -> impl Fn(multer::Error) -> Error {
    move |e| match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => too_large(max),
        other => Error::new(
            400,
            "Upload::BadForm",
            format!("The form could not be read ({other}). Upload again."),
        ),
    }
}
