//! Serves any [`poem::Endpoint`] as an AWS Lambda function, through the Lambda runtime API:
//! API Gateway REST API (payload v1), HTTP API (payload v2) and function URL events become poem
//! requests, and their answers go back in the shape each event source expects. Scheduled
//! (EventBridge) events, which are not HTTP, go to a callback of their own.
//!
//! Built on `lambda_http` 1.x rather than `poem-lambda`: `poem-lambda` 5.1 pins `lambda_http`
//! 0.15 (a second, older copy of the runtime beside the current one), offers no way to receive a
//! non-HTTP event (the scheduled sweep needs one), and its `Context` extractor panics when a
//! request did not come through Lambda — which would make the same app panic under `tessera
//! serve` or in tests. Here the app stays a plain endpoint that knows nothing of Lambda.
//!
//! - `events.rs`: telling an HTTP event from a scheduled one, and the request it becomes;
//! - `convert.rs`: Lambda's request to poem's and poem's answer back (text or base64);
//! - `function.rs`: the function itself, one invocation after another.

mod convert;
mod events;
mod function;

pub use convert::{into_lambda_response, into_poem_request};
pub use events::{http_request, Event};
pub use function::{Function, Scheduled, Settings, RUNTIME_VARIABLES};

/// `lambda_http`'s request, body and error types, for callers and fixture tests.
pub use lambda_http::{Body, BoxFuture, Context, Error, Request};
/// What [`Function`] serves.
pub use poem::Endpoint;
