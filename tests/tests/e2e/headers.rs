//! The headers OWASP expects of an API on every answer (errors and the edge's own refusals
//! included; the 431 written below HTTP is checked in `lifecycle.rs`), tokens never cached, and
//! Swagger UI and the OpenAPI document served compressed and revalidated by `ETag`.
//! (The harness checks the headers on every `/api/v1` answer of every suite besides.)

use std::io::Read;

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::{Answer, TestServer, PASSWORD, SECURITY_HEADERS};

/// Asserts the headers of every API answer, `Cache-Control: no-store` among them.
#[track_caller]
fn assert_secured(answer: &Answer, what: &str) {
    for (name, value) in SECURITY_HEADERS.into_iter().chain([("cache-control", "no-store")]) {
        assert_eq!(answer.header(name), Some(value), "{what} ({}): {name}; body: {}", answer.status, answer.text);
    }
}

#[tokio::test]
async fn answers_holding_tokens_are_never_cached() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    let login = server.login("ada", PASSWORD).await;
    let refreshed = server.post("/api/v1/auth/refresh", None, json!({"refresh_token": ada.refresh})).await;

    login.expect(200);
    refreshed.expect(200);
    assert_eq!(login.header("cache-control"), Some("no-store"));
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn every_api_answer_carries_the_security_headers_errors_included() {
    let server = TestServer::start_with(|c| c.body_limit = 1024).await;
    let ada = server.user("ada").await;
    let unknown_project = format!("/api/v1/projects/{}", uuid::Uuid::now_v7());

    let answers = [
        ("a 200", server.get("/api/v1/users/me", Some(&ada.access)).await, 200),
        ("a 201", server.post("/api/v1/projects", Some(&ada.access), json!({"name": "Secret plans"})).await, 201),
        ("a 204", server.post("/api/v1/auth/logout", None, json!({"refresh_token": ada.refresh})).await, 204),
        ("a 401", server.get("/api/v1/users/me", None).await, 401),
        ("a 404 problem", server.get(&unknown_project, Some(&ada.access)).await, 404),
        ("a 422 problem", server.post("/api/v1/projects", Some(&ada.access), json!({"name": " "})).await, 422),
        (
            "a 413",
            server.post("/api/v1/auth/login", None, json!({"login": "a".repeat(2000), "password": "x"})).await,
            413,
        ),
        ("an unknown path", server.get("/api/v1/nothing-here", None).await, 404),
        ("a 405", server.send(Method::DELETE, "/api/v1/auth/login", None, None).await, 405),
    ];

    for (what, answer, status) in &answers {
        answer.expect(*status);
        assert_secured(answer, what);
    }
}

#[tokio::test]
async fn an_instance_at_its_limit_refuses_with_the_security_headers() {
    let server = TestServer::start_with(|c| {
        c.max_in_flight = 1;
        c.body_timeout_ms = 20_000;
    })
    .await;
    let ada = server.user("ada").await;
    // Logins no longer take in-flight slots (they wait for hashing in their own lane): the one
    // slot is taken by a request whose body never comes.
    let _slot = server.hold_an_in_flight_slot().await;

    let reads = futures::future::join_all((0..16).map(|_| server.get("/api/v1/users/me", Some(&ada.access)))).await;

    let shed: Vec<&Answer> = reads.iter().filter(|a| a.status == 503 && a.body["code"] == "overloaded").collect();
    assert!(!shed.is_empty(), "{:?}", reads.iter().map(|a| a.status).collect::<Vec<_>>());
    for answer in shed {
        assert_secured(answer, "503 overloaded");
    }
}

#[tokio::test]
async fn a_request_past_its_timeout_is_refused_with_the_security_headers() {
    let server = TestServer::start_with(|c| c.request_timeout_ms = 1).await;

    let answer = server.register("ada").await;

    answer.expect_problem(503, "request_timeout");
    assert_secured(&answer, "503 request_timeout");
}

#[tokio::test]
async fn service_endpoints_are_never_sniffed_or_framed_and_health_is_never_cached() {
    let server = TestServer::start().await;

    for path in ["/health/live", "/health/ready", "/metrics"] {
        let answer = server.get(path, None).await;
        answer.expect(200);
        assert_secured(&answer, path);
    }
    for path in ["/openapi.json", "/openapi.yaml", "/docs"] {
        let answer = server.get(path, None).await;
        answer.expect(200);
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{path}");
        assert!(
            answer.header("content-security-policy").is_some_and(|p| p.ends_with("frame-ancestors 'none'")),
            "{path}"
        );
        assert_eq!(answer.header("cache-control"), Some("no-cache"), "{path}: kept, but revalidated");
    }
}

/// `GET path` with extra request headers, as raw bytes (reqwest here does not decompress).
async fn raw_get(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = server.client.get(format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn swagger_ui_is_gzipped_for_clients_that_accept_it_and_the_same_page_for_others() {
    let server = TestServer::start().await;

    let (status, plain_headers, plain) = raw_get(&server, "/docs", &[]).await;
    let (zipped_status, headers, zipped) = raw_get(&server, "/docs", &[("accept-encoding", "gzip, deflate, br")]).await;

    assert_eq!((status, zipped_status), (200, 200));
    assert_eq!(plain_headers.get("content-encoding"), None);
    assert_eq!(headers.get("content-encoding").unwrap(), "gzip");
    for answer in [&plain_headers, &headers] {
        assert_eq!(answer.get("vary").unwrap(), "accept-encoding");
        assert_eq!(answer.get("content-type").unwrap(), "text/html; charset=utf-8");
    }
    assert!(zipped.len() * 3 < plain.len(), "{} bytes gzipped, {} plain", zipped.len(), plain.len());
    assert_eq!(headers.get("content-length").unwrap().to_str().unwrap(), zipped.len().to_string());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_slice()).read_to_end(&mut unzipped).unwrap();
    assert!(unzipped == plain, "gzipped, it is the same page");
    let page = String::from_utf8(plain).unwrap();
    assert!(page.contains("SwaggerUIBundle") && page.contains("\"operationId\": \"get_me\""));
}

#[tokio::test]
async fn the_documents_are_revalidated_by_their_etag() {
    let server = TestServer::start().await;

    for (path, encoding) in
        [("/docs", "gzip"), ("/docs", "identity"), ("/openapi.json", "identity"), ("/openapi.yaml", "gzip")]
    {
        let (status, first, _) = raw_get(&server, path, &[("accept-encoding", encoding)]).await;
        assert_eq!(status, 200, "{path}");
        let etag = first.get("etag").unwrap().to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 20, "a strong tag: {etag}");

        let (status, again, body) =
            raw_get(&server, path, &[("accept-encoding", encoding), ("if-none-match", &etag)]).await;
        assert_eq!(status, 304, "{path} ({encoding}) with its own tag");
        assert!(body.is_empty());
        assert_eq!(again.get("etag").unwrap(), etag.as_str());
        assert_eq!(again.get("cache-control").unwrap(), "no-cache");
        assert_eq!(again.get("vary").unwrap(), "accept-encoding");

        let (status, _, _) =
            raw_get(&server, path, &[("accept-encoding", encoding), ("if-none-match", "\"stale\"")]).await;
        assert_eq!(status, 200, "{path} with another tag");
    }
}

#[tokio::test]
async fn swagger_ui_may_run_its_own_scripts_and_styles_only() {
    let server = TestServer::start().await;

    let docs = server.get("/docs", None).await;

    let policy = docs.header("content-security-policy").unwrap();
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    let directive = |name: &str| policy.split(';').map(str::trim).find(|d| d.starts_with(name)).unwrap();
    for (name, inline) in [("script-src ", 2), ("style-src ", 1)] {
        let sources = directive(name);
        assert_eq!(sources.matches("'sha256-").count(), inline, "its own inline elements, by digest: {sources}");
        assert!(!sources.contains("unsafe"), "{sources}");
    }
    assert_eq!(directive("connect-src "), "connect-src 'self'", "Try it out calls this origin only");
}
