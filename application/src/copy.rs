//! Copying every record from one storage to another (`tessera copy`, issue 18): users, projects,
//! members, posts and files, kind by kind in the order they need each other, page by page (memory
//! bounded by a page), through the source's [`RecordScan`] and the target's own repositories — so
//! the target derives its counts (members, posts, a project's file bytes) from what it holds.
//! Ids, versions, password hashes and timestamps stay what they were. Refresh tokens are not
//! copied: logins end with the move.
//!
//! A copy can be resumed: a record the target already holds equal is skipped, one it holds
//! different stops the copy. (A copy assumes nothing else writes to its target meanwhile.) At the end both sides are read again and compared kind by kind: the
//! count and a digest of every record.

use std::sync::Arc;

use domain::records::{Record, RecordKind};
use domain::StorageError;
use sha2::{Digest, Sha256};

use crate::errors::AppError;
use crate::ports::{BlobStore, Storage, UnitOfWork};

/// Records written per unit of work: several per commit, well inside a unit's 100 writes (a user
/// is three items on DynamoDB, a post three, a file three).
const BATCH: usize = 20;

/// What a copy reports as it goes; a terminal shows a bar, a log plain lines.
pub trait CopyProgress: Send + Sync {
    /// The copy begins: about how many records of each kind the source holds (see
    /// [`RecordScan::counts`](crate::ports::RecordScan::counts)).
    fn begin(&self, totals: &[(RecordKind, u64)]);

    /// `done` records of `kind` handled so far (copied or found there already).
    fn advanced(&self, kind: RecordKind, done: u64);
}

/// One kind's outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCopied {
    pub copied: u64,
    /// Already in the target, equal (a resumed copy).
    pub present: u64,
}

/// One kind compared on both sides after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCompared {
    pub kind: RecordKind,
    pub source: Tally,
    pub target: Tally,
}

impl KindCompared {
    pub fn same(&self) -> bool {
        self.source == self.target
    }
}

/// How many records of a kind one side holds, and a digest of all of them that does not depend
/// on their order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub digest: [u128; 2],
}

impl Tally {
    fn add(&mut self, record: &Record) {
        // Every field, as this build shows it: both sides are read by the same build.
        let hash = Sha256::digest(format!("{record:?}").as_bytes());
        let (high, low) = hash.split_at(16);
        let part = |bytes: &[u8]| u128::from_be_bytes(bytes.try_into().unwrap_or([0; 16]));
        self.digest[0] = self.digest[0].wrapping_add(part(high));
        self.digest[1] = self.digest[1].wrapping_add(part(low));
        self.count += 1;
    }
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target holds records already (use --resume to finish an interrupted copy)")]
    TargetNotEmpty,
    #[error("the target holds {kind} record {id} with other content than the source")]
    Differs { kind: &'static str, id: String },
    #[error("the bytes of file {0} are missing from the source's blob store")]
    BytesMissing(String),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StorageError> for CopyError {
    fn from(err: StorageError) -> Self {
        CopyError::App(err.into())
    }
}

/// The two sides of a copy; the blob stores when files' bytes move too.
pub struct Copier {
    pub source: Arc<dyn Storage>,
    pub target: Arc<dyn Storage>,
    /// `(source, target)` when they are different stores: each file's bytes are copied before
    /// its record.
    pub blobs: Option<(Arc<dyn BlobStore>, Arc<dyn BlobStore>)>,
    /// Records read per page.
    pub page: u32,
}

impl Copier {
    /// Whether `storage` holds no record of any kind.
    pub async fn is_empty(storage: &dyn Storage) -> Result<bool, CopyError> {
        for kind in RecordKind::ALL {
            if !storage.export().scan(kind, None, 1).await?.records.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Copies every kind; refuses a target that holds records unless `resume`.
    pub async fn copy(
        &self,
        resume: bool,
        progress: &dyn CopyProgress,
    ) -> Result<Vec<(RecordKind, KindCopied)>, CopyError> {
        if !resume && !Self::is_empty(self.target.as_ref()).await? {
            return Err(CopyError::TargetNotEmpty);
        }
        // The counts only feed the progress (an estimate): a copy does not stop for them.
        match self.source.export().counts().await {
            Ok(totals) => progress.begin(&totals),
            Err(err) => {
                tracing::warn!(error = %err, "the source could not be counted: progress without totals");
                progress.begin(&[]);
            }
        }
        let mut report = Vec::new();
        for kind in RecordKind::ALL {
            report.push((kind, self.copy_kind(kind, resume, progress).await?));
        }
        Ok(report)
    }

    async fn copy_kind(
        &self,
        kind: RecordKind,
        resume: bool,
        progress: &dyn CopyProgress,
    ) -> Result<KindCopied, CopyError> {
        let mut done = KindCopied::default();
        let mut after = None;
        loop {
            let page = self.source.export().scan(kind, after, self.page).await?;
            for batch in page.records.chunks(BATCH) {
                // A resumed copy looks first: what the target holds already (equal) is skipped. A
                // duplicate is not an error every backend names alike (a primary key on SQLite).
                let mut missing = Vec::with_capacity(batch.len());
                for record in batch {
                    if resume && self.already_there(record).await? {
                        done.present += 1;
                    } else {
                        missing.push(record.clone());
                    }
                }
                if let Some((sources, targets)) = &self.blobs {
                    for record in &missing {
                        if let Record::File(file) = record {
                            self.copy_bytes(sources.as_ref(), targets.as_ref(), file).await?;
                        }
                    }
                }
                if !missing.is_empty() {
                    self.write(&missing).await?;
                    done.copied += missing.len() as u64;
                }
                progress.advanced(kind, done.copied + done.present);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(done),
            }
        }
    }

    async fn write(&self, records: &[Record]) -> Result<(), StorageError> {
        let mut uow = self.target.begin().await?;
        for record in records {
            insert(uow.as_mut(), record).await?;
        }
        uow.commit().await
    }

    /// Whether the target holds `record` already: equal, or else the copy cannot go on.
    async fn already_there(&self, record: &Record) -> Result<bool, CopyError> {
        let mut reader = self.target.read().await?;
        let stored = match record {
            Record::User(u) => reader.users().get(u.id).await?.map(Record::User),
            Record::Project(p) => reader.projects().get(p.id).await?.map(Record::Project),
            Record::Member(m) => reader.members().get(m.project_id, m.user_id).await?.map(Record::Member),
            Record::Post(p) => reader.posts().get(p.id).await?.map(Record::Post),
            Record::File(f) => reader.files().get(f.id).await?.map(Record::File),
        };
        match stored {
            None => Ok(false),
            Some(stored) if &stored == record => Ok(true),
            Some(_) => Err(CopyError::Differs { kind: record.kind().as_str(), id: record_id(record) }),
        }
    }

    async fn copy_bytes(
        &self,
        from: &dyn BlobStore,
        to: &dyn BlobStore,
        file: &domain::files::File,
    ) -> Result<(), CopyError> {
        let read = from.get(file.id, None).await.map_err(AppError::from)?;
        let read = read.ok_or_else(|| CopyError::BytesMissing(file.id.to_string()))?;
        let stored = to.put(file.id, read.bytes, file.size).await.map_err(AppError::from)?;
        if stored.sha256 != file.sha256 || stored.size != file.size {
            return Err(CopyError::Differs { kind: "file bytes", id: file.id.to_string() });
        }
        Ok(())
    }

    /// Reads both sides again and compares each kind: its count and the digest of its records.
    pub async fn verify(&self) -> Result<Vec<KindCompared>, CopyError> {
        let mut compared = Vec::new();
        for kind in RecordKind::ALL {
            let source = tally(self.source.as_ref(), kind, self.page).await?;
            let target = tally(self.target.as_ref(), kind, self.page).await?;
            compared.push(KindCompared { kind, source, target });
        }
        Ok(compared)
    }
}

async fn insert(uow: &mut dyn UnitOfWork, record: &Record) -> Result<(), StorageError> {
    match record {
        Record::User(u) => uow.users().insert(u).await,
        Record::Project(p) => uow.projects().insert(p).await,
        Record::Member(m) => uow.members().insert(m).await,
        Record::Post(p) => uow.posts().insert(p).await,
        // The source held it within its quota; the target takes what the source held.
        Record::File(f) => uow.files().insert(f, u64::MAX).await,
    }
}

fn record_id(record: &Record) -> String {
    match record {
        Record::User(u) => u.id.0.to_string(),
        Record::Project(p) => p.id.0.to_string(),
        Record::Member(m) => format!("{}/{}", m.project_id.0, m.user_id.0),
        Record::Post(p) => p.id.0.to_string(),
        Record::File(f) => f.id.0.to_string(),
    }
}

async fn tally(storage: &dyn Storage, kind: RecordKind, page: u32) -> Result<Tally, CopyError> {
    let mut tally = Tally::default();
    let mut after = None;
    loop {
        let got = storage.export().scan(kind, after, page).await?;
        for record in &got.records {
            tally.add(record);
        }
        match got.next {
            Some(next) => after = Some(next),
            None => return Ok(tally),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{member, user};
    use domain::projects::ProjectRole;
    use domain::users::Role;

    fn tally(records: &[Record]) -> Tally {
        let mut tally = Tally::default();
        for record in records {
            tally.add(record);
        }
        tally
    }

    #[test]
    fn a_tally_does_not_depend_on_order_and_sees_every_field() {
        let (ada, bob) = (Record::User(user(1, "ada", Role::User)), Record::User(user(2, "bob", Role::User)));
        let owner = Record::Member(member(5, 1, ProjectRole::Owner));
        assert_eq!(
            tally(&[ada.clone(), bob.clone(), owner.clone()]),
            tally(&[owner.clone(), bob.clone(), ada.clone()])
        );
        let mut changed = user(2, "bob", Role::User);
        changed.session_epoch += 1;
        assert_ne!(tally(&[ada.clone(), bob]), tally(&[ada.clone(), Record::User(changed)]));
        assert_ne!(tally(std::slice::from_ref(&ada)), tally(&[ada.clone(), ada]), "a record twice counts twice");
    }
}
