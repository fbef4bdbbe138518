//! Outbound ports other than storage, so services can be unit-tested with mocks and a fixed clock.

use async_trait::async_trait;
use domain::auth::{ChainId, TokenHash};
use domain::users::{Password, PasswordHash, UserId};
use time::OffsetDateTime;
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
