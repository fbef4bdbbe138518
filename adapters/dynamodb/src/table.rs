//! The one table, as the repositories use it: consistent reads, batched reads with their
//! unprocessed keys retried, queries, and the Scan a copy reads (`export.rs`). Every call is
//! timed under the port operation it serves (`users.get`, …, the same names as on SQL) and its
//! DynamoDB call (`GetItem`, …).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use domain::StorageError;

use crate::capacity;
use crate::errors::sdk_error;
use crate::item::{s, Item};
use crate::keys::{Key, PK, SK};

/// BatchGetItem reads at most this many keys per call.
const BATCH_GET_MAX: usize = 100;
/// Rounds spent on keys DynamoDB left unprocessed (throttling) before answering 503.
const UNPROCESSED_ROUNDS: u32 = 5;

#[derive(Clone)]
pub(crate) struct Table {
    pub client: Client,
    pub name: Arc<str>,
    /// Whether a commit that deletes a project removes its items at once (else `migrate` does).
    pub finish_deletions: bool,
}

/// One Query: a partition of the table or of an index, in one direction.
#[derive(Clone)]
pub(crate) struct QuerySpec<'a> {
    pub index: Option<&'a str>,
    /// The partition-key attribute of the table or index, and its value.
    pub partition: (&'a str, String),
    /// `begins_with` on the sort key of the table or index.
    pub prefix: Option<(&'a str, String)>,
    pub forward: bool,
    pub start: Option<Item>,
    pub limit: i32,
    /// Read only the table's key attributes (`pk`, `sk`) of each item.
    pub keys_only: bool,
}

/// One Scan call over the whole table, from `start` on: filtered items, or only keys. Built by
/// its two constructors only, so that `#pk` and `#sk` are always used by some expression
/// (DynamoDB refuses an attribute name no expression uses).
pub(crate) struct ScanSpec<'a> {
    /// A `FilterExpression` over the key attributes, named `#pk` and `#sk`, and its values
    /// (`:name`, string).
    filter: Option<(&'a str, Vec<(&'a str, &'a str)>)>,
    start: Option<Item>,
    /// Items examined, not items returned: DynamoDB filters after it reads. None: as many as
    /// one call reads (1 MB).
    limit: Option<i32>,
    /// Only the keys (`pk`, `sk`) of each item, eventually consistent: counting, where an
    /// estimate does (half the read capacity of a consistent read of the whole item).
    keys_only: bool,
}

impl<'a> ScanSpec<'a> {
    /// The items `filter` (with its `values`) selects among the next `limit` examined, read
    /// consistently.
    pub fn filtered(filter: &'a str, values: Vec<(&'a str, &'a str)>, start: Option<Item>, limit: i32) -> Self {
        Self { filter: Some((filter, values)), start, limit: Some(limit), keys_only: false }
    }

    /// The keys of every item from `start` on.
    pub fn keys(start: Option<Item>) -> Self {
        Self { filter: None, start, limit: None, keys_only: true }
    }
}

impl Table {
    pub(crate) async fn get(&self, operation: &'static str, key: &Key) -> Result<Option<Item>, StorageError> {
        let output = storage_support::timed("dynamodb", operation, "GetItem", async {
            self.client
                .get_item()
                .table_name(&*self.name)
                .set_key(Some(key.item()))
                .consistent_read(true)
                .return_consumed_capacity(capacity::TOTAL)
                .send()
                .await
                .map_err(|e| sdk_error("GetItem", e))
        })
        .await?;
        capacity::record("read", &output);
        Ok(output.item)
    }

    /// Reads every key (consistently, in as few calls as the 100-key limit allows) and returns
    /// the items found by key; absent items are simply missing from the map.
    pub(crate) async fn batch_get(
        &self,
        operation: &'static str,
        keys: &[Key],
    ) -> Result<HashMap<Key, Item>, StorageError> {
        let mut unique: Vec<&Key> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        let mut found = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_MAX) {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for key in chunk {
                request = request.keys(key.item());
            }
            let mut pending =
                Some(request.build().map_err(|e| StorageError::backend_from("a BatchGetItem request", e))?);
            let mut round = 0;
            while let Some(request) = pending.take() {
                if round == UNPROCESSED_ROUNDS {
                    return Err(StorageError::unavailable("BatchGetItem: keys left unprocessed (throttled)"));
                }
                if round > 0 {
                    tokio::time::sleep(Duration::from_millis(20 << round)).await;
                }
                round += 1;
                let output = storage_support::timed("dynamodb", operation, "BatchGetItem", async {
                    self.client
                        .batch_get_item()
                        .request_items(&*self.name, request)
                        .return_consumed_capacity(capacity::TOTAL)
                        .send()
                        .await
                        .map_err(|e| sdk_error("BatchGetItem", e))
                })
                .await?;
                capacity::record("read", &output);
                for item in output.responses.and_then(|mut r| r.remove(&*self.name)).unwrap_or_default() {
                    if let Some(key) = Key::of(&item) {
                        found.insert(key, item);
                    }
                }
                pending =
                    output.unprocessed_keys.and_then(|mut u| u.remove(&*self.name)).filter(|k| !k.keys.is_empty());
            }
        }
        Ok(found)
    }

    /// Up to `spec.limit` items of a query, in order. One Query returns at most 1 MB (about two
    /// posts of the largest size), so it continues until it has them all or the range ends.
    pub(crate) async fn query_up_to(
        &self,
        operation: &'static str,
        mut spec: QuerySpec<'_>,
    ) -> Result<Vec<Item>, StorageError> {
        let wanted = usize::try_from(spec.limit).unwrap_or(0);
        let mut items = Vec::with_capacity(wanted);
        loop {
            let (mut page, next) = self.query(operation, spec.clone()).await?;
            items.append(&mut page);
            match next {
                Some(next) if items.len() < wanted => {
                    spec.start = Some(next);
                    spec.limit = (wanted - items.len()) as i32;
                }
                _ => return Ok(items),
            }
        }
    }

    /// One page of a query: the items in order and the key to continue from, if any.
    pub(crate) async fn query(
        &self,
        operation: &'static str,
        spec: QuerySpec<'_>,
    ) -> Result<(Vec<Item>, Option<Item>), StorageError> {
        let mut values = HashMap::from([(":p".to_owned(), s(spec.partition.1))]);
        let mut names = HashMap::from([("#p".to_owned(), spec.partition.0.to_owned())]);
        let mut condition = "#p = :p".to_owned();
        if let Some((attribute, prefix)) = spec.prefix {
            names.insert("#s".into(), attribute.to_owned());
            values.insert(":s".into(), AttributeValue::S(prefix));
            condition.push_str(" AND begins_with(#s, :s)");
        }
        // Reads of a global index cannot be consistent; everything else is.
        let consistent = spec.index.is_none_or(|index| index != crate::keys::BY_CREATOR);
        let output = storage_support::timed("dynamodb", operation, "Query", async {
            self.client
                .query()
                .table_name(&*self.name)
                .set_index_name(spec.index.map(str::to_owned))
                .key_condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .scan_index_forward(spec.forward)
                .set_exclusive_start_key(spec.start)
                .limit(spec.limit)
                .consistent_read(consistent)
                .set_projection_expression(spec.keys_only.then(|| format!("{PK}, {SK}")))
                .return_consumed_capacity(capacity::TOTAL)
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))
        })
        .await?;
        capacity::record("read", &output);
        let next = output.last_evaluated_key.filter(|k| k.contains_key(PK));
        Ok((output.items.unwrap_or_default(), next))
    }

    /// One Scan call: the items it selected, in the table's hash order, and the key to continue
    /// from, if the table goes on. Consistent unless it reads only keys.
    pub(crate) async fn scan(
        &self,
        operation: &'static str,
        spec: ScanSpec<'_>,
    ) -> Result<(Vec<Item>, Option<Item>), StorageError> {
        let names = HashMap::from([("#pk".to_owned(), PK.to_owned()), ("#sk".to_owned(), SK.to_owned())]);
        let (filter, values): (Option<String>, Option<HashMap<_, _>>) = spec
            .filter
            .map(|(filter, values)| {
                (filter.to_owned(), values.into_iter().map(|(n, v)| (n.to_owned(), s(v))).collect())
            })
            .unzip();
        let output = storage_support::timed("dynamodb", operation, "Scan", async {
            self.client
                .scan()
                .table_name(&*self.name)
                .set_filter_expression(filter)
                .set_projection_expression(spec.keys_only.then(|| "#pk, #sk".to_owned()))
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(values)
                .set_exclusive_start_key(spec.start)
                .set_limit(spec.limit)
                .consistent_read(!spec.keys_only)
                .return_consumed_capacity(capacity::TOTAL)
                .send()
                .await
                .map_err(|e| sdk_error("Scan", e))
        })
        .await?;
        capacity::record("read", &output);
        let next = output.last_evaluated_key.filter(|k| k.contains_key(PK));
        Ok((output.items.unwrap_or_default(), next))
    }
}
