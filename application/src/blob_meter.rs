//! What every blob store measures while a file's bytes pass (the `BlobStore` port's contract).

use domain::files::Sha256Digest;
use sha2::{Digest, Sha256};

use crate::ports::{BlobError, StoredBlob};

/// Counts and hashes a file's bytes as they pass into a [`crate::ports::BlobStore`], refusing
/// them as soon as more than the limit arrived: one piece of the port's contract, kept here so
/// that every store measures alike.
pub struct BlobMeter {
    limit: u64,
    size: u64,
    hasher: Sha256,
}

impl BlobMeter {
    pub fn new(limit: u64) -> Self {
        Self { limit, size: 0, hasher: Sha256::new() }
    }

    /// Takes `chunk` into the count and the digest; [`BlobError::TooLarge`] once past the limit.
    pub fn pass(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        self.hasher.update(chunk);
        Ok(())
    }

    pub fn finish(self) -> StoredBlob {
        StoredBlob { size: self.size, sha256: Sha256Digest(self.hasher.finalize().into()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_itself_passes_and_one_byte_more_does_not() {
        let mut meter = BlobMeter::new(5);
        meter.pass(b"ab").unwrap();
        meter.pass(b"cde").unwrap();
        let stored = meter.finish();
        assert_eq!(stored.size, 5);
        assert_eq!(stored.sha256.0, <[u8; 32]>::from(Sha256::digest(b"abcde")));

        let mut meter = BlobMeter::new(5);
        meter.pass(b"abc").unwrap();
        assert!(matches!(meter.pass(b"def"), Err(BlobError::TooLarge { limit: 5 })));
    }
}
