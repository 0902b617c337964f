//! Origins: where a request's bucket and key lead. All of the routing is here.
//!
//! - `SOURCE_BUCKETS` stays the list of names a request may choose, the SIH way (a Default
//!   request's `bucket`, a Thumbor `s3:<name>` segment, `overlayWith.bucket`); the first is the
//!   default.
//! - `ORIGINS` gives names a target: an HTTP(S) base URL (`photos=https://img.example.com/media/`)
//!   or a bucket of the object store under another name (`legacy=s3:my-old-bucket`). A name
//!   without an entry is a bucket of the store, as before.
//! - `ORIGIN_PATHS` sends keys of the default bucket that start with a prefix to a named origin
//!   or bucket, without the prefix (`cms/=photos`: key `cms/a/b.jpg` is `a/b.jpg` of `photos`);
//!   the longest prefix wins.
//! - With `ORIGIN_URL_HOSTS` set, a key of the default bucket that is an absolute URL
//!   (`https://host/…`) is fetched from that URL, if its host is listed.
//!
//! A key becomes a URL below the base by percent-encoding each `/`-separated segment, so it
//! cannot add a query or leave the base path (`.`/`..` segments are refused as missing keys).

use super::http::{guard, HttpOriginSettings, HttpStore};
use super::{no_such_key, BoxFuture, Object, Storage};
use crate::error::Error;
use crate::settings::Lookup;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Url;
use std::sync::Arc;

/// What an origin name stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A bucket of the object store (S3, or a folder with `PIXFRONT_ROOT`).
    Bucket(String),
    /// An HTTP(S) base URL ending with `/`; keys are appended to it.
    Http(Url),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub name: String,
    pub target: Target,
}

/// `ORIGIN_PATHS` entry: keys of the default bucket starting with `prefix` go to `origin`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathMapping {
    pub prefix: String,
    /// An `ORIGINS` name or a bucket of the store.
    pub origin: String,
}

/// `ORIGINS` and `ORIGIN_PATHS`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginSettings {
    pub origins: Vec<Origin>,
    pub paths: Vec<PathMapping>,
}

impl Origin {
    /// `name=https://host/base/`, `name=http://…` or `name=s3:bucket`.
    pub fn parse(entry: &str) -> Result<Origin, String> {
        let (name, target) = entry
            .split_once('=')
            .ok_or_else(|| format!("{entry:?}: expected name=https://… or name=s3:bucket"))?;
        let (name, target) = (name.trim(), target.trim());
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(format!(
                "{name:?}: an origin name is letters, digits, '.', '_' and '-'"
            ));
        }
        let target = if let Some(bucket) = target.strip_prefix("s3:") {
            if bucket.trim().is_empty() {
                return Err(format!("{name}: s3: needs a bucket name"));
            }
            Target::Bucket(bucket.trim().to_string())
        } else {
            Target::Http(base_url(name, target)?)
        };
        Ok(Origin {
            name: name.to_string(),
            target,
        })
    }
}

fn base_url(name: &str, target: &str) -> Result<Url, String> {
    let mut url = Url::parse(target)
        .map_err(|e| format!("{name}: {target:?} is not https://…, http://… or s3:<bucket> ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(format!("{name}: {target:?} is not an http(s) URL"));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!(
            "{name}: a base URL has no query, fragment or credentials"
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Comma-separated `a=b` entries, blanks skipped.
fn entries(get: &Lookup, key: &str) -> Vec<String> {
    get.get(key)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl OriginSettings {
    pub fn from_lookup(get: &Lookup) -> Result<OriginSettings, String> {
        let mut origins: Vec<Origin> = Vec::new();
        for entry in entries(get, "ORIGINS") {
            let origin = Origin::parse(&entry).map_err(|e| format!("ORIGINS: {e}"))?;
            if origins.iter().any(|o| o.name == origin.name) {
                return Err(format!("ORIGINS: {} is named twice", origin.name));
            }
            origins.push(origin);
        }
        let mut paths = Vec::new();
        for entry in entries(get, "ORIGIN_PATHS") {
            let (prefix, origin) = entry
                .split_once('=')
                .ok_or_else(|| format!("ORIGIN_PATHS: {entry:?}: expected key-prefix=origin"))?;
            // Keys have no leading slash; `/cms/` reads as `cms/`.
            let prefix = prefix.trim().trim_start_matches('/');
            let origin = origin.trim();
            if prefix.is_empty() || origin.is_empty() {
                return Err(format!("ORIGIN_PATHS: {entry:?}: expected key-prefix=origin"));
            }
            paths.push(PathMapping {
                prefix: prefix.to_string(),
                origin: origin.to_string(),
            });
        }
        Ok(OriginSettings { origins, paths })
    }

    fn target(&self, name: &str) -> Option<&Target> {
        self.origins.iter().find(|o| o.name == name).map(|o| &o.target)
    }

    /// The object store's buckets that `names` and the path mappings lead to (HTTP origins
    /// have none): what the store's health check reads and the Lambda role must be allowed.
    pub fn store_buckets(&self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mapped = self.paths.iter().map(|p| &p.origin);
        for name in names.iter().chain(mapped).filter(|n| !n.is_empty()) {
            let bucket = match self.target(name) {
                Some(Target::Http(_)) => continue,
                Some(Target::Bucket(b)) => b,
                None => name,
            };
            if !out.contains(bucket) {
                out.push(bucket.clone());
            }
        }
        out
    }
}

/// Where one read goes.
enum Route<'a> {
    Store { bucket: &'a str, key: &'a str },
    Http { url: Url, free_form: bool },
}

/// The object store behind the configured origins (a [`Storage`] itself).
pub struct Origins {
    store: Arc<dyn Storage>,
    settings: OriginSettings,
    /// Present when an origin is HTTP(S) or free-form URLs are on.
    http: Option<HttpStore>,
    free_form: bool,
    default_bucket: Option<String>,
    /// False when every name leads to an HTTP origin: the store's health is then not ours.
    uses_store: bool,
}

impl Origins {
    /// `store` behind the origins; `store` itself when nothing is configured. `allowed` is
    /// `SOURCE_BUCKETS` parsed (the first is the default bucket). Refuses settings that cannot
    /// work: an `http://` origin without `ORIGIN_ALLOW_HTTP`, a base URL on a refused address,
    /// an origin no request could reach.
    pub fn over(
        store: Arc<dyn Storage>,
        settings: &OriginSettings,
        http: &HttpOriginSettings,
        allowed: &[String],
    ) -> Result<Arc<dyn Storage>, String> {
        let free_form = !http.url_hosts.is_empty();
        if settings.origins.is_empty() && settings.paths.is_empty() && !free_form {
            return Ok(store);
        }
        let any_http = settings
            .origins
            .iter()
            .any(|o| matches!(o.target, Target::Http(_)));
        let http_store = (any_http || free_form)
            .then(|| HttpStore::new(http))
            .transpose()?;
        for origin in &settings.origins {
            let reachable =
                allowed.contains(&origin.name) || settings.paths.iter().any(|p| p.origin == origin.name);
            if !reachable {
                return Err(format!(
                    "ORIGINS: {} is neither in SOURCE_BUCKETS nor the target of an ORIGIN_PATHS entry: no request can reach it",
                    origin.name
                ));
            }
            if let (Target::Http(base), Some(h)) = (&origin.target, &http_store) {
                let rules = guard::UrlRules {
                    allow_http: http.allow_http,
                    hosts: None,
                };
                guard::check_url(base, rules, h.guard())
                    .map_err(|e| format!("ORIGINS: {}: {} {}", origin.name, e.code, e.message))?;
            }
        }
        let default_bucket = allowed.first().filter(|b| !b.is_empty()).cloned();
        Ok(Arc::new(Origins {
            store,
            uses_store: !settings.store_buckets(allowed).is_empty(),
            settings: settings.clone(),
            http: http_store,
            free_form,
            default_bucket,
        }))
    }

    fn route<'a>(&'a self, bucket: &'a str, key: &'a str) -> Result<Route<'a>, Error> {
        if self.default_bucket.as_deref() == Some(bucket) {
            if self.free_form && looks_like_url(key) {
                let url =
                    Url::parse(key).map_err(|_| Error::origin_url_refused("the key is not a valid URL"))?;
                return Ok(Route::Http { url, free_form: true });
            }
            let mapping = self
                .settings
                .paths
                .iter()
                .filter(|m| key.starts_with(&m.prefix))
                .max_by_key(|m| m.prefix.len());
            if let Some(m) = mapping {
                return self.named(&m.origin, &key[m.prefix.len()..]);
            }
        }
        self.named(bucket, key)
    }

    fn named<'a>(&'a self, name: &'a str, key: &'a str) -> Result<Route<'a>, Error> {
        match self.settings.target(name) {
            None => Ok(Route::Store { bucket: name, key }),
            Some(Target::Bucket(bucket)) => Ok(Route::Store { bucket, key }),
            Some(Target::Http(base)) => {
                let url = object_url(base, key).ok_or_else(|| no_such_key(key))?;
                Ok(Route::Http {
                    url,
                    free_form: false,
                })
            }
        }
    }

    async fn fetch(&self, bucket: &str, key: &str, head: bool) -> Result<Object, Error> {
        let result = match self.route(bucket, key)? {
            Route::Store { bucket, key } if head => self.store.head(bucket, key).await,
            Route::Store { bucket, key } => self.store.get(bucket, key).await,
            Route::Http { url, free_form } => {
                let http = self.http.as_ref().ok_or_else(Error::internal)?;
                // A revalidation reads through the cache, so the render that may follow does
                // not fetch again.
                let mut object = http.get(url, free_form, key).await?;
                if head {
                    object.body = bytes::Bytes::new();
                }
                Ok(object)
            }
        };
        // SIH's message names the key of the request, not the one the route produced.
        result.map_err(|e| {
            if e.code == "NoSuchKey" {
                no_such_key(key)
            } else {
                e
            }
        })
    }
}

/// `scheme:/…`: an absolute URL rather than an object key.
fn looks_like_url(key: &str) -> bool {
    key.split_once(':').is_some_and(|(scheme, rest)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && rest.starts_with('/')
    })
}

/// Everything but RFC 3986's unreserved characters is escaped in a segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The object's URL below `base`, or `None` for a key that could leave it.
fn object_url(base: &Url, key: &str) -> Option<Url> {
    if key.is_empty() || key.contains('\0') || key.split('/').any(|s| s == "." || s == "..") {
        return None;
    }
    let path: Vec<String> = key
        .split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    Url::parse(&format!("{base}{}", path.join("/"))).ok()
}

impl Storage for Origins {
    fn get<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>> {
        Box::pin(self.fetch(bucket, key, false))
    }

    fn head<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Object, Error>> {
        Box::pin(self.fetch(bucket, key, true))
    }

    /// The store's health; HTTP origins are not probed (their outages are per request 503s).
    fn health(&self) -> BoxFuture<'_, Result<(), Error>> {
        if self.uses_store {
            self.store.health()
        } else {
            Box::pin(async { Ok(()) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::fs::FsStorage;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<(OriginSettings, HttpOriginSettings), String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let get = Lookup(&|k| map.get(k).cloned());
        Ok((
            OriginSettings::from_lookup(&get)?,
            HttpOriginSettings::from_lookup(&get)?,
        ))
    }

    fn origins(vars: &[(&str, &str)], allowed: &[&str]) -> Result<Arc<dyn Storage>, String> {
        let (o, h) = settings(vars)?;
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        Origins::over(Arc::new(FsStorage::new("/nonexistent")), &o, &h, &allowed)
    }

    /// The route as text: `store:bucket/key`, `http:url` or `url:url` (free-form).
    fn route(o: &Origins, bucket: &str, key: &str) -> String {
        match o.route(bucket, key) {
            Ok(Route::Store { bucket, key }) => format!("store:{bucket}/{key}"),
            Ok(Route::Http {
                url,
                free_form: false,
            }) => format!("http:{url}"),
            Ok(Route::Http { url, free_form: true }) => format!("url:{url}"),
            Err(e) => format!("{} {}", e.status, e.code),
        }
    }

    fn router(vars: &[(&str, &str)], allowed: &[&str]) -> Origins {
        let (settings, http) = settings(vars).unwrap();
        Origins {
            store: Arc::new(FsStorage::new("/nonexistent")),
            http: Some(HttpStore::new(&http).unwrap()),
            free_form: !http.url_hosts.is_empty(),
            default_bucket: allowed.first().map(|s| s.to_string()),
            uses_store: true,
            settings,
        }
    }

    #[test]
    fn parses_origins_and_paths() {
        let (o, _) = settings(&[
            (
                "ORIGINS",
                " photos=https://img.example.com/media , legacy=s3:old-bucket,",
            ),
            ("ORIGIN_PATHS", "/cms/=photos,old/=legacy"),
        ])
        .unwrap();
        assert_eq!(o.origins.len(), 2);
        assert_eq!(
            o.origins[0].target,
            Target::Http(Url::parse("https://img.example.com/media/").unwrap())
        );
        assert_eq!(o.origins[1].target, Target::Bucket("old-bucket".into()));
        assert_eq!(o.paths[0].prefix, "cms/");
        for bad in [
            "photos",
            "=https://a/",
            "a b=https://a/",
            "x=ftp://a/",
            "x=https://a/?q=1",
            "x=https://u:p@a/",
            "x=s3:",
            "x=https://a/,x=s3:b",
        ] {
            assert!(settings(&[("ORIGINS", bad)]).is_err(), "{bad}");
        }
        assert!(settings(&[("ORIGIN_PATHS", "cms/")]).is_err());
        assert!(settings(&[("ORIGIN_PATHS", "/=x")]).is_err());
    }

    #[test]
    fn store_buckets_skip_http_origins() {
        let (o, _) = settings(&[
            ("ORIGINS", "web=https://a.example/,legacy=s3:old"),
            ("ORIGIN_PATHS", "x/=other"),
        ])
        .unwrap();
        let names = ["main", "web", "legacy", ""].map(String::from);
        assert_eq!(o.store_buckets(&names), ["main", "old", "other"]);
    }

    #[test]
    fn refuses_settings_that_cannot_work() {
        let web = [("ORIGINS", "web=https://img.example.com/")];
        assert!(origins(&web, &["main", "web"]).is_ok());
        let err = |vars: &[(&str, &str)], allowed: &[&str]| origins(vars, allowed).err().unwrap_or_default();
        assert!(err(&web, &["main"]).contains("no request can reach it"));
        assert!(origins(
            &[("ORIGINS", "web=https://a.example/"), ("ORIGIN_PATHS", "w/=web")],
            &["main"]
        )
        .is_ok());
        assert!(err(&[("ORIGINS", "web=http://img.example.com/")], &["web"]).contains("ORIGIN_ALLOW_HTTP"));
        assert!(err(&[("ORIGINS", "web=https://127.0.0.1/")], &["web"]).contains("AddressRefused"));
        let allowed_net = [
            ("ORIGINS", "web=http://127.0.0.1:9/"),
            ("ORIGIN_ALLOW_HTTP", "Yes"),
            ("ORIGIN_ALLOW_NETWORKS", "127.0.0.1"),
        ];
        assert!(origins(&allowed_net, &["web"]).is_ok());
    }

    #[test]
    fn routes_names_paths_and_urls() {
        let o = router(
            &[
                ("ORIGINS", "web=https://img.example.com/media/,legacy=s3:old"),
                ("ORIGIN_PATHS", "cms/=web,cms/old/=legacy,shop/=shop-bucket"),
                ("ORIGIN_URL_HOSTS", ".example.com"),
            ],
            &["main", "web", "legacy"],
        );
        assert_eq!(route(&o, "main", "a/b.jpg"), "store:main/a/b.jpg");
        assert_eq!(
            route(&o, "web", "a/b.jpg"),
            "http:https://img.example.com/media/a/b.jpg"
        );
        assert_eq!(route(&o, "legacy", "a.jpg"), "store:old/a.jpg");
        assert_eq!(
            route(&o, "main", "cms/a.jpg"),
            "http:https://img.example.com/media/a.jpg"
        );
        assert_eq!(
            route(&o, "main", "cms/old/a.jpg"),
            "store:old/a.jpg",
            "longest prefix"
        );
        assert_eq!(route(&o, "main", "shop/a.jpg"), "store:shop-bucket/a.jpg");
        assert_eq!(
            route(&o, "web", "cms/a.jpg"),
            "http:https://img.example.com/media/cms/a.jpg"
        );
        assert_eq!(
            route(&o, "main", "https://x.example.com/a.jpg"),
            "url:https://x.example.com/a.jpg"
        );
        assert_eq!(
            route(&o, "main", "https:/x.example.com/a.jpg"),
            "url:https://x.example.com/a.jpg"
        );
        assert_eq!(route(&o, "main", "file:///etc/passwd"), "url:file:///etc/passwd");
        assert_eq!(
            route(&o, "web", "https://x.example.com/a.jpg"),
            "http:https://img.example.com/media/https%3A//x.example.com/a.jpg"
        );
        assert_eq!(route(&o, "main", "c:/a.jpg"), "url:c:/a.jpg");
    }

    #[test]
    fn keys_stay_below_the_base_url() {
        let o = router(&[("ORIGINS", "web=https://img.example.com/media/")], &["web"]);
        for (key, url) in [
            ("a b/ü.jpg", "https://img.example.com/media/a%20b/%C3%BC.jpg"),
            ("a?x=1#f.jpg", "https://img.example.com/media/a%3Fx%3D1%23f.jpg"),
            ("%2e%2e/secret", "https://img.example.com/media/%252e%252e/secret"),
            ("a\\..\\b.jpg", "https://img.example.com/media/a%5C..%5Cb.jpg"),
            (
                "//evil.example/a.jpg",
                "https://img.example.com/media///evil.example/a.jpg",
            ),
        ] {
            assert_eq!(route(&o, "web", key), format!("http:{url}"), "{key}");
        }
        for key in ["../secret.jpg", "a/../../b.jpg", "./a.jpg", "", "a\0.jpg"] {
            assert_eq!(route(&o, "web", key), "404 NoSuchKey", "{key:?}");
        }
    }
}
