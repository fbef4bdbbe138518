//! `MemberRepository` on PostgreSQL.

use async_trait::async_trait;
use domain::members::{Member, MemberListQuery, MemberView};
use domain::ports::MemberRepository;
use domain::projects::{ProjectId, ProjectRole};
use domain::users::UserId;
use domain::{Page, StorageError};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::errors::{one_row_changed, storage_error};
use crate::keyset;
use crate::metrics::timed;
use crate::projects::role_from_text;
use crate::unit_of_work::PgUnit;
use crate::users::{lateral_profile, profile_columns, profile_from_row};

pub(crate) const COLUMNS: &str = "m.project_id, m.user_id, m.role, m.added_at";

pub(crate) fn member_from_row(row: &PgRow) -> Result<Member, StorageError> {
    Ok(Member {
        project_id: ProjectId(row.try_get("project_id").map_err(storage_error)?),
        user_id: UserId(row.try_get("user_id").map_err(storage_error)?),
        role: role_from_text(&row.try_get::<String, _>("role").map_err(storage_error)?)?,
        added_at: row.try_get("added_at").map_err(storage_error)?,
    })
}

#[async_trait]
impl MemberRepository for PgUnit {
    async fn get(&mut self, project: ProjectId, user: UserId) -> Result<Option<Member>, StorageError> {
        timed("members.get", async {
            let sql = format!("SELECT {COLUMNS} FROM members m WHERE m.project_id = $1 AND m.user_id = $2");
            let row = sqlx::query(&sql)
                .bind(project.0)
                .bind(user.0)
                .fetch_optional(self.conn())
                .await
                .map_err(storage_error)?;
            row.as_ref().map(member_from_row).transpose()
        })
        .await
    }

    async fn insert(&mut self, member: &Member) -> Result<(), StorageError> {
        timed("members.insert", async {
            sqlx::query("INSERT INTO members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)")
                .bind(member.project_id.0)
                .bind(member.user_id.0)
                .bind(member.role.as_str())
                .bind(member.added_at)
                .execute(self.write_conn()?)
                .await
                .map(|_| ())
                .map_err(storage_error)
        })
        .await
    }

    async fn set_role(&mut self, project: ProjectId, user: UserId, role: ProjectRole) -> Result<(), StorageError> {
        timed("members.set_role", async {
            let done = sqlx::query("UPDATE members SET role = $3 WHERE project_id = $1 AND user_id = $2")
                .bind(project.0)
                .bind(user.0)
                .bind(role.as_str())
                .execute(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }

    async fn remove(&mut self, project: ProjectId, user: UserId) -> Result<(), StorageError> {
        timed("members.remove", async {
            let done = sqlx::query("DELETE FROM members WHERE project_id = $1 AND user_id = $2")
                .bind(project.0)
                .bind(user.0)
                .execute(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }

    async fn list(&mut self, query: &MemberListQuery) -> Result<Page<MemberView>, StorageError> {
        timed("members.list", async {
            // The page is chosen from `members` alone, then joined to its users by primary key.
            let mut sql = QueryBuilder::<Postgres>::new(format!(
                "SELECT m.role, m.added_at, {} FROM (SELECT * FROM members m WHERE m.project_id = ",
                profile_columns("u", "user")
            ));
            sql.push_bind(query.project.0);
            if let Some(after) = &query.after {
                let (at, id) = keyset::decode(after)?;
                sql.push(" AND (m.added_at, m.user_id) > (").push_bind(at).push(", ").push_bind(id).push(")");
            }
            sql.push(" ORDER BY m.added_at, m.user_id LIMIT ").push_bind(i64::from(query.limit.get()) + 1);
            sql.push(") m ").push(lateral_profile("u", "m.user_id")).push(" ORDER BY m.added_at, m.user_id");
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            let items = rows
                .iter()
                .map(|row| {
                    Ok(MemberView {
                        user: profile_from_row(row, "user")?,
                        role: role_from_text(&row.try_get::<String, _>("role").map_err(storage_error)?)?,
                        added_at: row.try_get("added_at").map_err(storage_error)?,
                    })
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
            Ok(Page::from_overfetch(items, query.limit, query.budget, |m| keyset::encode(m.added_at, m.user.id.0)))
        })
        .await
    }
}
