//! Originals from HTTP(S) origins, fetched safely (docs/origins.md).
//!
//! Every fetch goes through the SSRF guard ([`guard`]): the URL is checked before each request
//! (the first and every redirect, which is followed here, not by the client, and only up to
//! `ORIGIN_MAX_REDIRECTS`), and the client resolves names only through the guarded resolver, with
//! system proxies off, so it connects to checked addresses only. The answer is bounded in size
//! while it streams and in time (connect, each read, the whole fetch), and kept only when its
//! bytes are an image ([`crate::pipeline::sniff`]; the origin's Content-Type is ignored).
//!
//! Nothing of the client's request reaches the origin: the storage interface carries a bucket
//! and a key only. A request to an origin carries exactly `Host`, `User-Agent: pixfront/<version>`,
//! `Accept: image/*`, `Accept-Encoding: identity` and, when revalidating, `If-None-Match` /
//! `If-Modified-Since`.
//!
//! Answers map like S3's: a 4xx from the origin (other than 408/429) is SIH's 404 `NoSuchKey`;
//! 5xx, 408, 429, refused or broken connections are 503 `ImageRetrieval::Unavailable` and
//! timeouts 503 `ImageRetrieval::Timeout` (both `no-store`), never a cacheable 404.

pub mod cache;
pub mod guard;
pub mod settings;

use super::{no_such_key, Object};
use crate::error::Error;
use bytes::BytesMut;
use cache::{Fetched, OriginalsCache};
use guard::{AddressGuard, GuardedResolver, Refused, UrlRules};
use reqwest::header::{self, HeaderMap};
use reqwest::Url;
pub use settings::HttpOriginSettings;
use std::sync::Arc;

/// An image is recognised within its first bytes (SVG within the first 4 KiB): a fetch that is
/// not an image stops there instead of downloading the rest.
const SNIFF_BYTES: usize = 4096;

/// The HTTP client, guard and originals cache shared by every HTTP origin.
pub struct HttpStore {
    client: reqwest::Client,
    settings: HttpOriginSettings,
    guard: AddressGuard,
    cache: OriginalsCache,
}

impl HttpStore {
    pub fn new(settings: &HttpOriginSettings) -> Result<HttpStore, String> {
        let guard = AddressGuard {
            allowed: settings.allow_networks.clone(),
        };
        let client = reqwest::Client::builder()
            // A proxy would be connected to instead of the checked address.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { guard: guard.clone() }))
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(settings.connect_timeout)
            .user_agent(concat!("pixfront/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP origins: cannot build the HTTP client: {e}"))?;
        Ok(HttpStore {
            client,
            cache: OriginalsCache::new(settings.cache_bytes, settings.cache_ttl),
            settings: settings.clone(),
            guard,
        })
    }

    pub fn guard(&self) -> &AddressGuard {
        &self.guard
    }

    /// The original at `url`, from the cache or the origin (concurrent misses share one fetch).
    /// `free_form`: the URL came from the request, so `ORIGIN_URL_HOSTS` applies to it and to
    /// every redirect. `key` names the image in a 404.
    pub async fn get(&self, url: Url, free_form: bool, key: &str) -> Result<Object, Error> {
        // A URL key is checked against ORIGIN_URL_HOSTS on every redirect, a configured origin
        // is not: the two never share what they fetched.
        let cache_key = if free_form {
            format!("url-key {url}")
        } else {
            url.to_string()
        };
        self.cache
            .get(&cache_key, |stale| self.fetch(url, free_form, key, stale))
            .await
    }

    async fn fetch(
        &self,
        url: Url,
        free_form: bool,
        key: &str,
        stale: Option<Object>,
    ) -> Result<Fetched, Error> {
        let fetch = self.follow(url.clone(), free_form, key, stale.as_ref());
        let result = tokio::time::timeout(self.settings.timeout, fetch)
            .await
            .unwrap_or_else(|_| Err(Error::origin_timeout()));
        match &result {
            Ok(Fetched::Full(o)) => tracing::debug!(%url, bytes = o.body.len(), "origin fetch"),
            Ok(Fetched::NotModified(_)) => tracing::debug!(%url, "origin fetch: not modified"),
            Err(e) => tracing::warn!(%url, code = %e.code, "origin fetch failed"),
        }
        result
    }

    /// Requests `url`, following allowed redirects, each checked before it is requested.
    async fn follow(
        &self,
        mut url: Url,
        free_form: bool,
        key: &str,
        stale: Option<&Object>,
    ) -> Result<Fetched, Error> {
        let rules = UrlRules {
            allow_http: self.settings.allow_http,
            hosts: free_form.then_some(&self.settings.url_hosts[..]),
        };
        let mut redirects = 0;
        loop {
            guard::check_url(&url, rules, &self.guard)?;
            let mut request = self
                .client
                .get(url.clone())
                .header(header::ACCEPT, "image/*")
                .header(header::ACCEPT_ENCODING, "identity");
            if let Some(stale) = stale {
                if let Some(etag) = &stale.etag {
                    request = request.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(modified) = stale.last_modified {
                    request = request.header(header::IF_MODIFIED_SINCE, httpdate::fmt_http_date(modified));
                }
            }
            // Connecting has its own timeout; the answer's head must follow within a read timeout.
            let head_wait = self.settings.connect_timeout + self.settings.read_timeout;
            let response = tokio::time::timeout(head_wait, request.send())
                .await
                .map_err(|_| Error::origin_timeout())?
                .map_err(|e| send_error(&e))?;
            match response.status().as_u16() {
                200 => return self.body(response).await.map(Fetched::Full),
                304 if stale.is_some() => return Ok(Fetched::NotModified(metadata(response.headers()))),
                // Not modified since what? Nothing was asked.
                304 => return Err(Error::store_unavailable()),
                301 | 302 | 303 | 307 | 308 if redirects < self.settings.max_redirects => {
                    url = response
                        .headers()
                        .get(header::LOCATION)
                        .and_then(|l| l.to_str().ok())
                        .and_then(|l| url.join(l).ok())
                        .ok_or_else(Error::origin_redirected)?;
                    redirects += 1;
                }
                300..=399 => return Err(Error::origin_redirected()),
                408 | 429 => return Err(Error::store_unavailable()),
                400..=499 => return Err(no_such_key(key)),
                _ => return Err(Error::store_unavailable()),
            }
        }
    }

    /// The body, refused as soon as it is over the size limit or shows it is not an image.
    async fn body(&self, mut response: reqwest::Response) -> Result<Object, Error> {
        let max = self.settings.max_bytes;
        let announced = response.content_length();
        if announced.is_some_and(|n| n > max) {
            return Err(Error::origin_too_large(max));
        }
        let mut object = metadata(response.headers());
        // Content-Length may lie: reserve at most 1 MiB up front.
        let mut body = BytesMut::with_capacity(announced.unwrap_or(0).min(1 << 20) as usize);
        let mut sniffed = false;
        loop {
            let chunk = tokio::time::timeout(self.settings.read_timeout, response.chunk())
                .await
                .map_err(|_| Error::origin_timeout())?
                .map_err(|e| send_error(&e))?;
            let Some(chunk) = chunk else { break };
            if (body.len() + chunk.len()) as u64 > max {
                return Err(Error::origin_too_large(max));
            }
            body.extend_from_slice(&chunk);
            if !sniffed && body.len() >= SNIFF_BYTES {
                image_type(&body)?;
                sniffed = true;
            }
        }
        object.content_type = Some(image_type(&body)?.to_string());
        object.body = body.freeze();
        Ok(object)
    }
}

fn image_type(bytes: &[u8]) -> Result<&'static str, Error> {
    crate::pipeline::sniff::sniff(bytes)
        .map(|format| format.mime())
        .ok_or_else(Error::origin_not_an_image)
}

/// What SIH copies from an original's metadata into its answer, from the origin's headers.
fn metadata(headers: &HeaderMap) -> Object {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let date = |name| text(name).and_then(|v| httpdate::parse_http_date(&v).ok());
    Object {
        cache_control: text(header::CACHE_CONTROL),
        expires: date(header::EXPIRES),
        last_modified: date(header::LAST_MODIFIED),
        etag: text(header::ETAG),
        ..Object::default()
    }
}

/// A failed request: refused by the resolver (the guard), timed out, or the origin unreachable.
fn send_error(e: &reqwest::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.downcast_ref::<Refused>().is_some() {
            return Error::origin_address_refused();
        }
        source = err.source();
    }
    if e.is_timeout() {
        Error::origin_timeout()
    } else {
        Error::store_unavailable()
    }
}
