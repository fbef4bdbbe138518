//! Opening the database, migrating it, and handing out units of work.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use application::ports::{ExpiredSessions, IdempotencyRecords, LoginAttempts, RecordScan, Storage, UnitOfWork};
use async_trait::async_trait;
use domain::StorageError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Executor};
use storage_support::timed;

use crate::errors::storage_error;
use crate::pool::{self, Lease, Pool};
use crate::unit_of_work::SqliteUnit;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// `sqlite://path/to/file.db` or `sqlite::memory:`.
    pub url: String,
    pub read_connections: u32,
    /// Page cache per connection, in KiB (SQLite's own default is 2,000). Small by default:
    /// every connection keeps its own, and the file's pages are in the OS's cache anyway.
    pub cache_kib: u32,
    pub acquire_timeout: Duration,
    /// Create the file (and its directory) when missing; off for tools that only read an
    /// existing database (`tessera backup`), so that a mistyped path is an error, not a new file.
    pub create_if_missing: bool,
}

impl SqliteSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            read_connections: 4,
            cache_kib: 256,
            acquire_timeout: Duration::from_secs(5),
            create_if_missing: true,
        }
    }
}

#[derive(Clone)]
pub struct SqliteStorage {
    writer: Pool,
    reader: Pool,
    acquire_timeout: Duration,
    /// For an in-memory database, a connection kept open for the storage's lifetime: the
    /// database lives only while one is, and the pool may replace its connection.
    _keeper: Option<Arc<Mutex<SqliteConnection>>>,
}

impl SqliteStorage {
    /// Opens the database file, creating it and its directory unless told not to. Does not migrate.
    pub async fn connect(settings: &SqliteSettings) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(&settings.url)
            .map_err(|e| StorageError::backend_from("bad sqlite url", e))?
            .create_if_missing(settings.create_if_missing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(settings.acquire_timeout)
            // Rows the connection's thread reads ahead of the page being filled (sqlx's default
            // is 50): a page stops once its items reach its byte budget, and the rows read ahead
            // of that point — up to 400 KB each for the largest posts — are held until dropped.
            // 16 still covers a default page of 20 in about one hand-off.
            .row_buffer_size(16)
            // Negative: in KiB. With SQLite's default (2,000 KiB each) the five connections' caches
            // held SQLite's peak RSS near 80 MB under list load; 256 KiB: about 41 MB, for a few
            // reads of cached file pages per list (up to 11% more CPU in noisy A/Bs: RESULTS "Speed" 6).
            .pragma("cache_size", format!("-{}", settings.cache_kib.max(1)));
        let in_memory = options.get_filename().as_os_str().is_empty()
            || options.get_filename().to_string_lossy().contains(":memory:")
            || settings.url.contains(":memory:");
        if !in_memory && !settings.create_if_missing && !options.get_filename().exists() {
            return Err(StorageError::backend(format!("{} does not exist", options.get_filename().display())));
        }
        if !in_memory && settings.create_if_missing {
            if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| StorageError::unavailable_from(format!("cannot create {}", dir.display()), e))?;
            }
        }
        let keeper = match in_memory {
            true => Some(Arc::new(Mutex::new(options.connect().await.map_err(storage_error)?))),
            false => None,
        };
        let writer = pool::pool(options.clone(), 1)?;
        // An in-memory database is one shared cache (sqlx names it per options), whose connections
        // lock each other out table by table (SQLITE_LOCKED, not waited on): readers share the
        // writer's one connection.
        let reader =
            if in_memory { writer.clone() } else { pool::pool(options.read_only(true), settings.read_connections)? };
        let storage = Self { writer, reader, acquire_timeout: settings.acquire_timeout, _keeper: keeper };
        // Opened now, so that a file that cannot be opened is an error at start, not at the first request.
        drop(storage.lease_writer().await?);
        drop(storage.lease_reader().await?);
        Ok(storage)
    }

    /// The writer connection (one: SQLite has one writer at a time anyway), within the acquire timeout.
    pub(crate) async fn lease_writer(&self) -> Result<Lease, StorageError> {
        pool::lease(&self.writer, self.acquire_timeout).await
    }

    /// A reader connection, within the acquire timeout.
    pub(crate) async fn lease_reader(&self) -> Result<Lease, StorageError> {
        pool::lease(&self.reader, self.acquire_timeout).await
    }

    /// Applies the embedded migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut writer = self.lease_writer().await?;
        MIGRATOR.run(&mut *writer).await.map_err(|e| StorageError::backend_from("migration failed", e))
    }

    pub async fn close(&self) {
        pool::close(&self.reader).await;
        pool::close(&self.writer).await;
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        let tx = timed("sqlite", "begin", "begin", async {
            self.lease_writer().await?.begin().await.map_err(storage_error)
        })
        .await?;
        Ok(Box::new(SqliteUnit::transaction(tx)))
    }

    async fn read(&self) -> Result<Box<dyn UnitOfWork>, StorageError> {
        let conn = timed("sqlite", "acquire", "acquire", self.lease_reader()).await?;
        Ok(Box::new(SqliteUnit::reads_only(conn)))
    }

    async fn ping(&self) -> Result<(), StorageError> {
        timed("sqlite", "ping", "query", async {
            self.lease_reader().await?.execute("SELECT 1").await.map(drop).map_err(storage_error)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn both_pools_get_the_configured_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = SqliteSettings::new(format!("sqlite://{}/cache.db", dir.path().display()));
        settings.cache_kib = 300;
        let storage = SqliteStorage::connect(&settings).await.unwrap();
        for mut conn in [storage.lease_writer().await.unwrap(), storage.lease_reader().await.unwrap()] {
            let size: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&mut *conn).await.unwrap();
            assert_eq!(size, -300);
        }
        storage.close().await;
    }
}
