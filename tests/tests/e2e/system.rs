//! Health, metrics, the OpenAPI document and Swagger UI.

use tessera_tests::http::TestServer;

#[tokio::test]
async fn liveness_and_readiness_answer_ok() {
    let server = TestServer::start().await;
    let live = server.get("/health/live", None).await;
    live.expect(200);
    assert_eq!(live.body, serde_json::json!({"status": "ok"}));
    server.get("/health/ready", None).await.expect(200);
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_status() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);
    server.login("ada", "wrong password").await.expect(401);

    let metrics = server.get("/metrics", None).await;

    metrics.expect(200);
    for needle in [
        r#"tessera_http_requests_total{operation="register",status="201"}"#,
        r#"tessera_http_requests_total{operation="login",status="401"}"#,
        "tessera_http_request_duration_seconds_bucket{",
        r#"tessera_storage_calls_total{backend="#,
        "tessera_storage_call_duration_seconds_bucket{",
    ] {
        assert!(metrics.text.contains(needle), "missing {needle}");
    }
    // Storage calls are counted under the port operation they served, named alike on every
    // backend, and the backend's own call (a DynamoDB API call, a SQL query or transaction control).
    let storage_calls: Vec<&str> =
        metrics.text.lines().filter(|line| line.starts_with("tessera_storage_calls_total{")).collect();
    assert!(storage_calls.iter().any(|line| label(line, "operation") == Some("commit")), "{storage_calls:#?}");
    for line in storage_calls {
        let operation = label(line, "operation").unwrap_or_default();
        let port_name = operation.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
        assert!(!operation.is_empty() && port_name, "operation: {line}");
        assert!(label(line, "call").is_some_and(|call| !call.is_empty()), "call: {line}");
    }
}

/// The value of one label in a Prometheus sample line.
fn label<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!("{name}=\""))? + name.len() + 2;
    line[start..].split('"').next()
}

#[tokio::test]
async fn the_openapi_document_and_swagger_ui_are_served() {
    let server = TestServer::start().await;

    let json = server.get("/openapi.json", None).await;
    json.expect(200);
    assert_eq!(json.body["openapi"], "3.0.0");
    assert_eq!(json.text, bootstrap::openapi_document(false));
    let yaml = server.get("/openapi.yaml", None).await;
    yaml.expect(200);
    assert!(yaml.text.contains("operationId: register"));

    let docs = server.get("/docs", None).await;
    docs.expect(200);
    assert!(docs.text.contains("SwaggerUIBundle"));
    assert!(docs.text.contains("\"operationId\": \"get_me\""), "the adjusted document is embedded");
}

#[tokio::test]
async fn when_the_storage_is_down_requests_get_503_and_readiness_fails() {
    let server = TestServer::start_with_storage_down().await;

    server.get("/health/live", None).await.expect(200);
    server.get("/health/ready", None).await.expect_problem(503, "storage_unavailable");
    let register = server.register("ada").await;
    register.expect_problem(503, "storage_unavailable");
    assert_eq!(register.header("retry-after"), Some("2"));
    server.login("ada", "whatever pw").await.expect_problem(503, "storage_unavailable");
}
