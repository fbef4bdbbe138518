//! Users: the entity, the value objects of API.md's rules, and the repository port.

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::FieldViolation;
use crate::pagination::{json_text_len, Continuation, JsonSize, PageBudget, PageLimit};

/// A user's id (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An email address: trimmed, lower-cased, at most 254 characters, one `@` with text on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let trimmed = crate::text::trim(raw);
        let invalid = |m: &str| Err(FieldViolation::new("email", m));
        // Counted before lower-casing, which can lengthen a few letters (İ → i̇).
        if trimmed.chars().count() > Self::MAX_CHARS {
            return invalid("must be at most 254 characters");
        }
        let value = trimmed.to_lowercase();
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must not contain spaces or control characters");
        }
        match value.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => {
                Ok(Self(value))
            }
            _ => invalid("must contain exactly one '@' with text on both sides"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A username: `^[a-z0-9_]{3,32}$` after lower-casing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        // ASCII lower-casing only: Unicode lower-casing maps e.g. the Kelvin sign to `k`, which
        // would let look-alike names through.
        let value = raw.to_ascii_lowercase();
        let len = value.chars().count();
        if !(3..=32).contains(&len) {
            return Err(FieldViolation::new("username", "must be 3 to 32 characters"));
        }
        if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(FieldViolation::new("username", "may contain only letters a-z, digits and underscores"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The start of a username, for the admin list filter: 1 to 32 of the username characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernamePrefix(String);

impl UsernamePrefix {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let value = raw.to_ascii_lowercase();
        let ok_chars = value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if value.is_empty() || value.len() > 32 || !ok_chars {
            return Err(FieldViolation::new("username_prefix", "must be 1 to 32 letters a-z, digits or underscores"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A first or last name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(field: &'static str, raw: impl crate::text::Raw) -> Result<Self, FieldViolation> {
        crate::text::line(field, raw, 1, 100).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A link to an avatar picture: an absolute `http` or `https` URL of at most 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let invalid =
            || FieldViolation::new("avatar_url", "must be an absolute http(s) URL of at most 2048 characters");
        if raw.chars().count() > 2048 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let lower = raw.to_ascii_lowercase();
        let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).ok_or_else(invalid)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || host.starts_with(':') || host.contains('@') {
            return Err(invalid());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain-text password that meets the policy: 8 to 128 characters, no other composition rule.
/// It exists only between the request and the hasher, and never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldViolation> {
        let len = raw.chars().count();
        if !(8..=128).contains(&len) {
            return Err(FieldViolation::new(field, "must be 8 to 128 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A password hash in PHC string form, as the hasher wrote it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// A user's role across the whole service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A registered person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub username: Username,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub avatar_url: Option<AvatarUrl>,
    pub role: Role,
    pub password_hash: PasswordHash,
    /// Refresh-token chains started under another epoch are dead: bumping it ends every login of
    /// the user in one write, however many chains exist (one item on DynamoDB, not one per chain).
    pub session_epoch: i64,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// What anyone may see of a user; nested in projects, members and posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: UserId,
    pub username: Username,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub avatar_url: Option<AvatarUrl>,
    pub created_at: OffsetDateTime,
}

/// A profile's texts, and at most 160 bytes for its id, time and field names.
fn profile_json_size(username: &Username, first: &PersonName, last: &PersonName, avatar: Option<&AvatarUrl>) -> usize {
    160 + json_text_len(username.as_str())
        + json_text_len(first.as_str())
        + json_text_len(last.as_str())
        + avatar.map_or(0, |url| json_text_len(url.as_str()))
}

impl JsonSize for Profile {
    fn json_size(&self) -> usize {
        profile_json_size(&self.username, &self.first_name, &self.last_name, self.avatar_url.as_ref())
    }
}

/// A user as the admin list shows them: the profile's fields, the email, and at most 60 more bytes
/// for the role, the version and field names.
impl JsonSize for User {
    fn json_size(&self) -> usize {
        profile_json_size(&self.username, &self.first_name, &self.last_name, self.avatar_url.as_ref())
            + 60
            + json_text_len(self.email.as_str())
    }
}

impl User {
    pub fn profile(&self) -> Profile {
        Profile {
            id: self.id,
            username: self.username.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            avatar_url: self.avatar_url.clone(),
            created_at: self.created_at,
        }
    }
}

/// One page request of the admin list of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListQuery {
    pub prefix: Option<UsernamePrefix>,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
    pub budget: PageBudget,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada@Example.COM ").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("ada@example.com".to_owned()));
    }

    #[test]
    fn email_needs_one_at_with_text_on_both_sides() {
        for bad in ["", "ada", "@example.com", "ada@", "a@b@c", "a b@c.d", "a\u{0}@b"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse("a@b").is_ok());
    }

    #[test]
    fn email_is_at_most_254_characters() {
        let at_limit = format!("{}@example.com", "a".repeat(254 - 12));
        assert!(Email::parse(&at_limit).is_ok());
        let over = format!("{}@example.com", "a".repeat(255 - 12));
        assert!(Email::parse(&over).is_err());
    }

    #[test]
    fn username_follows_the_pattern_after_lower_casing() {
        assert_eq!(Username::parse("Ada_99").map(|u| u.as_str().to_owned()), Ok("ada_99".into()));
        for bad in ["ab", &"a".repeat(33), "ada-lovelace", "ada lovelace", "\u{212A}elvin", "ådа"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn person_names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("first_name", "  Ada ").map(|n| n.as_str().to_owned()), Ok("Ada".into()));
        assert!(PersonName::parse("first_name", "   ").is_err());
        assert!(PersonName::parse("first_name", "é".repeat(100)).is_ok());
        assert!(PersonName::parse("first_name", "é".repeat(101)).is_err());
        assert!(PersonName::parse("first_name", "A\nB").is_err());
    }

    #[test]
    fn password_policy_is_length_only() {
        assert!(Password::parse("password", "1234567").is_err());
        assert!(Password::parse("password", "12345678").is_ok());
        assert!(Password::parse("password", &"x".repeat(128)).is_ok());
        assert!(Password::parse("password", &"x".repeat(129)).is_err());
        assert_eq!(format!("{:?}", Password::parse("password", "secret-pw").ok()), "Some(Password(***))");
    }

    #[test]
    fn avatar_urls_must_be_absolute_http() {
        assert!(AvatarUrl::parse("https://example.com/a.png").is_ok());
        assert!(AvatarUrl::parse("http://example.com").is_ok());
        for bad in ["ftp://x", "https://", "javascript:alert(1)", "/a.png", "https://a b", "https://u@evil"] {
            assert!(AvatarUrl::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn username_prefix_uses_the_username_alphabet() {
        assert!(UsernamePrefix::parse("Ad").is_ok());
        assert!(UsernamePrefix::parse("").is_err());
        assert!(UsernamePrefix::parse("a%").is_err());
    }
}
