//! The URL signing key from AWS Secrets Manager (`SECRETS_MANAGER` secret id, `SECRET_KEY` JSON
//! field of its `SecretString`), as SIH reads it.
//!
//! Design: [`SecretProvider::signing_key`] is synchronous (request parsing is), so the key lives
//! in a cache that [`SecretProvider::refresh`] brings up to date; the HTTP handler awaits
//! `refresh()` before parsing a request when signatures are on. `refresh()` costs nothing while
//! the cached key is younger than the TTL (`SECRETS_MANAGER_TTL_SECONDS`, default 300 s); after
//! that, one request per container calls GetSecretValue (concurrent ones wait for it), so a
//! rotated secret is in use at most one TTL later. SIH caches the key for the container's life.
//! No background task: a Lambda container is frozen between invocations, where a timer would not
//! run.
//!
//! Failures (secret missing, access denied, not JSON, field absent or not a string): with no key
//! yet, every signed request gets SIH's 500 `SignatureValidationFailure`, and the read is retried
//! after [`RETRY_AFTER_FAILURE`]. A key that was valid is kept through a later failure, so an
//! outage of Secrets Manager does not break every signed URL; the failure is logged.

use crate::error::Error;
use crate::request::signature::validation_failure;
use crate::request::{SecretProvider, StaticSecret};
use crate::settings::Lookup;
use crate::BoxFuture;
use aws_config::SdkConfig;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Where the URL signing key comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretSettings {
    /// `SECRETS_MANAGER`: secret id holding the signing key (Lambda deployments).
    pub secrets_manager: Option<String>,
    /// `SECRET_KEY`: JSON field of that secret.
    pub secret_key: Option<String>,
    /// `SECRETS_MANAGER_TTL_SECONDS` (default 300): how long a key read from Secrets Manager is
    /// used before it is read again (so a rotated secret is picked up).
    pub secrets_manager_ttl_seconds: u64,
    /// `SIGNATURE_SECRET`: the signing key itself, for self-hosting (or `SIGNATURE_SECRET_FILE`).
    pub signature_secret: Option<String>,
}

impl Default for SecretSettings {
    fn default() -> Self {
        SecretSettings {
            secrets_manager: None,
            secret_key: None,
            secrets_manager_ttl_seconds: 300,
            signature_secret: None,
        }
    }
}

impl SecretSettings {
    pub fn from_lookup(get: &Lookup) -> Result<SecretSettings, String> {
        let signature_secret = match get.non_empty("SIGNATURE_SECRET") {
            Some(s) => Some(s),
            None => match get.non_empty("SIGNATURE_SECRET_FILE") {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("SIGNATURE_SECRET_FILE {path}: {e}"))?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                ),
                None => None,
            },
        };
        Ok(SecretSettings {
            secrets_manager: get.non_empty("SECRETS_MANAGER"),
            secret_key: get.non_empty("SECRET_KEY"),
            secrets_manager_ttl_seconds: get.number("SECRETS_MANAGER_TTL_SECONDS", 300)?,
            signature_secret,
        })
    }
}

/// How soon a failed read is tried again (capped by the TTL).
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// The signing key source `config` asks for: Secrets Manager when `SECRETS_MANAGER` is set (as
/// in SIH), else `SIGNATURE_SECRET` / `SIGNATURE_SECRET_FILE`. The SDK configuration is only
/// loaded when Secrets Manager is used.
pub async fn provider_from_env(config: &SecretSettings) -> Arc<dyn SecretProvider> {
    if config.secrets_manager.is_some() {
        let sdk = crate::aws::load_sdk_config().await;
        provider(config, &sdk)
    } else {
        Arc::new(StaticSecret(config.signature_secret.clone()))
    }
}

/// [`provider_from_env`] with an SDK configuration the caller already has.
pub fn provider(config: &SecretSettings, sdk: &SdkConfig) -> Arc<dyn SecretProvider> {
    match &config.secrets_manager {
        Some(_) => Arc::new(SecretsManagerSecret::from_sdk_config(sdk, config)),
        None => Arc::new(StaticSecret(config.signature_secret.clone())),
    }
}

#[derive(Debug, Default)]
struct Cached {
    key: Option<Vec<u8>>,
    /// When the next `refresh()` reads the secret again; `None` until the first read.
    next_read: Option<Instant>,
}

/// A [`SecretProvider`] reading Secrets Manager, cached with a TTL (see the module docs).
#[derive(Debug)]
pub struct SecretsManagerSecret {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    field: String,
    ttl: Duration,
    cached: RwLock<Cached>,
    /// Held while reading, so a burst of requests after expiry makes one call, not hundreds.
    reading: tokio::sync::Mutex<()>,
}

impl SecretsManagerSecret {
    pub fn from_sdk_config(sdk: &SdkConfig, config: &SecretSettings) -> SecretsManagerSecret {
        SecretsManagerSecret::new(aws_sdk_secretsmanager::Client::new(sdk), config)
    }

    /// Secret id, field and TTL from `config` (`SECRETS_MANAGER`, `SECRET_KEY`,
    /// `SECRETS_MANAGER_TTL_SECONDS`).
    pub fn new(client: aws_sdk_secretsmanager::Client, config: &SecretSettings) -> SecretsManagerSecret {
        SecretsManagerSecret {
            client,
            secret_id: config.secrets_manager.clone().unwrap_or_default(),
            field: config.secret_key.clone().unwrap_or_default(),
            ttl: Duration::from_secs(config.secrets_manager_ttl_seconds),
            cached: RwLock::new(Cached::default()),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    fn due(&self) -> bool {
        let cached = self.cached.read().unwrap_or_else(|p| p.into_inner());
        cached.next_read.is_none_or(|t| Instant::now() >= t)
    }

    async fn read(&self) -> Result<Vec<u8>, String> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await;
        crate::aws::count_call(crate::telemetry::Service::SecretsManager, &out);
        let out = out.map_err(|e| {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(inner) = source {
                s.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            s
        })?;
        let text = out.secret_string().ok_or("the secret has no SecretString")?;
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("SecretString is not JSON: {e}"))?;
        match json.get(&self.field) {
            Some(serde_json::Value::String(k)) => Ok(k.as_bytes().to_vec()),
            Some(_) => Err(format!("field {:?} of the secret is not a string", self.field)),
            None => Err(format!("the secret has no field {:?} (SECRET_KEY)", self.field)),
        }
    }
}

impl SecretProvider for SecretsManagerSecret {
    fn signing_key(&self) -> Result<Vec<u8>, Error> {
        let cached = self.cached.read().unwrap_or_else(|p| p.into_inner());
        cached.key.clone().ok_or_else(validation_failure)
    }

    fn refresh(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if !self.due() {
                return;
            }
            let _reading = self.reading.lock().await;
            if !self.due() {
                return; // another request read it while this one waited
            }
            let result = self.read().await;
            let mut cached = self.cached.write().unwrap_or_else(|p| p.into_inner());
            match result {
                Ok(key) => {
                    cached.key = Some(key);
                    cached.next_read = Some(Instant::now() + self.ttl);
                }
                Err(e) => {
                    tracing::error!(
                        secret_id = %self.secret_id,
                        kept_previous_key = cached.key.is_some(),
                        error = %e,
                        "cannot read the signing key from Secrets Manager"
                    );
                    cached.next_read = Some(Instant::now() + self.ttl.min(RETRY_AFTER_FAILURE));
                }
            }
        })
    }
}
