//! `ExpiredSessions` on SQLite: two bounded deletes on the writer connection, each its own short
//! transaction, found through the indexes of migration 0005. A removed chain takes its remaining
//! tokens with it (`ON DELETE CASCADE`).

use application::ports::{ExpiredSessions, SessionsSwept};
use async_trait::async_trait;
use domain::StorageError;
use time::OffsetDateTime;

use crate::errors::storage_error;
use crate::metrics::timed;
use crate::rows::millis;
use crate::storage::SqliteStorage;

const TOKENS: &str = "\
DELETE FROM refresh_tokens WHERE hash IN (
    SELECT hash FROM refresh_tokens WHERE expires_at <= ?1 LIMIT ?2)";

/// Ended chains, and revoked ones none of whose tokens is still unexpired.
const CHAINS: &str = "\
DELETE FROM refresh_chains WHERE id IN (
    SELECT id FROM refresh_chains WHERE ends_at <= ?1
    UNION ALL
    SELECT c.id FROM refresh_chains c WHERE c.revoked_at IS NOT NULL AND c.ends_at > ?1
        AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.chain_id = c.id AND t.expires_at > ?1)
    LIMIT ?2)";

#[async_trait]
impl ExpiredSessions for SqliteStorage {
    async fn sweep(&self, now: OffsetDateTime, limit: u32) -> Result<SessionsSwept, StorageError> {
        let delete = |name, statement| {
            timed(name, async move {
                sqlx::query(statement)
                    .bind(millis(now))
                    .bind(i64::from(limit))
                    .execute(&mut *self.lease_writer().await?)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(storage_error)
            })
        };
        let tokens = delete("refresh_tokens.sweep", TOKENS).await?;
        let chains = delete("refresh_chains.sweep", CHAINS).await?;
        Ok(SessionsSwept { tokens, chains })
    }
}
