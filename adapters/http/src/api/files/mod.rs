//! Files: `/api/v1/projects/{project_id}/files` and `/api/v1/files/{file_id}`. An upload's body is
//! the file itself, streamed to the blob store as it arrives (the edge does not read it first);
//! a download streams from the store.

mod direct;
mod download;
mod ranges;
pub mod schemas;
mod upload_body;

use std::sync::Mutex;

use application::files::{FileService, NewFile, ReceivedFile};
use application::pagination::Listed;
use application::AppError;
use domain::files::{FileId, FileView, MediaType};
use domain::idempotency::Scope;
use domain::projects::ProjectId;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Binary;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

pub use self::direct::DirectUploadsApi;
use self::download::{content_disposition, file_etag, Download};
use self::ranges::{none_match, parse_range};
use self::schemas::{FileBody, FilePageBody};
pub use self::upload_body::{is_upload, BodyIdle};
use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError, ProblemResponse};
use crate::api::retries::{answer, answer_for_body, Answered, BodyDigest};
use crate::api::schemas::inputs::FileNameInput;
use crate::api::security::BearerAuth;
use crate::api::tags::ApiTags;

pub struct FilesApi;

error_set!(UploadFileErrors: 400, 401, 403, 404, 409, 413, 415, 422, 500, 503);
error_set!(ListFilesErrors: 400, 401, 404, 500, 503);
error_set!(GetFileErrors: 400, 401, 404, 500, 503);
error_set!(DownloadFileErrors: 400, 401, 404, 416, 500, 503);
error_set!(DeleteFileErrors: 400, 401, 403, 404, 500, 503);

#[derive(ApiResponse)]
pub enum FileCreated {
    /// The file is stored and listed.
    #[oai(status = 201)]
    Created(Serialized<FileBody>, #[oai(header = "Location")] String, #[oai(header = "ETag")] String),
}

fn file_created(view: &FileView) -> FileCreated {
    let location = format!("/api/v1/files/{}", view.file.id);
    FileCreated::Created(Serialized(view.into()), location, file_etag(&view.file))
}

#[derive(ApiResponse)]
pub enum FileResponse {
    #[oai(status = 200)]
    Ok(Serialized<FileBody>, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum FilePageResponse {
    #[oai(status = 200)]
    Ok(Serialized<FilePageBody>),
}

impl From<Listed<FileView>> for FilePageResponse {
    fn from(listed: Listed<FileView>) -> Self {
        FilePageResponse::Ok(Serialized(FilePageBody {
            items: listed.items.iter().map(FileBody::from).collect(),
            next_cursor: listed.next_cursor,
        }))
    }
}

#[derive(ApiResponse)]
pub enum FileDeleted {
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Files")]
impl FilesApi {
    /// Upload a file to a project (editors and the owner)
    ///
    /// The body is the file's bytes, sent with the file's own `Content-Type`
    /// (`application/octet-stream` when unknown). They are stored as they arrive: an upload
    /// over the size limit is refused with `413` as soon as it passes it, and one that does not
    /// complete leaves nothing visible.
    #[oai(path = "/projects/:project_id/files", method = "post", operation_id = "upload_file")]
    #[allow(clippy::too_many_arguments)]
    async fn upload_file(
        &self,
        auth: BearerAuth,
        files: Data<&FileService>,
        req: &Request,
        project_id: Path<Uuid>,
        /// The file's name.
        name: Query<FileNameInput>,
        body: Binary<Body>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<FileCreated>, ApiError<UploadFileErrors>> {
        let limit = files.settings().max_bytes;
        if upload_body::announced_length(req).is_some_and(|length| length > limit) {
            return Err(AppError::UploadTooLarge { limit }.into());
        }
        // Any media type is welcome, but it must be one: the header is no field of a 422.
        if req.content_type().is_some_and(|kind| MediaType::parse(kind).is_err()) {
            let detail = "The Content-Type is not a media type (`type/subtype`, parameters allowed).";
            let status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            return Err(ProblemResponse::new(status, "unsupported_media_type", "Unsupported media type", detail).into());
        }
        let new = NewFile {
            name: name.0 .0,
            content_type: req.content_type().map(str::to_owned),
            bytes: upload_body::byte_stream(body.0, req.data::<BodyIdle>().copied()),
        };
        let (caller, project, files) = (auth.0, ProjectId(project_id.0), files.0);
        let Some(key) = idempotency_key.0 else {
            return answer(req, None, Scope::Caller(caller.user_id), file_created, |retry| {
                files.upload(caller, project, new, retry)
            })
            .await;
        };
        // A keyed upload is told from another by its bytes, known once they are stored: the
        // claim comes after them, and bytes whose claim does not run (a replay, a refusal) go.
        let received = files.receive(caller, project, new).await?;
        let digest = BodyDigest(received.fingerprint());
        let unclaimed: Mutex<Option<ReceivedFile>> = Mutex::new(Some(received));
        let answered = answer_for_body(req, digest, Some(key), Scope::Caller(caller.user_id), file_created, |retry| {
            let received = unclaimed.lock().ok().and_then(|mut slot| slot.take());
            async move {
                let received = received.ok_or_else(|| AppError::Internal("an upload was claimed twice".into()))?;
                files.store(caller, received, retry).await
            }
        })
        .await;
        let left = unclaimed.lock().ok().and_then(|mut slot| slot.take());
        if let Some(received) = left {
            files.discard(received).await;
        }
        answered
    }

    /// A project's files, newest first
    #[oai(path = "/projects/:project_id/files", method = "get", operation_id = "list_files")]
    async fn list_files(
        &self,
        auth: BearerAuth,
        files: Data<&FileService>,
        project_id: Path<Uuid>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 2048))]
        cursor: Query<Option<String>>,
    ) -> Result<FilePageResponse, ApiError<ListFilesErrors>> {
        let listed = files.list(auth.0, ProjectId(project_id.0), cursor.0.as_deref(), limit.0).await?;
        Ok(listed.into())
    }

    /// A file's metadata
    #[oai(path = "/files/:file_id", method = "get", operation_id = "get_file")]
    async fn get_file(
        &self,
        auth: BearerAuth,
        files: Data<&FileService>,
        file_id: Path<Uuid>,
    ) -> Result<FileResponse, ApiError<GetFileErrors>> {
        let view = files.get(auth.0, FileId(file_id.0)).await?;
        Ok(FileResponse::Ok(Serialized((&view).into()), file_etag(&view.file)))
    }

    /// A file's bytes: whole, or one range (`Range: bytes=FIRST-LAST`)
    ///
    /// With `--files-redirect` (S3), `307` to a presigned URL of the bytes, valid 5 minutes, which
    /// answers the range itself.
    #[oai(path = "/files/:file_id/content", method = "get", operation_id = "download_file")]
    async fn download_file(
        &self,
        auth: BearerAuth,
        files: Data<&FileService>,
        file_id: Path<Uuid>,
        /// One byte range, `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-LENGTH`; several ranges
        /// or another unit are ignored (the whole file is sent).
        #[oai(name = "Range", validator(max_length = 200))]
        range: Header<Option<String>>,
        /// The file's `ETag`: answered `304` when it still is.
        #[oai(name = "If-None-Match", validator(max_length = 2048))]
        if_none_match: Header<Option<String>>,
    ) -> Result<Download, ApiError<DownloadFileErrors>> {
        let view = files.get(auth.0, FileId(file_id.0)).await?;
        let etag = file_etag(&view.file);
        if none_match(if_none_match.0.as_deref(), &etag) {
            return Ok(Download::NotModified { etag });
        }
        // The store answers the range itself.
        let disposition = content_disposition(view.file.name.as_str());
        if let Some(presigned) = files.redirect(&view.file, &disposition).await? {
            return Ok(Download::Redirect { location: presigned.url });
        }
        let range = parse_range(range.0.as_deref()).map(|r| r.resolve(view.file.size)).transpose()?;
        let read = files.open(&view.file, range).await?;
        Ok(Download::Bytes { file: view.file, read, range })
    }

    /// Delete a file (its uploader, or the project's owner)
    #[oai(path = "/files/:file_id", method = "delete", operation_id = "delete_file")]
    async fn delete_file(
        &self,
        auth: BearerAuth,
        files: Data<&FileService>,
        file_id: Path<Uuid>,
    ) -> Result<FileDeleted, ApiError<DeleteFileErrors>> {
        files.delete(auth.0, FileId(file_id.0)).await?;
        Ok(FileDeleted::NoContent)
    }
}
