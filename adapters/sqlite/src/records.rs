//! `RecordScan` on SQLite (`tessera copy`'s source): every record of a kind in primary-key order,
//! one keyset page per statement on the read pool. A walk is stable under writes because a key
//! never moves: a row inserted meanwhile lands before the cursor or after it, so nothing is met
//! twice. A deleted project's members, posts and files went with it in one statement
//! (`ON DELETE CASCADE`), so there is nothing of it to leave out.

use application::ports::RecordScan;
use async_trait::async_trait;
use domain::records::{Record, RecordKind, RecordPage};
use domain::{Continuation, StorageError};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};
use storage_support::record_keys::{continuation, counts, key_after, COUNTS};

use crate::errors::storage_error;
use crate::metrics::timed;
use crate::storage::SqliteStorage;
use crate::{files, members, posts, projects, users};

/// What one kind is read from, its primary key's columns (the keyset, in order) and its rows'
/// mapping — the repositories' own.
struct Source {
    select: String,
    key: &'static [&'static str],
    record: fn(&SqliteRow) -> Result<Record, StorageError>,
}

fn source(kind: RecordKind) -> Source {
    match kind {
        RecordKind::Users => Source {
            select: format!("SELECT {} FROM users", users::COLUMNS),
            key: &["id"],
            record: |row| users::user_from_row(row).map(Record::User),
        },
        RecordKind::Projects => Source {
            select: format!("SELECT {} FROM projects p", projects::COLUMNS),
            key: &["p.id"],
            record: |row| projects::project_from_row(row).map(Record::Project),
        },
        RecordKind::Members => Source {
            select: format!("SELECT {} FROM members m", members::COLUMNS),
            key: &["m.project_id", "m.user_id"],
            record: |row| members::member_from_row(row).map(Record::Member),
        },
        RecordKind::Posts => Source {
            select: format!("SELECT {} FROM posts p", posts::COLUMNS),
            key: &["p.id"],
            record: |row| posts::post_from_row(row).map(Record::Post),
        },
        RecordKind::Files => Source {
            select: format!("SELECT {} FROM files f", files::COLUMNS),
            key: &["f.id"],
            record: |row| files::file_from_row(row).map(Record::File),
        },
    }
}

#[async_trait]
impl RecordScan for SqliteStorage {
    async fn scan(
        &self,
        kind: RecordKind,
        after: Option<Continuation>,
        limit: u32,
    ) -> Result<RecordPage, StorageError> {
        timed("records.scan", async {
            let source = source(kind);
            let after = after.map(|after| key_after(kind, &after, source.key.len())).transpose()?;
            // A page that may hold nothing could never move on: one record at least.
            let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
            let mut sql = QueryBuilder::<Sqlite>::new(source.select);
            if let Some(after) = after {
                // Text ids compare as the ids' bytes do (canonical lower-case form).
                sql.push(" WHERE (").push(source.key.join(", ")).push(") > (");
                let mut values = sql.separated(", ");
                for id in after {
                    values.push_bind(id.to_string());
                }
                sql.push(")");
            }
            sql.push(" ORDER BY ").push(source.key.join(", "));
            // One row past the page says whether a next page exists.
            sql.push(" LIMIT ").push_bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
            let rows = sql.build().fetch_all(&mut *self.lease_reader().await?).await.map_err(storage_error)?;
            let more = rows.len() > limit;
            let records = rows.iter().take(limit).map(source.record).collect::<Result<Vec<_>, _>>()?;
            let next = if more { records.last().map(continuation) } else { None };
            Ok(RecordPage { records, next })
        })
        .await
    }

    async fn counts(&self) -> Result<Vec<(RecordKind, u64)>, StorageError> {
        timed("records.count", async {
            let row =
                sqlx::query_as(COUNTS).fetch_one(&mut *self.lease_reader().await?).await.map_err(storage_error)?;
            Ok(counts(row))
        })
        .await
    }
}
