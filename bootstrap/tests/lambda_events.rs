//! Tessera's app as a Lambda function, fed recorded event shapes (the adapter's fixtures): an API
//! Gateway REST API (v1) event, an HTTP API (v2) event, a function URL event and an EventBridge
//! schedule, with a binary (base64) body each way and a repeated header. SQLite in a temporary
//! directory: what is under test is the way in and out, the same on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bootstrap::{App, Config, StorageKind};
use serde_json::{json, Value};
use tessera_lambda::{Context, Endpoint, Function};

const V1: &str = include_str!("../../adapters/lambda/tests/fixtures/apigw-v1.json");
const V2: &str = include_str!("../../adapters/lambda/tests/fixtures/apigw-v2.json");
const FUNCTION_URL: &str = include_str!("../../adapters/lambda/tests/fixtures/function-url.json");
const SCHEDULED: &str = include_str!("../../adapters/lambda/tests/fixtures/scheduled.json");

async fn deployed() -> (Function<impl Endpoint>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.storage = StorageKind::Sqlite;
    config.database_url = Some(format!("sqlite://{}", dir.path().join("tessera.db").display()));
    config.jwt_secret = Some("lambda-fixture-secret-lambda-fixture-secret".into());
    // The deploy step: migrations are never run by the function itself.
    let backend = bootstrap::backend::Backend::open(&config).await.unwrap();
    backend.migrate().await.unwrap();
    backend.close().await;
    (App::build(&config, false).await.unwrap().lambda_function(), dir)
}

fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    context
}

/// A fixture turned into `method path` with `body` (base64-encoded, as a binary body comes).
fn event(fixture: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut event: Value = serde_json::from_str(fixture).unwrap();
    let encoded = body.map(|b| STANDARD.encode(b.to_string()));
    event["body"] = encoded.map_or(Value::Null, Value::String);
    event["isBase64Encoded"] = json!(true);
    if event["version"] == "2.0" {
        event["rawPath"] = json!(path);
        event["rawQueryString"] = json!("");
        event["requestContext"]["http"]["method"] = json!(method);
        event["requestContext"]["http"]["path"] = json!(path);
        event["headers"]["content-type"] = json!("application/json");
        event["headers"].as_object_mut().unwrap().remove("content-length");
    } else {
        event["path"] = json!(path);
        event["httpMethod"] = json!(method);
        event["multiValueQueryStringParameters"] = Value::Null;
        event["queryStringParameters"] = Value::Null;
        event["headers"]["Content-Type"] = json!("application/json");
        event["multiValueHeaders"]["Content-Type"] = json!(["application/json"]);
    }
    event
}

fn text_body(answer: &Value) -> Value {
    assert_eq!(answer["isBase64Encoded"], false, "JSON goes back as text: {answer}");
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_rest_api_event_registers_a_user_from_a_base64_body_under_its_stage() {
    let (function, _dir) = deployed().await;
    let registration = json!({
        "email": "ada@example.com", "username": "ada", "password": "correct horse battery",
        "first_name": "Ada", "last_name": "Lovelace"
    });

    let answer = function
        .invoke(event(V1, "POST", "/api/v1/auth/register", Some(registration)), context("req-v1"))
        .await
        .unwrap();

    assert_eq!(answer["statusCode"], 201, "{answer}");
    assert_eq!(text_body(&answer)["username"], "ada");
    let headers = &answer["multiValueHeaders"];
    assert_eq!(headers["x-request-id"], json!(["req-v1"]), "seeded from the Lambda request id: {answer}");
    assert_eq!(headers["x-content-type-options"], json!(["nosniff"]), "the headers of every answer");
}

#[tokio::test]
async fn an_http_api_event_gets_the_same_problem_documents() {
    let (function, _dir) = deployed().await;

    let answer = function.invoke(event(V2, "GET", "/api/v1/users/me", None), context("req-v2")).await.unwrap();

    assert_eq!(answer["statusCode"], 401, "{answer}");
    let problem = text_body(&answer);
    assert_eq!((problem["code"].as_str(), problem["request_id"].as_str()), (Some("unauthenticated"), Some("req-v2")));
    assert_eq!(answer["headers"]["content-type"], "application/problem+json");
    assert_eq!(answer["headers"]["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn a_repeated_accept_encoding_reaches_the_app_whole_and_a_gzipped_answer_goes_back_base64() {
    let (function, _dir) = deployed().await;
    let mut docs = event(V1, "GET", "/docs", None);
    // API Gateway lists the last value in `headers`: gzip is only in the first.
    docs["multiValueHeaders"]["Accept-Encoding"] = json!(["gzip", "identity"]);
    docs["headers"]["Accept-Encoding"] = json!("identity");

    let answer = function.invoke(docs, context("req-docs")).await.unwrap();

    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(answer["multiValueHeaders"]["content-encoding"], json!(["gzip"]), "{}", answer["multiValueHeaders"]);
    assert_eq!(answer["isBase64Encoded"], true);
    let gzipped = STANDARD.decode(answer["body"].as_str().unwrap()).unwrap();
    let mut html = String::new();
    flate2::read::GzDecoder::new(&gzipped[..]).read_to_string(&mut html).unwrap();
    assert!(html.contains("swagger-ui"), "{}", &html[..html.len().min(200)]);
}

#[tokio::test]
async fn a_function_url_event_read_by_lambda_http_is_answered_by_the_app() {
    let (function, _dir) = deployed().await;
    let login = json!({"login": "nobody", "password": "correct horse battery"});
    let event = event(FUNCTION_URL, "POST", "/api/v1/auth/login", Some(login));

    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let answer = function.serve(request).await.unwrap();

    assert_eq!(answer.status(), 401);
    let problem: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(problem["code"], "invalid_credentials", "{problem}");
    let answer = function.invoke(event_get(FUNCTION_URL, "/openapi.json"), context("req-url")).await.unwrap();
    assert_eq!(answer["statusCode"], 200);
    assert!(text_body(&answer)["paths"]["/api/v1/auth/login"].is_object());
}

fn event_get(fixture: &str, path: &str) -> Value {
    event(fixture, "GET", path, None)
}

#[tokio::test]
async fn a_scheduled_event_runs_the_sweep() {
    let (function, _dir) = deployed().await;

    let answer = function.invoke(serde_json::from_str(SCHEDULED).unwrap(), context("req-cron")).await.unwrap();

    assert_eq!(
        answer,
        json!({"refresh_tokens": 0, "refresh_chains": 0, "login_attempts": 0, "idempotency_records": 0, "orphan_blobs": 0})
    );
}
