//! Request timeouts, slow clients and graceful shutdown (load shedding is in `floods.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tessera_tests::http::{TestServer, PASSWORD, SECURITY_HEADERS};
use tessera_tests::load::Load;

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_abandoned_with_503() {
    // Hashing a password with Argon2 takes far longer than a millisecond.
    let server = TestServer::start_with(|c| c.request_timeout_ms = 1).await;

    let answer = server.register("ada").await;

    answer.expect_problem(503, "request_timeout");
}

#[tokio::test]
async fn shutting_down_under_load_drains_without_failing_a_request() {
    let mut server = TestServer::start_with(|c| {
        c.shutdown_drain_ms = 1500;
        c.shutdown_grace = 10;
    })
    .await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Busy").await;
    let id = project["id"].as_str().unwrap().to_owned();
    let load = {
        let (client, base, token) = (server.client.clone(), server.base.clone(), ada.access.clone());
        Load::start(6, move |i, n| {
            if i % 2 == 0 {
                client.get(format!("{base}/api/v1/projects/{id}")).bearer_auth(&token)
            } else {
                client
                    .post(format!("{base}/api/v1/projects/{id}/posts"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("Load {i} {n}"), "body": ""}))
            }
        })
    };
    load.wait_for_answers(12, Duration::from_secs(30)).await;

    let shutdown = server.begin_shutdown();
    let ready = server.answer(server.client.get(format!("{}/health/ready", server.base))).await;
    // A load balancer sees the 503 and stops sending new work; requests in flight finish.
    let answers = load.finish().await;
    let took = shutdown.await.unwrap();

    ready.expect_problem(503, "shutting_down");
    assert!(answers.0.len() > 10, "the load ran: {} requests", answers.0.len());
    answers.assert_only(&[200, 201]);
    assert!(took < Duration::from_secs(10), "the server took {took:?} to stop");
}

#[tokio::test]
async fn a_login_flood_does_not_hold_up_other_requests() {
    // Thirty logins of one account at once would be refused past the failed-login limit (each is
    // counted before its check, and none has succeeded yet): this test is about hashing, not that.
    let server = TestServer::start_with(|c| {
        c.hash_concurrency = Some(1);
        c.login_max_failures = 100;
    })
    .await;
    let ada = server.user("ada").await;
    let flood_done = Arc::new(AtomicBool::new(false));
    let flood = {
        let (client, base, done) = (server.client.clone(), server.base.clone(), flood_done.clone());
        tokio::spawn(async move {
            let logins = (0..30).map(|_| {
                client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"login": "ada", "password": PASSWORD}))
                    .send()
            });
            let answers = futures::future::join_all(logins).await;
            done.store(true, Ordering::SeqCst);
            answers.into_iter().filter(|a| a.as_ref().is_ok_and(|r| r.status() == 200)).count()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;

    // Thirty hashes queue behind one permit; reads that need no hash are answered meanwhile.
    for _ in 0..5 {
        server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
    }
    let answered_during_the_flood = !flood_done.load(Ordering::SeqCst);

    assert!(answered_during_the_flood, "reads had to wait for the whole login flood");
    assert_eq!(flood.await.unwrap(), 30, "every login of the flood succeeded in the end");
}

#[tokio::test]
async fn a_client_that_connects_and_sends_nothing_is_disconnected() {
    let server = TestServer::start_with(|c| c.idle_timeout_ms = 300).await;
    let addr = server.addr();

    let closed = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = std::time::Instant::now();
        let mut buffer = [0u8; 16];
        let read = stream.read(&mut buffer);
        (read.map_err(|e| e.kind()), started.elapsed())
    })
    .await
    .unwrap();

    let (read, after) = closed;
    assert!(matches!(read, Ok(0) | Err(std::io::ErrorKind::ConnectionReset)), "the server closed it: {read:?}");
    assert!(after < Duration::from_secs(5), "closed after {after:?}, not by the client's own timeout");
    server.get("/health/live", None).await.expect(200);
}

/// Writes `head` in pieces, one every `pause`, then reads what the server answers (or how it
/// closed the connection), and how long that all took.
fn trickle(addr: std::net::SocketAddr, pieces: Vec<String>, pause: Duration) -> (String, Duration) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    for piece in &pieces {
        if stream.write_all(piece.as_bytes()).is_err() {
            break; // closed by the server
        }
        std::thread::sleep(pause);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_disconnected_and_a_slow_but_timely_one_is_served() {
    let server = TestServer::start_with(|c| c.header_timeout_ms = 600).await;
    let addr = server.addr();

    // Slowloris: a header line every 150 ms, forever (40 of them would take 6 s).
    let mut pieces = vec!["GET /health/live HTTP/1.1\r\nHost: tessera\r\n".to_owned()];
    pieces.extend((0..40).map(|i| format!("X-Slow-{i}: a\r\n")));
    let (answer, took) =
        tokio::task::spawn_blocking(move || trickle(addr, pieces, Duration::from_millis(150))).await.unwrap();
    assert!(!answer.contains("200 OK"), "the trickled request was not served: {answer}");
    assert!(took < Duration::from_secs(3), "disconnected after {took:?}");

    // Slow but within the timeout: served.
    let pieces = ["GET /health/live HTTP/1.1\r\n", "Host: tessera\r\n", "Connection: close\r\n", "\r\n"];
    let pieces = pieces.map(str::to_owned).to_vec();
    let (answer, _) =
        tokio::task::spawn_blocking(move || trickle(addr, pieces, Duration::from_millis(100))).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.get("/health/live", None).await.expect(200);
}

/// The head of a raw HTTP answer must be a 431 problem document whose request id is the header's.
#[track_caller]
fn assert_headers_too_large(answer: &str, what: &str) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    assert!(head.starts_with("HTTP/1.1 431"), "{what}: {}", &answer[..answer.len().min(200)]);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/problem+json"), "{what}: {head}");
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["code"], "headers_too_large", "{what}: {body}");
    assert_eq!(problem["status"], 431);
    let id = problem["request_id"].as_str().unwrap();
    assert!(head.contains(&format!("x-request-id: {id}")), "{what}: {head}");
    // Written below HTTP, and still with the headers of every answer.
    for (name, value) in SECURITY_HEADERS.into_iter().chain([("cache-control", "no-store")]) {
        assert!(head.contains(&format!("{name}: {}", value.to_ascii_lowercase())), "{what} without {name}: {head}");
    }
}

#[tokio::test]
async fn oversized_request_heads_are_refused_and_the_server_carries_on() {
    let server = TestServer::start().await;
    let addr = server.addr();
    let huge = format!("GET /health/live HTTP/1.1\r\nHost: tessera\r\nX-Big: {}\r\n\r\n", "a".repeat(600 * 1024));
    let (answer, _) = tokio::task::spawn_blocking(move || trickle(addr, vec![huge], Duration::ZERO)).await.unwrap();
    assert_headers_too_large(&answer, "a 600 KB head");
    let fields = |n: usize| -> String { (0..n).map(|i| format!("X-H{i}: v\r\n")).collect() };
    let head = format!("GET /health/live HTTP/1.1\r\nHost: tessera\r\n{}\r\n", fields(150));
    let (answer, _) = tokio::task::spawn_blocking(move || trickle(addr, vec![head], Duration::ZERO)).await.unwrap();
    assert_headers_too_large(&answer, "150 header fields");
    // 100 fields (Host and 99 more) are within the limit.
    let head = format!("GET /health/live HTTP/1.1\r\nHost: tessera\r\n{}Connection: close\r\n\r\n", fields(98));
    let (answer, _) = tokio::task::spawn_blocking(move || trickle(addr, vec![head], Duration::ZERO)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "100 header fields: {}", &answer[..answer.len().min(200)]);
    server.get("/health/live", None).await.expect(200);
}

/// `--max-connections`: a connection past the cap is answered `503 overloaded` at once and
/// closed, without waiting for a slot; once a held connection closes, the next one is served.
#[tokio::test]
async fn connections_past_the_cap_are_refused_at_once_until_one_closes() {
    let server = TestServer::start_with(|c| c.max_connections = 2).await;
    let addr = server.addr();
    // Two clients keep a connection each alive, holding both slots.
    let holders: Vec<reqwest::Client> = (0..2).map(|_| reqwest::Client::new()).collect();
    for client in &holders {
        let answer = client.get(format!("{}/health/live", server.base)).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let request = || vec!["GET /health/live HTTP/1.1\r\nHost: tessera\r\nConnection: close\r\n\r\n".to_owned()];

    let (answer, took) = tokio::task::spawn_blocking(move || trickle(addr, request(), Duration::ZERO)).await.unwrap();

    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    assert!(head.starts_with("HTTP/1.1 503"), "{answer}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("retry-after: 1") && head.contains("content-type: application/problem+json"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff") && head.contains("cache-control: no-store"), "{head}");
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!((problem["status"].as_u64(), problem["code"].as_str()), (Some(503), Some("overloaded")), "{body}");
    assert!(head.contains(&format!("x-request-id: {}", problem["request_id"].as_str().unwrap())), "{head}");
    assert!(took < Duration::from_secs(2), "refused after {took:?}");

    drop(holders);
    // The slot is free once the server has seen its connection close.
    let mut served = String::new();
    for _ in 0..50 {
        (served, _) = tokio::task::spawn_blocking(move || trickle(addr, request(), Duration::ZERO)).await.unwrap();
        if served.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
}
