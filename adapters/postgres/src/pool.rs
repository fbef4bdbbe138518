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
//! A statement cancelled in flight (a request past its deadline, a client gone) leaves answers
//! owed on its connection: those are read in the background too before the connection is pooled
//! again, so that the next request does not wait behind them.
//!
//! Connections live at most 30 minutes and are closed after 10 idle (sqlx's defaults), so that
//! a failover or a balancer's new target is picked up and a burst's connections do not stay.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use futures::FutureExt;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor};
use tokio::runtime::Handle;

/// How long after its last use a pooled connection is trusted without a ping (HikariCP's rule).
const KNOWN_ALIVE_FOR: Duration = Duration::from_millis(500);
/// A ping unanswered this long (a connection a firewall dropped silently) fails: the next
/// connection is tried, rather than the request waiting out its whole acquire timeout.
const PING_WITHIN: Duration = Duration::from_secs(2);
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
const MAX_IDLE: Duration = Duration::from_secs(10 * 60);
const REAP_EVERY: Duration = Duration::from_secs(60);

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
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("past its lifetime"));
        }
        let went_away = SERVER_WENT_AWAY.load(Ordering::Relaxed);
        if pooled.checked_at != went_away || metrics.last_used() >= KNOWN_ALIVE_FOR {
            let answered = tokio::time::timeout(PING_WITHIN, pooled.conn.ping()).await;
            if !matches!(answered, Ok(Ok(()))) {
                // One dead connection: the others were likely closed with it.
                server_went_away();
                tracing::debug!("a pooled postgres connection failed its ping and is replaced");
                return Err(RecycleError::message("failed its ping"));
            }
            pooled.checked_at = went_away;
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<Manager>;

pub(crate) fn pool(options: PgConnectOptions, max_connections: usize) -> Result<Pool, managed::BuildError> {
    // Last in, first out: under light load the same few connections stay warm and the others
    // age past `KNOWN_ALIVE_FOR` instead of each being used rarely enough to need a ping.
    let pool = Pool::builder(Manager { options })
        .max_size(max_connections.max(1))
        .queue_mode(managed::QueueMode::Lifo)
        .build()?;
    if let Ok(runtime) = Handle::try_current() {
        runtime.spawn(reap(pool.weak()));
    }
    Ok(pool)
}

/// Closes, every minute, the pooled connections idle or alive too long (one in use past its
/// lifetime is refused by `recycle` when next taken), until the pool is gone or closed.
async fn reap(pool: managed::WeakPool<Manager>) {
    loop {
        tokio::time::sleep(REAP_EVERY).await;
        let Some(pool) = pool.upgrade().filter(|pool| !pool.is_closed()) else { return };
        let expired = pool.retain(|_, metrics| metrics.age() < MAX_LIFETIME && metrics.last_used() < MAX_IDLE).removed;
        drop(pool);
        close_gracefully(expired).await;
    }
}

/// Closes the idle connections and the pool. Connections still in use, or being settled, are
/// closed as they come back, without the goodbye message (PostgreSQL logs each as an
/// unexpected end of the client's connection).
pub(crate) async fn close(pool: &Pool) {
    let idle = pool.retain(|_, _| false).removed;
    pool.close();
    close_gracefully(idle).await;
}

async fn close_gracefully(connections: Vec<Pooled>) {
    for pooled in connections {
        // Closing is a courtesy to the server: a failure leaves nothing behind.
        let _ = pooled.conn.close().await;
    }
}

/// A connection taken from the pool, back in it when dropped — once the answers a cancelled
/// statement still owes are read, and a transaction left unfinished is rolled back.
pub(crate) struct Lease {
    pooled: Option<Object<Manager>>,
    in_transaction: bool,
    /// Longest settling on return may take before the connection is closed instead.
    settle_within: Duration,
}

impl Lease {
    pub(crate) fn new(pooled: Object<Manager>, settle_within: Duration) -> Self {
        Self { pooled: Some(pooled), in_transaction: false, settle_within }
    }

    /// Closes the connection instead of pooling it: for a session whose state must not serve
    /// anyone else (the migrations' advisory lock, which a failed migration leaves held).
    pub(crate) async fn close(mut self) {
        if let Some(pooled) = self.pooled.take() {
            let _ = Object::take(pooled).conn.close().await;
        }
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
        let Some(mut pooled) = self.pooled.take() else { return };
        // Reads what a cancelled statement still owes, as far as it has arrived; with nothing
        // owed it returns at once without I/O. (`flush` is sqlx's call for this, which its
        // documentation hides; its pool made the same call through a ping.)
        match pooled.conn.flush().now_or_never() {
            Some(Ok(())) if !self.in_transaction => {} // back to the pool as `pooled` drops
            Some(Err(_)) => drop(Object::take(pooled)),
            _ => match Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(settle(Settling(Some(pooled)), self.in_transaction, self.settle_within));
                }
                // No runtime to settle on: closing the connection makes PostgreSQL roll back.
                Err(_) => drop(Object::take(pooled)),
            },
        }
    }
}

/// A connection being settled in the background: closed rather than pooled unless settling
/// succeeded — also when its task never runs (the runtime shutting down).
struct Settling(Option<Object<Manager>>);

impl Drop for Settling {
    fn drop(&mut self) {
        if let Some(pooled) = self.0.take() {
            drop(Object::take(pooled));
        }
    }
}

/// Reads what the connection still owes, rolls back if a transaction may be open, and pools it
/// again; one that cannot is closed, which makes PostgreSQL roll back and release the locks.
async fn settle(mut settling: Settling, in_transaction: bool, within: Duration) {
    let Some(pooled) = settling.0.as_mut() else { return };
    let settled = tokio::time::timeout(within, async {
        pooled.conn.flush().await?;
        if in_transaction {
            pooled.conn.execute("ROLLBACK").await?;
        }
        Ok::<_, sqlx::Error>(())
    })
    .await;
    if matches!(settled, Ok(Ok(()))) {
        drop(settling.0.take());
    } else {
        tracing::debug!("a postgres connection that could not be settled is closed");
    }
}
