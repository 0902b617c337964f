//! [`HttpResponse`] → the `http::Response` `lambda_http` turns into the event source's answer.

use super::event::Origin;
use crate::http::HttpResponse;
use lambda_http::http::{HeaderName, HeaderValue, StatusCode};
use lambda_http::{Body, Response};

/// Lambda's synchronous response payload limit (6 MB), the limit SIH's 413 guards (§5.5).
pub const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// An ALB takes at most 1 MB of response JSON from a Lambda target (else it answers 502).
pub const ALB_PAYLOAD_LIMIT: usize = 1024 * 1024;

/// The largest buffered answer the event source accepts.
pub fn payload_limit(origin: Origin) -> usize {
    match origin {
        Origin::Alb => ALB_PAYLOAD_LIMIT,
        _ => PAYLOAD_LIMIT,
    }
}

/// Room for the JSON envelope around body and headers (`statusCode`, `isBase64Encoded`, the
/// header maps' braces, ALB's `statusDescription`); the largest shape needs under 200 bytes.
const ENVELOPE: usize = 256;

/// Whether `lambda_http` sends this body as text (else base64 with `isBase64Encoded: true`). It
/// decides from the headers alone; this mirrors its rule so the size check measures what it sends.
pub fn sent_as_text(resp: &HttpResponse) -> bool {
    if resp.header("Content-Encoding").is_some() {
        return false;
    }
    let Some(ct) = resp.header("Content-Type") else {
        return true;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    [
        "text",
        "application/json",
        "application/javascript",
        "application/xml",
        "application/yaml",
    ]
    .iter()
    .any(|p| ct.starts_with(p))
        || ["+xml", "+yaml", "+json"].iter().any(|s| mime.ends_with(s))
}

/// The size of the buffered answer as Lambda counts it: the body as sent (base64 or JSON-escaped
/// text, computed exactly) plus every header name and value with its JSON quoting, plus the
/// envelope. v1 and ALB events send headers twice at most (single and multi-value maps).
pub fn buffered_size(resp: &HttpResponse) -> usize {
    let body = if sent_as_text(resp) {
        serde_json::to_string(&String::from_utf8_lossy(&resp.body)).map_or(usize::MAX, |s| s.len())
    } else {
        base64::encoded_len(resp.body.len(), true).unwrap_or(usize::MAX)
    };
    let headers: usize = resp
        .headers
        .iter()
        .map(|(k, v)| {
            let quoted = |s: &str| serde_json::to_string(s).map_or(s.len() + 2, |q| q.len());
            // `"k":"v",` and `"k":["v"],`
            2 * (quoted(k) + quoted(v) + 4)
        })
        .sum();
    body.saturating_add(headers).saturating_add(ENVELOPE)
}

/// Converts for `lambda_http` (which picks text or base64 from the headers in buffered mode, and
/// streams the bytes as they are otherwise). Names or values `http` cannot carry (custom headers
/// come from requests) are dropped, as the local server does.
pub fn to_lambda(resp: HttpResponse, origin: Origin) -> Response<Body> {
    let body = if resp.body.is_empty() {
        Body::Empty
    } else {
        Body::Binary(resp.body.to_vec())
    };
    let mut out = Response::new(body);
    *out.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    for (k, v) in &resp.headers {
        // SIH leaves the credentials header out of answers to ALB events (§4.1).
        if origin == Origin::Alb && k.eq_ignore_ascii_case("Access-Control-Allow-Credentials") {
            continue;
        }
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            headers.append(k, v);
        }
    }
    out
}

/// Tells Lambda why the function could not start (`/runtime/init/error`), so the failure shows
/// as `Runtime.InitError` with our message instead of a bare exit.
pub(crate) async fn report_init_error(message: &str) {
    use lambda_runtime_api_client::{body::Body, PooledClient};
    let body = serde_json::json!({"errorType": "Runtime.InitError", "errorMessage": message}).to_string();
    let sent = async {
        let client = PooledClient::builder().build();
        let req = lambda_http::http::Request::post("/2018-06-01/runtime/init/error")
            .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
            .header("Content-Type", "application/json")
            .body(Body::from(body))?;
        client.call(req).await?;
        Ok::<_, lambda_http::Error>(())
    };
    if let Err(e) = sent.await {
        eprintln!("pixfront lambda: cannot report the init error: {e}");
    }
}
