//! What the Lambda runtime hands the function: an HTTP request from API Gateway (REST API,
//! payload v1; HTTP API, payload v2) or a function URL, or a scheduled EventBridge event.
//! They are told apart before `lambda_http` reads the payload: its reader tries each HTTP shape in
//! turn, and a shape whose fields are all optional would take an EventBridge event for a request.

use lambda_http::request::LambdaRequest;
use lambda_http::Error;
use serde_json::Value;

/// One invocation's payload, by what it is.
#[derive(Debug)]
pub enum Event {
    /// An HTTP request, in whichever of the supported shapes it came.
    Http(Box<LambdaRequest>),
    /// An EventBridge "Scheduled Event" (a schedule rule firing).
    Scheduled,
}

impl Event {
    /// Reads `payload`. EventBridge events carry `source` and `detail-type`, which no HTTP payload
    /// has; one that is not a schedule firing is an error (nothing here handles it).
    pub fn of(mut payload: Value) -> Result<Self, Error> {
        if let (Some(source), Some(kind)) = (payload.get("source"), payload.get("detail-type")) {
            return match kind.as_str() {
                Some("Scheduled Event") => Ok(Event::Scheduled),
                _ => Err(format!("an EventBridge event this function does not handle: {kind} from {source}").into()),
            };
        }
        keep_every_value_of_repeated_headers(&mut payload);
        let request: LambdaRequest = serde_json::from_str(&payload.to_string())?;
        Ok(Event::Http(Box::new(request)))
    }
}

/// Reads an HTTP event's JSON into a request, as the function does (fixture tests).
pub fn http_request(payload: &str) -> Result<lambda_http::Request, Error> {
    match Event::of(serde_json::from_str(payload)?)? {
        Event::Http(request) => Ok((*request).into()),
        Event::Scheduled => Err("a scheduled event is not an HTTP request".into()),
    }
}

/// A REST API (v1) event lists each header twice: every value in `multiValueHeaders`, the last
/// one in `headers`. `lambda_http` 1.3 lays `headers` over `multiValueHeaders`, which replaces
/// the values of a repeated header with the last one; dropping the single-valued copy of the
/// headers that have a multi-valued one keeps them all.
fn keep_every_value_of_repeated_headers(payload: &mut Value) {
    let Some(multi) = payload.get("multiValueHeaders").and_then(Value::as_object) else {
        return;
    };
    let repeated: Vec<String> = multi.keys().map(|name| name.to_ascii_lowercase()).collect();
    if let Some(single) = payload.get_mut("headers").and_then(Value::as_object_mut) {
        single.retain(|name, _| !repeated.contains(&name.to_ascii_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn a_scheduled_event_is_not_taken_for_a_request() {
        let scheduled = json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": "2026-12-01T12:00:00Z",
            "region": "eu-west-1", "resources": ["arn:aws:events:eu-west-1:123456789012:rule/sweep"], "detail": {}
        });
        assert!(matches!(Event::of(scheduled).unwrap(), Event::Scheduled));

        let other = json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}});
        assert!(Event::of(other).is_err(), "an EventBridge event that is no schedule is refused");
        assert!(Event::of(json!({"hello": "world"})).is_err(), "nor is anything else");
    }
}
