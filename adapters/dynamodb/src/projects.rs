//! `ProjectRepository` on DynamoDB. A project's partition holds the project item (with exact
//! `member_count`, `post_count` and `file_bytes`, changed in the transaction of the write they
//! count), its members, its posts and its files. A person's projects are read from membership
//! copies in that person's partition, ordered by the project's creation through the `by_order`
//! local index.

use async_trait::async_trait;
use domain::ports::ProjectRepository;
use domain::projects::{Description, Project, ProjectId, ProjectListQuery, ProjectName, ProjectView};
use domain::users::UserId;
use domain::{Page, StorageError};
use time::OffsetDateTime;

use crate::cursor::Position;
use crate::item::{millis, n, s, Fields, Item};
use crate::keys::{user_partition, Key, BY_ORDER, DELETING, MEMBERSHIP_PREFIX, ORDER, PK, SK};
use crate::members::membership_from_item;
use crate::table::QuerySpec;
use crate::unit_of_work::DynamoUnit;
use crate::users::profile_from_item;
use crate::writes::{Failure, Write};

const MEMBERSHIP_POSITION: Position<'static> = Position { names: &[PK, SK, ORDER] };

fn project_item(project: &Project) -> Item {
    Item::from([
        ("id".to_owned(), s(project.id.0.to_string())),
        ("name".to_owned(), s(project.name.as_str())),
        ("description".to_owned(), s(project.description.as_str())),
        ("owner_id".to_owned(), s(project.owner_id.0.to_string())),
        ("created_at".to_owned(), n(millis(project.created_at))),
        ("updated_at".to_owned(), n(millis(project.updated_at))),
        ("version".to_owned(), n(project.version)),
        ("member_count".to_owned(), n(0)),
        ("post_count".to_owned(), n(0)),
    ])
}

/// A live project from its item; `None` when its deletion has begun.
pub(crate) fn project_from_item(item: &Item) -> Result<Option<(Project, i64, i64)>, StorageError> {
    let f = Fields::of(item, "project");
    if f.has(DELETING) {
        return Ok(None);
    }
    let project = Project {
        id: ProjectId(f.uuid("id")?),
        name: f.parsed("name", |v| ProjectName::parse(v))?,
        description: f.parsed("description", |v| Description::parse(v))?,
        owner_id: UserId(f.uuid("owner_id")?),
        created_at: f.time("created_at")?,
        updated_at: f.time("updated_at")?,
        version: f.int("version")?,
    };
    Ok(Some((project, f.int("member_count")?, f.int("post_count")?)))
}

impl DynamoUnit {
    /// The live project, read for the port operation `operation` (the name its call is timed
    /// under).
    async fn project(&mut self, operation: &'static str, id: ProjectId) -> Result<Option<Project>, StorageError> {
        let item = self.table.get(operation, &Key::project(id)).await?;
        Ok(self.remember_project(item.as_ref())?.map(|(project, _, _)| project))
    }

    /// The live project, from this unit's reads when it made one.
    pub(crate) async fn stored_project(
        &mut self,
        operation: &'static str,
        id: ProjectId,
    ) -> Result<Option<Project>, StorageError> {
        match self.projects.get(&id) {
            Some(project) => Ok(Some(project.clone())),
            None => self.project(operation, id).await,
        }
    }

    pub(crate) fn remember_project(
        &mut self,
        item: Option<&Item>,
    ) -> Result<Option<(Project, i64, i64)>, StorageError> {
        let live = item.map(project_from_item).transpose()?.flatten();
        if let Some((project, _, _)) = &live {
            self.projects.insert(project.id, project.clone());
        }
        Ok(live)
    }
}

#[async_trait]
impl ProjectRepository for DynamoUnit {
    async fn insert(&mut self, project: &Project) -> Result<(), StorageError> {
        self.write([Write::put(Key::project(project.id), project_item(project))
            .when("attribute_not_exists(pk)", Failure::ConditionFailed)])?;
        self.projects.insert(project.id, project.clone());
        Ok(())
    }

    async fn get(&mut self, id: ProjectId) -> Result<Option<Project>, StorageError> {
        self.project("projects.get", id).await
    }

    async fn view(&mut self, id: ProjectId, viewer: UserId) -> Result<Option<ProjectView>, StorageError> {
        let mut found = self.table.batch_get("projects.view", &[Key::project(id), Key::member(id, viewer)]).await?;
        let Some((project, member_count, post_count)) = self.remember_project(found.get(&Key::project(id)))? else {
            return Ok(None);
        };
        let Some(member) = found.remove(&Key::member(id, viewer)) else { return Ok(None) };
        let my_role = crate::members::member_from_item(&member)?.role;
        let owner = self
            .table
            .get("projects.view", &Key::user(project.owner_id))
            .await?
            .ok_or_else(|| StorageError::backend(format!("project {} without its owner", id.0)))?;
        Ok(Some(ProjectView { owner: profile_from_item(&owner)?, project, my_role, member_count, post_count }))
    }

    async fn update(&mut self, project: &Project, expected_version: i64) -> Result<(), StorageError> {
        self.write([Write::update(
            Key::project(project.id),
            "SET #name = :name, description = :description, updated_at = :updated, #version = :version",
        )
        .when("#version = :expected AND attribute_not_exists(#deleting)", Failure::ConditionFailed)
        .name("#name", "name")
        .name("#version", "version")
        .name("#deleting", DELETING)
        .value(":name", s(project.name.as_str()))
        .value(":description", s(project.description.as_str()))
        .value(":updated", n(millis(project.updated_at)))
        .value(":version", n(project.version))
        .value(":expected", n(expected_version))])
    }

    /// Marks the project deleted (from then on every read treats it as gone) and records it in
    /// the deletions partition, in one transaction; its members, posts and files are removed
    /// after the commit, however many there are (see `deletion.rs`).
    async fn delete(&mut self, id: ProjectId, expected_version: i64) -> Result<(), StorageError> {
        let now = millis(OffsetDateTime::now_utc());
        self.write([
            Write::update(Key::project(id), "SET #deleting = :now")
                .when("#version = :expected AND attribute_not_exists(#deleting)", Failure::ConditionFailed)
                .name("#version", "version")
                .name("#deleting", DELETING)
                .value(":now", n(now))
                .value(":expected", n(expected_version)),
            Write::put(Key::deletion(id), Item::from([("project_id".to_owned(), s(id.0.to_string()))])),
        ])?;
        self.delete_project_later(id);
        Ok(())
    }

    async fn list(&mut self, query: &ProjectListQuery) -> Result<Page<ProjectView>, StorageError> {
        let partition = user_partition(query.member);
        let mut start = match &query.after {
            Some(after) => Some(MEMBERSHIP_POSITION.start_key(after, |name, value| match name {
                PK => value == partition,
                _ => value.starts_with(MEMBERSHIP_PREFIX),
            })?),
            None => None,
        };
        let wanted = query.limit.get() as usize + 1;
        let mut rows = Vec::with_capacity(wanted);
        // Projects being deleted are skipped; the loop keeps the page full regardless.
        loop {
            let (memberships, next) = self
                .table
                .query(
                    "projects.list",
                    QuerySpec {
                        index: Some(BY_ORDER),
                        partition: (PK, partition.clone()),
                        prefix: Some((ORDER, MEMBERSHIP_PREFIX.to_owned())),
                        forward: false,
                        start: start.take(),
                        limit: (wanted - rows.len()) as i32,
                        keys_only: false,
                    },
                )
                .await?;
            let parsed = memberships.iter().map(membership_from_item).collect::<Result<Vec<_>, _>>()?;
            let mut keys = Vec::with_capacity(parsed.len() * 2);
            for m in &parsed {
                keys.push(Key::project(m.project_id));
                keys.push(Key::user(m.owner_id));
            }
            let found = self.table.batch_get("projects.list", &keys).await?;
            for (item, m) in memberships.into_iter().zip(parsed) {
                let Some((project, member_count, post_count)) =
                    found.get(&Key::project(m.project_id)).map(project_from_item).transpose()?.flatten()
                else {
                    continue;
                };
                let owner = found
                    .get(&Key::user(m.owner_id))
                    .ok_or_else(|| StorageError::backend(format!("project {} without its owner", m.project_id.0)))?;
                let view = ProjectView {
                    owner: profile_from_item(owner)?,
                    project,
                    my_role: m.role,
                    member_count,
                    post_count,
                };
                rows.push((item, view));
            }
            match next {
                Some(next) if rows.len() < wanted => start = Some(next),
                _ => break,
            }
        }
        Ok(Page::from_overfetch(rows, query.limit, query.budget, |(item, _)| MEMBERSHIP_POSITION.after(item))
            .map(|(_, view)| view))
    }
}
