//! Projects: create, list, read, change and delete, with the caller's role checked every time.

use domain::members::Member;
use domain::projects::{
    Description, Project, ProjectAction, ProjectId, ProjectListQuery, ProjectName, ProjectRole, ProjectView,
};

use crate::auth::Principal;
use crate::errors::{AppError, Resource};
use crate::idempotency::{record, Retry};
use crate::pagination::{parse_limit, ListKey, Listed, PageRequest};
use crate::validation::{validate, Field};
use crate::versions::expected_version;
use crate::workspace::{permit, require, WorkspaceDeps};

/// A new project as it arrives: raw strings, parsed by the service.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub name: String,
    /// Empty when left out; `null` is refused.
    pub description: Field<String>,
}

/// A change to a project as it arrives: each field left out, `null`, or a raw string.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub name: Field<String>,
    pub description: Field<String>,
}

/// A change to a project, every field valid; `None` keeps the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectChanges {
    pub name: Option<ProjectName>,
    pub description: Option<Description>,
}

impl ProjectChanges {
    /// Parses every field of `patch` at once: one `Validation` error names each bad field. Done
    /// before the change's precondition is looked at, so a bad body is 422 whatever its `If-Match`.
    pub fn parse(patch: ProjectPatch) -> Result<Self, AppError> {
        let (name, description) = validate((
            patch.name.non_null("name", ProjectName::parse),
            patch.description.non_null("description", Description::parse),
        ))?;
        Ok(Self { name, description })
    }
}

#[derive(Clone)]
pub struct ProjectService {
    deps: WorkspaceDeps,
}

impl ProjectService {
    pub fn new(deps: WorkspaceDeps) -> Self {
        Self { deps }
    }

    /// Creates a project owned by the caller, who becomes its first member.
    pub async fn create(
        &self,
        principal: Principal,
        new: NewProject,
        retry: Option<Retry<ProjectView>>,
    ) -> Result<ProjectView, AppError> {
        let (name, description) =
            validate((ProjectName::parse(new.name), new.description.non_null("description", Description::parse)))?;
        let description = description.unwrap_or_default();
        let now = self.deps.clock.now();
        let project = Project {
            id: ProjectId(self.deps.ids.new_id()),
            name,
            description,
            owner_id: principal.user_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut uow = self.deps.storage.begin().await?;
        let owner = uow.users().get(principal.user_id).await?.ok_or(AppError::Unauthenticated)?;
        uow.projects().insert(&project).await?;
        uow.members()
            .insert(&Member { project_id: project.id, user_id: owner.id, role: ProjectRole::Owner, added_at: now })
            .await?;
        let view = ProjectView {
            project,
            owner: owner.profile(),
            my_role: ProjectRole::Owner,
            member_count: 1,
            post_count: 0,
        };
        record(retry.as_ref(), uow.as_mut(), &view).await?;
        uow.commit().await?;
        Ok(view)
    }

    /// The projects the caller owns or is a member of, newest first.
    pub async fn list(
        &self,
        principal: Principal,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Listed<ProjectView>, AppError> {
        let limit = parse_limit(limit).map_err(AppError::invalid)?;
        // Bound to the caller: the list is theirs, and so is its cursor.
        let list = ListKey::new("list_projects", &[&principal.user_id.to_string()]);
        let page = PageRequest::open(self.deps.cursors.as_ref(), list, cursor, limit)?;
        let mut reader = self.deps.storage.read().await?;
        let query = ProjectListQuery {
            member: principal.user_id,
            after: page.after.clone(),
            limit: page.limit,
            budget: page.budget,
        };
        Ok(page.finish(reader.projects().list(&query).await?))
    }

    /// A project the caller is a member of.
    pub async fn get(&self, principal: Principal, id: ProjectId) -> Result<ProjectView, AppError> {
        let mut reader = self.deps.storage.read().await?;
        reader.projects().view(id, principal.user_id).await?.ok_or(AppError::NotFound(Resource::Project))
    }

    /// Renames or re-describes a project (editors and the owner).
    pub async fn update(
        &self,
        principal: Principal,
        id: ProjectId,
        changes: ProjectChanges,
        if_match: Option<i64>,
    ) -> Result<ProjectView, AppError> {
        let mut uow = self.deps.storage.begin().await?;
        let mut view =
            uow.projects().view(id, principal.user_id).await?.ok_or(AppError::NotFound(Resource::Project))?;
        permit(Some(view.my_role), ProjectAction::Edit)?;
        let expected = expected_version(if_match, view.project.version)?;
        let mut next = view.project.clone();
        if let Some(name) = changes.name {
            next.name = name;
        }
        if let Some(description) = changes.description {
            next.description = description;
        }
        if next == view.project {
            return Ok(view);
        }
        next.version += 1;
        next.updated_at = self.deps.clock.now();
        uow.projects().update(&next, expected).await?;
        uow.commit().await?;
        view.project = next;
        Ok(view)
    }

    /// Deletes a project with its members and posts (the owner only).
    pub async fn delete(&self, principal: Principal, id: ProjectId, if_match: Option<i64>) -> Result<(), AppError> {
        let mut uow = self.deps.storage.begin().await?;
        require(uow.as_mut(), id, principal.user_id, ProjectAction::Delete).await?;
        let project = uow.projects().get(id).await?.ok_or(AppError::NotFound(Resource::Project))?;
        let expected = expected_version(if_match, project.version)?;
        // A lost compare-and-set is `VersionMismatch` through the common StorageError mapping.
        uow.projects().delete(id, expected).await?;
        uow.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "projects_tests.rs"]
mod tests;
