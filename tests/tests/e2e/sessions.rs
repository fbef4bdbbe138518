//! Sessions end: a login lives `--session-max-age` from `auth/login`, however often it is
//! refreshed, and the sweep purges only what can no longer serve.

use std::time::{Duration, Instant};

use serde_json::json;
use tessera_tests::http::{TestServer, PASSWORD};

const MAX_AGE_SECS: u32 = 4;

#[tokio::test]
async fn refreshes_work_until_the_logins_max_age_then_401_however_fresh_the_token() {
    let server = TestServer::start_with(|c| c.session_max_age = MAX_AGE_SECS).await;
    server.register("ada").await.expect(201);
    let login = server.login("ada", PASSWORD).await;
    login.expect(200);
    // The login started before its answer came: its end is at most this far from here.
    let logged_in = Instant::now();
    let mut refresh = login.body["refresh_token"].as_str().unwrap().to_owned();

    // Well inside the max age, each refresh spends the token and hands out a fresh one.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let answer = server.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh})).await;
        answer.expect(200);
        let next = answer.body["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(next, refresh);
        refresh = next;
    }

    let end = logged_in + Duration::from_secs(u64::from(MAX_AGE_SECS)) + Duration::from_millis(200);
    tokio::time::sleep(end.saturating_duration_since(Instant::now())).await;
    server
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh}))
        .await
        .expect_problem(401, "invalid_refresh_token");
    // The account is not locked out: a new login starts a new session.
    let again = server.login("ada", PASSWORD).await;
    again.expect(200);
    let fresh = again.body["refresh_token"].as_str().unwrap();
    server.post("/api/v1/auth/refresh", None, json!({"refresh_token": fresh})).await.expect(200);
}

#[tokio::test]
async fn tessera_sweep_runs_on_demand_and_leaves_live_logins_alone() {
    let server = TestServer::start().await;
    let ada = server.user("ada").await;
    server.login("ghost", "wrong password").await.expect_problem(401, "invalid_credentials");

    // As an operator does, beside the running server on the same storage.
    let swept = server.run_command(env!("CARGO_BIN_EXE_tessera-under-test"), &["sweep"]).await;

    let printed = String::from_utf8_lossy(&swept.stdout);
    assert!(swept.status.success(), "{printed}{}", String::from_utf8_lossy(&swept.stderr));
    assert_eq!(
        printed,
        "removed 0 refresh tokens, 0 refresh chains, 0 login-attempt windows, 0 idempotency records, 0 orphan blobs\n",
        "nothing expired yet"
    );
    server.post("/api/v1/auth/refresh", None, json!({"refresh_token": ada.refresh})).await.expect(200);
}
