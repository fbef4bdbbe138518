//! `MemberRepository` on DynamoDB. A membership is two items written together: the member in
//! the project's partition (ordered by when they were added) and a copy in the member's own
//! partition (ordered by the project's creation, for "my projects").

use async_trait::async_trait;
use domain::members::{Member, MemberListQuery, MemberView};
use domain::ports::MemberRepository;
use domain::projects::{Project, ProjectId, ProjectRole};
use domain::users::UserId;
use domain::{Conflict, Page, StorageError};
use storage_support::role_from_text;

use crate::cursor::Position;
use crate::item::{millis, n, s, sortable, Fields, Item};
use crate::keys::{project_partition, Key, BY_ORDER, MEMBERSHIP_PREFIX, MEMBER_PREFIX, ORDER, PK, SK};
use crate::table::QuerySpec;
use crate::unit_of_work::{Counts, DynamoUnit};
use crate::users::profile_from_item;
use crate::writes::{Failure, Write};

const MEMBER_POSITION: Position<'static> = Position { names: &[PK, SK, ORDER] };

/// A membership as its copy in the member's partition records it.
pub(crate) struct Membership {
    pub project_id: ProjectId,
    pub owner_id: UserId,
    pub role: ProjectRole,
}

fn member_item(member: &Member) -> Item {
    Item::from([
        ("project_id".to_owned(), s(member.project_id.0.to_string())),
        ("user_id".to_owned(), s(member.user_id.0.to_string())),
        ("role".to_owned(), s(member.role.as_str())),
        ("added_at".to_owned(), n(millis(member.added_at))),
        (ORDER.to_owned(), s(format!("{MEMBER_PREFIX}{}#{}", sortable(member.added_at), member.user_id.0))),
    ])
}

fn membership_item(member: &Member, project: &Project) -> Item {
    Item::from([
        ("project_id".to_owned(), s(project.id.0.to_string())),
        ("owner_id".to_owned(), s(project.owner_id.0.to_string())),
        ("role".to_owned(), s(member.role.as_str())),
        (ORDER.to_owned(), s(format!("{MEMBERSHIP_PREFIX}{}#{}", sortable(project.created_at), project.id.0))),
    ])
}

pub(crate) fn member_from_item(item: &Item) -> Result<Member, StorageError> {
    let f = Fields::of(item, "member");
    Ok(Member {
        project_id: ProjectId(f.uuid("project_id")?),
        user_id: UserId(f.uuid("user_id")?),
        role: role_from_text(f.str("role")?)?,
        added_at: f.time("added_at")?,
    })
}

pub(crate) fn membership_from_item(item: &Item) -> Result<Membership, StorageError> {
    let f = Fields::of(item, "membership");
    Ok(Membership {
        project_id: ProjectId(f.uuid("project_id")?),
        owner_id: UserId(f.uuid("owner_id")?),
        role: role_from_text(f.str("role")?)?,
    })
}

fn set_role(key: Key, role: ProjectRole) -> Write {
    Write::update(key, "SET #role = :role")
        .when("attribute_exists(pk)", Failure::ConditionFailed)
        .name("#role", "role")
        .value(":role", s(role.as_str()))
}

#[async_trait]
impl MemberRepository for DynamoUnit {
    /// One BatchGetItem of the member and the project: a member of a project whose deletion has
    /// begun is no member.
    async fn get(&mut self, project: ProjectId, user: UserId) -> Result<Option<Member>, StorageError> {
        let mut found =
            self.table.batch_get("members.get", &[Key::project(project), Key::member(project, user)]).await?;
        if self.remember_project(found.get(&Key::project(project)))?.is_none() {
            return Ok(None);
        }
        found.remove(&Key::member(project, user)).as_ref().map(member_from_item).transpose()
    }

    async fn insert(&mut self, member: &Member) -> Result<(), StorageError> {
        let project =
            self.stored_project("members.insert", member.project_id).await?.ok_or(StorageError::ConditionFailed)?;
        let already = Failure::Conflict(Conflict::AlreadyMember);
        self.write([
            Write::put(Key::member(member.project_id, member.user_id), member_item(member))
                .when("attribute_not_exists(pk)", already),
            Write::put(Key::membership(member.user_id, member.project_id), membership_item(member, &project))
                .when("attribute_not_exists(pk)", already),
        ])?;
        self.count(member.project_id, Counts { members: 1, ..Counts::default() })
    }

    async fn set_role(&mut self, project: ProjectId, user: UserId, role: ProjectRole) -> Result<(), StorageError> {
        self.write([set_role(Key::member(project, user), role), set_role(Key::membership(user, project), role)])
    }

    async fn remove(&mut self, project: ProjectId, user: UserId) -> Result<(), StorageError> {
        self.write([
            Write::delete(Key::member(project, user)).when("attribute_exists(pk)", Failure::ConditionFailed),
            Write::delete(Key::membership(user, project)),
        ])?;
        self.count(project, Counts { members: -1, ..Counts::default() })
    }

    async fn list(&mut self, query: &MemberListQuery) -> Result<Page<MemberView>, StorageError> {
        let partition = project_partition(query.project);
        let start = match &query.after {
            Some(after) => Some(MEMBER_POSITION.start_key(after, |name, value| match name {
                PK => value == partition,
                _ => value.starts_with(MEMBER_PREFIX),
            })?),
            None => None,
        };
        let items = self
            .table
            .query_up_to(
                "members.list",
                QuerySpec {
                    index: Some(BY_ORDER),
                    partition: (PK, partition),
                    prefix: Some((ORDER, MEMBER_PREFIX.to_owned())),
                    forward: true,
                    start,
                    limit: query.limit.get() as i32 + 1,
                    keys_only: false,
                },
            )
            .await?;
        let members = items.iter().map(member_from_item).collect::<Result<Vec<_>, _>>()?;
        let found = self
            .table
            .batch_get("members.list", &members.iter().map(|m| Key::user(m.user_id)).collect::<Vec<_>>())
            .await?;
        let mut rows = Vec::with_capacity(members.len());
        for (item, member) in items.into_iter().zip(members) {
            let user = found
                .get(&Key::user(member.user_id))
                .ok_or_else(|| StorageError::backend(format!("member {} without a user", member.user_id.0)))?;
            rows.push((
                item,
                MemberView { user: profile_from_item(user)?, role: member.role, added_at: member.added_at },
            ));
        }
        Ok(Page::from_overfetch(rows, query.limit, query.budget, |(item, _)| MEMBER_POSITION.after(item))
            .map(|(_, view)| view))
    }
}
