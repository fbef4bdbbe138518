//! `PostRepository` on PostgreSQL. Every list page is one statement with the creators joined in.

use async_trait::async_trait;
use domain::ports::PostRepository;
use domain::posts::{
    CreatorPostsQuery, Post, PostBody, PostId, PostStatus, PostTitle, PostView, ProjectPostsQuery, Slug,
};
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::{Continuation, Page, PageBudget, PageFill, PageLimit, StorageError};
use futures::TryStreamExt;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::errors::{corrupt, one_row_changed, storage_error};
use crate::keyset;
use crate::metrics::timed;
use crate::unit_of_work::PgUnit;
use crate::users::{lateral_profile, profile_columns, profile_from_row};

pub(crate) const COLUMNS: &str = "p.id, p.project_id, p.slug, p.title, p.body, p.status, p.creator_id, p.created_at, \
                       p.updated_at, p.published_at, p.version";

fn view_select() -> String {
    format!("SELECT {COLUMNS}, {} FROM posts p JOIN users c ON c.id = p.creator_id", profile_columns("c", "creator"))
}

/// Opens a page query: the page is chosen from `posts p` alone (`from` and the WHERE clause
/// [`list_page`] appends), then only its rows get their creators, `limit + 1` primary-key lookups.
fn page_open(from: &str) -> String {
    format!("SELECT {COLUMNS}, {creator} FROM (SELECT p.* {from}", creator = profile_columns("c", "creator"))
}

pub(crate) fn post_from_row(row: &PgRow) -> Result<Post, StorageError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage_error);
    let status = text("status")?;
    Ok(Post {
        id: PostId(row.try_get("id").map_err(storage_error)?),
        project_id: ProjectId(row.try_get("project_id").map_err(storage_error)?),
        slug: Slug::parse(&text("slug")?).map_err(|e| corrupt("slug", e))?,
        title: PostTitle::parse(text("title")?).map_err(|e| corrupt("title", e))?,
        body: PostBody::parse(text("body")?).map_err(|e| corrupt("body", e))?,
        status: PostStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        creator_id: UserId(row.try_get("creator_id").map_err(storage_error)?),
        created_at: row.try_get("created_at").map_err(storage_error)?,
        updated_at: row.try_get("updated_at").map_err(storage_error)?,
        published_at: row.try_get("published_at").map_err(storage_error)?,
        version: row.try_get("version").map_err(storage_error)?,
    })
}

fn view_from_row(row: &PgRow) -> Result<PostView, StorageError> {
    Ok(PostView { post: post_from_row(row)?, creator: profile_from_row(row, "creator")? })
}

/// Newest activity first, after the continuation, `limit + 1` rows; one statement. `sql` is the
/// inner query of [`page_select`], open at its WHERE clause. Its rows are taken one at a time
/// until the page is full; the connection discards the rest as they arrive, so a page of the
/// largest posts holds its budget and one more row, not `limit + 1` bodies.
async fn list_page(
    unit: &mut PgUnit,
    mut sql: QueryBuilder<'_, Postgres>,
    after: Option<&Continuation>,
    limit: PageLimit,
    budget: PageBudget,
) -> Result<Page<PostView>, StorageError> {
    if let Some(after) = after {
        let (at, id) = keyset::decode(after)?;
        sql.push(" AND (p.activity_at, p.id) < (").push_bind(at).push(", ").push_bind(id).push(")");
    }
    sql.push(" ORDER BY p.activity_at DESC, p.id DESC LIMIT ").push_bind(i64::from(limit.get()) + 1);
    sql.push(") p ").push(lateral_profile("c", "p.creator_id")).push(" ORDER BY p.activity_at DESC, p.id DESC");
    let mut page = PageFill::new(limit, budget);
    let mut more = false;
    let mut rows = sql.build().fetch(unit.conn());
    while let Some(row) = rows.try_next().await.map_err(storage_error)? {
        if !page.offer(view_from_row(&row)?) {
            more = true;
            break;
        }
    }
    Ok(page.finish_after_last(more, |v| keyset::encode(v.post.activity_at(), v.post.id.0)))
}

#[async_trait]
impl PostRepository for PgUnit {
    async fn insert(&mut self, post: &Post) -> Result<(), StorageError> {
        timed("posts.insert", async {
            sqlx::query(
                "INSERT INTO posts (id, project_id, slug, title, body, status, creator_id, created_at, updated_at, \
                 published_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(post.id.0)
            .bind(post.project_id.0)
            .bind(post.slug.as_str())
            .bind(post.title.as_str())
            .bind(post.body.as_str())
            .bind(post.status.as_str())
            .bind(post.creator_id.0)
            .bind(post.created_at)
            .bind(post.updated_at)
            .bind(post.published_at)
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
            let sql = format!("SELECT {COLUMNS} FROM posts p WHERE p.id = $1");
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(post_from_row).transpose()
        })
        .await
    }

    async fn view(&mut self, id: PostId) -> Result<Option<PostView>, StorageError> {
        timed("posts.view", async {
            let sql = format!("{} WHERE p.id = $1", view_select());
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(view_from_row).transpose()
        })
        .await
    }

    async fn slugs_like(&mut self, project: ProjectId, base: &Slug) -> Result<Vec<Slug>, StorageError> {
        timed("posts.slugs_like", async {
            // `base` itself or `base-…`: a range on the (project_id, slug) unique index (COLLATE "C");
            // '.' is the character after '-'.
            let rows = sqlx::query(
                "SELECT slug FROM posts WHERE project_id = $1 AND (slug = $2 OR (slug >= $2 || '-' AND slug < $2 || '.'))",
            )
            .bind(project.0)
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
                "UPDATE posts SET title = $2, body = $3, status = $4, updated_at = $5, published_at = $6, version = $7 \
                 WHERE id = $1 AND version = $8",
            )
            .bind(post.id.0)
            .bind(post.title.as_str())
            .bind(post.body.as_str())
            .bind(post.status.as_str())
            .bind(post.updated_at)
            .bind(post.published_at)
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
            let done = sqlx::query("DELETE FROM posts WHERE id = $1 AND version = $2")
                .bind(post.id.0)
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
            let mut sql = QueryBuilder::<Postgres>::new(page_open("FROM posts p"));
            sql.push(" WHERE p.project_id = ").push_bind(query.project.0);
            if let Some(status) = query.status {
                sql.push(" AND p.status = ").push_bind(status.as_str());
            }
            list_page(self, sql, query.after.as_ref(), query.limit, query.budget).await
        })
        .await
    }

    async fn list_for_creator(&mut self, query: &CreatorPostsQuery) -> Result<Page<PostView>, StorageError> {
        timed("posts.list_for_creator", async {
            let mut sql =
                QueryBuilder::<Postgres>::new(page_open("FROM posts p JOIN members v ON v.project_id = p.project_id"));
            sql.push(" AND v.user_id = ");
            sql.push_bind(query.viewer.0);
            sql.push(" WHERE p.creator_id = ").push_bind(query.creator.0);
            let roles: Vec<&str> = query.drafts_visible_to.iter().map(|r| r.as_str()).collect();
            sql.push(" AND (p.status = 'published' OR v.role = ANY(").push_bind(roles).push("))");
            list_page(self, sql, query.after.as_ref(), query.limit, query.budget).await
        })
        .await
    }
}
