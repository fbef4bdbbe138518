//! Floods and trickles that must not starve the API: requests past the in-flight limit are shed,
//! password hashing waits in a bounded queue of its own outside that limit, and a request body
//! has a deadline.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::{Answer, TestServer, PASSWORD};

#[tokio::test]
async fn beyond_the_in_flight_limit_requests_are_refused_at_once_with_503() {
    let server = TestServer::start_with(|c| {
        c.max_in_flight = 1;
        c.body_timeout_ms = 20_000;
    })
    .await;
    let ada = server.user("ada").await;
    let slot = server.hold_an_in_flight_slot().await;

    let started = Instant::now();
    let reads = futures::future::join_all((0..16).map(|_| server.get("/api/v1/users/me", Some(&ada.access)))).await;
    let took = started.elapsed();

    for read in &reads {
        read.expect_problem(503, "overloaded");
    }
    assert!(took < Duration::from_secs(5), "refused at once, not queued until the slot is free: {took:?}");
    server.get("/health/live", None).await.expect(200);
    drop(slot);
    let started = Instant::now();
    while server.get("/api/v1/users/me", Some(&ada.access)).await.status != 200 {
        assert!(started.elapsed() < Duration::from_secs(5), "the slot came back when its client left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn logins_registrations_and_password_changes_take_none_of_the_in_flight_slots() {
    let server = TestServer::start_with(|c| {
        c.max_in_flight = 1;
        c.body_timeout_ms = 20_000;
    })
    .await;
    let ada = server.user("ada").await;
    let _slot = server.hold_an_in_flight_slot().await;
    server.get("/api/v1/users/me", Some(&ada.access)).await.expect_problem(503, "overloaded");

    // Every slot is taken, yet the operations that hash wait in the hasher's queue instead.
    server.register("bob").await.expect(201);
    let bob = server.login("bob", PASSWORD).await;
    bob.expect(200);
    let token = bob.body["access_token"].as_str().unwrap();
    let change = json!({"current_password": PASSWORD, "new_password": "another long password"});
    server.send(Method::PUT, "/api/v1/users/me/password", Some(token), Some(change)).await.expect(204);
    server.login("nobody_at_all", PASSWORD).await.expect_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn a_burst_past_the_hashing_queue_is_refused_at_once_and_the_rest_are_answered() {
    let server = TestServer::start_with(|c| {
        c.hash_concurrency = Some(1);
        c.hash_queue = Some(2);
    })
    .await;

    let started = Instant::now();
    let (unknown, names): (Vec<String>, Vec<String>) =
        (0..20).map(|i| (format!("unknown_{i}"), format!("burst_{i}"))).unzip();
    let logins = unknown.iter().map(|name| server.login(name, PASSWORD));
    let registrations = names.iter().map(|name| server.register(name));
    let (logins, registrations) =
        futures::future::join(futures::future::join_all(logins), futures::future::join_all(registrations)).await;
    let took = started.elapsed();

    let answers: Vec<&Answer> = logins.iter().chain(&registrations).collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    let shed: Vec<&&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert!(!shed.is_empty(), "3 fit at a time (1 hashing, 2 waiting), 40 came at once: {statuses:?}");
    for answer in &shed {
        answer.expect_problem(503, "overloaded");
        assert_eq!(answer.header("retry-after"), Some("1"), "{}", answer.text);
    }
    assert!(logins.iter().all(|a| matches!(a.status.as_u16(), 401 | 503)), "{statuses:?}");
    assert!(registrations.iter().all(|a| matches!(a.status.as_u16(), 201 | 503)), "{statuses:?}");
    assert!(statuses.iter().any(|&s| s != 503), "those admitted are answered: {statuses:?}");
    assert!(took < Duration::from_secs(20), "nothing hangs: {took:?}");
    // A refused registration created nothing: it goes through once the queue has room.
    for (name, answer) in names.iter().zip(&registrations) {
        if answer.status == 503 {
            server.register(name).await.expect(201);
        }
    }
}

#[tokio::test]
async fn while_200_logins_flood_reads_are_answered_before_the_flood_ends() {
    let server = TestServer::start_with(|c| c.hash_concurrency = Some(1)).await;
    let ada = server.user("ada").await;
    let flood_done = Arc::new(AtomicBool::new(false));
    let flood = {
        let (client, base, done) = (server.client.clone(), server.base.clone(), flood_done.clone());
        tokio::spawn(async move {
            // Names nobody registered, as an attacker's: each costs a hash, none is limited.
            let logins = (0..200).map(|i| {
                client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"login": format!("flood_{i}"), "password": PASSWORD}))
                    .send()
            });
            let answers = futures::future::join_all(logins).await;
            done.store(true, Ordering::SeqCst);
            answers.into_iter().map(|a| a.map_or(0, |r| r.status().as_u16())).collect::<Vec<u16>>()
        })
    };

    let mut read_during_the_flood = false;
    for _ in 0..5 {
        server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
        read_during_the_flood |= !flood_done.load(Ordering::SeqCst);
    }
    let statuses = flood.await.unwrap();

    assert!(read_during_the_flood, "reads had to wait for the whole login flood");
    assert!(statuses.iter().all(|&s| s == 401 || s == 503), "only refusals, no failure: {statuses:?}");
    assert!(statuses.contains(&503), "200 logins overflow a queue of 64: {statuses:?}");
    assert!(statuses.contains(&401), "those queued are checked: {statuses:?}");
}

/// The count of `tessera_http_requests_total` for `operation` and `status`.
fn requests_counted(metrics: &str, operation: &str, status: u16) -> u64 {
    let series = format!(r#"tessera_http_requests_total{{operation="{operation}",status="{status}"}} "#);
    metrics.lines().find_map(|line| line.strip_prefix(&series)).map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn logins_whose_clients_left_while_they_waited_are_never_checked() {
    let server = TestServer::start_with(|c| {
        c.hash_concurrency = Some(1);
        c.hash_queue = Some(100);
    })
    .await;
    let addr = server.addr();

    // 40 logins at once, each on its own connection, closed 100 ms later: one hashing thread has
    // checked only a few of them by then.
    tokio::task::spawn_blocking(move || {
        let connections: Vec<TcpStream> = (0..40)
            .map(|i| {
                let body = format!(r#"{{"login": "gone_{i}", "password": "{PASSWORD}"}}"#);
                let mut stream = TcpStream::connect(addr).unwrap();
                let head = format!(
                    "POST /api/v1/auth/login HTTP/1.1\r\nHost: tessera\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(format!("{head}{body}").as_bytes()).unwrap();
                stream
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        drop(connections);
    })
    .await
    .unwrap();

    // Every login is accounted for: checked (401) or abandoned when its client left (499).
    let started = Instant::now();
    let (checked, abandoned) = loop {
        let metrics = server.get("/metrics", None).await.text;
        let counts = (requests_counted(&metrics, "login", 401), requests_counted(&metrics, "login", 499));
        if counts.0 + counts.1 >= 40 || started.elapsed() > Duration::from_secs(30) {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(checked + abandoned, 40, "{checked} checked, {abandoned} abandoned");
    assert!(abandoned >= 20, "the logins still waiting when their clients left were dropped: {checked} checked");
}

/// Sends `head`, then `body` one byte every `pause` while the server has not answered, reading
/// the answer as it comes: what the server said (or how it ended the connection), and when.
fn trickle_body(addr: SocketAddr, head: &str, body: &[u8], pause: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut reader = stream.try_clone().unwrap();
    reader.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let answered = std::thread::spawn(move || {
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer);
        (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
    });
    stream.write_all(head.as_bytes()).unwrap();
    for byte in body {
        std::thread::sleep(pause);
        if answered.is_finished() || stream.write_all(&[*byte]).is_err() {
            break;
        }
    }
    answered.join().unwrap()
}

#[tokio::test]
async fn a_client_trickling_its_body_is_cut_off_and_a_slow_but_timely_one_is_served() {
    let server = TestServer::start_with(|c| c.body_timeout_ms = 1000).await;
    let addr = server.addr();
    let head = |length: usize| {
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: tessera\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };

    // 1000 bytes announced, one sent per second (at most 10 here, which would take 10 s).
    let (answer, took) =
        tokio::task::spawn_blocking(move || trickle_body(addr, &head(1000), &[b' '; 10], Duration::from_secs(1)))
            .await
            .unwrap();
    let (answer_head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    assert!(answer_head.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer_head.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["code"], "body_timeout", "{answer}");
    assert!(took < Duration::from_secs(3), "cut off at the 1 s deadline, not later: {took:?}");

    // Slow but within the deadline: served.
    let body = br#"{"login": "nobody_at_all", "password": "correct horse battery"}"#;
    let (answer, _) =
        tokio::task::spawn_blocking(move || trickle_body(addr, &head(body.len()), body, Duration::from_millis(5)))
            .await
            .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    server.get("/health/live", None).await.expect(200);
}
