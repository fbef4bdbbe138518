//! The DynamoDB unit of work: reads go straight to the table (consistent), writes are buffered
//! with their conditions and sent at commit as one call. Repositories are implemented on it, one
//! file per feature.

use std::collections::HashMap;

use application::ports::{IdempotentAnswers, UnitOfWork, MAX_WRITES_PER_UNIT};
use application::ErrorChain;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use domain::ports::{
    FileRepository, MemberRepository, PostRepository, ProjectRepository, RefreshTokenRepository, UserRepository,
};
use domain::projects::{Project, ProjectId};
use domain::users::{User, UserId};
use domain::StorageError;
use tokio::sync::OwnedSemaphorePermit;

use crate::item::n;
use crate::keys::{Key, DELETING, FILE_BYTES};
use crate::table::Table;
use crate::writes::{send, Failure, Write};

/// Counter changes of one project, sent as one `ADD` (or folded into the project's own Put).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub members: i64,
    pub posts: i64,
    /// The change of the project's `file_bytes`.
    pub file_bytes: i64,
    /// The smallest quota an insert of this unit gave: the project's total after the change must
    /// be at most this.
    pub quota: Option<u64>,
}

impl Counts {
    /// Whether adding `bytes` to this unit's change keeps it within `quota` (and within every
    /// quota of the unit's earlier inserts). Decides the insert at once, and guarantees that the
    /// quota's condition at commit (`file_bytes <= quota - change`) never compares with a
    /// negative bound, which a project without files would pass.
    pub(crate) fn admits(&self, bytes: i64, quota: u64) -> bool {
        let quota = self.quota.map_or(quota, |earlier| earlier.min(quota));
        i128::from(self.file_bytes) + i128::from(bytes) <= i128::from(quota)
    }
}

pub struct DynamoUnit {
    pub(crate) table: Table,
    writable: bool,
    /// Repository write calls so far (the port's limit counts these).
    calls: usize,
    writes: Vec<Write>,
    counts: HashMap<ProjectId, Counts>,
    deletions: Vec<ProjectId>,
    /// Records read through this unit, for writes that need a stored value the port does not
    /// pass (a membership copy needs its project's creation time; a rename, the old name).
    pub(crate) projects: HashMap<ProjectId, Project>,
    pub(crate) users: HashMap<UserId, User>,
    /// Its place among the units open at once, given back when the unit is dropped.
    place: OwnedSemaphorePermit,
}

impl DynamoUnit {
    pub(crate) fn new(table: Table, writable: bool, place: OwnedSemaphorePermit) -> Self {
        Self {
            table,
            writable,
            calls: 0,
            writes: Vec::new(),
            counts: HashMap::new(),
            deletions: Vec::new(),
            projects: HashMap::new(),
            users: HashMap::new(),
            place,
        }
    }

    /// Accepts one repository write of one or more items.
    pub(crate) fn write(&mut self, writes: impl IntoIterator<Item = Write>) -> Result<(), StorageError> {
        self.accept_call()?;
        self.writes.extend(writes);
        Ok(())
    }

    /// Accepts one write that goes before every other of the unit: a stored idempotency answer,
    /// whose lost claim must be the failure reported even by a transaction that would stop at
    /// its first failed condition.
    pub(crate) fn write_first(&mut self, writes: impl IntoIterator<Item = Write>) -> Result<(), StorageError> {
        self.accept_call()?;
        self.writes.splice(0..0, writes);
        Ok(())
    }

    fn accept_call(&mut self) -> Result<(), StorageError> {
        if !self.writable {
            return Err(StorageError::backend("a write through a read-only unit of work"));
        }
        if self.calls == MAX_WRITES_PER_UNIT {
            return Err(StorageError::backend(format!("a unit of work holds at most {MAX_WRITES_PER_UNIT} writes")));
        }
        self.calls += 1;
        Ok(())
    }

    /// Whether a write buffered so far touches the item at `key`.
    pub(crate) fn writes_to(&self, key: &Key) -> bool {
        self.writes.iter().any(|w| w.key == *key)
    }

    pub(crate) fn count(&mut self, project: ProjectId, change: Counts) -> Result<(), StorageError> {
        if !self.writable {
            return Err(StorageError::backend("a write through a read-only unit of work"));
        }
        let counts = self.counts.entry(project).or_default();
        counts.members += change.members;
        counts.posts += change.posts;
        counts.file_bytes += change.file_bytes;
        counts.quota = match (counts.quota, change.quota) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(())
    }

    /// The counter changes buffered so far for `project`.
    pub(crate) fn counted(&self, project: ProjectId) -> Counts {
        self.counts.get(&project).copied().unwrap_or_default()
    }

    pub(crate) fn delete_project_later(&mut self, project: ProjectId) {
        self.deletions.push(project);
    }

    /// The buffered writes with the counters applied: folded into the project's Put when the
    /// project is created in this unit (one transaction may not touch an item twice), else one
    /// conditional `ADD` that also proves the project still exists — and, when files were added,
    /// that its total stays within the quota.
    fn finished_writes(mut self) -> Result<(Table, Vec<Write>, Vec<ProjectId>, OwnedSemaphorePermit), StorageError> {
        let mut counts: Vec<_> = self.counts.drain().collect();
        counts.sort_by_key(|(id, _)| id.0);
        for (project, change) in counts {
            let key = Key::project(project);
            let deltas =
                [("member_count", change.members), ("post_count", change.posts), (FILE_BYTES, change.file_bytes)];
            if let Some(item) = self.writes.iter_mut().filter(|w| w.key == key).find_map(Write::put_item_mut) {
                // A new project: `admits` kept its files within the quota already.
                for (attribute, delta) in deltas {
                    let current = item.get(attribute).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
                    if current.is_some() || delta != 0 {
                        item.insert(attribute.to_owned(), n(current.unwrap_or(0) + delta));
                    }
                }
            } else {
                let files = change.file_bytes != 0 || change.quota.is_some();
                let expression = match files {
                    true => "ADD member_count :m, post_count :p, #bytes :bytes",
                    false => "ADD member_count :m, post_count :p",
                };
                let mut write = Write::update(key, expression)
                    .name("#deleting", DELETING)
                    .value(":m", n(change.members))
                    .value(":p", n(change.posts));
                let mut condition = "attribute_exists(pk) AND attribute_not_exists(#deleting)".to_owned();
                let mut failure = Failure::ConditionFailed;
                if files {
                    write = write.name("#bytes", FILE_BYTES).value(":bytes", n(change.file_bytes));
                }
                if let Some(quota) = change.quota {
                    let max = i128::from(quota) - i128::from(change.file_bytes);
                    condition.push_str(" AND (attribute_not_exists(#bytes) OR #bytes <= :max)");
                    write = write.value(":max", AttributeValue::N(max.to_string()));
                    failure = Failure::ProjectQuota;
                }
                self.writes.push(write.when(condition, failure));
            }
        }
        if self.writes.len() > MAX_WRITES_PER_UNIT {
            return Err(StorageError::backend(format!(
                "{} item writes do not fit one transaction ({MAX_WRITES_PER_UNIT})",
                self.writes.len()
            )));
        }
        for (i, write) in self.writes.iter().enumerate() {
            if self.writes[..i].iter().any(|w| w.key == write.key) {
                return Err(StorageError::backend(format!("one unit of work writes {:?} twice", write.key)));
            }
        }
        Ok((self.table, self.writes, self.deletions, self.place))
    }
}

#[async_trait]
impl UnitOfWork for DynamoUnit {
    fn users(&mut self) -> &mut dyn UserRepository {
        self
    }

    fn refresh_tokens(&mut self) -> &mut dyn RefreshTokenRepository {
        self
    }

    fn projects(&mut self) -> &mut dyn ProjectRepository {
        self
    }

    fn members(&mut self) -> &mut dyn MemberRepository {
        self
    }

    fn posts(&mut self) -> &mut dyn PostRepository {
        self
    }

    fn files(&mut self) -> &mut dyn FileRepository {
        self
    }

    fn idempotency(&mut self) -> &mut dyn IdempotentAnswers {
        self
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        // The unit keeps its place (`place`) until its writes and cleanup calls are done.
        let (table, writes, deletions, _place) = self.finished_writes()?;
        send(&table, "commit", &writes).await?;
        // The deletions are decided (the projects read as gone from now on); removing their
        // items is cleanup that a later start resumes if this process stops half-way.
        for project in deletions.into_iter().filter(|_| table.finish_deletions) {
            if let Err(err) = crate::deletion::remove_items(&table, project).await {
                tracing::warn!(project = %project.0, error = %ErrorChain(&err), "project deletion left for the next start");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_units_uploads_stay_within_the_smallest_quota_it_was_given() {
        let none = Counts::default();
        assert!(none.admits(100, 100));
        assert!(!none.admits(101, 100));
        let one = Counts { file_bytes: 10, quota: Some(15), ..Counts::default() };
        assert!(one.admits(5, 100));
        assert!(!one.admits(6, 100), "the earlier, smaller quota holds");
        assert!(!one.admits(1, 10));
        let deleted = Counts { file_bytes: -50, ..Counts::default() };
        assert!(deleted.admits(60, 10), "bytes given back in the unit count");
        assert!(Counts::default().admits(i64::MAX, u64::MAX));
    }
}
