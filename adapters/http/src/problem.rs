//! RFC 9457 problem documents: the one place where service errors and poem's own errors become
//! HTTP answers, and the generic error response type that declares them in the OpenAPI document.

use std::marker::PhantomData;

use application::{AppError, Resource};
use domain::Conflict;
use poem::http::{header, HeaderValue, StatusCode};
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, Object};

pub const PROBLEM_JSON: &str = "application/problem+json";
/// Seconds a client should wait before retrying after a storage outage.
const STORAGE_RETRY_AFTER_SECS: u64 = 2;

tokio::task_local! {
    /// The id of the request being served, for problem bodies built deep inside a handler.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// One invalid field of a request.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document. `code` is the stable identifier clients switch on.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Problem {
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: i32,
    pub detail: String,
    pub code: String,
    /// Equals the response's `X-Request-Id` header.
    pub request_id: String,
    /// Present on `validation_failed` only.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl Problem {
    /// The document as sent (checked against the schema's own serialisation in debug builds).
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::json::to_bytes(self).unwrap_or_else(|reason| {
            tracing::error!(%reason, "problem serialisation failed");
            Vec::new()
        })
    }
}

/// A problem with the response headers that go with it.
#[derive(Debug, Clone)]
pub struct ProblemResponse {
    pub problem: Problem,
    pub retry_after: Option<u64>,
}

impl ProblemResponse {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            problem: Problem {
                kind: format!("urn:tessera:problem:{code}"),
                title: title.to_owned(),
                status: i32::from(status.as_u16()),
                detail: detail.into(),
                code: code.to_owned(),
                request_id: current_request_id(),
                errors: None,
            },
            retry_after: None,
        }
    }

    fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn status(&self) -> StatusCode {
        u16::try_from(self.problem.status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The server failed to handle this request.",
        )
    }

    /// Too many requests in flight on this instance: shed load rather than queue without bound.
    pub fn overloaded() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Overloaded",
            "This instance is at its limit of requests in flight; retry shortly.",
        )
        .retry_after(1)
    }

    /// The request took longer than the configured request timeout; it was abandoned, and any
    /// unit of work it had open was rolled back.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            "Request timed out",
            "The request took longer than this instance allows; retry later.",
        )
        .retry_after(1)
    }

    /// The instance is shutting down (readiness only).
    pub fn shutting_down() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "Shutting down",
            "This instance is draining before it stops; use another.",
        )
        .retry_after(1)
    }

    pub fn storage_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "Storage unavailable",
            "The storage backend cannot be reached; retry later.",
        )
        .retry_after(STORAGE_RETRY_AFTER_SECS)
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.problem.to_bytes();
        let mut response = Response::builder().status(status).content_type(PROBLEM_JSON).body(body);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn not_found(resource: Resource) -> ProblemResponse {
    let (code, title) = match resource {
        Resource::User => ("user_not_found", "User not found"),
        Resource::Project => ("project_not_found", "Project not found"),
        Resource::Member => ("member_not_found", "Member not found"),
        Resource::Post => ("post_not_found", "Post not found"),
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
            AppError::Unavailable => ProblemResponse::storage_unavailable(),
            AppError::Internal(reason) => {
                tracing::error!(%reason, "internal error");
                ProblemResponse::internal()
            }
        }
    }
}

/// The statuses an operation declares besides its successes.
pub trait ErrorSet: Send + Sync + 'static {
    const STATUSES: &'static [u16];
}

/// Declares an [`ErrorSet`]: `error_set!(RegisterErrors: 400, 409, 413, 415, 422, 500, 503);`
#[macro_export]
macro_rules! error_set {
    ($name:ident: $($status:literal),+ $(,)?) => {
        pub struct $name;
        impl $crate::problem::ErrorSet for $name {
            const STATUSES: &'static [u16] = &[$($status),+];
        }
    };
}

/// The error side of every operation: a problem document, declared in the spec once per status
/// of the operation's [`ErrorSet`].
pub struct ApiError<S: ErrorSet> {
    response: ProblemResponse,
    declared: PhantomData<S>,
}

impl<S: ErrorSet> From<ProblemResponse> for ApiError<S> {
    fn from(response: ProblemResponse) -> Self {
        Self { response, declared: PhantomData }
    }
}

impl<S: ErrorSet> From<AppError> for ApiError<S> {
    fn from(err: AppError) -> Self {
        let response = ProblemResponse::from(err);
        if !S::STATUSES.contains(&response.status().as_u16()) {
            // A bug in the declaration: the spec would lie to generated clients.
            tracing::error!(status = %response.status(), "answering with a status the operation does not declare");
        }
        Self { response, declared: PhantomData }
    }
}

impl<S: ErrorSet> IntoResponse for ApiError<S> {
    fn into_response(self) -> Response {
        self.response.into_response()
    }
}

impl<S: ErrorSet> From<ApiError<S>> for poem::Error {
    fn from(err: ApiError<S>) -> Self {
        poem::Error::from_response(err.into_response())
    }
}

fn describe(status: u16) -> &'static str {
    match status {
        400 => "Malformed request (`malformed_request`, `invalid_cursor`)",
        401 => "Missing or invalid credentials",
        403 => "The caller's role does not allow this (`forbidden`, `invalid_credentials`)",
        404 => "Not found, or not visible to the caller",
        409 => "A uniqueness rule is broken",
        412 => "Stale `If-Match` (`version_mismatch`)",
        413 => "Body over the size limit (`payload_too_large`)",
        415 => "Body is not `application/json` (`unsupported_media_type`)",
        422 => "Well-formed input that breaks a rule (`validation_failed`); `errors` names each field",
        429 => "Rate limit hit (`too_many_requests`)",
        503 => "Unavailable for now: `storage_unavailable`, `overloaded`, `request_timeout` (or `shutting_down` on readiness)",
        500 => "Internal error (`internal`)",
        _ => "Error",
    }
}

fn string_header(name: &str, description: &str) -> MetaHeader {
    MetaHeader {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        required: true,
        deprecated: false,
        schema: String::schema_ref(),
    }
}

impl<S: ErrorSet> ApiResponse for ApiError<S> {
    fn meta() -> MetaResponses {
        let responses = S::STATUSES
            .iter()
            .map(|&status| {
                let mut headers = Vec::new();
                if status == 401 {
                    headers.push(string_header("WWW-Authenticate", "Always `Bearer`"));
                }
                if status == 429 || status == 503 {
                    let mut h = string_header("Retry-After", "Seconds to wait before retrying");
                    h.schema = i64::schema_ref();
                    headers.push(h);
                }
                MetaResponse {
                    description: describe(status),
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType { content_type: PROBLEM_JSON, schema: Problem::schema_ref() }],
                    headers,
                }
            })
            .collect();
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}
