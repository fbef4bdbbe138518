//! Request and response schemas of the posts feature.

use domain::posts::PostView;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::Object;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::schemas::inputs::{PostBodyInput, PostTitleInput};
use crate::api::schemas::roles::PostStatusBody;
use crate::api::users::schemas::ProfileBody;

/// A post with its creator's profile.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "Post")]
pub struct PostBody {
    pub id: Uuid,
    pub project_id: Uuid,
    /// From the title: lower-case letters, digits and `-`; unique in the project.
    pub slug: String,
    pub title: String,
    pub body: String,
    pub status: PostStatusBody,
    pub creator: ProfileBody,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// `null` until the post is first changed.
    #[oai(nullable)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// Set the first time the post is published; never changes after.
    #[oai(nullable)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// Increases with every change; sent as the `ETag`.
    pub version: i64,
}

/// By value: a page's bodies move into the response instead of being copied.
impl From<PostView> for PostBody {
    fn from(view: PostView) -> Self {
        let p = view.post;
        Self {
            id: p.id.0,
            project_id: p.project_id.0,
            slug: p.slug.into_string(),
            title: p.title.into_string(),
            body: p.body.into_string(),
            status: p.status.into(),
            creator: ProfileBody::from(&view.creator),
            created_at: p.created_at,
            updated_at: p.updated_at,
            published_at: p.published_at,
            version: p.version,
        }
    }
}

/// A new post; `status` defaults to `draft`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreatePostRequest {
    pub title: PostTitleInput,
    pub body: PostBodyInput,
    pub status: MaybeUndefined<PostStatusBody>,
}

/// Fields to change; absent fields stay as they are. The slug does not change with the title.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdatePostRequest {
    pub title: MaybeUndefined<PostTitleInput>,
    pub body: MaybeUndefined<PostBodyInput>,
    pub status: MaybeUndefined<PostStatusBody>,
}

/// A page of posts.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "PostPage")]
pub struct PostPageBody {
    pub items: Vec<PostBody>,
    /// Pass as `cursor` to get the next page; `null` exactly when the list has no more items. A page
    /// also stops early at about 1 MiB of JSON, so it may hold fewer than `limit` items and still
    /// have a cursor.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
