//! Failed password checks: whose they are, and what counting one more answers (API.md,
//! "Brute-force protection"). The counting itself is a port of the application, kept in storage.

use std::fmt;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::users::UserId;

/// What a client sent as its login, trimmed and lower-cased: the form an account is looked up by
/// and an unknown name is counted under.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginName(String);

impl LoginName {
    /// The longest email address; no login name can be longer.
    pub const MAX_CHARS: usize = 254;

    /// `None` for a login longer than [`Self::MAX_CHARS`] after trimming: it can be nobody's,
    /// and is refused before it costs a count or a hash.
    pub fn parse(raw: &str) -> Option<Self> {
        let trimmed = crate::text::trim(raw);
        // Counted before lower-casing, as `Email` counts (lower-casing can lengthen a letter);
        // `take` keeps a megabyte of text from being walked to the end.
        if trimmed.chars().take(Self::MAX_CHARS + 1).count() > Self::MAX_CHARS {
            return None;
        }
        Some(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Logins are secrets often enough (a password typed into the wrong field): never printed.
impl fmt::Debug for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoginName(..)")
    }
}

/// Whose failed password checks are counted together.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptKey {
    /// An existing account: a login by its email and one by its username are one target, and a
    /// wrong `current_password` on a password change counts here too.
    Account(UserId),
    /// A login name that matches no account, as the SHA-256 of its [`LoginName`]: storage never
    /// holds what someone typed.
    UnknownName([u8; 32]),
}

impl AttemptKey {
    pub fn unknown_name(name: &LoginName) -> Self {
        AttemptKey::UnknownName(Sha256::digest(name.as_str().as_bytes()).into())
    }

    /// The key as storage keeps it: `account:<user id>` or `name:<sha-256 hex>`. The SQL
    /// migrations build `account:<user id>` themselves (a new login clears the account's count).
    pub fn as_text(&self) -> String {
        match self {
            AttemptKey::Account(user) => format!("account:{user}"),
            AttemptKey::UnknownName(digest) => {
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("name:{hex}")
            }
        }
    }
}

impl fmt::Debug for AttemptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

/// What counting one attempt answered: how many attempts the key's window holds now (this one
/// included) and when that window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub failures: u32,
    pub window_ends: OffsetDateTime,
}

impl Reservation {
    /// Storage stops counting here, so that a flood cannot overflow a counter; any limit is far
    /// below it.
    pub const MAX_FAILURES: u32 = u16::MAX as u32;

    /// Whole seconds until the window ends, rounded up, at least 1 and at most the window's
    /// length: a `Retry-After`. `now` is read before the count is taken, so a window that another
    /// request (or instance) opened in between can end slightly more than one window after it.
    pub fn retry_after_secs(&self, now: OffsetDateTime, window: Duration) -> u64 {
        let millis = u64::try_from((self.window_ends - now).whole_milliseconds()).unwrap_or(0);
        let longest = u64::try_from(window.whole_seconds()).unwrap_or(0).max(1);
        millis.div_ceil(1000).clamp(1, longest)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_login_name_is_trimmed_and_lower_cased_and_at_most_254_characters() {
        assert_eq!(LoginName::parse("  Ada@Example.COM\t").map(|n| n.0), Some("ada@example.com".to_owned()));
        assert!(LoginName::parse(&format!(" {} ", "x".repeat(254))).is_some());
        assert!(LoginName::parse(&"x".repeat(255)).is_none());
        assert!(LoginName::parse(&"é".repeat(255)).is_none(), "characters, not bytes");
    }

    #[test]
    fn keys_are_stored_as_text_and_unknown_names_only_as_their_digest() {
        let user = UserId(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001));
        assert_eq!(AttemptKey::Account(user).as_text(), "account:01900000-0000-7000-8000-000000000001");

        let name = LoginName::parse(" Secret-Typed-Here ").map(|n| AttemptKey::unknown_name(&n));
        // The SHA-256 of "secret-typed-here" (`printf secret-typed-here | sha256sum`).
        assert_eq!(
            name.map(|k| k.as_text()).as_deref(),
            Some("name:fe10065ed8766c481e9e2c82c4759bab81f972067ac0c674881f1d0cd3392bf4")
        );
        assert_eq!(
            LoginName::parse("SECRET-typed-here").map(|n| AttemptKey::unknown_name(&n)),
            LoginName::parse("secret-typed-here").map(|n| AttemptKey::unknown_name(&n)),
            "case does not make another target"
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        let now = datetime!(2026-11-22 10:00 UTC);
        let at = |ends| Reservation { failures: 11, window_ends: ends }.retry_after_secs(now, Duration::minutes(15));
        assert_eq!(at(now + Duration::seconds(600)), 600);
        // A window opened by a request that read the clock after this one.
        assert_eq!(at(now + Duration::milliseconds(900_250)), 900);
        assert_eq!(at(now + Duration::milliseconds(600_001)), 601);
        assert_eq!(at(now + Duration::milliseconds(1)), 1);
        assert_eq!(at(now), 1);
        assert_eq!(at(now - Duration::seconds(5)), 1);
    }
}
