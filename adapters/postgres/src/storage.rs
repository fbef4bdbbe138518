//! The pool, migrations, and handing out units of work.

use std::str::FromStr;
use std::time::Duration;

use application::ports::{ExpiredSessions, IdempotencyRecords, LoginAttempts, RecordScan, Storage, UnitOfWork};
use async_trait::async_trait;
use deadpool::managed::PoolError;
use domain::StorageError;
use sqlx::postgres::PgConnectOptions;
use sqlx::Executor;
use storage_support::timed;

use crate::errors::storage_error;
use crate::pool::{self, Lease, Pool};
use crate::unit_of_work::PgUnit;

/// A rollback's own round trip, beyond the statement it may first wait for.
const SETTLE_MARGIN: Duration = Duration::from_secs(5);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct PostgresSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    pub max_connections: u32,
    /// Longest wait for a connection (including opening one): past it a request gets 503.
    pub acquire_timeout: Duration,
    /// Longest a statement may run before PostgreSQL cancels it.
    pub statement_timeout: Duration,
}

impl PostgresSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub struct PostgresStorage {
    pool: Pool,
    acquire_timeout: Duration,
    /// Longest a connection may take to settle before it is pooled again (it may wait for a
    /// cancelled statement to end, then roll back).
    settle_within: Duration,
}

impl PostgresStorage {
    /// Builds the pool. Connections open lazily: Tessera starts (and answers 503 until the
    /// database is reachable) even when PostgreSQL is down.
    pub fn connect(settings: &PostgresSettings) -> Result<Self, StorageError> {
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| StorageError::backend_from("bad postgres url", e))?
            .application_name("tessera")
            .options([("statement_timeout", format!("{}", settings.statement_timeout.as_millis()))]);
        let max_connections = usize::try_from(settings.max_connections).unwrap_or(usize::MAX);
        let pool = pool::pool(options, max_connections).map_err(|e| StorageError::backend_from("postgres pool", e))?;
        Ok(Self {
            pool,
            acquire_timeout: settings.acquire_timeout,
            settle_within: settings.statement_timeout + SETTLE_MARGIN,
        })
    }

    /// Applies the embedded migrations that are not applied yet. sqlx holds an advisory lock
    /// while it migrates, so instances starting at once apply each migration exactly once.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut lease = self.lease().await?;
        let migrated = MIGRATOR.run(&mut *lease).await;
        // The migrator's advisory lock belongs to the session, and a failed migration leaves it
        // held: the session ends here rather than serve requests with it.
        lease.close().await;
        migrated.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => storage_error(inner),
            other => StorageError::backend_from("migration failed", other),
        })
    }

    pub async fn close(&self) {
        pool::close(&self.pool).await;
    }

    /// A connection within the acquire timeout (which includes opening one): past it, or with
    /// the database unreachable, the storage is unavailable.
    pub(crate) async fn lease(&self) -> Result<Lease, StorageError> {
        match tokio::time::timeout(self.acquire_timeout, self.pool.get()).await {
            Ok(Ok(pooled)) => Ok(Lease::new(pooled, self.settle_within)),
            Ok(Err(PoolError::Backend(e))) => Err(storage_error(e)),
            Ok(Err(PoolError::Closed)) => Err(StorageError::unavailable("the postgres pool is closed")),
            Ok(Err(e)) => Err(StorageError::backend_from("postgres pool", e)),
            Err(_) => Err(StorageError::unavailable("no postgres connection within the acquire timeout")),
        }
    }
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        let tx =
            timed("postgres", "begin", "begin", async { self.lease().await?.begin().await.map_err(storage_error) })
                .await?;
        Ok(Box::new(PgUnit::transaction(tx)))
    }

    async fn read(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        let conn = timed("postgres", "acquire", "acquire", self.lease()).await?;
        Ok(Box::new(PgUnit::reads_only(conn)))
    }

    async fn ping(&self) -> Result<(), StorageError> {
        timed("postgres", "ping", "query", async {
            self.lease().await?.execute("SELECT 1").await.map(drop).map_err(storage_error)
        })
        .await
    }

    fn login_attempts(&self) -> &dyn LoginAttempts {
        self
    }

    fn expired_sessions(&self) -> &dyn ExpiredSessions {
        self
    }

    fn idempotency(&self) -> &dyn IdempotencyRecords {
        self
    }
    fn export(&self) -> &dyn RecordScan {
        self
    }
}
