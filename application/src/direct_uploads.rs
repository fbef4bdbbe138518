//! Direct uploads (API.md, "Files"): the client declares a file (name, media type, size, SHA-256),
//! gets a presigned PUT of the blob store and sends the bytes there itself, then asks for the file
//! to be completed. Completing reads the stored bytes back and measures them; only bytes that are
//! exactly the declared ones become a file, committed as any upload is ([`FileService::store`]).
//!
//! No table holds the upload between the two calls: its `upload_id` is a token sealed by the
//! [`crate::ports::CursorCodec`] (HMAC with the server key), bound to the caller, carrying the
//! declaration and its expiry. Bytes that are PUT and never completed are a blob no file
//! references: the sweep removes them after its grace period.

use domain::files::{FileId, FileName, FileView, MediaType, Sha256Digest};
use domain::projects::{ProjectAction, ProjectId};
use domain::users::UserId;
use domain::{Conflict, Continuation, FieldViolation};
use futures::StreamExt;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Principal;
use crate::errors::{AppError, Resource};
use crate::files::{BlobMeter, FileService, ReceivedFile};
use crate::idempotency::Retry;
use crate::pagination::ListKey;
use crate::ports::{BlobError, PresignedRequest, StoredBlob};
use crate::validation::validate;
use crate::workspace::require;

/// A direct upload as the client declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDirectUpload {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// Hex.
    pub sha256: String,
}

/// A direct upload begun: its id (for completing it) and where to send the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectUpload {
    pub upload_id: String,
    pub request: PresignedRequest,
}

impl FileService {
    /// Checks the declaration and the caller's right to upload, and presigns the PUT of the bytes
    /// under a new file id; `NotSupported` on a blob store that cannot presign.
    pub async fn begin_upload(
        &self,
        principal: Principal,
        project: ProjectId,
        new: NewDirectUpload,
    ) -> Result<DirectUpload, AppError> {
        if !self.blobs.presigns() {
            return Err(AppError::NotSupported);
        }
        let (name, content_type, size, sha256) = validate((
            FileName::parse(new.name),
            MediaType::parse(&new.content_type),
            u64::try_from(new.size).map_err(|_| FieldViolation::new("size", "must be 0 or more")),
            Sha256Digest::from_hex(&new.sha256)
                .ok_or_else(|| FieldViolation::new("sha256", "must be 64 hexadecimal digits")),
        ))?;
        let limit = self.settings().max_bytes;
        if size > limit {
            return Err(AppError::UploadTooLarge { limit });
        }
        let mut reader = self.deps.storage.read().await?;
        require(reader.as_mut(), project, principal.user_id, ProjectAction::UploadFile).await?;
        drop(reader);
        let file = FileId(self.deps.ids.new_id());
        let ttl = self.settings().upload_url_ttl;
        let request = self
            .blobs
            .presign_put(file, size, content_type.as_str(), sha256, ttl)
            .await?
            .ok_or(AppError::NotSupported)?;
        let token = UploadToken {
            file,
            project,
            caller: principal.user_id,
            expires_at: request.expires_at,
            size,
            sha256,
            name,
            content_type,
        };
        let upload_id = self.deps.cursors.seal(&token_key(principal.user_id), &Continuation(token.encode()));
        Ok(DirectUpload { upload_id, request })
    }

    /// Makes a file of a direct upload's bytes once they are exactly the declared ones: else
    /// they are deleted and the answer is `UploadMismatch` (missing bytes too). An `upload_id`
    /// that is not the caller's, or whose time is up, is not found; one completed already is
    /// `Conflict(FileExists)`.
    pub async fn complete_upload(
        &self,
        principal: Principal,
        upload_id: &str,
        retry: Option<Retry<FileView>>,
    ) -> Result<FileView, AppError> {
        if !self.blobs.presigns() {
            return Err(AppError::NotSupported);
        }
        let not_found = AppError::NotFound(Resource::Upload);
        let sealed =
            self.deps.cursors.unseal(&token_key(principal.user_id), upload_id).map_err(|_| not_found.clone())?;
        let token = UploadToken::decode(&sealed.0).ok_or(not_found.clone())?;
        if token.caller != principal.user_id || self.deps.clock.now() >= token.expires_at {
            return Err(not_found);
        }
        let mut reader = self.deps.storage.read().await?;
        require(reader.as_mut(), token.project, principal.user_id, ProjectAction::UploadFile).await?;
        if reader.files().get(token.file).await?.is_some() {
            return Err(AppError::Conflict(Conflict::FileExists));
        }
        drop(reader);
        let blob = match self.measure(&token).await? {
            Measured::Declared(blob) => blob,
            Measured::Missing => return Err(AppError::UploadMismatch),
            Measured::Other => {
                self.remove_blob(token.file).await;
                return Err(AppError::UploadMismatch);
            }
        };
        let received = ReceivedFile::new(token.file, token.project, token.name, token.content_type, blob);
        self.store(principal, received, retry).await
    }

    /// Reads the upload's blob back, hashing it, and stops as soon as it passes the declared size.
    async fn measure(&self, token: &UploadToken) -> Result<Measured, AppError> {
        let Some(read) = self.blobs.get(token.file, None).await? else { return Ok(Measured::Missing) };
        if read.size != token.size {
            return Ok(Measured::Other);
        }
        let (mut meter, mut bytes) = (BlobMeter::new(token.size), read.bytes);
        while let Some(chunk) = bytes.next().await {
            match meter.pass(&chunk?) {
                Ok(()) => {}
                Err(BlobError::TooLarge { .. }) => return Ok(Measured::Other),
                Err(err) => return Err(err.into()),
            }
        }
        let blob = meter.finish();
        Ok(if blob.size == token.size && blob.sha256 == token.sha256 {
            Measured::Declared(blob)
        } else {
            Measured::Other
        })
    }
}

/// What a direct upload's blob turned out to be.
enum Measured {
    Missing,
    /// Exactly the declared bytes.
    Declared(StoredBlob),
    Other,
}

/// What an `upload_id` is bound to: the caller who began it.
fn token_key(caller: UserId) -> ListKey {
    ListKey::new("direct_upload", &[&caller.to_string()])
}

/// A direct upload's declaration, as sealed into its `upload_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UploadToken {
    file: FileId,
    project: ProjectId,
    caller: UserId,
    expires_at: OffsetDateTime,
    size: u64,
    sha256: Sha256Digest,
    name: FileName,
    content_type: MediaType,
}

/// The token's layout; a token of another version does not decode.
const TOKEN_VERSION: u8 = 1;

impl UploadToken {
    /// `version ‖ file ‖ project ‖ caller (16 bytes each) ‖ expiry (ms, i64) ‖ size (u64) ‖
    /// sha256 (32) ‖ name ‖ content type`, the two texts each with a u16 length first.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.name.as_str().len() + self.content_type.as_str().len());
        out.push(TOKEN_VERSION);
        for id in [self.file.0, self.project.0, self.caller.0] {
            out.extend_from_slice(id.as_bytes());
        }
        let millis = i64::try_from(self.expires_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        out.extend_from_slice(&millis.to_be_bytes());
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.sha256.0);
        for text in [self.name.as_str(), self.content_type.as_str()] {
            // Both are at most 255 characters (1,020 bytes): a u16 always holds the length.
            out.extend_from_slice(&(text.len() as u16).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(head)
        };
        if take(1)? != [TOKEN_VERSION] {
            return None;
        }
        let mut id = || Uuid::from_slice(take(16)?).ok();
        let (file, project, caller) = (FileId(id()?), ProjectId(id()?), UserId(id()?));
        let millis = i64::from_be_bytes(take(8)?.try_into().ok()?);
        let expires_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
        let size = u64::from_be_bytes(take(8)?.try_into().ok()?);
        let sha256 = Sha256Digest(take(32)?.try_into().ok()?);
        let mut text = || {
            let len = u16::from_be_bytes(take(2)?.try_into().ok()?);
            String::from_utf8(take(usize::from(len))?.to_vec()).ok()
        };
        let name = FileName::parse(text()?).ok()?;
        let content_type = MediaType::parse(&text()?).ok()?;
        rest.is_empty().then_some(Self { file, project, caller, expires_at, size, sha256, name, content_type })
    }
}

#[cfg(test)]
#[path = "direct_uploads_tests.rs"]
mod tests;
