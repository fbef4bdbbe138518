//! Tessera as an AWS Lambda function: the same binary, started by the Lambda runtime (which sets
//! `AWS_LAMBDA_RUNTIME_API`), serves the same app through [`tessera_lambda`] instead of a
//! listener. What differs, on purpose:
//!
//! - everything (storage client, keys, services) is built once, in the init phase, and reused by
//!   every invocation the instance serves;
//! - nothing is migrated at a cold start: `tessera migrate` is a deploy step (docs/deploy.md);
//! - no listener, no connection limits, no SIGTERM drain: API Gateway or the function URL holds
//!   the connections, and Lambda hands over one whole request at a time;
//! - no periodic sweep in the background (a frozen instance runs nothing): a scheduled
//!   EventBridge event runs the sweep `tessera sweep` runs, and on DynamoDB finishes project
//!   deletions a stopped instance left;
//! - the request id is seeded from the Lambda request id, and every log line of an invocation is
//!   in a span that names it.

use application::sweep::SweepService;
use application::ErrorChain;
use serde_json::json;
use tessera_lambda::{BoxFuture, Error, Scheduled};

use crate::backend::Backend;
use crate::{App, BootError, Config};

/// Whether the Lambda runtime started this process.
pub fn started_by_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Builds the app without migrating, then serves invocations until the runtime goes away.
pub async fn serve(config: &Config) -> Result<(), BootError> {
    let app = App::build(config, false).await?;
    tracing::info!(storage = ?config.storage, "serving as an AWS Lambda function");
    app.serve_lambda().await
}

/// What a scheduled event runs.
pub struct Upkeep {
    pub sweep: SweepService,
    pub backend: Backend,
}

impl Scheduled for Upkeep {
    fn run(&self) -> BoxFuture<'_, Result<serde_json::Value, Error>> {
        Box::pin(async move {
            let swept = self.sweep.run().await.map_err(|e| {
                tracing::warn!(error = %ErrorChain(&e), "the sweep failed; the next schedule tries again");
                Error::from(ErrorChain(&e).to_string())
            })?;
            tracing::info!(
                refresh_tokens = swept.refresh_tokens,
                refresh_chains = swept.refresh_chains,
                login_attempts = swept.login_attempts,
                idempotency_records = swept.idempotency_records,
                orphan_blobs = swept.orphan_blobs,
                "swept expired sessions"
            );
            self.backend.finish_deletions().await.map_err(|e| Error::from(ErrorChain(&e).to_string()))?;
            Ok(json!({
                "refresh_tokens": swept.refresh_tokens,
                "refresh_chains": swept.refresh_chains,
                "login_attempts": swept.login_attempts,
                "idempotency_records": swept.idempotency_records,
                "orphan_blobs": swept.orphan_blobs,
            }))
        })
    }
}
