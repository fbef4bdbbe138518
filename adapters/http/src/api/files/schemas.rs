//! Schemas of the files feature (an upload's request body is the file's bytes; a direct upload's
//! declaration is JSON).

use std::collections::BTreeMap;

use application::direct_uploads::DirectUpload;
use domain::files::FileView;
use poem_openapi::Object;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::schemas::inputs::{FileNameInput, MediaTypeInput, Sha256Input};
use crate::api::users::schemas::ProfileBody;

/// A file's metadata; its bytes are at `/api/v1/files/{id}/content`.
// API.md's `File`, named apart from the upload type generated clients bring: openapi-python-client
// calls its own `File`, and a schema of that name breaks the code it generates.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "ProjectFile")]
pub struct FileBody {
    pub id: Uuid,
    pub project_id: Uuid,
    /// The file's label, 1 to 255 characters.
    pub name: String,
    /// The media type it was uploaded with.
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    /// Lower-case hex SHA-256 of the bytes; also the `ETag` of the file and of its content.
    pub sha256: String,
    pub uploader: ProfileBody,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&FileView> for FileBody {
    fn from(view: &FileView) -> Self {
        let f = &view.file;
        Self {
            id: f.id.0,
            project_id: f.project_id.0,
            name: f.name.as_str().to_owned(),
            content_type: f.content_type.as_str().to_owned(),
            size: i64::try_from(f.size).unwrap_or(i64::MAX),
            sha256: f.sha256.to_hex(),
            uploader: ProfileBody::from(&view.uploader),
            created_at: f.created_at,
        }
    }
}

/// A page of files.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "ProjectFilePage")]
pub struct FilePageBody {
    pub items: Vec<FileBody>,
    /// Pass as `cursor` to get the next page; `null` exactly when the list has no more items. A page
    /// also stops early at about 1 MiB of JSON, so it may hold fewer than `limit` items and still
    /// have a cursor.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

/// A file to upload straight to the blob store: what its bytes will be.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateUploadRequest {
    /// The file's name.
    pub name: FileNameInput,
    /// The media type it is uploaded with (sent again as the PUT's `Content-Type`).
    pub content_type: MediaTypeInput,
    /// In bytes, at most the server's file size limit.
    #[oai(validator(minimum(value = "0")))]
    pub size: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: Sha256Input,
}

/// Where to send a direct upload's bytes, and how to complete it.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "DirectUpload")]
pub struct DirectUploadBody {
    /// Pass to `POST /api/v1/uploads/{upload_id}/complete` once the bytes are sent.
    pub upload_id: String,
    /// The presigned URL to send the bytes to, as the body of one request.
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the request must carry exactly as given (they are signed).
    pub headers: BTreeMap<String, String>,
    /// When the URL, and the upload id, stop working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl From<&DirectUpload> for DirectUploadBody {
    fn from(upload: &DirectUpload) -> Self {
        Self {
            upload_id: upload.upload_id.clone(),
            url: upload.request.url.clone(),
            method: upload.request.method.clone(),
            headers: upload.request.headers.iter().cloned().collect(),
            expires_at: upload.request.expires_at,
        }
    }
}
