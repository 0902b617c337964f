//! `pixfront explain '<path>[?query]' [-H 'Accept: …']`: prints the canonical request a URL
//! parses into (pretty JSON, exit 0) or the error JSON (exit 2).

use crate::config::Config;
use crate::error::Error;
use crate::request::{self, RequestInput, StaticSecret};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The request path, with its query if any, e.g. '/fit-in/200x0/a.jpg?format=webp'.
    pub url: String,
    /// A request header, 'Name: value' (only `Accept` matters). Repeatable.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
}

/// Splits `url` into path and query and parses it with `config`. A full URL
/// (`https://host/path`) is accepted too: its path is used.
pub fn explain(args: &Args, config: &Config) -> Result<request::ImageRequest, Error> {
    let (path, query) = split_url(&args.url);
    let accept = args.headers.iter().find_map(|h| {
        let (name, value) = h.split_once(':')?;
        name.trim().eq_ignore_ascii_case("accept").then(|| value.trim())
    });
    let input = RequestInput { path, query, accept };
    request::parse(&input, config, &StaticSecret(config.signature_secret.clone()))
}

/// `(path, query)`; a scheme and host are dropped, a missing leading `/` is added back by the
/// caller's convention (SIH paths always start with `/`).
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
