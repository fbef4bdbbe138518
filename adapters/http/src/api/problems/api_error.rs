//! The error side of every operation: [`ApiError`] answers with a problem document and declares,
//! in the OpenAPI document, one problem response per status of the operation's [`ErrorSet`]
//! (declared with [`error_set!`]).

use std::marker::PhantomData;

use application::AppError;
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;

use super::document::{Problem, ProblemResponse, PROBLEM_JSON};

/// The statuses an operation declares besides its successes.
pub trait ErrorSet: Send + Sync + 'static {
    const STATUSES: &'static [u16];
}

/// Declares an [`ErrorSet`]: `error_set!(RegisterErrors: 400, 408, 409, 413, 415, 422, 500, 503);`
macro_rules! error_set {
    ($name:ident: $($status:literal),+ $(,)?) => {
        pub struct $name;
        impl $crate::api::problems::ErrorSet for $name {
            const STATUSES: &'static [u16] = &[$($status),+];
        }
    };
}
pub(crate) use error_set;

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
        408 => "The request body did not arrive in time (`body_timeout`); the connection is closed",
        409 => "A uniqueness rule or the project's storage quota (`quota_exceeded`) is broken, or a request with this `Idempotency-Key` is still being processed (`idempotency_key_in_use`, with `Retry-After`)",
        412 => "Stale `If-Match` (`version_mismatch`)",
        413 => "Body over the size limit (`payload_too_large`)",
        416 => "The range asks for no byte of the file (`range_not_satisfiable`, with `Content-Range: bytes */SIZE`)",
        415 => "Body is not `application/json` (`unsupported_media_type`)",
        422 => "Well-formed input that breaks a rule (`validation_failed`; `errors` names each field), an `Idempotency-Key` that came with another request (`idempotency_key_reused`), or a direct upload whose bytes are not the declared ones (`upload_mismatch`)",
        429 => "Rate limit hit (`too_many_requests`)",
        503 => "Unavailable for now: `storage_unavailable`, `overloaded` (requests in flight, or password checks queued), `request_timeout` (or `shutting_down` on readiness)",
        500 => "Internal error (`internal`)",
        501 => "This deployment's blob store does not support it (`not_supported`)",
        _ => "Error",
    }
}

/// A required string header of an answer, as the OpenAPI document declares it.
pub(crate) fn string_header(name: &str, description: &str) -> MetaHeader {
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
                if status == 416 {
                    headers.push(string_header("Content-Range", "`bytes */SIZE`: the file's size"));
                }
                if status == 429 || status == 503 || status == 409 {
                    let mut h = string_header("Retry-After", "Seconds to wait before retrying");
                    h.schema = i64::schema_ref();
                    // A 409 carries it only when the key is in use.
                    h.required = status != 409;
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
