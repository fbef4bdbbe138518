//! Logins as refresh-token chains. A chain is started by a login and continued by each refresh;
//! every refresh spends the presented token and adds the next one to the same chain.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::StorageError;
use crate::users::UserId;

/// The id of one login (one chain of refresh tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainId(pub Uuid);

/// The SHA-256 of a refresh token. Only hashes are stored: a leaked table holds no usable token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// One login: the chain its refresh tokens belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshChain {
    pub id: ChainId,
    pub user_id: UserId,
    /// The user's `session_epoch` when the login happened; a chain from an older epoch is dead.
    pub session_epoch: i64,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// One refresh token of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub hash: TokenHash,
    pub chain_id: ChainId,
    pub user_id: UserId,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Set when the token was exchanged for the next one; presenting it again is reuse.
    pub spent_at: Option<OffsetDateTime>,
}

/// Storage of refresh-token chains and tokens.
#[async_trait]
pub trait RefreshTokenRepository: Send {
    /// Stores a new chain: a successful login. MUST also clear the failed login attempts counted
    /// under [`AttemptKey::Account`] of `chain.user_id`, in the same unit of work (they clear when
    /// it commits, and only then): a success clears the account's count at no extra call.
    ///
    /// [`AttemptKey::Account`]: crate::login_attempts::AttemptKey::Account
    async fn insert_chain(&mut self, chain: &RefreshChain) -> Result<(), StorageError>;

    async fn get_chain(&mut self, id: ChainId) -> Result<Option<RefreshChain>, StorageError>;

    /// Marks the chain revoked at `at`. Revoking a revoked chain is not an error (idempotent).
    async fn revoke_chain(&mut self, id: ChainId, at: OffsetDateTime) -> Result<(), StorageError>;

    async fn insert_token(&mut self, token: &RefreshToken) -> Result<(), StorageError>;

    async fn find_token(&mut self, hash: &TokenHash) -> Result<Option<RefreshToken>, StorageError>;

    /// Marks the token spent at `at` only if it is not spent yet. MUST fail with
    /// `ConditionFailed` when it already was (two concurrent refreshes: exactly one wins).
    async fn spend_token(&mut self, hash: &TokenHash, at: OffsetDateTime) -> Result<(), StorageError>;
}
