//! The caller's own record, password changes, public profiles and the admin list.

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::{TestServer, PASSWORD};

#[tokio::test]
async fn me_is_the_callers_record_with_its_etag() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    let me = server.get("/api/v1/users/me", Some(&ada.access)).await;

    me.expect(200);
    assert_eq!(me.body["id"], ada.user_id.as_str());
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(me.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn patching_me_changes_only_the_given_fields_and_bumps_the_version() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    let patched = server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.access),
            Some(json!({"first_name": " Augusta ", "avatar_url": "https://example.com/a.png"})),
        )
        .await;

    patched.expect(200);
    assert_eq!(patched.body["first_name"], "Augusta");
    assert_eq!(patched.body["last_name"], "ada");
    assert_eq!(patched.body["avatar_url"], "https://example.com/a.png");
    assert_eq!(patched.body["version"], 2);
    assert_eq!(patched.header("etag"), Some("\"2\""));

    let cleared =
        server.send(Method::PATCH, "/api/v1/users/me", Some(&ada.access), Some(json!({"avatar_url": null}))).await;
    cleared.expect(200);
    assert_eq!(cleared.body["avatar_url"], serde_json::Value::Null);
    assert_eq!(cleared.body["version"], 3);

    let unchanged = server.send(Method::PATCH, "/api/v1/users/me", Some(&ada.access), Some(json!({}))).await;
    unchanged.expect(200);
    assert_eq!(unchanged.body["version"], 3, "an empty patch writes nothing");
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    server
        .send(Method::PATCH, "/api/v1/users/me", Some(&ada.access), Some(json!({"last_name": "Byron"})))
        .await
        .expect(200);

    let patch = |if_match: &'static str| {
        server.answer(
            server
                .client
                .patch(format!("{}/api/v1/users/me", server.base))
                .bearer_auth(&ada.access)
                .header("if-match", if_match)
                .json(&json!({"first_name": "Stale"})),
        )
    };
    patch("\"1\"").await.expect_problem(412, "version_mismatch");
    patch("W/\"2\"").await.expect_problem(412, "version_mismatch");
    let me = server.get("/api/v1/users/me", Some(&ada.access)).await;
    assert_eq!(me.body["first_name"], "Test");
    assert_eq!(me.body["version"], 2);

    let fresh = patch("\"2\"").await;
    fresh.expect(200);
    assert_eq!(fresh.body["first_name"], "Stale");
}

#[tokio::test]
async fn renaming_to_a_taken_username_is_409_and_bad_fields_are_422() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    server.register("bob").await.expect(201);

    server
        .send(Method::PATCH, "/api/v1/users/me", Some(&ada.access), Some(json!({"username": "BOB"})))
        .await
        .expect_problem(409, "username_taken");
    let invalid = server
        .send(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&ada.access),
            Some(json!({"first_name": "", "avatar_url": "javascript:alert(1)"})),
        )
        .await;
    invalid.expect_problem(422, "validation_failed");
    assert_eq!(invalid.body["errors"].as_array().map(Vec::len), Some(2));
    let null =
        server.send(Method::PATCH, "/api/v1/users/me", Some(&ada.access), Some(json!({"first_name": null}))).await;
    null.expect_problem(422, "validation_failed");
    assert_eq!(null.body["errors"][0]["field"], "first_name");
    assert_eq!(server.get("/api/v1/users/me", Some(&ada.access)).await.body["version"], 1);
}

#[tokio::test]
async fn changing_the_password_ends_every_login() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let second = server.session(&ada.user_id, "ada").await;
    let put =
        |body: serde_json::Value| server.send(Method::PUT, "/api/v1/users/me/password", Some(&ada.access), Some(body));

    put(json!({"current_password": "wrong guess", "new_password": "brand new pw"}))
        .await
        .expect_problem(403, "invalid_credentials");
    put(json!({"current_password": PASSWORD, "new_password": "short"})).await.expect_problem(422, "validation_failed");
    put(json!({"current_password": PASSWORD, "new_password": "brand new pw"})).await.expect(204);

    for refresh in [&ada.refresh, &second.refresh] {
        server
            .post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh}))
            .await
            .expect_problem(401, "invalid_refresh_token");
    }
    server.login("ada", PASSWORD).await.expect_problem(401, "invalid_credentials");
    let fresh = server.login("ada", "brand new pw").await;
    fresh.expect(200);
    let refresh = fresh.body["refresh_token"].as_str().unwrap();
    server.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await.expect(200);
}

#[tokio::test]
async fn a_public_profile_shows_no_private_fields() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;

    let profile = server.get(&format!("/api/v1/users/{}", ada.user_id), Some(&bob.access)).await;

    profile.expect(200);
    let mut keys: Vec<_> = profile.body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["avatar_url", "created_at", "first_name", "id", "last_name", "username"]);
    server
        .get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), Some(&bob.access))
        .await
        .expect_problem(404, "user_not_found");
    server.get("/api/v1/users/not-a-uuid", Some(&bob.access)).await.expect_problem(400, "malformed_request");
}

#[tokio::test]
async fn only_admins_list_users() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    server.get("/api/v1/users", Some(&ada.access)).await.expect_problem(403, "forbidden");
}

#[tokio::test]
async fn the_admin_list_pages_by_username_with_signed_cursors() {
    let server = TestServer::start().await;
    let root = server.admin("root").await;
    for name in ["dora", "ada", "carl", "bob", "abe"] {
        server.register(name).await.expect(201);
    }

    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_owned();
    let mut cursors = Vec::new();
    loop {
        let page = server.get(&path, Some(&root.access)).await;
        page.expect(200);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                cursors.push(cursor.to_owned());
                path = format!("/api/v1/users?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen, ["abe", "ada", "bob", "carl", "dora", "root"]);

    let filtered = server.get("/api/v1/users?username_prefix=A", Some(&root.access)).await;
    let names: Vec<_> = filtered.body["items"].as_array().unwrap().iter().map(|u| u["username"].clone()).collect();
    assert_eq!(names, ["abe", "ada"]);
    assert_eq!(filtered.body["next_cursor"], serde_json::Value::Null);

    let cursor = &cursors[0];
    let mut altered = cursor.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    server
        .get(&format!("/api/v1/users?cursor={altered}"), Some(&root.access))
        .await
        .expect_problem(400, "invalid_cursor");
    server
        .get(&format!("/api/v1/users?username_prefix=a&cursor={cursor}"), Some(&root.access))
        .await
        .expect_problem(400, "invalid_cursor");
    for bad in ["limit=0", "limit=101", "limit=ten", "username_prefix=a-b"] {
        server.get(&format!("/api/v1/users?{bad}"), Some(&root.access)).await.expect_problem(400, "malformed_request");
    }
}
