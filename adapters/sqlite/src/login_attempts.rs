//! `LoginAttempts` on SQLite: each call is one statement on the writer connection, outside any
//! unit of work (a counted attempt stays counted whatever its request does next).

use application::ports::LoginAttempts;
use async_trait::async_trait;
use domain::login_attempts::{AttemptKey, Reservation};
use domain::StorageError;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::errors::{corrupt, storage_error};
use crate::metrics::timed;
use crate::rows::{from_millis, millis};
use crate::storage::SqliteStorage;

/// Counts one attempt in one statement: a window that ended (`window_ends <= now`) starts anew
/// with this attempt, an open one gains it, up to the cap. SQLite evaluates every `SET`
/// expression against the row as it was, so the three `CASE`s agree.
const RESERVE: &str = "\
INSERT INTO login_attempts (key, failures, window_start, window_ends) VALUES (?1, 1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET
    failures     = CASE WHEN window_ends <= ?2 THEN 1  ELSE min(failures + 1, ?4) END,
    window_start = CASE WHEN window_ends <= ?2 THEN ?2 ELSE window_start END,
    window_ends  = CASE WHEN window_ends <= ?2 THEN ?3 ELSE window_ends END
RETURNING failures, window_ends";

#[async_trait]
impl LoginAttempts for SqliteStorage {
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<Reservation, StorageError> {
        timed("login_attempts.reserve", async {
            let row = sqlx::query(RESERVE)
                .bind(key.as_text())
                .bind(millis(now))
                .bind(millis(now + window))
                .bind(i64::from(Reservation::MAX_FAILURES))
                .fetch_one(&mut *self.lease_writer().await?)
                .await
                .map_err(storage_error)?;
            let failures: i64 = row.try_get("failures").map_err(storage_error)?;
            Ok(Reservation {
                failures: u32::try_from(failures).map_err(|e| corrupt("login attempt count", e))?,
                window_ends: from_millis(row.try_get("window_ends").map_err(storage_error)?)?,
            })
        })
        .await
    }

    async fn clear(&self, key: &AttemptKey) -> Result<(), StorageError> {
        timed("login_attempts.clear", async {
            sqlx::query("DELETE FROM login_attempts WHERE key = ?1")
                .bind(key.as_text())
                .execute(&mut *self.lease_writer().await?)
                .await
                .map(drop)
                .map_err(storage_error)
        })
        .await
    }

    async fn sweep(&self, before: OffsetDateTime) -> Result<u64, StorageError> {
        timed("login_attempts.sweep", async {
            sqlx::query("DELETE FROM login_attempts WHERE window_ends <= ?1")
                .bind(millis(before))
                .execute(&mut *self.lease_writer().await?)
                .await
                .map(|done| done.rows_affected())
                .map_err(storage_error)
        })
        .await
    }
}
