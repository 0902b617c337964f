//! `FORCE_BLUR_FACES`: originals whose every answer has faces blurred, whatever the URL asks.
//!
//! Entries are `bucket` (the whole bucket) or `bucket/key-prefix`, comma-separated. Keys are
//! compared with runs of `/` collapsed, because a file store resolves `a//b` to `a/b`: a
//! doubled slash must not step around a prefix.

use crate::edits::{BlurFaces, BlurFacesOptions, Edit, Edits};

/// Makes `edits` blur faces with the default strength: a `blurFaces` the URL gave is replaced
/// (only its `pixelate` choice is kept, so a URL cannot weaken the blur or turn it off).
pub fn force_blur(edits: &mut Edits) {
    let pixelate = edits.iter().rev().find_map(|e| match e {
        Edit::BlurFaces(BlurFaces::Options(o)) => o.pixelate,
        _ => None,
    });
    edits.entries.retain(|(_, e)| !matches!(e, Edit::BlurFaces(_)));
    let blur = match pixelate {
        Some(true) => BlurFaces::Options(BlurFacesOptions {
            pixelate: Some(true),
            ..BlurFacesOptions::default()
        }),
        _ => BlurFaces::Bool(true),
    };
    edits
        .entries
        .insert(0, ("blurFaces".into(), Edit::BlurFaces(blur)));
}

/// Parses the comma-separated list (blank entries dropped).
pub fn parse(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// True when (bucket, key) falls under one of `entries`.
pub fn covers(entries: &[String], bucket: &str, key: &str) -> bool {
    let key = collapse_slashes(key.trim_start_matches('/'));
    entries.iter().any(|entry| match entry.split_once('/') {
        None => entry == bucket,
        Some((b, prefix)) => b == bucket && key.starts_with(&collapse_slashes(prefix)),
    })
}

fn collapse_slashes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_prefixes() {
        let e = parse(" people , shop/staff/,, cams/door");
        assert_eq!(e, vec!["people", "shop/staff/", "cams/door"]);
        assert!(covers(&e, "people", "any/thing.jpg"));
        assert!(!covers(&e, "people2", "a.jpg"));
        assert!(covers(&e, "shop", "staff/alice.jpg"));
        assert!(!covers(&e, "shop", "products/mug.jpg"));
        assert!(covers(&e, "cams", "door-2024/1.jpg"));
        // Slash tricks do not escape a prefix.
        assert!(covers(&e, "shop", "staff//alice.jpg"));
        assert!(covers(&e, "shop", "/staff/alice.jpg"));
        assert!(covers(&parse("shop/a//b"), "shop", "a/b/c.jpg"));
        assert!(!covers(&[], "people", "a.jpg"));
    }

    #[test]
    fn forcing_replaces_weaker_blur() {
        let mut edits = Edits::from_json(
            serde_json::json!({"resize": {"width": 10}, "blurFaces": {"sigma": 0.5, "minConfidence": 99}})
                .as_object()
                .unwrap(),
        )
        .unwrap()
        .0;
        force_blur(&mut edits);
        assert_eq!(edits.entries.len(), 2);
        assert_eq!(edits.entries[0].1, Edit::BlurFaces(BlurFaces::Bool(true)));
        let mut none = Edits::default();
        force_blur(&mut none);
        assert_eq!(none.entries.len(), 1);
    }
}
