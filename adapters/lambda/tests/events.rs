//! The adapter against recorded event shapes (API Gateway REST API v1, HTTP API v2, function URL,
//! EventBridge schedule): what the app receives, and what goes back to each source.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use poem::http::StatusCode;
use poem::{handler, Body, Request, Response};
use serde_json::{json, Value};
use tessera_lambda::{BoxFuture, Context, Error, Function, Scheduled, Settings};

const V1: &str = include_str!("fixtures/apigw-v1.json");
const V2: &str = include_str!("fixtures/apigw-v2.json");
const FUNCTION_URL: &str = include_str!("fixtures/function-url.json");
const SCHEDULED: &str = include_str!("fixtures/scheduled.json");
/// The fixtures' body, base64-encoded there: bytes that are no UTF-8.
const BINARY: [u8; 6] = [0, 1, 2, 253, 254, 255];

/// Sends back what it received: the body as bytes, the rest in headers; two `Set-Cookie`s and
/// a repeated header to see how each source is given repeated answer headers.
#[handler]
async fn echo(req: &Request, body: Body) -> Response {
    let repeated: Vec<&str> = req.headers().get_all("x-repeated").iter().filter_map(|v| v.to_str().ok()).collect();
    let uri = req.uri().to_string();
    let id = req.header("x-request-id").unwrap_or("").to_owned();
    Response::builder()
        .status(StatusCode::CREATED)
        .content_type("application/octet-stream")
        .header("x-seen-uri", uri)
        .header("x-seen-repeated", repeated.join("|"))
        .header("x-seen-request-id", id)
        .header("x-answer", "one")
        .header("x-answer", "two")
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2")
        .body(body.into_vec().await.unwrap())
}

struct Sweep;

impl Scheduled for Sweep {
    fn run(&self) -> BoxFuture<'_, Result<Value, Error>> {
        Box::pin(async { Ok(json!({"swept": true})) })
    }
}

fn function() -> Function<impl poem::Endpoint> {
    let settings = Settings { request_id_header: Some("x-request-id"), ..Settings::default() };
    Function::new(poem::Route::new().at("/echo/path", poem::post(echo)), Arc::new(Sweep), settings)
}

fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    context
}

async fn invoke(event: &str) -> Value {
    function().invoke(serde_json::from_str(event).unwrap(), context("lambda-request-1")).await.unwrap()
}

fn body_of(answer: &Value) -> Vec<u8> {
    assert_eq!(answer["isBase64Encoded"], true, "a binary body goes back base64-encoded: {answer}");
    STANDARD.decode(answer["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_rest_api_event_keeps_its_binary_body_repeated_headers_and_query_and_loses_its_stage() {
    let answer = invoke(V1).await;

    assert_eq!(answer["statusCode"], 201, "{answer}");
    assert_eq!(body_of(&answer), BINARY);
    let headers = &answer["multiValueHeaders"];
    assert_eq!(headers["x-seen-uri"], json!(["/echo/path?tag=a&tag=b"]), "no /prod stage: {answer}");
    assert_eq!(headers["x-seen-repeated"], json!(["first|second"]), "both values of a repeated header");
    assert_eq!(headers["x-answer"], json!(["one, two"]), "a repeated answer header, joined");
    assert_eq!(headers["set-cookie"], json!(["a=1", "b=2"]));
    assert_eq!(headers["x-seen-request-id"], json!(["lambda-request-1"]), "seeded from the Lambda request id");
}

#[tokio::test]
async fn an_http_api_event_keeps_its_binary_body_repeated_headers_and_query() {
    let answer = invoke(V2).await;

    assert_eq!(answer["statusCode"], 201, "{answer}");
    assert_eq!(body_of(&answer), BINARY);
    let headers = &answer["headers"];
    assert_eq!(headers["x-seen-uri"], "/echo/path?tag=a&tag=b", "{answer}");
    // HTTP APIs join a repeated header's values with commas before Lambda sees them.
    assert_eq!(headers["x-seen-repeated"], "first,second");
    assert_eq!(headers["x-answer"], "one, two", "v2 has no multi-value headers: joined");
    assert_eq!(answer["cookies"], json!(["a=1", "b=2"]), "v2 answers cookies apart");
}

#[tokio::test]
async fn a_function_url_event_is_served_like_an_http_api_event() {
    let answer = invoke(FUNCTION_URL).await;

    assert_eq!(answer["statusCode"], 201, "{answer}");
    assert_eq!(body_of(&answer), BINARY);
    assert_eq!(answer["headers"]["x-seen-uri"], "/echo/path?tag=a&tag=b", "{answer}");
    assert_eq!(answer["headers"]["x-seen-repeated"], "first,second");
}

#[tokio::test]
async fn a_client_request_id_is_kept_and_a_text_answer_is_not_encoded() {
    let mut event: Value = serde_json::from_str(V2).unwrap();
    event["headers"]["x-request-id"] = json!("client-7");
    event["rawPath"] = json!("/nowhere");

    let answer = function().invoke(event, context("lambda-request-2")).await.unwrap();

    assert_eq!(answer["statusCode"], 404, "{answer}");
    assert_eq!(answer["isBase64Encoded"], false, "{answer}");
}

#[tokio::test]
async fn lambda_http_reads_each_fixture_into_a_request_the_app_answers() {
    for (name, event) in [("v1", V1), ("v2", V2), ("function URL", FUNCTION_URL)] {
        // lambda_http's own reader; the function reads events the same way (with v1's repeated
        // headers kept whole first).
        let request = lambda_http::request::from_str(event).unwrap();
        let answer = function().serve(request).await.unwrap();
        assert_eq!(answer.status(), 201, "{name}");
        assert_eq!(answer.body().as_ref(), BINARY, "{name}");
        let repeated = answer.headers()["x-seen-repeated"].to_str().unwrap().to_owned();
        assert!(repeated.contains("second"), "{name}: {repeated}");
        if name == "v1" {
            // Why the function mends v1 events first: lambda_http alone keeps only the last value.
            assert_eq!(repeated, "second", "lambda_http keeps every value now: drop the mending in events.rs");
        }
        let read = tessera_lambda::http_request(event).unwrap();
        assert_eq!(read.headers().get_all("x-repeated").iter().count(), if name == "v1" { 2 } else { 1 }, "{name}");
    }
}

#[tokio::test]
async fn a_scheduled_event_runs_the_scheduled_work_and_reaches_no_route() {
    assert_eq!(invoke(SCHEDULED).await, json!({"swept": true}));
}
