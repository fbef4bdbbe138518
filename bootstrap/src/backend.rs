//! The one place that knows which storage backend runs.

use std::sync::Arc;
use std::time::Duration;

use application::ports::Storage;
use tessera_dynamodb::{DynamoSettings, DynamoStorage};
use tessera_postgres::{PostgresSettings, PostgresStorage};
use tessera_sqlite::{SqliteSettings, SqliteStorage};

use crate::config::{Config, StorageKind};
use crate::BootError;

/// An opened storage backend.
#[derive(Clone)]
pub enum Backend {
    Sqlite(SqliteStorage),
    Postgres(PostgresStorage),
    Dynamodb(DynamoStorage),
}

impl Backend {
    pub async fn open(config: &Config) -> Result<Self, BootError> {
        let acquire_timeout = Duration::from_millis(config.pool_acquire_timeout_ms);
        let url = || {
            config.database_url().ok_or_else(|| {
                BootError::Config(format!("--database-url (TESSERA_DATABASE_URL) is required for {:?}", config.storage))
            })
        };
        match config.storage {
            StorageKind::Postgres => {
                let mut settings = PostgresSettings::new(url()?);
                settings.max_connections = config.pg_max_connections;
                settings.acquire_timeout = acquire_timeout;
                settings.statement_timeout = Duration::from_millis(config.pg_statement_timeout_ms);
                Ok(Backend::Postgres(PostgresStorage::connect(&settings).map_err(BootError::Storage)?))
            }
            StorageKind::Sqlite => {
                let mut settings = SqliteSettings::new(url()?);
                settings.read_connections = config.sqlite_read_connections;
                settings.cache_kib = config.sqlite_cache_kib;
                settings.acquire_timeout = acquire_timeout;
                let storage = SqliteStorage::connect(&settings).await.map_err(BootError::Storage)?;
                Ok(Backend::Sqlite(storage))
            }
            StorageKind::Dynamodb => {
                let mut settings = DynamoSettings::new(&config.dynamodb_table);
                settings.endpoint = config.dynamodb_endpoint.clone();
                settings.max_units = config.dynamodb_concurrency;
                settings.acquire_timeout = acquire_timeout;
                settings.operation_timeout = Duration::from_millis(config.dynamodb_timeout_ms);
                // Room for a retry of a lost attempt within the operation's time.
                settings.attempt_timeout = settings.operation_timeout.mul_f64(0.4);
                Ok(Backend::Dynamodb(DynamoStorage::connect(&settings).await.map_err(BootError::Storage)?))
            }
        }
    }

    /// Applies migrations (creates tables) that are not applied yet.
    pub async fn migrate(&self) -> Result<(), BootError> {
        match self {
            Backend::Sqlite(s) => s.migrate().await.map_err(BootError::Storage),
            Backend::Postgres(s) => s.migrate().await.map_err(BootError::Storage),
            Backend::Dynamodb(s) => s.migrate().await.map_err(BootError::Storage),
        }
    }

    /// Finishes what a stopped instance left half-done (project deletions on DynamoDB; SQL
    /// deletes a project in one statement and leaves nothing).
    pub async fn finish_deletions(&self) -> Result<(), BootError> {
        match self {
            Backend::Sqlite(_) | Backend::Postgres(_) => Ok(()),
            Backend::Dynamodb(s) => s.finish_deletions().await.map_err(BootError::Storage),
        }
    }

    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Backend::Sqlite(s) => Arc::new(s.clone()),
            Backend::Postgres(s) => Arc::new(s.clone()),
            Backend::Dynamodb(s) => Arc::new(s.clone()),
        }
    }

    pub async fn close(&self) {
        match self {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(s) => s.close().await,
            Backend::Dynamodb(s) => s.close().await,
        }
    }
}
