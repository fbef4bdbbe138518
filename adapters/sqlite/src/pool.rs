//! The pools of SQLite connections (the one writer, the readers): deadpool over sqlx's
//! `SqliteConnection`.
//!
//! Not sqlx's own pool, because it pings every connection as it comes back — unconditionally in
//! sqlx 0.8 — and on SQLite a ping is a hand-off to the connection's thread and back, which the
//! single writer waits out before the next transaction may start (RESULTS.md "Speed" 8). What
//! the ping was there for is done here where it is needed:
//!
//! - a transaction left unfinished (an error, a cancelled request) is rolled back before the
//!   connection serves anyone else: the rollback is queued on the connection's thread as the
//!   lease drops, ahead of whatever the next holder sends ([`Lease`]'s drop, as sqlx's own
//!   `Transaction` does it);
//! - a connection whose thread is gone (a panic, or sqlx ending it when it cannot roll back a
//!   BEGIN nobody acknowledged) is found before a request uses it: once any statement failed
//!   that way, every pooled connection answers a ping before its next use ([`Manager::recycle`]);
//! - a connection still in a transaction when it is next taken (its queued rollback not run yet,
//!   or failed — SQLite may end a transaction itself on a full disk or an I/O error, and then
//!   sqlx would turn every later BEGIN into a savepoint that commits nothing) waits for the
//!   rollback, and is replaced if it is still in one.
//!
//! A statement cancelled in flight ends at its next row (nobody receives it any more); the next
//! holder's statements queue behind it on the connection's thread.
//!
//! Nothing outside this process can end a SQLite connection, so connections are kept: no
//! lifetime, no idle limit. (An in-memory database lives only while a connection to it is open:
//! the storage keeps one of its own besides the pool, so that a replaced connection loses nothing.)

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use domain::StorageError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteTransactionManager};
use sqlx::{ConnectOptions, Connection, TransactionManager};

/// Statements that failed because a connection's thread is gone, counted across the process:
/// every pooled connection checked before the latest one is pinged before its next use.
static WORKER_GONE: AtomicU64 = AtomicU64::new(0);

pub(crate) fn worker_gone() {
    WORKER_GONE.fetch_add(1, Ordering::Relaxed);
}

pub(crate) struct Pooled {
    conn: SqliteConnection,
    /// `WORKER_GONE` when this connection last answered a ping or was opened.
    checked_at: u64,
}

pub(crate) struct Manager {
    options: SqliteConnectOptions,
}

impl managed::Manager for Manager {
    type Type = Pooled;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Pooled, sqlx::Error> {
        let checked_at = WORKER_GONE.load(Ordering::Relaxed);
        Ok(Pooled { conn: self.options.connect().await?, checked_at })
    }

    async fn recycle(&self, pooled: &mut Pooled, _: &Metrics) -> RecycleResult<sqlx::Error> {
        if SqliteTransactionManager::get_transaction_depth(&pooled.conn) != 0 {
            // The ping's answer comes after the queued rollback has run.
            let _ = pooled.conn.ping().await;
            if SqliteTransactionManager::get_transaction_depth(&pooled.conn) != 0 {
                tracing::warn!("a pooled sqlite connection left in a transaction is replaced");
                return Err(RecycleError::message("left in a transaction"));
            }
        }
        let gone = WORKER_GONE.load(Ordering::Relaxed);
        if pooled.checked_at != gone {
            if pooled.conn.ping().await.is_err() {
                tracing::debug!("a pooled sqlite connection whose thread is gone is replaced");
                return Err(RecycleError::message("its thread is gone"));
            }
            pooled.checked_at = gone;
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<Manager>;

pub(crate) fn pool(options: SqliteConnectOptions, max_connections: u32) -> Result<Pool, StorageError> {
    let max_size = usize::try_from(max_connections.max(1)).unwrap_or(usize::MAX);
    // Last in, first out: under light load the same connections (and their page caches) stay warm.
    Pool::builder(Manager { options })
        .max_size(max_size)
        .queue_mode(managed::QueueMode::Lifo)
        .build()
        .map_err(|e| StorageError::backend_from("sqlite pool", e))
}

/// A connection within `timeout` (which includes opening one); past it the storage is unavailable.
pub(crate) async fn lease(pool: &Pool, timeout: Duration) -> Result<Lease, StorageError> {
    match tokio::time::timeout(timeout, pool.get()).await {
        Ok(Ok(pooled)) => Ok(Lease { pooled: Some(pooled), in_transaction: false }),
        Ok(Err(PoolError::Backend(e))) => Err(crate::errors::storage_error(e)),
        Ok(Err(PoolError::Closed)) => Err(StorageError::unavailable("the sqlite pool is closed")),
        Ok(Err(e)) => Err(StorageError::backend_from("sqlite pool", e)),
        Err(_) => Err(StorageError::unavailable("no sqlite connection within the acquire timeout")),
    }
}

/// Closes the idle connections and the pool, each connection's thread finishing its work (the
/// last one to close a file checkpoints its write-ahead log). Connections still in use close as
/// they come back.
pub(crate) async fn close(pool: &Pool) {
    let idle = pool.retain(|_, _| false).removed;
    pool.close();
    for pooled in idle {
        // Closing is a courtesy to the file: a failure leaves nothing SQLite cannot recover.
        let _ = pooled.conn.close().await;
    }
}

/// A connection taken from a pool, back in it when dropped — after a rollback, queued on its
/// thread, of a transaction left unfinished.
pub(crate) struct Lease {
    pooled: Option<Object<Manager>>,
    in_transaction: bool,
}

impl Lease {
    pub(crate) async fn begin(mut self) -> Result<Self, sqlx::Error> {
        // Set first: a BEGIN cancelled on its way may still have started a transaction (the
        // rollback on drop is a no-op on the connection's thread when none is open).
        self.in_transaction = true;
        SqliteTransactionManager::begin(&mut self, None).await?;
        Ok(self)
    }

    /// A failed COMMIT leaves `in_transaction` set, and the transaction is rolled back on drop.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        SqliteTransactionManager::commit(&mut self).await?;
        self.in_transaction = false;
        Ok(())
    }
}

impl Deref for Lease {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match &self.pooled {
            Some(pooled) => &pooled.conn,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut self.pooled {
            Some(pooled) => &mut pooled.conn,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(mut pooled) = self.pooled.take() else { return };
        if self.in_transaction {
            // Queued, not awaited: the connection's thread runs it before anything the next
            // holder sends. A COMMIT that ran but was never acknowledged makes sqlx's thread
            // skip this one rollback, so it cannot undo a committed transaction.
            SqliteTransactionManager::start_rollback(&mut pooled.conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Executor;

    /// A pool of one connection on a file of its own (removed with the directory).
    async fn file_pool() -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/pool.db", dir.path().display());
        let options: SqliteConnectOptions = url.parse::<SqliteConnectOptions>().unwrap().create_if_missing(true);
        (dir, pool(options, 1).unwrap())
    }

    async fn take(pool: &Pool) -> Lease {
        lease(pool, Duration::from_secs(5)).await.unwrap()
    }

    #[tokio::test]
    async fn a_transaction_dropped_unfinished_is_rolled_back_and_the_connection_kept() {
        let (_dir, pool) = file_pool().await;
        let mut conn = take(&pool).await;
        conn.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
        // Exists on this connection only: tells whether a later lease is the same connection.
        conn.execute("CREATE TEMP TABLE marker (x INTEGER)").await.unwrap();
        drop(conn);

        for (x, commit) in [(1, false), (2, true)] {
            let mut tx = take(&pool).await.begin().await.unwrap();
            tx.execute(&*format!("INSERT INTO t VALUES ({x})")).await.unwrap();
            if commit {
                tx.commit().await.unwrap();
            }
        }
        let mut conn = take(&pool).await;
        let rows: Vec<i64> = sqlx::query_scalar("SELECT x FROM t").fetch_all(&mut *conn).await.unwrap();
        assert_eq!(rows, [2], "the first was rolled back as it dropped");
        conn.execute("SELECT count(*) FROM temp.marker").await.expect("the same connection throughout");
    }

    #[tokio::test]
    async fn a_connection_left_in_a_transaction_is_not_handed_out() {
        let (_dir, pool) = file_pool().await;
        let mut conn = take(&pool).await;
        // A transaction sqlx counts but the lease does not know of: its drop queues no rollback.
        SqliteTransactionManager::begin(&mut conn, None).await.unwrap();
        drop(conn);
        let conn = take(&pool).await;
        assert_eq!(SqliteTransactionManager::get_transaction_depth(&conn), 0);
    }

    #[tokio::test]
    async fn a_busy_pool_is_unavailable_after_the_timeout() {
        let (_dir, pool) = file_pool().await;
        let held = take(&pool).await;
        let waited = lease(&pool, Duration::from_millis(50)).await;
        assert!(matches!(waited, Err(StorageError::Unavailable { .. })), "{:?}", waited.err());
        drop(held);
    }
}
