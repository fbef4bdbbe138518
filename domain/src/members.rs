//! Project membership: who holds which role in a project. The owner is a member too.

use time::OffsetDateTime;

use crate::pagination::{Continuation, JsonSize, PageBudget, PageLimit};
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

/// The profile, and at most 80 bytes for the role, the time and field names.
impl JsonSize for MemberView {
    fn json_size(&self) -> usize {
        80 + self.user.json_size()
    }
}

/// One page of a project's members, in the order they were added (then by user id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberListQuery {
    pub project: ProjectId,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
    pub budget: PageBudget,
}
