//! Project membership: who holds which role in a project. The owner is a member too.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::errors::StorageError;
use crate::pagination::{Continuation, Page, PageLimit};
use crate::projects::{ProjectId, ProjectRole};
use crate::users::{Profile, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub role: ProjectRole,
    pub added_at: OffsetDateTime,
}

/// A member with their public profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub user: Profile,
    pub role: ProjectRole,
    pub added_at: OffsetDateTime,
}

/// One page of a project's members, in the order they were added (then by user id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberListQuery {
    pub project: ProjectId,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
}

#[async_trait]
pub trait MemberRepository: Send {
    /// `user`'s membership of `project`; `None` when not a member or the project does not exist.
    async fn get(&mut self, project: ProjectId, user: UserId) -> Result<Option<Member>, StorageError>;

    /// Adds a member. MUST fail with `Conflict(AlreadyMember)` when the person is one already, and
    /// with `ConditionFailed` when the project is gone.
    async fn insert(&mut self, member: &Member) -> Result<(), StorageError>;

    /// Changes a member's role. MUST fail with `ConditionFailed` when they are no member.
    async fn set_role(&mut self, project: ProjectId, user: UserId, role: ProjectRole) -> Result<(), StorageError>;

    /// Removes a member. MUST fail with `ConditionFailed` when they are no member.
    async fn remove(&mut self, project: ProjectId, user: UserId) -> Result<(), StorageError>;

    async fn list(&mut self, query: &MemberListQuery) -> Result<Page<MemberView>, StorageError>;
}
