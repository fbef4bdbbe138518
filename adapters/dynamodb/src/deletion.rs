//! Removing a deleted project's items. The deletion itself is decided in one transaction that
//! marks the project (every read treats a marked project as gone: it is not listed, it has no
//! members, its posts and files are hidden) and records it under `DELETIONS`. Its members, their
//! copies, its posts and files and their pointers — any number, more than one transaction could
//! hold — are then deleted in batches, and the project item and the record last. A process that
//! stops half-way leaves the record; the next `migrate` (every start) finishes the job.

use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use domain::projects::ProjectId;
use domain::users::UserId;
use domain::StorageError;

use crate::capacity;
use crate::errors::sdk_error;
use crate::item::{Fields, Item};
use crate::keys::{project_partition, Key, DELETING, DELETIONS, FILE_PREFIX, MEMBER_PREFIX, PK, POST_PREFIX};
use crate::table::{QuerySpec, Table};
use crate::writes::{send, Failure, Write};

/// The operation the calls of this file are timed under: removing a project's items is the rest
/// of `projects.delete`, which SQL does in its one statement (its rows cascade).
const DELETE: &str = "projects.delete";
/// Reading the deletions a stopped process left is part of `migrate`.
const MIGRATE: &str = "migrate";

/// BatchWriteItem takes at most 25 requests.
const BATCH_WRITE_MAX: usize = 25;
const UNPROCESSED_ROUNDS: u32 = 8;

/// Finishes every deletion a stopped process left behind.
pub(crate) async fn resume(table: &Table) -> Result<(), StorageError> {
    let mut start = None;
    loop {
        let (records, next) = table
            .query(
                MIGRATE,
                QuerySpec {
                    index: None,
                    partition: (PK, DELETIONS.to_owned()),
                    prefix: None,
                    forward: true,
                    start,
                    limit: 100,
                    keys_only: false,
                },
            )
            .await?;
        for record in &records {
            let project = ProjectId(Fields::of(record, "deletion").uuid("project_id")?);
            tracing::info!(project = %project.0, "finishing a project deletion");
            remove_items(table, project).await?;
        }
        match next {
            Some(next) => start = Some(next),
            None => return Ok(()),
        }
    }
}

/// Deletes the items of a project marked deleted, then the project and its record.
pub(crate) async fn remove_items(table: &Table, project: ProjectId) -> Result<(), StorageError> {
    loop {
        let (items, next) = table
            .query(
                DELETE,
                QuerySpec {
                    index: None,
                    partition: (PK, project_partition(project)),
                    prefix: None,
                    forward: true,
                    start: None,
                    limit: 200,
                    keys_only: false,
                },
            )
            .await?;
        let mut doomed = Vec::with_capacity(items.len() * 2);
        for item in &items {
            doomed.extend(companions(item)?);
        }
        batch_delete(table, doomed).await?;
        if next.is_none() {
            break;
        }
    }
    // Only a marked project is removed: the condition keeps a bug from deleting a live one.
    let project_key = Key::project(project);
    send(
        table,
        DELETE,
        &[
            Write::delete(project_key)
                .when("attribute_exists(#deleting)", Failure::ConditionFailed)
                .name("#deleting", DELETING),
            Write::delete(Key::deletion(project)),
        ],
    )
    .await
}

/// The keys to delete for one item of the project's partition: a member with its copy in the
/// member's partition, a post or a file with its pointer. The project item itself goes last.
fn companions(item: &Item) -> Result<Vec<Key>, StorageError> {
    let Some(key) = Key::of(item) else { return Ok(Vec::new()) };
    let f = Fields::of(item, "project child");
    if key.sk.starts_with(MEMBER_PREFIX) {
        let user = UserId(f.uuid("user_id")?);
        let project = ProjectId(f.uuid("project_id")?);
        Ok(vec![Key::membership(user, project), key])
    } else if key.sk.starts_with(POST_PREFIX) {
        Ok(vec![Key::post_pointer(domain::posts::PostId(f.uuid("id")?)), key])
    } else if key.sk.starts_with(FILE_PREFIX) {
        Ok(vec![Key::file_pointer(domain::files::FileId(f.uuid("id")?)), key])
    } else {
        Ok(Vec::new())
    }
}

async fn batch_delete(table: &Table, keys: Vec<Key>) -> Result<(), StorageError> {
    for chunk in keys.chunks(BATCH_WRITE_MAX) {
        let mut requests = chunk
            .iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key.item()))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                    .map_err(|e| StorageError::backend_from("a BatchWriteItem request", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut round = 0;
        while !requests.is_empty() {
            if round == UNPROCESSED_ROUNDS {
                return Err(StorageError::unavailable("BatchWriteItem: requests left unprocessed"));
            }
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(25 << round)).await;
            }
            round += 1;
            let output = storage_support::timed("dynamodb", DELETE, "BatchWriteItem", async {
                table
                    .client
                    .batch_write_item()
                    .request_items(&*table.name, requests)
                    .return_consumed_capacity(capacity::TOTAL)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchWriteItem", e))
            })
            .await?;
            capacity::record("write", &output);
            requests = output.unprocessed_items.and_then(|mut u| u.remove(&*table.name)).unwrap_or_default();
        }
    }
    Ok(())
}
