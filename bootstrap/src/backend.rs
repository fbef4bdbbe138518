//! The one place that knows which storage backend runs.

use std::sync::Arc;
use std::time::Duration;

use application::storage::Storage;
use tessera_sqlite::{SqliteSettings, SqliteStorage};

use crate::config::{Config, StorageKind};
use crate::BootError;

/// An opened storage backend.
#[derive(Clone)]
pub enum Backend {
    Sqlite(SqliteStorage),
}

impl Backend {
    pub async fn open(config: &Config) -> Result<Self, BootError> {
        match config.storage {
            StorageKind::Sqlite => {
                let mut settings = SqliteSettings::new(config.database_url());
                settings.read_connections = config.sqlite_read_connections;
                settings.acquire_timeout = Duration::from_millis(config.pool_acquire_timeout_ms);
                let storage = SqliteStorage::connect(&settings).await.map_err(BootError::Storage)?;
                Ok(Backend::Sqlite(storage))
            }
        }
    }

    /// Applies migrations (creates tables) that are not applied yet.
    pub async fn migrate(&self) -> Result<(), BootError> {
        match self {
            Backend::Sqlite(s) => s.migrate().await.map_err(BootError::Storage),
        }
    }

    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Backend::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    pub async fn close(&self) {
        match self {
            Backend::Sqlite(s) => s.close().await,
        }
    }
}
