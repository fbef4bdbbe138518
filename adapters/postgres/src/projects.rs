//! `ProjectRepository` on PostgreSQL. A view (owner profile, caller's role, counts) is one statement.

use async_trait::async_trait;
use domain::ports::ProjectRepository;
use domain::projects::{Description, Project, ProjectId, ProjectListQuery, ProjectName, ProjectView};
use domain::users::UserId;
use domain::{Page, StorageError};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::errors::{corrupt, one_row_changed, storage_error};
use crate::keyset;
use crate::metrics::timed;
use crate::unit_of_work::PgUnit;
use crate::users::{lateral_profile, profile_columns, profile_from_row};

pub(crate) const COLUMNS: &str = "p.id, p.name, p.description, p.owner_id, p.created_at, p.updated_at, p.version";

/// Project, owner profile, the member's role and both counts, from `members m` joined to
/// `projects p` and the owner `users o`.
fn view_select() -> String {
    format!(
        "SELECT {COLUMNS}, m.role AS my_role, {owner}, \
         p.member_count, p.post_count \
         FROM members m JOIN projects p ON p.id = m.project_id JOIN users o ON o.id = p.owner_id",
        owner = profile_columns("o", "owner"),
    )
}

pub(crate) fn project_from_row(row: &PgRow) -> Result<Project, StorageError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage_error);
    Ok(Project {
        id: ProjectId(row.try_get("id").map_err(storage_error)?),
        name: ProjectName::parse(text("name")?).map_err(|e| corrupt("project name", e))?,
        description: Description::parse(text("description")?).map_err(|e| corrupt("description", e))?,
        owner_id: UserId(row.try_get("owner_id").map_err(storage_error)?),
        created_at: row.try_get("created_at").map_err(storage_error)?,
        updated_at: row.try_get("updated_at").map_err(storage_error)?,
        version: row.try_get("version").map_err(storage_error)?,
    })
}

pub(crate) use storage_support::role_from_text;

fn view_from_row(row: &PgRow) -> Result<ProjectView, StorageError> {
    Ok(ProjectView {
        project: project_from_row(row)?,
        owner: profile_from_row(row, "owner")?,
        my_role: role_from_text(&row.try_get::<String, _>("my_role").map_err(storage_error)?)?,
        member_count: row.try_get("member_count").map_err(storage_error)?,
        post_count: row.try_get("post_count").map_err(storage_error)?,
    })
}

#[async_trait]
impl ProjectRepository for PgUnit {
    async fn insert(&mut self, project: &Project) -> Result<(), StorageError> {
        timed("projects.insert", async {
            sqlx::query(
                "INSERT INTO projects (id, name, description, owner_id, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(project.id.0)
            .bind(project.name.as_str())
            .bind(project.description.as_str())
            .bind(project.owner_id.0)
            .bind(project.created_at)
            .bind(project.updated_at)
            .bind(project.version)
            .execute(self.write_conn()?)
            .await
            .map(|_| ())
            .map_err(storage_error)
        })
        .await
    }

    async fn get(&mut self, id: ProjectId) -> Result<Option<Project>, StorageError> {
        timed("projects.get", async {
            let sql = format!("SELECT {COLUMNS} FROM projects p WHERE p.id = $1");
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(project_from_row).transpose()
        })
        .await
    }

    async fn view(&mut self, id: ProjectId, viewer: UserId) -> Result<Option<ProjectView>, StorageError> {
        timed("projects.view", async {
            let sql = format!("{} WHERE m.project_id = $1 AND m.user_id = $2", view_select());
            let row =
                sqlx::query(&sql).bind(id.0).bind(viewer.0).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(view_from_row).transpose()
        })
        .await
    }

    async fn update(&mut self, project: &Project, expected_version: i64) -> Result<(), StorageError> {
        timed("projects.update", async {
            let done = sqlx::query(
                "UPDATE projects SET name = $2, description = $3, updated_at = $4, version = $5 \
                 WHERE id = $1 AND version = $6",
            )
            .bind(project.id.0)
            .bind(project.name.as_str())
            .bind(project.description.as_str())
            .bind(project.updated_at)
            .bind(project.version)
            .bind(expected_version)
            .execute(self.write_conn()?)
            .await
            .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }

    async fn delete(&mut self, id: ProjectId, expected_version: i64) -> Result<(), StorageError> {
        timed("projects.delete", async {
            // Members, posts and files go with it (ON DELETE CASCADE), in this one statement.
            let done = sqlx::query("DELETE FROM projects WHERE id = $1 AND version = $2")
                .bind(id.0)
                .bind(expected_version)
                .execute(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }

    async fn list(&mut self, query: &ProjectListQuery) -> Result<Page<ProjectView>, StorageError> {
        timed("projects.list", async {
            // The page is chosen from the member's projects first; only its rows are joined to
            // their owners (the counts are kept on the project row, see migration 0003).
            let mut sql = QueryBuilder::<Postgres>::new(format!(
                "SELECT {COLUMNS}, p.my_role, {owner}, \
                 p.member_count, p.post_count \
                 FROM (SELECT p.*, m.role AS my_role FROM members m JOIN projects p ON p.id = m.project_id \
                 WHERE m.user_id = ",
                owner = profile_columns("o", "owner"),
            ));
            sql.push_bind(query.member.0);
            if let Some(after) = &query.after {
                let (at, id) = keyset::decode(after)?;
                sql.push(" AND (p.created_at, p.id) < (").push_bind(at).push(", ").push_bind(id).push(")");
            }
            sql.push(" ORDER BY p.created_at DESC, p.id DESC LIMIT ").push_bind(i64::from(query.limit.get()) + 1);
            sql.push(") p ").push(lateral_profile("o", "p.owner_id")).push(" ORDER BY p.created_at DESC, p.id DESC");
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            let items = rows.iter().map(view_from_row).collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(items, query.limit, query.budget, |v| {
                keyset::encode(v.project.created_at, v.project.id.0)
            }))
        })
        .await
    }
}
