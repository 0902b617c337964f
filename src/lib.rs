//! pixfront: an on-the-fly image handler that speaks AWS Serverless Image Handler's URLs.
//!
//! One engine, thin front ends: URL dialect ([`request`]) → canonical request
//! ([`request::ImageRequest`] with typed [`edits`]) → [`pipeline`] → encoder. Storage and
//! transport sit behind small traits so no module knows which front end it runs under.

pub mod aws;
pub mod cli;
pub mod config;
pub mod edits;
pub mod error;
pub mod faces;
pub mod http;
pub mod info;
pub mod lambda;
pub mod logging;
pub mod pipeline;
pub mod renditions;
pub mod request;
pub mod secrets;
pub mod server;
pub mod settings;
pub mod storage;
pub mod telemetry;
pub mod uploads;

pub use error::{Error, Result};

/// A boxed future, so the storage and secret traits stay object-safe without an extra crate.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
