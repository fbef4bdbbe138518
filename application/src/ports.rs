//! Outbound ports other than the unit of work, so services can be unit-tested with mocks and a
//! fixed clock.

use async_trait::async_trait;
use domain::auth::{ChainId, TokenHash};
use domain::login_attempts::{AttemptKey, Reservation};
use domain::users::{Password, PasswordHash, UserId};
use domain::StorageError;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::errors::AppError;

#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time, truncated to milliseconds so it survives every backend unchanged.
    fn now(&self) -> OffsetDateTime;
}

#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new, time-ordered (UUIDv7) id.
    fn new_id(&self) -> Uuid;
}

#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, AppError>;

    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, AppError>;

    /// Spends the same work as `verify` against a hash nothing matches, so that an unknown login
    /// costs the same time as a wrong password.
    async fn verify_dummy(&self, password: &str) -> Result<(), AppError>;
}

/// A signed access token and its lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// A new refresh token: the secret for the client and the hash for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub secret: String,
    pub hash: TokenHash,
}

#[cfg_attr(test, mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    fn issue_access(&self, user: UserId, now: OffsetDateTime) -> Result<AccessToken, AppError>;

    /// The user an access token was issued to. MUST fail with `Unauthenticated` for a token that
    /// is malformed, expired at `now`, signed with another key or algorithm, or unsigned.
    fn verify_access(&self, token: &str, now: OffsetDateTime) -> Result<UserId, AppError>;

    fn new_refresh_token(&self) -> NewRefreshToken;

    fn hash_refresh_token(&self, secret: &str) -> TokenHash;
}

/// Chain ids come from the id generator too; this keeps the conversion in one place.
pub fn new_chain_id(ids: &dyn IdGenerator) -> ChainId {
    ChainId(ids.new_id())
}

/// Failed password checks, counted in the storage backend so that the count holds across every
/// instance sharing it and across restarts (API.md, "Brute-force protection"). Reached through
/// [`Storage::login_attempts`](crate::storage::Storage::login_attempts) and deliberately not part
/// of a unit of work: an attempt counted MUST stay counted whatever the request does afterwards
/// (fails, is cancelled, loses its connection). A success is cleared by the login's own unit of
/// work ([`RefreshTokenRepository::insert_chain`](domain::auth::RefreshTokenRepository::insert_chain)).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Counts one attempt for `key`, before its password is checked. MUST be atomic in the
    /// storage (never read-then-write in a process): N concurrent calls for one key answer N
    /// distinct counts. When the key has no window or its window ended at or before `now`, a new
    /// window `[now, now + window)` starts holding this attempt (1); else the attempt is added to
    /// the open window, whose end stays. The count answered MUST saturate at
    /// [`Reservation::MAX_FAILURES`], and no flood may overflow what is stored.
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<Reservation, StorageError>;

    /// Forgets the attempts of `key` (a right password). Clearing a key with none is no error.
    async fn clear(&self, key: &AttemptKey) -> Result<(), StorageError>;

    /// Removes the records whose window ended at or before `before` and returns how many it
    /// removed. MUST leave every window still open at `before` as it is: sweeping one would
    /// reset a count under attack. A backend whose storage expires records by itself (DynamoDB's
    /// TTL) MAY leave the ended ones to it and remove none; reads never depend on the removal.
    async fn sweep(&self, before: OffsetDateTime) -> Result<u64, StorageError>;
}
