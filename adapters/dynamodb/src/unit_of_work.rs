//! The DynamoDB unit of work: reads go straight to the table (consistent), writes are buffered
//! with their conditions and sent at commit as one call. Repositories are implemented on it, one
//! file per feature.

use std::collections::HashMap;

use application::ports::{IdempotentAnswers, UnitOfWork, MAX_WRITES_PER_UNIT};
use application::ErrorChain;
use async_trait::async_trait;

use domain::ports::{MemberRepository, PostRepository, ProjectRepository, RefreshTokenRepository, UserRepository};
use domain::projects::{Project, ProjectId};
use domain::users::{User, UserId};
use domain::StorageError;

use crate::item::n;
use crate::keys::Key;
use crate::table::Table;
use crate::writes::{send, Failure, Write};

/// Counter changes of one project, sent as one `ADD` (or folded into the project's own Put).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub members: i64,
    pub posts: i64,
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
}

impl DynamoUnit {
    pub(crate) fn new(table: Table, writable: bool) -> Self {
        Self {
            table,
            writable,
            calls: 0,
            writes: Vec::new(),
            counts: HashMap::new(),
            deletions: Vec::new(),
            projects: HashMap::new(),
            users: HashMap::new(),
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
        Ok(())
    }

    pub(crate) fn delete_project_later(&mut self, project: ProjectId) {
        self.deletions.push(project);
    }

    /// The buffered writes with the counters applied: folded into the project's Put when the
    /// project is created in this unit (one transaction may not touch an item twice), else one
    /// conditional `ADD` that also proves the project still exists.
    fn finished_writes(mut self) -> Result<(Table, Vec<Write>, Vec<ProjectId>), StorageError> {
        let mut counts: Vec<_> = self.counts.drain().collect();
        counts.sort_by_key(|(id, _)| id.0);
        for (project, change) in counts {
            let key = Key::project(project);
            if let Some(item) = self.writes.iter_mut().filter(|w| w.key == key).find_map(Write::put_item_mut) {
                for (attribute, delta) in [("member_count", change.members), ("post_count", change.posts)] {
                    let current = item.get(attribute).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
                    item.insert(attribute.to_owned(), n(current.unwrap_or(0) + delta));
                }
            } else {
                self.writes.push(
                    Write::update(key, "ADD member_count :m, post_count :p")
                        .when("attribute_exists(pk) AND attribute_not_exists(#deleting)", Failure::ConditionFailed)
                        .name("#deleting", crate::keys::DELETING)
                        .value(":m", n(change.members))
                        .value(":p", n(change.posts)),
                );
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
        Ok((self.table, self.writes, self.deletions))
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

    fn idempotency(&mut self) -> &mut dyn IdempotentAnswers {
        self
    }

    fn files(&mut self) -> &mut dyn domain::ports::FileRepository {
        todo!("TEMP STUB")
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let (table, writes, deletions) = self.finished_writes()?;
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
