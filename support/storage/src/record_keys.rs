//! The continuations of the SQL adapters' record scans (`RecordScan`): a record's primary key, as
//! ids, after a tag naming its kind, so that a continuation of another kind is refused rather than
//! read as a key of this one.

use domain::records::{Record, RecordKind};
use domain::{Continuation, StorageError};
use uuid::Uuid;

/// One statement counting every kind's rows, in [`RecordKind::ALL`]'s order (SQLite and
/// PostgreSQL alike): a deleted project's rows went with it, so nothing needs leaving out.
pub const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM projects), \
     (SELECT COUNT(*) FROM members), (SELECT COUNT(*) FROM posts), (SELECT COUNT(*) FROM files)";

/// The counts [`COUNTS`] read, paired with their kinds.
pub fn counts(row: (i64, i64, i64, i64, i64)) -> Vec<(RecordKind, u64)> {
    let (users, projects, members, posts, files) = row;
    RecordKind::ALL
        .into_iter()
        .zip([users, projects, members, posts, files].map(|n| u64::try_from(n).unwrap_or(0)))
        .collect()
}

fn tag(kind: RecordKind) -> u8 {
    match kind {
        RecordKind::Users => b'u',
        RecordKind::Projects => b'p',
        RecordKind::Members => b'm',
        RecordKind::Posts => b's',
        RecordKind::Files => b'f',
    }
}

/// A record's primary key, as ids (a member's is its project's and its user's).
fn key(record: &Record) -> Vec<Uuid> {
    match record {
        Record::User(user) => vec![user.id.0],
        Record::Project(project) => vec![project.id.0],
        Record::Member(member) => vec![member.project_id.0, member.user_id.0],
        Record::Post(post) => vec![post.id.0],
        Record::File(file) => vec![file.id.0],
    }
}

/// Where a scan continues after `record`: its kind's tag, then the 16 bytes of each id of its key.
pub fn continuation(record: &Record) -> Continuation {
    let mut bytes = vec![tag(record.kind())];
    for id in key(record) {
        bytes.extend_from_slice(id.as_bytes());
    }
    Continuation(bytes)
}

/// The key of `columns` ids a continuation of `kind` holds; `BadContinuation` for anything else.
pub fn key_after(kind: RecordKind, after: &Continuation, columns: usize) -> Result<Vec<Uuid>, StorageError> {
    let Some((&first, ids)) = after.0.split_first() else { return Err(StorageError::BadContinuation) };
    if first != tag(kind) || ids.len() != 16 * columns {
        return Err(StorageError::BadContinuation);
    }
    ids.chunks(16).map(|id| Uuid::from_slice(id).map_err(|_| StorageError::BadContinuation)).collect()
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
