//! What the storage adapters share. Adapters never import each other; this crate holds the
//! pieces that would otherwise be written once per adapter, and knows no driver itself: every
//! backend's call metrics ([`timed`]), the SQL adapters' unit of work ([`sql_unit_of_work!`]) and
//! row helpers, the continuations of their record scans ([`record_keys`]), and the reading of a
//! stored role.

pub mod record_keys;

use std::future::Future;
use std::time::Instant;

use domain::projects::ProjectRole;
use domain::StorageError;

// `sql_unit_of_work!` reaches these through `$crate`: what its expansion uses is declared here,
// not borrowed from whatever the calling adapter happens to depend on.
#[doc(hidden)]
pub use {application, async_trait, domain};

/// Runs one call to the backend and records its count and latency
/// (`tessera_storage_calls_total`, `tessera_storage_call_duration_seconds`) labelled with:
///
/// - `backend`: `sqlite`, `postgres` or `dynamodb`;
/// - `operation`: what the call was made for, in one vocabulary on every backend — the port
///   operation (`users.get`, `posts.list_for_project`, `refresh_tokens.spend`, …) or the unit of
///   work's `begin`/`commit` (and a SQL pool's `acquire`/`ping`);
/// - `call`: what went to the backend — the DynamoDB API call (`GetItem`, `Query`,
///   `BatchGetItem`, `TransactWriteItems`, …; one operation may make several), or on SQL `query`
///   for a statement and `begin`/`commit`/`acquire` for transaction control;
/// - `outcome`: `ok`, `condition` (a conflict, a failed condition or a lost idempotency claim), `unavailable` or `error`.
///
/// Each call is also traced under the target `tessera::storage` with the same fields.
pub async fn timed<T>(
    backend: &'static str,
    operation: &'static str,
    call: &'static str,
    work: impl Future<Output = Result<T, StorageError>>,
) -> Result<T, StorageError> {
    let started = Instant::now();
    let result = work.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(StorageError::Conflict(_) | StorageError::ConditionFailed | StorageError::ClaimLost) => "condition",
        Err(StorageError::Unavailable { .. }) => "unavailable",
        Err(_) => "error",
    };
    let labels = [("backend", backend), ("operation", operation), ("call", call), ("outcome", outcome)];
    metrics::counter!("tessera_storage_calls_total", &labels).increment(1);
    metrics::histogram!("tessera_storage_call_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    // For tests and debugging: which storage calls (`begin`, `commit`, …) a request made.
    tracing::trace!(target: "tessera::storage", backend, operation, call, outcome, "storage call");
    result
}

/// The columns of a joined user's profile, aliased `{prefix}_…`, for the adapters' row mappers.
pub fn profile_columns(table: &str, prefix: &str) -> String {
    ["id", "username", "first_name", "last_name", "avatar_url", "created_at"]
        .iter()
        .map(|c| format!("{table}.{c} AS {prefix}_{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stored project role; anything else means the table holds what no code path writes.
pub fn role_from_text(role: &str) -> Result<ProjectRole, StorageError> {
    ProjectRole::parse(role).ok_or_else(|| StorageError::backend(format!("corrupt role in storage: {role}")))
}

/// A conditional write (`… WHERE version = ?` / `… IS NULL`) that matched no row lost its race.
pub fn one_row_changed(rows_affected: u64) -> Result<(), StorageError> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(StorageError::ConditionFailed)
    }
}

/// Declares a SQL unit of work over sqlx: a transaction for use cases that write, or a plain
/// pooled connection for those that only read, counting writes against DynamoDB's limit. The
/// adapter implements every repository port on the type this declares (one file per feature).
///
/// The adapter passes what is its own — its driver's types and its mapping of driver errors —
/// and the expansion names nothing else but this crate's re-exports, so every crate it relies
/// on is declared here, where it is written:
///
/// ```ignore
/// storage_support::sql_unit_of_work! {
///     unit: SqliteUnit,
///     transaction: sqlx::Transaction<'static, sqlx::Sqlite>,
///     pooled: sqlx::pool::PoolConnection<sqlx::Sqlite>,
///     connection: sqlx::SqliteConnection,
///     backend: "sqlite",
///     storage_error: crate::errors::storage_error,
/// }
/// ```
#[macro_export]
macro_rules! sql_unit_of_work {
    (
        unit: $unit:ident,
        transaction: $transaction:ty,
        pooled: $pooled:ty,
        connection: $connection:ty,
        backend: $backend:literal,
        storage_error: $storage_error:path $(,)?
    ) => {
        enum Exec {
            Tx($transaction),
            Reads($pooled),
        }

        pub(crate) struct $unit {
            exec: Exec,
            writes: usize,
        }

        impl $unit {
            pub(crate) fn transaction(tx: $transaction) -> Self {
                Self { exec: Exec::Tx(tx), writes: 0 }
            }

            pub(crate) fn reads_only(conn: $pooled) -> Self {
                Self { exec: Exec::Reads(conn), writes: 0 }
            }

            pub(crate) fn conn(&mut self) -> &mut $connection {
                match &mut self.exec {
                    Exec::Tx(tx) => tx,
                    Exec::Reads(conn) => conn,
                }
            }

            /// The connection for one more write, refused outside a transaction and beyond the
            /// unit-of-work limit that DynamoDB imposes on every backend.
            pub(crate) fn write_conn(&mut self) -> Result<&mut $connection, $crate::domain::StorageError> {
                let Exec::Tx(tx) = &mut self.exec else {
                    return Err($crate::domain::StorageError::backend("write through a read-only unit of work"));
                };
                self.writes += 1;
                if self.writes > $crate::application::ports::MAX_WRITES_PER_UNIT {
                    return Err($crate::domain::StorageError::backend(format!(
                        "a unit of work holds at most {} writes",
                        $crate::application::ports::MAX_WRITES_PER_UNIT
                    )));
                }
                Ok(tx)
            }
        }

        #[$crate::async_trait::async_trait]
        impl $crate::application::ports::UnitOfWork for $unit {
            fn users(&mut self) -> &mut dyn $crate::domain::ports::UserRepository {
                self
            }

            fn refresh_tokens(&mut self) -> &mut dyn $crate::domain::ports::RefreshTokenRepository {
                self
            }

            fn projects(&mut self) -> &mut dyn $crate::domain::ports::ProjectRepository {
                self
            }

            fn members(&mut self) -> &mut dyn $crate::domain::ports::MemberRepository {
                self
            }

            fn posts(&mut self) -> &mut dyn $crate::domain::ports::PostRepository {
                self
            }

            fn files(&mut self) -> &mut dyn $crate::domain::ports::FileRepository {
                self
            }

            fn idempotency(&mut self) -> &mut dyn $crate::application::ports::IdempotentAnswers {
                self
            }

            async fn commit(self: Box<Self>) -> Result<(), $crate::domain::StorageError> {
                match self.exec {
                    Exec::Tx(tx) => {
                        $crate::timed($backend, "commit", "commit", async { tx.commit().await.map_err($storage_error) })
                            .await
                    }
                    Exec::Reads(_) => Ok(()),
                }
            }
        }
    };
}
