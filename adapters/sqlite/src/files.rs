//! `FileRepository` on SQLite: a file's metadata, and its project's byte total (`file_bytes`)
//! kept against the quota by the same transaction that inserts or deletes it. A view and a list
//! page are one statement each, with the uploaders joined in.

use async_trait::async_trait;
use domain::files::{File, FileId, FileName, FileView, MediaType, ProjectFilesQuery, Sha256Digest};
use domain::ports::FileRepository;
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::{Conflict, Page, StorageError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::errors::{corrupt, storage_error};
use crate::keyset;
use crate::metrics::timed;
use crate::rows::{from_millis, millis, uuid};
use crate::unit_of_work::SqliteUnit;
use crate::users::{profile_columns, profile_from_row};

pub(crate) const COLUMNS: &str =
    "f.id, f.project_id, f.name, f.content_type, f.size, f.sha256, f.uploader_id, f.created_at";

fn view_select() -> String {
    format!("SELECT {COLUMNS}, {} FROM files f JOIN users u ON u.id = f.uploader_id", profile_columns("u", "uploader"))
}

/// Sizes and quotas are `u64` in the domain and INTEGER (i64) here; nothing stored comes near
/// i64::MAX, and a quota beyond it means "no limit".
fn clamped(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

pub(crate) fn file_from_row(row: &SqliteRow) -> Result<File, StorageError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage_error);
    let number = |c: &str| row.try_get::<i64, _>(c).map_err(storage_error);
    let size = number("size")?;
    let sha256: Vec<u8> = row.try_get("sha256").map_err(storage_error)?;
    Ok(File {
        id: FileId(uuid(&text("id")?)?),
        project_id: ProjectId(uuid(&text("project_id")?)?),
        name: FileName::parse(text("name")?).map_err(|e| corrupt("file name", e))?,
        content_type: MediaType::parse(&text("content_type")?).map_err(|e| corrupt("content type", e))?,
        size: u64::try_from(size).map_err(|_| corrupt("file size", size))?,
        sha256: Sha256Digest(sha256.try_into().map_err(|_| corrupt("sha256", "length"))?),
        uploader_id: UserId(uuid(&text("uploader_id")?)?),
        created_at: from_millis(number("created_at")?)?,
    })
}

fn view_from_row(row: &SqliteRow) -> Result<FileView, StorageError> {
    Ok(FileView { file: file_from_row(row)?, uploader: profile_from_row(row, "uploader")? })
}

#[async_trait]
impl FileRepository for SqliteUnit {
    async fn insert(&mut self, file: &File, quota: u64) -> Result<(), StorageError> {
        timed("files.insert", async {
            let project = file.project_id.to_string();
            let size = clamped(file.size);
            // The total and its check in one statement, on the project row first. Written as
            // `total <= quota - size` so that neither side can overflow (both are >= 0).
            let counted =
                sqlx::query("UPDATE projects SET file_bytes = file_bytes + ?2 WHERE id = ?1 AND file_bytes <= ?3 - ?2")
                    .bind(&project)
                    .bind(size)
                    .bind(clamped(quota))
                    .execute(self.write_conn()?)
                    .await
                    .map_err(storage_error)?;
            if counted.rows_affected() == 0 {
                let exists = sqlx::query("SELECT 1 FROM projects WHERE id = ?1")
                    .bind(&project)
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
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .bind(file.id.to_string())
            .bind(&project)
            .bind(file.name.as_str())
            .bind(file.content_type.as_str())
            .bind(size)
            .bind(file.sha256.0.as_slice())
            .bind(file.uploader_id.to_string())
            .bind(millis(file.created_at))
            .execute(self.write_conn()?)
            .await
            .map(|_| ())
            .map_err(storage_error)
        })
        .await
    }

    async fn get(&mut self, id: FileId) -> Result<Option<File>, StorageError> {
        timed("files.get", async {
            let sql = format!("SELECT {COLUMNS} FROM files f WHERE f.id = ?1");
            let row =
                sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(file_from_row).transpose()
        })
        .await
    }

    async fn view(&mut self, id: FileId) -> Result<Option<FileView>, StorageError> {
        timed("files.view", async {
            let sql = format!("{} WHERE f.id = ?1", view_select());
            let row =
                sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.conn()).await.map_err(storage_error)?;
            row.as_ref().map(view_from_row).transpose()
        })
        .await
    }

    async fn delete(&mut self, file: &File) -> Result<(), StorageError> {
        timed("files.delete", async {
            // The stored row says which bytes leave the total, not the caller's copy.
            let gone = sqlx::query("DELETE FROM files WHERE id = ?1 RETURNING project_id, size")
                .bind(file.id.to_string())
                .fetch_optional(self.write_conn()?)
                .await
                .map_err(storage_error)?;
            let Some(gone) = gone else { return Err(StorageError::ConditionFailed) };
            let project: String = gone.try_get("project_id").map_err(storage_error)?;
            let size: i64 = gone.try_get("size").map_err(storage_error)?;
            sqlx::query("UPDATE projects SET file_bytes = file_bytes - ?2 WHERE id = ?1")
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
            let mut sql = QueryBuilder::<Sqlite>::new(view_select());
            sql.push(" WHERE f.project_id = ").push_bind(query.project.to_string());
            if let Some(after) = &query.after {
                let (at, id) = keyset::decode(after)?;
                sql.push(" AND (f.created_at, f.id) < (").push_bind(at).push(", ").push_bind(id).push(")");
            }
            sql.push(" ORDER BY f.created_at DESC, f.id DESC LIMIT ").push_bind(i64::from(query.limit.get()) + 1);
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            let items = rows.iter().map(view_from_row).collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_overfetch(items, query.limit, query.budget, |v| {
                keyset::encode(millis(v.file.created_at), v.file.id.0)
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
            // Canonical lower-case text sorts as the ids' bytes do, so this is the domain's id order.
            let mut sql = QueryBuilder::<Sqlite>::new("SELECT id FROM files WHERE project_id = ");
            sql.push_bind(project.to_string());
            if let Some(after) = after {
                sql.push(" AND id > ").push_bind(after.to_string());
            }
            sql.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            rows.iter().map(|row| Ok(FileId(uuid(&row.try_get::<String, _>("id").map_err(storage_error)?)?))).collect()
        })
        .await
    }

    async fn existing(&mut self, ids: &[FileId]) -> Result<Vec<FileId>, StorageError> {
        timed("files.existing", async {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut sql = QueryBuilder::<Sqlite>::new("SELECT id FROM files WHERE id IN (");
            let mut listed = sql.separated(", ");
            for id in ids {
                listed.push_bind(id.to_string());
            }
            sql.push(")");
            let rows = sql.build().fetch_all(self.conn()).await.map_err(storage_error)?;
            rows.iter().map(|row| Ok(FileId(uuid(&row.try_get::<String, _>("id").map_err(storage_error)?)?))).collect()
        })
        .await
    }
}
