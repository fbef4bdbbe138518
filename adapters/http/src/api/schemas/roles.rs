//! Project roles and post statuses as the API spells them.

use domain::posts::PostStatus;
use domain::projects::ProjectRole;
use poem_openapi::Enum;

/// A person's role in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename = "ProjectRole", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ProjectRoleBody {
    Owner,
    Editor,
    Viewer,
}

impl From<ProjectRole> for ProjectRoleBody {
    fn from(role: ProjectRole) -> Self {
        match role {
            ProjectRole::Owner => ProjectRoleBody::Owner,
            ProjectRole::Editor => ProjectRoleBody::Editor,
            ProjectRole::Viewer => ProjectRoleBody::Viewer,
        }
    }
}

/// A role the owner can give: everyone but the owner is an editor or a viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename = "MemberRole", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MemberRoleBody {
    Editor,
    Viewer,
}

impl From<MemberRoleBody> for ProjectRole {
    fn from(role: MemberRoleBody) -> Self {
        match role {
            MemberRoleBody::Editor => ProjectRole::Editor,
            MemberRoleBody::Viewer => ProjectRole::Viewer,
        }
    }
}

/// `draft` until published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename = "PostStatus", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PostStatusBody {
    Draft,
    Published,
}

impl From<PostStatus> for PostStatusBody {
    fn from(status: PostStatus) -> Self {
        match status {
            PostStatus::Draft => PostStatusBody::Draft,
            PostStatus::Published => PostStatusBody::Published,
        }
    }
}

impl From<PostStatusBody> for PostStatus {
    fn from(status: PostStatusBody) -> Self {
        match status {
            PostStatusBody::Draft => PostStatus::Draft,
            PostStatusBody::Published => PostStatus::Published,
        }
    }
}
