//! SQL-first: a list page is a fixed, small number of statements whatever its size (no N+1).
//! Counts the statements sqlx reports while the real server answers one request at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

use std::sync::{Mutex, OnceLock};

use serde_json::json;
use tessera_tests::http::TestServer;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records the summary of every statement sqlx executes.
struct StatementLog;

struct Summary(Option<String>);

impl Visit for Summary {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "summary" || (self.0.is_none() && field.name() == "db.statement") {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for StatementLog {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut summary = Summary(None);
            event.record(&mut summary);
            STATEMENTS.lock().unwrap().push(summary.0.unwrap_or_default());
        }
    }
}

fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(StatementLog))
            .expect("no other subscriber in this test binary");
    });
}

/// The statements one GET issues. Connection set-up (`PRAGMA …`, run once per new pooled
/// connection, which sqlx may open whenever a released connection is not back in the pool yet)
/// is not part of the page's cost and is left out.
async fn statements_of(server: &TestServer, path: &str, token: &str) -> Vec<String> {
    STATEMENTS.lock().unwrap().clear();
    server.get(path, Some(token)).await.expect(200);
    STATEMENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|s| !s.trim_start().to_uppercase().starts_with("PRAGMA"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_list_page_costs_the_same_few_statements_whatever_its_size() {
    install();
    let server = TestServer::start().await;
    let root = server.admin("root").await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Busy").await;
    let id = project["id"].as_str().unwrap().to_owned();
    server.share(&ada, &id, &root, "viewer").await;
    for i in 0..25 {
        server.create_project(&ada, &format!("P{i}")).await;
        server.create_post(&ada, &id, &format!("Post {i}"), "published").await;
        let member = server.user(&format!("member{i}")).await;
        server.share(&ada, &id, &member, "viewer").await;
    }

    let lists = [
        ("/api/v1/projects", &ada.access, 1),
        (&*format!("/api/v1/projects/{id}/members"), &ada.access, 2),
        (&*format!("/api/v1/projects/{id}/posts"), &ada.access, 2),
        (&*format!("/api/v1/creators/{}/posts", ada.user_id), &root.access, 2),
        ("/api/v1/users", &root.access, 2),
    ];
    for (path, token, expected) in lists {
        // Warm the pools so no connection set-up is counted.
        statements_of(&server, path, token).await;
        let small = statements_of(&server, &format!("{path}?limit=1"), token).await;
        let full = statements_of(&server, &format!("{path}?limit=20"), token).await;
        assert_eq!(full.len(), expected, "{path}: {full:#?}");
        assert_eq!(small.len(), full.len(), "{path}: the statement count grows with the page size: {small:#?}");
        assert!(full.iter().all(|s| !s.to_uppercase().starts_with("BEGIN")), "{path}: reads need no transaction");
    }

    // And reading one project: one statement with the owner and both counts joined in.
    let one = statements_of(&server, &format!("/api/v1/projects/{id}"), &ada.access).await;
    assert_eq!(one.len(), 1, "{one:#?}");
    let created = server
        .post(&format!("/api/v1/projects/{id}/posts"), Some(&ada.access), json!({"title": "x", "body": ""}))
        .await;
    created.expect(201);
}
