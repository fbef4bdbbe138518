//! Idempotency records (API.md, "Idempotent retries"): what identifies a retried request, who
//! holds its claim, and the answer kept for it. Storage sees digests and opaque bytes only: never
//! a client's key or body.

use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::users::UserId;

/// Whose keys a key is compared with (API.md: keys are scoped to the caller, or for operations
/// with no caller to the request itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The bearer's user: one key names one request of theirs, whatever the operation.
    Caller(UserId),
    /// No caller (`auth/*`): the key is bound to the request it came with, so the same key with
    /// another request is another record, and nobody replays an answer without its request.
    Request,
}

/// A SHA-256 of what makes two requests "the same request": operation, path, caller and body.
/// The HTTP adapter computes it; the core only compares it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses what [`Fingerprint::to_hex`] wrote (storage reads it back).
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

/// The storage key of one record: the SHA-256 of the scope and the client's key, in lower-case
/// hex (64 characters). Storage never holds the key itself.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RecordKey(String);

impl RecordKey {
    pub fn new(scope: Scope, key: &str, fingerprint: &Fingerprint) -> Self {
        let mut digest = Sha256::new();
        match scope {
            Scope::Caller(user) => {
                digest.update(b"caller\0");
                digest.update(user.0.as_bytes());
            }
            Scope::Request => {
                digest.update(b"request\0");
                digest.update(fingerprint.0);
            }
        }
        digest.update(key.as_bytes());
        Self(hex(&digest.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordKey({})", self.0)
    }
}

/// Who holds a claim: a fresh id per claiming request. A completion or release names its holder,
/// and storage applies it only while that holder still holds the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Holder(pub Uuid);

/// The answer kept for a record, as the HTTP adapter encoded it (opaque to the core and storage).
#[derive(Clone, PartialEq, Eq)]
pub struct Answer(pub Vec<u8>);

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Answer({} bytes)", self.0.len())
    }
}

/// A request for a claim: insert-if-absent with an in-progress lease.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub record: RecordKey,
    pub fingerprint: Fingerprint,
    pub holder: Holder,
    pub now: OffsetDateTime,
    /// Until when the claim keeps others out if its holder never finishes (it crashed).
    pub lease_ends: OffsetDateTime,
    /// When the record may be forgotten if nothing completes it (storage's TTL, the sweep).
    pub expires_at: OffsetDateTime,
}

/// What a claim found, atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The caller holds the claim now: there was no record, or only one that expired, or a claim
    /// whose lease ended (its holder died). Its fingerprint and lease are the request's.
    Granted,
    /// Another holder's lease is still running.
    InProgress { fingerprint: Fingerprint, lease_ends: OffsetDateTime },
    /// An answer was stored and has not expired.
    Completed { fingerprint: Fingerprint, answer: Answer },
}

/// A completed answer: who must still hold the claim for it to be stored, and until when it is kept.
#[derive(Debug, Clone)]
pub struct Completion {
    pub record: RecordKey,
    pub holder: Holder,
    pub answer: Answer,
    pub expires_at: OffsetDateTime,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(byte: u8) -> Fingerprint {
        Fingerprint([byte; 32])
    }

    #[test]
    fn a_fingerprint_survives_its_hex() {
        let f = Fingerprint(core::array::from_fn(|i| i as u8 * 7));
        assert_eq!(Fingerprint::from_hex(&f.to_hex()), Some(f));
        assert_eq!(Fingerprint::from_hex("zz"), None);
        assert_eq!(Fingerprint::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn callers_keys_are_theirs_and_requests_keys_bind_the_request() {
        let alice = UserId(Uuid::from_u128(1));
        let bob = UserId(Uuid::from_u128(2));
        let a = RecordKey::new(Scope::Caller(alice), "k", &fingerprint(1));
        assert_eq!(a, RecordKey::new(Scope::Caller(alice), "k", &fingerprint(2)), "a caller's key ignores the body");
        assert_ne!(a, RecordKey::new(Scope::Caller(bob), "k", &fingerprint(1)));
        assert_ne!(a, RecordKey::new(Scope::Caller(alice), "k2", &fingerprint(1)));
        let r = RecordKey::new(Scope::Request, "k", &fingerprint(1));
        assert_ne!(r, RecordKey::new(Scope::Request, "k", &fingerprint(2)));
        assert_ne!(r, a);
        assert_eq!(r.as_str().len(), 64, "a SHA-256 in hex");
    }
}
