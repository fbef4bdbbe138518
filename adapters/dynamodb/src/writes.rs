//! Buffered writes: what a unit of work sends at commit, each with its condition and what a
//! failure of that condition means. One write goes as one PutItem/UpdateItem/DeleteItem; more
//! go as one TransactWriteItems with a ClientRequestToken (the SDK's retries reuse it, so a
//! retried commit is applied once). A cancelled transaction reports a reason per action, in
//! request order; the first failed condition names the domain error, unless an idempotency
//! claim was lost with it: that one wins.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use domain::{Conflict, StorageError};

use crate::capacity::{self, Consumed};
use crate::errors::{is_condition_failure, is_transient, sdk_error};
use crate::item::Item;
use crate::keys::{Key, DELETING};
use crate::table::Table;

/// What it means when a write's condition does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Conflict(Conflict),
    ConditionFailed,
    /// The idempotency claim whose answer this unit stores is no longer held by its holder.
    ClaimLost,
    /// A project's update that adds file bytes: `ConditionFailed` when the project is gone or its
    /// deletion has begun, else the quota was passed. The item the condition found decides (the
    /// write asks for it with `ReturnValuesOnConditionCheckFailure=ALL_OLD`).
    ProjectQuota,
}

impl Failure {
    /// The error, from the item the failed condition found when the failure needs it.
    fn error(self, found: Option<&Item>) -> StorageError {
        match self {
            Failure::Conflict(conflict) => StorageError::Conflict(conflict),
            Failure::ConditionFailed => StorageError::ConditionFailed,
            Failure::ClaimLost => StorageError::ClaimLost,
            Failure::ProjectQuota => match found {
                Some(project) if !project.contains_key(DELETING) => StorageError::Conflict(Conflict::QuotaExceeded),
                // No item: the project does not exist (a missing item has no old values).
                _ => StorageError::ConditionFailed,
            },
        }
    }

    fn needs_found_item(self) -> bool {
        self == Failure::ProjectQuota
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Put(Item),
    Update(String),
    Delete,
}

#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub key: Key,
    pub op: Op,
    condition: Option<(String, Failure)>,
    names: HashMap<String, String>,
    values: Item,
}

impl Write {
    /// Replaces (or creates) the whole item; `item` holds every attribute but the key.
    pub(crate) fn put(key: Key, mut item: Item) -> Self {
        item.extend(key.item());
        Self::new(key, Op::Put(item))
    }

    pub(crate) fn update(key: Key, expression: impl Into<String>) -> Self {
        Self::new(key, Op::Update(expression.into()))
    }

    pub(crate) fn delete(key: Key) -> Self {
        Self::new(key, Op::Delete)
    }

    fn new(key: Key, op: Op) -> Self {
        Self { key, op, condition: None, names: HashMap::new(), values: HashMap::new() }
    }

    /// The write happens only if `condition` holds; else the unit fails with `failure`.
    pub(crate) fn when(mut self, condition: impl Into<String>, failure: Failure) -> Self {
        self.condition = Some((condition.into(), failure));
        self
    }

    /// `#placeholder` stands for the attribute `name` (names like `version` or `role` are
    /// reserved words in expressions).
    pub(crate) fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }

    pub(crate) fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    pub(crate) fn put_item_mut(&mut self) -> Option<&mut Item> {
        match &mut self.op {
            Op::Put(item) => Some(item),
            _ => None,
        }
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<Item> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    fn condition(&self) -> Option<String> {
        self.condition.as_ref().map(|(c, _)| c.clone())
    }

    /// What the failed condition means, given the item it found (when the call returned one).
    fn failure(&self, found: Option<&Item>) -> StorageError {
        match self.condition {
            Some((_, failure)) => failure.error(found),
            None => StorageError::ConditionFailed,
        }
    }

    /// `ALL_OLD` when the meaning of a failed condition depends on the item it found.
    fn found_on_failure(&self) -> Option<ReturnValuesOnConditionCheckFailure> {
        self.condition
            .as_ref()
            .filter(|(_, failure)| failure.needs_found_item())
            .map(|_| ReturnValuesOnConditionCheckFailure::AllOld)
    }

    fn loses_a_claim(&self) -> bool {
        matches!(self.condition, Some((_, Failure::ClaimLost)))
    }

    fn transact_item(&self, table: &str) -> Result<TransactWriteItem, StorageError> {
        let built = |e| StorageError::backend_from("a transaction item", e);
        let item = TransactWriteItem::builder();
        let item = match &self.op {
            Op::Put(attributes) => item.put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(attributes.clone()))
                    .set_condition_expression(self.condition())
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.found_on_failure())
                    .build()
                    .map_err(built)?,
            ),
            Op::Update(expression) => item.update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(self.key.item()))
                    .update_expression(expression)
                    .set_condition_expression(self.condition())
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.found_on_failure())
                    .build()
                    .map_err(built)?,
            ),
            Op::Delete => item.delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(self.key.item()))
                    .set_condition_expression(self.condition())
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.found_on_failure())
                    .build()
                    .map_err(built)?,
            ),
        };
        Ok(item.build())
    }
}

/// Sends `writes` all or nothing, timed under `operation` (a unit of work's `commit`).
pub(crate) async fn send(table: &Table, operation: &'static str, writes: &[Write]) -> Result<(), StorageError> {
    match writes {
        [] => Ok(()),
        [write] => send_one(table, operation, write).await,
        _ => send_transaction(table, operation, writes).await,
    }
}

async fn send_one(table: &Table, operation: &'static str, write: &Write) -> Result<(), StorageError> {
    let (client, name) = (&table.client, &*table.name);
    let call = match write.op {
        Op::Put(_) => "PutItem",
        Op::Update(_) => "UpdateItem",
        Op::Delete => "DeleteItem",
    };
    storage_support::timed("dynamodb", operation, call, async {
        match &write.op {
            Op::Put(item) => settle(
                write,
                call,
                |e| match e {
                    PutItemError::ConditionalCheckFailedException(failed) => failed.item.clone(),
                    _ => None,
                },
                client
                    .put_item()
                    .table_name(name)
                    .set_item(Some(item.clone()))
                    .set_condition_expression(write.condition())
                    .set_expression_attribute_names(write.names())
                    .set_expression_attribute_values(write.values())
                    .set_return_values_on_condition_check_failure(write.found_on_failure())
                    .return_consumed_capacity(capacity::TOTAL)
                    .send()
                    .await,
            ),
            Op::Update(expression) => settle(
                write,
                call,
                |e| match e {
                    UpdateItemError::ConditionalCheckFailedException(failed) => failed.item.clone(),
                    _ => None,
                },
                client
                    .update_item()
                    .table_name(name)
                    .set_key(Some(write.key.item()))
                    .update_expression(expression)
                    .set_condition_expression(write.condition())
                    .set_expression_attribute_names(write.names())
                    .set_expression_attribute_values(write.values())
                    .set_return_values_on_condition_check_failure(write.found_on_failure())
                    .return_consumed_capacity(capacity::TOTAL)
                    .send()
                    .await,
            ),
            Op::Delete => settle(
                write,
                call,
                |e| match e {
                    DeleteItemError::ConditionalCheckFailedException(failed) => failed.item.clone(),
                    _ => None,
                },
                client
                    .delete_item()
                    .table_name(name)
                    .set_key(Some(write.key.item()))
                    .set_condition_expression(write.condition())
                    .set_expression_attribute_names(write.names())
                    .set_expression_attribute_values(write.values())
                    .set_return_values_on_condition_check_failure(write.found_on_failure())
                    .return_consumed_capacity(capacity::TOTAL)
                    .send()
                    .await,
            ),
        }
    })
    .await
}

/// A single write's outcome: a failed condition means what the write says it means, given the
/// item it found (`found` takes it out of the call's error).
fn settle<O, E, R>(
    write: &Write,
    call: &str,
    found: impl FnOnce(&E) -> Option<Item>,
    result: Result<O, SdkError<E, R>>,
) -> Result<(), StorageError>
where
    O: Consumed,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => {
            capacity::record("write", &output);
            Ok(())
        }
        Err(e) if is_condition_failure(&e) => Err(write.failure(e.as_service_error().and_then(found).as_ref())),
        Err(e) => Err(sdk_error(call, e)),
    }
}

async fn send_transaction(table: &Table, operation: &'static str, writes: &[Write]) -> Result<(), StorageError> {
    let items = writes.iter().map(|w| w.transact_item(&table.name)).collect::<Result<Vec<_>, _>>()?;
    let token = uuid::Uuid::now_v7().to_string();
    let sent = table
        .client
        .transact_write_items()
        .set_transact_items(Some(items))
        .client_request_token(token)
        .return_consumed_capacity(capacity::TOTAL)
        .send();
    storage_support::timed("dynamodb", operation, "TransactWriteItems", async {
        let err = match sent.await {
            Ok(output) => {
                capacity::record("write", &output);
                return Ok(());
            }
            Err(err) => err,
        };
        // Each action's reason code, and the item its failed condition found when it asked.
        let reasons: Vec<(String, Option<Item>)> = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| (r.code().unwrap_or("None").to_owned(), r.item().cloned()))
                .collect(),
            _ => Vec::new(),
        };
        if reasons.is_empty() {
            return Err(sdk_error("TransactWriteItems", err));
        }
        let failed: Vec<(&Write, Option<&Item>)> = writes
            .iter()
            .zip(&reasons)
            .filter(|(_, (code, _))| code == "ConditionalCheckFailed")
            .map(|(w, (_, found))| (w, found.as_ref()))
            .collect();
        // A lost claim wins: the caller must learn that another request answers for its key, not
        // take a condition that failed beside it for its own (a refresh would call it reuse).
        if let Some((write, found)) = failed.iter().find(|(w, _)| w.loses_a_claim()).or(failed.first()) {
            return Err(write.failure(*found));
        }
        let codes: Vec<&str> = reasons.iter().map(|(code, _)| code.as_str()).collect();
        let context = format!("TransactWriteItems cancelled: {codes:?}");
        if codes.iter().any(|code| is_transient(code)) {
            Err(StorageError::unavailable_from(context, err))
        } else {
            Err(StorageError::backend_from(context, err))
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{n, s};

    #[test]
    fn a_refused_upload_is_a_full_project_only_when_the_project_was_found_live() {
        let project = Item::from([("pk".to_owned(), s("PROJECT#1")), ("file_bytes".to_owned(), n(90))]);
        let mut deleting = project.clone();
        deleting.insert(DELETING.to_owned(), n(1));
        let error = |found: Option<&Item>| Failure::ProjectQuota.error(found);
        assert!(matches!(error(Some(&project)), StorageError::Conflict(Conflict::QuotaExceeded)));
        assert!(matches!(error(Some(&deleting)), StorageError::ConditionFailed));
        assert!(matches!(error(None), StorageError::ConditionFailed));
        let write = Write::update(Key::project(domain::projects::ProjectId(uuid::Uuid::nil())), "ADD x :x")
            .when("c", Failure::ProjectQuota);
        assert_eq!(write.found_on_failure(), Some(ReturnValuesOnConditionCheckFailure::AllOld));
        assert_eq!(write.when("c", Failure::ConditionFailed).found_on_failure(), None);
    }
}
