//! The filesystem blob store (the default): each file's bytes in one file under the data
//! directory, named after the file's id only (`<root>/<two hex digits>/<id>`; the digits are the
//! id's last, random ones, so directories fill evenly). A write goes to `<root>/tmp/` first, is
//! fsynced, renamed into place and its directory fsynced: a blob is there whole or not at all,
//! across crashes too. A write abandoned half-way (its request dropped) removes its temporary file.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use application::files::BlobMeter;
use application::ports::{BlobError, BlobRead, BlobStore, ByteRange, ByteStream, PresignedRequest, StoredBlob};
use async_trait::async_trait;
use domain::files::{FileId, Sha256Digest};
use futures::StreamExt;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

const TMP: &str = "tmp";

pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Opens the store at `root`, creating it if needed.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join(TMP)).await.map_err(|e| io("cannot create the blob directory", e))?;
        Ok(Self { root })
    }

    fn path(&self, id: FileId) -> PathBuf {
        let name = id.0.simple().to_string();
        self.root.join(&name[name.len() - 2..]).join(name)
    }
}

fn io(context: &str, err: std::io::Error) -> BlobError {
    // A full disk or too many open files may pass; anything else is the store being broken.
    let passing = matches!(err.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::Interrupted)
        || err.raw_os_error() == Some(24);
    let context = context.to_owned();
    if passing {
        BlobError::Unavailable { context, source: Some(err.into()) }
    } else {
        BlobError::Backend { context, source: Some(err.into()) }
    }
}

/// Removes a temporary file unless the write it belongs to was finished: a failed, refused or
/// dropped write leaves nothing behind.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            // Blocking, but one unlink; an async drop does not exist.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    let handle = tokio::fs::File::open(dir).await.map_err(|e| io("cannot open a blob directory", e))?;
    handle.sync_all().await.map_err(|e| io("cannot sync a blob directory", e))
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, id: FileId, mut bytes: ByteStream, limit: u64) -> Result<StoredBlob, BlobError> {
        let scratch =
            Scratch { path: self.root.join(TMP).join(format!("{}.{}", id.0.simple(), Uuid::now_v7())), keep: false };
        let mut file = tokio::fs::File::create(&scratch.path).await.map_err(|e| io("cannot create a blob", e))?;
        let mut meter = BlobMeter::new(limit);
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk?;
            meter.pass(&chunk)?;
            file.write_all(&chunk).await.map_err(|e| io("cannot write a blob", e))?;
        }
        file.sync_all().await.map_err(|e| io("cannot sync a blob", e))?;
        drop(file);
        let target = self.path(id);
        let dir = target.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await.map_err(|e| io("cannot create a blob directory", e))?;
        tokio::fs::rename(&scratch.path, &target).await.map_err(|e| io("cannot move a blob into place", e))?;
        let mut scratch = scratch;
        scratch.keep = true;
        if let Err(err) = sync_dir(&dir).await {
            // Not known to be durable: it must not be taken for a stored blob.
            let _ = tokio::fs::remove_file(&target).await;
            return Err(err);
        }
        Ok(meter.finish())
    }

    async fn get(&self, id: FileId, range: Option<ByteRange>) -> Result<Option<BlobRead>, BlobError> {
        let mut file = match tokio::fs::File::open(self.path(id)).await {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("cannot open a blob", e)),
        };
        let size = file.metadata().await.map_err(|e| io("cannot read a blob's size", e))?.len();
        let (first, length) = match range {
            Some(r) if r.first <= r.last && r.last < size => (r.first, r.last - r.first + 1),
            Some(r) => {
                return Err(BlobError::Backend {
                    context: format!("range {}-{} outside a blob of {size} bytes", r.first, r.last),
                    source: None,
                })
            }
            None => (0, size),
        };
        file.seek(std::io::SeekFrom::Start(first)).await.map_err(|e| io("cannot seek in a blob", e))?;
        let stream = tokio_util::io::ReaderStream::new(file.take(length))
            .map(|chunk| chunk.map_err(|e| io("cannot read a blob", e)));
        Ok(Some(BlobRead { size, bytes: stream.boxed() }))
    }

    async fn delete(&self, id: FileId) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(id)).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(io("cannot delete a blob", e)),
            _ => Ok(()),
        }
    }

    async fn list(&self, after: Option<FileId>, limit: u32) -> Result<Vec<(FileId, OffsetDateTime)>, BlobError> {
        let mut found = Vec::new();
        let mut dirs = tokio::fs::read_dir(&self.root).await.map_err(|e| io("cannot list the blob store", e))?;
        while let Some(dir) = dirs.next_entry().await.map_err(|e| io("cannot list the blob store", e))? {
            if dir.file_name() == TMP
                || !dir.file_type().await.map_err(|e| io("cannot list the blob store", e))?.is_dir()
            {
                continue;
            }
            let mut blobs = tokio::fs::read_dir(dir.path()).await.map_err(|e| io("cannot list a blob directory", e))?;
            while let Some(blob) = blobs.next_entry().await.map_err(|e| io("cannot list a blob directory", e))? {
                let Some(id) = blob.file_name().to_str().and_then(|n| Uuid::try_parse(n).ok()).map(FileId) else {
                    continue;
                };
                if after.is_some_and(|after| id <= after) {
                    continue;
                }
                let written =
                    blob.metadata().await.and_then(|m| m.modified()).map_err(|e| io("cannot read a blob's time", e))?;
                found.push((id, OffsetDateTime::from(written)));
            }
        }
        found.sort_by_key(|(id, _)| *id);
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    /// Nobody but this process reaches the directory: there is no URL to hand out.
    fn presigns(&self) -> bool {
        false
    }

    async fn presign_get(
        &self,
        _: FileId,
        _: Duration,
        _: &str,
        _: &str,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        Ok(None)
    }

    async fn presign_put(
        &self,
        _: FileId,
        _: u64,
        _: &str,
        _: Sha256Digest,
        _: Duration,
    ) -> Result<Option<PresignedRequest>, BlobError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use futures::stream;

    use super::*;

    /// What the conformance suite cannot see: the temporary files of failed writes are gone.
    #[tokio::test]
    async fn refused_broken_and_abandoned_writes_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let id = FileId(Uuid::now_v7());
        let chunk = || Ok(bytes::Bytes::from(vec![1u8; 1000]));

        let too_large = store.put(id, stream::iter([chunk(), chunk()]).boxed(), 1500).await;
        let broken = stream::iter([chunk(), Err(BlobError::Interrupted("gone".into()))]).boxed();
        let interrupted = store.put(id, broken, 1 << 20).await;
        let stalled = stream::iter([chunk()]).chain(stream::pending()).boxed();
        let abandoned =
            tokio::time::timeout(std::time::Duration::from_millis(100), store.put(id, stalled, 1 << 20)).await;

        assert!(too_large.is_err() && interrupted.is_err() && abandoned.is_err());
        assert_eq!(std::fs::read_dir(dir.path().join(TMP)).unwrap().count(), 0);
        store.put(id, stream::iter([chunk()]).boxed(), 1 << 20).await.unwrap();
        assert_eq!(std::fs::read_dir(dir.path().join(TMP)).unwrap().count(), 0, "a finished write moved out");
    }
}
