//! The function: takes one invocation after another from the Lambda runtime API and answers it.
//! No listener, no connections, no drain: Lambda hands over one whole request at a time and
//! freezes or ends the process between them as it pleases.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::lambda_runtime::{Diagnostic, Runtime, Service};
use lambda_http::{service_fn, Adapter, BoxFuture, Context, Error, LambdaEvent, Request, RequestExt};
use poem::http::HeaderValue;
use poem::Endpoint;
use serde_json::Value;
use tracing::Instrument;

use crate::convert::{into_lambda_response, into_poem_request};
use crate::events::Event;

/// What the Lambda runtime sets for a function process.
pub const RUNTIME_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// What a scheduled event runs; its result is the invocation's answer (logged by Lambda).
pub trait Scheduled: Send + Sync {
    fn run(&self) -> BoxFuture<'_, Result<Value, Error>>;
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The request-id header the app echoes: a request that has none is given the Lambda
    /// request id in it, so that the app's answer, its problem documents and its log name the
    /// invocation CloudWatch and X-Ray know.
    pub request_id_header: Option<&'static str>,
    /// The app's own request timeout: an invocation given less time than this by the function's
    /// timeout could be cut off by Lambda before the app answers `503 request_timeout`, which is
    /// logged once per instance.
    pub request_timeout: Duration,
}

pub struct Function<E> {
    endpoint: Arc<E>,
    scheduled: Arc<dyn Scheduled>,
    settings: Arc<Settings>,
    warned_of_the_deadline: AtomicBool,
}

impl<E: Endpoint + 'static> Function<E> {
    pub fn new(endpoint: E, scheduled: Arc<dyn Scheduled>, settings: Settings) -> Self {
        Self {
            endpoint: Arc::new(endpoint),
            scheduled,
            settings: Arc::new(settings),
            warned_of_the_deadline: AtomicBool::new(false),
        }
    }

    /// Serves invocations until the runtime API goes away. Needs the variables Lambda sets
    /// ([`RUNTIME_VARIABLES`]): `lambda_runtime` panics without them, so they are checked first.
    pub async fn run(self) -> Result<(), Error> {
        let missing: Vec<&str> = RUNTIME_VARIABLES.into_iter().filter(|v| std::env::var_os(v).is_none()).collect();
        if !missing.is_empty() {
            return Err(format!("not started by the Lambda runtime: {} not set", missing.join(", ")).into());
        }
        let function = Arc::new(self);
        let handler = service_fn(move |event: LambdaEvent<Value>| {
            let function = function.clone();
            async move {
                // Named plainly in Lambda's error report and log, instead of a Rust type name.
                function.invoke(event.payload, event.context).await.map_err(|err| Diagnostic {
                    error_type: "Tessera.InvocationFailed".to_owned(),
                    error_message: err.to_string(),
                })
            }
        });
        Runtime::new(handler).run().await
    }

    /// Answers one invocation: an HTTP event with the app's answer in the shape its source
    /// expects, a scheduled event with what [`Scheduled`] returns. The log lines of the
    /// invocation are in a span that names its Lambda request id.
    pub async fn invoke(&self, payload: Value, context: Context) -> Result<Value, Error> {
        let span = tracing::info_span!("lambda", aws_request_id = %context.request_id);
        async move {
            match Event::of(payload)? {
                Event::Scheduled => self.scheduled.run().await,
                Event::Http(request) => {
                    self.check_deadline(&context);
                    let (endpoint, settings) = (self.endpoint.clone(), self.settings.clone());
                    let app = service_fn(move |request: Request| serve(endpoint.clone(), settings.clone(), request));
                    // `Adapter` is what `lambda_http::run` wraps a service in (public, though left
                    // out of its docs): it gives the answer the shape of the event's source.
                    let response = Adapter::from(app).call(LambdaEvent::new(*request, context)).await?;
                    Ok(serde_json::to_value(response)?)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Answers one HTTP request as an invocation does, for a request read with
    /// `lambda_http::request::from_str` (fixture tests): the app's answer, before it is shaped
    /// for its event source.
    pub async fn serve(&self, request: Request) -> Result<poem::http::Response<lambda_http::Body>, Error> {
        serve(self.endpoint.clone(), self.settings.clone(), request).await
    }

    fn check_deadline(&self, context: &Context) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let deadline = Duration::from_millis(context.deadline);
        // An emulator may send a relative deadline, which reads as one long past: ignored.
        let Some(left) = deadline.checked_sub(now) else { return };
        if left < self.settings.request_timeout && !self.warned_of_the_deadline.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                left_ms = left.as_millis() as u64,
                request_timeout_ms = self.settings.request_timeout.as_millis() as u64,
                "the function's timeout is shorter than the request timeout: Lambda may end a slow request \
                 before it is answered 503 request_timeout; lower --request-timeout-ms below the function's timeout"
            );
        }
    }
}

async fn serve<E: Endpoint>(
    endpoint: Arc<E>,
    settings: Arc<Settings>,
    mut request: Request,
) -> Result<poem::http::Response<lambda_http::Body>, Error> {
    if let Some(header) = settings.request_id_header {
        let id = request.lambda_context_ref().and_then(|c| HeaderValue::from_str(&c.request_id).ok());
        if let (false, Some(id)) = (request.headers().contains_key(header), id) {
            request.headers_mut().insert(header, id);
        }
    }
    let response = match endpoint.call(into_poem_request(request)).await {
        Ok(output) => poem::IntoResponse::into_response(output),
        Err(err) => err.into_response(),
    };
    into_lambda_response(response).await
}
