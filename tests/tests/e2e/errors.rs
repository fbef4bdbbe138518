//! Every error is a problem document, poem's own included.

use std::io::{Read, Write};

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::TestServer;

#[tokio::test]
async fn malformed_bodies_are_400_problems() {
    let server = TestServer::start().await;
    let url = format!("{}/api/v1/auth/login", server.base);
    let json_body = |body: &'static str| server.client.post(&url).header("content-type", "application/json").body(body);

    for body in [
        "{not json",
        r#"{"login": 1, "password": "x"}"#,
        r#"{"login": "ada"}"#,
        r#"{"login": "ada", "password": "x", "extra": true}"#,
        r#"{"login": null, "password": "x"}"#,
        r#"["login"]"#,
        "",
    ] {
        let answer = server.answer(json_body(body)).await;
        assert_eq!(answer.status, 400, "{body:?}: {}", answer.text);
        assert_eq!(answer.body["code"], "malformed_request", "{body:?}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let server = TestServer::start().await;
    let answer = server
        .answer(
            server
                .client
                .post(format!("{}/api/v1/auth/login", server.base))
                .header("content-type", "text/plain")
                .body("login=ada"),
        )
        .await;
    answer.expect_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let server = TestServer::start().await;
    server.get("/api/v1/nothing-here", None).await.expect_problem(404, "not_found");
    let wrong_method = server.send(Method::DELETE, "/api/v1/auth/login", None, None).await;
    wrong_method.expect_problem(405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    let with_parameter =
        server.send(Method::POST, &format!("/api/v1/posts/{}", uuid::Uuid::now_v7()), None, None).await;
    assert_eq!(with_parameter.header("allow"), Some("DELETE, GET, PATCH"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_with_or_without_content_length() {
    let server = TestServer::start_with(|c| c.body_limit = 1024).await;
    let big = json!({"login": "a".repeat(2000), "password": "x"});
    server.post("/api/v1/auth/login", None, big).await.expect_problem(413, "payload_too_large");

    // Chunked: no Content-Length to look at, the limit must hold while reading.
    let addr = server.addr();
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let chunk = "a".repeat(512);
        let mut request = String::from(
            "POST /api/v1/auth/login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
             transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        );
        for _ in 0..4 {
            request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        request.push_str("0\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("application/problem+json") && response.contains("payload_too_large"), "{response}");
}

#[tokio::test]
async fn the_request_id_is_echoed_or_generated() {
    let server = TestServer::start().await;
    let echoed = server
        .answer(server.client.get(format!("{}/health/live", server.base)).header("x-request-id", "trace-me-42"))
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-me-42"));

    let generated = server.get("/health/live", None).await;
    let id = generated.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let problem =
        server.answer(server.client.get(format!("{}/nope", server.base)).header("x-request-id", "abc-1")).await;
    assert_eq!(problem.body["request_id"], "abc-1");

    let unsafe_id =
        server.answer(server.client.get(format!("{}/health/live", server.base)).header("x-request-id", "a b")).await;
    assert_ne!(unsafe_id.header("x-request-id"), Some("a b"), "ids with spaces are replaced");
}
