//! The request id: echoed from the client's `X-Request-Id` when it is safe to log, else generated;
//! sent back on every answer; and kept in a task-local for the request's whole life, so that a
//! problem document built deep inside a handler names the request it answers.

use poem::Request;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request being served, for problem bodies built deep inside a handler.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// A client's request id is echoed only when it is short printable ASCII (it ends up in logs).
pub fn incoming_request_id(req: &Request) -> Option<String> {
    let value = req.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let ok = (1..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_owned())
}
