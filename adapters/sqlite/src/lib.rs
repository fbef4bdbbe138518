//! The embedded default storage: SQLite through sqlx, with embedded migrations and WAL mode.
//!
//! All writes go through one connection (SQLite has one writer at a time anyway): queueing in the
//! pool is cheaper and more predictable than `SQLITE_BUSY` retries, and a transaction that reads
//! before it writes can never fail to upgrade its lock. Reads use a pool of their own.

mod backup;
mod errors;
mod expired_sessions;
mod files;
mod idempotency;
mod keyset;
mod login_attempts;
mod members;
mod metrics;
mod pool;
mod posts;
mod projects;
mod records;
mod refresh_tokens;
mod rows;
mod storage;
mod unit_of_work;
mod users;

pub use backup::{Backup, BackupError};
pub use storage::{SqliteSettings, SqliteStorage};
