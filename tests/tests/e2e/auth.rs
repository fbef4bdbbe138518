//! Registration, login, refresh and logout.

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::{TestServer, PASSWORD};

#[tokio::test]
async fn registering_returns_the_user_with_location_and_etag() {
    let server = TestServer::start().await;

    let answer = server
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "  Ada@Example.COM ", "username": "Ada_L", "password": PASSWORD,
                   "first_name": "  Ada ", "last_name": "Lovelace"}),
        )
        .await;

    answer.expect(201);
    let user = &answer.body;
    let id = user["id"].as_str().unwrap();
    assert_eq!(answer.header("location"), Some(format!("/api/v1/users/{id}").as_str()));
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["username"], "ada_l");
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["role"], "user");
    assert_eq!(user["version"], 1);
    assert_eq!(user["avatar_url"], serde_json::Value::Null);
    assert!(user.get("password_hash").is_none() && !answer.text.contains("argon2"), "{}", answer.text);
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    let created = user["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z'), "UTC timestamps: {created}");
}

#[tokio::test]
async fn registering_reports_every_invalid_field_at_once() {
    let server = TestServer::start().await;

    let answer = server
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "no-at-sign", "username": "x", "password": "short", "first_name": "  ", "last_name": "L"}),
        )
        .await;

    answer.expect_problem(422, "validation_failed");
    let fields: Vec<_> =
        answer.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "username", "password", "first_name"]);
}

#[tokio::test]
async fn a_taken_email_or_username_is_a_conflict_whatever_the_case() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);

    let same_email = server
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "ADA@example.com", "username": "other", "password": PASSWORD, "first_name": "A", "last_name": "B"}),
        )
        .await;
    let same_username = server
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "else@example.com", "username": "ADA", "password": PASSWORD, "first_name": "A", "last_name": "B"}),
        )
        .await;

    same_email.expect_problem(409, "email_taken");
    same_username.expect_problem(409, "username_taken");
    server.login("else@example.com", PASSWORD).await.expect_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn concurrent_registrations_of_one_username_create_exactly_one_user() {
    let server = TestServer::start().await;

    let attempts = (0..8).map(|i| {
        server.post(
            "/api/v1/auth/register",
            None,
            json!({"email": format!("racer{i}@example.com"), "username": "racer", "password": PASSWORD,
                   "first_name": "R", "last_name": "Acer"}),
        )
    });
    let answers = futures::future::join_all(attempts).await;

    let created = answers.iter().filter(|a| a.status == 201).count();
    let conflicts = answers.iter().filter(|a| a.status == 409 && a.body["code"] == "username_taken").count();
    assert_eq!((created, conflicts), (1, 7), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
}

#[tokio::test]
async fn login_works_by_email_or_username_in_any_case() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);

    for login in ["ada", "ADA", "ada@example.com", " Ada@Example.com "] {
        let answer = server.login(login, PASSWORD).await;
        answer.expect(200);
        assert_eq!(answer.body["token_type"], "Bearer");
        assert_eq!(answer.body["expires_in"], 900);
        assert!(answer.body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3));
        assert!(answer.body["refresh_token"].as_str().is_some_and(|t| t.len() >= 43));
    }
}

#[tokio::test]
async fn an_unknown_login_and_a_wrong_password_get_the_same_answer() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);

    let unknown = server.login("nobody", PASSWORD).await;
    let wrong = server.login("ada", "wrong password").await;

    unknown.expect_problem(401, "invalid_credentials");
    wrong.expect_problem(401, "invalid_credentials");
    assert_eq!(unknown.body["detail"], wrong.body["detail"]);
    assert_eq!(unknown.body["title"], wrong.body["title"]);
    // Logins that can be nobody's are the same answer, on every backend (some refuse such keys).
    for odd in ["", "a\u{0}b", "x@y@z", &"x".repeat(5000), "\u{1F600}"] {
        server.login(odd, PASSWORD).await.expect_problem(401, "invalid_credentials");
    }
}

#[tokio::test]
async fn failed_logins_are_limited_per_account() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);
    server.register("bob").await.expect(201);

    for _ in 0..10 {
        server.login("ada", "wrong password").await.expect_problem(401, "invalid_credentials");
    }
    let blocked = server.login("ADA", PASSWORD).await;

    blocked.expect_problem(429, "too_many_requests");
    let retry_after: u64 = blocked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    server.login("bob", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn successful_logins_are_not_limited() {
    let server = TestServer::start_with(|c| c.login_max_failures = 2).await;
    server.register("ada").await.expect(201);

    for _ in 0..5 {
        server.login("ada", PASSWORD).await.expect(200);
    }
}

#[tokio::test]
async fn refresh_rotates_and_spends_the_presented_token() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    let refreshed = server.post("/api/v1/auth/refresh", None, json!({"refresh_token": ada.refresh})).await;

    refreshed.expect(200);
    let next = refreshed.body["refresh_token"].as_str().unwrap();
    assert_ne!(next, ada.refresh);
    let access = refreshed.body["access_token"].as_str().unwrap();
    server.get("/api/v1/users/me", Some(access)).await.expect(200);
    server.post("/api/v1/auth/refresh", None, json!({"refresh_token": next})).await.expect(200);
}

#[tokio::test]
async fn presenting_a_spent_refresh_token_ends_that_login_only() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let other_login = server.session(&ada.user_id, "ada").await;
    let refreshed = server.post("/api/v1/auth/refresh", None, json!({"refresh_token": ada.refresh})).await;
    let newest = refreshed.body["refresh_token"].as_str().unwrap().to_owned();

    let reuse = server.post("/api/v1/auth/refresh", None, json!({"refresh_token": ada.refresh})).await;

    reuse.expect_problem(401, "refresh_token_reused");
    server
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": newest}))
        .await
        .expect_problem(401, "invalid_refresh_token");
    server.post("/api/v1/auth/refresh", None, json!({"refresh_token": other_login.refresh})).await.expect(200);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_let_exactly_one_through() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    let attempts = (0..4).map(|_| server.post("/api/v1/auth/refresh", None, json!({"refresh_token": ada.refresh})));
    let answers = futures::future::join_all(attempts).await;

    let ok = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(ok, 1, "{:?}", answers.iter().map(|a| (a.status, a.body["code"].clone())).collect::<Vec<_>>());
    assert!(answers.iter().filter(|a| a.status != 200).all(|a| a.status == 401));
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let server = TestServer::start().await;
    server
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": "made-up"}))
        .await
        .expect_problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn logout_ends_the_login_and_is_idempotent() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    for _ in 0..2 {
        server.post("/api/v1/auth/logout", None, json!({"refresh_token": ada.refresh})).await.expect(204);
    }
    server.post("/api/v1/auth/logout", None, json!({"refresh_token": "never-issued"})).await.expect(204);

    server
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": ada.refresh}))
        .await
        .expect_problem(401, "invalid_refresh_token");
    // Access tokens are stateless: they stay valid until they expire.
    server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
}

#[tokio::test]
async fn auth_operations_need_no_bearer_token_and_ignore_a_bad_one() {
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);
    let answer = server
        .send(Method::POST, "/api/v1/auth/login", Some("garbage"), Some(json!({"login": "ada", "password": PASSWORD})))
        .await;
    answer.expect(200);
}
