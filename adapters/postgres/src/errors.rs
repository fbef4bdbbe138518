//! sqlx errors into the domain's vocabulary, by constraint name and SQLSTATE.

use domain::{Conflict, StorageError};
use sqlx::error::ErrorKind;

pub(crate) fn storage_error(err: sqlx::Error) -> StorageError {
    match &err {
        sqlx::Error::Database(db) => {
            match (db.kind(), db.constraint()) {
                (ErrorKind::UniqueViolation, Some("users_email_key")) => {
                    return StorageError::Conflict(Conflict::EmailTaken);
                }
                (ErrorKind::UniqueViolation, Some("users_username_key")) => {
                    return StorageError::Conflict(Conflict::UsernameTaken);
                }
                (ErrorKind::UniqueViolation, Some("members_pkey")) => {
                    return StorageError::Conflict(Conflict::AlreadyMember);
                }
                (ErrorKind::UniqueViolation, Some("posts_project_slug_key")) => {
                    return StorageError::Conflict(Conflict::SlugTaken);
                }
                (ErrorKind::UniqueViolation, Some("files_pkey")) => {
                    return StorageError::Conflict(Conflict::FileExists);
                }
                // A write that refers to a row deleted meanwhile (a post of a deleted project).
                (ErrorKind::ForeignKeyViolation, _) => return StorageError::ConditionFailed,
                _ => {}
            }
            let code = db.code().unwrap_or_default();
            // 08: connection exceptions; 53: insufficient resources (too many connections);
            // 57P0x: the server is shutting down or killed this session; 57014: statement timeout;
            // 40001/40P01: serialization failure or deadlock (retrying later succeeds).
            // The connection itself is gone only on 08 and 57P0x; a refused new connection (53)
            // or one cancelled statement (57014) leaves the pooled ones fine.
            let connection_gone = code.starts_with("08") || code.starts_with("57P");
            if connection_gone {
                crate::pool::server_went_away();
            }
            if connection_gone || code.starts_with("53") || code == "57014" || code == "40001" || code == "40P01" {
                return StorageError::unavailable_from(format!("postgres {code}"), err);
            }
            StorageError::backend_from(format!("postgres {code}"), err)
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_) => {
            crate::pool::server_went_away();
            StorageError::unavailable_from("postgres", err)
        }
        _ => StorageError::backend_from("postgres", err),
    }
}

/// A stored value the domain refuses: the database holds something no code path writes.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StorageError {
    StorageError::backend(format!("corrupt {what} in postgres: {detail}"))
}

/// A conditional write that matched no row lost its race.
pub(crate) fn one_row_changed(done: &sqlx::postgres::PgQueryResult) -> Result<(), StorageError> {
    storage_support::one_row_changed(done.rows_affected())
}
