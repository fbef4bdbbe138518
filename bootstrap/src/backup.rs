//! `tessera backup --to FILE`: an online snapshot of the embedded SQLite database. The servers
//! go on serving from it meanwhile; PostgreSQL and DynamoDB have backups of their own, which
//! this names instead of pretending.

use std::path::Path;
use std::time::Instant;

use tessera_sqlite::{SqliteSettings, SqliteStorage};

use crate::config::{Config, StorageKind};
use crate::BootError;

pub async fn backup(config: &Config, to: &Path) -> Result<(), BootError> {
    if let Some(instead) = elsewhere(config.storage) {
        return Err(BootError::Config(instead.to_owned()));
    }
    let url = config.database_url().unwrap_or_else(|| crate::config::DEFAULT_SQLITE_URL.to_owned());
    let mut settings = SqliteSettings::new(url);
    settings.read_connections = 1;
    settings.acquire_timeout = std::time::Duration::from_millis(config.pool_acquire_timeout_ms);
    settings.create_if_missing = false;

    let started = Instant::now();
    let storage = SqliteStorage::connect(&settings).await.map_err(BootError::Storage)?;
    let written = storage.backup_to(to).await;
    storage.close().await;
    let backup = written.map_err(BootError::Backup)?;
    let shown = std::path::absolute(&backup.path).unwrap_or(backup.path);
    println!("wrote {} ({} bytes) in {:.2} s", shown.display(), backup.bytes, started.elapsed().as_secs_f64());
    Ok(())
}

/// What to use instead on a backend whose backups are not Tessera's to take.
fn elsewhere(storage: StorageKind) -> Option<&'static str> {
    match storage {
        StorageKind::Sqlite => None,
        StorageKind::Postgres => Some(
            "`tessera backup` snapshots the embedded SQLite database only; on PostgreSQL use pg_dump \
             (e.g. `pg_dump --format=custom`) or your provider's snapshots and point-in-time recovery",
        ),
        StorageKind::Dynamodb => Some(
            "`tessera backup` snapshots the embedded SQLite database only; on DynamoDB use point-in-time \
             recovery (PITR) or on-demand backups (`aws dynamodb create-backup --table-name TABLE`)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn other_backends_are_told_what_to_use_instead_before_anything_is_opened() {
        for (storage, instead) in [(StorageKind::Postgres, "pg_dump"), (StorageKind::Dynamodb, "on-demand backups")] {
            let mut config = Config::defaults();
            config.storage = storage;
            // Nothing listens there: an error about it would mean something was opened.
            config.database_url = Some("postgres://nobody@127.0.0.1:1/none".into());
            let refused = backup(&config, Path::new("never-written.db")).await;
            assert!(
                matches!(&refused, Err(BootError::Config(message)) if message.contains(instead)),
                "{storage:?}: {refused:?}"
            );
            assert!(!Path::new("never-written.db").exists());
        }
    }
}
