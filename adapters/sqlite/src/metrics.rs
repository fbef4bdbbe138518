//! Storage call counts and latency for `/metrics`, labelled with this backend.

use std::future::Future;

use domain::StorageError;

pub(crate) async fn timed<T>(
    operation: &'static str,
    call: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    storage_support::timed("sqlite", operation, call).await
}
