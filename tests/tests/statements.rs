//! A list page costs a fixed, small number of storage calls whatever its size (no N+1): SQL
//! statements as sqlx reports them, DynamoDB calls as the adapter's SDK interceptor logs them
//! (every attempt, retries included), while the real server answers one request at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

use std::sync::{Mutex, OnceLock};

use reqwest::Method;
use serde_json::json;
use tessera_tests::backend::TestBackend;
use tessera_tests::files::UploadOptions;
use tessera_tests::http::{TestServer, PASSWORD};
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
        match event.metadata().target() {
            "sqlx::query" => {
                let mut summary = Summary(None);
                event.record(&mut summary);
                let statement = summary.0.unwrap_or_default();
                // Transaction control is taken from the adapters' own begin/commit below: sqlx logs
                // it on some drivers and not on others.
                let control = ["BEGIN", "COMMIT", "ROLLBACK"].contains(&statement.trim().to_uppercase().as_str());
                if !control {
                    STATEMENTS.lock().unwrap().push(statement);
                }
            }
            "tessera::dynamodb" => {
                let mut call = Named("call", None);
                event.record(&mut call);
                STATEMENTS.lock().unwrap().push(call.1.unwrap_or_default());
            }
            // sqlx does not log transaction control: the SQL adapters' own begin/commit calls
            // (DynamoDB's commit is the write call the SDK logs above).
            "tessera::storage" => {
                let (mut backend, mut operation) = (Named("backend", None), Named("operation", None));
                event.record(&mut backend);
                event.record(&mut operation);
                let sql = backend.1.as_deref() != Some("dynamodb");
                if let (true, Some(control @ ("begin" | "commit"))) = (sql, operation.1.as_deref()) {
                    STATEMENTS.lock().unwrap().push(control.to_uppercase());
                }
            }
            _ => {}
        }
    }
}

/// One string field of an event: the `call` of a DynamoDB attempt, the `operation` of a storage call.
struct Named(&'static str, Option<String>);

impl Visit for Named {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.0 {
            self.1 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

/// Installs the statement log and takes it for the calling test until the guard drops: the log
/// is one per process, and `cargo test` runs both tests in one (nextest gives each its own).
async fn install() -> tokio::sync::MutexGuard<'static, ()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    static ONE_TEST_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(StatementLog))
            .expect("no other subscriber in this test binary");
    });
    ONE_TEST_AT_A_TIME.lock().await
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
    let _log = install().await;
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
        server.upload(&ada, &id, &format!("file {i}"), b"bytes", UploadOptions::default()).await.expect(201);
    }

    let dynamodb = TestBackend::from_env() == TestBackend::Dynamodb;
    // (path, caller, SQL statements, DynamoDB calls). On DynamoDB the project-scoped lists first
    // read the caller's membership (one BatchGetItem of member + project); a page is then one
    // Query and one BatchGetItem of the profiles it shows. A creator's posts read the caller's
    // member items in the posts' projects before any post (one BatchGetItem), so that no post
    // the caller may not see is read; then the page's posts, projects and creator.
    let creator_posts: &[&str] = &["GetItem", "Query", "BatchGetItem", "BatchGetItem"];
    let lists: [(&str, &str, usize, &[&str]); 6] = [
        ("/api/v1/projects", &ada.access, 1, &["Query", "BatchGetItem"]),
        (&format!("/api/v1/projects/{id}/members"), &ada.access, 2, &["BatchGetItem", "Query", "BatchGetItem"]),
        (&format!("/api/v1/projects/{id}/posts"), &ada.access, 2, &["BatchGetItem", "Query", "BatchGetItem"]),
        (&format!("/api/v1/projects/{id}/files"), &ada.access, 2, &["BatchGetItem", "Query", "BatchGetItem"]),
        (&format!("/api/v1/creators/{}/posts", ada.user_id), &root.access, 2, creator_posts),
        ("/api/v1/users", &root.access, 2, &["GetItem", "Query", "BatchGetItem"]),
    ];
    for (path, token, statements, calls) in lists {
        // Warm the pools so no connection set-up is counted.
        statements_of(&server, path, token).await;
        let small = statements_of(&server, &format!("{path}?limit=1"), token).await;
        let full = statements_of(&server, &format!("{path}?limit=20"), token).await;
        if dynamodb {
            assert_eq!(full, calls, "{path}");
        } else {
            assert_eq!(full.len(), statements, "{path}: {full:#?}");
        }
        assert_eq!(small.len(), full.len(), "{path}: the statement count grows with the page size: {small:#?}");
        assert!(full.iter().all(|s| !s.to_uppercase().starts_with("BEGIN")), "{path}: reads need no transaction");
    }

    // And reading one project: one statement with the owner and both counts joined in; on
    // DynamoDB the project with the caller's membership, then the owner.
    let one = statements_of(&server, &format!("/api/v1/projects/{id}"), &ada.access).await;
    if dynamodb {
        assert_eq!(one, ["BatchGetItem", "GetItem"]);
    } else {
        assert_eq!(one.len(), 1, "{one:#?}");
    }
}

/// Every write request is one transaction: on SQL one `BEGIN … COMMIT`, on DynamoDB one write
/// call — one PutItem/UpdateItem/DeleteItem, or one TransactWriteItems when there are several.
#[tokio::test]
async fn every_write_request_is_one_transaction() {
    let _log = install().await;
    let dynamodb = TestBackend::from_env() == TestBackend::Dynamodb;
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;
    const WRITES: [&str; 4] = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"];
    // The commits (SQL) or write calls (DynamoDB) since the last look.
    let writes = || -> Vec<String> {
        take().into_iter().filter(|c| if dynamodb { WRITES.contains(&c.as_str()) } else { c == "COMMIT" }).collect()
    };
    let one = |dynamodb_call: &'static str| [if dynamodb { dynamodb_call } else { "COMMIT" }];

    STATEMENTS.lock().unwrap().clear();
    let project = server.create_project(&ada, "Writes").await;
    let id = project["id"].as_str().unwrap().to_owned();
    assert_eq!(writes(), one("TransactWriteItems"), "project + owner membership (+ its copy)");
    server.share(&ada, &id, &bob, "viewer").await;
    assert_eq!(writes(), one("TransactWriteItems"), "member (+ copy + member_count)");
    let post = server.create_post(&ada, &id, "Hello", "draft").await;
    assert_eq!(writes(), one("TransactWriteItems"), "post (+ pointer + post_count)");
    let post_id = post["id"].as_str().unwrap();
    let path = format!("/api/v1/posts/{post_id}");
    let patched = server.send_if(Method::PATCH, &path, &ada.access, Some(json!({"status": "published"})), None).await;
    patched.expect(200);
    assert_eq!(writes(), one("PutItem"), "a post change is one conditional write");
    let file = server.upload(&ada, &id, "notes.txt", b"bytes", UploadOptions::default()).await;
    file.expect(201);
    assert_eq!(writes(), one("TransactWriteItems"), "file (+ pointer + the project's bytes)");
    let path = format!("/api/v1/files/{}", file.body["id"].as_str().unwrap());
    server.send(Method::DELETE, &path, Some(&ada.access), None).await.expect(204);
    assert_eq!(writes(), one("TransactWriteItems"), "file (+ pointer + the project's bytes)");
}

fn take() -> Vec<String> {
    std::mem::take(&mut *STATEMENTS.lock().unwrap())
}

/// The storage calls of one login, from a warm server (connection set-up left out).
async fn calls_of_login(server: &TestServer, login: &str, password: &str, status: u16) -> Vec<String> {
    take();
    server.login(login, password).await.expect(status);
    take().into_iter().filter(|s| !s.trim_start().to_uppercase().starts_with("PRAGMA")).collect()
}

/// Asserts `calls` are `expected`, each SQL statement by its beginning.
#[track_caller]
fn assert_calls(calls: &[String], expected: &[&str], what: &str) {
    let matches = calls.len() == expected.len() && calls.iter().zip(expected).all(|(c, e)| c.starts_with(e));
    assert!(matches, "{what}: expected {expected:#?}, got {calls:#?}");
}

/// What a login costs in storage calls. Before failed attempts were counted in the storage (an
/// in-process limiter, measured at de79082) a successful login cost, on SQL, 5: find the user,
/// BEGIN, insert the chain, insert the token, COMMIT; on DynamoDB, 3: GetItem of the login-name
/// claim, GetItem of the user, one TransactWriteItems. A wrong password cost the lookup alone
/// (SQL 1, DynamoDB 2). Counting adds one call to each, the upsert (SQL) or UpdateItem
/// (DynamoDB) before the password is checked; a success clears the count inside its own
/// transaction (a trigger on SQL, one more action of the TransactWriteItems on DynamoDB), for free.
#[tokio::test]
async fn a_login_costs_one_call_more_than_without_a_limiter() {
    let _log = install().await;
    let dynamodb = TestBackend::from_env() == TestBackend::Dynamodb;
    let server = TestServer::start().await;
    server.register("ada").await.expect(201);
    // Warm the pools (and count, then clear, once).
    server.login("ada", PASSWORD).await.expect(200);

    const FIND: &str = "SELECT id, email, username";
    const COUNT: &str = "INSERT INTO login_attempts";
    let (success, failure, unknown): (&[&str], &[&str], &[&str]) = if dynamodb {
        (
            &["GetItem", "GetItem", "UpdateItem", "TransactWriteItems"],
            &["GetItem", "GetItem", "UpdateItem"],
            &["GetItem", "UpdateItem"],
        )
    } else {
        (
            &[FIND, COUNT, "BEGIN", "INSERT INTO refresh_chains", "INSERT INTO refresh_tokens", "COMMIT"],
            &[FIND, COUNT],
            &[FIND, COUNT],
        )
    };
    let (before_success, before_failure) = if dynamodb { (3, 2) } else { (5, 1) };
    assert_eq!((success.len(), failure.len()), (before_success + 1, before_failure + 1));

    for login in ["ada", "ada@example.com"] {
        assert_calls(&calls_of_login(&server, login, PASSWORD, 200).await, success, "a successful login");
    }
    assert_calls(&calls_of_login(&server, "ada", "wrong password", 401).await, failure, "a wrong password");
    assert_calls(&calls_of_login(&server, "nobody", "wrong password", 401).await, unknown, "an unknown name");
    // A name that can be nobody's is not looked up; one over 254 characters is not even counted.
    assert_calls(&calls_of_login(&server, "x@y@z", "wrong password", 401).await, &unknown[1..], "nobody's name");
    assert_calls(&calls_of_login(&server, &"x".repeat(255), PASSWORD, 401).await, &[], "a login too long");
    // Locked: the same calls as a failure, and no more.
    for _ in 0..10 {
        server.login("ada", "wrong password").await;
    }
    assert_calls(&calls_of_login(&server, "ada", PASSWORD, 429).await, failure, "a locked account");
}

/// The storage calls of one request, from a warm server (connection set-up left out).
async fn calls_of(answer: impl std::future::Future<Output = tessera_tests::http::Answer>, status: u16) -> Vec<String> {
    take();
    answer.await.expect(status);
    take().into_iter().filter(|s| !s.trim_start().to_uppercase().starts_with("PRAGMA")).collect()
}

/// What an `Idempotency-Key` costs. Without one, a POST makes the calls it made before keys
/// existed. With one: the claim, one call before the operation (SQL: an upsert; DynamoDB: a
/// conditional PutItem); the answer, written in the operation's own transaction (SQL: one UPDATE
/// before COMMIT; DynamoDB: one more action of the one TransactWriteItems). A replay is the
/// claim alone (SQL: the upsert, which takes nothing, and the read of the record; DynamoDB: the
/// refused PutItem, which returns the record).
#[tokio::test]
async fn a_key_costs_a_claim_and_one_write_inside_the_transaction() {
    let _log = install().await;
    let dynamodb = TestBackend::from_env() == TestBackend::Dynamodb;
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    server.create_project(&ada, "Warm").await;
    let (keyed_body, bad_body) = (json!({"name": "Keyed"}), json!({"name": ""}));
    let keyed = |body, key| server.post_keyed("/api/v1/projects", Some(&ada.access), body, key);

    let plain = calls_of(server.post("/api/v1/projects", Some(&ada.access), json!({"name": "Plain"})), 201).await;
    let first = calls_of(keyed(&keyed_body, "k-1"), 201).await;
    let replay = calls_of(keyed(&keyed_body, "k-1"), 201).await;
    let refused = calls_of(keyed(&bad_body, "k-2"), 422).await;

    if dynamodb {
        assert_eq!(plain, ["GetItem", "TransactWriteItems"], "the owner, then project + membership (+ copy)");
        assert_eq!(first, ["PutItem", "GetItem", "TransactWriteItems"]);
        assert_eq!(replay, ["PutItem"]);
        assert_eq!(refused, ["PutItem", "UpdateItem"], "an answer without effect is stored alone");
    } else {
        const CLAIM: &str = "INSERT INTO idempotency_records";
        const STORE: &str = "UPDATE idempotency_records";
        let plain_sql: &[&str] =
            &["BEGIN", "SELECT id, email, username", "INSERT INTO projects", "INSERT INTO members", "COMMIT"];
        assert_calls(&plain, plain_sql, "a POST without a key");
        let mut keyed_sql = vec![CLAIM];
        keyed_sql.extend(&plain_sql[..plain_sql.len() - 1]);
        keyed_sql.extend([STORE, "COMMIT"]);
        assert_calls(&first, &keyed_sql, "a POST with a key");
        assert_calls(&replay, &[CLAIM, "SELECT fingerprint, lease_ends, answer"], "a replay");
        assert_calls(&refused, &[CLAIM, STORE], "an answer without effect");
    }
}
