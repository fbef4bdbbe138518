//! The configuration every AWS client of Tessera starts from: the standard chain (`AWS_REGION`,
//! credentials, `AWS_ENDPOINT_URL_*`), one TLS stack (rustls with ring, the one sqlx uses too), and
//! timeouts that turn a hung service into a quick, retryable failure.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// The shared configuration with `attempt` per attempt (connecting: at most 2 s of it) and
/// `operation` per call, retries included; an error when the chain names no region.
pub async fn shared_config(attempt: Duration, operation: Duration) -> Result<SdkConfig, String> {
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(attempt.min(Duration::from_secs(2)))
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build();
    let shared =
        aws_config::defaults(BehaviorVersion::latest()).http_client(http).timeout_config(timeouts).load().await;
    if shared.region().is_none() {
        return Err("no AWS region: set AWS_REGION".to_owned());
    }
    Ok(shared)
}
