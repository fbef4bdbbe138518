//! Request and response schemas of project sharing.

use domain::members::MemberView;
use poem_openapi::Object;
use time::OffsetDateTime;

use crate::api::schemas::roles::{MemberRoleBody, ProjectRoleBody};
use crate::api::users::schemas::ProfileBody;

/// A member of a project; the owner is listed too.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Member")]
pub struct MemberBody {
    pub user: ProfileBody,
    pub role: ProjectRoleBody,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}

impl From<&MemberView> for MemberBody {
    fn from(view: &MemberView) -> Self {
        Self { user: ProfileBody::from(&view.user), role: view.role.into(), added_at: view.added_at }
    }
}

/// The role to give.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PutMemberRequest {
    pub role: MemberRoleBody,
}

/// A page of members.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "MemberPage")]
pub struct MemberPageBody {
    pub items: Vec<MemberBody>,
    /// Pass as `cursor` to get the next page; `null` exactly when the list has no more items. A page
    /// also stops early at about 1 MiB of JSON, so it may hold fewer than `limit` items and still
    /// have a cursor.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
