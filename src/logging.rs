//! Logs every front end shares: the subscriber set-up and the access-log line.

use crate::http::{HttpRequest, HttpResponse};
use std::time::Instant;

/// Sets up logging: JSON lines for machines, a compact readable line on a terminal.
pub fn init(format: Option<&str>) -> Result<(), String> {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let terminal = std::io::stdout().is_terminal();
    let json = match format {
        Some("json") => true,
        Some("pretty") => false,
        Some(other) => return Err(format!("LOG_FORMAT: expected json or pretty, got {other:?}")),
        None => !terminal,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(terminal);
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
    result.map_err(|e| e.to_string())
}

/// One line per request. The query string is left out: it may carry a signature.
pub fn log_request(req: &HttpRequest, resp: &HttpResponse, started: Instant) {
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e4).round() / 10.0;
    let bytes = resp
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(resp.body.len());
    tracing::info!(
        target: "pixfront::access",
        method = %req.method,
        path = %req.path,
        status = resp.status,
        bytes,
        queue_ms = ms(resp.log.queue),
        fetch_ms = ms(resp.log.fetch),
        decode_ms = ms(resp.log.decode),
        transform_ms = ms(resp.log.transform),
        encode_ms = ms(resp.log.encode),
        total_ms = ms(started.elapsed()),
        faces_ms = resp.log.faces.as_ref().map_or(0.0, |f| ms(f.elapsed)),
        face_detector = resp.log.faces.as_ref().and_then(|f| f.detector).unwrap_or(""),
        face_cache = match resp.log.faces.as_ref().and_then(|f| f.cache_hit) {
            Some(true) => "hit",
            Some(false) => "miss",
            None => "",
        },
        auto_quality = resp.log.quality.map_or(0, |q| q.quality),
        auto_score = resp.log.quality.and_then(|q| q.score).map_or(0.0, |s| (s * 10.0).round() / 10.0),
        error = resp.log.error.as_deref().unwrap_or(""),
    );
}
