//! PostgreSQL-specific proofs: the service survives the database going away and coming back
//! without a restart, and no list query scans a large table sequentially.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{Connection, Row};
use tessera_tests::backend::TestBackend;
use tessera_tests::http::TestServer;
use tessera_tests::keyed_creates::drive_keyed_creates_through;
use tessera_tests::load::{status, Load};
use tessera_tests::login_flood::wrong_logins_through_a_stopped_storage;
use tessera_tests::refresh_chains::drive_refresh_chains_through;
use tessera_tests::throwaway::Throwaway;

#[tokio::test]
async fn postgres_going_away_gives_quick_503s_and_service_resumes_without_a_restart() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let pg = Throwaway::start("postgres.sh", &[]).await;
    let url = pg.address.clone();
    let server = TestServer::start_on(TestBackend::Postgres, move |c| {
        c.database_url = Some(url);
        c.pool_acquire_timeout_ms = 1000;
    })
    .await;
    let ada = server.user("ada").await;
    server.get("/health/ready", None).await.expect(200);

    pg.run("pause").await;

    for path in ["/api/v1/users/me", "/api/v1/projects"] {
        let started = Instant::now();
        let answer = server.get(path, Some(&ada.access)).await;
        answer.expect_problem(503, "storage_unavailable");
        assert!(started.elapsed() < Duration::from_secs(3), "{path} took {:?} to fail", started.elapsed());
    }
    server
        .post("/api/v1/projects", Some(&ada.access), json!({"name": "Down"}))
        .await
        .expect_problem(503, "storage_unavailable");
    server.get("/health/ready", None).await.expect_problem(503, "storage_unavailable");
    server.get("/health/live", None).await.expect(200);

    pg.run("resume").await;

    server.ready_again().await;
    server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
    server.post("/api/v1/projects", Some(&ada.access), json!({"name": "Back"})).await.expect(201);
    let names: Vec<_> =
        server.walk("/api/v1/projects", &ada.access, 20).await.iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, ["Back"], "the write attempted while down left nothing behind");
}

/// The failed-login limit (default settings) through PostgreSQL stopped mid-flood: 503s while it
/// is down, never a password checked uncounted, and the count intact once it is back.
#[tokio::test]
async fn wrong_logins_while_postgres_is_stopped_answer_503_and_the_limit_holds_after() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let pg = Throwaway::start("postgres.sh", &[]).await;
    let url = pg.address.clone();
    let server = TestServer::start_on(TestBackend::Postgres, move |c| {
        c.database_url = Some(url);
        c.pool_acquire_timeout_ms = 1000;
    })
    .await;
    server.register("ada").await.expect(201);

    let stop = async {
        pg.run("pause").await;
    };
    let resume = async {
        pg.run("resume").await;
    };
    wrong_logins_through_a_stopped_storage(&server, "ada", stop, Duration::from_secs(4), resume).await;
}

/// Seeds a realistic amount of data with SQL (hashing thousands of passwords over HTTP would
/// take minutes), so that the planner has a reason to prefer indexes.
const SEED: &str = r#"
INSERT INTO users (id, email, username, first_name, last_name, avatar_url, role, password_hash, session_epoch, version, created_at, updated_at)
SELECT gen_random_uuid(), 'seed' || i || '@example.com', 'seed' || i, 'Seed', 'User', NULL, 'user', 'x', 0, 1,
       now() - i * interval '1 minute', now() - i * interval '1 minute'
FROM generate_series(1, 2000) AS i;

INSERT INTO projects (id, name, description, owner_id, created_at, updated_at, version)
SELECT gen_random_uuid(), 'Project ' || i, '', u.id, now() - i * interval '1 minute', now() - i * interval '1 minute', 1
FROM generate_series(1, 2000) AS i JOIN LATERAL (SELECT id FROM users WHERE username = 'seed' || (1 + i % 2000)) u ON true;

INSERT INTO members (project_id, user_id, role, added_at)
SELECT id, owner_id, 'owner', created_at FROM projects WHERE name LIKE 'Project %';

INSERT INTO posts (id, project_id, slug, title, body, status, creator_id, created_at, updated_at, published_at, version)
SELECT gen_random_uuid(), p.id, 'post-' || i, 'Post ' || i, repeat('text ', 100), 'published', p.owner_id,
       now() - i * interval '1 second', NULL, now() - i * interval '1 second', 1
FROM generate_series(1, 25) AS i CROSS JOIN projects p WHERE p.name LIKE 'Project %';
"#;

#[tokio::test]
async fn no_list_scans_a_large_table_sequentially() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = TestServer::start_on(TestBackend::Postgres, |_| {}).await;
    let url = server.database_url().unwrap();
    let root = server.admin("root").await;
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Ada's").await;
    let id = project["id"].as_str().unwrap().to_owned();
    server.share(&ada, &id, &root, "viewer").await;
    for i in 0..3 {
        server.create_post(&ada, &id, &format!("Post {i}"), "published").await;
    }
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(SEED).execute(&mut admin).await.unwrap();
    sqlx::query("ANALYZE").execute(&mut admin).await.unwrap();
    // Backends report their table statistics lazily (at the latest when they exit): end every
    // session that worked so far, then reset the counters, then measure with a fresh server.
    admin.close().await.unwrap();
    server.stop().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("SELECT pg_stat_reset()").execute(&mut admin).await.unwrap();
    let fresh = url.clone();
    let server = TestServer::start_on(TestBackend::Postgres, move |c| c.database_url = Some(fresh)).await;

    for (path, token) in [
        ("/api/v1/projects".to_owned(), &ada.access),
        (format!("/api/v1/projects/{id}"), &ada.access),
        (format!("/api/v1/projects/{id}/members"), &ada.access),
        (format!("/api/v1/projects/{id}/posts"), &ada.access),
        (format!("/api/v1/projects/{id}/posts?status=draft"), &ada.access),
        (format!("/api/v1/creators/{}/posts", ada.user_id), &root.access),
        ("/api/v1/users?username_prefix=seed1".to_owned(), &root.access),
    ] {
        server.get(&path, Some(token)).await.expect(200);
    }
    // Backends flush their statistics when they exit: close the pool, then read them.
    server.stop().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let stats = loop {
        let rows = sqlx::query(
            "SELECT relname::text AS relname, coalesce(seq_scan, 0) AS seq_scan, coalesce(idx_scan, 0) AS idx_scan \
             FROM pg_stat_user_tables WHERE relname IN ('users', 'projects', 'members', 'posts')",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        let stats: Vec<(String, i64, i64)> =
            rows.iter().map(|r| (r.get("relname"), r.get("seq_scan"), r.get("idx_scan"))).collect();
        if stats.iter().find(|s| s.0 == "posts").is_some_and(|s| s.2 > 0) || Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(stats.len(), 4, "{stats:?}");
    for (table, seq_scan, idx_scan) in &stats {
        assert_eq!(*seq_scan, 0, "{table} was scanned sequentially: {stats:?}");
        assert!(*idx_scan > 0, "{table} was not read at all: {stats:?}");
    }
}

#[tokio::test]
async fn instances_starting_at_once_migrate_once_and_all_start() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let config = tessera_tests::backend::isolated_config_on(TestBackend::Postgres).await;
    let starts = (0..4).map(|_| async {
        let backend = bootstrap::backend::Backend::open(&config.config).await?;
        backend.migrate().await?;
        backend.close().await;
        Ok::<_, bootstrap::BootError>(())
    });
    for result in futures::future::join_all(starts).await {
        result.expect("every instance starts");
    }
    let mut admin = sqlx::PgConnection::connect(&config.config.database_url().unwrap()).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&mut admin).await.unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../adapters/postgres/migrations"))
        .unwrap()
        .filter(|f| f.as_ref().is_ok_and(|f| f.path().extension().is_some_and(|e| e == "sql")))
        .count();
    assert_eq!(applied, migrations as i64, "each migration applied exactly once");
}

/// Counts of what the API says against what the tables hold.
async fn check_invariants(url: &str, server: &TestServer, token: &str, project: &str) {
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    let id = uuid::Uuid::parse_str(project).unwrap();
    let posts: i64 = sqlx::query_scalar("SELECT count(*) FROM posts WHERE project_id = $1")
        .bind(id)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM members WHERE project_id = $1")
        .bind(id)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let view = server.get(&format!("/api/v1/projects/{project}"), Some(token)).await;
    view.expect(200);
    assert_eq!(view.body["post_count"], posts, "post_count is exact");
    assert_eq!(view.body["member_count"], members, "member_count is exact");
    let orphans: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM posts p WHERE NOT EXISTS (SELECT 1 FROM projects WHERE id = p.project_id)",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "no post outlives its project");
}

/// Ends every connection Tessera has open to the database `admin` is connected to.
async fn kill_tessera_connections(admin: &mut sqlx::PgConnection) {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'tessera' AND datname = current_database()",
    )
    .execute(admin)
    .await
    .unwrap();
}

/// Sends `requests` at once, so that the pool opens several connections (up to its size).
async fn open_connections(server: &TestServer, token: &str, requests: usize) {
    let opened: Vec<_> = (0..requests)
        .map(|_| tokio::spawn(status(server.client.get(format!("{}/api/v1/users/me", server.base)).bearer_auth(token))))
        .collect();
    for request in opened {
        assert_eq!(request.await.unwrap().unwrap(), 200);
    }
}

/// Holds an exclusive lock on `table` for `held`: every storage call touching it outlasts the
/// statement timeout.
async fn lock_for(url: &str, table: &str, held: Duration) {
    let mut locker = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(&format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).execute(&mut locker).await.unwrap();
    tokio::time::sleep(held).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut locker).await.unwrap();
}

/// A server whose storage calls fail fast: 1 s to get a connection, 300 ms per statement.
///
/// Its failed-login limit is out of reach: these tests log one account in hundreds of times
/// through faults, and a login counted before the fault failed it stays counted (the limiter
/// errs on the side of counting), which would lock the account. The limiter is not what they test.
async fn impatient_server() -> TestServer {
    TestServer::start_on(TestBackend::Postgres, |c| {
        c.pool_acquire_timeout_ms = 1000;
        c.pg_statement_timeout_ms = 300;
        c.login_max_failures = 60_000;
    })
    .await
}

#[tokio::test]
async fn killed_connections_and_a_locked_table_give_503s_only_and_service_resumes() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = impatient_server().await;
    let url = server.database_url().unwrap();
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Under fire").await["id"].as_str().unwrap().to_owned();
    // Projects deleted while the faults happen: each must end whole or gone.
    let mut doomed = Vec::new();
    for p in 0..8 {
        let id = server.create_project(&ada, &format!("Doomed {p}")).await["id"].as_str().unwrap().to_owned();
        for i in 0..10 {
            server.create_post(&ada, &id, &format!("Post {i}"), "published").await;
        }
        doomed.push(id);
    }
    let load = {
        let (client, base, token, project, doomed) =
            (server.client.clone(), server.base.clone(), ada.access.clone(), project.clone(), doomed.clone());
        Load::start_with(5, move |i, n| {
            let request = match i {
                0 | 2 => client.get(format!("{base}/api/v1/projects/{project}/posts")).bearer_auth(&token),
                1 | 3 => client
                    .post(format!("{base}/api/v1/projects/{project}/posts"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("Fault {i} {n}"), "body": ""})),
                _ => client.delete(format!("{base}/api/v1/projects/{}", doomed[n % doomed.len()])).bearer_auth(&token),
            };
            // One deletion every 200 ms spreads them over the faults.
            let pause = Duration::from_millis(if i == 4 { 200 } else { 0 });
            async move {
                tokio::time::sleep(pause).await;
                status(request).await
            }
        })
    };
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill_tessera_connections(&mut admin).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock_for(&url, "posts", Duration::from_millis(1500)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answers = load.finish().await;

    // 404: a project whose deletion was answered (or not) before.
    answers.assert_faults_felt(&[200, 201, 204, 404], Duration::from_secs(3));
    server
        .post(&format!("/api/v1/projects/{project}/posts"), Some(&ada.access), json!({"title": "After", "body": ""}))
        .await
        .expect(201);
    check_invariants(&url, &server, &ada.access, &project).await;
    for id in &doomed {
        let view = server.get(&format!("/api/v1/projects/{id}"), Some(&ada.access)).await;
        if view.status == 200 {
            check_invariants(&url, &server, &ada.access, id).await;
        } else {
            view.expect_problem(404, "project_not_found");
        }
    }
}

#[tokio::test]
async fn refresh_chains_through_killed_connections_are_live_or_revoked_whole() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = impatient_server().await;
    let url = server.database_url().unwrap();
    let fault = async {
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        kill_tessera_connections(&mut admin).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        lock_for(&url, "refresh_tokens", Duration::from_millis(1200)).await;
        kill_tessera_connections(&mut admin).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    drive_refresh_chains_through(&server, fault).await;

    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let forked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT chain_id FROM refresh_tokens WHERE spent_at IS NULL \
         GROUP BY chain_id HAVING count(*) > 1) AS forks",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(forked, 0, "no chain holds two unspent tokens");
}

/// Keyed creates retried through killed connections and a locked table: one project per key.
#[tokio::test]
async fn keyed_creates_retried_through_killed_connections_make_one_project_each() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = TestServer::start_on(TestBackend::Postgres, |c| {
        c.pool_acquire_timeout_ms = 1000;
        c.pg_statement_timeout_ms = 300;
        // A claim whose release the fault prevents keeps its key for the request timeout.
        c.request_timeout_ms = 2000;
    })
    .await;
    let url = server.database_url().unwrap();
    let ada = server.user("ada").await;
    let fault = async {
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        kill_tessera_connections(&mut admin).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Shorter than the statement timeout: the requests wait, then commit, after their
        // clients gave up waiting.
        lock_for(&url, "projects", Duration::from_millis(250)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        lock_for(&url, "idempotency_records", Duration::from_millis(1200)).await;
        kill_tessera_connections(&mut admin).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    drive_keyed_creates_through(&server, &ada, fault).await;
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_within_the_acquire_timeout() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = TestServer::start_on(TestBackend::Postgres, |c| {
        c.pg_max_connections = 1;
        c.pool_acquire_timeout_ms = 500;
        c.pg_statement_timeout_ms = 5000;
    })
    .await;
    let url = server.database_url().unwrap();
    let ada = server.user("ada").await;
    let project = server.create_project(&ada, "Pool").await["id"].as_str().unwrap().to_owned();
    // A lock makes one request hold the only connection while it waits.
    let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE posts IN ACCESS EXCLUSIVE MODE").execute(&mut locker).await.unwrap();
    let holder = {
        let request = server.client.get(format!("{}/api/v1/projects/{project}/posts", server.base));
        tokio::spawn(status(request.bearer_auth(&ada.access)))
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let starved = server.get("/api/v1/users/me", Some(&ada.access)).await;
    let waited = started.elapsed();
    sqlx::raw_sql("ROLLBACK").execute(&mut locker).await.unwrap();

    starved.expect_problem(503, "storage_unavailable");
    assert!(waited < Duration::from_secs(2), "waited {waited:?} for a connection");
    assert_eq!(holder.await.unwrap().unwrap(), 200, "the request holding the connection finishes once the lock goes");
    server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
}

/// A connection the server ended while it sat in the pool is found out before a request uses it
/// (the pool checks a connection idle for more than a moment): every request after the kill
/// succeeds, none gets a 503 for a dead connection.
#[tokio::test]
async fn connections_killed_while_idle_are_replaced_before_any_request_uses_them() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = TestServer::start_on(TestBackend::Postgres, |_| {}).await;
    let url = server.database_url().unwrap();
    let ada = server.user("ada").await;
    // Requests at once open several connections, so that several sit idle to be killed.
    open_connections(&server, &ada.access, 8).await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    kill_tessera_connections(&mut admin).await;
    // Idle past the window in which a connection that just answered is trusted unchecked.
    tokio::time::sleep(Duration::from_millis(1200)).await;

    for _ in 0..16 {
        server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
    }
}

/// A transaction a request leaves unfinished (here: registration refused by the unique index,
/// which aborts it) is rolled back before its connection serves anyone else — with one pooled
/// connection, the next request runs on that very connection.
#[tokio::test]
async fn unfinished_transactions_are_rolled_back_before_their_connection_serves_again() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = TestServer::start_on(TestBackend::Postgres, |c| c.pg_max_connections = 1).await;
    let url = server.database_url().unwrap();
    let ada = server.user("ada").await;
    for _ in 0..5 {
        server.register("ada").await.expect(409);
        server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
    }
    server.register("ada").await.expect(409);
    // The rollback runs as the refusal is answered: it ends the transaction moments later.
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut open = i64::MAX;
    for _ in 0..50 {
        open = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = 'tessera' AND datname = current_database() \
             AND state LIKE 'idle in transaction%'",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open, 0, "a connection back in the pool still holds a transaction");
}

/// When the server drops connections that were in use a moment ago (too recently for the idle
/// check), the first request to find one dead fails and every other pooled connection answers
/// a ping before its next use: one failed request, not one per connection or an endless run of
/// them on the connection that keeps coming back to the top of the pool.
#[tokio::test]
async fn connections_killed_while_busy_fail_one_request_then_are_all_checked() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = TestServer::start_on(TestBackend::Postgres, |_| {}).await;
    let url = server.database_url().unwrap();
    let ada = server.user("ada").await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    open_connections(&server, &ada.access, 8).await;
    let used = std::time::Instant::now();
    sqlx::query(
        "SELECT pg_terminate_backend(pid, 2000) FROM pg_stat_activity \
         WHERE application_name = 'tessera' AND datname = current_database()",
    )
    .execute(&mut admin)
    .await
    .unwrap();

    let mut failed = 0;
    let first_within_window = used.elapsed() < Duration::from_millis(400);
    for _ in 0..20 {
        let answer = server.get("/api/v1/users/me", Some(&ada.access)).await;
        if answer.status != 200 {
            answer.expect_problem(503, "storage_unavailable");
            failed += 1;
        }
    }
    assert!(failed <= 1, "{failed} requests failed on connections the server had closed");
    // On a machine slow enough that the first request came after the idle window, the idle
    // check found the dead connections instead, and nothing failed.
    if first_within_window {
        assert_eq!(failed, 1, "the first request used a connection killed moments after it answered");
    }
}

/// A request abandoned while its statement still runs (here: past the request timeout, waiting
/// for a locked table) leaves that statement's answers owed on its connection. The connection is
/// pooled again only once they are read, so the next request takes another connection rather
/// than waiting behind a statement nobody wants.
#[tokio::test]
async fn a_connection_whose_statement_was_abandoned_serves_again_only_once_it_ended() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let server = TestServer::start_on(TestBackend::Postgres, |c| {
        c.pg_max_connections = 2;
        c.request_timeout_ms = 300;
    })
    .await;
    let url = server.database_url().unwrap();
    let ada = server.user("ada").await;
    // Both pooled connections open.
    open_connections(&server, &ada.access, 4).await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let requests = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.get("/api/v1/users/me", Some(&ada.access)).await.expect_problem(503, "request_timeout");
        server.get("/health/ready", None).await.expect(200);
        let locked: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' AND l.granted",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        assert_eq!(locked, 1, "the readiness check waited for the abandoned statement's lock");
    };
    tokio::join!(lock_for(&url, "users", Duration::from_secs(5)), requests);
    server.get("/api/v1/users/me", Some(&ada.access)).await.expect(200);
}

/// `sslmode=verify-full` with the operator's CA: Tessera's connections are encrypted, and a
/// server whose certificate another CA signed is refused (readiness 503, never plain text).
#[tokio::test]
async fn tls_to_postgresql_is_used_and_verified() {
    if !TestBackend::Postgres.suite_is_configured() {
        return;
    }
    let pg = Throwaway::start("postgres.sh", &["tls"]).await;
    let ca = pg.state().join("ca.crt");
    let url = format!("{}?sslmode=verify-full&sslrootcert={}", pg.address, ca.display());
    let server = TestServer::start_on(TestBackend::Postgres, move |c| c.database_url = Some(url)).await;
    server.get("/health/ready", None).await.expect(200);
    server.user("ada").await;
    let mut admin = sqlx::PgConnection::connect(&pg.address).await.unwrap();
    let (encrypted, plain): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'tessera'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(encrypted > 0 && plain == 0, "{encrypted} encrypted and {plain} plain connections");

    let other = tempfile::tempdir().unwrap();
    let other_ca = other.path().join("other-ca.crt");
    let made = tokio::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=another CA"])
        .arg("-keyout")
        .arg(other.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .await
        .unwrap();
    assert!(made.status.success());
    let url = format!("{}?sslmode=verify-full&sslrootcert={}", pg.address, other_ca.display());
    let refused = TestServer::start_on(TestBackend::Postgres, move |c| {
        c.database_url = Some(url);
        c.no_migrate = true;
        c.pool_acquire_timeout_ms = 1000;
    })
    .await;
    refused.get("/health/ready", None).await.expect_problem(503, "storage_unavailable");
}
