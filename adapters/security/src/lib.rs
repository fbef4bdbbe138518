//! Security adapters: Argon2id password hashing, HS256 JWT access tokens, opaque refresh tokens
//! stored only as SHA-256 hashes, and HMAC-signed pagination cursors.

mod cursors;
mod keys;
mod passwords;
mod tokens;

pub use cursors::HmacCursorCodec;
pub use keys::ServerKey;
pub use passwords::{Argon2Hasher, HashingLimits};
pub use tokens::JwtTokenIssuer;
