//! The server around the API: what happens to connections and requests before an operation runs
//! and after it answers. It changes for other reasons than the operations do (a new limit, a new
//! way to shut down), so it lives apart from them.
//!
//! - `serve.rs`: the API's routes behind these layers, served on a listener until shutdown;
//! - `accept_loop.rs`: accepting connections, serving each with hyper, idle connections and
//!   the graceful stop;
//! - `settings.rs`: the limits and timeouts the layers apply;
//! - `connections.rs`: below HTTP, the cap on open connections;
//! - `request_heads.rs`: below HTTP, the guard on request heads (too slow, too large) that also
//!   sees clients leave mid-request;
//! - `departures.rs`: those clients, for the edge;
//! - `edge.rs`: the outermost layer every request passes (body limit and deadline, load shedding,
//!   request timeout, tracing, metrics, poem's own errors as problems);
//! - `request_id.rs`: the request id, from the client or generated, kept for the request's life;
//! - `security_headers.rs`: the headers every answer carries (caching, sniffing, framing);
//! - `static_document.rs`: documents built once (Swagger UI, the OpenAPI document), served
//!   compressed when the client accepts it and revalidated by `ETag`;
//! - `allow.rs`: the `Allow` header of a 405, from the OpenAPI document;
//! - `lifecycle.rs`: whether the instance is draining before it stops.

pub mod accept_loop;
pub mod allow;
pub mod connections;
pub mod departures;
pub mod edge;
pub mod lifecycle;
pub mod request_heads;
pub mod request_id;
pub mod security_headers;
pub mod serve;
pub mod settings;
pub mod static_document;
