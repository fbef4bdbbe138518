//! Refresh chains driven through a storage fault: logins refreshed and logged out under load
//! while storage fails, then every chain checked to be either wholly live or wholly revoked.
//!
//! A refresh or logout answered 503 may or may not have been written (the connection can die
//! after the commit reached the database). The client then still holds a token that may be spent;
//! presenting it again must revoke the chain (`refresh_token_reused`), never fork it. So after the
//! fault, for every chain: the newest token the client holds either refreshes (and then an older
//! token revokes it, after which the newest is dead too) or is refused — and refused only if the
//! chain was logged out, or some earlier answer for it was uncertain.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::http::{TestServer, PASSWORD};
use crate::load::Load;

/// One login as the client saw it.
#[derive(Debug, Default)]
struct Chain {
    /// Refresh tokens received, oldest first.
    tokens: Vec<String>,
    /// A refresh or logout for this chain got no definite answer (503 or none).
    uncertain: bool,
    ended: Option<Ended>,
}

/// How a chain ended for the client.
#[derive(Debug)]
enum Ended {
    /// A logout was sent and answered with this status.
    LoggedOut(u16),
    /// A refresh was refused with this problem code.
    Refused(String),
}

/// Sends `body` to `path` and returns the status with the JSON body.
async fn call(client: &reqwest::Client, base: &str, path: &str, body: Value) -> Result<(u16, Value), String> {
    let response = client.post(format!("{base}/api/v1/auth/{path}")).json(&body).send().await;
    let response = response.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// One step of a worker: log in when its chain has ended, else refresh it — and every sixth
/// step of odd workers, log out instead.
async fn step(
    client: reqwest::Client,
    base: String,
    chains: Arc<Mutex<Vec<Chain>>>,
    worker: usize,
    n: usize,
) -> Result<u16, String> {
    let mut chains = chains.lock().await;
    let live = chains.last_mut().filter(|c| c.ended.is_none() && !c.tokens.is_empty());
    let Some(chain) = live else {
        let (status, body) = call(&client, &base, "login", json!({"login": "ada", "password": PASSWORD})).await?;
        if status == 200 {
            let token = body["refresh_token"].as_str().unwrap_or_default().to_owned();
            chains.push(Chain { tokens: vec![token], ..Chain::default() });
        }
        return Ok(status);
    };
    let newest = chain.tokens.last().cloned().unwrap_or_default();
    if worker % 2 == 1 && n.is_multiple_of(6) {
        let (status, _) = call(&client, &base, "logout", json!({"refresh_token": newest})).await?;
        chain.uncertain |= status != 204;
        chain.ended = Some(Ended::LoggedOut(status));
        return Ok(status);
    }
    let answer = call(&client, &base, "refresh", json!({"refresh_token": newest})).await;
    match &answer {
        Ok((200, body)) => chain.tokens.push(body["refresh_token"].as_str().unwrap_or_default().to_owned()),
        Ok((401, body)) => {
            chain.ended = Some(Ended::Refused(body["code"].as_str().unwrap_or_default().to_owned()));
        }
        _ => chain.uncertain = true,
    }
    answer.map(|(status, _)| status)
}

/// Runs refreshing workers while `fault` happens, then checks every chain (see the module).
pub async fn drive_refresh_chains_through(server: &TestServer, fault: impl Future<Output = ()>) {
    server.user("ada").await;
    let per_worker: Vec<Arc<Mutex<Vec<Chain>>>> = (0..6).map(|_| Arc::default()).collect();
    let load = {
        let (client, base, chains) = (server.client.clone(), server.base.clone(), per_worker.clone());
        Load::start_with(chains.len(), move |i, n| step(client.clone(), base.clone(), chains[i].clone(), i, n))
    };
    fault.await;
    let answers = load.finish().await;
    answers.assert_faults_felt(&[200, 204, 401], Duration::from_secs(3));
    server.ready_again().await;

    let refresh = |token: &str| server.post("/api/v1/auth/refresh", None, json!({"refresh_token": token}));
    let (mut live, mut revoked) = (0, 0);
    for chains in &per_worker {
        for chain in chains.lock().await.iter() {
            let newest = chain.tokens.last().map(String::as_str).unwrap_or_default();
            match &chain.ended {
                Some(Ended::LoggedOut(204)) => {
                    refresh(newest).await.expect(401);
                    revoked += 1;
                    continue;
                }
                Some(Ended::Refused(code)) => {
                    assert!(chain.uncertain, "a chain was refused ({code}) with no uncertain answer before: {chain:?}");
                    refresh(newest).await.expect(401);
                    revoked += 1;
                    continue;
                }
                // A logout without a definite answer: the chain may be either.
                Some(Ended::LoggedOut(_)) | None => {}
            }
            let answer = refresh(newest).await;
            if answer.status != 200 {
                answer.expect(401);
                assert!(chain.uncertain, "a chain died with no uncertain answer: {chain:?}");
                revoked += 1;
                continue;
            }
            // Live: presenting a spent token ends it, all of it.
            live += 1;
            let next = answer.body["refresh_token"].as_str().unwrap().to_owned();
            refresh(newest).await.expect_problem(401, "refresh_token_reused");
            refresh(&next).await.expect(401);
        }
    }
    eprintln!("after the fault: {live} chains live and then revoked whole, {revoked} revoked");
    assert!(live > 0, "some chain survived the fault");
}
