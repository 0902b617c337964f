//! Where `pixfront serve` answers scrapes.

use crate::settings::Lookup;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSettings {
    /// `METRICS_LISTEN`: a separate address (e.g. `127.0.0.1:9090`, or a private interface)
    /// answering `GET /metrics` (and `/?metrics`); the main address then does not answer
    /// `/?metrics`, so metrics are never public. Unset: `GET /?metrics` on the main address.
    pub listen: Option<String>,
}

impl MetricsSettings {
    pub fn from_lookup(get: &Lookup) -> MetricsSettings {
        MetricsSettings {
            listen: get.non_empty("METRICS_LISTEN").map(|v| v.trim().to_string()),
        }
    }
}
