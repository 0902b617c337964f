//! The upload pages of `pixfront serve` (and of the Lambda front end, over S3), when `PIXFRONT_UPLOADS=Yes`: built over the served
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

/// The token source, and the token to print when it was made up here (`make_up`).
fn token(
    config: &Config,
    sdk: Option<&aws_config::SdkConfig>,
    make_up: bool,
) -> Result<(Arc<dyn SecretProvider>, Option<String>), String> {
    let u = &config.uploads;
    if let (Some(field), Some(sdk)) = (&u.token_secret_key, sdk) {
        let settings = SecretSettings {
            secret_key: Some(field.clone()),
            ..config.secrets.clone()
        };
        if settings.secrets_manager.is_some() {
            let secret = SecretsManagerSecret::from_sdk_config(sdk, &settings);
            return Ok((Arc::new(secret), None));
        }
    }
    match &u.token {
        Some(t) => Ok((Arc::new(StaticSecret(Some(t.clone()))), None)),
        None if make_up => {
            let t = crate::uploads::random_hex(16);
            Ok((Arc::new(StaticSecret(Some(t.clone()))), Some(t)))
        }
        None => Err("PIXFRONT_UPLOADS: set UPLOAD_TOKEN, UPLOAD_TOKEN_FILE or UPLOAD_TOKEN_SECRET_KEY (with SECRETS_MANAGER)".into()),
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
    let (token, made_up) = token(config, sdk.as_ref(), true)?;
    let backend = Backend::Folder {
        root: root.to_path_buf(),
    };
    let uploads = Uploads::new(config.uploads.clone(), context(config), backend, token)?.with_faces(faces);
    let dir = root.join(uploads.bucket());
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    banner(addr, made_up);
    Ok(Some(Arc::new(uploads)))
}

/// Over S3: the page asks `/?presign` and the browser posts to the bucket. `addr`: where
/// `serve` listens (a token may then be made up and printed); `None` on Lambda.
pub fn s3(
    config: &Config,
    sdk: &aws_config::SdkConfig,
    client: aws_sdk_s3::Client,
    faces: Arc<FaceService>,
    addr: Option<SocketAddr>,
) -> Result<Option<Arc<Uploads>>, String> {
    if !config.uploads.enabled {
        return Ok(None);
    }
    let (token, made_up) = token(config, Some(sdk), addr.is_some())?;
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
    if let Some(addr) = addr {
        banner(addr, made_up);
    }
    Ok(Some(Arc::new(uploads)))
}
