//! Lambda HTTP events (API Gateway REST v1, HTTP API v2, ALB, Function URL) → [`HttpRequest`].
//!
//! `lambda_http` has already parsed the event into an `http::Request`; its URI is not used because
//! it is normalised (`Url::parse` resolves `..` and re-escapes), while SIH signs and parses the
//! event's path exactly as received.

use crate::http::HttpRequest;
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Where the event came from; it decides the response shape and one header (ALB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// API Gateway REST API (payload v1).
    RestApi,
    /// HTTP API or Function URL (payload v2).
    HttpApi,
    Alb,
    Other,
}

/// Everything but RFC 3986's unreserved characters is escaped when a query is rebuilt from
/// decoded parameters, so the handler's decoding gives the same values back.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn origin(req: &lambda_http::Request) -> Origin {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(_)) => Origin::RestApi,
        Some(RequestContext::ApiGatewayV2(_)) => Origin::HttpApi,
        Some(RequestContext::Alb(_)) => Origin::Alb,
        _ => Origin::Other,
    }
}

pub fn to_http_request(req: &lambda_http::Request) -> HttpRequest {
    HttpRequest {
        method: req.method().as_str().to_string(),
        path: path(req),
        query: query(req),
        headers: req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
    }
}

/// The path as SIH reads `event.path`. REST API (v1) events carry it without the stage; HTTP API
/// (v2) `rawPath` starts with `/<stage>` for a named stage, removed here so keys never depend on
/// the stage (as `lambda_http` does with `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH`, always).
fn path(req: &lambda_http::Request) -> String {
    let raw = req.raw_http_path();
    let raw = if raw.is_empty() { "/" } else { raw };
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        if let Some(stage) = ctx.stage.as_deref().filter(|s| !s.is_empty() && *s != "$default") {
            if let Some(rest) = raw.strip_prefix('/').and_then(|r| r.strip_prefix(stage)) {
                if rest.is_empty() {
                    return "/".into();
                }
                if rest.starts_with('/') {
                    return rest.into();
                }
            }
        }
    }
    raw.into()
}

/// The raw query string. v2 events carry it as sent (`rawQueryString`); v1 and ALB events only as
/// parameters (decoded by `lambda_http`), re-escaped here in a stable order.
fn query(req: &lambda_http::Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(_)) = req.request_context_ref() {
        return req.uri().query().unwrap_or("").to_string();
    }
    let Some(params) = req.query_string_parameters_ref() else {
        return String::new();
    };
    let mut pairs: Vec<(&str, &str)> = params.iter().collect();
    // Repeated names keep their order (the handler keeps the last, as API Gateway does).
    pairs.sort_by_key(|(k, _)| *k);
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY_VALUE),
                utf8_percent_encode(v, QUERY_VALUE)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
