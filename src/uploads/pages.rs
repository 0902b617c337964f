//! The HTML of the upload pages: the upload form (a template with its script), the "try again"
//! page, and the small answers they share.

use crate::error::Error;
use crate::http::{HttpResponse, HttpSettings, RequestLog};

const UPLOAD_PAGE: &str = include_str!("upload.html");

/// Text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn respond(http: &HttpSettings, status: u16, content_type: &str, body: String) -> HttpResponse {
    let mut headers = vec![
        ("Content-Type".to_string(), content_type.to_string()),
        // Pages and answers about uploads change with every upload and may be private.
        ("Cache-Control".to_string(), "no-store".to_string()),
        ("X-Content-Type-Options".to_string(), "nosniff".to_string()),
    ];
    if content_type.starts_with("text/html") {
        // The pages' own script and styles, images from anywhere (renditions may be on a CDN),
        // forms posting here or to S3 (presigned).
        headers.push((
            "Content-Security-Policy".into(),
            "default-src 'self'; img-src * data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src *; form-action 'self'; frame-ancestors 'none'".into(),
        ));
    }
    if http.cors_enabled {
        headers.push(("Access-Control-Allow-Origin".into(), http.cors_origin.clone()));
    }
    HttpResponse {
        status,
        headers,
        body: body.into(),
        log: RequestLog::default(),
    }
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse {
        status: 303,
        headers: vec![
            ("Location".into(), location.into()),
            ("Cache-Control".into(), "no-store".into()),
        ],
        body: Default::default(),
        log: RequestLog::default(),
    }
}

/// `GET /?upload`: `mode` is `server` (files posted here) or `s3` (presigned, to the bucket).
pub fn upload_page(
    http: &HttpSettings,
    mode: &str,
    max_bytes: u64,
    renditions: Option<Vec<String>>,
) -> HttpResponse {
    let data = serde_json::json!({ "mode": mode, "maxBytes": max_bytes, "renditions": renditions });
    // `</` inside a <script> would end it early.
    let data = data.to_string().replace("</", "<\\/");
    let body = UPLOAD_PAGE.replacen("/*UPLOAD*/null", &data, 1);
    respond(http, 200, "text/html; charset=utf-8", body)
}

/// The "try again" page: what was wrong with each refused file and a way back. Its status is
/// the first refusal's.
pub fn error_page(http: &HttpSettings, failed: &[(String, Error)]) -> HttpResponse {
    let status = failed.first().map_or(400, |(_, e)| e.status);
    let mut items = String::new();
    for (name, e) in failed {
        let who = if name.is_empty() {
            String::new()
        } else {
            format!("<b>{}</b>: ", esc(name))
        };
        items.push_str(&format!(
            "<li data-code=\"{}\">{who}{}</li>\n",
            esc(&e.code),
            esc(&e.message)
        ));
    }
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Upload refused — try again</title>
<style>body{{font:16px system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em}}li{{margin:.5em 0}}</style>
</head><body>
<h1 id="refused">Not uploaded</h1>
<ul id="reasons">
{items}</ul>
<p>Nothing was stored for these files. <a id="try-again" href="/?upload">Try again</a> or see the <a href="/?gallery">gallery</a>.</p>
</body></html>
"#
    );
    respond(http, status, "text/html; charset=utf-8", body)
}
