//! `RecordScan` on DynamoDB: every record of one kind, read by a consistent Scan of the table
//! whose filter selects that kind's items by their key shapes (`keys.rs`), never the copies and
//! pointers that lead to them. A Scan walks the table in hash order, so an item written during a
//! walk lands before or after its position: a record stored throughout is met exactly once.
//!
//! A Scan call's `Limit` counts the items it examines, not those it selects: a page keeps
//! scanning until it holds `limit + 1` records (the extra one says whether a next page exists)
//! or the table ends, and its continuation is the key of the last record it hands out — never
//! the `LastEvaluatedKey` of a call cut mid-way, which would skip the records after it.
//!
//! What belongs to a project whose deletion has begun (or ended, between the Scan and the check)
//! is left out, as every other read does: a page reads the projects of its members, posts and
//! files in one BatchGetItem per Scan call.

use std::collections::HashMap;

use application::ports::RecordScan;
use async_trait::async_trait;
use domain::projects::ProjectId;
use domain::records::{Record, RecordKind, RecordPage};
use domain::{Continuation, StorageError};

use crate::cursor::Position;
use crate::files::file_from_item;
use crate::item::Item;
use crate::keys::{
    Key, DELETING, FILE_PREFIX, MEMBER_PREFIX, PK, POST_PREFIX, PROJECT_ITEM, PROJECT_PARTITION_PREFIX, SK, USER_ITEM,
    USER_PARTITION_PREFIX,
};
use crate::members::member_from_item;
use crate::posts::post_from_item;
use crate::projects::project_from_item;
use crate::storage::DynamoStorage;
use crate::table::ScanSpec;
use crate::users::user_from_item;

const OPERATION: &str = "records.scan";
const COUNTING: &str = "records.count";

/// A record's position: the table key of its item, the only key a table Scan continues from.
const RECORD_POSITION: Position<'static> = Position { names: &[PK, SK] };

/// Items one Scan call examines at most. A page starts with as many as it wants records and
/// doubles them while the kind is sparser than that, up to DynamoDB's own 1 MB per call.
const EXAMINED_MAX: usize = 10_000;

/// Which items of the table hold records of one kind.
struct Selection {
    kind: RecordKind,
    partition_prefix: &'static str,
    sort: SortKey,
}

enum SortKey {
    Is(&'static str),
    Prefix(&'static str),
}

impl Selection {
    fn of(kind: RecordKind) -> Self {
        let (partition_prefix, sort) = match kind {
            RecordKind::Users => (USER_PARTITION_PREFIX, SortKey::Is(USER_ITEM)),
            RecordKind::Projects => (PROJECT_PARTITION_PREFIX, SortKey::Is(PROJECT_ITEM)),
            // In the project's partition: membership copies (`USER#…`/`PROJECT#…`) and the
            // pointers (`POST#<id>`/`POST`, `FILE#<id>`/`FILE`) live in partitions of their own.
            RecordKind::Members => (PROJECT_PARTITION_PREFIX, SortKey::Prefix(MEMBER_PREFIX)),
            RecordKind::Posts => (PROJECT_PARTITION_PREFIX, SortKey::Prefix(POST_PREFIX)),
            RecordKind::Files => (PROJECT_PARTITION_PREFIX, SortKey::Prefix(FILE_PREFIX)),
        };
        Self { kind, partition_prefix, sort }
    }

    fn scan(&self, start: Option<Item>, limit: usize) -> ScanSpec<'static> {
        let (filter, sort) = match self.sort {
            SortKey::Is(sk) => ("begins_with(#pk, :pk) AND #sk = :sk", sk),
            SortKey::Prefix(prefix) => ("begins_with(#pk, :pk) AND begins_with(#sk, :sk)", prefix),
        };
        ScanSpec::filtered(
            filter,
            vec![(":pk", self.partition_prefix), (":sk", sort)],
            start,
            i32::try_from(limit).unwrap_or(i32::MAX),
        )
    }

    fn selects(&self, pk: &str, sk: &str) -> bool {
        pk.starts_with(self.partition_prefix)
            && match self.sort {
                SortKey::Is(expected) => sk == expected,
                SortKey::Prefix(prefix) => sk.starts_with(prefix),
            }
    }

    /// The continuation after `item`, tagged with the kind so that no other kind's walk takes it.
    fn after(&self, item: &Item) -> Continuation {
        let mut bytes = self.tag();
        bytes.extend(RECORD_POSITION.after(item).0);
        Continuation(bytes)
    }

    /// The `ExclusiveStartKey` of a continuation this kind's walk handed out.
    fn start_key(&self, continuation: &Continuation) -> Result<Item, StorageError> {
        let position = continuation.0.strip_prefix(self.tag().as_slice()).ok_or(StorageError::BadContinuation)?;
        let key = RECORD_POSITION.start_key(&Continuation(position.to_vec()), |_, _| true)?;
        match Key::of(&key) {
            Some(Key { pk, sk }) if self.selects(&pk, &sk) => Ok(key),
            _ => Err(StorageError::BadContinuation),
        }
    }

    fn tag(&self) -> Vec<u8> {
        format!("scan:{}:", self.kind.as_str()).into_bytes()
    }

    /// The record an item holds; `None` for a project whose deletion has begun.
    fn record(&self, item: &Item) -> Result<Option<Record>, StorageError> {
        Ok(Some(match self.kind {
            RecordKind::Users => Record::User(user_from_item(item)?),
            RecordKind::Projects => match project_from_item(item)? {
                Some((project, _, _)) => Record::Project(project),
                None => return Ok(None),
            },
            RecordKind::Members => Record::Member(member_from_item(item)?),
            RecordKind::Posts => Record::Post(post_from_item(item)?),
            RecordKind::Files => Record::File(file_from_item(item)?),
        }))
    }
}

/// The project a record belongs to, if it lives in a project's partition.
fn project_of(record: &Record) -> Option<ProjectId> {
    match record {
        Record::User(_) | Record::Project(_) => None,
        Record::Member(member) => Some(member.project_id),
        Record::Post(post) => Some(post.project_id),
        Record::File(file) => Some(file.project_id),
    }
}

#[async_trait]
impl RecordScan for DynamoStorage {
    async fn scan(
        &self,
        kind: RecordKind,
        after: Option<Continuation>,
        limit: u32,
    ) -> Result<RecordPage, StorageError> {
        let table = self.open()?;
        let selection = Selection::of(kind);
        let mut start = after.as_ref().map(|after| selection.start_key(after)).transpose()?;
        // The port takes a limit of 0 as 1: a page that may hold nothing would never move on.
        let limit = limit.max(1);
        let wanted = limit as usize + 1;
        let mut examined = wanted.min(EXAMINED_MAX);
        let mut gathered: Vec<(Item, Record)> = Vec::with_capacity(examined);
        // Whether each project met in this page is live, read once per page.
        let mut live: HashMap<ProjectId, bool> = HashMap::new();
        loop {
            let (items, next) = table.scan(OPERATION, selection.scan(start.take(), examined)).await?;
            let mut candidates = Vec::with_capacity(items.len());
            for item in items {
                if let Some(record) = selection.record(&item)? {
                    candidates.push((item, record));
                }
            }
            let mut unknown: Vec<ProjectId> = candidates
                .iter()
                .filter_map(|(_, record)| project_of(record))
                .filter(|project| !live.contains_key(project))
                .collect();
            unknown.sort_unstable();
            unknown.dedup();
            if !unknown.is_empty() {
                let keys: Vec<Key> = unknown.iter().copied().map(Key::project).collect();
                let found = table.batch_get(OPERATION, &keys).await?;
                for (project, key) in unknown.into_iter().zip(&keys) {
                    // Absent: its deletion ended after the Scan read its items.
                    live.insert(project, found.get(key).is_some_and(|item| !item.contains_key(DELETING)));
                }
            }
            for (item, record) in candidates {
                if gathered.len() == wanted {
                    break;
                }
                if project_of(&record).is_none_or(|project| live.get(&project).copied().unwrap_or(false)) {
                    gathered.push((item, record));
                }
            }
            match next {
                Some(next) if gathered.len() < wanted => {
                    start = Some(next);
                    examined = (examined * 2).min(EXAMINED_MAX);
                }
                _ => break,
            }
        }
        let next = if gathered.len() > limit as usize {
            gathered.truncate(limit as usize);
            gathered.last().map(|(item, _)| selection.after(item))
        } else {
            None
        };
        Ok(RecordPage { records: gathered.into_iter().map(|(_, record)| record).collect(), next })
    }

    /// One Scan of every item's key (DynamoDB stops each call at 1 MB), each sorted by shape.
    async fn counts(&self) -> Result<Vec<(RecordKind, u64)>, StorageError> {
        let table = self.open()?;
        let selections = RecordKind::ALL.map(Selection::of);
        let mut counts = [0u64; RecordKind::ALL.len()];
        let mut start = None;
        loop {
            let (items, next) = table.scan(COUNTING, ScanSpec::keys(start)).await?;
            for key in items.iter().filter_map(Key::of) {
                if let Some(kind) = selections.iter().position(|s| s.selects(&key.pk, &key.sk)) {
                    counts[kind] += 1;
                }
            }
            match next {
                Some(next) => start = Some(next),
                None => return Ok(RecordKind::ALL.into_iter().zip(counts).collect()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::s;

    fn item(pk: &str, sk: &str) -> Item {
        Item::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
    }

    #[test]
    fn a_continuation_serves_only_the_kind_that_made_it() {
        let posts = Selection::of(RecordKind::Posts);
        let post = item("PROJECT#0190a000-0000-7000-8000-000000000001", "POST#hello");
        let after = posts.after(&post);
        assert_eq!(posts.start_key(&after).unwrap(), post);
        for kind in [RecordKind::Users, RecordKind::Projects, RecordKind::Members, RecordKind::Files] {
            assert!(matches!(Selection::of(kind).start_key(&after), Err(StorageError::BadContinuation)), "{kind:?}");
        }
    }

    #[test]
    fn a_continuation_naming_an_item_of_another_shape_is_refused() {
        let posts = Selection::of(RecordKind::Posts);
        // A post pointer, tagged as a post: signed or not, it is no position of this walk.
        let mut bytes = b"scan:posts:".to_vec();
        bytes.extend(RECORD_POSITION.after(&item("POST#0190a000-0000-7000-8000-000000000001", "POST")).0);
        assert!(matches!(posts.start_key(&Continuation(bytes)), Err(StorageError::BadContinuation)));
        let users = Selection::of(RecordKind::Users);
        let mut bytes = b"scan:users:".to_vec();
        bytes.extend(RECORD_POSITION.after(&item("USERNAMES", "ada")).0);
        assert!(matches!(users.start_key(&Continuation(bytes)), Err(StorageError::BadContinuation)));
    }
}
