//! `pixfront serve`'s recorder: the metrics in Prometheus text format, rendered on scrape
//! (`GET /?metrics`, or `GET /metrics` on `METRICS_LISTEN`).

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// What renders the exposition; cheap to clone.
#[derive(Clone)]
pub struct Exposition(PrometheusHandle);

/// The Prometheus content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether a query on `/` asks for the metrics: `metrics`, or `metrics=` as Prometheus sends
/// `params: {metrics: [""]}`.
pub fn is_scrape(query: &str) -> bool {
    query == "metrics" || query == "metrics="
}

static INSTALLED: OnceLock<Option<Exposition>> = OnceLock::new();

/// Installs the Prometheus recorder as the process's recorder (once; later calls return the
/// same exposition). `None` when another recorder was installed first (then nothing is
/// rendered here rather than an empty page that looks healthy).
pub fn install() -> Option<Exposition> {
    INSTALLED
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(super::BUCKETS)
                .expect("BUCKETS is not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            super::register_all();
            Some(Exposition(handle))
        })
        .clone()
}

impl Exposition {
    /// The current values in the text format.
    pub fn render(&self) -> String {
        super::sample_memory();
        self.0.render()
    }
}
