//! The HTTP adapter: poem + poem-openapi routes, request and response schemas, problem+json for
//! every error, bearer authentication, health, metrics and the embedded Swagger UI.
//! Handlers parse, call one service and map its errors; no business rule lives here.

mod allow;
mod auth;
mod edge;
mod etag;
mod inputs;
mod json;
mod lifecycle;
mod members;
mod openapi;
mod patch;
mod posts;
mod problem;
mod projects;
mod request_heads;
mod roles;
mod security;
mod system;
mod users;

use std::sync::Arc;
use std::time::Duration;

use application::auth::AuthService;
use application::members::MemberService;
use application::posts::PostService;
use application::projects::ProjectService;
use application::storage::Storage;
use application::users::UserService;
use poem::endpoint::make_sync;
use poem::middleware::CatchPanic;
use poem::web::Html;
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route};

pub use edge::REQUEST_ID_HEADER;
pub use lifecycle::Lifecycle;
pub use openapi::{api_service, openapi_json, openapi_yaml};
pub use system::MetricsRender;

use crate::allow::AllowedMethods;
use crate::edge::Edge;
use crate::openapi::swagger_ui_html;
use crate::problem::ProblemResponse;

/// The services the routes call.
#[derive(Clone)]
pub struct HttpServices {
    pub auth: AuthService,
    pub users: UserService,
    pub projects: ProjectService,
    pub members: MemberService,
    pub posts: PostService,
    pub storage: Arc<dyn Storage>,
    pub metrics: MetricsRender,
}

#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Largest request body accepted, in bytes (API.md: 1 MiB).
    pub body_limit: usize,
    /// Requests handled at once; more are answered `503 overloaded` at once.
    pub max_in_flight: usize,
    /// Longest a request may take before it is abandoned with `503 request_timeout`.
    pub request_timeout: Duration,
    /// After a shutdown is asked for: how long readiness says 503 while new requests are still
    /// served, so load balancers move away before the listener closes.
    pub drain_delay: Duration,
    /// A connection on which nothing is read or written for this long is closed (idle keep-alive
    /// connections, and clients that connect and then send nothing).
    pub idle_timeout: Duration,
    /// Longest a request head may take to arrive, from its first byte; slower clients are
    /// disconnected.
    pub head_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            max_in_flight: 1024,
            request_timeout: Duration::from_secs(30),
            drain_delay: Duration::ZERO,
            idle_timeout: Duration::from_secs(60),
            head_timeout: Duration::from_secs(10),
        }
    }
}

fn static_text(body: String, content_type: &'static str) -> impl Endpoint<Output = Response> {
    make_sync(move |_| body.clone().with_content_type(content_type).into_response())
}

/// The whole HTTP application, ready to serve.
pub fn app(services: HttpServices, settings: HttpSettings, lifecycle: Lifecycle) -> impl Endpoint<Output = Response> {
    let docs = swagger_ui_html();
    let routes = Route::new()
        .nest("/", api_service())
        .at("/docs", make_sync(move |_| Html(docs.clone())))
        .at("/openapi.json", static_text(openapi_json(), "application/json"))
        .at("/openapi.yaml", static_text(openapi_yaml(), "application/yaml"))
        .data(services.auth)
        .data(services.users)
        .data(services.projects)
        .data(services.members)
        .data(services.posts)
        .data(services.storage)
        .data(services.metrics)
        .data(lifecycle);
    with_edge(routes, settings)
}

/// The layers every route sits behind: panics become 500 problems, and [`Edge`] outermost.
fn with_edge(routes: impl Endpoint + 'static, settings: HttpSettings) -> impl Endpoint<Output = Response> {
    let routes = routes.with(CatchPanic::new().with_handler(|_| {
        tracing::error!("a request handler panicked");
        ProblemResponse::internal()
    }));
    Edge::new(routes, &settings, AllowedMethods::from_openapi(&openapi_json()))
}

/// Serves `app` on `listener` until `shutdown` resolves; then readiness says 503 for
/// `settings.drain_delay` while requests are still served, the listener closes, and requests in
/// flight get at most `grace` to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    services: HttpServices,
    settings: HttpSettings,
    shutdown: impl std::future::Future<Output = ()> + Send,
    grace: Duration,
) -> std::io::Result<()> {
    let acceptor =
        request_heads::HeadGuard::new(poem::listener::TcpAcceptor::from_tokio(listener)?, settings.head_timeout);
    let lifecycle = Lifecycle::default();
    let drain_delay = settings.drain_delay;
    let draining = lifecycle.clone();
    let stop_accepting = async move {
        shutdown.await;
        draining.start_draining();
        tracing::info!(delay_ms = drain_delay.as_millis() as u64, "draining: readiness is 503");
        tokio::time::sleep(drain_delay).await;
    };
    poem::Server::new_with_acceptor(acceptor)
        .name("tessera")
        .idle_timeout(settings.idle_timeout)
        .run_with_graceful_shutdown(app(services, settings, lifecycle), stop_accepting, Some(grace))
        .await
}

/// Turns the API into routes once, which is when poem-openapi detects duplicate operation ids
/// (by panicking): the spec drift test calls it.
pub fn build_routes_for_check() {
    let _ = poem::IntoEndpoint::into_endpoint(api_service());
}

#[cfg(test)]
mod tests {
    use poem::http::StatusCode;
    use poem::{handler, Request};

    use super::*;

    #[handler]
    fn explode() -> &'static str {
        panic!("secret internals: SELECT * FROM users")
    }

    #[tokio::test]
    async fn a_panic_becomes_a_500_problem_without_internals() {
        let app = with_edge(Route::new().at("/boom", explode), HttpSettings::default());

        let response = app.call(Request::builder().uri_str("/boom").header("x-request-id", "r-1").finish()).await;

        let response = response.expect("the edge always answers");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.content_type(), Some(problem::PROBLEM_JSON));
        assert_eq!(response.header(REQUEST_ID_HEADER), Some("r-1"));
        let body = response.into_body().into_string().await.expect("a body");
        assert!(body.contains(r#""code":"internal""#) && body.contains(r#""request_id":"r-1""#), "{body}");
        assert!(!body.contains("SELECT") && !body.contains("secret"), "{body}");
    }
}
