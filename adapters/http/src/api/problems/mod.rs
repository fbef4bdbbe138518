//! Problems: every error answer is an RFC 9457 problem document (`application/problem+json`).
//! - `document.rs`: the document itself, its headers, and the answers shared by server and API;
//! - `app_errors.rs`: which problem each service error ([`application::AppError`]) becomes;
//! - `api_error.rs`: the error type of every operation, which declares its problems in the
//!   OpenAPI document.

mod api_error;
mod app_errors;
mod document;

pub(crate) use api_error::{error_set, string_header, ApiError, ErrorSet};
pub use document::{ProblemResponse, PROBLEM_JSON};
