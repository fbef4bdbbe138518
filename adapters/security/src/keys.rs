//! One server secret, split into independent keys per purpose, so that a JWT signature can never
//! double as a cursor signature.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The configured server secret (at least 32 bytes).
#[derive(Clone)]
pub struct ServerKey(Vec<u8>);

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

/// Shortest secret accepted: HS256 wants a key as long as its hash.
pub const MIN_SECRET_BYTES: usize = 32;

impl ServerKey {
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes"));
        }
        Ok(Self(secret.to_vec()))
    }

    /// HMAC-SHA256(secret, purpose): a key for one purpose only.
    pub(crate) fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable_mac());
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// HMAC accepts keys of any length, so `new_from_slice` cannot fail.
fn unreachable_mac() -> Hmac<Sha256> {
    unreachable!("HMAC-SHA256 takes keys of any length")
}
