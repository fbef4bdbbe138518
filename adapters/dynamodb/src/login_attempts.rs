//! `LoginAttempts` on DynamoDB: one item per key, `LOGIN#<key>`, counted by a conditional
//! `UpdateItem` of its own — outside any unit of work, since a counted attempt stays counted
//! whatever its request does next.
//!
//! Counting is one call while the key is new or its window open (`ADD` is atomic, so N concurrent
//! calls answer N distinct counts). Only when the window has ended does a second call restart it,
//! conditioned on it still being ended: of two requests restarting one window, one wins and the
//! other counts again in the window the winner started. The item carries the table's TTL
//! attribute, so DynamoDB removes ended windows by itself; reads still compare times.

use application::ports::LoginAttempts;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use domain::login_attempts::{AttemptKey, Reservation};
use domain::StorageError;
use time::{Duration, OffsetDateTime};

use crate::capacity;
use crate::errors::{is_condition_failure, sdk_error};
use crate::item::{millis, n, Fields, Item};
use crate::keys::{Key, EXPIRES, PK};
use crate::storage::DynamoStorage;
use crate::table::Table;

const FAILURES: &str = "failures";
const WINDOW_START: &str = "window_start";
const WINDOW_ENDS: &str = "window_ends";

/// Rounds of count-then-restart before answering 503. A round is lost only when another request
/// restarted the window between our two calls, after which the next count succeeds.
const ROUNDS: usize = 3;

/// Adds the attempt to an open window, or starts the first one of a new key.
const COUNT: &str = "SET #start = if_not_exists(#start, :now), #ends = if_not_exists(#ends, :ends), \
                     #ttl = if_not_exists(#ttl, :ttl) ADD #failures :one";
const COUNT_WHEN: &str = "attribute_not_exists(#pk) OR #ends > :now";
/// Starts a new window holding this attempt, in place of one that ended.
const RESTART: &str = "SET #failures = :one, #start = :now, #ends = :ends, #ttl = :ttl";
const RESTART_WHEN: &str = "#ends <= :now";

#[async_trait]
impl LoginAttempts for DynamoStorage {
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<Reservation, StorageError> {
        let table = self.open()?;
        let key = Key::login_attempts(key);
        let ends = now + window;
        for _ in 0..ROUNDS {
            if let Some(item) = update(table, &key, COUNT, COUNT_WHEN, now, ends).await? {
                return reservation(&item);
            }
            if let Some(item) = update(table, &key, RESTART, RESTART_WHEN, now, ends).await? {
                return reservation(&item);
            }
        }
        Err(StorageError::unavailable(format!("login attempts: the window of {} kept changing", key.pk)))
    }

    async fn clear(&self, key: &AttemptKey) -> Result<(), StorageError> {
        let table = self.open()?;
        let output = storage_support::timed("dynamodb", "login_attempts.clear", "DeleteItem", async {
            table
                .client
                .delete_item()
                .table_name(&*table.name)
                .set_key(Some(Key::login_attempts(key).item()))
                .return_consumed_capacity(capacity::TOTAL)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteItem", e))
        })
        .await?;
        capacity::record("write", &output);
        Ok(())
    }

    /// DynamoDB's TTL removes ended windows (`expires_at_s`), lazily but without a Scan of the
    /// whole table, which is what finding them here would take: nothing to do.
    async fn sweep(&self, _before: OffsetDateTime) -> Result<u64, StorageError> {
        self.open()?;
        Ok(0)
    }
}

/// One conditional update returning the item as it now is, or `None` when its condition failed.
async fn update(
    table: &Table,
    key: &Key,
    expression: &str,
    condition: &str,
    now: OffsetDateTime,
    ends: OffsetDateTime,
) -> Result<Option<Item>, StorageError> {
    let mut request = table
        .client
        .update_item()
        .table_name(&*table.name)
        .set_key(Some(key.item()))
        .update_expression(expression)
        .condition_expression(condition)
        .expression_attribute_names("#failures", FAILURES)
        .expression_attribute_names("#start", WINDOW_START)
        .expression_attribute_names("#ends", WINDOW_ENDS)
        .expression_attribute_names("#ttl", EXPIRES)
        .expression_attribute_values(":now", n(millis(now)))
        .expression_attribute_values(":ends", n(millis(ends)))
        // Whole seconds, rounded up: TTL must not remove a window before it ends.
        .expression_attribute_values(":ttl", n((millis(ends) + 999).div_euclid(1000)))
        .expression_attribute_values(":one", n(1))
        .return_values(ReturnValue::AllNew)
        .return_consumed_capacity(capacity::TOTAL);
    if condition.contains("#pk") {
        request = request.expression_attribute_names("#pk", PK);
    }
    let sent = storage_support::timed("dynamodb", "login_attempts.reserve", "UpdateItem", async {
        match request.send().await {
            Ok(output) => Ok(output),
            Err(e) if is_condition_failure(&e) => Err(StorageError::ConditionFailed),
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    })
    .await;
    match sent {
        Ok(output) => {
            capacity::record("write", &output);
            output.attributes.map(Some).ok_or_else(|| StorageError::backend("UpdateItem returned no item"))
        }
        Err(StorageError::ConditionFailed) => Ok(None),
        Err(e) => Err(e),
    }
}

fn reservation(item: &Item) -> Result<Reservation, StorageError> {
    let f = Fields::of(item, "login attempts");
    // `ADD` knows no cap: the count is capped as it is read (a Number holds 38 digits, so the
    // stored one cannot overflow first).
    let failures = f.int(FAILURES)?.clamp(1, i64::from(Reservation::MAX_FAILURES));
    Ok(Reservation {
        failures: u32::try_from(failures).unwrap_or(Reservation::MAX_FAILURES),
        window_ends: f.time(WINDOW_ENDS)?,
    })
}
