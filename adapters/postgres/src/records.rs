//! `RecordScan` on PostgreSQL (`tessera copy`'s source): every record of a kind in primary-key order,
//! one keyset page per statement on the pool. A walk is stable under writes because a key
//! never moves: a row inserted meanwhile lands before the cursor or after it, so nothing is met
//! twice. A deleted project's members, posts and files went with it in one statement
//! (`ON DELETE CASCADE`), so there is nothing of it to leave out.

use application::ports::RecordScan;
use async_trait::async_trait;
use domain::records::{Record, RecordKind, RecordPage};
use domain::{Continuation, StorageError};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::errors::storage_error;
use crate::metrics::timed;
use crate::storage::PostgresStorage;
use crate::{files, members, posts, projects, users};

/// What one kind is read from, its primary key's columns (the keyset, in order) and its rows'
/// mapping — the repositories' own.
struct Source {
    select: String,
    key: &'static [&'static str],
    record: fn(&PgRow) -> Result<Record, StorageError>,
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

/// The first byte of a continuation: the kind it continues, so that a continuation of another
/// kind is refused rather than read as a key of this one.
fn tag(kind: RecordKind) -> u8 {
    match kind {
        RecordKind::Users => b'u',
        RecordKind::Projects => b'p',
        RecordKind::Members => b'm',
        RecordKind::Posts => b's',
        RecordKind::Files => b'f',
    }
}

/// A record's primary key, as ids.
fn key(record: &Record) -> Vec<Uuid> {
    match record {
        Record::User(user) => vec![user.id.0],
        Record::Project(project) => vec![project.id.0],
        Record::Member(member) => vec![member.project_id.0, member.user_id.0],
        Record::Post(post) => vec![post.id.0],
        Record::File(file) => vec![file.id.0],
    }
}

/// The kind's tag, then the 16 bytes of each id of the record's key.
fn continuation(record: &Record) -> Continuation {
    let mut bytes = vec![tag(record.kind())];
    for id in key(record) {
        bytes.extend_from_slice(id.as_bytes());
    }
    Continuation(bytes)
}

/// The key a continuation of `kind` holds.
fn key_after(kind: RecordKind, after: &Continuation, columns: usize) -> Result<Vec<Uuid>, StorageError> {
    let Some((&first, ids)) = after.0.split_first() else { return Err(StorageError::BadContinuation) };
    if first != tag(kind) || ids.len() != 16 * columns {
        return Err(StorageError::BadContinuation);
    }
    ids.chunks(16).map(|id| Uuid::from_slice(id).map_err(|_| StorageError::BadContinuation)).collect()
}

#[async_trait]
impl RecordScan for PostgresStorage {
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
            let mut sql = QueryBuilder::<Postgres>::new(source.select);
            if let Some(after) = after {
                // A row comparison, which the primary key's index serves.
                sql.push(" WHERE (").push(source.key.join(", ")).push(") > (");
                let mut values = sql.separated(", ");
                for id in after {
                    values.push_bind(id);
                }
                sql.push(")");
            }
            sql.push(" ORDER BY ").push(source.key.join(", "));
            // One row past the page says whether a next page exists.
            sql.push(" LIMIT ").push_bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
            let rows = sql.build().fetch_all(&self.pool).await.map_err(storage_error)?;
            let more = rows.len() > limit;
            let records = rows.iter().take(limit).map(source.record).collect::<Result<Vec<_>, _>>()?;
            let next = if more { records.last().map(continuation) } else { None };
            Ok(RecordPage { records, next })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_continuation_is_read_back_by_its_own_kind_only() {
        let (project, user) = (Uuid::now_v7(), Uuid::now_v7());
        let mut bytes = vec![b'm'];
        bytes.extend_from_slice(project.as_bytes());
        bytes.extend_from_slice(user.as_bytes());
        let members = Continuation(bytes);
        assert_eq!(key_after(RecordKind::Members, &members, 2).unwrap(), vec![project, user]);
        for kind in [RecordKind::Users, RecordKind::Projects, RecordKind::Posts, RecordKind::Files] {
            assert!(matches!(key_after(kind, &members, 2), Err(StorageError::BadContinuation)), "{kind:?}");
        }
        let short = Continuation(members.0[..17].to_vec());
        assert!(matches!(key_after(RecordKind::Members, &short, 2), Err(StorageError::BadContinuation)));
        assert!(matches!(
            key_after(RecordKind::Users, &Continuation(Vec::new()), 1),
            Err(StorageError::BadContinuation)
        ));
    }
}
