//! Settings of the HTTP contract: CORS, the Cache-Control of errors, SIH's fallback image and
//! admission (renders at once, requests waiting, memory budget).

use crate::settings::Lookup;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// `CORS_ENABLED=Yes`
    pub cors_enabled: bool,
    /// `CORS_ORIGIN` (default `*`)
    pub cors_origin: String,
    /// `ERROR_CACHE_CONTROL_4XX` (default `max-age=10`): Cache-Control of 4xx error answers.
    pub error_cache_control_4xx: String,
    /// `ERROR_CACHE_CONTROL_5XX` (default `no-store`): Cache-Control of 5xx error answers.
    pub error_cache_control_5xx: String,
    /// `ENABLE_DEFAULT_FALLBACK_IMAGE=Yes`
    pub enable_fallback_image: bool,
    /// `DEFAULT_FALLBACK_IMAGE_BUCKET`
    pub fallback_image_bucket: Option<String>,
    /// `DEFAULT_FALLBACK_IMAGE_KEY`
    pub fallback_image_key: Option<String>,
    /// `MAX_IN_FLIGHT` (default 0 = one per CPU core): images rendered at the same time.
    pub max_in_flight: usize,
    /// `MAX_QUEUE` (default: 8 × in-flight): requests waiting for a render slot; beyond it
    /// pixfront answers 503 with `Retry-After`. 0 = no waiting at all.
    pub max_queue: Option<usize>,
    /// `MEMORY_BUDGET_MB` (default: 60 % of the cgroup limit, Lambda memory or RAM, see
    /// `limit::default_budget_mb`): the estimated peak memory of all renders at once.
    pub memory_budget_mb: Option<u32>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            cors_enabled: false,
            cors_origin: "*".into(),
            error_cache_control_4xx: "max-age=10".into(),
            error_cache_control_5xx: "no-store".into(),
            enable_fallback_image: false,
            fallback_image_bucket: None,
            fallback_image_key: None,
            max_in_flight: 0,
            max_queue: None,
            memory_budget_mb: None,
        }
    }
}

impl HttpSettings {
    pub fn from_lookup(get: &Lookup) -> Result<HttpSettings, String> {
        let d = HttpSettings::default();
        Ok(HttpSettings {
            cors_enabled: get.yes("CORS_ENABLED"),
            cors_origin: get.get("CORS_ORIGIN").unwrap_or(d.cors_origin),
            error_cache_control_4xx: get
                .non_empty("ERROR_CACHE_CONTROL_4XX")
                .unwrap_or(d.error_cache_control_4xx),
            error_cache_control_5xx: get
                .non_empty("ERROR_CACHE_CONTROL_5XX")
                .unwrap_or(d.error_cache_control_5xx),
            enable_fallback_image: get.yes("ENABLE_DEFAULT_FALLBACK_IMAGE"),
            fallback_image_bucket: get.non_empty("DEFAULT_FALLBACK_IMAGE_BUCKET"),
            fallback_image_key: get.non_empty("DEFAULT_FALLBACK_IMAGE_KEY"),
            max_in_flight: get.number("MAX_IN_FLIGHT", 0)? as usize,
            max_queue: match get.non_empty("MAX_QUEUE") {
                None => None,
                Some(_) => Some(get.number("MAX_QUEUE", 0)? as usize),
            },
            memory_budget_mb: match get.non_empty("MEMORY_BUDGET_MB") {
                None => None,
                Some(_) => Some(get.number("MEMORY_BUDGET_MB", 0)?.clamp(1, u32::MAX as u64) as u32),
            },
        })
    }

    /// Images rendered at once: `max_in_flight`, or the number of CPU cores when 0.
    pub fn in_flight_limit(&self) -> usize {
        match self.max_in_flight {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// The memory budget in MiB: `MEMORY_BUDGET_MB`, else derived from the environment
    /// (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE` is Lambda's own variable, not a setting).
    pub fn memory_budget(&self) -> u32 {
        self.memory_budget_mb.unwrap_or_else(|| {
            let lambda = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok();
            super::limit::default_budget_mb(lambda.and_then(|v| v.trim().parse().ok()))
        })
    }

    /// Requests allowed to wait for a render slot: `max_queue`, else 8 × in-flight.
    pub fn queue_limit(&self) -> usize {
        self.max_queue.unwrap_or(8 * self.in_flight_limit())
    }
}
