//! The outermost layer every request passes: request id, body size limit and read deadline,
//! load shedding, request timeout, tracing span, metrics, the conversion of every error (poem's
//! own included) into a problem+json response, and the security headers of every answer.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::{select, Either};
use poem::error::ReadBodyError;
use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::OperationId;
use tokio::sync::Semaphore;
use tracing::Instrument;
use uuid::Uuid;

use crate::api::files::{is_upload, BodyIdle};
use crate::api::problems::ProblemResponse;
use crate::api::retries::{self, BodyDigest};
use crate::server::allow::AllowedMethods;
use crate::server::departures::Departures;
use crate::server::request_id::{incoming_request_id, REQUEST_ID, REQUEST_ID_HEADER};
use crate::server::security_headers;
use crate::server::settings::HttpSettings;

/// Label for requests that matched no operation (unknown routes, docs, spec files).
const UNMATCHED: &str = "unmatched";

/// The operations that hash a password. They wait for the hasher's threads in a lane of their
/// own, sized to the hasher's threads and queue: past it they are refused at once, before their
/// body is read or storage is touched (a refused login counts no attempt against its account).
/// They take none of the general in-flight slots, so a login flood cannot take the slots every
/// other request needs.
///
/// A request of theirs whose client leaves while it waits is dropped: poem would drive it to its
/// end, hash included, for nobody.
const HASHING: [(Method, &str, &str); 3] = [
    (Method::POST, "/api/v1/auth/login", "login"),
    (Method::POST, "/api/v1/auth/register", "register"),
    (Method::PUT, "/api/v1/users/me/password", "change_password"),
];

/// Which bound a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// Health answers: a busy instance is alive, and says so.
    Unbounded,
    /// The [`HASHING`] operations, by operation id.
    Hashing(&'static str),
    /// File uploads: their bodies stream in for as long as the upload deadline allows, so they
    /// take slots of their own, and a flood of slow uploads cannot take every other request's.
    Upload,
    /// Everything else: the in-flight slots.
    General,
}

impl Lane {
    fn of(method: &Method, path: &str) -> Self {
        if path.starts_with("/health/") {
            Lane::Unbounded
        } else if let Some((_, _, operation)) = HASHING.iter().find(|(m, p, _)| m == method && *p == path) {
            Lane::Hashing(operation)
        } else if is_upload(method, path) {
            Lane::Upload
        } else {
            Lane::General
        }
    }
}

pub struct Edge<E> {
    inner: E,
    body_limit: usize,
    allowed: AllowedMethods,
    /// Requests in flight beyond its permits are answered 503 at once instead of queueing.
    in_flight: Arc<Semaphore>,
    /// The same for the operations that hash a password.
    hashing: Arc<Semaphore>,
    /// The same for uploads.
    uploads: Arc<Semaphore>,
    departures: Departures,
    request_timeout: Duration,
    upload_timeout: Duration,
    body_timeout: Duration,
}

impl<E> Edge<E> {
    pub fn new(inner: E, settings: &HttpSettings, allowed: AllowedMethods, departures: Departures) -> Self {
        Self {
            inner,
            body_limit: settings.body_limit,
            allowed,
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight.clamp(1, Semaphore::MAX_PERMITS))),
            hashing: Arc::new(Semaphore::new(settings.hashing_lane.clamp(1, Semaphore::MAX_PERMITS))),
            uploads: Arc::new(Semaphore::new(settings.max_uploads.clamp(1, Semaphore::MAX_PERMITS))),
            departures,
            request_timeout: settings.request_timeout,
            upload_timeout: settings.upload_timeout,
            body_timeout: settings.body_timeout,
        }
    }
}

/// poem's own errors (routing, extraction, content type, auth scheme) as problem documents.
fn problem_for_poem_error(err: &poem::Error) -> ProblemResponse {
    use StatusCode as S;
    match err.status() {
        S::BAD_REQUEST => {
            let message = err.to_string();
            // poem-openapi names path parameters by position (`param0`): say what is wrong instead.
            let detail = if message.starts_with("failed to parse path") {
                "A path parameter is not a valid id (a UUID).".to_owned()
            } else {
                message
            };
            ProblemResponse::new(S::BAD_REQUEST, "malformed_request", "Malformed request", detail)
        }
        S::UNAUTHORIZED => ProblemResponse::new(
            S::UNAUTHORIZED,
            "unauthenticated",
            "Unauthenticated",
            "A valid bearer access token is required.",
        ),
        S::NOT_FOUND => ProblemResponse::new(S::NOT_FOUND, "not_found", "Not found", "No resource lives at this path."),
        S::METHOD_NOT_ALLOWED => ProblemResponse::new(
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            "This path does not support this method.",
        ),
        S::PAYLOAD_TOO_LARGE => payload_too_large(),
        S::UNSUPPORTED_MEDIA_TYPE => ProblemResponse::new(
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "Send the body as `application/json`.",
        ),
        status if status.is_server_error() => {
            tracing::error!(error = %err, "request failed inside the framework");
            ProblemResponse::internal()
        }
        status => ProblemResponse::new(status, "bad_request", "Request refused", err.to_string()),
    }
}

/// What is recorded for a request whose client left before its answer: nginx's 499 ("client
/// closed request"), in the log and the metrics only, since nobody is there to read it.
fn client_left() -> Response {
    Response::builder().status(StatusCode::from_u16(499).unwrap_or(StatusCode::REQUEST_TIMEOUT)).finish()
}

fn payload_too_large() -> ProblemResponse {
    ProblemResponse::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "Payload too large",
        "The request body is over the size limit.",
    )
}

impl<E: Endpoint> Edge<E> {
    async fn handle(&self, mut req: Request, lane: Lane) -> (Response, &'static str) {
        let path = req.uri().path().to_owned();
        // poem reads a header it cannot decode as text as if it were absent; for a precondition
        // that would silently drop the client's condition, for a key its protection. Refuse it.
        let undecodable = |name: &str| req.headers().get_all(name).iter().any(|v| v.to_str().is_err());
        for (name, rule) in [
            (header::IF_MATCH.as_str(), "If-Match must be `*` or one entity tag in visible ASCII."),
            (retries::KEY_HEADER, "Idempotency-Key must be 1 to 255 printable ASCII characters."),
        ] {
            if undecodable(name) {
                let problem =
                    ProblemResponse::new(StatusCode::BAD_REQUEST, "malformed_request", "Malformed request", rule);
                return (problem.into_response(), UNMATCHED);
            }
        }
        if lane == Lane::Upload {
            // Streamed to the blob store by the operation, under the file size limit; a body that
            // stops arriving for the body deadline ends the upload.
            req.extensions_mut().insert(BodyIdle(self.body_timeout));
            // API.md: a file of unknown type is `application/octet-stream`, whether the client
            // says so or says nothing.
            if !req.headers().contains_key(header::CONTENT_TYPE) {
                req.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            }
            return self.call_inner(req, &path).await;
        }
        // Read the whole body under the limit first: this covers chunked bodies, which carry no
        // Content-Length to check up front. A client trickling its body would hold its slot and
        // its buffer until the request timeout: it gets the shorter body deadline instead.
        let body = tokio::time::timeout(self.body_timeout, req.take_body().into_bytes_limit(self.body_limit)).await;
        match body {
            Ok(Ok(bytes)) => {
                // A keyed POST is fingerprinted by its body's bytes, which only this layer holds.
                if req.method() == Method::POST && req.headers().contains_key(retries::KEY_HEADER) {
                    req.extensions_mut().insert(BodyDigest::of(&bytes));
                }
                req.set_body(bytes)
            }
            Ok(Err(ReadBodyError::PayloadTooLarge)) => return (payload_too_large().into_response(), UNMATCHED),
            Err(_) => {
                let mut response = ProblemResponse::body_timeout().into_response();
                // The rest of the body may still be on its way: the connection cannot carry
                // another request.
                response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                return (response, UNMATCHED);
            }
            Ok(Err(err)) => {
                let problem = ProblemResponse::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_request",
                    "Malformed request",
                    format!("The request body could not be read: {err}"),
                );
                return (problem.into_response(), UNMATCHED);
            }
        }
        self.call_inner(req, &path).await
    }

    async fn call_inner(&self, req: Request, path: &str) -> (Response, &'static str) {
        match self.inner.call(req).await {
            Ok(output) => {
                let response = output.into_response();
                let operation = response.data::<OperationId>().map_or(UNMATCHED, |o| o.0);
                (response, operation)
            }
            Err(err) => {
                let operation = err.data::<OperationId>().map_or(UNMATCHED, |o| o.0);
                let mut response = if err.is_from_response() {
                    err.into_response()
                } else {
                    problem_for_poem_error(&err).into_response()
                };
                if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                    if let Some(methods) = self.allowed.for_path(path).and_then(|m| HeaderValue::from_str(m).ok()) {
                        response.headers_mut().insert(header::ALLOW, methods);
                    }
                }
                (response, operation)
            }
        }
    }
}

impl<E: Endpoint> Endpoint for Edge<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let request_id = incoming_request_id(&req).unwrap_or_else(|| Uuid::now_v7().to_string());
        let method = req.method().clone();
        let span = tracing::info_span!("request", %method, path = %req.uri().path(), request_id = %request_id);
        let lane = Lane::of(&method, req.uri().path());
        let remote = req.remote_addr().as_socket_addr().copied();
        let work = async {
            let _permit = match lane {
                Lane::Unbounded => None,
                Lane::General => match self.in_flight.try_acquire() {
                    Ok(permit) => Some(permit),
                    Err(_) => return (ProblemResponse::overloaded().into_response(), UNMATCHED),
                },
                Lane::Hashing(operation) => match self.hashing.try_acquire() {
                    Ok(permit) => Some(permit),
                    Err(_) => return (ProblemResponse::hashing_overloaded().into_response(), operation),
                },
                Lane::Upload => match self.uploads.try_acquire() {
                    Ok(permit) => Some(permit),
                    Err(_) => return (ProblemResponse::overloaded().into_response(), UNMATCHED),
                },
            };
            let deadline = if lane == Lane::Upload { self.upload_timeout } else { self.request_timeout };
            // Dropping the handler's future at the deadline drops an open unit of work, which rolls
            // back: nothing is half-written. (A commit already sent may still land, as with any
            // timeout; the client learns it by reading again, or retries with If-Match.)
            let handled = async move {
                match tokio::time::timeout(deadline, self.handle(req, lane)).await {
                    Ok(done) => done,
                    Err(_) => (ProblemResponse::request_timeout().into_response(), UNMATCHED),
                }
            };
            let Lane::Hashing(operation) = lane else {
                return handled.await;
            };
            // Dropped when its client leaves, as at the deadline: a hash for nobody is never made.
            match select(pin!(handled), pin!(self.departures.left(remote))).await {
                Either::Left((done, _)) => done,
                Either::Right(((), _)) => (client_left(), operation),
            }
        };
        let (mut response, operation) = REQUEST_ID.scope(request_id.clone(), work).instrument(span.clone()).await;

        // A replayed answer keeps the id of the request that made it, as its problem body does.
        if !response.headers().contains_key(REQUEST_ID_HEADER) {
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
        }
        security_headers::apply(response.headers_mut());
        let status = response.status();
        let elapsed = started.elapsed();
        let labels = [("operation", operation.to_owned()), ("status", status.as_u16().to_string())];
        metrics::counter!("tessera_http_requests_total", &labels).increment(1);
        metrics::histogram!("tessera_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
        span.in_scope(|| {
            tracing::info!(status = status.as_u16(), operation, latency_ms = elapsed.as_secs_f64() * 1e3, "served");
        });
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::openapi::openapi_json;

    #[test]
    fn the_operations_that_hash_have_a_lane_of_their_own_and_health_none() {
        let document: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        for (method, path, operation) in &HASHING {
            assert_eq!(Lane::of(method, path), Lane::Hashing(operation), "{method} {path}");
            let declared = &document["paths"][path][method.as_str().to_lowercase()]["operationId"];
            assert_eq!(declared, operation, "{method} {path} is the operation {operation}");
        }
        assert_eq!(Lane::of(&Method::GET, "/health/ready"), Lane::Unbounded);
        assert_eq!(Lane::of(&Method::GET, "/api/v1/users/me"), Lane::General);
        assert_eq!(Lane::of(&Method::PATCH, "/api/v1/users/me"), Lane::General);
        assert_eq!(Lane::of(&Method::POST, "/api/v1/auth/refresh"), Lane::General);
        assert_eq!(Lane::of(&Method::GET, "/api/v1/auth/login"), Lane::General, "the path alone is not enough");
        assert_eq!(Lane::of(&Method::POST, "/api/v1/projects/p/files"), Lane::Upload);
        assert_eq!(Lane::of(&Method::GET, "/api/v1/projects/p/files"), Lane::General);
    }
}
