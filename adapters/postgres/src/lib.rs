//! PostgreSQL storage: sqlx with the PostgreSQL driver only, migrations embedded in the binary,
//! a unit of work over a PostgreSQL transaction, and constraint violations mapped to the domain's
//! errors by constraint name. Reads that need no transaction run on a pooled connection alone; the pool is
//! Tessera's own (see `pool`).

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
mod storage;
mod unit_of_work;
mod users;

pub use storage::{PostgresSettings, PostgresStorage};
