//! `UserRepository` on PostgreSQL.

use async_trait::async_trait;
use domain::ports::UserRepository;
use domain::users::{AvatarUrl, Email, PasswordHash, PersonName, Profile, Role, User, UserId, UserListQuery, Username};
use domain::{Continuation, Page, StorageError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::errors::{corrupt, one_row_changed, storage_error};
use crate::metrics::timed;
use crate::unit_of_work::PgUnit;

pub(crate) const COLUMNS: &str = "id, email, username, first_name, last_name, avatar_url, role, password_hash, \
                       session_epoch, version, created_at, updated_at";

/// Binds $1..$12 in the order of [`COLUMNS`].
fn bind_user<'q>(query: Query<'q, Postgres, PgArguments>, user: &'q User) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(user.id.0)
        .bind(user.email.as_str())
        .bind(user.username.as_str())
        .bind(user.first_name.as_str())
        .bind(user.last_name.as_str())
        .bind(user.avatar_url.as_ref().map(AvatarUrl::as_str))
        .bind(user.role.as_str())
        .bind(&user.password_hash.0)
        .bind(user.session_epoch)
        .bind(user.version)
        .bind(user.created_at)
        .bind(user.updated_at)
}

pub(crate) fn user_from_row(row: &PgRow) -> Result<User, StorageError> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(storage_error);
    let avatar: Option<String> = row.try_get("avatar_url").map_err(storage_error)?;
    Ok(User {
        id: UserId(row.try_get("id").map_err(storage_error)?),
        email: Email::parse(&text("email")?).map_err(|e| corrupt("email", e))?,
        username: Username::parse(&text("username")?).map_err(|e| corrupt("username", e))?,
        first_name: PersonName::parse("first_name", text("first_name")?).map_err(|e| corrupt("name", e))?,
        last_name: PersonName::parse("last_name", text("last_name")?).map_err(|e| corrupt("name", e))?,
        avatar_url: avatar.map(|a| AvatarUrl::parse(&a)).transpose().map_err(|e| corrupt("avatar_url", e))?,
        role: Role::parse(&text("role")?).ok_or_else(|| corrupt("role", "unknown"))?,
        password_hash: PasswordHash(text("password_hash")?),
        session_epoch: row.try_get("session_epoch").map_err(storage_error)?,
        version: row.try_get("version").map_err(storage_error)?,
        created_at: row.try_get("created_at").map_err(storage_error)?,
        updated_at: row.try_get("updated_at").map_err(storage_error)?,
    })
}

pub(crate) use storage_support::profile_columns;

/// Joins one user's profile columns per row of a page, by primary key: a lookup per row whatever
/// the planner estimates, so a page's cost follows its size, not the users table's. (`LIMIT 1`
/// keeps PostgreSQL from flattening the LATERAL subquery into a hash join over all users.)
pub(crate) fn lateral_profile(alias: &str, user_id: &str) -> String {
    format!(
        "JOIN LATERAL (SELECT id, username, first_name, last_name, avatar_url, created_at FROM users \
         WHERE id = {user_id} LIMIT 1) {alias} ON true"
    )
}

pub(crate) fn profile_from_row(row: &PgRow, prefix: &str) -> Result<Profile, StorageError> {
    let column = |c: &str| format!("{prefix}_{c}");
    let text = |c: &str| row.try_get::<String, _>(column(c).as_str()).map_err(storage_error);
    let avatar: Option<String> = row.try_get(column("avatar_url").as_str()).map_err(storage_error)?;
    Ok(Profile {
        id: UserId(row.try_get(column("id").as_str()).map_err(storage_error)?),
        username: Username::parse(&text("username")?).map_err(|e| corrupt("username", e))?,
        first_name: PersonName::parse("first_name", text("first_name")?).map_err(|e| corrupt("name", e))?,
        last_name: PersonName::parse("last_name", text("last_name")?).map_err(|e| corrupt("name", e))?,
        avatar_url: avatar.map(|a| AvatarUrl::parse(&a)).transpose().map_err(|e| corrupt("avatar_url", e))?,
        created_at: row.try_get(column("created_at").as_str()).map_err(storage_error)?,
    })
}

impl PgUnit {
    async fn find_user_by(&mut self, column: &'static str, value: &str) -> Result<Option<User>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE {column} = $1");
        let row = sqlx::query(&sql).bind(value).fetch_optional(self.conn()).await.map_err(storage_error)?;
        row.as_ref().map(user_from_row).transpose()
    }
}

#[async_trait]
impl UserRepository for PgUnit {
    async fn insert(&mut self, user: &User) -> Result<(), StorageError> {
        timed("users.insert", async {
            let sql =
                format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
            bind_user(sqlx::query(&sql), user).execute(self.write_conn()?).await.map(|_| ()).map_err(storage_error)
        })
        .await
    }

    async fn get(&mut self, id: UserId) -> Result<Option<User>, StorageError> {
        timed("users.get", async {
            let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(user_from_row).transpose()
        })
        .await
    }

    async fn find_by_email(&mut self, email: &Email) -> Result<Option<User>, StorageError> {
        timed("users.find_by_email", self.find_user_by("email", email.as_str())).await
    }

    async fn find_by_username(&mut self, username: &Username) -> Result<Option<User>, StorageError> {
        timed("users.find_by_username", self.find_user_by("username", username.as_str())).await
    }

    async fn update(&mut self, user: &User, expected_version: i64) -> Result<(), StorageError> {
        timed("users.update", async {
            let done = sqlx::query(
                "UPDATE users SET email = $2, username = $3, first_name = $4, last_name = $5, avatar_url = $6, \
                 role = $7, password_hash = $8, session_epoch = $9, version = $10, updated_at = $11 \
                 WHERE id = $1 AND version = $12",
            )
            .bind(user.id.0)
            .bind(user.email.as_str())
            .bind(user.username.as_str())
            .bind(user.first_name.as_str())
            .bind(user.last_name.as_str())
            .bind(user.avatar_url.as_ref().map(AvatarUrl::as_str))
            .bind(user.role.as_str())
            .bind(&user.password_hash.0)
            .bind(user.session_epoch)
            .bind(user.version)
            .bind(user.updated_at)
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
            let mut sql = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM users WHERE true"));
            if let Some(prefix) = &query.prefix {
                // A range, not LIKE: `_` is a LIKE wildcard and a range uses the username index.
                // DEL (0x7f) sorts after every character a username may hold (COLLATE "C").
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
