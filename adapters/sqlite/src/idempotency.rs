//! `IdempotencyRecords` and `IdempotentAnswers` on SQLite. Every call runs on the single writer
//! connection, so a claim's upsert and the read that may follow it see no write in between.

use application::ports::{IdempotencyRecords, IdempotentAnswers};
use async_trait::async_trait;
use domain::idempotency::{Answer, ClaimOutcome, ClaimRequest, Completion, Fingerprint, Holder, RecordKey};
use domain::StorageError;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use crate::errors::{corrupt, storage_error};
use crate::metrics::timed;
use crate::rows::{from_millis, millis};
use crate::storage::SqliteStorage;
use crate::unit_of_work::SqliteUnit;

/// Inserts the claim, or takes over a record that expired or whose lease ended; returns the row
/// only when the claim was taken (`DO UPDATE … WHERE` false returns nothing).
const CLAIM: &str = "\
INSERT INTO idempotency_records (record, fingerprint, holder, lease_ends, expires_at, answer)
VALUES (?1, ?2, ?3, ?4, ?5, NULL)
ON CONFLICT (record) DO UPDATE SET
    fingerprint = excluded.fingerprint, holder = excluded.holder, lease_ends = excluded.lease_ends,
    expires_at = excluded.expires_at, answer = NULL
WHERE expires_at <= ?6 OR (answer IS NULL AND lease_ends <= ?6)
RETURNING holder";

const FOUND: &str = "SELECT fingerprint, lease_ends, answer FROM idempotency_records WHERE record = ?1";

const COMPLETE: &str = "\
UPDATE idempotency_records SET answer = ?3, expires_at = ?4
WHERE record = ?1 AND holder = ?2 AND answer IS NULL";

#[async_trait]
impl IdempotencyRecords for SqliteStorage {
    async fn claim(&self, claim: &ClaimRequest) -> Result<ClaimOutcome, StorageError> {
        timed("idempotency.claim", async {
            let mut conn = self.lease_writer().await?;
            let taken = sqlx::query(CLAIM)
                .bind(claim.record.as_str())
                .bind(claim.fingerprint.to_hex())
                .bind(claim.holder.0.to_string())
                .bind(millis(claim.lease_ends))
                .bind(millis(claim.expires_at))
                .bind(millis(claim.now))
                .fetch_optional(&mut *conn)
                .await
                .map_err(storage_error)?;
            if taken.is_some() {
                return Ok(ClaimOutcome::Granted);
            }
            let row = sqlx::query(FOUND)
                .bind(claim.record.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(storage_error)?;
            match row {
                Some(row) => found(&row),
                None => Err(StorageError::backend("an idempotency record vanished between two statements")),
            }
        })
        .await
    }

    async fn complete(&self, completion: &Completion) -> Result<bool, StorageError> {
        timed("idempotency.complete", async {
            let mut conn = self.lease_writer().await?;
            complete(&mut conn, completion).await
        })
        .await
    }

    async fn release(&self, record: &RecordKey, holder: Holder) -> Result<(), StorageError> {
        timed("idempotency.release", async {
            sqlx::query("DELETE FROM idempotency_records WHERE record = ?1 AND holder = ?2 AND answer IS NULL")
                .bind(record.as_str())
                .bind(holder.0.to_string())
                .execute(&mut *self.lease_writer().await?)
                .await
                .map(drop)
                .map_err(storage_error)
        })
        .await
    }

    async fn sweep(&self, now: OffsetDateTime, limit: u32) -> Result<u64, StorageError> {
        timed("idempotency.sweep", async {
            sqlx::query(
                "DELETE FROM idempotency_records WHERE record IN \
                 (SELECT record FROM idempotency_records WHERE expires_at <= ?1 LIMIT ?2)",
            )
            .bind(millis(now))
            .bind(i64::from(limit))
            .execute(&mut *self.lease_writer().await?)
            .await
            .map(|done| done.rows_affected())
            .map_err(storage_error)
        })
        .await
    }
}

#[async_trait]
impl IdempotentAnswers for SqliteUnit {
    async fn store(&mut self, completion: &Completion) -> Result<(), StorageError> {
        timed("idempotency.store", async {
            match complete(self.write_conn()?, completion).await? {
                true => Ok(()),
                false => Err(StorageError::ClaimLost),
            }
        })
        .await
    }
}

async fn complete(conn: &mut SqliteConnection, completion: &Completion) -> Result<bool, StorageError> {
    let done = sqlx::query(COMPLETE)
        .bind(completion.record.as_str())
        .bind(completion.holder.0.to_string())
        .bind(completion.answer.0.as_slice())
        .bind(millis(completion.expires_at))
        .execute(conn)
        .await
        .map_err(storage_error)?;
    Ok(done.rows_affected() == 1)
}

fn found(row: &SqliteRow) -> Result<ClaimOutcome, StorageError> {
    let text: String = row.try_get("fingerprint").map_err(storage_error)?;
    let fingerprint = Fingerprint::from_hex(&text).ok_or_else(|| corrupt("idempotency fingerprint", &text))?;
    let answer: Option<Vec<u8>> = row.try_get("answer").map_err(storage_error)?;
    Ok(match answer {
        Some(answer) => ClaimOutcome::Completed { fingerprint, answer: Answer(answer) },
        None => ClaimOutcome::InProgress {
            fingerprint,
            lease_ends: from_millis(row.try_get("lease_ends").map_err(storage_error)?)?,
        },
    })
}
