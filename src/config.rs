//! Settings read from the environment, with SIH's variable names (booleans are the exact string
//! `Yes`, as in SIH) plus pixfront's own. Every front end (server, Lambda, CLI) builds one
//! [`Config`]; flags of `pixfront serve` override the variables.

/// Everything configurable. Field docs name the environment variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `SOURCE_BUCKETS`: raw value; `None` when unset (requests then fail with SIH's 400
    /// `GetAllowedSourceBuckets::NoSourceBuckets`).
    pub source_buckets: Option<String>,
    /// `AUTO_WEBP=Yes`: answer WebP when `Accept` lists `image/webp`.
    pub auto_webp: bool,
    /// `AUTO_AVIF=Yes`: answer AVIF when `Accept` lists `image/avif` (preferred over WebP).
    pub auto_avif: bool,
    /// `CORS_ENABLED=Yes`
    pub cors_enabled: bool,
    /// `CORS_ORIGIN` (default `*`)
    pub cors_origin: String,
    /// `REWRITE_MATCH_PATTERN`: a JS regex literal `/pattern/flags` (Custom requests).
    pub rewrite_match_pattern: Option<String>,
    /// `REWRITE_SUBSTITUTION`
    pub rewrite_substitution: Option<String>,
    /// `ENABLE_SIGNATURE=Yes`
    pub enable_signature: bool,
    /// `SECRETS_MANAGER`: secret id holding the signing key (Lambda deployments).
    pub secrets_manager: Option<String>,
    /// `SECRET_KEY`: JSON field of that secret.
    pub secret_key: Option<String>,
    /// `SECRETS_MANAGER_TTL_SECONDS` (default 300): how long a key read from Secrets Manager is
    /// used before it is read again (so a rotated secret is picked up).
    pub secrets_manager_ttl_seconds: u64,
    /// `SIGNATURE_SECRET`: the signing key itself, for self-hosting (or `SIGNATURE_SECRET_FILE`).
    pub signature_secret: Option<String>,
    /// `ENABLE_DEFAULT_FALLBACK_IMAGE=Yes`
    pub enable_fallback_image: bool,
    /// `DEFAULT_FALLBACK_IMAGE_BUCKET`
    pub fallback_image_bucket: Option<String>,
    /// `DEFAULT_FALLBACK_IMAGE_KEY`
    pub fallback_image_key: Option<String>,
    /// `MAX_INPUT_PIXELS` (default 100 000 000): larger originals are refused before decoding.
    pub max_input_pixels: u64,
    /// `MAX_OUTPUT_DIMENSION` (default 16 384): largest width or height pixfront will produce.
    pub max_output_dimension: u32,
    /// `MAX_ANIMATION_PIXELS` (default 500 000 000): frames × width × height of an animation.
    pub max_animation_pixels: u64,
    /// `KEEP_METADATA=Yes`: keep EXIF/XMP/ICC in outputs (default: stripped, EXIF applied).
    pub keep_metadata: bool,
    /// `ERROR_CACHE_CONTROL_4XX` (default `max-age=10`): Cache-Control of 4xx error answers.
    pub error_cache_control_4xx: String,
    /// `ERROR_CACHE_CONTROL_5XX` (default `no-store`): Cache-Control of 5xx error answers.
    pub error_cache_control_5xx: String,
    /// `S3_FORCE_PATH_STYLE=Yes`: address S3 as `endpoint/bucket/key` (MinIO and most
    /// S3-compatible servers) instead of `bucket.endpoint/key`.
    pub s3_force_path_style: bool,
    /// `MAX_IN_FLIGHT` (default 0 = one per CPU core): images rendered at the same time.
    pub max_in_flight: usize,
    /// `MAX_QUEUE` (default: 8 × in-flight): requests waiting for a render slot; beyond it
    /// pixfront answers 503 with `Retry-After`. 0 = no waiting at all.
    pub max_queue: Option<usize>,
    /// `FACE_DETECTOR`: `local` (default, offline) or `rekognition`.
    pub face_detector: String,
    /// `FORCE_BLUR_FACES`: `bucket` or `bucket/key-prefix` entries (comma-separated) whose every
    /// answer has faces blurred, whatever the URL asks.
    pub force_blur_faces: Vec<String>,
    /// `FACE_PROXY_SIZE` (default 640 local, 1280 Rekognition): longest side of the picture
    /// face detection looks at.
    pub face_proxy_size: u32,
    /// `FACE_DETECTION_TIMEOUT_MS` (default 5000): longest a Rekognition call may take, retries
    /// included, before the request fails closed.
    pub face_detection_timeout_ms: u64,
    /// `CONTENT_MODERATION`: `rekognition` or `off` (default: `rekognition` when
    /// `FACE_DETECTOR=rekognition`, else `off`).
    pub content_moderation: bool,
    /// `FACE_CACHE_ENTRIES` (default 4096): originals whose face boxes are kept in memory.
    pub face_cache_entries: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source_buckets: None,
            auto_webp: false,
            auto_avif: false,
            cors_enabled: false,
            cors_origin: "*".into(),
            rewrite_match_pattern: None,
            rewrite_substitution: None,
            enable_signature: false,
            secrets_manager: None,
            secret_key: None,
            secrets_manager_ttl_seconds: 300,
            signature_secret: None,
            enable_fallback_image: false,
            fallback_image_bucket: None,
            fallback_image_key: None,
            max_input_pixels: 100_000_000,
            max_output_dimension: 16_384,
            max_animation_pixels: 500_000_000,
            keep_metadata: false,
            error_cache_control_4xx: "max-age=10".into(),
            error_cache_control_5xx: "no-store".into(),
            s3_force_path_style: false,
            max_in_flight: 0,
            max_queue: None,
            face_detector: "local".into(),
            force_blur_faces: Vec::new(),
            face_proxy_size: 640,
            face_cache_entries: 4096,
            face_detection_timeout_ms: 5000,
            content_moderation: false,
        }
    }
}

impl Config {
    /// Images rendered at once: `max_in_flight`, or the number of CPU cores when 0.
    pub fn in_flight_limit(&self) -> usize {
        match self.max_in_flight {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Requests allowed to wait for a render slot: `max_queue`, else 8 × in-flight.
    pub fn queue_limit(&self) -> usize {
        self.max_queue.unwrap_or(8 * self.in_flight_limit())
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, so tests can supply a map instead of the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let d = Config::default();
        let yes = |k: &str| get(k).as_deref() == Some("Yes");
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let number = |k: &str, default: u64| -> Result<u64, String> {
            match non_empty(k) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{k}: expected a whole number, got {v:?}")),
            }
        };
        let signature_secret = match non_empty("SIGNATURE_SECRET") {
            Some(s) => Some(s),
            None => match non_empty("SIGNATURE_SECRET_FILE") {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("SIGNATURE_SECRET_FILE {path}: {e}"))?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                ),
                None => None,
            },
        };
        let face_detector = match non_empty("FACE_DETECTOR") {
            None => d.face_detector.clone(),
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                d @ ("local" | "rekognition") => d.to_string(),
                _ => return Err(format!("FACE_DETECTOR: expected local or rekognition, got {v:?}")),
            },
        };
        Ok(Config {
            source_buckets: get("SOURCE_BUCKETS"),
            auto_webp: yes("AUTO_WEBP"),
            auto_avif: yes("AUTO_AVIF"),
            cors_enabled: yes("CORS_ENABLED"),
            cors_origin: get("CORS_ORIGIN").unwrap_or(d.cors_origin),
            rewrite_match_pattern: non_empty("REWRITE_MATCH_PATTERN"),
            rewrite_substitution: non_empty("REWRITE_SUBSTITUTION"),
            enable_signature: yes("ENABLE_SIGNATURE"),
            secrets_manager: non_empty("SECRETS_MANAGER"),
            secret_key: non_empty("SECRET_KEY"),
            secrets_manager_ttl_seconds: number(
                "SECRETS_MANAGER_TTL_SECONDS",
                d.secrets_manager_ttl_seconds,
            )?,
            signature_secret,
            enable_fallback_image: yes("ENABLE_DEFAULT_FALLBACK_IMAGE"),
            fallback_image_bucket: non_empty("DEFAULT_FALLBACK_IMAGE_BUCKET"),
            fallback_image_key: non_empty("DEFAULT_FALLBACK_IMAGE_KEY"),
            max_input_pixels: number("MAX_INPUT_PIXELS", d.max_input_pixels)?,
            max_output_dimension: number("MAX_OUTPUT_DIMENSION", d.max_output_dimension as u64)? as u32,
            max_animation_pixels: number("MAX_ANIMATION_PIXELS", d.max_animation_pixels)?,
            keep_metadata: yes("KEEP_METADATA"),
            error_cache_control_4xx: non_empty("ERROR_CACHE_CONTROL_4XX")
                .unwrap_or(d.error_cache_control_4xx),
            error_cache_control_5xx: non_empty("ERROR_CACHE_CONTROL_5XX")
                .unwrap_or(d.error_cache_control_5xx),
            s3_force_path_style: yes("S3_FORCE_PATH_STYLE"),
            max_in_flight: number("MAX_IN_FLIGHT", 0)? as usize,
            max_queue: match non_empty("MAX_QUEUE") {
                None => None,
                Some(_) => Some(number("MAX_QUEUE", 0)? as usize),
            },
            face_detector: face_detector.clone(),
            force_blur_faces: crate::faces::policy::parse(&get("FORCE_BLUR_FACES").unwrap_or_default()),
            // Rekognition wants faces of at least 40 px: a larger proxy.
            face_proxy_size: number(
                "FACE_PROXY_SIZE",
                if face_detector == "rekognition" {
                    1280
                } else {
                    d.face_proxy_size as u64
                },
            )?
            .clamp(20, 4096) as u32,
            face_cache_entries: number("FACE_CACHE_ENTRIES", d.face_cache_entries as u64)? as usize,
            face_detection_timeout_ms: number("FACE_DETECTION_TIMEOUT_MS", d.face_detection_timeout_ms)?,
            content_moderation: match non_empty("CONTENT_MODERATION") {
                None => face_detector == "rekognition",
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "rekognition" => true,
                    "off" => false,
                    _ => {
                        return Err(format!(
                            "CONTENT_MODERATION: expected rekognition or off, got {v:?}"
                        ))
                    }
                },
            },
        })
    }
}
