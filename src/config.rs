//! The whole configuration, composed for the front ends (`serve`, Lambda, CLI): each domain's
//! settings struct, read from one variable lookup. Modules below the front ends never see this
//! type; each is handed only its own part (`config.pipeline`, `config.faces`, …).
//!
//! Variables keep SIH's names (booleans are the exact string `Yes`, as in SIH) plus pixfront's
//! own; flags of `pixfront serve` override them (`server::settings` lists every one).

use crate::faces::FaceSettings;
use crate::http::{Handler, HandlerSettings, HttpSettings};
use crate::pipeline::PipelineSettings;
use crate::request::RequestSettings;
use crate::secrets::SecretSettings;
use crate::settings::Lookup;
use crate::storage::http::HttpOriginSettings;
use crate::storage::origins::{OriginSettings, Origins};
use crate::storage::result::{ResultSettings, S3Results};
use crate::storage::s3::S3Settings;
use crate::storage::Storage;
use crate::uploads::UploadSettings;
use std::sync::Arc;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// URL dialects: buckets, format negotiation, rewrites, signatures on/off.
    pub request: RequestSettings,
    /// Where the signing key comes from.
    pub secrets: SecretSettings,
    /// Limits and metadata.
    pub pipeline: PipelineSettings,
    /// Face detection.
    pub faces: FaceSettings,
    /// S3 addressing.
    pub s3: S3Settings,
    /// Named origins and key-prefix mappings.
    pub origins: OriginSettings,
    /// HTTP(S) origins: SSRF guard, limits, timeouts, cache of originals.
    pub origin_http: HttpOriginSettings,
    /// CORS, error caching, fallback image, admission.
    pub http: HttpSettings,
    /// Upload and gallery pages, presigned uploads.
    pub uploads: UploadSettings,
    /// The rendition store (`RESULT_BUCKET`).
    pub results: ResultSettings,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests can supply a map instead of the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let get = Lookup(&get);
        Ok(Config {
            request: RequestSettings::from_lookup(&get)?,
            secrets: SecretSettings::from_lookup(&get)?,
            pipeline: PipelineSettings::from_lookup(&get)?,
            faces: FaceSettings::from_lookup(&get)?,
            s3: S3Settings::from_lookup(&get),
            origins: OriginSettings::from_lookup(&get)?,
            origin_http: HttpOriginSettings::from_lookup(&get)?,
            http: HttpSettings::from_lookup(&get)?,
            uploads: UploadSettings::from_lookup(&get)?,
            results: ResultSettings::from_lookup(&get)?,
        })
    }

    /// The buckets the S3 health check probes: the store's buckets behind the allowed sources
    /// and path mappings (none when unset or invalid; HTTP origins have none).
    pub fn health_buckets(&self) -> Vec<String> {
        self.origins.store_buckets(&self.allowed_sources())
    }

    fn allowed_sources(&self) -> Vec<String> {
        crate::request::bucket::allowed(&self.request).unwrap_or_default()
    }

    /// Fails when `RESULT_BUCKET` is set for a front end without S3 (renditions live in S3).
    pub fn results_need_s3(&self) -> Result<(), String> {
        match &self.results.bucket {
            Some(b) => Err(format!(
                "RESULT_BUCKET={b} needs S3 (pixfront serve --s3, or Lambda without PIXFRONT_ROOT)"
            )),
            None => Ok(()),
        }
    }

    /// The handler with the rendition store `RESULT_BUCKET` names, when one is set.
    pub fn with_results(&self, handler: Handler, client: &aws_sdk_s3::Client) -> Handler {
        match S3Results::from_settings(client.clone(), &self.results) {
            Some(store) => handler.with_results(Arc::new(store), &self.results),
            None => handler,
        }
    }

    /// What the handler reads originals from: `store` (S3 or a folder) behind the configured
    /// origins. Fails on origin settings that cannot work (see `Origins::over`).
    pub fn storage_over(&self, store: Arc<dyn Storage>) -> Result<Arc<dyn Storage>, String> {
        Origins::over(store, &self.origins, &self.origin_http, &self.allowed_sources())
    }
}

impl From<Config> for HandlerSettings {
    fn from(c: Config) -> HandlerSettings {
        HandlerSettings {
            http: c.http,
            request: c.request,
            pipeline: c.pipeline,
            faces: c.faces,
            signature_secret: c.secrets.signature_secret,
        }
    }
}

impl From<&Config> for HandlerSettings {
    fn from(c: &Config) -> HandlerSettings {
        c.clone().into()
    }
}
