//! The errors services raise. They name what went wrong in the business's words; the HTTP adapter
//! alone turns them into status codes and problem documents.

use domain::{Conflict, FieldViolation, StorageError};

/// Things that can be looked up and not found (or not be visible to the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Project,
    Member,
    Post,
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
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("storage unavailable")]
    Unavailable,
    /// A bug or broken invariant; the message goes to logs, never to clients.
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
            StorageError::Unavailable(reason) => {
                tracing::warn!(%reason, "storage unavailable");
                AppError::Unavailable
            }
            StorageError::Backend(reason) => AppError::Internal(reason),
        }
    }
}
