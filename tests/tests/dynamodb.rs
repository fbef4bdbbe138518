//! DynamoDB-specific proofs, against a DynamoDB Local of the test's own: the service survives
//! DynamoDB going away and calls hanging past the timeout, under load, answering only successes
//! and 503s, and comes back by itself with its invariants intact.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

use std::time::Duration;

use serde_json::json;
use tessera_tests::backend::TestBackend;
use tessera_tests::http::{Session, TestServer, PASSWORD};
use tessera_tests::keyed_creates::drive_keyed_creates_through;
use tessera_tests::load::{status, Load};
use tessera_tests::login_flood::wrong_logins_through_a_stopped_storage;
use tessera_tests::refresh_chains::drive_refresh_chains_through;
use tessera_tests::throwaway::Throwaway;

/// Sends SIGSTOP or SIGCONT to the server: a stopped server accepts connections and answers nothing.
async fn signal(server: &Throwaway, signal: &str) {
    let pid = std::fs::read_to_string(server.state().join("pid")).unwrap();
    let status = tokio::process::Command::new("kill").arg(signal).arg(pid.trim()).status().await.unwrap();
    assert!(status.success());
}

/// A server on a DynamoDB Local of the test's own that keeps its data on disk (so that it can be
/// stopped and started again), with a 1 s DynamoDB timeout (its table made with the default one).
///
/// Its failed-login limit is out of reach: these tests log accounts in hundreds of times through
/// faults, and a login counted before the fault failed it stays counted (the limiter errs on the
/// side of counting; a timed-out count the SDK retries may even land twice), which would lock the
/// account. The limiter is not what they test.
async fn server_on_own_local() -> (Throwaway, TestServer) {
    server_on_own_local_with(|c| c.login_max_failures = 60_000).await
}

async fn server_on_own_local_with(adjust: impl FnOnce(&mut bootstrap::Config)) -> (Throwaway, TestServer) {
    let own = Throwaway::start("dynamodb.sh", &["persistent"]).await;
    let endpoint = own.address.clone();
    let server = TestServer::start_set_up_on(TestBackend::Dynamodb, move |c| {
        c.dynamodb_endpoint = Some(endpoint);
        c.dynamodb_timeout_ms = 1000;
        adjust(c);
    })
    .await;
    (own, server)
}

/// Registers `name` and logs in on a server whose 1 s timeout a busy machine can push a call past
/// before any fault: set-up asks again while it answers 503 (a 503'd registration may have
/// committed, hence 409). What the tests check comes after the set-up.
async fn set_up_user(server: &TestServer, name: &str) -> Session {
    let mut registered = server.register(name).await;
    for _ in 0..20 {
        if registered.status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        registered = server.register(name).await;
    }
    assert!([201, 409].contains(&registered.status.as_u16()), "registration failed: {}", registered.text);
    let mut login = server.login(name, PASSWORD).await;
    for _ in 0..20 {
        if login.status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        login = server.login(name, PASSWORD).await;
    }
    login.expect(200);
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let me = server.get("/api/v1/users/me", Some(&access)).await;
    me.expect(200);
    Session {
        user_id: me.body["id"].as_str().unwrap().to_owned(),
        access,
        refresh: login.body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

/// DynamoDB gone for 1.5 s (connections refused), back, then hanging for 1.5 s (every call
/// slower than the timeout), back.
async fn go_away_and_hang(own: &Throwaway) {
    own.run("pause").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    own.run("resume").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    signal(own, "-STOP").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(own, "-CONT").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
}

/// The status of a login, asked again while it is 503 (a busy machine can still push a call past
/// the 1 s timeout after the fault): what is checked is whether the user exists.
async fn login_status(server: &TestServer, login: &str) -> u16 {
    for _ in 0..20 {
        let status = server.login(login, PASSWORD).await.status.as_u16();
        if status != 503 {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    503
}

/// The failed-login limit (default settings) through DynamoDB gone mid-flood: 503s while it is
/// away, never a password checked uncounted, and the count intact once it is back (the items are
/// kept on disk across the stop).
#[tokio::test]
async fn wrong_logins_while_dynamodb_is_stopped_answer_503_and_the_limit_holds_after() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    let (own, server) = server_on_own_local_with(|_| {}).await;
    server.register("ada").await.expect(201);

    let stop = async {
        own.run("pause").await;
    };
    let resume = async {
        own.run("resume").await;
    };
    wrong_logins_through_a_stopped_storage(&server, "ada", stop, Duration::from_secs(4), resume).await;
}

#[tokio::test]
async fn dynamodb_going_away_or_hanging_under_load_gives_503s_only_and_service_resumes() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    let (own, server) = server_on_own_local().await;
    let ada = set_up_user(&server, "ada").await;
    let bob = set_up_user(&server, "bob").await;
    let project = server.create_project(&ada, "Under fire").await["id"].as_str().unwrap().to_owned();
    server.share(&ada, &project, &bob, "editor").await;

    let load = {
        let (client, base) = (server.client.clone(), server.base.clone());
        let (ada, bob, project) = (ada.access.clone(), bob.access.clone(), project.clone());
        Load::start(5, move |i, n| {
            let posts = format!("{base}/api/v1/projects/{project}/posts");
            match i {
                0 => client.get(&posts).bearer_auth(&ada),
                1 => client.get(format!("{base}/api/v1/projects")).bearer_auth(&bob),
                2 | 3 => client
                    .post(&posts)
                    .bearer_auth(if i == 2 { &ada } else { &bob })
                    .json(&json!({"title": format!("Fault {i} {n}"), "body": "x"})),
                _ => client.post(format!("{base}/api/v1/auth/register")).json(&json!({
                    "email": format!("load{n}@example.com"), "username": format!("load{n}"),
                    "password": PASSWORD, "first_name": "Load", "last_name": "Test",
                })),
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    go_away_and_hang(&own).await;
    let answers = load.finish().await;
    answers.assert_faults_felt(&[200, 201], Duration::from_secs(3));

    // Service is back without a restart.
    server.ready_again().await;
    let path = format!("/api/v1/projects/{project}/posts");
    server.post(&path, Some(&bob.access), json!({"title": "After", "body": ""})).await.expect(201);

    // Invariants: the counts equal what is listed; every listed post is readable by id.
    let posts = server.walk(&path, &ada.access, 100).await;
    let members = server.walk(&format!("/api/v1/projects/{project}/members"), &ada.access, 100).await;
    let view = server.get(&format!("/api/v1/projects/{project}"), Some(&ada.access)).await;
    view.expect(200);
    assert_eq!(view.body["post_count"], posts.len(), "post_count is exact");
    assert_eq!(view.body["member_count"], members.len(), "member_count is exact");
    for post in &posts {
        server.get(&format!("/api/v1/posts/{}", post["id"].as_str().unwrap()), Some(&ada.access)).await.expect(200);
    }
    // A registration happened whole or not at all: its user logs in by username and by email
    // alike (both uniqueness claims exist), or by neither.
    for sent in answers.0.iter().filter(|s| s.worker == 4) {
        let n = sent.n;
        let by_name = login_status(&server, &format!("load{n}")).await;
        let by_email = login_status(&server, &format!("load{n}@example.com")).await;
        assert_eq!(by_name, by_email, "registration {n} (answered {}) left half a user", sent.status);
        if sent.status == 201 {
            assert_eq!(by_name, 200, "registration {n} was confirmed");
        }
    }
}

#[tokio::test]
async fn refresh_chains_through_dynamodb_going_away_are_live_or_revoked_whole() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    let (own, server) = server_on_own_local().await;
    // Chains to follow must exist before the fault: six logins at once, each now two writes (its
    // count, then its chain), took more than 300 ms on a persistent DynamoDB Local of a busy machine.
    let fault = async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        go_away_and_hang(&own).await;
    };
    drive_refresh_chains_through(&server, fault).await;
}

/// Keyed creates retried through DynamoDB going away and hanging: one project per key.
#[tokio::test]
async fn keyed_creates_retried_through_dynamodb_going_away_make_one_project_each() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    // A claim whose release the fault prevents keeps its key for the request timeout.
    let (own, server) = server_on_own_local_with(|c| c.request_timeout_ms = 3000).await;
    let ada = set_up_user(&server, "ada").await;
    let fault = async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        go_away_and_hang(&own).await;
    };
    drive_keyed_creates_through(&server, &ada, fault).await;
}

/// Units of work open at once are bounded, as a pool bounds connections on SQL: one more waits,
/// and past the acquire timeout the storage is unavailable (503); a unit dropped or committed
/// makes room again.
#[tokio::test]
async fn units_of_work_beyond_the_bound_wait_then_are_unavailable() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    use application::ports::Storage;
    use tessera_dynamodb::{DynamoSettings, DynamoStorage};

    let config = tessera_tests::backend::isolated_config_on(TestBackend::Dynamodb).await;
    let mut settings = DynamoSettings::new(&config.config.dynamodb_table);
    settings.max_units = 2;
    settings.acquire_timeout = Duration::from_millis(200);
    let storage = DynamoStorage::connect(&settings).await.unwrap();
    storage.migrate().await.unwrap();

    let reading = Storage::read(&storage).await.unwrap();
    let writing = Storage::begin(&storage).await.unwrap();
    let started = std::time::Instant::now();
    let third = Storage::read(&storage).await;
    assert!(matches!(third, Err(domain::StorageError::Unavailable { .. })), "{:?}", third.err());
    assert!(started.elapsed() >= Duration::from_millis(200), "it waited for the timeout first");

    // A commit gives its place back: taken again at once.
    writing.commit().await.unwrap();
    let again = Storage::read(&storage).await.unwrap();
    // A waiter gets the place a dropped unit gives back, and not before.
    let waiting = tokio::spawn({
        let storage = storage.clone();
        async move { Storage::read(&storage).await.map(drop) }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "both places are taken");
    drop(reading);
    waiting.await.unwrap().unwrap();
    drop(again);
}

/// A process that stops between deciding a project's deletion and removing its items leaves the
/// project invisible, and the next `migrate` (every start) removes what is left.
#[tokio::test]
async fn a_deletion_left_half_done_is_finished_by_the_next_migrate() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    use application::ports::Storage;
    use domain::members::MemberListQuery;
    use domain::posts::{PostStatus, Slug};
    use domain::records::RecordKind;
    use domain::{PageBudget, PageLimit};
    use tessera_dynamodb::{DynamoSettings, DynamoStorage};
    use tessera_tests::conformance::workspace::{add_member, new_post, stored_project, stored_user};

    let config = tessera_tests::backend::isolated_config_on(TestBackend::Dynamodb).await;
    let mut settings = DynamoSettings::new(&config.config.dynamodb_table);
    settings.finish_deletions = false;
    let stopping = DynamoStorage::connect(&settings).await.unwrap();
    stopping.migrate().await.unwrap();
    let storage: &dyn Storage = &stopping;
    let ada = stored_user(storage, "ada").await;
    let bob = stored_user(storage, "bob").await;
    let project = stored_project(storage, &ada, "Half", 0).await;
    add_member(storage, &project, &bob, domain::projects::ProjectRole::Editor, 1).await;
    let mut uow = storage.begin().await.unwrap();
    for i in 0..40 {
        uow.posts().insert(&new_post(&project, &bob, &format!("post-{i}"), PostStatus::Published, 2)).await.unwrap();
    }
    uow.commit().await.unwrap();

    let mut uow = storage.begin().await.unwrap();
    uow.projects().delete(project.id, 1).await.unwrap();
    uow.commit().await.unwrap();

    let base = Slug::parse("post").unwrap();
    let members_query =
        MemberListQuery { project: project.id, after: None, limit: PageLimit::DEFAULT, budget: PageBudget::DEFAULT };
    let mut reader = storage.read().await.unwrap();
    assert_eq!(reader.projects().get(project.id).await.unwrap(), None, "gone for readers at once");
    assert_eq!(reader.members().get(project.id, bob.id).await.unwrap(), None);
    assert_eq!(reader.posts().slugs_like(project.id, &base).await.unwrap().len(), 40, "its items are still there");
    // A copy taken meanwhile leaves them out too.
    for kind in [RecordKind::Projects, RecordKind::Members, RecordKind::Posts] {
        let page = storage.export().scan(kind, None, 10).await.unwrap();
        assert_eq!((page.records, page.next), (Vec::new(), None), "{kind:?}");
    }

    let next_start = DynamoStorage::connect(&DynamoSettings::new(&config.config.dynamodb_table)).await.unwrap();
    next_start.migrate().await.unwrap();
    let mut reader = Storage::read(&next_start).await.unwrap();
    assert_eq!(reader.posts().slugs_like(project.id, &base).await.unwrap(), Vec::<Slug>::new());
    assert_eq!(reader.members().list(&members_query).await.unwrap().items, Vec::new());
    for user in [&ada, &bob] {
        let query = domain::projects::ProjectListQuery {
            member: user.id,
            after: None,
            limit: PageLimit::DEFAULT,
            budget: PageBudget::DEFAULT,
        };
        assert_eq!(reader.projects().list(&query).await.unwrap().items, Vec::new());
    }
}

/// Projects deleted while DynamoDB freezes mid-way: each delete answers 204 or 503, and after
/// the fault every project is either whole (exact counts, every post readable) or gone for every
/// reader; the next `migrate` removes whatever a cut-short deletion left.
#[tokio::test]
async fn projects_deleted_while_dynamodb_freezes_are_whole_or_gone() {
    if !TestBackend::Dynamodb.suite_is_configured() {
        return;
    }
    use application::ports::Storage;
    use domain::posts::Slug;
    use domain::projects::ProjectId;
    use tessera_dynamodb::{DynamoSettings, DynamoStorage};

    let (own, server) = server_on_own_local().await;
    let ada = set_up_user(&server, "ada").await;
    let bob = set_up_user(&server, "bob").await;
    let mut projects = Vec::new();
    for p in 0..4 {
        let id = server.create_project(&ada, &format!("Doomed {p}")).await["id"].as_str().unwrap().to_owned();
        server.share(&ada, &id, &bob, "editor").await;
        let mut posts = Vec::new();
        for i in 0..30 {
            posts.push(
                server.create_post(&bob, &id, &format!("Post {i}"), "published").await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        projects.push((id, posts));
    }

    let deletes: Vec<_> = projects
        .iter()
        .map(|(id, _)| {
            let request =
                server.client.delete(format!("{}/api/v1/projects/{id}", server.base)).bearer_auth(&ada.access);
            tokio::spawn(async move { status(request).await.unwrap_or(0) })
        })
        .collect();
    // Freeze while the deletions are under way: some decided, some cut short, some not begun.
    tokio::time::sleep(Duration::from_millis(40)).await;
    signal(&own, "-STOP").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(&own, "-CONT").await;
    let mut statuses = Vec::new();
    for delete in deletes {
        statuses.push(delete.await.unwrap());
    }
    assert!(statuses.iter().all(|s| matches!(s, 204 | 503)), "only 204 and 503: {statuses:?}");

    server.ready_again().await;
    let listed: Vec<String> = server
        .walk("/api/v1/projects", &bob.access, 100)
        .await
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let mut gone = Vec::new();
    for (id, posts) in &projects {
        let view = server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await;
        if view.status == 200 {
            assert_eq!(view.body["post_count"], 30, "a kept project is whole");
            assert_eq!(view.body["member_count"], 2);
            assert!(listed.contains(id));
            for post in posts {
                server.get(&format!("/api/v1/posts/{post}"), Some(&bob.access)).await.expect(200);
            }
        } else {
            view.expect_problem(404, "project_not_found");
            assert!(!listed.contains(id), "a deleted project is not listed");
            for post in posts {
                server
                    .get(&format!("/api/v1/posts/{post}"), Some(&bob.access))
                    .await
                    .expect_problem(404, "post_not_found");
            }
            gone.push(ProjectId(uuid::Uuid::parse_str(id).unwrap()));
        }
    }
    eprintln!("deletes answered {statuses:?}; {} of 4 projects gone", gone.len());

    let mut settings = DynamoSettings::new(&server.config().dynamodb_table);
    settings.endpoint = Some(own.address.clone());
    let next_start = DynamoStorage::connect(&settings).await.unwrap();
    next_start.migrate().await.unwrap();
    let mut reader = Storage::read(&next_start).await.unwrap();
    let base = Slug::parse("post").unwrap();
    for project in gone {
        assert_eq!(reader.posts().slugs_like(project, &base).await.unwrap(), Vec::<Slug>::new(), "nothing left");
    }
}
