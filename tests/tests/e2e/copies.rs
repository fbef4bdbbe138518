//! `tessera copy`: a data set made through the API on SQLite, copied to the run's backend, reads
//! the same there — every resource by id byte for byte, every list walked item for item, as each
//! user — its users log in with their old passwords, and copied back to SQLite it reads the same
//! again. A copy into a target that holds records
//! is refused unless resumed, and a resumed copy finds everything there and equal.

use reqwest::Method;
use serde_json::{json, Value};
use tessera_tests::backend::{isolated_config, IsolatedConfig, TestBackend};
use tessera_tests::files::UploadOptions;
use tessera_tests::http::{Session, TestServer, PASSWORD};

const TESSERA: &str = env!("CARGO_BIN_EXE_tessera-under-test");

struct Seeded {
    people: Vec<(String, Session)>,
    projects: Vec<String>,
}

async fn seed(server: &TestServer) -> Seeded {
    let ada = server.user("ada").await;
    let bob = server.user("bob").await;
    let vic = server.user("vic").await;
    let apollo = server.create_project(&ada, "Apollo").await["id"].as_str().unwrap().to_owned();
    let gemini = server.create_project(&bob, "Gemini").await["id"].as_str().unwrap().to_owned();
    server.share(&ada, &apollo, &bob, "editor").await;
    server.share(&ada, &apollo, &vic, "viewer").await;
    server.share(&bob, &gemini, &ada, "viewer").await;
    server.create_post(&bob, &apollo, "A draft", "draft").await;
    server.create_post(&ada, &apollo, "Published", "published").await;
    let edited = server.create_post(&bob, &apollo, "To be edited", "draft").await;
    let path = format!("/api/v1/posts/{}", edited["id"].as_str().unwrap());
    let body = json!({"title": "Edited", "status": "published"});
    server.send_if(Method::PATCH, &path, &bob.access, Some(body), Some("\"1\"")).await.expect(200);
    server.create_post(&bob, &gemini, "Elsewhere", "published").await;
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).collect();
    let options = UploadOptions { content_type: Some("application/pdf"), ..UploadOptions::default() };
    server.upload(&bob, &apollo, "Bericht.pdf", &data, options).await.expect(201);
    server.upload(&bob, &gemini, "notes.txt", b"notes", UploadOptions::default()).await.expect(201);
    let people = vec![("ada".to_owned(), ada), ("bob".to_owned(), bob), ("vic".to_owned(), vic)];
    Seeded { people, projects: vec![apollo, gemini] }
}

/// What each person reads: single resources as their exact answers (status, ETag, body; a
/// problem's `request_id` names its own request), lists as their items (cursors are the backend's
/// own), files' bytes.
async fn read_everything(server: &TestServer, seeded: &Seeded) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for (name, who) in &seeded.people {
        let me = server.get("/api/v1/users/me", Some(&who.access)).await;
        seen.push((format!("{name} /users/me"), exact(&me)));
        let projects = server.walk("/api/v1/projects", &who.access, 1).await;
        seen.push((format!("{name} projects"), Value::Array(projects).to_string()));
        for project in &seeded.projects {
            let path = format!("/api/v1/projects/{project}");
            let answer = server.get(&path, Some(&who.access)).await;
            seen.push((format!("{name} {path}"), exact(&answer)));
            if answer.status != 200 {
                continue;
            }
            for list in ["members", "posts", "files"] {
                let items = server.walk(&format!("{path}/{list}"), &who.access, 1).await;
                for item in &items {
                    let id = item["id"].as_str().unwrap_or_default();
                    let single = match list {
                        "posts" => Some(format!("/api/v1/posts/{id}")),
                        "files" => Some(format!("/api/v1/files/{id}")),
                        _ => None,
                    };
                    if let Some(single) = single {
                        let answer = server.get(&single, Some(&who.access)).await;
                        seen.push((format!("{name} {single}"), exact(&answer)));
                    }
                    if list == "files" {
                        let bytes = server.download(&format!("/api/v1/files/{id}/content"), who, &[]).await;
                        seen.push((format!("{name} {id} content"), format!("{} {:?}", bytes.status, bytes.bytes)));
                    }
                }
                seen.push((format!("{name} {path}/{list}"), Value::Array(items).to_string()));
            }
        }
    }
    seen
}

/// An answer as compared: status, ETag and body, but a problem's `request_id`.
fn exact(answer: &tessera_tests::http::Answer) -> String {
    let mut body = answer.body.clone();
    if let Some(problem) = body.as_object_mut() {
        if answer.status.as_u16() >= 400 {
            problem.remove("request_id");
            return format!("{} {}", answer.status, body);
        }
    }
    format!("{} {:?} {}", answer.status, answer.header("etag"), answer.text)
}

fn storage_url(config: &bootstrap::Config) -> String {
    match config.storage {
        bootstrap::StorageKind::Dynamodb => format!("dynamodb://{}", config.dynamodb_table),
        _ => config.database_url.clone().expect("a database URL"),
    }
}

async fn run_copy(source: &TestServer, target: &IsolatedConfig, extra: &[&str]) -> std::process::Output {
    let files_from = format!("file://{}", source.config().files_dir().display());
    let files_to = format!("file://{}", target.config.files_dir().display());
    let mut command = tokio::process::Command::new(TESSERA);
    command
        .args(["--log-format", "json", "copy", "--from", &storage_url(source.config())])
        .args(["--to", &storage_url(&target.config), "--files-from", &files_from, "--files-to", &files_to])
        .args(extra)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    command.output().await.expect("tessera copy runs")
}

async fn serve_target(target: &IsolatedConfig) -> TestServer {
    let backend = TestBackend::from_env();
    let target = target.config.clone();
    TestServer::start_on(backend, move |c| {
        c.storage = target.storage;
        c.database_url = target.database_url.clone();
        c.dynamodb_table = target.dynamodb_table.clone();
        c.files_dir = target.files_dir.clone();
    })
    .await
}

#[tokio::test]
async fn a_copy_from_sqlite_reads_the_same_on_the_target_and_everyone_logs_in() {
    let source = TestServer::start_on(TestBackend::Sqlite, |_| {}).await;
    let seeded = seed(&source).await;
    let target = isolated_config().await;

    let run = run_copy(&source, &target, &[]).await;
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{printed}{}", String::from_utf8_lossy(&run.stderr));
    for (kind, count) in [("users", 3), ("projects", 2), ("members", 5), ("posts", 4), ("files", 2)] {
        let line = format!("{kind:<9} source {count:>9}   target {count:>9}   records same");
        assert!(printed.contains(&line), "{line:?} not in:\n{printed}");
    }

    let served = serve_target(&target).await;
    let (before, after) = (read_everything(&source, &seeded).await, read_everything(&served, &seeded).await);
    assert_eq!(before.len(), after.len());
    for ((what, there), (_, here)) in before.iter().zip(&after) {
        assert_eq!(there, here, "{what} reads differently after the copy");
    }
    for (name, _) in &seeded.people {
        served.login(name, PASSWORD).await.expect(200);
    }

    // And back: the run's backend copied to a new SQLite file reads the same again.
    let back = tessera_tests::backend::isolated_config_on(TestBackend::Sqlite).await;
    let run = run_copy(&served, &back, &[]).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let home = TestServer::start_on(TestBackend::Sqlite, {
        let back = back.config.clone();
        move |c| {
            c.database_url = back.database_url.clone();
            c.files_dir = back.files_dir.clone();
        }
    })
    .await;
    let round_trip = read_everything(&home, &seeded).await;
    for ((what, there), (_, here)) in before.iter().zip(&round_trip) {
        assert_eq!(there, here, "{what} reads differently after the round trip");
    }
}

#[tokio::test]
async fn a_target_with_records_is_refused_unless_resumed_and_a_resumed_copy_finds_it_all() {
    let source = TestServer::start_on(TestBackend::Sqlite, |_| {}).await;
    seed(&source).await;
    let target = isolated_config().await;
    assert!(run_copy(&source, &target, &[]).await.status.success());

    let again = run_copy(&source, &target, &[]).await;
    assert!(!again.status.success(), "a second copy into a full target must be refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"), "{}", String::from_utf8_lossy(&again.stderr));

    let resumed = run_copy(&source, &target, &["--resume"]).await;
    let printed = String::from_utf8_lossy(&resumed.stdout);
    assert!(resumed.status.success(), "{printed}{}", String::from_utf8_lossy(&resumed.stderr));
    assert!(printed.contains("posts     copied         0   already there         4"), "{printed}");
    assert!(printed.contains("files     source         2   target         2   records same"), "{printed}");
}

#[tokio::test]
async fn a_source_with_files_needs_to_be_told_where_their_bytes_go() {
    let source = TestServer::start_on(TestBackend::Sqlite, |_| {}).await;
    seed(&source).await;
    let target = isolated_config().await;
    let run = tokio::process::Command::new(TESSERA)
        .args(["copy", "--from", &storage_url(source.config()), "--to", &storage_url(&target.config)])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--files-from"), "{}", String::from_utf8_lossy(&run.stderr));
    let missing = tokio::process::Command::new(TESSERA)
        .args([
            "copy",
            "--from",
            "sqlite:///nowhere/tessera.db",
            "--to",
            &storage_url(&target.config),
            "--files-shared",
        ])
        .output()
        .await
        .unwrap();
    assert!(!missing.status.success(), "a missing source database is an error, not an empty copy");
}
