//! AWS client plumbing every store and detector shares: one SDK configuration (credentials,
//! region, endpoint from the standard chain) with pixfront's retry and timeout policy, and the
//! error-chain text used in logs. S3, Secrets Manager and Rekognition clients are all built
//! from [`load_sdk_config`]'s result, so they retry and time out alike.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Attempts per call (first try + retries), with exponential backoff and jitter.
pub const MAX_ATTEMPTS: u32 = 3;
/// First backoff; doubled per retry (SDK standard retry mode).
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// One attempt may not take longer (a stalled connection is retried, not waited on).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// All attempts together stay under API Gateway's 29 s integration timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(25);

/// The AWS SDK configuration every pixfront client shares: the standard
/// credential/region/endpoint chain plus pixfront's retry and timeout policy. Load it once per
/// process (Lambda: once per container).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(INITIAL_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(3100))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .load()
        .await
}

/// The full error chain (the SDK's `Display` is only the outermost layer).
pub fn describe(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        s.push_str(": ");
        s.push_str(&e.to_string());
        source = e.source();
    }
    s
}

/// Counts one AWS call by its outcome (`pixfront_aws_calls_total`): a 404 is the caller's miss
/// (no such key or secret), any other failure an error.
pub fn count_call<T, E>(
    service: crate::telemetry::Service,
    result: &Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) {
    use crate::telemetry::Outcome;
    let outcome = match result {
        Ok(_) => Outcome::Ok,
        Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => Outcome::NotFound,
        Err(_) => Outcome::Error,
    };
    crate::telemetry::aws_call(service, outcome);
}
