//! The sweep (DESIGN.md, "State that must be shared by every instance"): purges the refresh
//! tokens and chains that can no longer serve, the login-attempt windows that ended and the
//! idempotency records past their 24 hours, so that storage does not grow with every login,
//! every guessed name and every keyed request; and the blobs no file references (an upload cut
//! short by a crash, a deleted project's files), once they are older than a grace period. `serve` runs it periodically
//! and `tessera sweep` on demand; several instances sweeping at once only repeat each other.

use std::sync::Arc;

use domain::files::FileId;
use time::Duration;

use crate::errors::AppError;
use crate::ports::{BlobStore, Clock, Storage};

/// What one sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub refresh_tokens: u64,
    pub refresh_chains: u64,
    pub login_attempts: u64,
    pub idempotency_records: u64,
    pub orphan_blobs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepSettings {
    /// Rows removed per storage call at most: each call is one short write.
    pub batch: u32,
    /// How long past its expiry a record is kept. Every read compares times itself, so this costs
    /// nothing; it keeps a sweep on an instance whose clock runs ahead from removing a token that
    /// a refresh elsewhere is spending at that very moment (a vanished token reads as reuse).
    pub grace: Duration,
    /// How old a blob without metadata must be before it is removed: longer than any upload's
    /// bytes may wait for their metadata commit (a request's whole time), so that the sweep never
    /// takes the bytes of an upload still committing.
    pub blob_grace: Duration,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self { batch: 500, grace: Duration::minutes(1), blob_grace: Duration::hours(1) }
    }
}

/// Blobs listed per call, and ids asked of the storage per read (the port's bound).
const BLOB_PAGE: u32 = 1000;
const EXISTING_MAX: usize = 100;

#[derive(Clone)]
pub struct SweepService {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    blobs: Option<Arc<dyn BlobStore>>,
    settings: SweepSettings,
}

impl SweepService {
    pub fn new(storage: Arc<dyn Storage>, clock: Arc<dyn Clock>, settings: SweepSettings) -> Self {
        Self { storage, clock, blobs: None, settings }
    }

    /// Also removes the blobs of `blobs` that no file references.
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// Removes everything that expired (`grace` ago), batch after batch until a batch comes back
    /// short, then the ended login-attempt windows, then the expired idempotency records batch
    /// after batch. A failure stops the sweep where it is: what
    /// was removed stays removed, and the next sweep goes on from there.
    pub async fn run(&self) -> Result<Swept, AppError> {
        let now = self.clock.now() - self.settings.grace;
        let limit = self.settings.batch.max(1);
        let mut swept = Swept::default();
        loop {
            let batch = self.storage.expired_sessions().sweep(now, limit).await?;
            swept.refresh_tokens += batch.tokens;
            swept.refresh_chains += batch.chains;
            if batch.tokens < u64::from(limit) && batch.chains < u64::from(limit) {
                break;
            }
        }
        swept.login_attempts = self.storage.login_attempts().sweep(now).await?;
        loop {
            let removed = self.storage.idempotency().sweep(now, limit).await?;
            swept.idempotency_records += removed;
            if removed < u64::from(limit) {
                break;
            }
        }
        if let Some(blobs) = &self.blobs {
            swept.orphan_blobs = self.orphan_blobs(blobs.as_ref()).await?;
        }
        Ok(swept)
    }

    /// Walks every blob in id order and removes those older than `blob_grace` that no file
    /// references. A blob written after its list page was read waits for the next sweep.
    async fn orphan_blobs(&self, blobs: &dyn BlobStore) -> Result<u64, AppError> {
        let written_before = self.clock.now() - self.settings.blob_grace;
        let mut removed = 0;
        let mut after = None;
        loop {
            let page = blobs.list(after, BLOB_PAGE).await?;
            after = page.last().map(|(id, _)| *id);
            let old: Vec<FileId> = page.iter().filter(|(_, at)| *at <= written_before).map(|(id, _)| *id).collect();
            for ids in old.chunks(EXISTING_MAX) {
                let referenced = self.storage.read().await?.files().existing(ids).await?;
                for id in ids.iter().filter(|id| !referenced.contains(id)) {
                    blobs.delete(*id).await?;
                    removed += 1;
                }
            }
            if page.len() < BLOB_PAGE as usize {
                return Ok(removed);
            }
        }
    }
}

#[cfg(test)]
#[path = "sweep_tests.rs"]
mod tests;
