//! Continuations of keyset pages: the sort key of the last item, as bytes only this adapter reads.

use domain::{Continuation, StorageError};
use uuid::Uuid;

/// `(timestamp ms, id)`: 8 bytes big-endian and the 16 id bytes.
pub(crate) fn encode(at_ms: i64, id: Uuid) -> Continuation {
    let mut bytes = Vec::with_capacity(24);
    bytes.extend_from_slice(&at_ms.to_be_bytes());
    bytes.extend_from_slice(id.as_bytes());
    Continuation(bytes)
}

/// The `(timestamp ms, id)` as SQL parameters (ids are stored in their text form).
pub(crate) fn decode(continuation: &Continuation) -> Result<(i64, String), StorageError> {
    let bytes: &[u8; 24] = continuation.0.as_slice().try_into().map_err(|_| StorageError::BadContinuation)?;
    let (at, id) = bytes.split_at(8);
    let at = i64::from_be_bytes(at.try_into().map_err(|_| StorageError::BadContinuation)?);
    let id = Uuid::from_slice(id).map_err(|_| StorageError::BadContinuation)?;
    Ok((at, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_lengths() {
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(-5, id)).unwrap(), (-5, id.to_string()));
        assert!(matches!(decode(&Continuation(vec![1, 2, 3])), Err(StorageError::BadContinuation)));
    }
}
