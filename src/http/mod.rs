//! The HTTP contract every front end shares: `(method, path, query, headers) → (status, headers,
//! body)` over a [`Storage`]. The local server and the Lambda adapters only translate their
//! native request/response types to [`HttpRequest`]/[`HttpResponse`]; all request logic is here.
//!
//! Service endpoints live on the path `/`, which can never name an image: every SIH dialect
//! reads `/` as the empty key (SIH answers it with 404 `NoSuchKey`). `GET /` is the demo page,
//! `GET /?health` the health check, `GET /?metrics` the Prometheus metrics (when the front end
//! installed them).

mod demo;
mod handler;
mod headers;
mod info;
mod limit;
mod message;
mod results;
pub mod settings;

pub use demo::metrics as metrics_response;
pub use handler::{record, Handler, HandlerSettings};
pub use limit::Limiter;
pub use message::{DemoImages, HttpRequest, HttpResponse, RequestLog};
pub use settings::HttpSettings;
