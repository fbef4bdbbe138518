//! `UserRepository` on DynamoDB. A user is one item; its email and username are claimed by
//! one item each, written in the same transaction, so uniqueness holds without any index.
//! Username claims share one partition sorted by username: the admin list reads it in order.

use async_trait::async_trait;
use domain::ports::UserRepository;
use domain::users::{AvatarUrl, Email, PasswordHash, PersonName, Profile, Role, User, UserId, UserListQuery, Username};
use domain::{Conflict, Page, StorageError};

use crate::cursor::Position;
use crate::item::{millis, n, s, Fields, Item};
use crate::keys::{Key, PK, SK, USERNAMES};
use crate::table::QuerySpec;
use crate::unit_of_work::DynamoUnit;
use crate::writes::{Failure, Write};

const USER_POSITION: Position<'static> = Position { names: &[PK, SK] };

fn user_item(user: &User) -> Item {
    let mut item = Item::from([
        ("id".to_owned(), s(user.id.0.to_string())),
        ("email".to_owned(), s(user.email.as_str())),
        ("username".to_owned(), s(user.username.as_str())),
        ("first_name".to_owned(), s(user.first_name.as_str())),
        ("last_name".to_owned(), s(user.last_name.as_str())),
        ("role".to_owned(), s(user.role.as_str())),
        ("password_hash".to_owned(), s(&user.password_hash.0)),
        ("session_epoch".to_owned(), n(user.session_epoch)),
        ("version".to_owned(), n(user.version)),
        ("created_at".to_owned(), n(millis(user.created_at))),
        ("updated_at".to_owned(), n(millis(user.updated_at))),
    ]);
    if let Some(avatar) = &user.avatar_url {
        item.insert("avatar_url".into(), s(avatar.as_str()));
    }
    item
}

pub(crate) fn user_from_item(item: &Item) -> Result<User, StorageError> {
    let f = Fields::of(item, "user");
    let profile = profile_from_item(item)?;
    Ok(User {
        id: profile.id,
        email: f.parsed("email", Email::parse)?,
        username: profile.username,
        first_name: profile.first_name,
        last_name: profile.last_name,
        avatar_url: profile.avatar_url,
        role: f.parsed("role", |r| Role::parse(r).ok_or("unknown role"))?,
        password_hash: PasswordHash(f.str("password_hash")?.to_owned()),
        session_epoch: f.int("session_epoch")?,
        version: f.int("version")?,
        created_at: profile.created_at,
        updated_at: f.time("updated_at")?,
    })
}

/// The public part of a user item (nested in projects, members and posts).
pub(crate) fn profile_from_item(item: &Item) -> Result<Profile, StorageError> {
    let f = Fields::of(item, "user");
    Ok(Profile {
        id: UserId(f.uuid("id")?),
        username: f.parsed("username", Username::parse)?,
        first_name: f.parsed("first_name", |v| PersonName::parse("first_name", v))?,
        last_name: f.parsed("last_name", |v| PersonName::parse("last_name", v))?,
        avatar_url: f
            .opt_str("avatar_url")?
            .map(AvatarUrl::parse)
            .transpose()
            .map_err(|e| StorageError::backend(format!("stored user item: avatar_url breaks a rule: {e}")))?,
        created_at: f.time("created_at")?,
    })
}

fn claim(key: Key, user: UserId, conflict: Conflict) -> Write {
    Write::put(key, Item::from([("user_id".to_owned(), s(user.0.to_string()))]))
        .when("attribute_not_exists(pk)", Failure::Conflict(conflict))
}

/// Gives up a claim, only if this user holds it.
fn release(key: Key, user: UserId) -> Write {
    Write::delete(key).when("user_id = :me", Failure::ConditionFailed).value(":me", s(user.0.to_string()))
}

/// The reads below are timed under the port operation that asked for them (`operation`).
impl DynamoUnit {
    async fn user(&mut self, operation: &'static str, id: UserId) -> Result<Option<User>, StorageError> {
        let Some(item) = self.table.get(operation, &Key::user(id)).await? else { return Ok(None) };
        let user = user_from_item(&item)?;
        self.users.insert(id, user.clone());
        Ok(Some(user))
    }

    async fn user_by_claim(&mut self, operation: &'static str, claim: Key) -> Result<Option<User>, StorageError> {
        let Some(item) = self.table.get(operation, &claim).await? else { return Ok(None) };
        let id = UserId(Fields::of(&item, "claim").uuid("user_id")?);
        self.user(operation, id).await
    }

    /// The stored user, from this unit's reads when it made one.
    async fn stored_user(&mut self, operation: &'static str, id: UserId) -> Result<Option<User>, StorageError> {
        match self.users.get(&id) {
            Some(user) => Ok(Some(user.clone())),
            None => self.user(operation, id).await,
        }
    }
}

#[async_trait]
impl UserRepository for DynamoUnit {
    async fn insert(&mut self, user: &User) -> Result<(), StorageError> {
        self.write([
            Write::put(Key::user(user.id), user_item(user)).when("attribute_not_exists(pk)", Failure::ConditionFailed),
            claim(Key::email_claim(user.email.as_str()), user.id, Conflict::EmailTaken),
            claim(Key::username_claim(user.username.as_str()), user.id, Conflict::UsernameTaken),
        ])
    }

    async fn get(&mut self, id: UserId) -> Result<Option<User>, StorageError> {
        self.user("users.get", id).await
    }

    async fn find_by_email(&mut self, email: &Email) -> Result<Option<User>, StorageError> {
        self.user_by_claim("users.find_by_email", Key::email_claim(email.as_str())).await
    }

    async fn find_by_username(&mut self, username: &Username) -> Result<Option<User>, StorageError> {
        self.user_by_claim("users.find_by_username", Key::username_claim(username.as_str())).await
    }

    async fn update(&mut self, user: &User, expected_version: i64) -> Result<(), StorageError> {
        let stored = self.stored_user("users.update", user.id).await?.ok_or(StorageError::ConditionFailed)?;
        let mut writes = vec![Write::put(Key::user(user.id), user_item(user))
            .when("#version = :expected", Failure::ConditionFailed)
            .name("#version", "version")
            .value(":expected", n(expected_version))];
        if stored.username != user.username {
            writes.push(release(Key::username_claim(stored.username.as_str()), user.id));
            writes.push(claim(Key::username_claim(user.username.as_str()), user.id, Conflict::UsernameTaken));
        }
        if stored.email != user.email {
            writes.push(release(Key::email_claim(stored.email.as_str()), user.id));
            writes.push(claim(Key::email_claim(user.email.as_str()), user.id, Conflict::EmailTaken));
        }
        self.write(writes)
    }

    async fn list(&mut self, query: &UserListQuery) -> Result<Page<User>, StorageError> {
        let prefix = query.prefix.as_ref().map(|p| p.as_str().to_owned());
        let start = match &query.after {
            Some(after) => Some(USER_POSITION.start_key(after, |name, value| match name {
                PK => value == USERNAMES,
                _ => prefix.as_deref().is_none_or(|p| value.starts_with(p)),
            })?),
            None => None,
        };
        let claims = self
            .table
            .query_up_to(
                "users.list",
                QuerySpec {
                    index: None,
                    partition: (PK, USERNAMES.to_owned()),
                    prefix: prefix.map(|p| (SK, p)),
                    forward: true,
                    start,
                    limit: query.limit.get() as i32 + 1,
                    keys_only: false,
                },
            )
            .await?;
        let ids =
            claims.iter().map(|c| Fields::of(c, "claim").uuid("user_id").map(UserId)).collect::<Result<Vec<_>, _>>()?;
        let mut found =
            self.table.batch_get("users.list", &ids.iter().map(|id| Key::user(*id)).collect::<Vec<_>>()).await?;
        let mut rows = Vec::with_capacity(claims.len());
        for (claim, id) in claims.into_iter().zip(ids) {
            // A claim whose user is missing cannot exist (both are written together).
            let item = found
                .remove(&Key::user(id))
                .ok_or_else(|| StorageError::backend(format!("username claim without its user {}", id.0)))?;
            rows.push((claim, user_from_item(&item)?));
        }
        Ok(Page::from_overfetch(rows, query.limit, query.budget, |(claim, _)| USER_POSITION.after(claim))
            .map(|(_, user)| user))
    }
}
