//! `IdempotencyRecords` and `IdempotentAnswers` on DynamoDB. A record is a head item
//! `IDEM#<record>`/`IDEM` (fingerprint, holder, lease, expiry, the TTL attribute and, once
//! completed, the answer or the number of chunk items holding it), plus for a large answer chunk
//! items `CHUNK#000`, … in the same partition. Layout and costs: README.md, "Idempotency records".
//!
//! A claim is one conditional PutItem that inserts the head, or replaces one that expired or
//! whose lease ended; a refused claim gets the head back with the refusal
//! (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), so it costs no second read unless the answer
//! is in chunks. DynamoDB applies writes to one item one at a time, so of N concurrent claims
//! exactly one is granted.
//!
//! Chunks carry the holder that wrote them, and the head's chunk count and holder decide which
//! chunks are its answer: leftovers of an expired answer never leak into a new one, and a record
//! taken over between the head and the chunk reads is read again.

use application::ports::{IdempotencyRecords, IdempotentAnswers};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use domain::idempotency::{Answer, ClaimOutcome, ClaimRequest, Completion, Fingerprint, Holder, RecordKey};
use domain::StorageError;
use time::OffsetDateTime;

use crate::capacity;
use crate::errors::{is_condition_failure, sdk_error};
use crate::item::{b, millis, n, s, ttl, Fields, Item};
use crate::keys::{idempotency_partition, Key, ANSWER_CHUNK_PREFIX, EXPIRES, PK, SK};
use crate::storage::DynamoStorage;
use crate::table::{QuerySpec, Table};
use crate::unit_of_work::DynamoUnit;
use crate::writes::{send, Failure, Write};

const FINGERPRINT: &str = "fingerprint";
const HOLDER: &str = "holder";
const LEASE_ENDS: &str = "lease_ends";
const EXPIRES_AT: &str = "expires_at";
/// On the head: the answer, when it is kept there (absent when empty).
const ANSWER: &str = "answer";
/// On the head, once completed (its absence means in progress): how many chunk items hold the
/// answer, 0 when the head does.
const CHUNKS: &str = "answer_chunks";
/// On a chunk item: its piece of the answer.
const DATA: &str = "data";

/// Answers up to this size are kept in the head. A refused claim is a failed conditional write,
/// which DynamoDB charges by the size of the item it found (one write unit per KB): a large answer
/// in the head would make every replay cost hundreds of write units, where reading its chunks
/// costs one Query and a read unit per 4 KB.
const INLINE_MAX: usize = 16 * 1024;
/// One chunk item's share of an answer: an item holds at most 400 KB, attribute names included.
const CHUNK_BYTES: usize = 350_000;
/// A transaction holds at most 4 MB: the answer and the rest of its unit's writes (a post is at
/// most ~400 KB) must fit. The largest answer the API makes is about 1.1 MB.
const MAX_ANSWER: usize = 3 * 1024 * 1024;
/// A record released or taken over between a refused claim and the read of its answer is claimed
/// again; more rounds than this means it keeps changing.
const CLAIM_ROUNDS: usize = 3;

/// Insert, or take over an expired record or a claim whose lease ended.
const CLAIM_WHEN: &str =
    "attribute_not_exists(#pk) OR #expires <= :now OR (attribute_not_exists(#chunks) AND #lease <= :now)";
/// Still held in progress by the given holder (a completion, a release).
const HELD_BY: &str = "#holder = :holder AND attribute_not_exists(#chunks)";

#[async_trait]
impl IdempotencyRecords for DynamoStorage {
    async fn claim(&self, claim: &ClaimRequest) -> Result<ClaimOutcome, StorageError> {
        let table = self.open()?;
        for _ in 0..CLAIM_ROUNDS {
            let head = match put_claim(table, claim).await? {
                Claimed::Granted => return Ok(ClaimOutcome::Granted),
                Claimed::Refused(Some(head)) => head,
                // A refusal without the item (an endpoint that ignores ALL_OLD): read it.
                Claimed::Refused(None) => match table.get("idempotency.claim", &Key::idempotency(&claim.record)).await?
                {
                    Some(head) => head,
                    None => continue,
                },
            };
            if let Some(outcome) = found(table, &claim.record, &head, claim.now).await? {
                return Ok(outcome);
            }
        }
        Err(StorageError::unavailable(format!(
            "the idempotency record {} kept changing while it was claimed",
            claim.record.as_str()
        )))
    }

    async fn complete(&self, completion: &Completion) -> Result<bool, StorageError> {
        let table = self.open()?;
        let writes = answer_writes(completion, Failure::ConditionFailed)?;
        match send(table, "idempotency.complete", &writes).await {
            Ok(()) => Ok(true),
            Err(StorageError::ConditionFailed) => Ok(false),
            Err(err) => Err(err),
        }
    }

    async fn release(&self, record: &RecordKey, holder: Holder) -> Result<(), StorageError> {
        let table = self.open()?;
        // In progress, so no chunks: the head is the whole record.
        let delete = Write::delete(Key::idempotency(record))
            .when(HELD_BY, Failure::ConditionFailed)
            .name("#holder", HOLDER)
            .name("#chunks", CHUNKS)
            .value(":holder", s(holder.0.to_string()));
        match send(table, "idempotency.release", &[delete]).await {
            Ok(()) | Err(StorageError::ConditionFailed) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// DynamoDB's TTL removes expired heads and chunks (`expires_at_s`), lazily but without a
    /// Scan of the whole table, which is what finding them here would take: nothing to do.
    async fn sweep(&self, _now: OffsetDateTime, _limit: u32) -> Result<u64, StorageError> {
        self.open()?;
        Ok(0)
    }
}

#[async_trait]
impl IdempotentAnswers for DynamoUnit {
    /// Buffered before the unit's other writes, conditioned on the claim still being held: a
    /// commit that finds it lost fails with `ClaimLost` (see `writes::send`).
    async fn store(&mut self, completion: &Completion) -> Result<(), StorageError> {
        let writes = answer_writes(completion, Failure::ClaimLost)?;
        self.write_first(writes)
    }
}

enum Claimed {
    Granted,
    /// The head as the refused condition found it, when the endpoint returned it.
    Refused(Option<Item>),
}

async fn put_claim(table: &Table, claim: &ClaimRequest) -> Result<Claimed, StorageError> {
    let mut head = Key::idempotency(&claim.record).item();
    head.extend([
        (FINGERPRINT.to_owned(), s(claim.fingerprint.to_hex())),
        (HOLDER.to_owned(), s(claim.holder.0.to_string())),
        (LEASE_ENDS.to_owned(), n(millis(claim.lease_ends))),
        (EXPIRES_AT.to_owned(), n(millis(claim.expires_at))),
        (EXPIRES.to_owned(), n(ttl(claim.expires_at))),
    ]);
    let request = table
        .client
        .put_item()
        .table_name(&*table.name)
        .set_item(Some(head))
        .condition_expression(CLAIM_WHEN)
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#expires", EXPIRES_AT)
        .expression_attribute_names("#chunks", CHUNKS)
        .expression_attribute_names("#lease", LEASE_ENDS)
        .expression_attribute_values(":now", n(millis(claim.now)))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .return_consumed_capacity(capacity::TOTAL);
    let mut refused = None;
    let sent = storage_support::timed("dynamodb", "idempotency.claim", "PutItem", async {
        match request.send().await {
            Ok(output) => Ok(output),
            Err(err) if is_condition_failure(&err) => {
                if let PutItemError::ConditionalCheckFailedException(failed) = err.into_service_error() {
                    refused = failed.item;
                }
                Err(StorageError::ConditionFailed)
            }
            Err(err) => Err(sdk_error("PutItem", err)),
        }
    })
    .await;
    match sent {
        Ok(output) => {
            capacity::record("write", &output);
            Ok(Claimed::Granted)
        }
        Err(StorageError::ConditionFailed) => Ok(Claimed::Refused(refused)),
        Err(err) => Err(err),
    }
}

/// What a refused claim found, or `None` when the record is no longer what refused it (expired,
/// lapsed, or taken over while its chunks were read): then the claim is tried again.
async fn found(
    table: &Table,
    record: &RecordKey,
    head: &Item,
    now: OffsetDateTime,
) -> Result<Option<ClaimOutcome>, StorageError> {
    let f = Fields::of(head, "idempotency record");
    let fingerprint = f.parsed(FINGERPRINT, |text| Fingerprint::from_hex(text).ok_or("not 64 hex digits"))?;
    if f.time(EXPIRES_AT)? <= now {
        return Ok(None);
    }
    let Some(chunks) = f.opt_int(CHUNKS)? else {
        let lease_ends = f.time(LEASE_ENDS)?;
        return Ok((lease_ends > now).then_some(ClaimOutcome::InProgress { fingerprint, lease_ends }));
    };
    let answer = match chunks {
        0 => Some(f.opt_bytes(ANSWER)?.unwrap_or_default().to_vec()),
        _ => {
            let count = usize::try_from(chunks)
                .ok()
                .filter(|count| *count <= MAX_ANSWER.div_ceil(CHUNK_BYTES))
                .ok_or_else(|| StorageError::backend(format!("stored idempotency record: {chunks} answer chunks")))?;
            read_chunks(table, record, f.str(HOLDER)?, count).await?
        }
    };
    Ok(answer.map(|answer| ClaimOutcome::Completed { fingerprint, answer: Answer(answer) }))
}

/// The answer in `count` chunks written by `holder`, or `None` when they are not all there (the
/// record changed since its head was read).
async fn read_chunks(
    table: &Table,
    record: &RecordKey,
    holder: &str,
    count: usize,
) -> Result<Option<Vec<u8>>, StorageError> {
    let spec = QuerySpec {
        index: None,
        partition: (PK, idempotency_partition(record)),
        prefix: Some((SK, ANSWER_CHUNK_PREFIX.to_owned())),
        forward: true,
        start: None,
        limit: i32::try_from(count).unwrap_or(i32::MAX),
        keys_only: false,
    };
    let items = table.query_up_to("idempotency.claim", spec).await?;
    let mut answer = Vec::with_capacity(count * CHUNK_BYTES);
    for index in 0..count {
        let Some(item) = items.get(index) else { return Ok(None) };
        let f = Fields::of(item, "idempotency answer chunk");
        if f.str(SK)? != Key::answer_chunk(record, index).sk || f.str(HOLDER)? != holder {
            return Ok(None);
        }
        answer.extend_from_slice(f.opt_bytes(DATA)?.unwrap_or_default());
    }
    Ok(Some(answer))
}

/// The writes that complete a record held by `completion.holder`: the head (conditioned on that
/// hold, failing as `failure`) and, for a large answer, its chunks — one call or one transaction.
fn answer_writes(completion: &Completion, failure: Failure) -> Result<Vec<Write>, StorageError> {
    let answer = completion.answer.0.as_slice();
    if answer.len() > MAX_ANSWER {
        return Err(StorageError::backend(format!(
            "an answer of {} bytes is more than one DynamoDB transaction holds (at most {MAX_ANSWER} bytes)",
            answer.len()
        )));
    }
    let (record, holder) = (&completion.record, s(completion.holder.0.to_string()));
    let expiry = n(ttl(completion.expires_at));
    let pieces: Vec<&[u8]> = if answer.len() > INLINE_MAX { answer.chunks(CHUNK_BYTES).collect() } else { Vec::new() };
    let inline = pieces.is_empty() && !answer.is_empty();
    let expression = format!(
        "SET {}#chunks = :chunks, #expires = :expires, #ttl = :ttl",
        if inline { "#answer = :answer, " } else { "" }
    );
    let mut head = Write::update(Key::idempotency(record), expression)
        .when(HELD_BY, failure)
        .name("#holder", HOLDER)
        .name("#chunks", CHUNKS)
        .name("#expires", EXPIRES_AT)
        .name("#ttl", EXPIRES)
        .value(":holder", holder.clone())
        .value(":chunks", n(pieces.len() as i64))
        .value(":expires", n(millis(completion.expires_at)))
        .value(":ttl", expiry.clone());
    if inline {
        head = head.name("#answer", ANSWER).value(":answer", b(answer));
    }
    let chunks = pieces.into_iter().enumerate().map(|(index, piece)| {
        let item = Item::from([
            (HOLDER.to_owned(), holder.clone()),
            (DATA.to_owned(), b(piece)),
            (EXPIRES.to_owned(), expiry.clone()),
        ]);
        Write::put(Key::answer_chunk(record, index), item)
    });
    Ok(std::iter::once(head).chain(chunks).collect())
}
