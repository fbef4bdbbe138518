//! Idempotent retries (API.md, "Idempotent retries"): a POST with an `Idempotency-Key` runs once;
//! the same request again gets the first answer byte for byte; keys are the caller's (or, on
//! `auth/*`, the request's); answers that are not stored leave the key free; the records live in
//! the storage, shared by every instance.

use futures::future::join_all;
use serde_json::{json, Value};
use tessera_tests::http::{Answer, Session, TestServer, PASSWORD};

/// Asserts that `replay` is `first` again, byte for byte, marked as a replay.
#[track_caller]
fn assert_replayed(first: &Answer, replay: &Answer) {
    assert_eq!(first.header("idempotency-replayed"), None, "the first answer is no replay");
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.status, first.status);
    assert_eq!(replay.text, first.text, "the body, byte for byte");
    for name in ["location", "etag", "content-type", "cache-control", "x-request-id"] {
        assert_eq!(replay.header(name), first.header(name), "{name}");
    }
}

async fn projects_of(server: &TestServer, who: &Session) -> Vec<Value> {
    server.walk("/api/v1/projects", &who.access, 100).await
}

#[tokio::test]
async fn a_retried_create_is_answered_again_and_makes_nothing_new() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let body = json!({"name": "Apollo"});

    let first = server.post_keyed("/api/v1/projects", Some(&ada.access), &body, "create-apollo-1").await;
    first.expect(201);
    let replay = server.post_keyed("/api/v1/projects", Some(&ada.access), &body, "create-apollo-1").await;

    assert_replayed(&first, &replay);
    assert_eq!(projects_of(&server, &ada).await.len(), 1);

    let project = first.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/projects/{project}/posts");
    let post = json!({"title": "Launch", "body": "T-minus", "status": "published"});
    let first = server.post_keyed(&path, Some(&ada.access), &post, "post-1").await;
    first.expect(201);
    let replay = server.post_keyed(&path, Some(&ada.access), &post, "post-1").await;
    assert_replayed(&first, &replay);
    let posts = server.walk(&path, &ada.access, 100).await;
    assert_eq!(posts.len(), 1, "no second post with slug launch-2");
}

#[tokio::test]
async fn every_auth_operation_is_answered_again() {
    let server = TestServer::start().await;
    let registration = json!({
        "email": "ada@example.com", "username": "ada", "password": PASSWORD,
        "first_name": "Ada", "last_name": "Lovelace",
    });
    let first = server.post_keyed("/api/v1/auth/register", None, &registration, "r").await;
    first.expect(201);
    assert_replayed(&first, &server.post_keyed("/api/v1/auth/register", None, &registration, "r").await);

    let login = json!({"login": "ada", "password": PASSWORD});
    let first = server.post_keyed("/api/v1/auth/login", None, &login, "l").await;
    first.expect(200);
    assert_replayed(&first, &server.post_keyed("/api/v1/auth/login", None, &login, "l").await);

    let logout = json!({"refresh_token": first.body["refresh_token"]});
    let first = server.post_keyed("/api/v1/auth/logout", None, &logout, "o").await;
    first.expect(204);
    assert_replayed(&first, &server.post_keyed("/api/v1/auth/logout", None, &logout, "o").await);
}

#[tokio::test]
async fn a_refresh_retried_after_a_lost_answer_gets_the_same_pair_and_the_login_lives_on() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let body = json!({"refresh_token": ada.refresh});

    let first = server.post_keyed("/api/v1/auth/refresh", None, &body, "refresh-1").await;
    first.expect(200);
    // The client never saw `first`: it retries with the same key.
    let replay = server.post_keyed("/api/v1/auth/refresh", None, &body, "refresh-1").await;

    assert_replayed(&first, &replay);
    let next = json!({"refresh_token": replay.body["refresh_token"]});
    server.post("/api/v1/auth/refresh", None, next).await.expect(200);

    // Without a key, presenting a spent token is reuse, as before: the login ends.
    let other = server.user("bob").await;
    let spent = json!({"refresh_token": other.refresh});
    let fresh = server.post("/api/v1/auth/refresh", None, spent.clone()).await;
    fresh.expect(200);
    server.post("/api/v1/auth/refresh", None, spent).await.expect_problem(401, "refresh_token_reused");
    let revoked = json!({"refresh_token": fresh.body["refresh_token"]});
    server.post("/api/v1/auth/refresh", None, revoked).await.expect_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn twenty_requests_with_one_key_at_once_make_one_project() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let body = json!({"name": "Apollo"});

    let answers =
        join_all((0..20).map(|_| server.post_keyed("/api/v1/projects", Some(&ada.access), &body, "one-key"))).await;

    let created: Vec<_> = answers.iter().filter(|a| a.status == 201).collect();
    assert!(!created.is_empty(), "one of them ran");
    for answer in answers.iter().filter(|a| a.status != 201) {
        answer.expect_problem(409, "idempotency_key_in_use");
        let retry_after: u64 = answer.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!(retry_after >= 1, "409 in use with Retry-After: {:?}", answer.header("retry-after"));
    }
    for answer in &created {
        assert_eq!(answer.text, created[0].text, "every 201 is the one answer");
    }
    assert_eq!(projects_of(&server, &ada).await.len(), 1);
    let replay = server.post_keyed("/api/v1/projects", Some(&ada.access), &body, "one-key").await;
    assert_eq!(replay.text, created[0].text);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    server.post_keyed("/api/v1/projects", Some(&ada.access), &json!({"name": "Apollo"}), "k").await.expect(201);

    let other_body = server.post_keyed("/api/v1/projects", Some(&ada.access), &json!({"name": "Gemini"}), "k").await;
    other_body.expect_problem(422, "idempotency_key_reused");
    let project = projects_of(&server, &ada).await[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/projects/{project}/posts");
    let other_path = server.post_keyed(&path, Some(&ada.access), &json!({"title": "T", "body": ""}), "k").await;
    other_path.expect_problem(422, "idempotency_key_reused");

    assert_eq!(projects_of(&server, &ada).await.len(), 1);
    assert!(server.walk(&path, &ada.access, 100).await.is_empty());
}

#[tokio::test]
async fn keys_belong_to_their_caller_and_auth_keys_to_their_request() {
    let server = TestServer::start().await;
    let (ada, bob) = (server.user("ada").await, server.user("bob").await);
    let body = json!({"name": "Apollo"});

    let for_ada = server.post_keyed("/api/v1/projects", Some(&ada.access), &body, "shared").await;
    let for_bob = server.post_keyed("/api/v1/projects", Some(&bob.access), &body, "shared").await;

    for_ada.expect(201);
    for_bob.expect(201);
    assert_eq!(for_bob.header("idempotency-replayed"), None, "never another caller's answer");
    assert_ne!(for_ada.body["id"], for_bob.body["id"]);
    for name in ["cyd", "dee"] {
        let registration = json!({
            "email": format!("{name}@example.com"), "username": name, "password": PASSWORD,
            "first_name": "C", "last_name": "D",
        });
        server.post_keyed("/api/v1/auth/register", None, &registration, "same-key").await.expect(201);
    }
}

#[tokio::test]
async fn a_malformed_key_is_a_bad_request_and_runs_nothing() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let long = "k".repeat(256);

    for key in ["", long.as_str(), "tab\there"] {
        let answer = server.post_keyed("/api/v1/projects", Some(&ada.access), &json!({"name": "Apollo"}), key).await;
        answer.expect_problem(400, "malformed_request");
    }
    let request = server
        .client
        .post(format!("{}/api/v1/projects", server.base))
        .bearer_auth(&ada.access)
        .header("idempotency-key", reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap())
        .json(&json!({"name": "Apollo"}));
    server.answer(request).await.expect_problem(400, "malformed_request");
    server
        .post_keyed("/api/v1/projects", Some(&ada.access), &json!({"name": "Apollo"}), &"k".repeat(255))
        .await
        .expect(201);

    assert_eq!(projects_of(&server, &ada).await.len(), 1, "only the valid key ran");
}

#[tokio::test]
async fn an_error_answer_is_stored_too() {
    let server = TestServer::start().await;
    let (ada, bob) = (server.user("ada").await, server.user("bob").await);
    let project = server.create_project(&ada, "Apollo").await;
    let project = project["id"].as_str().unwrap();
    server.share(&ada, project, &bob, "viewer").await;
    let path = format!("/api/v1/projects/{project}/posts");
    let post = json!({"title": "Launch", "body": ""});

    let first = server.post_keyed(&path, Some(&bob.access), &post, "bob-post").await;
    first.expect_problem(403, "forbidden");
    server.share(&ada, project, &bob, "editor").await;
    let replay = server.post_keyed(&path, Some(&bob.access), &post, "bob-post").await;

    assert_replayed(&first, &replay);
    server.post_keyed(&path, Some(&bob.access), &post, "bob-post-2").await.expect(201);
}

#[tokio::test]
async fn a_429_is_not_stored_and_the_retry_runs() {
    let server = TestServer::start_with(|c| {
        c.login_max_failures = 1;
        c.login_window = 1;
    })
    .await;
    server.register("ada").await.expect(201);
    server.login("ada", "wrong password").await.expect_problem(401, "invalid_credentials");
    let login = json!({"login": "ada", "password": PASSWORD});

    server.post_keyed("/api/v1/auth/login", None, &login, "late").await.expect_problem(429, "too_many_requests");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let retried = server.post_keyed("/api/v1/auth/login", None, &login, "late").await;

    retried.expect(200);
    assert_eq!(retried.header("idempotency-replayed"), None);
}

#[tokio::test]
async fn two_processes_on_one_storage_share_the_records() {
    let first = TestServer::start().await;
    let second = first.another_process(env!("CARGO_BIN_EXE_tessera-under-test")).await;
    let ada = first.user("ada").await;
    let body = json!({"name": "Apollo"});

    let made = first.post_keyed("/api/v1/projects", Some(&ada.access), &body, "across").await;
    made.expect(201);
    let replay = second.post_keyed("/api/v1/projects", Some(&ada.access), &body, "across").await;

    assert_replayed(&made, &replay);
    assert_eq!(projects_of(&second, &ada).await.len(), 1);
    second.stop().await;
}
