//! Posts: `/api/v1/projects/{project_id}/posts`, `/api/v1/posts/{post_id}` and
//! `/api/v1/creators/{creator_id}/posts`.

pub mod schemas;

use application::pagination::Listed;
use application::posts::{NewPost, PostChanges, PostPatch, PostService};
use domain::idempotency::Scope;
use domain::posts::{PostId, PostView};
use domain::projects::ProjectId;
use domain::users::UserId;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use self::schemas::{CreatePostRequest, PostBody, PostPageBody, UpdatePostRequest};
use crate::api::etag::{etag, expected_version};
use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError};
use crate::api::retries::{answer, Answered};
use crate::api::schemas::fields::field;
use crate::api::schemas::roles::PostStatusBody;
use crate::api::security::BearerAuth;
use crate::api::tags::ApiTags;

pub struct PostsApi;

error_set!(CreatePostErrors: 400, 401, 403, 404, 408, 409, 413, 415, 422, 500, 503);
error_set!(ListPostsErrors: 400, 401, 404, 500, 503);
error_set!(GetPostErrors: 400, 401, 404, 500, 503);
error_set!(UpdatePostErrors: 400, 401, 403, 404, 408, 412, 413, 415, 422, 500, 503);
error_set!(DeletePostErrors: 400, 401, 403, 404, 412, 500, 503);

#[derive(ApiResponse)]
pub enum PostCreated {
    /// The new post.
    #[oai(status = 201)]
    Created(Serialized<PostBody>, #[oai(header = "Location")] String, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum PostResponse {
    #[oai(status = 200)]
    Ok(Serialized<PostBody>, #[oai(header = "ETag")] String),
}

impl PostResponse {
    fn of(view: PostView) -> Self {
        let etag = etag(view.post.version);
        PostResponse::Ok(Serialized(view.into()), etag)
    }
}

#[derive(ApiResponse)]
pub enum PostPageResponse {
    #[oai(status = 200)]
    Ok(Serialized<PostPageBody>),
}

impl From<Listed<PostView>> for PostPageResponse {
    fn from(listed: Listed<PostView>) -> Self {
        PostPageResponse::Ok(Serialized(PostPageBody {
            items: listed.items.into_iter().map(PostBody::from).collect(),
            next_cursor: listed.next_cursor,
        }))
    }
}

fn post_created(view: &PostView) -> PostCreated {
    let location = format!("/api/v1/posts/{}", view.post.id);
    PostCreated::Created(Serialized(view.clone().into()), location, etag(view.post.version))
}

#[derive(ApiResponse)]
pub enum PostDeleted {
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Posts")]
impl PostsApi {
    /// Write a post in a project (editors and the owner)
    #[oai(path = "/projects/:project_id/posts", method = "post", operation_id = "create_post")]
    async fn create_post(
        &self,
        auth: BearerAuth,
        posts: Data<&PostService>,
        req: &Request,
        project_id: Path<Uuid>,
        body: Json<CreatePostRequest>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<PostCreated>, ApiError<CreatePostErrors>> {
        let body = body.0;
        let new = NewPost { title: body.title.0, body: body.body.0, status: field(body.status, Into::into) };
        answer(req, idempotency_key.0, Scope::Caller(auth.0.user_id), post_created, |retry| {
            posts.create(auth.0, ProjectId(project_id.0), new, retry)
        })
        .await
    }

    /// A project's posts, newest activity first (viewers see published posts only)
    #[oai(path = "/projects/:project_id/posts", method = "get", operation_id = "list_project_posts")]
    async fn list_project_posts(
        &self,
        auth: BearerAuth,
        posts: Data<&PostService>,
        project_id: Path<Uuid>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 2048))]
        cursor: Query<Option<String>>,
        /// Only posts of this status.
        status: Query<Option<PostStatusBody>>,
    ) -> Result<PostPageResponse, ApiError<ListPostsErrors>> {
        let status = status.0.map(Into::into);
        let listed =
            posts.list_for_project(auth.0, ProjectId(project_id.0), status, cursor.0.as_deref(), limit.0).await?;
        Ok(listed.into())
    }

    /// A post of a project you are a member of
    #[oai(path = "/posts/:post_id", method = "get", operation_id = "get_post")]
    async fn get_post(
        &self,
        auth: BearerAuth,
        posts: Data<&PostService>,
        post_id: Path<Uuid>,
    ) -> Result<PostResponse, ApiError<GetPostErrors>> {
        let view = posts.get(auth.0, PostId(post_id.0)).await?;
        Ok(PostResponse::of(view))
    }

    /// Change a post (its creator or the project owner)
    ///
    /// Publishing sets `published_at` the first time. With `If-Match: "<version>"` the change happens
    /// only if the post is still at that version.
    #[oai(path = "/posts/:post_id", method = "patch", operation_id = "update_post")]
    async fn update_post(
        &self,
        auth: BearerAuth,
        posts: Data<&PostService>,
        post_id: Path<Uuid>,
        body: Json<UpdatePostRequest>,
        #[oai(name = "If-Match", validator(pattern = r#"^(|\*|(W/)?"[^"]*")$"#))] if_match: Header<Option<String>>,
    ) -> Result<PostResponse, ApiError<UpdatePostErrors>> {
        let body = body.0;
        let patch = PostPatch {
            title: field(body.title, |t| t.0),
            body: field(body.body, |b| b.0),
            status: field(body.status, Into::into),
        };
        // Every field is checked before the precondition: a bad body is 422 whatever its If-Match.
        let changes = PostChanges::parse(patch)?;
        let expected = expected_version(if_match.0.as_deref())?;
        let view = posts.update(auth.0, PostId(post_id.0), changes, expected).await?;
        Ok(PostResponse::of(view))
    }

    /// Delete a post (its creator or the project owner)
    #[oai(path = "/posts/:post_id", method = "delete", operation_id = "delete_post")]
    async fn delete_post(
        &self,
        auth: BearerAuth,
        posts: Data<&PostService>,
        post_id: Path<Uuid>,
        #[oai(name = "If-Match", validator(pattern = r#"^(|\*|(W/)?"[^"]*")$"#))] if_match: Header<Option<String>>,
    ) -> Result<PostDeleted, ApiError<DeletePostErrors>> {
        let expected = expected_version(if_match.0.as_deref())?;
        posts.delete(auth.0, PostId(post_id.0), expected).await?;
        Ok(PostDeleted::NoContent)
    }

    /// A creator's posts in the projects you can see, newest activity first
    ///
    /// The work one page may take is bounded: where many of the creator's posts are in projects
    /// you cannot see, a page may hold fewer posts than `limit`, or none, and still have a
    /// `next_cursor`, which may lead to an empty last page. Follow it until it is `null`.
    #[oai(path = "/creators/:creator_id/posts", method = "get", operation_id = "list_creator_posts")]
    async fn list_creator_posts(
        &self,
        auth: BearerAuth,
        posts: Data<&PostService>,
        creator_id: Path<Uuid>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 2048))]
        cursor: Query<Option<String>>,
    ) -> Result<PostPageResponse, ApiError<ListPostsErrors>> {
        let listed = posts.list_for_creator(auth.0, UserId(creator_id.0), cursor.0.as_deref(), limit.0).await?;
        Ok(listed.into())
    }
}
