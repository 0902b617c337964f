//! `pixfront explain '<path>[?query]' [-H 'Accept: …']`: prints the canonical request a URL
//! parses into (pretty JSON, exit 0) or the error JSON (exit 2).

use crate::config::Config;
use crate::error::Error;
use crate::request::{self, RequestInput, StaticSecret};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request path, with its query if any, e.g. '/fit-in/200x0/a.jpg?format=webp'.
    pub url: String,
    /// A request header, 'Name: value' (`Accept`, and `Sec-CH-DPR`/`Sec-CH-Width`/
    /// `Sec-CH-Viewport-Width` with CLIENT_HINTS=Yes; others do not matter). Repeatable.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
}

/// Splits `url` into path and query and parses it with `config`. A full URL
/// (`https://host/path`) is accepted too: its path is used.
pub fn explain(args: &Args, config: &Config) -> Result<request::ImageRequest, Error> {
    let (path, query) = split_url(&args.url);
    let header = |wanted: &str| {
        args.headers.iter().find_map(|h| {
            let (name, value) = h.split_once(':')?;
            name.trim().eq_ignore_ascii_case(wanted).then(|| value.trim())
        })
    };
    // SIH paths always start with `/`; users often paste them without it.
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let input = RequestInput {
        path: &path,
        query,
        accept: header("Accept"),
        hints: request::hints::ClientHints {
            dpr: header("Sec-CH-DPR"),
            width: header("Sec-CH-Width"),
            viewport_width: header("Sec-CH-Viewport-Width"),
        },
    };
    request::parse(
        &input,
        &config.request,
        &StaticSecret(config.secrets.signature_secret.clone()),
    )
}

/// `(path, query)` of a path or full URL (scheme and host dropped).
pub fn split_url(url: &str) -> (&str, Option<&str>) {
    let rest = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url,
    };
    match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    }
}

/// Runs the subcommand; returns the process exit code.
pub fn run(args: &Args) -> i32 {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pixfront: {e}");
            return 2;
        }
    };
    match explain(args, &config) {
        Ok(req) => match serde_json::to_string_pretty(&req) {
            Ok(json) => {
                println!("{json}");
                0
            }
            Err(e) => {
                eprintln!("pixfront: {e}");
                1
            }
        },
        Err(e) => {
            println!("{}", e.to_json());
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paths_and_urls() {
        assert_eq!(split_url("/a.jpg?w=1"), ("/a.jpg", Some("w=1")));
        assert_eq!(
            split_url("https://cdn.example.com/fit-in/a.jpg"),
            ("/fit-in/a.jpg", None)
        );
        assert_eq!(split_url("https://cdn.example.com"), ("/", None));
        let args = Args {
            url: "fit-in/10x10/a.jpg".into(),
            headers: vec![],
        };
        let config = {
            let mut c = Config::default();
            c.request.source_buckets = Some("b".into());
            c
        };
        assert_eq!(explain(&args, &config).unwrap().key, "a.jpg");
    }
}
