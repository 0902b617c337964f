//! Every setting of `pixfront serve`: an environment variable (SIH's names where SIH has one)
//! and the same as a flag. One table drives the flags, `serve --help` and the docs check, so
//! a new variable cannot be forgotten in one of them.

use std::collections::HashMap;

pub struct Setting {
    pub env: &'static str,
    pub flag: &'static str,
    /// Shown in `--help` and docs/configuration.md.
    pub default: &'static str,
    /// The SIH equivalent ("" when pixfront-only).
    pub sih: &'static str,
    pub help: &'static str,
}

const fn s(
    env: &'static str,
    flag: &'static str,
    default: &'static str,
    sih: &'static str,
    help: &'static str,
) -> Setting {
    Setting {
        env,
        flag,
        default,
        sih,
        help,
    }
}

pub const SETTINGS: &[Setting] = &[
    s(
        "PIXFRONT_ROOT",
        "root",
        "bundled samples/",
        "",
        "Folder with one sub-folder per bucket; without it the bundled samples are served",
    ),
    s(
        "PIXFRONT_S3",
        "s3",
        "No",
        "",
        "Yes (or bare --s3): read originals from S3 (standard AWS credentials/region/endpoint chain) instead of a folder",
    ),
    s(
        "S3_FORCE_PATH_STYLE",
        "s3-force-path-style",
        "No",
        "",
        "Yes: path-style S3 URLs (endpoint/bucket/key), for MinIO and most S3-compatible servers",
    ),
    s(
        "ORIGINS",
        "origins",
        "",
        "",
        "Named origins, comma-separated name=https://host/base/ or name=s3:bucket; a name is chosen like a bucket (SOURCE_BUCKETS lists it) (docs/origins.md)",
    ),
    s(
        "ORIGIN_PATHS",
        "origin-paths",
        "",
        "",
        "Comma-separated key-prefix=origin: keys of the default bucket under the prefix are read from that origin or bucket, prefix removed",
    ),
    s(
        "ORIGIN_URL_HOSTS",
        "origin-url-hosts",
        "",
        "",
        "Hosts (host, .suffix or *.suffix, :port if not the default) a request may name in an absolute URL key; unset: no URL keys",
    ),
    s(
        "ORIGIN_ALLOW_HTTP",
        "origin-allow-http",
        "No",
        "",
        "Yes: plain http:// origins, URL keys and redirects (default: https only)",
    ),
    s(
        "ORIGIN_ALLOW_NETWORKS",
        "origin-allow-networks",
        "",
        "",
        "DANGEROUS: comma-separated IP networks (CIDR) origins may be on although not public (private, loopback…)",
    ),
    s(
        "ORIGIN_MAX_BYTES",
        "origin-max-bytes",
        "52428800 (50 MiB)",
        "",
        "Larger originals from HTTP origins are refused (400 ImageOrigin::TooLarge) while streaming",
    ),
    s(
        "ORIGIN_CONNECT_TIMEOUT_MS",
        "origin-connect-timeout-ms",
        "3000",
        "",
        "Name lookup, TCP and TLS to an HTTP origin",
    ),
    s(
        "ORIGIN_READ_TIMEOUT_MS",
        "origin-read-timeout-ms",
        "5000",
        "",
        "Longest wait for an origin's answer head and for each piece of its body",
    ),
    s(
        "ORIGIN_TIMEOUT_MS",
        "origin-timeout-ms",
        "10000",
        "",
        "One fetch from an HTTP origin, redirects included, start to last byte",
    ),
    s(
        "ORIGIN_MAX_REDIRECTS",
        "origin-max-redirects",
        "0",
        "",
        "Redirects followed per fetch, each checked like the first URL (0: none)",
    ),
    s(
        "ORIGIN_CACHE_MB",
        "origin-cache-mb",
        "64",
        "",
        "Memory for originals fetched from HTTP origins (0: none; concurrent fetches of one original are shared anyway)",
    ),
    s(
        "ORIGIN_CACHE_TTL_SECONDS",
        "origin-cache-ttl-seconds",
        "60",
        "",
        "Seconds a cached original is used before it is revalidated (If-None-Match / If-Modified-Since)",
    ),
    s(
        "PIXFRONT_LISTEN",
        "listen",
        "127.0.0.1:8080",
        "",
        "Address to listen on",
    ),
    s(
        "METRICS_LISTEN",
        "metrics-listen",
        "",
        "",
        "Separate address answering GET /metrics (Prometheus); the main address then has no /?metrics (docs/operations.md)",
    ),
    s(
        "LOG_FORMAT",
        "log-format",
        "pretty on a terminal, else json",
        "",
        "Access log format: json or pretty (level via RUST_LOG)",
    ),
    s(
        "SOURCE_BUCKETS",
        "source-buckets",
        "the samples' bucket (none with --root)",
        "SOURCE_BUCKETS",
        "Comma-separated buckets that may be read; the first is the default",
    ),
    s(
        "AUTO_WEBP",
        "auto-webp",
        "No",
        "AUTO_WEBP",
        "Yes: answer WebP when Accept lists image/webp",
    ),
    s(
        "AUTO_AVIF",
        "auto-avif",
        "No",
        "",
        "Yes: answer AVIF when Accept lists image/avif (preferred over WebP)",
    ),
    s(
        "AUTO_QUALITY",
        "auto-quality",
        "(unset)",
        "",
        "best, good or eco: JPEG/WebP/AVIF outputs whose request gives no quality get quality auto:<level> (see docs/edits.md)",
    ),
    s(
        "CORS_ENABLED",
        "cors-enabled",
        "No",
        "CORS_ENABLED",
        "Yes: send Access-Control-Allow-Origin and answer preflights",
    ),
    s(
        "CORS_ORIGIN",
        "cors-origin",
        "*",
        "CORS_ORIGIN",
        "Value of Access-Control-Allow-Origin",
    ),
    s(
        "REWRITE_MATCH_PATTERN",
        "rewrite-match-pattern",
        "",
        "REWRITE_MATCH_PATTERN",
        "Custom rewrite: a JS regex literal /pattern/flags",
    ),
    s(
        "REWRITE_SUBSTITUTION",
        "rewrite-substitution",
        "",
        "REWRITE_SUBSTITUTION",
        "Custom rewrite: replacement ($1, $& work)",
    ),
    s(
        "ENABLE_SIGNATURE",
        "enable-signature",
        "No",
        "ENABLE_SIGNATURE",
        "Yes: require an HMAC-SHA256 `signature` query parameter",
    ),
    s(
        "SECRETS_MANAGER",
        "secrets-manager",
        "",
        "SECRETS_MANAGER",
        "Secrets Manager secret id holding the signing key (Lambda)",
    ),
    s(
        "SECRET_KEY",
        "secret-key",
        "",
        "SECRET_KEY",
        "JSON field of that secret",
    ),
    s(
        "SECRETS_MANAGER_TTL_SECONDS",
        "secrets-manager-ttl-seconds",
        "300",
        "",
        "Seconds a key read from Secrets Manager is used before it is read again (rotation)",
    ),
    s(
        "SIGNATURE_SECRET",
        "signature-secret",
        "",
        "",
        "The signing key itself (self-hosting); never logged",
    ),
    s(
        "SIGNATURE_SECRET_FILE",
        "signature-secret-file",
        "",
        "",
        "File holding the signing key (used when SIGNATURE_SECRET is unset)",
    ),
    s(
        "ENABLE_DEFAULT_FALLBACK_IMAGE",
        "enable-default-fallback-image",
        "No",
        "ENABLE_DEFAULT_FALLBACK_IMAGE",
        "Yes: answer errors with the fallback image",
    ),
    s(
        "DEFAULT_FALLBACK_IMAGE_BUCKET",
        "default-fallback-image-bucket",
        "",
        "DEFAULT_FALLBACK_IMAGE_BUCKET",
        "Bucket of the fallback image",
    ),
    s(
        "DEFAULT_FALLBACK_IMAGE_KEY",
        "default-fallback-image-key",
        "",
        "DEFAULT_FALLBACK_IMAGE_KEY",
        "Key of the fallback image",
    ),
    s(
        "MAX_INPUT_PIXELS",
        "max-input-pixels",
        "100000000",
        "",
        "Larger originals are refused before decoding",
    ),
    s(
        "MAX_OUTPUT_DIMENSION",
        "max-output-dimension",
        "16384",
        "",
        "Largest output width or height",
    ),
    s(
        "MAX_ANIMATION_PIXELS",
        "max-animation-pixels",
        "200000000",
        "",
        "Largest frames x width x height of an animation kept animated (it bounds decoding time; memory follows the output, see MEMORY_BUDGET_MB)",
    ),
    s(
        "MEMORY_BUDGET_MB",
        "memory-budget-mb",
        "60% of the cgroup limit, else of AWS_LAMBDA_FUNCTION_MEMORY_SIZE, else of RAM",
        "",
        "Estimated peak memory of all renders at once: a render waits (in the queue) until its estimate fits; one that can never fit gets 400 MemoryBudgetExceeded",
    ),
    s(
        "FAIL_ON",
        "fail-on",
        "warning",
        "",
        "Damaged originals: warning refuses any (400 TruncatedImage/CorruptImage, as sharp's failOn default); error renders what survives decoder warnings; none also keeps an animation's frames decoded before an error. Images rendered from damaged originals get ERROR_CACHE_CONTROL_4XX",
    ),
    s(
        "KEEP_METADATA",
        "keep-metadata",
        "No",
        "",
        "Yes: keep EXIF/XMP/ICC in outputs",
    ),
    s(
        "ERROR_CACHE_CONTROL_4XX",
        "error-cache-control-4xx",
        "max-age=10",
        "",
        "Cache-Control of 4xx error answers",
    ),
    s(
        "ERROR_CACHE_CONTROL_5XX",
        "error-cache-control-5xx",
        "no-store",
        "",
        "Cache-Control of 5xx error answers",
    ),
    s(
        "MAX_IN_FLIGHT",
        "max-in-flight",
        "0 (= CPU cores)",
        "",
        "Images rendered at the same time",
    ),
    s(
        "MAX_QUEUE",
        "max-queue",
        "0 (= 8 x in-flight)",
        "",
        "Requests waiting for a render slot; beyond it: 503 + Retry-After",
    ),
    s(
        "HEADER_READ_TIMEOUT_SECONDS",
        "header-read-timeout-seconds",
        "10",
        "",
        "Seconds a client has to send a complete request header (also bounds an idle kept-alive connection)",
    ),
    s(
        "KEEP_ALIVE_TIMEOUT_SECONDS",
        "keep-alive-timeout-seconds",
        "10",
        "",
        "Seconds an idle kept-alive connection stays open (0: no keep-alive)",
    ),
    s(
        "MAX_CONNECTIONS",
        "max-connections",
        "1024",
        "",
        "Open connections at once; beyond it a new connection gets 503 and is closed",
    ),
    s(
        "MAX_HEADER_BYTES",
        "max-header-bytes",
        "16384",
        "",
        "Largest request line plus headers (at least 8192); larger requests get 431",
    ),
    s(
        "FACE_DETECTOR",
        "face-detector",
        "local",
        "",
        "Face detection for blurFaces/smartCrop: local (offline) or rekognition",
    ),
    s(
        "FORCE_BLUR_FACES",
        "force-blur-faces",
        "(unset)",
        "",
        "Comma-separated bucket or bucket/key-prefix entries whose every answer has faces blurred",
    ),
    s(
        "FACE_PROXY_SIZE",
        "face-proxy-size",
        "800 (1280 with rekognition)",
        "",
        "Longest side of the picture face detection looks at (20-4096)",
    ),
    s(
        "FACE_DETECTION_TIMEOUT_MS",
        "face-detection-timeout-ms",
        "5000",
        "",
        "Longest a Rekognition call may take (retries included) before the request fails closed (503)",
    ),
    s(
        "CONTENT_MODERATION",
        "content-moderation",
        "rekognition when FACE_DETECTOR=rekognition, else off",
        "",
        "Backend of the contentModeration edit: rekognition or off (then 400)",
    ),
    s(
        "FACE_CACHE_ENTRIES",
        "face-cache-entries",
        "4096",
        "",
        "Originals whose face boxes are kept in memory (LRU)",
    ),
    s("PIXFRONT_UPLOADS", "uploads", "No", "", "Yes: the upload and gallery pages (/?upload, /?gallery, /?presign)"),
    s("PIXFRONT_RENDITIONS", "renditions", "", "", "Renditions document (file or inline JSON) rendered for each upload"),
    s("UPLOAD_BUCKET", "upload-bucket", "first of SOURCE_BUCKETS", "", "Bucket uploads are written to"),
    s("UPLOAD_PREFIX", "upload-prefix", "uploads/", "", "Key prefix of every upload"),
    s("UPLOAD_MAX_BYTES", "upload-max-bytes", "26214400 (25 MiB)", "", "Largest upload"),
    s("UPLOAD_TOKEN", "upload-token", "random, printed (serve)", "", "Token that allows uploads"),
    s("UPLOAD_TOKEN_FILE", "upload-token-file", "", "", "File holding the upload token"),
    s("UPLOAD_TOKEN_SECRET_KEY", "upload-token-secret-key", "", "", "JSON field of SECRETS_MANAGER with the token"),
    s("UPLOAD_GALLERY_PUBLIC", "upload-gallery-public", "No", "", "Yes: the gallery needs no token"),
    s("UPLOAD_RENDITIONS_URL", "upload-renditions-url", "", "", "Base URL the gallery links renditions to"),
    s("UPLOAD_PRESIGN_SECONDS", "upload-presign-seconds", "300", "", "Lifetime of a presigned POST"),
    s("UPLOAD_NOT_AN_IMAGE", "upload-not-an-image", "keep", "", "Pipeline: keep, delete or quarantine non-images"),
];

/// The values given on the command line or in the environment (flags win), by variable name.
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    pub values: HashMap<&'static str, String>,
}

impl ServeArgs {
    pub fn get(&self, env: &str) -> Option<String> {
        self.values.get(env).cloned()
    }
}

impl clap::FromArgMatches for ServeArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut values = HashMap::new();
        for s in SETTINGS {
            if let Some(v) = m.get_one::<String>(s.flag) {
                values.insert(s.env, v.clone());
            }
        }
        Ok(ServeArgs { values })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for ServeArgs {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        for s in SETTINGS {
            let help = if s.default.is_empty() {
                s.help.to_string()
            } else {
                format!("{} [default: {}]", s.help, s.default)
            };
            let mut arg = clap::Arg::new(s.flag)
                .long(s.flag)
                .env(s.env)
                .value_name("VALUE")
                .help(help);
            // Switches (default No) may be given bare: `--s3` means `--s3 Yes`.
            if s.default == "No" {
                arg = arg.num_args(0..=1).default_missing_value("Yes");
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn every_config_variable_has_a_setting() {
        let asked = RefCell::new(Vec::<String>::new());
        crate::config::Config::from_lookup(|k| {
            asked.borrow_mut().push(k.to_string());
            None
        })
        .unwrap();
        for k in asked.into_inner() {
            assert!(
                SETTINGS.iter().any(|s| s.env == k),
                "{k} is read by Config but has no flag"
            );
        }
    }

    #[test]
    fn queue_and_in_flight_limits() {
        let c = crate::config::Config::from_lookup(|k| (k == "MAX_QUEUE").then(|| "0".to_string())).unwrap();
        assert_eq!(c.http.queue_limit(), 0, "0 means no waiting");
        let d = crate::config::Config::from_lookup(|_| None).unwrap();
        assert!(d.http.in_flight_limit() >= 1);
        assert_eq!(d.http.queue_limit(), 8 * d.http.in_flight_limit());
        let e =
            crate::config::Config::from_lookup(|k| (k == "MAX_IN_FLIGHT").then(|| "3".to_string())).unwrap();
        assert_eq!((e.http.in_flight_limit(), e.http.queue_limit()), (3, 24));
    }

    #[test]
    fn documented_in_configuration_md() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md")).unwrap();
        for s in SETTINGS {
            assert!(
                doc.contains(&format!("`{}`", s.env)),
                "{} missing from docs/configuration.md",
                s.env
            );
            assert!(
                doc.contains(&format!("`--{}`", s.flag)),
                "--{} missing from docs/configuration.md",
                s.flag
            );
        }
    }
}
