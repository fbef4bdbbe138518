//! The API: what Tessera offers over HTTP, as the OpenAPI document describes it.
//!
//! - one folder per feature (`auth/`, `users/`, `projects/`, `members/`, `posts/`, `files/`), each with its
//!   operations (`mod.rs`: parse, call one service, map its errors) and its request and response
//!   schemas (`schemas.rs`); `system.rs` holds health and metrics;
//! - `schemas/`: what several features' schemas share: string inputs with API.md's rules, roles
//!   and statuses, optional fields;
//! - `problems/`: every error answer as an RFC 9457 problem document;
//! - `json.rs` and `json_bytes.rs` (response bodies), `etag.rs` (`ETag` and `If-Match`),
//!   `security.rs` (bearer authentication);
//! - `tags.rs` and `openapi.rs`: the document assembled from every feature.
//!
//! What surrounds the API on the wire (request ids, limits, timeouts, draining) is in `server/`.

pub mod auth;
pub mod etag;
pub mod files;
pub mod json;
pub mod json_bytes;
pub mod members;
pub mod openapi;
#[cfg(test)]
mod page_sizes_tests;
pub mod posts;
pub mod problems;
pub mod projects;
pub mod retries;
pub mod schemas;
mod sealed_answers;
pub mod security;
pub mod system;
pub mod tags;
pub mod users;

use application::auth::AuthService;
use application::files::FileService;
use application::health::HealthService;
use application::idempotency::Retries;
use application::members::MemberService;
use application::posts::PostService;
use application::projects::ProjectService;
use application::users::UserService;
use poem::http::header::CONTENT_SECURITY_POLICY;
use poem::{Endpoint, EndpointExt, Route};

use crate::api::openapi::{api_service, openapi_json, openapi_yaml, swagger_ui_csp, swagger_ui_html};
use crate::api::system::MetricsRender;
use crate::server::lifecycle::Lifecycle;
use crate::server::static_document::{Document, StaticDocument};

/// The services the operations call.
#[derive(Clone)]
pub struct HttpServices {
    pub auth: AuthService,
    pub users: UserService,
    pub projects: ProjectService,
    pub members: MemberService,
    pub posts: PostService,
    pub files: FileService,
    pub health: HealthService,
    pub metrics: MetricsRender,
    pub retries: Retries,
}

/// Every route of the API — the operations, Swagger UI and the document itself — with the
/// services they call. Readiness also reads the instance's [`Lifecycle`].
pub fn routes(services: HttpServices, lifecycle: Lifecycle) -> impl Endpoint {
    let docs = StaticDocument::new(|| {
        let html = swagger_ui_html();
        let policy = swagger_ui_csp(&html);
        Document::new(html, "text/html; charset=utf-8").with_header(CONTENT_SECURITY_POLICY, &policy)
    });
    Route::new()
        .nest("/", api_service())
        .at("/docs", docs)
        .at("/openapi.json", StaticDocument::new(|| Document::new(openapi_json(), "application/json")))
        .at("/openapi.yaml", StaticDocument::new(|| Document::new(openapi_yaml(), "application/yaml")))
        .data(services.auth)
        .data(services.users)
        .data(services.projects)
        .data(services.members)
        .data(services.posts)
        .data(services.files)
        .data(services.health)
        .data(services.metrics)
        .data(services.retries)
        .data(lifecycle)
}
