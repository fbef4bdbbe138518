//! Stored answers are sealed: a keyed `login` or `refresh` answer holds a live token pair, and the
//! storage must not hand one to whoever reads it (it keeps refresh tokens only as hashes). Each
//! answer is encrypted (AES-256-GCM, random nonce) under a key derived from the client's
//! `Idempotency-Key` and the request's fingerprint. Storage holds neither the key (only a digest
//! of it, with its scope) nor the body; a retry of the same request derives the same key.

use domain::idempotency::Answer;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use application::idempotency::KeyedRequest;

pub struct Seal(LessSafeKey);

impl Seal {
    pub fn for_request(request: &KeyedRequest) -> Option<Self> {
        let mut digest = Sha256::new();
        digest.update(b"tessera idempotent answer v1\0");
        digest.update((request.key.len() as u64).to_be_bytes());
        digest.update(request.key.as_bytes());
        digest.update(request.fingerprint.0);
        let key = UnboundKey::new(&AES_256_GCM, &digest.finalize()).ok()?;
        Some(Self(LessSafeKey::new(key)))
    }

    pub fn seal(&self, plain: Vec<u8>) -> Option<Answer> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut sealed = plain;
        self.0.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed).ok()?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(Answer(out))
    }

    pub fn open(&self, answer: &Answer) -> Option<Vec<u8>> {
        let (nonce, sealed) = answer.0.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut sealed = sealed.to_vec();
        let plain = self.0.open_in_place(nonce, Aad::empty(), &mut sealed).ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use domain::idempotency::{Fingerprint, Scope};

    use super::*;

    fn request(key: &str, body: u8) -> KeyedRequest {
        KeyedRequest { key: key.into(), scope: Scope::Request, fingerprint: Fingerprint([body; 32]) }
    }

    #[test]
    fn only_the_same_request_opens_its_answer() {
        let seal = Seal::for_request(&request("k", 1)).unwrap();
        let sealed = seal.seal(b"{\"refresh_token\":\"secret\"}".to_vec()).unwrap();

        assert!(!sealed.0.windows(6).any(|w| w == b"secret"), "the plain text is not stored");
        assert_eq!(
            Seal::for_request(&request("k", 1)).unwrap().open(&sealed).unwrap(),
            b"{\"refresh_token\":\"secret\"}"
        );
        assert_eq!(Seal::for_request(&request("k2", 1)).unwrap().open(&sealed), None, "another key");
        assert_eq!(Seal::for_request(&request("k", 2)).unwrap().open(&sealed), None, "another request");
        assert_ne!(seal.seal(b"x".to_vec()).unwrap(), seal.seal(b"x".to_vec()).unwrap(), "a fresh nonce each time");
    }
}
