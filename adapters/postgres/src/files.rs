//! `FileRepository` on PostgreSQL: a file's metadata, and its project's byte total (`file_bytes`)
//! kept against the quota by the same transaction that inserts or deletes it. A view and a list
//! page are one statement each, with the uploaders joined in.

use async_trait::async_trait;
use domain::files::{File, FileId, FileName, FileView, MediaType, ProjectFilesQuery, Sha256Digest};
use domain::ports::FileRepository;
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::{Conflict, Page, StorageError};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::errors::{corrupt, storage_error};
use crate::keyset;
use crate::metrics::timed;
use crate::unit_of_work::PgUnit;
use crate::users::{lateral_profile, profile_columns, profile_from_row};

pub(crate) const COLUMNS: &str =
    "f.id, f.project_id, f.name, f.content_type, f.size, f.sha256, f.uploader_id, f.created_at";

/// Sizes and quotas are `u64` in the domain and bigint here; nothing stored comes near
/// i64::MAX, and a quota beyond it means "no limit".
fn clamped(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

pub(crate) fn file_from_row(row: &PgRow) -> Result<File, StorageError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage_error);
    let size: i64 = row.try_get("size").map_err(storage_error)?;
    let sha256: Vec<u8> = row.try_get("sha256").map_err(storage_error)?;
    Ok(File {
        id: FileId(row.try_get("id").map_err(storage_error)?),
        project_id: ProjectId(row.try_get("project_id").map_err(storage_error)?),
        name: FileName::parse(text("name")?).map_err(|e| corrupt("file name", e))?,
        content_type: MediaType::parse(&text("content_type")?).map_err(|e| corrupt("content type", e))?,
        size: u64::try_from(size).map_err(|_| corrupt("file size", size))?,
        sha256: Sha256Digest(sha256.try_into().map_err(|_| corrupt("sha256", "length"))?),
        uploader_id: UserId(row.try_get("uploader_id").map_err(storage_error)?),
        created_at: row.try_get("created_at").map_err(storage_error)?,
    })
}

fn view_from_row(row: &PgRow) -> Result<FileView, StorageError> {
    Ok(FileView { file: file_from_row(row)?, uploader: profile_from_row(row, "uploader")? })
}

fn ids_from_rows(rows: &[PgRow]) -> Result<Vec<FileId>, StorageError> {
    rows.iter().map(|row| Ok(FileId(row.try_get("id").map_err(storage_error)?))).collect()
}

#[async_trait]
impl FileRepository for PgUnit {
    async fn insert(&mut self, file: &File, quota: u64) -> Result<(), StorageError> {
        timed("files.insert", async {
            let size = clamped(file.size);
            // The total and its check in one statement, on the project row first: its row lock
            // queues concurrent inserts, and each re-checks the condition on the total the one
            // before it committed. Written as `total <= quota - size` so that neither side can
            // overflow (both are >= 0).
            let counted =
                sqlx::query("UPDATE projects SET file_bytes = file_bytes + $2 WHERE id = $1 AND file_bytes <= $3 - $2")
                    .bind(file.project_id.0)
                    .bind(size)
                    .bind(clamped(quota))
                    .execute(self.write_conn()?)
                    .await
                    .map_err(storage_error)?;
            if counted.rows_affected() == 0 {
                let exists = sqlx::query("SELECT 1 FROM projects WHERE id = $1")
                    .bind(file.project_id.0)
                    .fetch_optional(self.conn())
                    .await
                    .map_err(storage_error)?;
                return Err(match exists {
                    Some(_) => StorageError::Conflict(Conflict::QuotaExceeded),
                    None => StorageError::ConditionFailed,
                });
            }
            sqlx::query(
                "INSERT INTO files (id, project_id, name, content_type, size, sha256, uploader_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(file.id.0)
            .bind(file.project_id.0)
            .bind(file.name.as_str())
            .bind(file.content_type.as_str())
            .bind(size)
            .bind(file.sha256.0.as_slice())
            .bind(file.uploader_id.0)
            .bind(file.created_at)
            .execute(self.write_conn()?)
            .await
            .map(|_| ())
            .map_err(storage_error)
        })
        .await
    }

    async fn get(&mut self, id: FileId) -> Result<Option<File>, StorageError> {
        timed("files.get", async {
            let sql = format!("SELECT {COLUMNS} FROM files f WHERE f.id = $1");
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(file_from_row).transpose()
        })
        .await
    }

    async fn view(&mut self, id: FileId) -> Result<Option<FileView>, StorageError> {
        timed("files.view", async {
            let sql = format!(
                "SELECT {COLUMNS}, {} FROM files f JOIN users u ON u.id = f.uploader_id WHERE f.id = $1",
                profile_columns("u", "uploader")
            );
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(view_from_row).transpose()
        })
        .await
    }

    async fn delete(&mut self, file: &File) -> Result<(), StorageError> {
        timed("files.delete", async {
            // The stored row says which bytes leave the total, not the caller's copy.
            let gone = sqlx::query("DELETE FROM files WHERE id = $1 RETURNING project_id, size")
                .bind(file.id.0)
                .fetch_optional(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            let Some(gone) = gone else { return Err(StorageError::ConditionFailed) };
            let project: Uuid = gone.try_get("project_id").map_err(storage_error)?;
            let size: i64 = gone.try_get("size").map_err(storage_error)?;
            sqlx::query("UPDATE projects SET file_bytes = file_bytes - $2 WHERE id = $1")
                .bind(project)
                .bind(size)
                .execute(self.write_conn()?)
                .await
                .map(|_| ())
                .map_err(storage_error)
        })
        .await
    }

    async fn list(&mut self, query: &ProjectFilesQuery) -> Result<Page<FileView>, StorageError> {
        timed("files.list", async {
            // The page is chosen from the project's files first; only its rows are joined to
            // their uploaders.
            let mut sql = QueryBuilder::<Postgres>::new(format!(
                "SELECT {COLUMNS}, {} FROM (SELECT f.* FROM files f WHERE f.project_id = ",
                profile_columns("u", "uploader")
            ));
            sql.push_bind(query.project.0);
            if let Some(after) = &query.after {
                let (at, id) = keyset::decode(after)?;
                sql.push(" AND (f.created_at, f.id) < (").push_bind(at).push(", ").push_bind(id).push(")");
            }
            sql.push(" ORDER BY f.created_at DESC, f.id DESC LIMIT ").push_bind(i64::from(query.limit.get()) + 1);
            sql.push(") f ").push(lateral_profile("u", "f.uploader_id")).push(" ORDER BY f.created_at DESC, f.id DESC");
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            let items = rows.iter().map(view_from_row).collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(items, query.limit, query.budget, |v| {
                keyset::encode(v.file.created_at, v.file.id.0)
            }))
        })
        .await
    }

    async fn ids_in_project(
        &mut self,
        project: ProjectId,
        after: Option<FileId>,
        limit: u32,
    ) -> Result<Vec<FileId>, StorageError> {
        timed("files.ids_in_project", async {
            // uuid compares as its bytes do: the domain's id order.
            let mut sql = QueryBuilder::<Postgres>::new("SELECT id FROM files WHERE project_id = ");
            sql.push_bind(project.0);
            if let Some(after) = after {
                sql.push(" AND id > ").push_bind(after.0);
            }
            sql.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            ids_from_rows(&rows)
        })
        .await
    }

    async fn existing(&mut self, ids: &[FileId]) -> Result<Vec<FileId>, StorageError> {
        timed("files.existing", async {
            let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
            let rows = sqlx::query("SELECT id FROM files WHERE id = ANY($1)")
                .bind(ids)
                .fetch_all(self.conn())
                .await
                .map_err(storage_error)?;
            ids_from_rows(&rows)
        })
        .await
    }
}
