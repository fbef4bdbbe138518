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

/// A SQLite database of `users` users, each owning a project, and `posts` posts spread over them:
/// written straight through the storage ports, as a copy long enough to be killed needs.
async fn seed_many(users: usize, posts: usize) -> IsolatedConfig {
    use tessera_tests::conformance::workspace::{new_post, stored_project, stored_user};
    let source = tessera_tests::backend::isolated_config_on(TestBackend::Sqlite).await;
    let backend = bootstrap::backend::Backend::open(&source.config).await.unwrap();
    backend.migrate().await.unwrap();
    let storage = backend.storage();
    let mut projects = Vec::new();
    for i in 0..users {
        let user = stored_user(storage.as_ref(), &format!("user{i}")).await;
        projects.push((stored_project(storage.as_ref(), &user, &format!("Project {i}"), i as i64).await, user));
    }
    for batch in (0..posts).collect::<Vec<_>>().chunks(100) {
        let mut uow = storage.begin().await.unwrap();
        for &n in batch {
            let (project, user) = &projects[n % projects.len()];
            let status =
                if n % 3 == 0 { domain::posts::PostStatus::Draft } else { domain::posts::PostStatus::Published };
            uow.posts().insert(&new_post(project, user, &format!("post-{n}"), status, n as i64)).await.unwrap();
        }
        uow.commit().await.unwrap();
    }
    backend.close().await;
    source
}

#[tokio::test]
async fn a_copy_killed_half_way_and_resumed_ends_complete_and_verified() {
    use tokio::io::AsyncBufReadExt;
    const POSTS: usize = 2000;
    let source = seed_many(20, POSTS).await;
    let target = isolated_config().await;
    let (from, to) = (storage_url(&source.config), storage_url(&target.config));

    // Killed (SIGKILL: nothing of it runs on) as soon as it has begun the posts: its lines say so.
    let mut copy = tokio::process::Command::new(TESSERA)
        .args(["copy", "--from", &from, "--to", &to])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(copy.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(line.clone());
        let members_done = line.starts_with("copy: members") && {
            // `copy: members  DONE of TOTAL  all …`
            let words: Vec<&str> = line.split_whitespace().collect();
            words.len() > 4 && words[2] == words[4]
        };
        if members_done || line.starts_with("copy: posts") {
            copy.start_kill().unwrap();
            break;
        }
    }
    let killed = copy.wait().await.unwrap();
    assert!(!killed.success(), "the copy was to be killed half-way, it ended: {seen:#?}");

    let refused = run_sides(&from, &to, &[]).await;
    assert!(!refused.status.success(), "a half-copied target is not empty");
    let resumed = run_sides(&from, &to, &["--resume"]).await;
    let printed = String::from_utf8_lossy(&resumed.stdout);
    assert!(resumed.status.success(), "{printed}{}", String::from_utf8_lossy(&resumed.stderr));
    // The kill came after the users and before the last post: the resumed copy found the first
    // there, and wrote posts.
    assert!(printed.contains("users     copied         0   already there        20"), "{printed}\n{seen:#?}");
    let posts = printed.lines().find(|l| l.starts_with("posts     copied")).unwrap_or_default().to_owned();
    let numbers: Vec<u64> = posts.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(
        numbers.len() == 2 && numbers[0] > 0 && numbers[0] + numbers[1] == POSTS as u64,
        "the resumed copy should write the posts the killed one did not reach: {posts}\n{seen:#?}"
    );
    for (kind, count) in [("users", 20), ("projects", 20), ("members", 20), ("posts", POSTS), ("files", 0)] {
        let line = format!("{kind:<9} source {count:>9}   target {count:>9}   records same");
        assert!(printed.contains(&line), "{line:?} not in:\n{printed}");
    }
}

async fn run_sides(from: &str, to: &str, extra: &[&str]) -> std::process::Output {
    let mut command = tokio::process::Command::new(TESSERA);
    command.args(["copy", "--from", from, "--to", to]).args(extra).env("RUST_LOG", "warn").kill_on_drop(true);
    command.output().await.expect("tessera copy runs")
}
