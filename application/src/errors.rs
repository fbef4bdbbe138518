//! The errors services raise. They name what went wrong in the business's words; the HTTP adapter
//! alone turns them into status codes and problem documents.

use std::fmt;

use domain::{Conflict, FieldViolation, StorageError};

/// Things that can be looked up and not found (or not be visible to the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Project,
    Member,
    Post,
    File,
    /// A direct upload's id: one this server did not issue to the caller, or whose time is up.
    Upload,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldViolation>),
    /// Login with an unknown name or a wrong password (the same answer for both).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The current password given to a password change is wrong.
    #[error("current password is wrong")]
    WrongCurrentPassword,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("refresh token reused")]
    RefreshTokenReused,
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("{0:?} not found")]
    NotFound(Resource),
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("version mismatch")]
    VersionMismatch,
    /// The owner's membership cannot be changed or removed, nor can anyone be made owner.
    #[error("the owner's role cannot change")]
    CannotChangeOwner,
    #[error("invalid cursor")]
    InvalidCursor,
    /// A file's bytes passed the largest upload accepted (`limit` bytes).
    #[error("upload over {limit} bytes")]
    UploadTooLarge { limit: u64 },
    /// A file's bytes stopped arriving before their end (the client left or sent a broken body).
    #[error("upload interrupted: {0}")]
    UploadInterrupted(String),
    /// The bytes a direct upload stored are missing or are not those it declared (size, SHA-256).
    #[error("the uploaded bytes do not match their declaration")]
    UploadMismatch,
    /// The configured blob store cannot do this (direct uploads on the filesystem store).
    #[error("not supported by this deployment")]
    NotSupported,
    /// The byte range asked for lies outside the file's `size` bytes.
    #[error("range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The request's `Idempotency-Key` is held by a request still in progress (or its holder
    /// lost it meanwhile); retrying later is safe.
    #[error("idempotency key in use")]
    IdempotencyKeyInUse { retry_after_secs: u64 },
    /// The request's `Idempotency-Key` came before with another request.
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    #[error("storage unavailable")]
    Unavailable,
    /// Work that this instance bounds (password hashing) is queued to its limit: refused at once
    /// rather than queued further; the caller may retry shortly.
    #[error("overloaded")]
    Overloaded,
    /// A bug, a broken invariant or a storage failure; the message (a storage failure's whole
    /// chain of causes, see [`ErrorChain`]) goes to logs, never to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(violation: FieldViolation) -> Self {
        AppError::Validation(vec![violation])
    }
}

impl From<StorageError> for AppError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Conflict(c) => AppError::Conflict(c),
            StorageError::ConditionFailed => AppError::VersionMismatch,
            StorageError::BadContinuation => AppError::InvalidCursor,
            // Another request took the claim over after this one's lease ended: this one's effect
            // did not commit, and the other's answer is the one a retry will get.
            StorageError::ClaimLost => AppError::IdempotencyKeyInUse { retry_after_secs: 1 },
            StorageError::Unavailable { .. } => {
                tracing::warn!(reason = %ErrorChain(&err), "storage unavailable");
                AppError::Unavailable
            }
            // The cause is rendered here, where the storage's vocabulary ends: an `AppError` is a
            // plain value that services return and tests compare, and only a log line reads it.
            StorageError::Backend { .. } => AppError::Internal(ErrorChain(&err).to_string()),
        }
    }
}

/// Shows an error with every cause under it on one line, `outer: cause: root cause`, for the logs
/// (an error's own `Display` says only what happened at its level).
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut above = self.0.to_string();
        f.write_str(&above)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            // Some errors repeat their cause in their own message (sqlx's "error returned from
            // database: …"); saying it twice helps nobody.
            if !text.is_empty() && !above.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            above = text;
            next = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection reset")]
    struct Reset;

    /// Says its cause in its own message too, as sqlx's database errors do.
    #[derive(Debug, thiserror::Error)]
    #[error("error returned from database: {0}")]
    struct Repeats(#[source] Reset);

    #[test]
    fn a_storage_failure_becomes_internal_with_its_whole_cause_chain() {
        let err = StorageError::backend_from("sqlite", Repeats(Reset));
        let app = AppError::from(err);
        assert_eq!(
            app,
            AppError::Internal("storage failure: sqlite: error returned from database: connection reset".into())
        );
    }

    #[test]
    fn a_failure_without_a_cause_is_its_own_message() {
        let err = StorageError::backend("corrupt role in storage: admin");
        assert_eq!(ErrorChain(&err).to_string(), "storage failure: corrupt role in storage: admin");
    }

    #[test]
    fn an_unavailable_storage_is_unavailable_whatever_its_cause() {
        assert_eq!(AppError::from(StorageError::unavailable_from("postgres 57P01", Reset)), AppError::Unavailable);
    }
}
