//! Continuations of keyset pages: `(timestamp, id)` of the last item, as bytes only this adapter reads.

use domain::{Continuation, StorageError};
use time::OffsetDateTime;
use uuid::Uuid;

/// 16 bytes of Unix nanoseconds (big-endian) and the 16 id bytes.
pub(crate) fn encode(at: OffsetDateTime, id: Uuid) -> Continuation {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(&at.unix_timestamp_nanos().to_be_bytes());
    bytes.extend_from_slice(id.as_bytes());
    Continuation(bytes)
}

pub(crate) fn decode(continuation: &Continuation) -> Result<(OffsetDateTime, Uuid), StorageError> {
    let bytes: &[u8; 32] = continuation.0.as_slice().try_into().map_err(|_| StorageError::BadContinuation)?;
    let (at, id) = bytes.split_at(16);
    let nanos = i128::from_be_bytes(at.try_into().map_err(|_| StorageError::BadContinuation)?);
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| StorageError::BadContinuation)?;
    let id = Uuid::from_slice(id).map_err(|_| StorageError::BadContinuation)?;
    Ok((at, id))
}
