//! Posts: slugs, publication, visibility, versions, and a creator's posts.

use reqwest::Method;
use serde_json::json;
use tessera_tests::http::TestServer;

#[tokio::test]
async fn a_new_post_gets_a_slug_location_and_etag() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let id = project["id"].as_str().unwrap();

    let answer = server
        .post(
            &format!("/api/v1/projects/{id}/posts"),
            Some(&ada.access),
            json!({"title": "Hello, World!", "body": "Hi."}),
        )
        .await;

    answer.expect(201);
    let post = &answer.body;
    assert_eq!(answer.header("location"), Some(format!("/api/v1/posts/{}", post["id"].as_str().unwrap()).as_str()));
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert_eq!(post["slug"], "hello-world");
    assert_eq!(post["status"], "draft");
    assert_eq!(post["project_id"], id);
    assert_eq!(post["creator"]["username"], "ada");
    assert_eq!(post["updated_at"], serde_json::Value::Null);
    assert_eq!(post["published_at"], serde_json::Value::Null);

    let second = server.create_post(&ada, id, "Hello world", "published").await;
    assert_eq!(second["slug"], "hello-world-2");
    assert_eq!(second["published_at"], second["created_at"]);
    assert_eq!(server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await.body["post_count"], 2);
}

#[tokio::test]
async fn bad_posts_are_422_and_unknown_projects_404() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let path = format!("/api/v1/projects/{}/posts", project["id"].as_str().unwrap());

    let bad = server.post(&path, Some(&ada.access), json!({"title": " ", "body": "b".repeat(100_001)})).await;
    bad.expect_problem(422, "validation_failed");
    assert_eq!(bad.body["errors"].as_array().map(Vec::len), Some(2));
    server
        .post(&path, Some(&ada.access), json!({"title": "x", "body": "", "status": "live"}))
        .await
        .expect_problem(400, "malformed_request");
    let missing = format!("/api/v1/projects/{}/posts", uuid::Uuid::now_v7());
    server
        .post(&missing, Some(&ada.access), json!({"title": "x", "body": ""}))
        .await
        .expect_problem(404, "project_not_found");
}

#[tokio::test]
async fn published_at_is_set_once_and_the_slug_stays() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let post = server.create_post(&ada, project["id"].as_str().unwrap(), "Draft one", "draft").await;
    let path = format!("/api/v1/posts/{}", post["id"].as_str().unwrap());
    let patch = |body: serde_json::Value, if_match: Option<&'static str>| {
        server.send_if(Method::PATCH, &path, &ada.access, Some(body), if_match)
    };

    let published = patch(json!({"status": "published"}), Some("\"1\"")).await;
    published.expect(200);
    let first_published = published.body["published_at"].clone();
    assert!(first_published.is_string());
    assert_eq!(published.body["updated_at"], first_published);
    assert_eq!(published.header("etag"), Some("\"2\""));

    let back = patch(json!({"status": "draft", "title": "Renamed"}), None).await;
    back.expect(200);
    assert_eq!(back.body["published_at"], first_published);
    assert_eq!(back.body["slug"], "draft-one", "slugs are permanent");
    let again = patch(json!({"status": "published"}), None).await;
    assert_eq!(again.body["published_at"], first_published);
    assert_eq!(again.body["version"], 4);

    patch(json!({"body": "stale"}), Some("\"2\"")).await.expect_problem(412, "version_mismatch");
    patch(json!({"title": ""}), None).await.expect_problem(422, "validation_failed");
    server
        .send_if(Method::DELETE, &path, &ada.access, None, Some("\"1\""))
        .await
        .expect_problem(412, "version_mismatch");
    server.send_if(Method::DELETE, &path, &ada.access, None, Some("\"4\"")).await.expect(204);
    server.get(&path, Some(&ada.access)).await.expect_problem(404, "post_not_found");
}

#[tokio::test]
async fn one_422_names_a_null_field_and_every_other_bad_field() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Apollo").await;
    let post = server.create_post(&ada, project["id"].as_str().unwrap(), "Draft one", "draft").await;
    let path = format!("/api/v1/posts/{}", post["id"].as_str().unwrap());
    let body = json!({"status": null, "title": "x".repeat(300)});

    for if_match in [None, Some("W/\"1\"")] {
        let bad = server.send_if(Method::PATCH, &path, &ada.access, Some(body.clone()), if_match).await;

        bad.expect_problem(422, "validation_failed");
        let errors = bad.body["errors"].as_array().cloned().unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| e["field"].as_str().unwrap_or_default()).collect();
        assert_eq!(fields, ["title", "status"], "every bad field, in the schema's order: {}", bad.text);
        assert_eq!(errors[1]["message"], "must not be null; leave it out to keep the value", "{}", bad.text);
    }
    assert_eq!(server.get(&path, Some(&ada.access)).await.body["version"], 1, "nothing changed");
}

#[tokio::test]
async fn viewers_see_published_posts_only() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let vic = server.user("vic").await;
    let project = server.create_project(&ada, "Apollo").await;
    let id = project["id"].as_str().unwrap();
    server.share(&ada, id, &vic, "viewer").await;
    let draft = server.create_post(&ada, id, "Secret draft", "draft").await;
    let public = server.create_post(&ada, id, "Public", "published").await;
    let posts = format!("/api/v1/projects/{id}/posts");

    let seen = server.walk(&posts, &vic.access, 20).await;
    assert_eq!(seen.iter().map(|p| p["id"].clone()).collect::<Vec<_>>(), [public["id"].clone()]);
    assert!(server.walk(&format!("{posts}?status=draft"), &vic.access, 20).await.is_empty());
    let draft_path = format!("/api/v1/posts/{}", draft["id"].as_str().unwrap());
    server.get(&draft_path, Some(&vic.access)).await.expect_problem(404, "post_not_found");

    let owner_sees = server.walk(&posts, &ada.access, 20).await;
    assert_eq!(owner_sees.len(), 2);
    let drafts = server.walk(&format!("{posts}?status=draft"), &ada.access, 20).await;
    assert_eq!(drafts.iter().map(|p| p["id"].clone()).collect::<Vec<_>>(), [draft["id"].clone()]);
    server.get(&format!("{posts}?status=bogus"), Some(&ada.access)).await.expect_problem(400, "malformed_request");
}

#[tokio::test]
async fn a_creators_posts_span_the_projects_the_caller_can_see() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let vic = server.user("vic").await;
    let viewed = server.create_project(&ada, "Viewed").await;
    let edited = server.create_project(&ada, "Edited").await;
    let private = server.create_project(&ada, "Private").await;
    server.share(&ada, viewed["id"].as_str().unwrap(), &vic, "viewer").await;
    server.share(&ada, edited["id"].as_str().unwrap(), &vic, "editor").await;
    let p1 = server.create_post(&ada, viewed["id"].as_str().unwrap(), "Published in viewed", "published").await;
    let _d1 = server.create_post(&ada, viewed["id"].as_str().unwrap(), "Draft in viewed", "draft").await;
    let d2 = server.create_post(&ada, edited["id"].as_str().unwrap(), "Draft in edited", "draft").await;
    let _p3 = server.create_post(&ada, private["id"].as_str().unwrap(), "Private", "published").await;
    let _vics = server.create_post(&vic, edited["id"].as_str().unwrap(), "By vic", "published").await;

    let path = format!("/api/v1/creators/{}/posts", ada.user_id);
    let seen = server.walk(&path, &vic.access, 1).await;

    assert_eq!(seen.iter().map(|p| p["id"].clone()).collect::<Vec<_>>(), [d2["id"].clone(), p1["id"].clone()]);
    assert!(seen.iter().all(|p| p["creator"]["username"] == "ada"));
    assert_eq!(server.walk(&path, &ada.access, 2).await.len(), 4);
    let missing = format!("/api/v1/creators/{}/posts", uuid::Uuid::now_v7());
    server.get(&missing, Some(&vic.access)).await.expect_problem(404, "user_not_found");
}

#[tokio::test]
async fn thirty_concurrent_posts_with_one_title_get_thirty_slugs() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Busy").await;
    let id = project["id"].as_str().unwrap();
    let path = format!("/api/v1/projects/{id}/posts");

    let creations = (0..30).map(|_| server.post(&path, Some(&ada.access), json!({"title": "Same title", "body": ""})));
    let answers = futures::future::join_all(creations).await;

    assert!(answers.iter().all(|a| a.status == 201), "{:?}", answers.iter().map(|a| &a.text).collect::<Vec<_>>());
    let mut slugs: Vec<_> = answers.iter().map(|a| a.body["slug"].as_str().unwrap().to_owned()).collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 30);
    assert!(slugs.contains(&"same-title".to_owned()) && slugs.contains(&"same-title-30".to_owned()));
    assert_eq!(server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await.body["post_count"], 30);
}

#[tokio::test]
async fn a_walk_with_writes_between_pages_neither_repeats_nor_skips() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Walk").await;
    let id = project["id"].as_str().unwrap();
    let mut originals = Vec::new();
    for i in 0..12 {
        originals.push(server.create_post(&ada, id, &format!("Post {i}"), "published").await["id"].clone());
    }
    originals.reverse();
    let path = format!("/api/v1/projects/{id}/posts");

    let mut seen = Vec::new();
    let mut next = format!("{path}?limit=5");
    loop {
        let page = server.get(&next, Some(&ada.access)).await;
        page.expect(200);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|p| p["id"].clone()));
        // New posts sort before everything walked so far; they must not disturb the walk.
        server.create_post(&ada, id, "Interloper", "published").await;
        match page.body["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, originals);
}

/// API.md: a page also stops early once its items reach about 1 MiB of JSON, and `next_cursor`
/// is null exactly at the end. Twelve posts of ~400 KB (100,000 four-byte characters) walked
/// with `limit=100`: short pages with cursors, every post once, on both lists of posts.
#[tokio::test]
async fn pages_of_large_posts_are_short_with_cursors_and_hold_every_post_once() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let vic = server.user("vic").await;
    let project = server.create_project(&ada, "Heavy").await;
    let id = project["id"].as_str().unwrap();
    server.share(&ada, id, &vic, "viewer").await;
    let body = "\u{1F600}".repeat(100_000);
    let mut created = Vec::new();
    for i in 0..12 {
        let new = json!({"title": format!("Heavy {i}"), "body": body, "status": "published"});
        let answer = server.post(&format!("/api/v1/projects/{id}/posts"), Some(&ada.access), new).await;
        answer.expect(201);
        created.insert(0, answer.body["id"].clone());
    }

    for path in [format!("/api/v1/projects/{id}/posts"), format!("/api/v1/creators/{}/posts", ada.user_id)] {
        let mut seen = Vec::new();
        let mut pages = Vec::new();
        let mut next = format!("{path}?limit=100");
        loop {
            let page = server.get(&next, Some(&vic.access)).await;
            page.expect(200);
            let items = page.body["items"].as_array().unwrap();
            assert!(items.iter().all(|p| p["body"].as_str() == Some(body.as_str())), "{path}: whole posts");
            seen.extend(items.iter().map(|p| p["id"].clone()));
            pages.push((items.len(), page.text.len()));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => next = format!("{path}?limit=100&cursor={cursor}"),
                None => break,
            }
            assert!(pages.len() < 12, "{path}: the walk does not end: {pages:?}");
        }

        assert_eq!(seen, created, "{path}: every post once, newest first");
        // Two posts take ~800 KB; a third would pass 1 MiB.
        assert!(pages.iter().all(|&(items, bytes)| items == 2 && bytes < 1024 * 1024), "{path}: {pages:?}");
    }
}

#[tokio::test]
async fn cursors_are_bound_to_their_list() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "A").await;
    let other = server.create_project(&ada, "B").await;
    for i in 0..3 {
        server.create_post(&ada, project["id"].as_str().unwrap(), &format!("P{i}"), "published").await;
    }
    let path = format!("/api/v1/projects/{}/posts", project["id"].as_str().unwrap());
    let page = server.get(&format!("{path}?limit=1"), Some(&ada.access)).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();

    let other_path = format!("/api/v1/projects/{}/posts", other["id"].as_str().unwrap());
    for foreign in [
        format!("{other_path}?cursor={cursor}"),
        format!("{path}?status=draft&cursor={cursor}"),
        format!("/api/v1/projects?cursor={cursor}"),
        format!("{path}?cursor={cursor}x"),
    ] {
        server.get(&foreign, Some(&ada.access)).await.expect_problem(400, "invalid_cursor");
    }
}
