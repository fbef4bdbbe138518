//! Brute-force protection as API.md states it, with its default numbers (10 failures in 15
//! minutes): counted per account and per unknown name, before the password is checked, in the
//! storage that every instance shares.

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use tessera_tests::http::{Answer, TestServer, PASSWORD};

const LIMIT: usize = 10;

/// The number of `401`s, after checking that every other answer is a proper `429`.
#[track_caller]
fn checked_and_locked(answers: &[Answer]) -> usize {
    for answer in answers.iter().filter(|a| a.status != 401) {
        assert_locked(answer);
    }
    answers.iter().filter(|a| a.status == 401).count()
}

#[track_caller]
fn assert_locked(answer: &Answer) {
    answer.expect_problem(429, "too_many_requests");
    let retry_after: u64 = answer.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=900).contains(&retry_after), "Retry-After {retry_after}: {}", answer.text);
}

async fn wrong_logins(server: &TestServer, login: &str, n: usize) -> Vec<Answer> {
    join_all((0..n).map(|_| server.login(login, "wrong password"))).await
}

#[tokio::test]
async fn forty_wrong_passwords_at_once_are_checked_at_most_ten_times_then_the_right_one_is_locked_too() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);

    let answers = wrong_logins(&server, "ada", 40).await;

    // At most ten are checked, and no fewer: every count is taken once.
    assert_eq!(checked_and_locked(&answers), LIMIT, "wrong passwords checked");
    for answer in answers.iter().filter(|a| a.status == 401) {
        answer.expect_problem(401, "invalid_credentials");
    }
    assert_locked(&server.login("ada", PASSWORD).await);
}

#[tokio::test]
async fn email_and_username_are_one_target() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);

    let mut answers = Vec::new();
    for _ in 0..10 {
        answers.push(server.login("ADA@example.com", "wrong password").await);
    }
    for _ in 0..10 {
        answers.push(server.login("ada", "wrong password").await);
    }

    assert_eq!(checked_and_locked(&answers), LIMIT, "wrong passwords checked");
    assert_locked(&server.login(" Ada ", PASSWORD).await);
    assert_locked(&server.login("ada@example.com", PASSWORD).await);
}

#[tokio::test]
async fn a_locked_unknown_name_gets_the_answer_a_locked_account_gets() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);
    for login in ["ada", "nobody"] {
        for _ in 0..LIMIT {
            server.login(login, "wrong password").await.expect_problem(401, "invalid_credentials");
        }
    }

    let account = server.login("ada", "wrong password").await;
    let unknown = server.login("NOBODY", "wrong password").await;

    assert_locked(&account);
    assert_locked(&unknown);
    for field in ["type", "title", "status", "detail", "code"] {
        assert_eq!(account.body[field], unknown.body[field], "{field}");
    }
    let fields = |a: &Answer| a.body.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(fields(&account), fields(&unknown));
}

#[tokio::test]
async fn guessing_the_current_password_is_limited_with_the_accounts_logins() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let change = |current: &'static str| {
        let body = json!({"current_password": current, "new_password": "a brand new password"});
        server.send(Method::PUT, "/api/v1/users/me/password", Some(&ada.access), Some(body))
    };

    for _ in 0..LIMIT {
        change("wrong password").await.expect_problem(403, "invalid_credentials");
    }

    assert_locked(&change("wrong password").await);
    assert_locked(&change(PASSWORD).await);
    assert_locked(&server.login("ada", PASSWORD).await);
}

#[tokio::test]
async fn a_right_current_password_does_not_count_as_a_failure() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let body = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    for _ in 0..LIMIT - 1 {
        server.login("ada", "wrong password").await.expect_problem(401, "invalid_credentials");
    }

    let changed = server
        .send(Method::PUT, "/api/v1/users/me/password", Some(&ada.access), Some(body(PASSWORD, "second password")))
        .await;

    changed.expect(204);
    for _ in 0..LIMIT {
        server.login("ada", "wrong password").await.expect_problem(401, "invalid_credentials");
    }
    assert_locked(&server.login("ada", "second password").await);
}

#[tokio::test]
async fn a_login_longer_than_254_characters_is_refused_and_never_counted() {
    let server = TestServer::start().await;
    let too_long = "x".repeat(255);
    let longest = "x".repeat(254);

    for _ in 0..=LIMIT {
        server.login(&too_long, "wrong password").await.expect_problem(401, "invalid_credentials");
        server.login(&format!("  {too_long}@example.com  "), PASSWORD).await.expect_problem(401, "invalid_credentials");
    }

    // A name one character shorter is a login name like any other, counted.
    for _ in 0..LIMIT {
        server.login(&longest, "wrong password").await.expect_problem(401, "invalid_credentials");
    }
    assert_locked(&server.login(&longest, "wrong password").await);
}

#[tokio::test]
async fn a_successful_login_clears_the_accounts_failures() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);
    for _ in 0..LIMIT - 1 {
        server.login("ada", "wrong password").await.expect_problem(401, "invalid_credentials");
    }

    server.login("ada@example.com", PASSWORD).await.expect(200);

    for _ in 0..LIMIT {
        server.login("ada", "wrong password").await.expect_problem(401, "invalid_credentials");
    }
    assert_locked(&server.login("ada", "wrong password").await);
}

#[tokio::test]
async fn two_processes_on_one_storage_share_the_count() {
    let first = TestServer::start().await;
    let second = first.another_process(env!("CARGO_BIN_EXE_tessera-under-test")).await;
    first.register("ada").await.expect(201);

    let (mut answers, more) = futures::join!(wrong_logins(&first, "ada", 6), wrong_logins(&second, "ADA", 6));
    answers.extend(more);

    assert_eq!(checked_and_locked(&answers), LIMIT, "wrong passwords checked across both instances");
    assert_locked(&second.login("ada", PASSWORD).await);
    assert_locked(&first.login("ada@example.com", PASSWORD).await);
    second.stop().await;
}
