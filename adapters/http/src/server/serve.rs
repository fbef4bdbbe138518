//! Serving: the API's routes behind the server's layers, on a listener, until shutdown.

use std::time::Duration;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Response};

use crate::api::openapi::openapi_json;
use crate::api::problems::ProblemResponse;
use crate::api::{self, HttpServices};
use crate::server::accept_loop::serve_connections;
use crate::server::allow::AllowedMethods;
use crate::server::connections::ConnectionCap;
use crate::server::departures::Departures;
use crate::server::edge::Edge;
use crate::server::lifecycle::Lifecycle;
use crate::server::request_heads::HeadGuard;
use crate::server::settings::HttpSettings;

/// The whole HTTP application, ready to serve (it learns of no client leaving mid-request; that
/// takes [`serve`]'s connections).
pub fn app(services: HttpServices, settings: HttpSettings, lifecycle: Lifecycle) -> impl Endpoint<Output = Response> {
    with_edge(api::routes(services, lifecycle), settings, Departures::default())
}

/// The layers every route sits behind: panics become 500 problems, and [`Edge`] outermost.
fn with_edge(
    routes: impl Endpoint + 'static,
    settings: HttpSettings,
    departures: Departures,
) -> impl Endpoint<Output = Response> {
    let routes = routes.with(CatchPanic::new().with_handler(|_| {
        tracing::error!("a request handler panicked");
        ProblemResponse::internal()
    }));
    Edge::new(routes, &settings, AllowedMethods::from_openapi(&openapi_json()), departures)
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
    let connections = ConnectionCap::new(poem::listener::TcpAcceptor::from_tokio(listener)?, settings.max_connections);
    let departures = Departures::default();
    let acceptor = HeadGuard::new(connections, settings.head_timeout, departures.clone());
    let lifecycle = Lifecycle::default();
    let drain_delay = settings.drain_delay;
    let draining = lifecycle.clone();
    let stop_accepting = async move {
        shutdown.await;
        draining.start_draining();
        tracing::info!(delay_ms = drain_delay.as_millis() as u64, "draining: readiness is 503");
        tokio::time::sleep(drain_delay).await;
    };
    let idle_timeout = settings.idle_timeout;
    let endpoint = with_edge(api::routes(services, lifecycle), settings, departures);
    serve_connections(acceptor, endpoint, idle_timeout, stop_accepting, grace).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use poem::http::StatusCode;
    use poem::{handler, Request, Route};

    use super::*;
    use crate::api::problems::PROBLEM_JSON;
    use crate::server::request_id::REQUEST_ID_HEADER;

    #[handler]
    fn explode() -> &'static str {
        panic!("secret internals: SELECT * FROM users")
    }

    #[tokio::test]
    async fn a_panic_becomes_a_500_problem_without_internals() {
        let app = with_edge(Route::new().at("/boom", explode), HttpSettings::default(), Departures::default());

        let response = app.call(Request::builder().uri_str("/boom").header("x-request-id", "r-1").finish()).await;

        let response = response.expect("the edge always answers");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.content_type(), Some(PROBLEM_JSON));
        assert_eq!(response.header(REQUEST_ID_HEADER), Some("r-1"));
        let body = response.into_body().into_string().await.expect("a body");
        assert!(body.contains(r#""code":"internal""#) && body.contains(r#""request_id":"r-1""#), "{body}");
        assert!(!body.contains("SELECT") && !body.contains("secret"), "{body}");
    }
}
