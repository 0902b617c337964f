//! The service endpoints on `/`: the demo page, the health check and the metrics.

use super::headers::{cors, HeaderList};
use super::message::{DemoImages, HttpResponse, RequestLog};
use super::settings::HttpSettings;
use crate::storage::Storage;
use crate::telemetry::prometheus::{self, Exposition};

const PAGE: &str = include_str!("demo.html");

/// `GET /`: a page to try edits on the sample images and copy the URL in each dialect.
pub fn page(config: &HttpSettings, demo: &DemoImages) -> HttpResponse {
    let data = serde_json::json!({ "bucket": demo.bucket, "keys": demo.keys });
    // `</` inside a <script> would end it early.
    let data = data.to_string().replace("</", "<\\/");
    let body = PAGE.replacen("/*DEMO*/null", &data, 1);
    let mut h = HeaderList::default();
    cors(config, &mut h);
    h.set("Content-Type", "text/html; charset=utf-8");
    h.set("Cache-Control", "no-cache");
    HttpResponse {
        status: 200,
        headers: h.into_vec(),
        body: body.into(),
        log: RequestLog::default(),
    }
}

/// `GET /?health`: 200 when storage answers, else 503; never cached.
pub async fn health(config: &HttpSettings, storage: &dyn Storage) -> HttpResponse {
    let (status, body) = match storage.health().await {
        Ok(()) => (200, r#"{"status":"ok"}"#.to_string()),
        Err(e) => (503, e.to_json()),
    };
    let mut h = HeaderList::default();
    cors(config, &mut h);
    h.set("Content-Type", "application/json");
    h.set("Cache-Control", "no-store");
    HttpResponse {
        status,
        headers: h.into_vec(),
        body: body.into(),
        log: RequestLog::default(),
    }
}

/// `GET /?metrics`: the Prometheus exposition; never cached, no CORS (not for browsers).
pub fn metrics(exposition: &Exposition) -> HttpResponse {
    let mut h = HeaderList::default();
    h.set("Content-Type", prometheus::CONTENT_TYPE);
    h.set("Cache-Control", "no-store");
    HttpResponse {
        status: 200,
        headers: h.into_vec(),
        body: exposition.render().into(),
        log: RequestLog::default(),
    }
}
