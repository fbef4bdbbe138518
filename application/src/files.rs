//! Files (API.md, "Files"): upload (editors and the owner), list and read (members), download,
//! and delete (the uploader or the owner). Bytes go to the blob store first, under a new id; the
//! metadata commit follows, and a commit that certainly failed removes the bytes again. What a
//! crash (or a commit whose outcome is unknown) leaves is a blob no metadata references, which the
//! sweep removes after a grace period: a file is never listed whose bytes are missing.

use std::sync::Arc;

use domain::files::{File, FileId, FileName, FileView, MediaType, ProjectFilesQuery};
use domain::projects::{ProjectAction, ProjectId};
use domain::{Conflict, StorageError};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
pub use crate::blob_meter::BlobMeter;
use crate::errors::{AppError, ErrorChain, Resource};
use crate::idempotency::{record, Retry};
use crate::pagination::{parse_limit, ListKey, Listed, PageRequest};
use crate::ports::{BlobError, BlobRead, BlobStore, ByteRange, ByteStream, PresignedRequest, StoredBlob};
use crate::validation::validate;
use crate::workspace::{permit, require, WorkspaceDeps};

/// How long a presigned download (`--files-redirect`) works: API.md's "at most 5 minutes".
pub const DOWNLOAD_URL_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// How long a direct upload's URL, and its `upload_id`, work: API.md's "at most 15 minutes".
pub const UPLOAD_URL_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Limits on what files may take, and how their bytes may travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSettings {
    /// Largest file accepted, in bytes (API.md: `--file-max-bytes`, 25 MiB).
    pub max_bytes: u64,
    /// Most bytes one project's files may take together (`--project-storage-quota`, 1 GiB).
    pub project_quota: u64,
    /// Downloads answer with a presigned URL of the blob store instead of the bytes
    /// (`--files-redirect`; the store must presign).
    pub redirect: bool,
    pub download_url_ttl: std::time::Duration,
    pub upload_url_ttl: std::time::Duration,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            project_quota: 1024 * 1024 * 1024,
            redirect: false,
            download_url_ttl: DOWNLOAD_URL_TTL,
            upload_url_ttl: UPLOAD_URL_TTL,
        }
    }
}

/// A file as it arrives: its label and media type as sent, and its bytes as a stream.
pub struct NewFile {
    pub name: String,
    /// The request's own `Content-Type`; `None` when it sent none.
    pub content_type: Option<String>,
    pub bytes: ByteStream,
}

/// A file whose bytes are stored and whose metadata is not: [`FileService::store`] commits it,
/// [`FileService::discard`] removes its bytes. One dropped without either leaves a blob that the
/// sweep removes.
#[derive(Debug)]
pub struct ReceivedFile {
    id: FileId,
    project: ProjectId,
    name: FileName,
    content_type: MediaType,
    blob: StoredBlob,
}

impl ReceivedFile {
    /// A file whose bytes were stored (and measured) by other means than
    /// [`FileService::receive`]: a direct upload's.
    pub fn new(id: FileId, project: ProjectId, name: FileName, content_type: MediaType, blob: StoredBlob) -> Self {
        Self { id, project, name, content_type, blob }
    }

    /// What identifies the upload for a retry with its key: its media type and its bytes' digest.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut digest = Sha256::new();
        let kind = self.content_type.as_str().as_bytes();
        digest.update((kind.len() as u64).to_be_bytes());
        digest.update(kind);
        digest.update(self.blob.sha256.0);
        digest.finalize().into()
    }
}

/// Which bytes of a file a download asks for (HTTP's `Range: bytes=…`, one range), before it is
/// checked against the file's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `first-` or `first-last`.
    From { first: u64, last: Option<u64> },
    /// `-length`: the last `length` bytes.
    Suffix(u64),
}

impl RangeRequest {
    /// The bytes this asks for in a file of `size` bytes (RFC 9110 §14.1.2: a `last` past the end
    /// means the end; a suffix longer than the file means all of it); `RangeNotSatisfiable` when
    /// none of them exists.
    pub fn resolve(self, size: u64) -> Result<ByteRange, AppError> {
        let unsatisfiable = AppError::RangeNotSatisfiable { size };
        let end = size.checked_sub(1).ok_or(unsatisfiable.clone())?;
        match self {
            RangeRequest::From { first, .. } if first > end => Err(unsatisfiable),
            RangeRequest::From { first, last } => Ok(ByteRange { first, last: last.map_or(end, |l| l.min(end)) }),
            RangeRequest::Suffix(0) => Err(unsatisfiable),
            RangeRequest::Suffix(length) => Ok(ByteRange { first: size.saturating_sub(length), last: end }),
        }
    }
}

impl From<BlobError> for AppError {
    fn from(err: BlobError) -> Self {
        match err {
            BlobError::TooLarge { limit } => AppError::UploadTooLarge { limit },
            BlobError::Interrupted(reason) => AppError::UploadInterrupted(reason),
            BlobError::Unavailable { .. } => {
                tracing::warn!(reason = %ErrorChain(&err), "blob store unavailable");
                AppError::Unavailable
            }
            BlobError::Backend { .. } => AppError::Internal(ErrorChain(&err).to_string()),
        }
    }
}

#[derive(Clone)]
pub struct FileService {
    pub(crate) deps: WorkspaceDeps,
    pub(crate) blobs: Arc<dyn BlobStore>,
    settings: FileSettings,
}

impl FileService {
    pub fn new(deps: WorkspaceDeps, blobs: Arc<dyn BlobStore>, settings: FileSettings) -> Self {
        Self { deps, blobs, settings }
    }

    pub fn settings(&self) -> FileSettings {
        self.settings
    }

    /// Uploads a file in one step: [`FileService::receive`], then [`FileService::store`].
    pub async fn upload(
        &self,
        principal: Principal,
        project: ProjectId,
        new: NewFile,
        retry: Option<Retry<FileView>>,
    ) -> Result<FileView, AppError> {
        let received = self.receive(principal, project, new).await?;
        self.store(principal, received, retry).await
    }

    /// Checks the upload (its name and media type, then the caller's right to upload, before a
    /// byte is read) and writes its bytes to the blob store under a new id, refusing them as soon
    /// as they pass `max_bytes`.
    pub async fn receive(
        &self,
        principal: Principal,
        project: ProjectId,
        new: NewFile,
    ) -> Result<ReceivedFile, AppError> {
        let (name, content_type) = validate((
            FileName::parse(new.name),
            new.content_type.as_deref().map_or(Ok(MediaType::octet_stream()), MediaType::parse),
        ))?;
        let mut reader = self.deps.storage.read().await?;
        require(reader.as_mut(), project, principal.user_id, ProjectAction::UploadFile).await?;
        drop(reader);
        let id = FileId(self.deps.ids.new_id());
        let blob = self.blobs.put(id, new.bytes, self.settings.max_bytes).await?;
        Ok(ReceivedFile { id, project, name, content_type, blob })
    }

    /// Commits a received file's metadata (the caller's right is checked again: it may have
    /// changed while the bytes arrived), its size counted against the project's quota. A commit
    /// that certainly failed removes the bytes; one whose outcome is unknown leaves them to the
    /// sweep, which keeps them if the commit did land.
    pub async fn store(
        &self,
        principal: Principal,
        received: ReceivedFile,
        retry: Option<Retry<FileView>>,
    ) -> Result<FileView, AppError> {
        let id = received.id;
        let mut uow = match self.deps.storage.begin().await {
            Ok(uow) => uow,
            Err(err) => return Err(self.failed(id, err.into()).await),
        };
        let written = async {
            require(uow.as_mut(), received.project, principal.user_id, ProjectAction::UploadFile).await?;
            let uploader = uow.users().get(principal.user_id).await?.ok_or(AppError::Unauthenticated)?;
            let file = File {
                id,
                project_id: received.project,
                name: received.name,
                content_type: received.content_type,
                size: received.blob.size,
                sha256: received.blob.sha256,
                uploader_id: principal.user_id,
                created_at: self.deps.clock.now(),
            };
            let view = FileView { file, uploader: uploader.profile() };
            uow.files().insert(&view.file, self.settings.project_quota).await.map_err(insert_error)?;
            record(retry.as_ref(), uow.as_mut(), &view).await.map_err(insert_error)?;
            Ok::<_, AppError>(view)
        }
        .await;
        let view = match written {
            Ok(view) => view,
            Err(err) => {
                // Rolled back first: the unit (SQLite's one writer, a DynamoDB place) is not held
                // through the blob store's call.
                drop(uow);
                return Err(self.failed(id, err).await);
            }
        };
        match uow.commit().await {
            Ok(()) => Ok(view),
            Err(err @ (StorageError::Unavailable { .. } | StorageError::Backend { .. })) => {
                tracing::warn!(file = %id, "a file's commit ended unknown; the sweep removes its bytes if it did not land");
                Err(insert_error(err))
            }
            Err(err) => Err(self.failed(id, insert_error(err)).await),
        }
    }

    /// Removes the bytes of a file whose metadata will not be written (a replayed or refused
    /// retry of an upload).
    pub async fn discard(&self, received: ReceivedFile) {
        self.remove_blob(received.id).await;
    }

    /// A project's files, newest first.
    pub async fn list(
        &self,
        principal: Principal,
        project: ProjectId,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Listed<FileView>, AppError> {
        let limit = parse_limit(limit).map_err(AppError::invalid)?;
        let list = ListKey::new("list_files", &[&project.to_string()]);
        let page = PageRequest::open(self.deps.cursors.as_ref(), list, cursor, limit)?;
        let mut reader = self.deps.storage.read().await?;
        require(reader.as_mut(), project, principal.user_id, ProjectAction::View).await?;
        let query = ProjectFilesQuery { project, after: page.after.clone(), limit: page.limit, budget: page.budget };
        Ok(page.finish(reader.files().list(&query).await?))
    }

    /// A file the caller may see (a member of its project).
    pub async fn get(&self, principal: Principal, id: FileId) -> Result<FileView, AppError> {
        let mut reader = self.deps.storage.read().await?;
        let view = reader.files().view(id).await?.ok_or(AppError::NotFound(Resource::File))?;
        let role = reader.members().get(view.file.project_id, principal.user_id).await?.map(|m| m.role);
        permit(role, ProjectAction::View).map_err(hidden_file)?;
        Ok(view)
    }

    /// The bytes of a file read by [`FileService::get`]: all of them, or `range`.
    pub async fn open(&self, file: &File, range: Option<ByteRange>) -> Result<BlobRead, AppError> {
        match self.blobs.get(file.id, range).await? {
            Some(read) => Ok(read),
            None => Err(AppError::Internal(format!("the bytes of file {} are missing", file.id))),
        }
    }

    /// Where a download of `file` (read by [`FileService::get`]) goes instead of through this
    /// server, with `content_disposition` as its answer's: a presigned GET when `--files-redirect`
    /// is on, else `None`.
    pub async fn redirect(&self, file: &File, content_disposition: &str) -> Result<Option<PresignedRequest>, AppError> {
        if !self.settings.redirect {
            return Ok(None);
        }
        let ttl = self.settings.download_url_ttl;
        Ok(self.blobs.presign_get(file.id, ttl, file.content_type.as_str(), content_disposition).await?)
    }

    /// Deletes a file (its uploader, or the project's owner): its metadata first, so that it is
    /// gone for every reader at once, then its bytes (the sweep removes them if that fails).
    pub async fn delete(&self, principal: Principal, id: FileId) -> Result<(), AppError> {
        let mut uow = self.deps.storage.begin().await?;
        let file = uow.files().get(id).await?.ok_or(AppError::NotFound(Resource::File))?;
        let role = uow.members().get(file.project_id, principal.user_id).await?.map(|m| m.role);
        let action = if file.uploader_id == principal.user_id {
            ProjectAction::DeleteOwnFile
        } else {
            ProjectAction::DeleteAnyFile
        };
        permit(role, action).map_err(hidden_file)?;
        uow.files().delete(&file).await.map_err(|err| match err {
            // Deleted meanwhile by someone else: it is gone, as asked, but not by this request.
            StorageError::ConditionFailed => AppError::NotFound(Resource::File),
            err => err.into(),
        })?;
        uow.commit().await.map_err(|err| match err {
            StorageError::ConditionFailed => AppError::NotFound(Resource::File),
            err => err.into(),
        })?;
        self.remove_blob(id).await;
        Ok(())
    }

    async fn failed(&self, id: FileId, err: AppError) -> AppError {
        // A file under this id is stored already (a direct upload completed twice): these bytes
        // are that file's.
        if err != AppError::Conflict(Conflict::FileExists) {
            self.remove_blob(id).await;
        }
        err
    }

    pub(crate) async fn remove_blob(&self, id: FileId) {
        if let Err(err) = self.blobs.delete(id).await {
            tracing::warn!(file = %id, error = %ErrorChain(&err), "a blob was left for the sweep");
        }
    }
}

/// A file whose project the caller cannot see is a file that does not exist.
fn hidden_file(err: AppError) -> AppError {
    match err {
        AppError::NotFound(Resource::Project) => AppError::NotFound(Resource::File),
        err => err,
    }
}

fn insert_error(err: StorageError) -> AppError {
    match err {
        StorageError::ConditionFailed => AppError::NotFound(Resource::Project),
        err => err.into(),
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
