//! The problem document (RFC 9457): what every error answer of Tessera looks like, the headers
//! that go with it, and the answers that are the same wherever they are given (internal error,
//! overload, timeout, draining, storage outage). Which service error becomes which problem is in
//! `app_errors.rs`; how operations declare their problems in the OpenAPI document, in `api_error.rs`.

use poem::http::{header, HeaderValue, StatusCode};
use poem::{IntoResponse, Response};
use poem_openapi::Object;

use crate::api::json_bytes;
use crate::server::request_id::current_request_id;

pub const PROBLEM_JSON: &str = "application/problem+json";
/// Seconds a client should wait before retrying after a storage outage.
const STORAGE_RETRY_AFTER_SECS: u64 = 2;

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
        json_bytes::to_bytes(self).unwrap_or_else(|reason| {
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
    /// `Content-Range: bytes */SIZE` of a `416`: the size of what the range missed.
    pub unsatisfied_range_of: Option<u64>,
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
            unsatisfied_range_of: None,
        }
    }

    pub(super) fn retry_after(mut self, secs: u64) -> Self {
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

    /// Too many password checks wait for the hasher on this instance: refused rather than queued
    /// further.
    pub fn hashing_overloaded() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Overloaded",
            "Too many password checks are waiting on this instance; retry shortly.",
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

    /// The client announced a body and did not send it within the body deadline; the connection
    /// is closed after this answer.
    pub fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            "Request body too slow",
            "The request body did not arrive within the time this instance allows.",
        )
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
        if let Some(size) = self.unsatisfied_range_of {
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
        }
        response
    }
}
