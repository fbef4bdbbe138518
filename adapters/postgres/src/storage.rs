//! The pool, migrations, and handing out units of work.

use std::str::FromStr;
use std::time::Duration;

use application::ports::{ExpiredSessions, IdempotencyRecords, LoginAttempts, RecordScan, Storage, UnitOfWork};
use async_trait::async_trait;
use domain::StorageError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Connection;
use storage_support::timed;

use crate::errors::storage_error;
use crate::unit_of_work::PgUnit;

/// How long after its last round trip a pooled connection is trusted without a ping.
const KNOWN_ALIVE_FOR: Duration = Duration::from_millis(500);

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
    pub(crate) pool: PgPool,
}

impl PostgresStorage {
    /// Builds the pool. Connections open lazily: Tessera starts (and answers 503 until the
    /// database is reachable) even when PostgreSQL is down.
    pub fn connect(settings: &PostgresSettings) -> Result<Self, StorageError> {
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| StorageError::backend_from("bad postgres url", e))?
            .application_name("tessera")
            .options([("statement_timeout", format!("{}", settings.statement_timeout.as_millis()))]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            // A connection killed by the server (restart, pg_terminate_backend) is found out
            // before use instead of failing a request — but only one that sat idle: sqlx
            // already pinged each connection as it came back to the pool, so one used within
            // the last moment is known alive, and a ping per request is one more round trip to
            // the database per request (HikariCP skips its check the same way; RESULTS.md
            // "Speed" 3 has what it cost). The price: a connection killed within that moment
            // (a restart under load) fails the one request that uses it next with a 503, and
            // is then closed — at most one request per pooled connection.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= KNOWN_ALIVE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// Applies the embedded migrations that are not applied yet. sqlx holds an advisory lock
    /// while it migrates, so instances starting at once apply each migration exactly once.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) => storage_error(inner),
            other => StorageError::backend_from("migration failed", other),
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        let tx = timed("postgres", "begin", "begin", async { self.pool.begin().await.map_err(storage_error) }).await?;
        Ok(Box::new(PgUnit::transaction(tx)))
    }

    async fn read(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        let conn =
            timed("postgres", "acquire", "acquire", async { self.pool.acquire().await.map_err(storage_error) }).await?;
        Ok(Box::new(PgUnit::reads_only(conn)))
    }

    async fn ping(&self) -> Result<(), StorageError> {
        timed("postgres", "ping", "query", async {
            sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(storage_error)
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
