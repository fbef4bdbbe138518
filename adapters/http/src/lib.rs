//! The HTTP adapter: poem + poem-openapi. Two rooms:
//! - `api/`: the operations, one folder per feature, their schemas, problem+json for every error,
//!   bearer authentication, and the OpenAPI document assembled from them. Handlers parse, call one
//!   service and map its errors; no business rule lives here.
//! - `server/`: what surrounds the API on the wire: request heads, the edge layer (limits,
//!   timeouts, request ids, metrics), `Allow` on 405s, and the instance's lifecycle.

mod api;
mod server;

pub use api::openapi::{api_service, openapi_json, openapi_yaml};
pub use api::system::MetricsRender;
pub use api::HttpServices;
pub use server::lifecycle::Lifecycle;
pub use server::request_id::REQUEST_ID_HEADER;
pub use server::serve::{app, serve};
pub use server::settings::HttpSettings;

/// Turns the API into routes once, which is when poem-openapi detects duplicate operation ids
/// (by panicking): the spec drift test calls it.
pub fn build_routes_for_check() {
    let _ = poem::IntoEndpoint::into_endpoint(api_service());
}
