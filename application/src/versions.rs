//! Optimistic concurrency: the version a conditional write expects.

use crate::errors::AppError;

/// The client's `If-Match` version when it sent one, else the version just read. A stale
/// `If-Match` fails at once; a race after the read fails in the storage's compare-and-set.
pub fn expected_version(if_match: Option<i64>, current: i64) -> Result<i64, AppError> {
    match if_match {
        Some(version) if version != current => Err(AppError::VersionMismatch),
        _ => Ok(current),
    }
}
