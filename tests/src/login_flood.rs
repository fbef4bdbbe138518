//! The failed-login limit through a storage that stops mid-flood (issue 14's "the limiter's
//! storage stopped mid-flood"): a shared body for each fault suite that can really stop its
//! storage. It proves three things. While the storage is stopped, every wrong login answers 503:
//! none is checked without being counted (a 401 there would be a guess the limiter never saw).
//! Across the whole flood, before, during and after the stop, the account answers at most
//! `max_failures` 401s. And after the storage is back the count is still there: the account stays
//! locked (429, the right password included) instead of starting a fresh window.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::{TestServer, PASSWORD};
use crate::load::status;

/// The failures API.md allows per window; the server under test must run with the default.
const MAX_FAILURES: usize = 10;
const WORKERS: usize = 4;
/// Each worker's requests at most, and the flood's longest run, however the storage behaves.
const PER_WORKER: usize = 200;
const LONGEST: Duration = Duration::from_secs(90);
const PAUSE: Duration = Duration::from_millis(100);

struct Sent {
    at: Instant,
    answered: Instant,
    status: u16,
}

/// Floods `username`'s account with wrong passwords from several clients; once the flood has its
/// first answers, calls `stop`, lets the flood run against the stopped storage for `down`, calls
/// `resume`, lets the flood go on a second past readiness, and checks the properties above.
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
    let answered = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let flood_ends = Instant::now() + LONGEST;
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (client, url) = (server.client.clone(), format!("{}/api/v1/auth/login", server.base));
            let (username, answered, done) = (username.to_owned(), answered.clone(), done.clone());
            tokio::spawn(async move {
                let mut sent = Vec::new();
                while sent.len() < PER_WORKER && Instant::now() < flood_ends && !done.load(Ordering::SeqCst) {
                    let at = Instant::now();
                    let body = json!({"login": username, "password": "wrong password"});
                    let status = status(client.post(&url).json(&body)).await.unwrap_or(0);
                    sent.push(Sent { at, answered: Instant::now(), status });
                    answered.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(PAUSE).await;
                }
                sent
            })
        })
        .collect();

    while answered.load(Ordering::SeqCst) < 2 && Instant::now() < flood_ends {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.await;
    let stopped = Instant::now();
    tokio::time::sleep(down).await;
    let resuming = Instant::now();
    resume.await;
    server.ready_again().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    done.store(true, Ordering::SeqCst);

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
    let before = statuses(&|s| s.answered < stopped);
    eprintln!("flood: {before:?} before the stop, {while_stopped:?} while stopped; all {all:?}; then {after:?}");
    assert!(failures <= MAX_FAILURES, "{failures} wrong passwords were checked: {all:?} then {after:?}");
    assert_eq!(after.last(), Some(&429), "the limit holds after the storage is back: {after:?}");
    server.login(username, PASSWORD).await.expect_problem(429, "too_many_requests");
}
