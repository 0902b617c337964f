//! `pixfront sign '<path>[?query]' [--key K]`: prints the path with its `signature` parameter
//! (v7 string to sign, HMAC-SHA256), so operators can sign URLs in scripts.

use crate::request::{query, signature};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request path, with its query if any (an existing `signature` is replaced).
    pub url: String,
    /// Signing key; defaults to the SIGNATURE_SECRET environment variable.
    #[arg(long, env = "SIGNATURE_SECRET", hide_env_values = true)]
    pub key: String,
}

/// The signed URL path: the query as given (minus any old `signature`) plus `signature=<hex>`.
pub fn sign(url: &str, key: &[u8]) -> String {
    let (path, raw_query) = super::explain::split_url(url);
    let kept: Vec<&str> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some("signature"))
        .collect();
    let joined = kept.join("&");
    let params = query::parse(Some(&joined));
    let sig = signature::sign(key, &signature::string_to_sign(path, &params));
    if kept.is_empty() {
        format!("{path}?signature={sig}")
    } else {
        format!("{path}?{joined}&signature={sig}")
    }
}

pub fn run(args: &Args) -> i32 {
    println!("{}", sign(&args.url, args.key.as_bytes()));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_sih() {
        let path =
            "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiZWRpdHMiOnsidG9Gb3JtYXQiOiJwbmcifX0=";
        assert_eq!(
            sign(path, b"secret"),
            format!("{path}?signature=4d41311006641a56de7bca8abdbda91af254506107a2c7b338a13ca2fa95eac3")
        );
        let s = sign("/a.jpg?width=10&signature=old", b"k");
        assert!(s.starts_with("/a.jpg?width=10&signature="), "{s}");
        assert_eq!(s.len(), "/a.jpg?width=10&signature=".len() + 64);
    }
}
