//! sqlx errors into the domain's vocabulary. Unique violations are told apart by the column
//! SQLite names in its message (it reports no constraint name).

use domain::{Conflict, StorageError};
use sqlx::error::ErrorKind;

/// SQLite result codes that mean "busy, try later" rather than a bug.
const SQLITE_BUSY: &str = "5";
const SQLITE_LOCKED: &str = "6";

pub(crate) fn storage_error(err: sqlx::Error) -> StorageError {
    match &err {
        sqlx::Error::Database(db) => {
            if db.kind() == ErrorKind::UniqueViolation {
                let message = db.message();
                if message.contains("users.email") {
                    return StorageError::Conflict(Conflict::EmailTaken);
                }
                if message.contains("users.username") {
                    return StorageError::Conflict(Conflict::UsernameTaken);
                }
                if message.contains("members.project_id, members.user_id") {
                    return StorageError::Conflict(Conflict::AlreadyMember);
                }
                if message.contains("posts.project_id, posts.slug") {
                    return StorageError::Conflict(Conflict::SlugTaken);
                }
                if message.contains("files.id") {
                    return StorageError::Conflict(Conflict::FileExists);
                }
            }
            // A write that refers to a row deleted meanwhile (a post or member of a deleted project).
            if db.kind() == ErrorKind::ForeignKeyViolation {
                return StorageError::ConditionFailed;
            }
            let code = db.code();
            // Extended codes keep the primary code in the low byte (e.g. 517 = BUSY_SNAPSHOT).
            let primary = code.as_deref().and_then(|c| c.parse::<i32>().ok()).map(|c| (c & 0xff).to_string());
            if matches!(primary.as_deref(), Some(SQLITE_BUSY | SQLITE_LOCKED)) {
                return StorageError::unavailable_from("sqlite busy", err);
            }
            StorageError::backend_from("sqlite", err)
        }
        sqlx::Error::WorkerCrashed => {
            crate::pool::worker_gone();
            StorageError::unavailable_from("sqlite", err)
        }
        sqlx::Error::Io(_) => StorageError::unavailable_from("sqlite", err),
        _ => StorageError::backend_from("sqlite", err),
    }
}

/// A stored value the domain refuses: the database holds something no code path writes.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StorageError {
    StorageError::backend(format!("corrupt {what} in sqlite: {detail}"))
}

/// A conditional write that matched no row lost its race.
pub(crate) fn one_row_changed(done: &sqlx::sqlite::SqliteQueryResult) -> Result<(), StorageError> {
    storage_support::one_row_changed(done.rows_affected())
}
