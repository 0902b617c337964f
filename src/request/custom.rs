//! The Custom dialect: `REWRITE_MATCH_PATTERN` (a JavaScript regex literal `/pattern/flags`)
//! and `REWRITE_SUBSTITUTION` rewrite the path with `String.prototype.replace` semantics before
//! the Thumbor mapping.

use crate::error::Error;
use fancy_regex::{Captures, Regex};
use std::sync::{Arc, Mutex};

/// A compiled rewrite rule.
#[derive(Debug)]
pub struct Rewrite {
    regex: Regex,
    global: bool,
    substitution: String,
}

fn config_error(message: String) -> Error {
    Error::new(500, "Config::InvalidRewritePattern", message)
}

impl Rewrite {
    /// Parses SIH's `/pattern/flags` form: flags are the text after the last `/`, the pattern
    /// is what lies between the first character and that `/`. A bad pattern is the operator's
    /// mistake, so it stays a 500 (with a precise code).
    pub fn new(literal: &str, substitution: &str) -> Result<Rewrite, Error> {
        let slash = literal.rfind('/').unwrap_or(0);
        let flags = &literal[slash + 1..];
        let pattern = if slash >= 1 && literal.starts_with('/') {
            &literal[1..slash]
        } else {
            return Err(config_error(format!(
                "REWRITE_MATCH_PATTERN must be a regex literal /pattern/flags, got {literal:?}"
            )));
        };
        let mut inline = String::new();
        let mut global = false;
        for (i, f) in flags.char_indices() {
            if flags[..i].contains(f) {
                return Err(config_error(format!(
                    "REWRITE_MATCH_PATTERN: duplicate flag {f:?}"
                )));
            }
            match f {
                'g' => global = true,
                'i' | 'm' | 's' => inline.push(f),
                // `u` (Unicode) is how Rust regexes always work; `d` only adds match indices.
                'u' | 'd' => {}
                _ => {
                    return Err(config_error(format!(
                        "REWRITE_MATCH_PATTERN: unsupported flag {f:?}"
                    )))
                }
            }
        }
        let full = if inline.is_empty() {
            pattern.to_string()
        } else {
            format!("(?{inline}){pattern}")
        };
        let regex =
            Regex::new(&full).map_err(|e| config_error(format!("REWRITE_MATCH_PATTERN {literal:?}: {e}")))?;
        Ok(Rewrite {
            regex,
            global,
            substitution: substitution.to_string(),
        })
    }

    /// The compiled rule for these settings, cached (requests share one configuration).
    pub fn cached(literal: &str, substitution: &str) -> Result<Arc<Rewrite>, Error> {
        type Slot = Option<(String, String, Arc<Rewrite>)>;
        static CACHE: Mutex<Slot> = Mutex::new(None);
        let mut slot = CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((l, s, r)) = slot.as_ref() {
            if l == literal && s == substitution {
                return Ok(r.clone());
            }
        }
        let r = Arc::new(Rewrite::new(literal, substitution)?);
        *slot = Some((literal.into(), substitution.into(), r.clone()));
        Ok(r)
    }

    /// `path.replace(regex, substitution)`: first match, or all with `g`.
    pub fn apply(&self, path: &str) -> Result<String, Error> {
        let mut out = String::with_capacity(path.len());
        let mut last = 0;
        for caps in self.regex.captures_iter(path) {
            let caps = caps.map_err(|e| config_error(format!("REWRITE_MATCH_PATTERN: {e}")))?;
            let Some(m) = caps.get(0) else { continue };
            out.push_str(&path[last..m.start()]);
            self.expand(&caps, path, &mut out);
            last = m.end();
            if !self.global {
                break;
            }
        }
        out.push_str(&path[last..]);
        Ok(out)
    }

    /// JavaScript's replacement patterns: `$$`, `$&`, `` $` ``, `$'`, `$n`/`$nn`, `$<name>`.
    /// Hand-written because fancy-regex's own syntax reads `$1a` as a group named `1a`.
    fn expand(&self, caps: &Captures, input: &str, out: &mut String) {
        let Some(m) = caps.get(0) else { return };
        let s = self.substitution.as_str();
        let groups = caps.len() - 1;
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'$' || i + 1 >= b.len() {
                let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&s[i..i + ch_len]);
                i += ch_len;
                continue;
            }
            match b[i + 1] {
                b'$' => {
                    out.push('$');
                    i += 2;
                }
                b'&' => {
                    out.push_str(m.as_str());
                    i += 2;
                }
                b'`' => {
                    out.push_str(&input[..m.start()]);
                    i += 2;
                }
                b'\'' => {
                    out.push_str(&input[m.end()..]);
                    i += 2;
                }
                d if d.is_ascii_digit() => {
                    let one = (d - b'0') as usize;
                    let two = b
                        .get(i + 2)
                        .filter(|c| c.is_ascii_digit())
                        .map(|c| one * 10 + (c - b'0') as usize);
                    match two {
                        Some(n) if (1..=groups).contains(&n) => {
                            out.push_str(caps.get(n).map_or("", |g| g.as_str()));
                            i += 3;
                        }
                        _ if (1..=groups).contains(&one) => {
                            out.push_str(caps.get(one).map_or("", |g| g.as_str()));
                            i += 2;
                        }
                        _ => {
                            out.push('$');
                            i += 1;
                        }
                    }
                }
                b'<' if self.regex.capture_names().any(|n| n.is_some()) => match s[i + 2..].find('>') {
                    Some(end) => {
                        let name = &s[i + 2..i + 2 + end];
                        out.push_str(caps.name(name).map_or("", |g| g.as_str()));
                        i += 3 + end;
                    }
                    None => {
                        out.push('$');
                        i += 1;
                    }
                },
                _ => {
                    out.push('$');
                    i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(p: &str, s: &str, path: &str) -> String {
        Rewrite::new(p, s).unwrap().apply(path).unwrap()
    }

    #[test]
    fn javascript_replace_semantics() {
        // SIH's own test: /(filters-)/gm with "filters:".
        assert_eq!(
            rw(
                "/(filters-)/gm",
                "filters:",
                "/filters-rotate(90)/filters-grayscale()/thumbor-image.jpg"
            ),
            "/filters:rotate(90)/filters:grayscale()/thumbor-image.jpg"
        );
        assert_eq!(rw("/a/", "b", "/a/a"), "/b/a");
        assert_eq!(rw("/a/g", "b", "/a/a"), "/b/b");
        assert_eq!(rw("/A/gi", "[$&]", "/a/a"), "/[a]/[a]");
        assert_eq!(rw("/(\\d+)w/", "$1x0", "/300w/a.jpg"), "/300x0/a.jpg");
        assert_eq!(rw("/(x)/", "$2$$$1a", "x"), "$2$xa");
        assert_eq!(rw("/(?<w>\\d+)w/", "$<w>x0", "/30w/a"), "/30x0/a");
        assert_eq!(rw("/b/", "[$`|$']", "abc"), "a[a|c]c");
        assert_eq!(
            rw("/^\\/thumbs\\//", "/fit-in/100x100/", "/thumbs/a.jpg"),
            "/fit-in/100x100/a.jpg"
        );
    }

    #[test]
    fn bad_literals_are_config_errors() {
        for p in ["no-slashes", "/a/q", "/(/", "/a/gg"] {
            assert_eq!(Rewrite::new(p, "x").unwrap_err().status, 500, "{p}");
        }
    }
}
