//! `RefreshTokenRepository` on PostgreSQL.

use async_trait::async_trait;
use domain::auth::{ChainId, RefreshChain, RefreshToken, TokenHash};
use domain::ports::RefreshTokenRepository;
use domain::users::UserId;
use domain::StorageError;
use sqlx::Row;
use time::OffsetDateTime;

use crate::errors::{corrupt, one_row_changed, storage_error};
use crate::metrics::timed;
use crate::unit_of_work::PgUnit;

#[async_trait]
impl RefreshTokenRepository for PgUnit {
    async fn insert_chain(&mut self, chain: &RefreshChain) -> Result<(), StorageError> {
        timed("refresh_chains.insert", async {
            sqlx::query(
                "INSERT INTO refresh_chains (id, user_id, session_epoch, created_at, ends_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(chain.id.0)
            .bind(chain.user_id.0)
            .bind(chain.session_epoch)
            .bind(chain.created_at)
            .bind(chain.ends_at)
            .bind(chain.revoked_at)
            .execute(self.write_conn()?)
            .await
            .map(|_| ())
            .map_err(storage_error)
        })
        .await
    }

    async fn get_chain(&mut self, id: ChainId) -> Result<Option<RefreshChain>, StorageError> {
        timed("refresh_chains.get", async {
            let row = sqlx::query(
                "SELECT id, user_id, session_epoch, created_at, ends_at, revoked_at FROM refresh_chains WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(self.conn())
            .await
            .map_err(storage_error)?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(RefreshChain {
                id: ChainId(row.try_get("id").map_err(storage_error)?),
                user_id: UserId(row.try_get("user_id").map_err(storage_error)?),
                session_epoch: row.try_get("session_epoch").map_err(storage_error)?,
                created_at: row.try_get("created_at").map_err(storage_error)?,
                ends_at: row.try_get("ends_at").map_err(storage_error)?,
                revoked_at: row.try_get("revoked_at").map_err(storage_error)?,
            }))
        })
        .await
    }

    async fn revoke_chain(&mut self, id: ChainId, at: OffsetDateTime) -> Result<(), StorageError> {
        timed("refresh_chains.revoke", async {
            sqlx::query("UPDATE refresh_chains SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.0)
                .bind(at)
                .execute(self.write_conn()?)
                .await
                .map(|_| ())
                .map_err(storage_error)
        })
        .await
    }

    async fn insert_token(&mut self, token: &RefreshToken) -> Result<(), StorageError> {
        timed("refresh_tokens.insert", async {
            sqlx::query(
                "INSERT INTO refresh_tokens (hash, chain_id, user_id, issued_at, expires_at, spent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token.hash.0.as_slice())
            .bind(token.chain_id.0)
            .bind(token.user_id.0)
            .bind(token.issued_at)
            .bind(token.expires_at)
            .bind(token.spent_at)
            .execute(self.write_conn()?)
            .await
            .map(|_| ())
            .map_err(storage_error)
        })
        .await
    }

    async fn find_token(&mut self, hash: &TokenHash) -> Result<Option<RefreshToken>, StorageError> {
        timed("refresh_tokens.find", async {
            let row = sqlx::query(
                "SELECT hash, chain_id, user_id, issued_at, expires_at, spent_at FROM refresh_tokens WHERE hash = $1",
            )
            .bind(hash.0.as_slice())
            .fetch_optional(self.conn())
            .await
            .map_err(storage_error)?;
            let Some(row) = row else { return Ok(None) };
            let stored: Vec<u8> = row.try_get("hash").map_err(storage_error)?;
            Ok(Some(RefreshToken {
                hash: TokenHash(stored.try_into().map_err(|_| corrupt("token hash", "length"))?),
                chain_id: ChainId(row.try_get("chain_id").map_err(storage_error)?),
                user_id: UserId(row.try_get("user_id").map_err(storage_error)?),
                issued_at: row.try_get("issued_at").map_err(storage_error)?,
                expires_at: row.try_get("expires_at").map_err(storage_error)?,
                spent_at: row.try_get("spent_at").map_err(storage_error)?,
            }))
        })
        .await
    }

    async fn spend_token(&mut self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StorageError> {
        timed("refresh_tokens.spend", async {
            let done = sqlx::query("UPDATE refresh_tokens SET spent_at = $2 WHERE hash = $1 AND spent_at IS NULL")
                .bind(hash.0.as_slice())
                .bind(at)
                .execute(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }
}
