//! Keyed creates driven through a storage fault: workers create projects, each with a key of its
//! own, and retry every uncertain answer (`503`, `409 idempotency_key_in_use`, or none: the
//! workers give up waiting after [`PATIENCE`], so requests slowed by the fault lose their answers
//! while the server goes on) with the same key until it is definite. A `503` may hide a commit and
//! a lost answer usually does; afterwards every key must have made exactly one project, and every
//! `201` for a key must name that one project.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::http::{Session, TestServer};
use crate::load::Load;

/// How long a worker waits for an answer before taking it as lost.
pub const PATIENCE: Duration = Duration::from_millis(200);

/// The status a worker records for an answer it gave up waiting for.
const LOST: u16 = 0;

/// What the client saw for its keys: the project id of every `201`, and the keys still uncertain.
#[derive(Debug, Default)]
struct Seen {
    created: HashMap<String, Vec<String>>,
    /// The key a worker is retrying, if its last answer was not definite.
    pending: Option<String>,
}

async fn create(client: &reqwest::Client, base: &str, token: &str, key: &str) -> Result<(u16, Value), String> {
    let response = client
        .post(format!("{base}/api/v1/projects"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&json!({"name": key}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

fn note(seen: &mut Seen, key: &str, answer: &Result<(u16, Value), String>) {
    match answer {
        Ok((201, body)) => {
            let id = body["id"].as_str().unwrap_or_default().to_owned();
            seen.created.entry(key.to_owned()).or_default().push(id);
            seen.pending = None;
        }
        _ => seen.pending = Some(key.to_owned()),
    }
}

/// Runs keyed creates while `fault` happens, retries every uncertain key to a definite answer,
/// then checks one project per key.
pub async fn drive_keyed_creates_through(server: &TestServer, owner: &Session, fault: impl Future<Output = ()>) {
    let per_worker: Vec<Arc<Mutex<Seen>>> = (0..4).map(|_| Arc::default()).collect();
    let impatient = reqwest::Client::builder().timeout(PATIENCE).build().unwrap();
    let load = {
        let (client, base, token, seen) = (impatient, server.base.clone(), owner.access.clone(), per_worker.clone());
        Load::start_with(seen.len(), move |i, n| {
            let (client, base, token, seen) = (client.clone(), base.clone(), token.clone(), seen[i].clone());
            async move {
                let mut seen = seen.lock().await;
                let key = seen.pending.clone().unwrap_or_else(|| format!("w{i}-{n}"));
                let answer = create(&client, &base, &token, &key).await;
                note(&mut seen, &key, &answer);
                Ok(answer.map_or(LOST, |(status, _)| status))
            }
        })
    };
    fault.await;
    let answers = load.finish().await;
    answers.assert_faults_felt(&[201, 409, LOST], Duration::from_secs(4));
    assert!(answers.count(LOST) > 0, "some answers were lost while the server went on");
    server.ready_again().await;

    // The client keeps retrying what it is unsure of; a claim whose release the fault prevented
    // keeps its key in use until its lease ends.
    for seen in &per_worker {
        let mut seen = seen.lock().await;
        for _ in 0..60 {
            let Some(key) = seen.pending.clone() else { break };
            let answer = create(&server.client, &server.base, &owner.access, &key).await;
            note(&mut seen, &key, &answer);
            if seen.pending.is_some() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        assert!(seen.pending.is_none(), "a key never got a definite answer: {:?}", seen.pending);
    }

    let projects = server.walk("/api/v1/projects", &owner.access, 100).await;
    let mut made: HashMap<String, Vec<String>> = HashMap::new();
    for project in &projects {
        let (name, id) = (project["name"].as_str().unwrap(), project["id"].as_str().unwrap());
        made.entry(name.to_owned()).or_default().push(id.to_owned());
    }
    let mut keys = 0;
    for seen in &per_worker {
        for (key, ids) in &seen.lock().await.created {
            keys += 1;
            let projects = made.get(key).cloned().unwrap_or_default();
            assert_eq!(projects.len(), 1, "key {key} made {} projects", projects.len());
            assert!(ids.iter().all(|id| *id == projects[0]), "every 201 for {key} names its one project: {ids:?}");
        }
    }
    assert_eq!(projects.len(), keys, "every project was made by a key the client sent");
    let retried = per_worker
        .iter()
        .map(|s| s.try_lock().map_or(0, |s| s.created.values().filter(|i| i.len() > 1).count()))
        .sum::<usize>();
    eprintln!(
        "after the fault: {keys} keys, one project each; {} answers lost, {retried} keys answered 201 more than once",
        answers.count(LOST)
    );
}
