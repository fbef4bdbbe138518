//! The storage conformance suite: public async functions that take the storage port and assert
//! its contract. Every backend's test binary calls the same functions (one body of assertions,
//! N backends), so a behaviour one backend shows and another does not fails here.
//!
//! A case is any `pub async fn NAME(storage: &dyn Storage)` in this directory's feature files:
//! `tests/build.rs` lists them all in [`CASES`], and [`harness::run`] runs each as a test of its
//! own (`FILE::NAME`) on a fresh storage. Writing the function is all it takes to run it; a
//! helper that takes only the storage would be run too, so helpers are private or take more.

pub mod files;
pub mod harness;
pub mod idempotency;
pub mod login_attempts;
pub mod pages;
pub mod posts;
pub mod projects;
pub mod records;
pub mod refresh_tokens;
pub mod units;
pub mod users;
pub mod workspace;

use application::ports::Storage;
use domain::users::{Email, PasswordHash, PersonName, Role, User, UserId, Username};
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

/// Asserts that a value matches a pattern, and shows the value when it does not. Storage results
/// are matched, not compared: a `StorageError` may carry its driver's error, which has no equality.
macro_rules! assert_matches {
    ($value:expr, $pattern:pat $(,)?) => {
        assert_matches!($value, $pattern, "unexpected result")
    };
    ($value:expr, $pattern:pat, $message:literal $(,)?) => {{
        let value = $value;
        assert!(matches!(value, $pattern), "{}: expected {}, got {value:?}", $message, stringify!($pattern));
    }};
}
pub(crate) use assert_matches;

use harness::Case;

include!(concat!(env!("OUT_DIR"), "/conformance_cases.rs"));

pub const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00.123 UTC);

pub fn new_user(username: &str) -> User {
    User {
        id: UserId(Uuid::now_v7()),
        email: Email::parse(&format!("{username}@example.com")).unwrap(),
        username: Username::parse(username).unwrap(),
        first_name: PersonName::parse("first_name", "Ada").unwrap(),
        last_name: PersonName::parse("last_name", "Lovelace").unwrap(),
        avatar_url: None,
        role: Role::User,
        password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        session_epoch: 0,
        version: 1,
        created_at: T0,
        updated_at: T0,
    }
}
