//! Storage call counts and latency, by operation and outcome, for `/metrics`.

use std::future::Future;
use std::time::Instant;

use domain::StorageError;

pub(crate) async fn timed<T>(
    operation: &'static str,
    call: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    let started = Instant::now();
    let result = call.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(StorageError::Conflict(_) | StorageError::ConditionFailed) => "condition",
        Err(StorageError::Unavailable(_)) => "unavailable",
        Err(_) => "error",
    };
    let labels = [("backend", "postgres"), ("operation", operation), ("outcome", outcome)];
    metrics::counter!("tessera_storage_calls_total", &labels).increment(1);
    metrics::histogram!("tessera_storage_call_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    result
}
