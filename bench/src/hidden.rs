//! `tessera-bench hidden`: what `/creators/{id}/posts` costs the storage when the creator's posts
//! are in projects the caller cannot see — calls by kind and, on DynamoDB, consumed read units —
//! for the first page and for the walk to the end. It seeds its own data on an empty storage: a
//! creator with `--posts` published posts spread over `--projects` projects the caller is not in,
//! and three older posts in a project the caller can see (so the walk ends with something), then
//! pages through the repository port as the service does (without its one GetItem of the creator).

use std::collections::BTreeMap;

use bootstrap::backend::Backend;
use bootstrap::Config;
use domain::members::Member;
use domain::posts::{CreatorPostsQuery, Post, PostBody, PostId, PostStatus, PostTitle, Slug};
use domain::projects::{Description, Project, ProjectId, ProjectName, ProjectRole};
use domain::users::{Email, PasswordHash, PersonName, Role, User, UserId, Username};
use domain::{PageBudget, PageLimit};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct HiddenArgs {
    /// The creator's posts in projects the caller is not a member of.
    #[arg(long, default_value_t = 20_000)]
    posts: usize,
    /// Projects those posts are spread over, evenly.
    #[arg(long, default_value_t = 20)]
    projects: usize,
    /// Characters of each post's body.
    #[arg(long, default_value_t = 1000)]
    body: usize,
    /// Page size asked for.
    #[arg(long, default_value_t = 20)]
    limit: i64,
}

fn user(name: &str, at: OffsetDateTime) -> Result<User, String> {
    Ok(User {
        id: UserId(Uuid::now_v7()),
        email: Email::parse(&format!("{name}@bench.example")).map_err(|e| e.message)?,
        username: Username::parse(name).map_err(|e| e.message)?,
        first_name: PersonName::parse("first_name", "Bench").map_err(|e| e.message)?,
        last_name: PersonName::parse("last_name", name).map_err(|e| e.message)?,
        avatar_url: None,
        role: Role::User,
        password_hash: PasswordHash("$argon2id$v=19$m=7168,t=5,p=1$c2FsdA$aGFzaA".into()),
        session_epoch: 0,
        version: 1,
        created_at: at,
        updated_at: at,
    })
}

fn project(owner: &User, name: &str, at: OffsetDateTime) -> Result<(Project, Member), String> {
    let project = Project {
        id: ProjectId(Uuid::now_v7()),
        name: ProjectName::parse(name).map_err(|e| e.message)?,
        description: Description::parse("").map_err(|e| e.message)?,
        owner_id: owner.id,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    let owner = Member { project_id: project.id, user_id: owner.id, role: ProjectRole::Owner, added_at: at };
    Ok((project, owner))
}

fn post(project: &Project, creator: &User, n: usize, body: &str, at: OffsetDateTime) -> Result<Post, String> {
    Ok(Post {
        id: PostId(Uuid::now_v7()),
        project_id: project.id,
        slug: Slug::parse(&format!("post-{n}")).map_err(|e| e.message)?,
        title: PostTitle::parse(format!("Post {n}")).map_err(|e| e.message)?,
        body: PostBody::parse(body).map_err(|e| e.message)?,
        status: PostStatus::Published,
        creator_id: creator.id,
        created_at: at,
        updated_at: None,
        published_at: Some(at),
        version: 1,
    })
}

/// Storage calls by kind and consumed read units so far, from the process's own metrics.
#[derive(Debug, Default, Clone)]
struct Cost {
    calls: BTreeMap<String, f64>,
    read_units: f64,
}

impl Cost {
    /// From the Prometheus text of the process's metrics.
    fn now(rendered: &str) -> Cost {
        let mut cost = Cost::default();
        for line in rendered.lines() {
            let Some((name, value)) = line.rsplit_once(' ') else { continue };
            let Ok(value) = value.parse::<f64>() else { continue };
            if name.starts_with("tessera_storage_calls_total{") && name.contains("operation=\"posts.list_for_creator\"")
            {
                let call = name.split("call=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("?");
                *cost.calls.entry(call.to_owned()).or_default() += value;
            } else if name == "tessera_dynamodb_consumed_capacity_units_sum{kind=\"read\"}" {
                cost.read_units += value;
            }
        }
        cost
    }

    fn since(&self, before: &Cost) -> String {
        let calls: Vec<String> = self
            .calls
            .iter()
            .map(|(call, n)| format!("{call} {}", n - before.calls.get(call).copied().unwrap_or(0.0)))
            .collect();
        format!("{}; {:.1} read units", calls.join(", "), self.read_units - before.read_units)
    }
}

pub async fn run(config: &Config, args: &HiddenArgs) -> Result<(), String> {
    let metrics = bootstrap::telemetry::prometheus();
    let backend = Backend::open(config).await.map_err(|e| e.to_string())?;
    backend.migrate().await.map_err(|e| e.to_string())?;
    let storage = backend.storage();
    let start = OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp() - 86_400)
        .map_err(|e| e.to_string())?;
    let at = |seconds: usize| start + Duration::seconds(seconds as i64);
    let err = |e: domain::StorageError| e.to_string();

    let creator = user("creator", at(0))?;
    let caller = user("caller", at(0))?;
    let (shared, owner) = project(&creator, "Shared", at(1))?;
    let mut projects = Vec::with_capacity(args.projects);
    let mut uow = storage.begin().await.map_err(err)?;
    uow.users().insert(&creator).await.map_err(err)?;
    uow.users().insert(&caller).await.map_err(err)?;
    uow.projects().insert(&shared).await.map_err(err)?;
    uow.members().insert(&owner).await.map_err(err)?;
    let viewer = Member { project_id: shared.id, user_id: caller.id, role: ProjectRole::Viewer, added_at: at(1) };
    uow.members().insert(&viewer).await.map_err(err)?;
    for n in 0..3 {
        uow.posts().insert(&post(&shared, &creator, n, "seen", at(2 + n))?).await.map_err(err)?;
    }
    uow.commit().await.map_err(err)?;
    for chunk in (0..args.projects).collect::<Vec<_>>().chunks(25) {
        let mut uow = storage.begin().await.map_err(err)?;
        for &p in chunk {
            let (hidden, owner) = project(&creator, &format!("Hidden {p}"), at(10))?;
            uow.projects().insert(&hidden).await.map_err(err)?;
            uow.members().insert(&owner).await.map_err(err)?;
            projects.push(hidden);
        }
        uow.commit().await.map_err(err)?;
    }
    let body: String = "lorem ipsum ".chars().cycle().take(args.body).collect();
    // 30 posts per unit of work: on DynamoDB 60 items (post, pointer) and a counter per project.
    for chunk in (0..args.posts).collect::<Vec<_>>().chunks(30) {
        let mut uow = storage.begin().await.map_err(err)?;
        for &n in chunk {
            let project = &projects[n % projects.len().max(1)];
            uow.posts().insert(&post(project, &creator, 10 + n, &body, at(100 + n))?).await.map_err(err)?;
        }
        uow.commit().await.map_err(err)?;
    }
    eprintln!("seeded {} hidden posts in {} projects, 3 visible ones", args.posts, args.projects);

    let limit = PageLimit::parse(args.limit).map_err(|e| e.message)?;
    let mut after = None;
    let mut pages = 0;
    let mut seen = 0;
    let before = Cost::now(&metrics.render());
    loop {
        let query = CreatorPostsQuery {
            creator: creator.id,
            viewer: caller.id,
            drafts_visible_to: vec![ProjectRole::Owner, ProjectRole::Editor],
            after: after.take(),
            limit,
            budget: PageBudget::DEFAULT,
        };
        let page = storage.read().await.map_err(err)?.posts().list_for_creator(&query).await.map_err(err)?;
        pages += 1;
        seen += page.items.len();
        if pages == 1 {
            println!("first page: {} posts; {}", page.items.len(), Cost::now(&metrics.render()).since(&before));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    println!("whole walk: {pages} pages, {seen} posts; {}", Cost::now(&metrics.render()).since(&before));
    backend.close().await;
    Ok(())
}
