//! The storage conformance suite: public async functions that take the storage port and assert
//! its contract. Every backend's test binary calls the same functions (one body of assertions,
//! N backends), so a behaviour one backend shows and another does not fails here.

pub mod login_attempts;
pub mod posts;
pub mod projects;
pub mod refresh_tokens;
pub mod units;
pub mod users;
pub mod workspace;

use domain::users::{Email, PasswordHash, PersonName, Role, User, UserId, Username};
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

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
