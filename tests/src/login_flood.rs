//! The failed-login limit through a storage that stops mid-flood (issue 14's "the limiter's
//! storage stopped mid-flood"): a shared body for each fault suite that can really stop its
//! storage. It proves three things. While the storage is stopped, every wrong login answers 503:
//! none is checked without being counted (a 401 there would be a guess the limiter never saw).
//! Across the whole flood, before, during and after the stop, the account answers at most
//! `max_failures` 401s. And after the storage is back the count is still there: the account stays
//! locked (429, the right password included) instead of starting a fresh window.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::{TestServer, PASSWORD};
use crate::load::status;

/// The failures API.md allows per window; the server under test must run with the default.
const MAX_FAILURES: usize = 10;
const WORKERS: usize = 4;
/// Each worker's requests at most, however the storage behaves: the flood is bounded.
const PER_WORKER: usize = 60;

struct Sent {
    at: Instant,
    answered: Instant,
    status: u16,
}

/// Floods `username`'s account with wrong passwords from several clients, calls `stop` once
/// the flood runs, lets it run against the stopped storage for `down`, calls `resume`, and
/// checks the three properties above.
pub async fn wrong_logins_through_a_stopped_storage<S, R>(
    server: &TestServer,
    username: &str,
    stop: S,
    down: Duration,
    resume: R,
) where
    S: Future<Output = ()>,
    R: Future<Output = ()>,
{
    // Some failures counted before the flood, so the stop falls before the limit is reached.
    for _ in 0..3 {
        server.login(username, "wrong password").await.expect_problem(401, "invalid_credentials");
    }
    let flood_ends = Instant::now() + down + Duration::from_secs(4);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (client, url) = (server.client.clone(), format!("{}/api/v1/auth/login", server.base));
            let username = username.to_owned();
            tokio::spawn(async move {
                let mut sent = Vec::new();
                while sent.len() < PER_WORKER && Instant::now() < flood_ends {
                    let at = Instant::now();
                    let body = json!({"login": username, "password": "wrong password"});
                    let status = status(client.post(&url).json(&body)).await.unwrap_or(0);
                    sent.push(Sent { at, answered: Instant::now(), status });
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
                sent
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.await;
    let stopped = Instant::now();
    tokio::time::sleep(down).await;
    let resuming = Instant::now();
    resume.await;
    server.ready_again().await;

    let mut sent = Vec::new();
    for worker in workers {
        sent.extend(worker.await.unwrap());
    }
    let statuses = |keep: &dyn Fn(&Sent) -> bool| sent.iter().filter(|s| keep(s)).map(|s| s.status).collect::<Vec<_>>();
    let all = statuses(&|_| true);
    assert!(all.iter().all(|s| [401, 429, 503].contains(s)), "only 401, 429 and 503: {all:?}");
    let while_stopped = statuses(&|s| s.at >= stopped && s.answered <= resuming);
    assert!(!while_stopped.is_empty(), "the flood went on while the storage was stopped: {all:?}");
    assert!(while_stopped.iter().all(|&s| s == 503), "a stopped limiter answers 503 only: {while_stopped:?}");
    let mut failures = 3 + all.iter().filter(|&&s| s == 401).count();

    // Back: the count from before and through the stop still holds. Wrong passwords until the
    // limit answers (the flood may have ended before the storage was back), then the right one.
    let mut after = Vec::new();
    while after.last() != Some(&429) && after.len() < 3 * MAX_FAILURES {
        let answer = server.login(username, "wrong password").await.status.as_u16();
        if answer == 503 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        after.push(answer);
    }
    failures += after.iter().filter(|&&s| s == 401).count();
    assert!(failures <= MAX_FAILURES, "{failures} wrong passwords were checked: {all:?} then {after:?}");
    assert_eq!(after.last(), Some(&429), "the limit holds after the storage is back: {after:?}");
    server.login(username, PASSWORD).await.expect_problem(429, "too_many_requests");
}
