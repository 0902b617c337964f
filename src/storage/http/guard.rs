//! The SSRF guard: which URLs and addresses pixfront fetches originals from.
//!
//! - [`check_url`] runs before every request, the first and each redirect: scheme (`https`;
//!   `http` only with `ORIGIN_ALLOW_HTTP`), no credentials, for free-form URLs the host
//!   allowlist, and for a host written as an IP address the address rule below (an IP literal is
//!   connected to without any name lookup, so it is checked here).
//! - [`GuardedResolver`] is the HTTP client's only name resolver: it resolves the host itself and
//!   hands the connector only the addresses that pass, so the address checked is the address
//!   connected to (a second lookup by the connector, the DNS-rebinding window, does not exist).
//!
//! The address rule refuses everything that is not public unicast, for IPv4 and IPv6 (see
//! [`non_public`]), except networks the operator lists in `ORIGIN_ALLOW_NETWORKS`.

use crate::error::Error;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::Host;

/// An IP network in CIDR notation (`10.1.0.0/16`, `fd00::/8`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(s: &str) -> Result<Network, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0-{max}"))?,
        };
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix as u32)
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix as u32)
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why `ip` is not a public unicast address, or `None` when it is.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        // 0.0.0.0 reaches the local host on Linux.
        (0, _, _) => "unspecified (0.0.0.0/8)",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (100, 64..=127, _) => "shared address space (CGNAT, 100.64.0.0/10)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local (169.254.0.0/16, cloud metadata)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay anycast",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if ip.to_ipv4_mapped().is_some() {
        // ::ffff:a.b.c.d is an IPv4 address in disguise.
        "IPv4-mapped"
    } else if s[0] & 0xff00 == 0xff00 {
        "multicast"
    } else if s[0] & 0xfe00 == 0xfc00 {
        "unique local (fc00::/7)"
    } else if s[0] & 0xffc0 == 0xfe80 {
        "link-local (fe80::/10)"
    } else if s[0] & 0xffc0 == 0xfec0 {
        "site-local (fec0::/10)"
    } else if s[0] == 0x64 && s[1] == 0xff9b {
        // NAT64 prefixes embed an IPv4 address, which may be a private one.
        "NAT64 (64:ff9b::/96)"
    } else if s[0] & 0xe000 != 0x2000 {
        // Everything outside 2000::/3 (IPv4-compatible ::/96, discard-only 100::/64…).
        "not global unicast"
    } else if s[0] == 0x2001 && s[1] < 0x0200 {
        "IETF special purpose (2001::/23, Teredo)"
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000) {
        "documentation"
    } else if s[0] == 0x2002 {
        // 6to4 embeds an IPv4 address too.
        "6to4 (2002::/16)"
    } else {
        return None;
    })
}

/// The address rule: public unicast, or inside a network the operator allowed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressGuard {
    pub allowed: Vec<Network>,
}

impl AddressGuard {
    /// `Err(reason)` when pixfront must not connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> Result<(), &'static str> {
        match non_public(ip) {
            Some(reason) if !self.allowed.iter().any(|n| n.contains(ip)) => Err(reason),
            _ => Ok(()),
        }
    }
}

/// One `ORIGIN_URL_HOSTS` entry: `images.example.com` (that host), `.example.com` or
/// `*.example.com` (any host below it, not itself), with `:port` when not the scheme's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    host: String,
    subdomains: bool,
    port: Option<u16>,
}

impl HostRule {
    pub fn parse(s: &str) -> Result<HostRule, String> {
        let entry = s.trim().to_ascii_lowercase();
        let (rest, subdomains) = match entry.strip_prefix("*.").or_else(|| entry.strip_prefix('.')) {
            Some(rest) => (rest, true),
            None => (entry.as_str(), false),
        };
        // `[::1]:8443`, `host:8443`, `host`: the port is what follows the last `:` outside brackets.
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && (h.ends_with(']') || !h.contains(':')) => {
                let port = p.parse::<u16>().map_err(|_| format!("{s:?}: bad port {p:?}"))?;
                (h, Some(port))
            }
            _ => (rest, None),
        };
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        if !valid {
            return Err(format!("{s:?} is not a host name"));
        }
        Ok(HostRule {
            host: host.to_string(),
            subdomains,
            port,
        })
    }

    /// `port` is the URL's explicit port (`None` for the scheme's default).
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        let name = if self.subdomains {
            host.strip_suffix(&self.host)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            host == self.host
        };
        name && port == self.port
    }
}

/// What a URL must satisfy besides the address rule.
#[derive(Debug, Clone, Copy)]
pub struct UrlRules<'a> {
    pub allow_http: bool,
    /// `Some` for free-form URLs: the host must match one rule (on every redirect too).
    pub hosts: Option<&'a [HostRule]>,
}

/// Checks a URL before it is requested (see the module docs). Names are checked later, by the
/// resolver, against the addresses they resolve to.
pub fn check_url(url: &Url, rules: UrlRules, guard: &AddressGuard) -> Result<(), Error> {
    match url.scheme() {
        "https" => {}
        "http" if rules.allow_http => {}
        "http" => {
            return Err(Error::origin_url_refused(
                "http is not allowed (ORIGIN_ALLOW_HTTP)",
            ))
        }
        _ => {
            return Err(Error::origin_url_refused(
                "only https (and http when allowed) is fetched",
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::origin_url_refused("URLs with credentials are not fetched"));
    }
    let host = url
        .host()
        .ok_or_else(|| Error::origin_url_refused("the URL has no host"))?;
    if let Some(hosts) = rules.hosts {
        let name = url.host_str().unwrap_or_default();
        if !hosts.iter().any(|r| r.matches(name, url.port())) {
            return Err(Error::origin_url_refused("the host is not in ORIGIN_URL_HOSTS"));
        }
    }
    let literal = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    };
    if let Some(ip) = literal {
        guard.permits(ip).map_err(|reason| {
            tracing::warn!(%ip, reason, "origin address refused");
            Error::origin_address_refused()
        })?;
    }
    Ok(())
}

/// The resolver's refusal, found again in the HTTP client's error chain.
#[derive(Debug)]
pub struct Refused {
    pub host: String,
    pub reason: &'static str,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves only to refused addresses ({})",
            self.host, self.reason
        )
    }
}

impl std::error::Error for Refused {}

/// The HTTP client's name resolver: the system's lookup, filtered through the address rule.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub guard: AddressGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            // A name with public and private addresses keeps its public ones only.
            let kept: Vec<_> = found
                .into_iter()
                .filter(|a| match guard.permits(a.ip()) {
                    Ok(()) => true,
                    Err(reason) => {
                        tracing::warn!(host, ip = %a.ip(), reason, "origin address refused");
                        refused = Some(reason);
                        false
                    }
                })
                .collect();
            match (kept.is_empty(), refused) {
                (true, Some(reason)) => Err(Box::new(Refused { host, reason }) as _),
                _ => Ok(Box::new(kept.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_every_non_public_range() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.8.8",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "100::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001::1",
            "2001:db8::1",
            "2002:a00:1::1",
            "3fff::1",
            "fd00:ec2::254",
        ] {
            assert!(non_public(ip(a)).is_some(), "{a} must be refused");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "2a00:1450::1",
        ] {
            assert_eq!(non_public(ip(a)), None, "{a} is public");
        }
    }

    #[test]
    fn allowed_networks_open_exactly_their_range() {
        let guard = AddressGuard {
            allowed: vec![
                Network::parse("127.0.0.1/32").unwrap(),
                Network::parse("fd00::/8").unwrap(),
            ],
        };
        assert!(guard.permits(ip("127.0.0.1")).is_ok());
        assert!(guard.permits(ip("127.0.0.2")).is_err());
        assert!(guard.permits(ip("fd12::1")).is_ok());
        assert!(guard.permits(ip("::1")).is_err());
        assert!(
            guard.permits(ip("::ffff:127.0.0.1")).is_err(),
            "v4 rules do not cover mapped v6"
        );
        assert!(guard.permits(ip("8.8.8.8")).is_ok());
        assert_eq!(Network::parse("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("10.1.1.1")));
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("localhost").is_err());
    }

    #[test]
    fn host_rules() {
        let exact = HostRule::parse("Images.Example.com").unwrap();
        assert!(exact.matches("images.example.com", None));
        assert!(!exact.matches("images.example.com", Some(8443)));
        assert!(!exact.matches("x.images.example.com", None));
        for spelling in [".example.com", "*.example.com"] {
            let sub = HostRule::parse(spelling).unwrap();
            assert!(sub.matches("a.example.com", None));
            assert!(sub.matches("a.b.example.com", None));
            assert!(!sub.matches("example.com", None));
            assert!(!sub.matches("badexample.com", None));
            assert!(!sub.matches("example.com.evil.net", None));
        }
        let port = HostRule::parse("cdn.example.net:8443").unwrap();
        assert!(port.matches("cdn.example.net", Some(8443)));
        assert!(!port.matches("cdn.example.net", None));
        assert!(HostRule::parse("[2001:db8::1]:8443")
            .unwrap()
            .matches("[2001:db8::1]", Some(8443)));
        assert!(HostRule::parse("a/b").is_err());
        assert!(HostRule::parse("").is_err());
    }

    #[test]
    fn url_rules() {
        let guard = AddressGuard::default();
        let hosts = [HostRule::parse("img.example.com").unwrap()];
        let free = UrlRules {
            allow_http: false,
            hosts: Some(&hosts),
        };
        let check =
            |u: &str, r| check_url(&Url::parse(u).unwrap(), r, &guard).map_err(|e| e.code.to_string());
        assert_eq!(check("https://img.example.com/a.jpg", free), Ok(()));
        let refused = |u| check(u, free).unwrap_err();
        assert_eq!(refused("http://img.example.com/a.jpg"), "ImageOrigin::UrlRefused");
        assert_eq!(
            refused("https://other.example.com/a.jpg"),
            "ImageOrigin::UrlRefused"
        );
        assert_eq!(
            refused("https://img.example.com:444/a.jpg"),
            "ImageOrigin::UrlRefused"
        );
        assert_eq!(
            refused("https://user:pw@img.example.com/a.jpg"),
            "ImageOrigin::UrlRefused"
        );
        assert_eq!(refused("file:///etc/passwd"), "ImageOrigin::UrlRefused");
        assert_eq!(refused("gopher://img.example.com/"), "ImageOrigin::UrlRefused");
        let origin = UrlRules {
            allow_http: true,
            hosts: None,
        };
        for literal in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://[::1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0:8080/",
        ] {
            assert_eq!(
                check(literal, origin).unwrap_err(),
                "ImageOrigin::AddressRefused",
                "{literal}"
            );
        }
        assert_eq!(check("http://93.184.215.14/a.jpg", origin), Ok(()));
    }

    #[tokio::test]
    async fn resolver_drops_refused_addresses() {
        let resolver = GuardedResolver {
            guard: AddressGuard::default(),
        };
        let err = match resolver.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(e) => e,
        };
        assert!(err.downcast_ref::<Refused>().is_some(), "{err}");
        let open = GuardedResolver {
            guard: AddressGuard {
                allowed: vec![Network::parse("127.0.0.0/8").unwrap()],
            },
        };
        let kept: Vec<_> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!kept.is_empty());
        assert!(
            kept.iter().all(|a| a.ip().is_loopback() && a.is_ipv4()),
            "{kept:?}"
        );
    }
}
