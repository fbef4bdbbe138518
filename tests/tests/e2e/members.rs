//! Sharing: adding, re-roling, listing, removing and leaving.

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::TestServer;

#[tokio::test]
async fn putting_a_member_adds_then_updates() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;
    let project = server.create_project(&ada, "Apollo").await;
    let id = project["id"].as_str().unwrap();
    let path = format!("/api/v1/projects/{id}/members/{}", bob.user_id);
    let put = |role: &'static str| server.send(Method::PUT, &path, Some(&ada.access), Some(json!({"role": role})));

    let added = put("viewer").await;
    added.expect(201);
    assert_eq!(added.body["role"], "viewer");
    assert_eq!(added.body["user"]["username"], "bob");
    let same = put("viewer").await;
    same.expect(200);
    assert_eq!(same.body["added_at"], added.body["added_at"]);
    let promoted = put("editor").await;
    promoted.expect(200);
    assert_eq!(promoted.body["role"], "editor");

    put("owner").await.expect_problem(400, "malformed_request");
    let members = server.walk(&format!("/api/v1/projects/{id}/members"), &bob.access, 1).await;
    let roles: Vec<_> = members.iter().map(|m| (m["user"]["username"].clone(), m["role"].clone())).collect();
    assert_eq!(roles, [(json!("ada"), json!("owner")), (json!("bob"), json!("editor"))]);
    assert_eq!(server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await.body["member_count"], 2);
}

#[tokio::test]
async fn the_owners_membership_cannot_change() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let path = format!("/api/v1/projects/{}/members/{}", project["id"].as_str().unwrap(), ada.user_id);

    server
        .send(Method::PUT, &path, Some(&ada.access), Some(json!({"role": "viewer"})))
        .await
        .expect_problem(422, "cannot_change_owner");
    server.send(Method::DELETE, &path, Some(&ada.access), None).await.expect_problem(422, "cannot_change_owner");
}

#[tokio::test]
async fn sharing_with_an_unknown_user_or_in_an_unknown_project_is_404() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let nobody = uuid::Uuid::now_v7();

    server
        .send(
            Method::PUT,
            &format!("/api/v1/projects/{}/members/{nobody}", project["id"].as_str().unwrap()),
            Some(&ada.access),
            Some(json!({"role": "viewer"})),
        )
        .await
        .expect_problem(404, "user_not_found");
    server
        .send(
            Method::PUT,
            &format!("/api/v1/projects/{nobody}/members/{}", ada.user_id),
            Some(&ada.access),
            Some(json!({"role": "viewer"})),
        )
        .await
        .expect_problem(404, "project_not_found");
}

#[tokio::test]
async fn a_member_can_leave_and_the_owner_can_remove_members() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;
    let cat = server.user("cat").await;
    let project = server.create_project(&ada, "Apollo").await;
    let id = project["id"].as_str().unwrap();
    server.share(&ada, id, &bob, "viewer").await;
    server.share(&ada, id, &cat, "editor").await;
    let member = |who: &str| format!("/api/v1/projects/{id}/members/{who}");

    server.send(Method::DELETE, &member(&cat.user_id), Some(&bob.access), None).await.expect_problem(403, "forbidden");
    server.send(Method::DELETE, &member(&bob.user_id), Some(&bob.access), None).await.expect(204);
    server.get(&format!("/api/v1/projects/{id}"), Some(&bob.access)).await.expect_problem(404, "project_not_found");
    server.send(Method::DELETE, &member(&cat.user_id), Some(&ada.access), None).await.expect(204);
    server
        .send(Method::DELETE, &member(&cat.user_id), Some(&ada.access), None)
        .await
        .expect_problem(404, "member_not_found");
    assert_eq!(server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await.body["member_count"], 1);
}
