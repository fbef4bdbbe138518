//! Logins as refresh-token chains. A chain is started by a login and continued by each refresh;
//! every refresh spends the presented token and adds the next one to the same chain.

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

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
