//! Request and response schemas of the projects feature.

use domain::projects::ProjectView;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::Object;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::schemas::inputs::{DescriptionInput, ProjectNameInput};
use crate::api::schemas::roles::ProjectRoleBody;
use crate::api::users::schemas::ProfileBody;

/// A project as the caller sees it.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Project")]
pub struct ProjectBody {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub owner: ProfileBody,
    pub my_role: ProjectRoleBody,
    /// Members, the owner included.
    pub member_count: i64,
    /// Posts, drafts included.
    pub post_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Increases with every change; sent as the `ETag`.
    pub version: i64,
}

impl From<&ProjectView> for ProjectBody {
    fn from(view: &ProjectView) -> Self {
        let p = &view.project;
        Self {
            id: p.id.0,
            name: p.name.as_str().to_owned(),
            description: p.description.as_str().to_owned(),
            owner: ProfileBody::from(&view.owner),
            my_role: view.my_role.into(),
            member_count: view.member_count,
            post_count: view.post_count,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// A new project; the caller becomes its owner.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateProjectRequest {
    pub name: ProjectNameInput,
    /// Empty when left out.
    pub description: MaybeUndefined<DescriptionInput>,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    pub name: MaybeUndefined<ProjectNameInput>,
    pub description: MaybeUndefined<DescriptionInput>,
}

/// A page of projects.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "ProjectPage")]
pub struct ProjectPageBody {
    pub items: Vec<ProjectBody>,
    /// Pass as `cursor` to get the next page; `null` exactly when the list has no more items. A page
    /// also stops early at about 1 MiB of JSON, so it may hold fewer than `limit` items and still
    /// have a cursor.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
