//! How originals are fetched from HTTP(S) origins: what the SSRF guard lets through, the limits
//! and timeouts of one fetch, and the cache of fetched originals. docs/origins.md explains them.

use super::guard::{HostRule, Network};
use crate::settings::Lookup;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpOriginSettings {
    /// `ORIGIN_ALLOW_HTTP=Yes`: plain `http://` origins, URLs and redirects (default: https only).
    pub allow_http: bool,
    /// `ORIGIN_ALLOW_NETWORKS`: networks (CIDR) the guard lets through although they are not
    /// public, e.g. an origin on a private network. Dangerous: every address in them becomes
    /// reachable through pixfront.
    pub allow_networks: Vec<Network>,
    /// `ORIGIN_URL_HOSTS`: hosts a request may name in a free-form URL key; empty = free-form
    /// URLs off.
    pub url_hosts: Vec<HostRule>,
    /// `ORIGIN_MAX_BYTES` (default 50 MiB): larger originals are refused while streaming.
    pub max_bytes: u64,
    /// `ORIGIN_CONNECT_TIMEOUT_MS` (default 3000): name lookup, TCP and TLS.
    pub connect_timeout: Duration,
    /// `ORIGIN_READ_TIMEOUT_MS` (default 5000): longest wait for the answer's head and for each
    /// piece of its body.
    pub read_timeout: Duration,
    /// `ORIGIN_TIMEOUT_MS` (default 10000): one fetch from start to the last byte, redirects
    /// included.
    pub timeout: Duration,
    /// `ORIGIN_MAX_REDIRECTS` (default 0 = redirects are not followed).
    pub max_redirects: u32,
    /// `ORIGIN_CACHE_MB` (default 64; 0 = no cache, concurrent fetches are still shared).
    pub cache_bytes: u64,
    /// `ORIGIN_CACHE_TTL_SECONDS` (default 60): how long a cached original is used without
    /// asking the origin; after that a conditional request revalidates it.
    pub cache_ttl: Duration,
}

impl Default for HttpOriginSettings {
    fn default() -> Self {
        HttpOriginSettings {
            allow_http: false,
            allow_networks: Vec::new(),
            url_hosts: Vec::new(),
            max_bytes: 50 << 20,
            connect_timeout: Duration::from_millis(3000),
            read_timeout: Duration::from_millis(5000),
            timeout: Duration::from_millis(10_000),
            max_redirects: 0,
            cache_bytes: 64 << 20,
            cache_ttl: Duration::from_secs(60),
        }
    }
}

/// A comma-separated list, blanks skipped, each entry parsed by `parse`.
fn list<T>(get: &Lookup, key: &str, parse: fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    let raw = get.get(key).unwrap_or_default();
    raw.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse(s).map_err(|e| format!("{key}: {e}")))
        .collect()
}

impl HttpOriginSettings {
    pub fn from_lookup(get: &Lookup) -> Result<HttpOriginSettings, String> {
        let d = HttpOriginSettings::default();
        let ms = |key: &str, default: Duration| -> Result<Duration, String> {
            let n = get.number(key, default.as_millis() as u64)?;
            if n == 0 {
                return Err(format!("{key}: must be at least 1"));
            }
            Ok(Duration::from_millis(n))
        };
        Ok(HttpOriginSettings {
            allow_http: get.yes("ORIGIN_ALLOW_HTTP"),
            allow_networks: list(get, "ORIGIN_ALLOW_NETWORKS", Network::parse)?,
            url_hosts: list(get, "ORIGIN_URL_HOSTS", HostRule::parse)?,
            max_bytes: get.number("ORIGIN_MAX_BYTES", d.max_bytes)?.max(1),
            connect_timeout: ms("ORIGIN_CONNECT_TIMEOUT_MS", d.connect_timeout)?,
            read_timeout: ms("ORIGIN_READ_TIMEOUT_MS", d.read_timeout)?,
            timeout: ms("ORIGIN_TIMEOUT_MS", d.timeout)?,
            max_redirects: get.number("ORIGIN_MAX_REDIRECTS", 0)?.min(u32::MAX as u64) as u32,
            cache_bytes: get
                .number("ORIGIN_CACHE_MB", d.cache_bytes >> 20)?
                .saturating_mul(1 << 20),
            cache_ttl: Duration::from_secs(get.number("ORIGIN_CACHE_TTL_SECONDS", d.cache_ttl.as_secs())?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<HttpOriginSettings, String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        HttpOriginSettings::from_lookup(&Lookup(&|k| map.get(k).cloned()))
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse(&[]).unwrap(), HttpOriginSettings::default());
        let s = parse(&[
            ("ORIGIN_ALLOW_HTTP", "Yes"),
            ("ORIGIN_ALLOW_NETWORKS", "10.0.0.0/8, fd00::/8"),
            ("ORIGIN_URL_HOSTS", "img.example.com,.cdn.example.net"),
            ("ORIGIN_MAX_BYTES", "1000"),
            ("ORIGIN_TIMEOUT_MS", "1500"),
            ("ORIGIN_MAX_REDIRECTS", "2"),
            ("ORIGIN_CACHE_MB", "0"),
            ("ORIGIN_CACHE_TTL_SECONDS", "0"),
        ])
        .unwrap();
        assert!(s.allow_http);
        assert_eq!(s.allow_networks.len(), 2);
        assert_eq!(s.url_hosts.len(), 2);
        assert_eq!(
            (
                s.max_bytes,
                s.timeout,
                s.max_redirects,
                s.cache_bytes,
                s.cache_ttl
            ),
            (1000, Duration::from_millis(1500), 2, 0, Duration::ZERO)
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse(&[("ORIGIN_ALLOW_NETWORKS", "10.0.0.0/40")]).is_err());
        assert!(parse(&[("ORIGIN_URL_HOSTS", "a b")]).is_err());
        assert!(parse(&[("ORIGIN_READ_TIMEOUT_MS", "0")]).is_err());
        assert!(parse(&[("ORIGIN_MAX_BYTES", "lots")]).is_err());
    }
}
