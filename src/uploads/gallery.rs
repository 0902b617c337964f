//! `GET /?gallery[&page=N]`: uploads newest first, [`PER_PAGE`] a page, each with its
//! renditions and on-the-fly URLs in the three dialects to copy.

use super::pages::{esc, respond};
use super::store::Listed;
use crate::http::{HttpRequest, HttpResponse, HttpSettings};
use crate::renditions::Renditions;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

pub const PER_PAGE: usize = 24;

/// What a key may keep unescaped in a URL path: `/` separates folders in all three dialects.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'&')
    .add(b'+')
    .add(b'\'');

fn default_url(bucket: &str, key: &str, edits: Option<serde_json::Value>) -> String {
    let mut doc = serde_json::json!({"bucket": bucket, "key": key});
    if let Some(edits) = edits {
        doc["edits"] = edits;
    }
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(doc.to_string())
    )
}

/// What the gallery shows besides the listing.
pub struct View<'a> {
    pub http: &'a HttpSettings,
    /// The upload bucket, and the default bucket of Thumbor and query URLs.
    pub bucket: &'a str,
    pub default_bucket: &'a str,
    pub set: Option<&'a Renditions>,
    /// Base URL of the renditions (a CDN); unset, they are linked through this server.
    pub renditions_url: Option<&'a str>,
}

pub fn page(u: &View, req: &HttpRequest, listed: &[Listed], page: usize) -> HttpResponse {
    // Absolute URLs, so a person can copy them as they are.
    let proto = req.header("X-Forwarded-Proto").unwrap_or("http");
    let base = req
        .header("Host")
        .map(|h| format!("{proto}://{h}"))
        .unwrap_or_default();
    let pages = listed.len().div_ceil(PER_PAGE).max(1);
    let page = page.min(pages);
    let mut items = String::new();
    for l in listed.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE) {
        let key = &l.key;
        let path_key = utf8_percent_encode(key, PATH).to_string();
        let thumb = default_url(
            u.bucket,
            key,
            Some(serde_json::json!({"resize": {"width": 300, "height": 300, "fit": "cover"}})),
        );
        let mut urls = vec![("JSON", format!("{base}{thumb}"))];
        // Thumbor paths and query parameters name keys of the default bucket only.
        if u.bucket == u.default_bucket {
            urls.push(("Thumbor", format!("{base}/fit-in/300x300/{path_key}")));
            urls.push((
                "query",
                format!("{base}/{path_key}?width=300&height=300&fit=cover"),
            ));
        }
        let mut renditions = String::new();
        if let Some(set) = u.set {
            let dest = set.destination_bucket.as_deref().unwrap_or("");
            for r in &set.renditions {
                let Ok(rkey) = r.key.resolve(key, &r.name) else {
                    continue;
                };
                let href = match u.renditions_url {
                    Some(cdn) => format!("{cdn}/{}", utf8_percent_encode(&rkey, PATH)),
                    None => format!("{base}{}", default_url(dest, &rkey, None)),
                };
                renditions.push_str(&format!(
                    "<a class=\"rendition\" data-name=\"{n}\" href=\"{h}\"><img src=\"{h}\" alt=\"{n}\" loading=\"lazy\"><br>{n}</a>\n",
                    n = esc(&r.name),
                    h = esc(&href)
                ));
            }
        }
        let mut url_list = String::new();
        for (dialect, url) in &urls {
            url_list.push_str(&format!(
                "<li>{dialect}: <input readonly size=\"60\" value=\"{}\"></li>",
                esc(url)
            ));
        }
        items.push_str(&format!(
            "<li class=\"upload\" data-key=\"{k}\"><h2>{k}</h2><p>{size} KB</p>\n<img class=\"thumb\" src=\"{t}\" alt=\"{k}\">\n<div class=\"renditions\">{renditions}</div><ul>{url_list}</ul></li>\n",
            k = esc(key),
            size = l.size.div_ceil(1024),
            t = esc(&thumb),
        ));
    }
    let mut nav = String::new();
    if page > 1 {
        nav.push_str(&format!(
            "<a rel=\"prev\" href=\"/?gallery&amp;page={}\">newer</a> ",
            page - 1
        ));
    }
    nav.push_str(&format!("page {page} of {pages}"));
    if page < pages {
        nav.push_str(&format!(
            " <a rel=\"next\" href=\"/?gallery&amp;page={}\">older</a>",
            page + 1
        ));
    }
    let empty = if listed.is_empty() {
        "<p id=\"empty\">No uploads yet.</p>"
    } else {
        ""
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>pixfront — gallery</title>
<style>body{{font:16px system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
.upload{{list-style:none;border-top:1px solid #ccc;padding:1em 0}} .renditions img{{max-width:200px;max-height:200px}}
.rendition{{display:inline-block;margin:0 1em 1em 0;text-align:center}} h2{{font-size:1em}}</style>
</head><body>
<h1>Gallery</h1>
<p><a href="/?upload">Upload</a> · {count} uploads, newest first</p>
{empty}<ul id="uploads">
{items}</ul>
<p id="pages">{nav}</p>
</body></html>
"#,
        count = listed.len()
    );
    respond(u.http, 200, "text/html; charset=utf-8", body)
}
