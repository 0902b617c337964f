//! The upload pages of `pixfront serve`, when `PIXFRONT_UPLOADS=Yes`: built over the served
//! folder or S3, with the token from `UPLOAD_TOKEN(_FILE)`, Secrets Manager, or (serve only)
//! made up at start and printed, so one command gives a working upload page.

use crate::config::Config;
use crate::faces::FaceService;
use crate::request::{SecretProvider, StaticSecret};
use crate::secrets::{SecretSettings, SecretsManagerSecret};
use crate::uploads::{Backend, UploadContext, Uploads};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

fn context(config: &Config) -> UploadContext {
    let default_bucket = crate::request::bucket::allowed(&config.request)
        .ok()
        .and_then(|b| b.into_iter().find(|b| !b.is_empty()))
        .unwrap_or_default();
    UploadContext {
        pipeline: config.pipeline.clone(),
        http: config.http.clone(),
        force_blur_faces: config.faces.force_blur_faces.clone(),
        default_bucket,
        concurrency: 2 * config.http.in_flight_limit(),
    }
}

/// The token source, and the token to print when it was made up here.
fn token(config: &Config, sdk: Option<&aws_config::SdkConfig>) -> (Arc<dyn SecretProvider>, Option<String>) {
    let u = &config.uploads;
    if let (Some(field), Some(sdk)) = (&u.token_secret_key, sdk) {
        let settings = SecretSettings {
            secret_key: Some(field.clone()),
            ..config.secrets.clone()
        };
        if settings.secrets_manager.is_some() {
            return (
                Arc::new(SecretsManagerSecret::from_sdk_config(sdk, &settings)),
                None,
            );
        }
    }
    match &u.token {
        Some(t) => (Arc::new(StaticSecret(Some(t.clone()))), None),
        None => {
            let t = crate::uploads::random_hex(16);
            (Arc::new(StaticSecret(Some(t.clone()))), Some(t))
        }
    }
}

fn banner(addr: SocketAddr, made_up: Option<String>) {
    let base = format!("http://{addr}");
    match made_up {
        // In the fragment, which browsers never send: the page fills the token field from it.
        Some(t) => println!("  upload:     {base}/?upload#token={t}   (token made up for this run; set UPLOAD_TOKEN to choose one)"),
        None => println!("  upload:     {base}/?upload"),
    }
    println!("  gallery:    {base}/?gallery");
}

/// Over the folder `root` (one sub-folder per bucket).
pub async fn local(
    config: &Config,
    root: &Path,
    faces: Arc<FaceService>,
    addr: SocketAddr,
) -> Result<Option<Arc<Uploads>>, String> {
    if !config.uploads.enabled {
        return Ok(None);
    }
    let sdk = match config.secrets.secrets_manager {
        Some(_) => Some(crate::aws::load_sdk_config().await),
        None => None,
    };
    let (token, made_up) = token(config, sdk.as_ref());
    let backend = Backend::Folder {
        root: root.to_path_buf(),
    };
    let uploads = Uploads::new(config.uploads.clone(), context(config), backend, token)?.with_faces(faces);
    let dir = root.join(uploads.bucket());
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    banner(addr, made_up);
    Ok(Some(Arc::new(uploads)))
}

/// Over S3: the page asks `/?presign` and the browser posts to the bucket.
pub fn s3(
    config: &Config,
    sdk: &aws_config::SdkConfig,
    client: aws_sdk_s3::Client,
    faces: Arc<FaceService>,
    addr: SocketAddr,
) -> Result<Option<Arc<Uploads>>, String> {
    if !config.uploads.enabled {
        return Ok(None);
    }
    let (token, made_up) = token(config, Some(sdk));
    let backend = Backend::S3 {
        client,
        sdk: sdk.clone(),
        endpoint: std::env::var("AWS_ENDPOINT_URL_S3")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok()
            .filter(|e| !e.is_empty()),
        path_style: config.s3.force_path_style,
    };
    let uploads = Uploads::new(config.uploads.clone(), context(config), backend, token)?.with_faces(faces);
    banner(addr, made_up);
    Ok(Some(Arc::new(uploads)))
}
