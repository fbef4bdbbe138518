//! Sharing a project: listing, adding, re-roling and removing members.

use domain::members::{Member, MemberListQuery, MemberView};
use domain::projects::{ProjectAction, ProjectId, ProjectRole};
use domain::users::UserId;
use domain::{Conflict, StorageError};

use crate::auth::Principal;
use crate::errors::{AppError, Resource};
use crate::pagination::{parse_limit, ListKey, Listed, PageRequest};
use crate::workspace::{permit, require, WorkspaceDeps};

/// Races lost to a concurrent change of the same membership before giving up.
const ATTEMPTS: usize = 3;

/// Whether a `PUT` added the member or changed (or kept) their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Added,
    Updated,
}

#[derive(Clone)]
pub struct MemberService {
    deps: WorkspaceDeps,
}

impl MemberService {
    pub fn new(deps: WorkspaceDeps) -> Self {
        Self { deps }
    }

    /// The members of a project the caller belongs to, owner included.
    pub async fn list(
        &self,
        principal: Principal,
        project: ProjectId,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Listed<MemberView>, AppError> {
        let limit = parse_limit(limit).map_err(AppError::invalid)?;
        let list = ListKey::new("list_members", &[&project.to_string()]);
        let page = PageRequest::open(self.deps.cursors.as_ref(), list, cursor, limit)?;
        let mut reader = self.deps.storage.read().await?;
        require(reader.as_mut(), project, principal.user_id, ProjectAction::ListMembers).await?;
        let query = MemberListQuery { project, after: page.after.clone(), limit: page.limit, budget: page.budget };
        Ok(page.finish(reader.members().list(&query).await?))
    }

    /// Gives `user` the `role` in `project` (the owner only): adds them, or changes their role.
    pub async fn put(
        &self,
        principal: Principal,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<(MemberView, Outcome), AppError> {
        if role == ProjectRole::Owner {
            return Err(AppError::CannotChangeOwner);
        }
        for _ in 0..ATTEMPTS {
            match self.try_put(principal, project, user, role).await {
                // Someone added or removed this member between our read and our write: look again.
                Err(AppError::Conflict(Conflict::AlreadyMember)) | Err(AppError::VersionMismatch) => continue,
                other => return other,
            }
        }
        Err(AppError::Internal(format!("membership of {user} kept changing under us")))
    }

    async fn try_put(
        &self,
        principal: Principal,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<(MemberView, Outcome), AppError> {
        let mut uow = self.deps.storage.begin().await?;
        require(uow.as_mut(), project, principal.user_id, ProjectAction::ManageMembers).await?;
        let target = uow.users().get(user).await?.ok_or(AppError::NotFound(Resource::User))?;
        let (added_at, outcome) = match uow.members().get(project, user).await? {
            Some(member) if member.role == ProjectRole::Owner => return Err(AppError::CannotChangeOwner),
            Some(member) if member.role == role => (member.added_at, Outcome::Updated),
            Some(member) => {
                uow.members().set_role(project, user, role).await?;
                uow.commit().await?;
                (member.added_at, Outcome::Updated)
            }
            None => {
                let now = self.deps.clock.now();
                uow.members().insert(&Member { project_id: project, user_id: user, role, added_at: now }).await?;
                match uow.commit().await {
                    Ok(()) => {}
                    // The project was deleted between our read and our write.
                    Err(StorageError::ConditionFailed) => return Err(AppError::NotFound(Resource::Project)),
                    Err(e) => return Err(e.into()),
                }
                (now, Outcome::Added)
            }
        };
        Ok((MemberView { user: target.profile(), role, added_at }, outcome))
    }

    /// Removes `user` from `project`: the owner removes others, a member removes themself.
    pub async fn remove(&self, principal: Principal, project: ProjectId, user: UserId) -> Result<(), AppError> {
        let mut uow = self.deps.storage.begin().await?;
        let caller = require(uow.as_mut(), project, principal.user_id, ProjectAction::ListMembers).await?;
        if user == principal.user_id {
            if !caller.can(ProjectAction::Leave) {
                return Err(AppError::CannotChangeOwner);
            }
        } else {
            permit(Some(caller), ProjectAction::ManageMembers)?;
            let target = uow.members().get(project, user).await?.ok_or(AppError::NotFound(Resource::Member))?;
            if target.role == ProjectRole::Owner {
                return Err(AppError::CannotChangeOwner);
            }
        }
        match uow.members().remove(project, user).await {
            Ok(()) => {}
            Err(StorageError::ConditionFailed) => return Err(AppError::NotFound(Resource::Member)),
            Err(e) => return Err(e.into()),
        }
        uow.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
