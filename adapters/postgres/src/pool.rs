//! The pool of PostgreSQL connections: deadpool over sqlx's `PgConnection`.
//!
//! Not sqlx's own pool, because it pings every connection as it comes back — unconditionally in
//! sqlx 0.8 and 0.9 — and that ping is one of the two round trips `GET /users/me` made to the
//! database for its one statement (RESULTS.md "Speed" 5). What the ping was there for is done
//! here only where it is needed:
//!
//! - a transaction left unfinished (an error, a cancelled request) is rolled back before its
//!   connection is handed out again, so no lock outlives its request ([`Lease`]'s drop);
//! - a connection the server closed is found before a request uses it: one idle ≥ 500 ms, and
//!   every one after any connection failed the way connections fail when the server goes away,
//!   answers a ping first ([`Manager::recycle`]).
//!
//! A statement cancelled in flight (a request past its deadline) needs nothing: the connection
//! counts the answers it still owes and reads them before its next statement.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, RecycleResult};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor};

/// How long after its last use a pooled connection is trusted without a ping (HikariCP's rule).
const KNOWN_ALIVE_FOR: Duration = Duration::from_millis(500);

/// Failures that suggest the server closed connections (a restart, `pg_terminate_backend`),
/// counted across the process: every pooled connection older than the latest one is pinged
/// before its next use. One process-wide count, not one per pool: a process with two pools (a
/// copy between two databases) pings a little more, never less.
static SERVER_WENT_AWAY: AtomicU64 = AtomicU64::new(0);

pub(crate) fn server_went_away() {
    SERVER_WENT_AWAY.fetch_add(1, Ordering::Relaxed);
}

pub(crate) struct Pooled {
    conn: PgConnection,
    /// `SERVER_WENT_AWAY` when this connection last answered a ping or was opened.
    checked_at: u64,
}

pub(crate) struct Manager {
    options: PgConnectOptions,
}

impl managed::Manager for Manager {
    type Type = Pooled;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Pooled, sqlx::Error> {
        let checked_at = SERVER_WENT_AWAY.load(Ordering::Relaxed);
        Ok(Pooled { conn: self.options.connect().await?, checked_at })
    }

    /// `last_used` counts from when the connection was last handed out, so a connection is
    /// pinged at least as often as the idle rule asks.
    async fn recycle(&self, pooled: &mut Pooled, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        let went_away = SERVER_WENT_AWAY.load(Ordering::Relaxed);
        if pooled.checked_at != went_away || metrics.last_used() >= KNOWN_ALIVE_FOR {
            pooled.conn.ping().await?;
            pooled.checked_at = went_away;
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<Manager>;

pub(crate) fn pool(options: PgConnectOptions, max_connections: usize) -> Result<Pool, managed::BuildError> {
    // Last in, first out: under light load the same few connections stay warm and the others
    // age past `KNOWN_ALIVE_FOR` instead of each being used rarely enough to need a ping.
    Pool::builder(Manager { options }).max_size(max_connections.max(1)).queue_mode(managed::QueueMode::Lifo).build()
}

/// Closes the idle connections gracefully (PostgreSQL logs no broken connection) and the pool;
/// connections still in use close as they come back.
pub(crate) async fn close(pool: &Pool) {
    let idle = pool.retain(|_, _| false).removed;
    pool.close();
    for pooled in idle {
        // Closing is a courtesy to the server: a failure leaves nothing behind.
        let _ = pooled.conn.close().await;
    }
}

/// A connection taken from the pool, back in it when dropped — after a rollback if it holds a
/// transaction that was not committed.
pub(crate) struct Lease {
    pooled: Option<Object<Manager>>,
    in_transaction: bool,
    /// Longest a rollback on return may take before the connection is closed instead.
    rollback_within: Duration,
}

impl Lease {
    pub(crate) fn new(pooled: Object<Manager>, rollback_within: Duration) -> Self {
        Self { pooled: Some(pooled), in_transaction: false, rollback_within }
    }

    pub(crate) async fn begin(mut self) -> Result<Self, sqlx::Error> {
        // Set first: a BEGIN cancelled on its way may still have started a transaction.
        self.in_transaction = true;
        self.execute("BEGIN").await?;
        Ok(self)
    }

    /// A failed COMMIT leaves `in_transaction` set: the rollback on return is then a no-op on
    /// the server (which ended the transaction) or finds the connection dead and closes it.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.execute("COMMIT").await?;
        self.in_transaction = false;
        Ok(())
    }
}

impl Deref for Lease {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match &self.pooled {
            Some(pooled) => &pooled.conn,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut self.pooled {
            Some(pooled) => &mut pooled.conn,
            None => unreachable!("a lease holds its connection until dropped"),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(pooled) = self.pooled.take() else { return };
        if !self.in_transaction {
            return; // `pooled` goes back to the pool as it drops
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(roll_back(pooled, self.rollback_within));
            }
            // No runtime to roll back on: closing the connection makes PostgreSQL roll back.
            Err(_) => drop(Object::take(pooled)),
        }
    }
}

/// Rolls back before the connection goes back to the pool; one that cannot is closed, which
/// makes PostgreSQL roll back and release the locks.
async fn roll_back(mut pooled: Object<Manager>, within: Duration) {
    let done = tokio::time::timeout(within, pooled.conn.execute("ROLLBACK")).await;
    if !matches!(done, Ok(Ok(_))) {
        drop(Object::take(pooled));
    }
}
