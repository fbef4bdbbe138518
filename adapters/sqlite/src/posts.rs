//! `PostRepository` on SQLite. Every list page is one statement with the creators joined in.

use async_trait::async_trait;
use domain::ports::PostRepository;
use domain::posts::{
    CreatorPostsQuery, Post, PostBody, PostId, PostStatus, PostTitle, PostView, ProjectPostsQuery, Slug,
};
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::{Continuation, Page, PageBudget, PageFill, PageLimit, StorageError};
use futures::TryStreamExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::errors::{corrupt, one_row_changed, storage_error};
use crate::keyset;
use crate::metrics::timed;
use crate::rows::{from_millis, millis, opt_from_millis, uuid};
use crate::unit_of_work::SqliteUnit;
use crate::users::{profile_columns, profile_from_row};

pub(crate) const COLUMNS: &str = "p.id, p.project_id, p.slug, p.title, p.body, p.status, p.creator_id, p.created_at, \
                       p.updated_at, p.published_at, p.activity_at, p.version";

fn view_select() -> String {
    format!("SELECT {COLUMNS}, {} FROM posts p JOIN users c ON c.id = p.creator_id", profile_columns("c", "creator"))
}

pub(crate) fn post_from_row(row: &SqliteRow) -> Result<Post, StorageError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage_error);
    let number = |c: &str| row.try_get::<i64, _>(c).map_err(storage_error);
    let optional = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(storage_error);
    let status = text("status")?;
    Ok(Post {
        id: PostId(uuid(&text("id")?)?),
        project_id: ProjectId(uuid(&text("project_id")?)?),
        slug: Slug::parse(&text("slug")?).map_err(|e| corrupt("slug", e))?,
        title: PostTitle::parse(text("title")?).map_err(|e| corrupt("title", e))?,
        body: PostBody::parse(text("body")?).map_err(|e| corrupt("body", e))?,
        status: PostStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        creator_id: UserId(uuid(&text("creator_id")?)?),
        created_at: from_millis(number("created_at")?)?,
        updated_at: opt_from_millis(optional("updated_at")?)?,
        published_at: opt_from_millis(optional("published_at")?)?,
        version: number("version")?,
    })
}

fn view_from_row(row: &SqliteRow) -> Result<PostView, StorageError> {
    Ok(PostView { post: post_from_row(row)?, creator: profile_from_row(row, "creator")? })
}

/// Newest activity first, after the continuation, `limit + 1` rows; one statement. Its rows are
/// taken one at a time until the page is full, and the rest are never read: a page of the
/// largest posts holds its budget and one more row, not `limit + 1` bodies.
async fn list_page(
    unit: &mut SqliteUnit,
    mut sql: QueryBuilder<'_, Sqlite>,
    after: Option<&Continuation>,
    limit: PageLimit,
    budget: PageBudget,
) -> Result<Page<PostView>, StorageError> {
    if let Some(after) = after {
        let (at, id) = keyset::decode(after)?;
        sql.push(" AND (p.activity_at, p.id) < (").push_bind(at).push(", ").push_bind(id).push(")");
    }
    sql.push(" ORDER BY p.activity_at DESC, p.id DESC LIMIT ").push_bind(i64::from(limit.get()) + 1);
    let mut page = PageFill::new(limit, budget);
    let mut more = false;
    let mut rows = sql.build().fetch(unit.conn());
    while let Some(row) = rows.try_next().await.map_err(storage_error)? {
        if !page.offer(view_from_row(&row)?) {
            more = true;
            break;
        }
    }
    Ok(page.finish_after_last(more, |v| keyset::encode(millis(v.post.activity_at()), v.post.id.0)))
}

#[async_trait]
impl PostRepository for SqliteUnit {
    async fn insert(&mut self, post: &Post) -> Result<(), StorageError> {
        timed("posts.insert", async {
            sqlx::query(
                "INSERT INTO posts (id, project_id, slug, title, body, status, creator_id, created_at, updated_at, \
                 published_at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .bind(post.id.to_string())
            .bind(post.project_id.to_string())
            .bind(post.slug.as_str())
            .bind(post.title.as_str())
            .bind(post.body.as_str())
            .bind(post.status.as_str())
            .bind(post.creator_id.to_string())
            .bind(millis(post.created_at))
            .bind(post.updated_at.map(millis))
            .bind(post.published_at.map(millis))
            .bind(post.version)
            .execute(self.write_conn()?)
            .await
            .map(|_| ())
            .map_err(storage_error)
        })
        .await
    }

    async fn get(&mut self, id: PostId) -> Result<Option<Post>, StorageError> {
        timed("posts.get", async {
            let sql = format!("SELECT {COLUMNS} FROM posts p WHERE p.id = ?1");
            let row =
                sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(post_from_row).transpose()
        })
        .await
    }

    async fn view(&mut self, id: PostId) -> Result<Option<PostView>, StorageError> {
        timed("posts.view", async {
            let sql = format!("{} WHERE p.id = ?1", view_select());
            let row =
                sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(view_from_row).transpose()
        })
        .await
    }

    async fn slugs_like(&mut self, project: ProjectId, base: &Slug) -> Result<Vec<Slug>, StorageError> {
        timed("posts.slugs_like", async {
            // `base` itself or `base-…`: a range on the (project_id, slug) unique index.
            // '.' is the character after '-'.
            let rows = sqlx::query(
                "SELECT slug FROM posts WHERE project_id = ?1 AND (slug = ?2 OR (slug >= ?2 || '-' AND slug < ?2 || '.'))",
            )
            .bind(project.to_string())
            .bind(base.as_str())
            .fetch_all(self.conn())
            .await
            .map_err(storage_error)?;
            rows.iter()
                .map(|row| {
                    let slug: String = row.try_get("slug").map_err(storage_error)?;
                    Slug::parse(&slug).map_err(|e| corrupt("slug", e))
                })
                .collect()
        })
        .await
    }

    async fn update(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError> {
        timed("posts.update", async {
            let done = sqlx::query(
                "UPDATE posts SET title = ?2, body = ?3, status = ?4, updated_at = ?5, published_at = ?6, version = ?7 \
                 WHERE id = ?1 AND version = ?8",
            )
            .bind(post.id.to_string())
            .bind(post.title.as_str())
            .bind(post.body.as_str())
            .bind(post.status.as_str())
            .bind(post.updated_at.map(millis))
            .bind(post.published_at.map(millis))
            .bind(post.version)
            .bind(expected_version)
            .execute(self.write_conn()?)
            .await
            .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }

    async fn delete(&mut self, post: &Post, expected_version: i64) -> Result<(), StorageError> {
        timed("posts.delete", async {
            let done = sqlx::query("DELETE FROM posts WHERE id = ?1 AND version = ?2")
                .bind(post.id.to_string())
                .bind(expected_version)
                .execute(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            one_row_changed(&done)
        })
        .await
    }

    async fn list_for_project(&mut self, query: &ProjectPostsQuery) -> Result<Page<PostView>, StorageError> {
        timed("posts.list_for_project", async {
            let mut sql = QueryBuilder::<Sqlite>::new(view_select());
            sql.push(" WHERE p.project_id = ").push_bind(query.project.to_string());
            if let Some(status) = query.status {
                sql.push(" AND p.status = ").push_bind(status.as_str());
            }
            list_page(self, sql, query.after.as_ref(), query.limit, query.budget).await
        })
        .await
    }

    async fn list_for_creator(&mut self, query: &CreatorPostsQuery) -> Result<Page<PostView>, StorageError> {
        timed("posts.list_for_creator", async {
            let mut sql = QueryBuilder::<Sqlite>::new(format!(
                "{} JOIN members v ON v.project_id = p.project_id AND v.user_id = ",
                view_select()
            ));
            sql.push_bind(query.viewer.to_string());
            sql.push(" WHERE p.creator_id = ").push_bind(query.creator.to_string());
            sql.push(" AND (p.status = 'published' OR v.role IN (");
            let mut roles = sql.separated(", ");
            roles.push_bind("");
            for role in &query.drafts_visible_to {
                roles.push_bind(role.as_str());
            }
            sql.push("))");
            list_page(self, sql, query.after.as_ref(), query.limit, query.budget).await
        })
        .await
    }
}
