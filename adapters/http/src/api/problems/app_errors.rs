//! The table from service errors to problems: each [`AppError`] gets its status, `code`, title
//! and detail here, and nowhere else.

use application::{AppError, Resource};
use domain::Conflict;
use poem::http::StatusCode;

use super::document::{FieldError, ProblemResponse};

fn not_found(resource: Resource) -> ProblemResponse {
    let (code, title) = match resource {
        Resource::User => ("user_not_found", "User not found"),
        Resource::Project => ("project_not_found", "Project not found"),
        Resource::Member => ("member_not_found", "Member not found"),
        Resource::Post => ("post_not_found", "Post not found"),
        Resource::File => ("file_not_found", "File not found"),
        Resource::Upload => ("upload_not_found", "Upload not found"),
    };
    ProblemResponse::new(StatusCode::NOT_FOUND, code, title, "It does not exist, or you may not see it.")
}

impl From<AppError> for ProblemResponse {
    fn from(err: AppError) -> Self {
        use StatusCode as S;
        match err {
            AppError::Validation(violations) => {
                let mut p = ProblemResponse::new(
                    S::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Validation failed",
                    "One or more fields break a rule; see `errors`.",
                );
                p.problem.errors = Some(
                    violations
                        .into_iter()
                        .map(|v| FieldError { field: v.field.to_owned(), message: v.message })
                        .collect(),
                );
                p
            }
            AppError::InvalidCredentials => ProblemResponse::new(
                S::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid credentials",
                "The login or password is wrong.",
            ),
            AppError::WrongCurrentPassword => ProblemResponse::new(
                S::FORBIDDEN,
                "invalid_credentials",
                "Invalid credentials",
                "The current password is wrong.",
            ),
            AppError::InvalidRefreshToken => ProblemResponse::new(
                S::UNAUTHORIZED,
                "invalid_refresh_token",
                "Invalid refresh token",
                "The refresh token is unknown, expired or revoked.",
            ),
            AppError::RefreshTokenReused => ProblemResponse::new(
                S::UNAUTHORIZED,
                "refresh_token_reused",
                "Refresh token reused",
                "This refresh token was already spent; every token of this login is now revoked.",
            ),
            AppError::Unauthenticated => ProblemResponse::new(
                S::UNAUTHORIZED,
                "unauthenticated",
                "Unauthenticated",
                "A valid bearer access token is required.",
            ),
            AppError::Forbidden => {
                ProblemResponse::new(S::FORBIDDEN, "forbidden", "Forbidden", "Your role does not allow this action.")
            }
            AppError::NotFound(resource) => not_found(resource),
            AppError::Conflict(Conflict::EmailTaken) => {
                ProblemResponse::new(S::CONFLICT, "email_taken", "Email taken", "Another account uses this email.")
            }
            AppError::Conflict(Conflict::UsernameTaken) => ProblemResponse::new(
                S::CONFLICT,
                "username_taken",
                "Username taken",
                "Another account uses this username.",
            ),
            AppError::VersionMismatch => ProblemResponse::new(
                S::PRECONDITION_FAILED,
                "version_mismatch",
                "Version mismatch",
                "The resource changed since you read it (If-Match is stale); read it again.",
            ),
            AppError::CannotChangeOwner => ProblemResponse::new(
                S::UNPROCESSABLE_ENTITY,
                "cannot_change_owner",
                "Cannot change the owner",
                "The owner's role cannot be changed or removed, and nobody can be made owner.",
            ),
            AppError::Conflict(Conflict::AlreadyMember | Conflict::SlugTaken) => {
                ProblemResponse::new(S::CONFLICT, "conflict", "Conflict", "A concurrent change got there first; retry.")
            }
            AppError::Conflict(Conflict::QuotaExceeded) => ProblemResponse::new(
                S::CONFLICT,
                "quota_exceeded",
                "Quota exceeded",
                "The project's files would pass its storage quota; delete some first.",
            ),
            AppError::Conflict(Conflict::FileExists) => ProblemResponse::new(
                S::CONFLICT,
                "conflict",
                "Conflict",
                "This upload was completed already; its file is at the id it made.",
            ),
            AppError::UploadMismatch => ProblemResponse::new(
                S::UNPROCESSABLE_ENTITY,
                "upload_mismatch",
                "Upload mismatch",
                "The stored bytes are missing or are not the declared ones (size, SHA-256); they were deleted.",
            ),
            AppError::NotSupported => ProblemResponse::new(
                S::NOT_IMPLEMENTED,
                "not_supported",
                "Not supported",
                "This deployment's blob store does not take direct uploads (they need S3).",
            ),
            AppError::UploadTooLarge { limit } => ProblemResponse::new(
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                format!("A file may hold at most {limit} bytes."),
            ),
            AppError::UploadInterrupted(_) => ProblemResponse::new(
                S::BAD_REQUEST,
                "malformed_request",
                "Malformed request",
                "The file's bytes stopped arriving before their end; nothing was stored.",
            ),
            AppError::RangeNotSatisfiable { size } => {
                let mut p = ProblemResponse::new(
                    S::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    "Range not satisfiable",
                    format!("The file holds {size} bytes; the range asks for none of them."),
                );
                p.unsatisfied_range_of = Some(size);
                p
            }
            AppError::InvalidCursor => ProblemResponse::new(
                S::BAD_REQUEST,
                "invalid_cursor",
                "Invalid cursor",
                "The cursor was not issued by this server for this list.",
            ),
            AppError::TooManyRequests { retry_after_secs } => ProblemResponse::new(
                S::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests",
                "Too many failed attempts; retry later.",
            )
            .retry_after(retry_after_secs),
            AppError::IdempotencyKeyInUse { retry_after_secs } => ProblemResponse::new(
                S::CONFLICT,
                "idempotency_key_in_use",
                "Idempotency key in use",
                "A request with this Idempotency-Key is still being processed; retry it later.",
            )
            .retry_after(retry_after_secs),
            AppError::IdempotencyKeyReused => ProblemResponse::new(
                S::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency key reused",
                "This Idempotency-Key came before with another request; use a new key for a new request.",
            ),
            AppError::Unavailable => ProblemResponse::storage_unavailable(),
            AppError::Overloaded => ProblemResponse::hashing_overloaded(),
            AppError::Internal(reason) => {
                tracing::error!(%reason, "internal error");
                ProblemResponse::internal()
            }
        }
    }
}
