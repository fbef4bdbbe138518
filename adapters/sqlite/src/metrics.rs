//! Storage call counts and latency for `/metrics`, labelled with this backend: a repository
//! operation is one statement (`call="query"`).

use std::future::Future;

use domain::StorageError;

pub(crate) async fn timed<T>(
    operation: &'static str,
    work: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    storage_support::timed("sqlite", operation, "query", work).await
}
