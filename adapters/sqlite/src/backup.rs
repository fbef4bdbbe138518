//! An online backup: a consistent copy of the database taken while other processes serve from it.
//!
//! `VACUUM INTO` reads the whole database inside one read transaction, so the copy is the
//! database as of one commit; in WAL mode readers never block the writer, so serving goes on.
//! SQLite does not fsync the file it writes, and a crash half-way leaves half a file: the copy
//! goes to a temporary name in the target's directory, is fsynced there, and only then takes
//! the target's name, without ever replacing an existing file.

use std::path::{Path, PathBuf};

use domain::StorageError;

use crate::errors::storage_error;
use crate::storage::SqliteStorage;

/// A backup written by [`SqliteStorage::backup_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target exists: a backup never replaces a file (an older backup, or the database).
    #[error("{} already exists; a backup never overwrites a file: name a new one", .0.display())]
    Exists(PathBuf),
    /// An in-memory database lives in one process: another process has nothing to copy.
    #[error("an in-memory database cannot be backed up from another process")]
    InMemory,
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the snapshot failed")]
    Storage(#[source] StorageError),
}

impl SqliteStorage {
    /// Writes a consistent snapshot of the database to `to`, which must not exist (refused with
    /// [`BackupError::Exists`], also when it appears while the snapshot is taken). The file is
    /// complete and on disk when this returns; a failure or crash leaves nothing at `to`, only
    /// possibly a `.NAME.*.partial` file beside it. Runs on a read connection: no write waits.
    pub async fn backup_to(&self, to: &Path) -> Result<Backup, BackupError> {
        if tokio::fs::symlink_metadata(to).await.is_ok() {
            return Err(BackupError::Exists(to.to_owned()));
        }
        let mut reader = self.lease_reader().await.map_err(BackupError::Storage)?;
        let file: String = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(&mut *reader)
            .await
            .map_err(|e| BackupError::Storage(storage_error(e)))?;
        if file.is_empty() {
            return Err(BackupError::InMemory);
        }

        let dir = match to.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = to.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // An empty file of our own (mode 0600: the copy holds password hashes), which VACUUM INTO
        // accepts as its target; removed on any failure below, when `partial` is dropped.
        let partial =
            tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".partial").tempfile_in(&dir).map_err(
                |source| BackupError::Io { context: format!("cannot create a file in {}", dir.display()), source },
            )?;
        let partial_path = partial.path().to_str().ok_or_else(|| BackupError::Io {
            context: format!("{} is not UTF-8, which SQLite needs", partial.path().display()),
            source: std::io::ErrorKind::InvalidInput.into(),
        })?;

        sqlx::query("VACUUM INTO ?")
            .bind(partial_path)
            .execute(&mut *reader)
            .await
            .map_err(|e| BackupError::Storage(storage_error(e)))?;

        let to = to.to_owned();
        tokio::task::spawn_blocking(move || publish(partial, &to, &dir))
            .await
            .map_err(|e| BackupError::Io { context: "the backup's last step stopped".into(), source: e.into() })?
    }
}

/// Flushes the copy to disk, gives it its name unless that name is taken meanwhile, and makes
/// the new name itself durable.
fn publish(partial: tempfile::NamedTempFile, to: &Path, dir: &Path) -> Result<Backup, BackupError> {
    let io = |context: String| move |source| BackupError::Io { context, source };
    partial.as_file().sync_all().map_err(io(format!("cannot flush {}", partial.path().display())))?;
    let bytes = partial.as_file().metadata().map_err(io(format!("cannot read {}", partial.path().display())))?.len();
    // Atomic on Linux (renameat2 RENAME_NOREPLACE, or link then unlink): never replaces a file.
    partial.persist_noclobber(to).map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::Exists(to.to_owned()),
        _ => BackupError::Io { context: format!("cannot name the backup {}", to.display()), source: e.error },
    })?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("cannot flush the directory {}", dir.display())))?;
    Ok(Backup { path: to.to_owned(), bytes })
}
