//! Projects: create, list, read, change, delete.

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::TestServer;

#[tokio::test]
async fn creating_a_project_makes_the_caller_its_owner() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    let answer =
        server.post("/api/v1/projects", Some(&ada.access), json!({"name": "  Apollo ", "description": "Moon"})).await;

    answer.expect(201);
    let p = &answer.body;
    let id = p["id"].as_str().unwrap();
    assert_eq!(answer.header("location"), Some(format!("/api/v1/projects/{id}").as_str()));
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert_eq!(p["name"], "Apollo");
    assert_eq!(p["description"], "Moon");
    assert_eq!(p["my_role"], "owner");
    assert_eq!(p["owner"]["id"], ada.user_id.as_str());
    assert_eq!(p["owner"]["username"], "ada");
    assert!(p["owner"].get("email").is_none(), "the owner is a public profile");
    assert_eq!((p["member_count"].as_i64(), p["post_count"].as_i64()), (Some(1), Some(0)));
    assert_eq!(p["version"], 1);

    let read = server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await;
    read.expect(200);
    assert_eq!(read.body, answer.body);
    assert_eq!(read.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn a_project_without_a_description_has_an_empty_one_and_bad_fields_are_422() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;

    let bare = server.post("/api/v1/projects", Some(&ada.access), json!({"name": "Bare"})).await;
    bare.expect(201);
    assert_eq!(bare.body["description"], "");

    let bad = server
        .post("/api/v1/projects", Some(&ada.access), json!({"name": "   ", "description": "d".repeat(2001)}))
        .await;
    bad.expect_problem(422, "validation_failed");
    let fields: Vec<_> = bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, ["name", "description"]);
    server.post("/api/v1/projects", Some(&ada.access), json!({})).await.expect_problem(400, "malformed_request");
}

#[tokio::test]
async fn the_project_list_holds_mine_and_shared_ones_newest_first() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;
    let first = server.create_project(&ada, "First").await;
    let shared = server.create_project(&bob, "Shared").await;
    server.share(&bob, shared["id"].as_str().unwrap(), &ada, "viewer").await;
    let _bobs_own = server.create_project(&bob, "Bob's own").await;
    let last = server.create_project(&ada, "Last").await;

    let items = server.walk("/api/v1/projects", &ada.access, 2).await;

    let names: Vec<_> = items.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Last", "Shared", "First"]);
    assert_eq!(items[1]["my_role"], "viewer");
    assert_eq!(items[1]["member_count"], 2);
    assert_eq!(items[0]["id"], last["id"]);
    assert_eq!(items[2]["id"], first["id"]);
}

#[tokio::test]
async fn a_project_of_others_is_not_found() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let eve = server.user("eve").await;
    let project = server.create_project(&ada, "Secret").await;
    let path = format!("/api/v1/projects/{}", project["id"].as_str().unwrap());

    server.get(&path, Some(&eve.access)).await.expect_problem(404, "project_not_found");
    let missing = format!("/api/v1/projects/{}", uuid::Uuid::now_v7());
    server.get(&missing, Some(&ada.access)).await.expect_problem(404, "project_not_found");
    server.get("/api/v1/projects/nope", Some(&ada.access)).await.expect_problem(400, "malformed_request");
}

#[tokio::test]
async fn patching_a_project_honours_if_match() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let path = format!("/api/v1/projects/{}", project["id"].as_str().unwrap());

    let renamed =
        server.send_if(Method::PATCH, &path, &ada.access, Some(json!({"name": "Artemis"})), Some("\"1\"")).await;
    renamed.expect(200);
    assert_eq!(renamed.body["name"], "Artemis");
    assert_eq!(renamed.body["version"], 2);
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    assert_ne!(renamed.body["updated_at"], project["updated_at"]);

    let stale = server.send_if(Method::PATCH, &path, &ada.access, Some(json!({"name": "Stale"})), Some("\"1\"")).await;
    stale.expect_problem(412, "version_mismatch");
    assert_eq!(server.get(&path, Some(&ada.access)).await.body["name"], "Artemis");

    let invalid = server.send_if(Method::PATCH, &path, &ada.access, Some(json!({"name": ""})), None).await;
    invalid.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn deleting_a_project_takes_its_members_and_posts_with_it() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;
    let project = server.create_project(&ada, "Doomed").await;
    let id = project["id"].as_str().unwrap();
    server.share(&ada, id, &bob, "editor").await;
    let post = server.create_post(&bob, id, "Bob's post", "published").await;
    let path = format!("/api/v1/projects/{id}");

    server
        .send_if(Method::DELETE, &path, &ada.access, None, Some("\"7\""))
        .await
        .expect_problem(412, "version_mismatch");
    server.send_if(Method::DELETE, &path, &ada.access, None, Some("\"1\"")).await.expect(204);

    server.get(&path, Some(&ada.access)).await.expect_problem(404, "project_not_found");
    let post_path = format!("/api/v1/posts/{}", post["id"].as_str().unwrap());
    server.get(&post_path, Some(&bob.access)).await.expect_problem(404, "post_not_found");
    assert!(server.walk("/api/v1/projects", &bob.access, 20).await.is_empty());
    let bobs_posts = server.walk(&format!("/api/v1/creators/{}/posts", bob.user_id), &bob.access, 20).await;
    assert!(bobs_posts.is_empty());
}

#[tokio::test]
async fn twenty_concurrent_patches_with_one_if_match_let_exactly_one_through() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Contended").await;
    let path = format!("/api/v1/projects/{}", project["id"].as_str().unwrap());

    let patches = (0..20).map(|i| {
        server.send_if(Method::PATCH, &path, &ada.access, Some(json!({"name": format!("Name {i}")})), Some("\"1\""))
    });
    let answers = futures::future::join_all(patches).await;

    let ok = answers.iter().filter(|a| a.status == 200).count();
    let stale = answers.iter().filter(|a| a.status == 412 && a.body["code"] == "version_mismatch").count();
    assert_eq!((ok, stale), (1, 19));
    assert_eq!(server.get(&path, Some(&ada.access)).await.body["version"], 2);
}
