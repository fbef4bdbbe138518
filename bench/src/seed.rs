//! A deterministic, realistic data set: users, projects shared with a few members each, and
//! posts with titles and bodies of realistic sizes, mostly published, spread unevenly over the
//! projects. Written in units of work of at most 30 records, as a busy service would.

use std::path::PathBuf;
use std::sync::Arc;

use application::ports::PasswordHasher;
use application::ports::Storage;
use bootstrap::backend::Backend;
use bootstrap::Config;
use domain::members::Member;
use domain::posts::{Post, PostBody, PostId, PostStatus, PostTitle, Slug};
use domain::projects::{Description, Project, ProjectId, ProjectName, ProjectRole};
use domain::users::{Email, Password, PasswordHash, PersonName, Role, User, UserId, Username};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const PASSWORD: &str = "bench password 1";

/// How many of the first users the fixtures describe (the load scripts log them in).
const FIXTURE_USERS: usize = 64;

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[arg(long, default_value_t = 2000)]
    projects: usize,
    #[arg(long, default_value_t = 50_000)]
    posts: usize,
    /// Where to write the fixtures (JSON).
    #[arg(long)]
    fixtures: PathBuf,
}

const WORDS: &[&str] = &[
    "plan",
    "release",
    "design",
    "review",
    "budget",
    "team",
    "launch",
    "notes",
    "draft",
    "roadmap",
    "sprint",
    "customer",
    "feedback",
    "metrics",
    "report",
    "quarter",
    "hiring",
    "backend",
    "frontend",
    "storage",
    "latency",
    "incident",
    "retro",
    "onboarding",
    "migration",
    "security",
    "audit",
    "pricing",
    "growth",
    "support",
    "docs",
    "meeting",
    "weekly",
    "summary",
    "proposal",
    "decision",
    "risk",
    "timeline",
    "milestone",
    "update",
];

fn words(rng: &mut StdRng, min: usize, max: usize) -> String {
    let n = rng.gen_range(min..=max);
    (0..n).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

/// A body of `len` characters or a little more: sentences of words, paragraphs now and then.
fn body(rng: &mut StdRng, len: usize) -> String {
    let mut text = String::with_capacity(len + 64);
    while text.len() < len {
        let mut sentence = words(rng, 6, 16);
        if let Some(first) = sentence.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        text.push_str(&sentence);
        text.push_str(if rng.gen_bool(0.15) { ".\n\n" } else { ". " });
    }
    text
}

fn bad(what: &str) -> impl Fn(domain::FieldViolation) -> String + '_ {
    move |e| format!("{what}: {e}")
}

struct Seeded {
    project: Project,
    members: Vec<Member>,
    posts: Vec<(PostId, UserId)>,
}

pub async fn run(config: &Config, args: &SeedArgs) -> Result<(), String> {
    let backend = Backend::open(config).await.map_err(|e| e.to_string())?;
    backend.migrate().await.map_err(|e| e.to_string())?;
    let storage = backend.storage();
    let hasher = tessera_security::Argon2Hasher::new(tessera_security::HashingLimits { concurrency: 1 })
        .map_err(|e| e.to_string())?;
    // Every seeded user has the same password: one hash, computed once, stored for all.
    let hash: PasswordHash = hasher
        .hash(&Password::parse("password", PASSWORD).map_err(bad("password"))?)
        .await
        .map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(20261122);
    // Whole seconds: every backend keeps milliseconds, so nothing is rounded on the way in.
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let start = OffsetDateTime::from_unix_timestamp(now - 30 * 86_400).map_err(|e| e.to_string())?;
    let at = |seconds: i64| start + Duration::seconds(seconds);

    let mut users = Vec::with_capacity(args.users);
    for i in 0..args.users {
        users.push(User {
            id: UserId(Uuid::now_v7()),
            email: Email::parse(&format!("user{i:04}@bench.example")).map_err(bad("email"))?,
            username: Username::parse(&format!("user{i:04}")).map_err(bad("username"))?,
            first_name: PersonName::parse("first_name", "Bench").map_err(bad("name"))?,
            last_name: PersonName::parse("last_name", format!("User {i}")).map_err(bad("name"))?,
            avatar_url: None,
            role: Role::User,
            password_hash: hash.clone(),
            session_epoch: 0,
            version: 1,
            created_at: at(i as i64),
            updated_at: at(i as i64),
        });
    }
    for chunk in users.chunks(30) {
        let mut uow = storage.begin().await.map_err(|e| e.to_string())?;
        for user in chunk {
            uow.users().insert(user).await.map_err(|e| e.to_string())?;
        }
        uow.commit().await.map_err(|e| e.to_string())?;
    }
    eprintln!("seeded {} users", users.len());

    // Posts per project: uneven (a few busy projects, many quiet ones), summing to `posts`.
    let weights: Vec<f64> = (0..args.projects).map(|_| rng.gen_range(0.2f64..1.0).powi(3)).collect();
    let total: f64 = weights.iter().sum();
    let mut seeded = Vec::with_capacity(args.projects);
    let mut post_total = 0usize;
    for p in 0..args.projects {
        let owner = &users[p % users.len()];
        let created = at(10_000 + p as i64 * 60);
        let project = Project {
            id: ProjectId(Uuid::now_v7()),
            name: ProjectName::parse(words(&mut rng, 1, 4)).map_err(bad("project name"))?,
            description: Description::parse(words(&mut rng, 0, 20)).map_err(bad("description"))?,
            owner_id: owner.id,
            created_at: created,
            updated_at: created,
            version: 1,
        };
        let mut members =
            vec![Member { project_id: project.id, user_id: owner.id, role: ProjectRole::Owner, added_at: created }];
        let extra = rng.gen_range(2..=8);
        while members.len() < extra + 1 {
            let user = &users[rng.gen_range(0..users.len())];
            if members.iter().all(|m| m.user_id != user.id) {
                let role = if rng.gen_bool(0.6) { ProjectRole::Editor } else { ProjectRole::Viewer };
                let added_at = created + Duration::seconds(members.len() as i64);
                members.push(Member { project_id: project.id, user_id: user.id, role, added_at });
            }
        }
        let mut uow = storage.begin().await.map_err(|e| e.to_string())?;
        uow.projects().insert(&project).await.map_err(|e| e.to_string())?;
        for member in &members {
            uow.members().insert(member).await.map_err(|e| e.to_string())?;
        }
        uow.commit().await.map_err(|e| e.to_string())?;

        let wanted = if p + 1 == args.projects {
            args.posts.saturating_sub(post_total)
        } else {
            ((weights[p] / total) * args.posts as f64).round() as usize
        };
        let writers: Vec<UserId> =
            members.iter().filter(|m| m.role != ProjectRole::Viewer).map(|m| m.user_id).collect();
        let mut taken: Vec<Slug> = Vec::new();
        let mut posts = Vec::with_capacity(wanted);
        let mut batch = Vec::with_capacity(30);
        for n in 0..wanted {
            let title = PostTitle::parse(words(&mut rng, 3, 9)).map_err(bad("title"))?;
            let slug = Slug::first_free(&Slug::base_for(&title), &taken);
            taken.push(slug.clone());
            let len = rng.gen_range(200..=4000);
            let created_at = created + Duration::minutes(n as i64 + 1);
            let status = if rng.gen_bool(0.85) { PostStatus::Published } else { PostStatus::Draft };
            let post = Post {
                id: PostId(Uuid::now_v7()),
                project_id: project.id,
                slug,
                title,
                body: PostBody::parse(body(&mut rng, len)).map_err(bad("body"))?,
                status,
                creator_id: writers[rng.gen_range(0..writers.len())],
                created_at,
                updated_at: None,
                published_at: (status == PostStatus::Published).then_some(created_at),
                version: 1,
            };
            posts.push((post.id, post.creator_id));
            batch.push(post);
            if batch.len() == 30 || n + 1 == wanted {
                write_posts(&storage, &batch).await?;
                batch.clear();
            }
        }
        post_total += wanted;
        seeded.push(Seeded { project, members, posts });
        if (p + 1) % 200 == 0 {
            eprintln!("seeded {} projects, {post_total} posts", p + 1);
        }
    }
    write_fixtures(&args.fixtures, &users, &seeded)?;
    backend.close().await;
    Ok(())
}

async fn write_posts(storage: &Arc<dyn Storage>, posts: &[Post]) -> Result<(), String> {
    let mut uow = storage.begin().await.map_err(|e| e.to_string())?;
    for post in posts {
        uow.posts().insert(post).await.map_err(|e| e.to_string())?;
    }
    uow.commit().await.map_err(|e| e.to_string())
}

/// For each of the first users: a project they own, another member of it (whose posts they
/// browse), and posts they wrote in projects where they can still change them.
fn write_fixtures(path: &PathBuf, users: &[User], seeded: &[Seeded]) -> Result<(), String> {
    let mut rows = Vec::new();
    for user in users.iter().take(FIXTURE_USERS) {
        let Some(owned) = seeded.iter().find(|s| s.project.owner_id == user.id) else { continue };
        let creator = owned.members.iter().find(|m| m.user_id != user.id).map_or(user.id, |m| m.user_id);
        let writable = |s: &&Seeded| s.members.iter().any(|m| m.user_id == user.id && m.role != ProjectRole::Viewer);
        let posts: Vec<String> = seeded
            .iter()
            .filter(writable)
            .flat_map(|s| s.posts.iter().filter(|(_, c)| *c == user.id).map(|(id, _)| id.0.to_string()))
            .take(200)
            .collect();
        rows.push(json!({
            "username": user.username.as_str(),
            "id": user.id.0.to_string(),
            "project": owned.project.id.0.to_string(),
            "creator": creator.0.to_string(),
            "posts": posts,
        }));
    }
    let fixtures = json!({ "password": PASSWORD, "users": rows });
    let text = serde_json::to_string_pretty(&fixtures).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
