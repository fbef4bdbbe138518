//! `/api/v1/projects`: create, list, read, change and delete projects.

pub mod schemas;

use application::projects::{NewProject, ProjectChanges, ProjectPatch, ProjectService};
use domain::idempotency::Scope;
use domain::projects::{ProjectId, ProjectView};
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use self::schemas::{CreateProjectRequest, ProjectBody, ProjectPageBody, UpdateProjectRequest};
use crate::api::etag::{etag, expected_version};
use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError};
use crate::api::retries::{answer, Answered};
use crate::api::schemas::fields::field;
use crate::api::security::BearerAuth;
use crate::api::tags::ApiTags;

pub struct ProjectsApi;

error_set!(CreateProjectErrors: 400, 401, 408, 409, 413, 415, 422, 500, 503);
error_set!(ListProjectsErrors: 400, 401, 500, 503);
error_set!(GetProjectErrors: 400, 401, 404, 500, 503);
error_set!(UpdateProjectErrors: 400, 401, 403, 404, 408, 412, 413, 415, 422, 500, 503);
error_set!(DeleteProjectErrors: 400, 401, 403, 404, 412, 500, 503);

#[derive(ApiResponse)]
pub enum ProjectCreated {
    /// The new project; the caller is its owner.
    #[oai(status = 201)]
    Created(Serialized<ProjectBody>, #[oai(header = "Location")] String, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum ProjectResponse {
    #[oai(status = 200)]
    Ok(Serialized<ProjectBody>, #[oai(header = "ETag")] String),
}

fn project_created(view: &ProjectView) -> ProjectCreated {
    let location = format!("/api/v1/projects/{}", view.project.id);
    ProjectCreated::Created(Serialized(view.into()), location, etag(view.project.version))
}

impl ProjectResponse {
    fn of(view: &ProjectView) -> Self {
        ProjectResponse::Ok(Serialized(view.into()), etag(view.project.version))
    }
}

#[derive(ApiResponse)]
pub enum ProjectPageResponse {
    #[oai(status = 200)]
    Ok(Serialized<ProjectPageBody>),
}

#[derive(ApiResponse)]
pub enum ProjectDeleted {
    /// Deleted, with its members and posts.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Projects")]
impl ProjectsApi {
    /// Create a project
    #[oai(path = "/projects", method = "post", operation_id = "create_project")]
    async fn create_project(
        &self,
        auth: BearerAuth,
        projects: Data<&ProjectService>,
        req: &Request,
        body: Json<CreateProjectRequest>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<ProjectCreated>, ApiError<CreateProjectErrors>> {
        let body = body.0;
        let new = NewProject { name: body.name.0, description: field(body.description, |d| d.0) };
        answer(req, idempotency_key.0, Scope::Caller(auth.0.user_id), project_created, |retry| {
            projects.create(auth.0, new, retry)
        })
        .await
    }

    /// The projects you own or are a member of, newest first
    #[oai(path = "/projects", method = "get", operation_id = "list_projects")]
    async fn list_projects(
        &self,
        auth: BearerAuth,
        projects: Data<&ProjectService>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 2048))]
        cursor: Query<Option<String>>,
    ) -> Result<ProjectPageResponse, ApiError<ListProjectsErrors>> {
        let listed = projects.list(auth.0, cursor.0.as_deref(), limit.0).await?;
        Ok(ProjectPageResponse::Ok(Serialized(ProjectPageBody {
            items: listed.items.iter().map(ProjectBody::from).collect(),
            next_cursor: listed.next_cursor,
        })))
    }

    /// A project you are a member of
    #[oai(path = "/projects/:project_id", method = "get", operation_id = "get_project")]
    async fn get_project(
        &self,
        auth: BearerAuth,
        projects: Data<&ProjectService>,
        project_id: Path<Uuid>,
    ) -> Result<ProjectResponse, ApiError<GetProjectErrors>> {
        let view = projects.get(auth.0, ProjectId(project_id.0)).await?;
        Ok(ProjectResponse::of(&view))
    }

    /// Change a project (editors and the owner)
    ///
    /// With `If-Match: "<version>"` the change happens only if the project is still at that version.
    #[oai(path = "/projects/:project_id", method = "patch", operation_id = "update_project")]
    async fn update_project(
        &self,
        auth: BearerAuth,
        projects: Data<&ProjectService>,
        project_id: Path<Uuid>,
        body: Json<UpdateProjectRequest>,
        #[oai(name = "If-Match", validator(pattern = r#"^(|\*|(W/)?"[^"]*")$"#))] if_match: Header<Option<String>>,
    ) -> Result<ProjectResponse, ApiError<UpdateProjectErrors>> {
        let body = body.0;
        let patch = ProjectPatch { name: field(body.name, |n| n.0), description: field(body.description, |d| d.0) };
        // Every field is checked before the precondition: a bad body is 422 whatever its If-Match.
        let changes = ProjectChanges::parse(patch)?;
        let expected = expected_version(if_match.0.as_deref())?;
        let view = projects.update(auth.0, ProjectId(project_id.0), changes, expected).await?;
        Ok(ProjectResponse::of(&view))
    }

    /// Delete a project with its members and posts (the owner only)
    #[oai(path = "/projects/:project_id", method = "delete", operation_id = "delete_project")]
    async fn delete_project(
        &self,
        auth: BearerAuth,
        projects: Data<&ProjectService>,
        project_id: Path<Uuid>,
        #[oai(name = "If-Match", validator(pattern = r#"^(|\*|(W/)?"[^"]*")$"#))] if_match: Header<Option<String>>,
    ) -> Result<ProjectDeleted, ApiError<DeleteProjectErrors>> {
        let expected = expected_version(if_match.0.as_deref())?;
        projects.delete(auth.0, ProjectId(project_id.0), expected).await?;
        Ok(ProjectDeleted::NoContent)
    }
}
