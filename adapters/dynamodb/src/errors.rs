//! DynamoDB failures in the domain's vocabulary.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use domain::StorageError;

/// Error codes after which a later retry may succeed: the request was throttled, the service
/// had a fault, or another transaction held an item. Each is a `503` with `Retry-After`.
const TRANSIENT: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
];

/// Whether a service error code (or a transaction cancellation reason code) is transient.
pub(crate) fn is_transient(code: &str) -> bool {
    TRANSIENT.contains(&code)
        || matches!(code, "ThrottlingError" | "TransactionConflict" | "ProvisionedThroughputExceeded")
}

/// Maps an SDK failure that is not a failed condition, keeping it as the cause. Timeouts and
/// connection failures are `Unavailable`: the backend may be back soon (for a write, it may even
/// have happened).
pub(crate) fn sdk_error<E, R>(call: &str, err: SdkError<E, R>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StorageError::unavailable_from(call, err)
        }
        SdkError::ServiceError(_) if err.code().is_some_and(is_transient) => StorageError::unavailable_from(call, err),
        _ => StorageError::backend_from(call, err),
    }
}

/// Whether a single conditional write failed its condition.
pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(_)) && err.code() == Some("ConditionalCheckFailedException")
}
