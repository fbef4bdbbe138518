//! Conversions between domain values and SQLite column values.

use domain::StorageError;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::corrupt;

pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_millis(ms: i64) -> Result<OffsetDateTime, StorageError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|e| corrupt("timestamp", e))
}

pub(crate) fn opt_from_millis(ms: Option<i64>) -> Result<Option<OffsetDateTime>, StorageError> {
    ms.map(from_millis).transpose()
}

pub(crate) fn uuid(text: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(text).map_err(|e| corrupt("uuid", e))
}
