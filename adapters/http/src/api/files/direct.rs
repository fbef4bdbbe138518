//! Direct uploads: `POST /api/v1/projects/{project_id}/uploads` declares a file and answers a
//! presigned PUT of the blob store; the client sends the bytes there, then
//! `POST /api/v1/uploads/{upload_id}/complete` makes the file once they are the declared ones.
//! Only on a blob store that presigns (S3); elsewhere both answer `501 not_supported`.

use application::direct_uploads::{DirectUpload, NewDirectUpload};
use application::files::FileService;
use domain::idempotency::Scope;
use domain::projects::ProjectId;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::schemas::{CreateUploadRequest, DirectUploadBody};
use super::{file_created, FileCreated};
use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError};
use crate::api::retries::{answer, Answered};
use crate::api::security::BearerAuth;
use crate::api::tags::ApiTags;

pub struct DirectUploadsApi;

error_set!(CreateUploadErrors: 400, 401, 403, 404, 408, 413, 415, 422, 500, 501, 503);
error_set!(CompleteUploadErrors: 400, 401, 403, 404, 409, 422, 500, 501, 503);

#[derive(ApiResponse)]
pub enum UploadCreated {
    /// Send the bytes to `url`, then complete the upload.
    #[oai(status = 201)]
    Created(Serialized<DirectUploadBody>),
}

fn upload_created(upload: &DirectUpload) -> UploadCreated {
    UploadCreated::Created(Serialized(upload.into()))
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Files")]
impl DirectUploadsApi {
    /// Begin a direct upload to the blob store (editors and the owner; S3 only)
    ///
    /// Declares the file; the answer is a presigned URL, valid 15 minutes, to send its bytes to
    /// with the given method and headers (nothing else is accepted there), and the `upload_id`
    /// to complete it with in the same 15 minutes. For clients that should not stream the bytes
    /// through this server. On the filesystem blob store: `501 not_supported`.
    #[oai(path = "/projects/:project_id/uploads", method = "post", operation_id = "create_upload")]
    async fn create_upload(
        &self,
        auth: BearerAuth,
        files: Data<&FileService>,
        req: &Request,
        project_id: Path<Uuid>,
        body: Json<CreateUploadRequest>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<UploadCreated>, ApiError<CreateUploadErrors>> {
        let body = body.0;
        let new = NewDirectUpload {
            name: body.name.0,
            content_type: body.content_type.0,
            size: body.size,
            sha256: body.sha256.0,
        };
        let (caller, project, files) = (auth.0, ProjectId(project_id.0), files.0);
        answer(req, idempotency_key.0, Scope::Caller(caller.user_id), upload_created, |_| {
            files.begin_upload(caller, project, new)
        })
        .await
    }

    /// Complete a direct upload: the file is made once its bytes are the declared ones
    ///
    /// Answers the new file as an upload does. Bytes that are missing or not the declared ones
    /// (size, SHA-256) are deleted: `422 upload_mismatch`. An upload id that is not yours or whose
    /// 15 minutes are up: `404 upload_not_found`; one completed already: `409 conflict`. On the
    /// filesystem blob store: `501 not_supported`.
    #[oai(path = "/uploads/:upload_id/complete", method = "post", operation_id = "complete_upload")]
    async fn complete_upload(
        &self,
        auth: BearerAuth,
        files: Data<&FileService>,
        req: &Request,
        /// The `upload_id` the upload began with.
        #[oai(validator(max_length = 2048))]
        upload_id: Path<String>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<FileCreated>, ApiError<CompleteUploadErrors>> {
        let (caller, files) = (auth.0, files.0);
        let upload_id = upload_id.0;
        answer(req, idempotency_key.0, Scope::Caller(caller.user_id), file_created, |retry| {
            files.complete_upload(caller, &upload_id, retry)
        })
        .await
    }
}
