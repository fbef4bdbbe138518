//! `tessera backup --to FILE`: an online snapshot of the SQLite database, taken by an operator's
//! process beside a server that keeps writing. The command is SQLite's whatever the run's backend,
//! so the snapshot tests run on SQLite in every backend's run; the last test runs on the run's
//! backend and checks what the command does there.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tessera_tests::backend::TestBackend;
use tessera_tests::http::{TestServer, PASSWORD};

const TESSERA: &str = env!("CARGO_BIN_EXE_tessera-under-test");

fn output_of(run: &std::process::Output) -> String {
    format!("stdout: {}\nstderr: {}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr))
}

/// The files in `dir`, by name.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_backup_under_write_load_is_intact_holds_every_acknowledged_write_and_serves() {
    let server = TestServer::start_on(TestBackend::Sqlite, |_| {}).await;
    let ada = server.user("ada").await;
    let first = server.create_project(&ada, "Before the load").await;
    // Some megabytes, so that the snapshot itself takes a while under the writes.
    let posts = format!("/api/v1/projects/{}/posts", first["id"].as_str().unwrap());
    let body = "All work and no play. ".repeat(4500);
    for n in 0..64 {
        let post = json!({"title": format!("Long read {n}"), "body": body, "status": "published"});
        server.post(&posts, Some(&ada.access), post).await.expect(201);
    }
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("snapshot.db");

    // Writers creating projects through HTTP the whole time; every 201 is recorded.
    let acknowledged = Arc::new(Mutex::new(vec![first["id"].as_str().unwrap().to_owned()]));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (client, base, token) = (server.client.clone(), server.base.clone(), ada.access.clone());
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let answer = client
                        .post(format!("{base}/api/v1/projects"))
                        .bearer_auth(&token)
                        .json(&json!({"name": format!("Load {writer}-{n}")}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(answer.status(), 201, "a write under load failed");
                    let body: serde_json::Value = answer.json().await.unwrap();
                    acknowledged.lock().unwrap().push(body["id"].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let before = acknowledged.lock().unwrap().clone();
    let run = server.run_command(TESSERA, &["backup", "--to", backup.to_str().unwrap()]).await;
    let during = acknowledged.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    assert!(run.status.success(), "{}", output_of(&run));
    assert!(during > 0, "no write was acknowledged while the backup ran: the test wrote under no load");
    let printed = String::from_utf8_lossy(&run.stdout);
    let size = std::fs::metadata(&backup).unwrap().len();
    assert!(printed.starts_with("wrote /"), "the absolute path it wrote: {printed}");
    assert!(printed.contains(backup.to_str().unwrap()), "{printed}");
    assert!(printed.contains(&format!("({size} bytes)")), "its size: {printed}");
    assert!(printed.trim_end().ends_with(" s"), "the time it took: {printed}");
    assert_eq!(files_in(dir.path()), ["snapshot.db"], "nothing but the backup is left beside it");

    let options = SqliteConnectOptions::new().filename(&backup).read_only(true);
    let mut copy = options.connect().await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut copy).await.unwrap();
    assert_eq!(integrity, "ok");
    copy.close().await.unwrap();

    // Tessera serves the copy: an old password logs in, and every acknowledged project is there.
    let url = format!("sqlite://{}", backup.display());
    let restored = TestServer::start_on(TestBackend::Sqlite, move |c| c.database_url = Some(url)).await;
    let login = restored.login("ada", PASSWORD).await;
    login.expect(200);
    let token = login.body["access_token"].as_str().unwrap();
    let project = restored.get(&format!("/api/v1/projects/{}", first["id"].as_str().unwrap()), Some(token)).await;
    project.expect(200);
    assert_eq!(project.body["name"], "Before the load");
    let held: std::collections::HashSet<String> = restored
        .walk("/api/v1/projects", token, 100)
        .await
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<_> = before.iter().filter(|id| !held.contains(*id)).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged writes are missing: {missing:?}", missing.len(), before.len());
    restored.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_backup_never_overwrites_a_file_and_never_creates_a_database() {
    let server = TestServer::start_on(TestBackend::Sqlite, |_| {}).await;
    server.user("ada").await;
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("precious.db");
    std::fs::write(&existing, "an older backup").unwrap();

    let run = server.run_command(TESSERA, &["backup", "--to", existing.to_str().unwrap()]).await;

    assert!(!run.status.success(), "{}", output_of(&run));
    assert!(String::from_utf8_lossy(&run.stderr).contains("already exists"), "{}", output_of(&run));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "an older backup");
    assert_eq!(files_in(dir.path()), ["precious.db"], "no partial file left");

    // A mistyped database path is an error, not a new empty database backed up.
    let missing = dir.path().join("missing.db");
    let url = format!("sqlite://{}", missing.display());
    let to = dir.path().join("copy.db");
    let run = server.run_command(TESSERA, &["--database-url", &url, "backup", "--to", to.to_str().unwrap()]).await;

    assert!(!run.status.success(), "{}", output_of(&run));
    assert!(String::from_utf8_lossy(&run.stderr).contains("does not exist"), "{}", output_of(&run));
    assert_eq!(files_in(dir.path()), ["precious.db"], "neither the database nor a copy was created");
    server.stop().await;
}

#[tokio::test]
async fn tessera_backup_on_this_runs_backend_snapshots_sqlite_or_names_the_backends_own_backups() {
    let server = TestServer::start().await;
    server.user("ada").await;
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("backup.db");

    let run = server.run_command(TESSERA, &["backup", "--to", to.to_str().unwrap()]).await;

    let stderr = String::from_utf8_lossy(&run.stderr);
    match TestBackend::from_env() {
        TestBackend::Sqlite => {
            assert!(run.status.success(), "{}", output_of(&run));
            assert!(to.exists());
        }
        TestBackend::Postgres => {
            assert!(!run.status.success(), "{}", output_of(&run));
            assert!(stderr.contains("pg_dump"), "names what to use instead: {stderr}");
        }
        TestBackend::Dynamodb => {
            assert!(!run.status.success(), "{}", output_of(&run));
            assert!(stderr.contains("point-in-time recovery"), "names what to use instead: {stderr}");
            assert!(stderr.contains("on-demand backups"), "names what to use instead: {stderr}");
        }
    }
    if TestBackend::from_env() != TestBackend::Sqlite {
        assert!(run.stdout.is_empty(), "nothing claims a backup was written: {}", output_of(&run));
        assert_eq!(files_in(dir.path()), Vec::<String>::new(), "no file pretends to be a backup");
    }
    server.stop().await;
}
