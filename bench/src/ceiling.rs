//! The storage's own rate for one API operation: the same port calls the service makes for it
//! (read units without a transaction, write units committed), issued by `concurrency` tasks for
//! a fixed time, with no HTTP, JSON, authentication or service logic around them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use application::ports::Storage;
use bootstrap::backend::Backend;
use bootstrap::Config;
use domain::posts::{CreatorPostsQuery, Post, PostBody, PostId, PostStatus, PostTitle, ProjectPostsQuery, Slug};
use domain::projects::{ProjectId, ProjectListQuery, ProjectRole};
use domain::users::UserId;
use domain::{PageBudget, PageLimit, StorageError};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct CeilingArgs {
    /// me | projects | project_posts | creator_posts | create_post | patch_post
    #[arg(long)]
    op: String,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long)]
    fixtures: PathBuf,
}

/// One fixture user: who they are and what they work on.
#[derive(Clone)]
struct Actor {
    id: UserId,
    project: ProjectId,
    creator: UserId,
    posts: Vec<PostId>,
}

fn uuid(value: &Value) -> Result<Uuid, String> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(|| format!("not a uuid: {value}"))
}

fn actors(path: &PathBuf) -> Result<Vec<Actor>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let fixtures: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let users = fixtures["users"].as_array().ok_or("fixtures without users")?;
    users
        .iter()
        .map(|u| {
            Ok(Actor {
                id: UserId(uuid(&u["id"])?),
                project: ProjectId(uuid(&u["project"])?),
                creator: UserId(uuid(&u["creator"])?),
                posts: u["posts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| uuid(p).map(PostId))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

const LIMIT: u32 = 20;

/// The port calls of one request of `op`, as the service makes them.
async fn once(storage: &dyn Storage, op: &str, actor: &Actor, n: u64) -> Result<(), StorageError> {
    let limit = PageLimit::parse(i64::from(LIMIT)).map_err(|e| StorageError::backend(e.to_string()))?;
    match op {
        "me" => {
            storage.read().await?.users().get(actor.id).await?;
        }
        "projects" => {
            let query = ProjectListQuery { member: actor.id, after: None, limit, budget: PageBudget::DEFAULT };
            storage.read().await?.projects().list(&query).await?;
        }
        "project_posts" => {
            let mut reader = storage.read().await?;
            reader.members().get(actor.project, actor.id).await?;
            let query = ProjectPostsQuery {
                project: actor.project,
                status: None,
                after: None,
                limit,
                budget: PageBudget::DEFAULT,
            };
            reader.posts().list_for_project(&query).await?;
        }
        "creator_posts" => {
            let mut reader = storage.read().await?;
            reader.users().get(actor.creator).await?;
            let query = CreatorPostsQuery {
                creator: actor.creator,
                viewer: actor.id,
                drafts_visible_to: vec![ProjectRole::Owner, ProjectRole::Editor],
                after: None,
                limit,
                budget: PageBudget::DEFAULT,
            };
            reader.posts().list_for_creator(&query).await?;
        }
        "create_post" => {
            let title = PostTitle::parse(format!("Ceiling post {} {n}", actor.id.0.simple()))
                .map_err(|e| StorageError::backend(e.to_string()))?;
            let base = Slug::base_for(&title);
            let mut uow = storage.begin().await?;
            uow.members().get(actor.project, actor.id).await?;
            uow.users().get(actor.id).await?;
            let taken = uow.posts().slugs_like(actor.project, &base).await?;
            let now = OffsetDateTime::now_utc();
            let post = Post {
                id: PostId(Uuid::now_v7()),
                project_id: actor.project,
                slug: Slug::first_free(&base, &taken),
                title,
                body: PostBody::parse("A post written by the ceiling benchmark.")
                    .map_err(|e| StorageError::backend(e.to_string()))?,
                status: PostStatus::Published,
                creator_id: actor.id,
                created_at: now,
                updated_at: None,
                published_at: Some(now),
                version: 1,
            };
            uow.posts().insert(&post).await?;
            uow.commit().await?;
        }
        "patch_post" => {
            let Some(id) = actor.posts.get(n as usize % actor.posts.len().max(1)) else { return Ok(()) };
            let mut uow = storage.begin().await?;
            let Some(view) = uow.posts().view(*id).await? else { return Ok(()) };
            uow.members().get(view.post.project_id, actor.id).await?;
            let mut next = view.post.clone();
            next.title = PostTitle::parse(format!("Edited {n}")).map_err(|e| StorageError::backend(e.to_string()))?;
            next.updated_at = Some(OffsetDateTime::now_utc());
            next.version += 1;
            uow.posts().update(&next, view.post.version).await?;
            uow.commit().await?;
        }
        other => return Err(StorageError::backend(format!("unknown operation {other}"))),
    }
    Ok(())
}

pub async fn run(config: &Config, args: &CeilingArgs) -> Result<(), String> {
    let backend = Backend::open(config).await.map_err(|e| e.to_string())?;
    let storage = backend.storage();
    let actors = actors(&args.fixtures)?;
    if actors.is_empty() {
        return Err("no fixture users".into());
    }
    let op: Arc<str> = Arc::from(args.op.as_str());
    // Warm-up: one call per task, not measured.
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|task| {
            let (storage, op) = (storage.clone(), op.clone());
            // Each task works as one user, as one HTTP connection of the load generator would;
            // writes never race on one post.
            let actor = actors[task % actors.len()].clone();
            tokio::spawn(async move {
                let _ = once(storage.as_ref(), &op, &actor, 0).await;
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut n = 1;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    if once(storage.as_ref(), &op, &actor, n).await.is_err() {
                        errors += 1;
                    }
                    latencies.push(started.elapsed());
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort();
    let at =
        |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q) as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    // One line, read by bench/run.sh: op concurrency rate p50 p99 p99.9 errors.
    println!(
        "CEILING {} {} {:.0} {:.2} {:.2} {:.2} {}",
        args.op,
        args.concurrency,
        latencies.len() as f64 / args.seconds as f64,
        at(0.5),
        at(0.99),
        at(0.999),
        errors
    );
    backend.close().await;
    Ok(())
}
