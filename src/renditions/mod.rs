//! Renditions written ahead of time: one original → every rendition of a `PIXFRONT_RENDITIONS`
//! document, through the same pipeline as the on-the-fly handler.
//!
//! - [`config`]: the document, validated at start (names, key templates, edits, formats,
//!   recursion when the destination is also a source).
//! - [`render`]: one original → the rendered objects (bytes, Content-Type, Cache-Control,
//!   metadata linking each to its source's ETag).
//! - [`sink`]: where they go: an S3 bucket (PutObject/DeleteObject) or a folder.
//!
//! Front ends: the `events` Lambda mode ([`crate::lambda::events`]: S3 and SQS notifications)
//! and `pixfront render` ([`crate::cli::render`]: a folder, in parallel).

pub mod config;
pub mod render;
pub mod sink;

pub use config::{KeyTemplate, Rendition, Renditions};
pub use render::{render_all, Rendered};
pub use sink::{FolderSink, S3Sink, Sink};
