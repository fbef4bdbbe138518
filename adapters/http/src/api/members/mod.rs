//! `/api/v1/projects/{project_id}/members`: sharing a project.

pub mod schemas;

use application::members::{MemberService, Outcome};
use domain::projects::ProjectId;
use domain::users::UserId;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use self::schemas::{MemberBody, MemberPageBody, PutMemberRequest};
use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError};
use crate::api::security::BearerAuth;
use crate::api::tags::ApiTags;

pub struct MembersApi;

error_set!(ListMembersErrors: 400, 401, 404, 500, 503);
error_set!(PutMemberErrors: 400, 401, 403, 404, 413, 415, 422, 500, 503);
error_set!(RemoveMemberErrors: 400, 401, 403, 404, 422, 500, 503);

#[derive(ApiResponse)]
pub enum MemberPageResponse {
    #[oai(status = 200)]
    Ok(Serialized<MemberPageBody>),
}

#[derive(ApiResponse)]
pub enum MemberPut {
    /// The person was added to the project.
    #[oai(status = 201)]
    Added(Serialized<MemberBody>),
    /// The person was a member already; their role is now the one asked for.
    #[oai(status = 200)]
    Updated(Serialized<MemberBody>),
}

#[derive(ApiResponse)]
pub enum MemberRemoved {
    /// Removed (or left).
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Members")]
impl MembersApi {
    /// The members of a project, the owner included
    #[oai(path = "/projects/:project_id/members", method = "get", operation_id = "list_members")]
    async fn list_members(
        &self,
        auth: BearerAuth,
        members: Data<&MemberService>,
        project_id: Path<Uuid>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 2048))]
        cursor: Query<Option<String>>,
    ) -> Result<MemberPageResponse, ApiError<ListMembersErrors>> {
        let listed = members.list(auth.0, ProjectId(project_id.0), cursor.0.as_deref(), limit.0).await?;
        Ok(MemberPageResponse::Ok(Serialized(MemberPageBody {
            items: listed.items.iter().map(MemberBody::from).collect(),
            next_cursor: listed.next_cursor,
        })))
    }

    /// Share the project with a person, or change their role (the owner only)
    #[oai(path = "/projects/:project_id/members/:user_id", method = "put", operation_id = "put_member")]
    async fn put_member(
        &self,
        auth: BearerAuth,
        members: Data<&MemberService>,
        project_id: Path<Uuid>,
        user_id: Path<Uuid>,
        body: Json<PutMemberRequest>,
    ) -> Result<MemberPut, ApiError<PutMemberErrors>> {
        let (view, outcome) =
            members.put(auth.0, ProjectId(project_id.0), UserId(user_id.0), body.0.role.into()).await?;
        let body = Serialized(MemberBody::from(&view));
        Ok(match outcome {
            Outcome::Added => MemberPut::Added(body),
            Outcome::Updated => MemberPut::Updated(body),
        })
    }

    /// Remove a member (the owner), or leave the project (the member themself)
    #[oai(path = "/projects/:project_id/members/:user_id", method = "delete", operation_id = "remove_member")]
    async fn remove_member(
        &self,
        auth: BearerAuth,
        members: Data<&MemberService>,
        project_id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> Result<MemberRemoved, ApiError<RemoveMemberErrors>> {
        members.remove(auth.0, ProjectId(project_id.0), UserId(user_id.0)).await?;
        Ok(MemberRemoved::NoContent)
    }
}
