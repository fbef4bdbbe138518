//! `UserRepository` on SQLite.

use async_trait::async_trait;
use domain::ports::UserRepository;
use domain::users::{AvatarUrl, Email, PasswordHash, PersonName, Profile, Role, User, UserId, UserListQuery, Username};
use domain::{Continuation, Page, StorageError};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::errors::{corrupt, one_row_changed, storage_error};
use crate::metrics::timed;
use crate::rows::{from_millis, millis, uuid};
use crate::unit_of_work::SqliteUnit;

pub(crate) const COLUMNS: &str = "id, email, username, first_name, last_name, avatar_url, role, password_hash, \
                       session_epoch, version, created_at, updated_at";

/// Binds ?1..?12 in the order of [`COLUMNS`].
fn bind_user<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    user: &'q User,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    query
        .bind(user.id.to_string())
        .bind(user.email.as_str())
        .bind(user.username.as_str())
        .bind(user.first_name.as_str())
        .bind(user.last_name.as_str())
        .bind(user.avatar_url.as_ref().map(AvatarUrl::as_str))
        .bind(user.role.as_str())
        .bind(&user.password_hash.0)
        .bind(user.session_epoch)
        .bind(user.version)
        .bind(millis(user.created_at))
        .bind(millis(user.updated_at))
}

pub(crate) fn user_from_row(row: &SqliteRow) -> Result<User, StorageError> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(storage_error);
    let number = |column: &str| row.try_get::<i64, _>(column).map_err(storage_error);
    let avatar: Option<String> = row.try_get("avatar_url").map_err(storage_error)?;
    Ok(User {
        id: UserId(uuid(&text("id")?)?),
        email: Email::parse(&text("email")?).map_err(|e| corrupt("email", e))?,
        username: Username::parse(&text("username")?).map_err(|e| corrupt("username", e))?,
        first_name: PersonName::parse("first_name", text("first_name")?).map_err(|e| corrupt("name", e))?,
        last_name: PersonName::parse("last_name", text("last_name")?).map_err(|e| corrupt("name", e))?,
        avatar_url: avatar.map(|a| AvatarUrl::parse(&a)).transpose().map_err(|e| corrupt("avatar_url", e))?,
        role: Role::parse(&text("role")?).ok_or_else(|| corrupt("role", "unknown"))?,
        password_hash: PasswordHash(text("password_hash")?),
        session_epoch: number("session_epoch")?,
        version: number("version")?,
        created_at: from_millis(number("created_at")?)?,
        updated_at: from_millis(number("updated_at")?)?,
    })
}

pub(crate) use storage_support::profile_columns;

pub(crate) fn profile_from_row(row: &SqliteRow, prefix: &str) -> Result<Profile, StorageError> {
    let column = |c: &str| format!("{prefix}_{c}");
    let text = |c: &str| row.try_get::<String, _>(column(c).as_str()).map_err(storage_error);
    let avatar: Option<String> = row.try_get(column("avatar_url").as_str()).map_err(storage_error)?;
    Ok(Profile {
        id: UserId(uuid(&text("id")?)?),
        username: Username::parse(&text("username")?).map_err(|e| corrupt("username", e))?,
        first_name: PersonName::parse("first_name", text("first_name")?).map_err(|e| corrupt("name", e))?,
        last_name: PersonName::parse("last_name", text("last_name")?).map_err(|e| corrupt("name", e))?,
        avatar_url: avatar.map(|a| AvatarUrl::parse(&a)).transpose().map_err(|e| corrupt("avatar_url", e))?,
        created_at: from_millis(row.try_get(column("created_at").as_str()).map_err(storage_error)?)?,
    })
}

impl SqliteUnit {
    async fn find_user_by(&mut self, column: &'static str, value: &str) -> Result<Option<User>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE {column} = ?1");
        let row = sqlx::query(&sql).bind(value).fetch_optional(self.conn()).await.map_err(storage_error)?;
        row.as_ref().map(user_from_row).transpose()
    }
}

#[async_trait]
impl UserRepository for SqliteUnit {
    async fn insert(&mut self, user: &User) -> Result<(), StorageError> {
        timed("users.insert", async {
            let sql =
                format!("INSERT INTO users ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
            bind_user(sqlx::query(&sql), user).execute(self.write_conn()?).await.map(|_| ()).map_err(storage_error)
        })
        .await
    }

    async fn get(&mut self, id: UserId) -> Result<Option<User>, StorageError> {
        timed("users.get", self.find_user_by("id", &id.to_string())).await
    }

    async fn find_by_email(&mut self, email: &Email) -> Result<Option<User>, StorageError> {
        timed("users.find_by_email", self.find_user_by("email", email.as_str())).await
    }

    async fn find_by_username(&mut self, username: &Username) -> Result<Option<User>, StorageError> {
        timed("users.find_by_username", self.find_user_by("username", username.as_str())).await
    }

    async fn update(&mut self, user: &User, expected_version: i64) -> Result<(), StorageError> {
        timed("users.update", async {
            // Same parameter numbers as the insert (?11, created_at, never changes).
            let sql = "UPDATE users SET email = ?2, username = ?3, first_name = ?4, last_name = ?5, avatar_url = ?6, \
                       role = ?7, password_hash = ?8, session_epoch = ?9, version = ?10, updated_at = ?12 \
                       WHERE id = ?1 AND version = ?13";
            let done = bind_user(sqlx::query(sql), user)
                .bind(expected_version)
                .execute(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }

    async fn list(&mut self, query: &UserListQuery) -> Result<Page<User>, StorageError> {
        timed("users.list", async {
            let after = query
                .after
                .as_ref()
                .map(|c| String::from_utf8(c.0.clone()).map_err(|_| StorageError::BadContinuation))
                .transpose()?;
            let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM users WHERE 1 = 1"));
            if let Some(prefix) = &query.prefix {
                // A range, not LIKE: `_` is a LIKE wildcard and a range uses the username index.
                // DEL (0x7f) sorts after every character a username may hold.
                sql.push(" AND username >= ").push_bind(prefix.as_str().to_owned());
                sql.push(" AND username < ").push_bind(format!("{}\u{7f}", prefix.as_str()));
            }
            if let Some(after) = after {
                sql.push(" AND username > ").push_bind(after);
            }
            sql.push(" ORDER BY username LIMIT ").push_bind(i64::from(query.limit.get()) + 1);
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            let items = rows.iter().map(user_from_row).collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(items, query.limit, query.budget, |u| {
                Continuation(u.username.as_str().as_bytes().to_vec())
            }))
        })
        .await
    }
}
