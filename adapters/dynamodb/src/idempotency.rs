//! `IdempotencyRecords` and `IdempotentAnswers` on DynamoDB — NOT IMPLEMENTED YET (being written
//! on the `idem-ddb` branch); every call fails so that nothing pretends to work.

use application::ports::{IdempotencyRecords, IdempotentAnswers};
use async_trait::async_trait;
use domain::idempotency::{ClaimOutcome, ClaimRequest, Completion, Holder, RecordKey};
use domain::StorageError;
use time::OffsetDateTime;

use crate::storage::DynamoStorage;
use crate::unit_of_work::DynamoUnit;

fn missing() -> StorageError {
    StorageError::backend("idempotency records are not implemented on DynamoDB yet")
}

#[async_trait]
impl IdempotencyRecords for DynamoStorage {
    async fn claim(&self, _claim: &ClaimRequest) -> Result<ClaimOutcome, StorageError> {
        Err(missing())
    }

    async fn complete(&self, _completion: &Completion) -> Result<bool, StorageError> {
        Err(missing())
    }

    async fn release(&self, _record: &RecordKey, _holder: Holder) -> Result<(), StorageError> {
        Err(missing())
    }

    async fn sweep(&self, _now: OffsetDateTime, _limit: u32) -> Result<u64, StorageError> {
        Err(missing())
    }
}

#[async_trait]
impl IdempotentAnswers for DynamoUnit {
    async fn store(&mut self, _completion: &Completion) -> Result<(), StorageError> {
        Err(missing())
    }
}
