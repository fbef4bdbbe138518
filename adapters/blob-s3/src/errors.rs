//! S3 failures in the blob store's vocabulary.

use application::ports::BlobError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Error codes after which a later retry may succeed: S3 asked the caller to slow down, or had a
/// fault of its own.
const TRANSIENT: &[&str] =
    &["SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"];

/// Maps an SDK failure, keeping it as the cause. Throttling, 5xx answers, timeouts and connection
/// failures are `Unavailable` (the store may be back soon; a write that timed out may even have
/// happened); anything else is `Backend`.
pub(crate) fn sdk_error<E>(context: &str, err: SdkError<E, HttpResponse>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let passing = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status >= 500 || status == 429 || err.code().is_some_and(|code| TRANSIENT.contains(&code))
        }
        _ => false,
    };
    let context = format!("{context}: {}", DisplayErrorContext(&err));
    let source = Some(err.into());
    if passing {
        BlobError::Unavailable { context, source }
    } else {
        BlobError::Backend { context, source }
    }
}

/// A download whose bytes stopped arriving: the connection broke, so it is worth retrying.
pub(crate) fn body_error(err: aws_sdk_s3::primitives::ByteStreamError) -> BlobError {
    BlobError::Unavailable { context: "a blob's bytes stopped arriving from S3".to_owned(), source: Some(err.into()) }
}

/// An answer S3 should never give (a missing field, an impossible value).
pub(crate) fn odd(context: impl Into<String>) -> BlobError {
    BlobError::Backend { context: context.into(), source: None }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::primitives::SdkBody;
    use aws_smithy_runtime_api::http::StatusCode;

    use super::*;

    fn answered(status: u16, code: &str) -> BlobError {
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        let err = GetObjectError::generic(ErrorMetadata::builder().code(code).build());
        sdk_error("reading", SdkError::service_error(err, raw))
    }

    #[test]
    fn throttling_faults_and_timeouts_pass_and_the_rest_is_a_backend_failure() {
        for (status, code) in
            [(503, "SlowDown"), (500, "InternalError"), (429, "TooManyRequests"), (400, "RequestTimeout")]
        {
            assert!(matches!(answered(status, code), BlobError::Unavailable { .. }), "{status} {code}");
        }
        for (status, code) in [(403, "AccessDenied"), (404, "NoSuchBucket"), (400, "InvalidArgument")] {
            assert!(matches!(answered(status, code), BlobError::Backend { .. }), "{status} {code}");
        }
        let timeout: SdkError<GetObjectError, HttpResponse> = SdkError::timeout_error("slow");
        assert!(matches!(sdk_error("reading", timeout), BlobError::Unavailable { .. }));
    }
}
