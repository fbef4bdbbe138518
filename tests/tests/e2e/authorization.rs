//! The authorisation matrix: every project-scoped operation, as the owner, an editor, a viewer
//! and an unrelated user. Each role gets a fresh world, and destructive operations run last.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_tests::http::{Session, TestServer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    Editor,
    Viewer,
    Stranger,
}

struct World {
    owner: Session,
    editor: Session,
    viewer: Session,
    stranger: Session,
    newcomer: Session,
    removable: Session,
    project: String,
    published: String,
    draft: String,
    editors_post: String,
}

impl World {
    async fn build(server: &TestServer) -> Self {
        let owner = server.user("owner").await;
        let editor = server.user("editor").await;
        let viewer = server.user("viewer").await;
        let stranger = server.user("stranger").await;
        let newcomer = server.user("newcomer").await;
        let removable = server.user("removable").await;
        let project = server.create_project(&owner, "Matrix").await["id"].as_str().unwrap().to_owned();
        server.share(&owner, &project, &editor, "editor").await;
        server.share(&owner, &project, &viewer, "viewer").await;
        server.share(&owner, &project, &removable, "viewer").await;
        let id = |v: Value| v["id"].as_str().unwrap().to_owned();
        let published = id(server.create_post(&owner, &project, "Published", "published").await);
        let draft = id(server.create_post(&owner, &project, "Draft", "draft").await);
        let editors_post = id(server.create_post(&editor, &project, "Editor's", "published").await);
        Self { owner, editor, viewer, stranger, newcomer, removable, project, published, draft, editors_post }
    }

    fn caller(&self, who: Who) -> &Session {
        match who {
            Who::Owner => &self.owner,
            Who::Editor => &self.editor,
            Who::Viewer => &self.viewer,
            Who::Stranger => &self.stranger,
        }
    }
}

/// (operation, expected status as owner, editor, viewer, stranger), in the order they run.
const MATRIX: &[(&str, [u16; 4])] = &[
    ("get_project", [200, 200, 200, 404]),
    ("update_project", [200, 200, 403, 404]),
    ("list_members", [200, 200, 200, 404]),
    ("put_member", [201, 403, 403, 404]),
    ("list_project_posts", [200, 200, 200, 404]),
    ("create_post", [201, 201, 403, 404]),
    ("get_published_post", [200, 200, 200, 404]),
    ("get_draft_post", [200, 200, 404, 404]),
    ("update_owners_post", [200, 403, 403, 404]),
    ("update_editors_post", [200, 200, 403, 404]),
    ("delete_editors_post", [204, 204, 403, 404]),
    ("remove_other_member", [204, 403, 403, 404]),
    ("delete_project", [204, 403, 403, 404]),
];

async fn run(server: &TestServer, world: &World, who: Who, operation: &str) -> (u16, Value) {
    let token = world.caller(who).access.as_str();
    let project = format!("/api/v1/projects/{}", world.project);
    let post = |id: &str| format!("/api/v1/posts/{id}");
    let answer = match operation {
        "get_project" => server.get(&project, Some(token)).await,
        "update_project" => server.send(Method::PATCH, &project, Some(token), Some(json!({"description": "x"}))).await,
        "list_members" => server.get(&format!("{project}/members"), Some(token)).await,
        "put_member" => {
            let path = format!("{project}/members/{}", world.newcomer.user_id);
            server.send(Method::PUT, &path, Some(token), Some(json!({"role": "viewer"}))).await
        }
        "list_project_posts" => server.get(&format!("{project}/posts"), Some(token)).await,
        "create_post" => {
            server.post(&format!("{project}/posts"), Some(token), json!({"title": "New", "body": ""})).await
        }
        "get_published_post" => server.get(&post(&world.published), Some(token)).await,
        "get_draft_post" => server.get(&post(&world.draft), Some(token)).await,
        "update_owners_post" => {
            server.send(Method::PATCH, &post(&world.published), Some(token), Some(json!({"body": "edit"}))).await
        }
        "update_editors_post" => {
            server.send(Method::PATCH, &post(&world.editors_post), Some(token), Some(json!({"body": "edit"}))).await
        }
        "delete_editors_post" => server.send(Method::DELETE, &post(&world.editors_post), Some(token), None).await,
        "remove_other_member" => {
            let path = format!("{project}/members/{}", world.removable.user_id);
            server.send(Method::DELETE, &path, Some(token), None).await
        }
        "delete_project" => server.send(Method::DELETE, &project, Some(token), None).await,
        other => panic!("unknown operation {other}"),
    };
    (answer.status.as_u16(), answer.body)
}

async fn check(who: Who, column: usize) {
    let server = TestServer::start().await;
    let world = World::build(&server).await;
    for (operation, expected) in MATRIX {
        let (status, body) = run(&server, &world, who, operation).await;
        assert_eq!(status, expected[column], "{who:?} {operation}: {body}");
        match status {
            403 => assert_eq!(body["code"], "forbidden"),
            404 => assert!(body["code"].as_str().is_some_and(|c| c.ends_with("_not_found")), "{body}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_owner_may_do_everything() {
    check(Who::Owner, 0).await;
}

#[tokio::test]
async fn an_editor_writes_posts_and_edits_the_project_but_does_not_manage_it() {
    check(Who::Editor, 1).await;
}

#[tokio::test]
async fn a_viewer_only_reads_published_things() {
    check(Who::Viewer, 2).await;
}

#[tokio::test]
async fn a_stranger_sees_nothing_at_all() {
    check(Who::Stranger, 3).await;
}

#[tokio::test]
async fn creator_posts_show_each_caller_what_their_role_allows() {
    let server = TestServer::start().await;
    let world = World::build(&server).await;
    let path = format!("/api/v1/creators/{}/posts", world.owner.user_id);
    for (who, count) in [(Who::Owner, 2), (Who::Editor, 2), (Who::Viewer, 1), (Who::Stranger, 0)] {
        let seen = server.walk(&path, &world.caller(who).access, 20).await;
        assert_eq!(seen.len(), count, "{who:?}");
    }
}
