//! Logins as refresh-token chains. A chain is started by a login and continued by each refresh;
//! every refresh spends the presented token and adds the next one to the same chain.

use std::fmt;

use time::{Duration, OffsetDateTime};
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
    /// When the login ends however often it is refreshed (`created_at` plus the session max age
    /// in force at the login); no token of the chain expires later.
    pub ends_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl RefreshChain {
    /// The expiry of a token issued at `now` with lifetime `ttl`: its own, cut at the chain's end.
    pub fn token_expiry(&self, now: OffsetDateTime, ttl: Duration) -> OffsetDateTime {
        (now + ttl).min(self.ends_at)
    }

    /// True once the login has reached its maximum age.
    pub fn has_ended(&self, now: OffsetDateTime) -> bool {
        self.ends_at <= now
    }
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

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn chain() -> RefreshChain {
        RefreshChain {
            id: ChainId(Uuid::nil()),
            user_id: UserId(Uuid::nil()),
            session_epoch: 0,
            created_at: T0,
            ends_at: T0 + Duration::days(90),
            revoked_at: None,
        }
    }

    #[test]
    fn a_token_never_outlives_its_chain() {
        let chain = chain();
        assert_eq!(chain.token_expiry(T0, Duration::days(30)), T0 + Duration::days(30));
        let late = T0 + Duration::days(80);
        assert_eq!(chain.token_expiry(late, Duration::days(30)), chain.ends_at);
    }

    #[test]
    fn a_chain_ends_at_its_end_exactly() {
        let chain = chain();
        assert!(!chain.has_ended(chain.ends_at - Duration::milliseconds(1)));
        assert!(chain.has_ended(chain.ends_at));
    }
}
