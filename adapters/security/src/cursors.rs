//! Public cursors: `base64url(version ‖ continuation ‖ HMAC-SHA256(key, version ‖ list ‖ continuation))`.
//! The list key (operation, parent id, filters) is signed but not carried, so a cursor presented
//! to another list fails the signature check exactly like an altered one.

use application::pagination::ListKey;
use application::ports::CursorCodec;
use application::AppError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::Continuation;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::ServerKey;

const VERSION: u8 = 1;
const MAC_LEN: usize = 32;
/// Longer strings are refused before decoding: no continuation comes near this.
const MAX_CURSOR_CHARS: usize = 2048;

pub struct HmacCursorCodec {
    key: [u8; 32],
}

impl HmacCursorCodec {
    pub fn new(key: &ServerKey) -> Self {
        Self { key: key.derive("tessera/cursor-v1") }
    }

    fn mac(&self, list: &ListKey, continuation: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(&[VERSION]);
        mac.update(&(list.as_str().len() as u64).to_be_bytes());
        mac.update(list.as_str().as_bytes());
        mac.update(continuation);
        mac
    }
}

impl CursorCodec for HmacCursorCodec {
    fn seal(&self, list: &ListKey, continuation: &Continuation) -> String {
        let tag = self.mac(list, &continuation.0).finalize().into_bytes();
        let mut bytes = Vec::with_capacity(1 + continuation.0.len() + MAC_LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&continuation.0);
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn unseal(&self, list: &ListKey, cursor: &str) -> Result<Continuation, AppError> {
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(AppError::InvalidCursor);
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| AppError::InvalidCursor)?;
        if bytes.len() < 1 + MAC_LEN || bytes[0] != VERSION {
            return Err(AppError::InvalidCursor);
        }
        let (body, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        let continuation = &body[1..];
        self.mac(list, continuation).verify_slice(tag).map_err(|_| AppError::InvalidCursor)?;
        Ok(Continuation(continuation.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec(seed: u8) -> HmacCursorCodec {
        HmacCursorCodec::new(&ServerKey::new(&[seed; 40]).unwrap())
    }

    #[test]
    fn a_sealed_cursor_opens_for_its_own_list_only() {
        let other = codec(2);
        let codec = codec(1);
        let list = ListKey::new("list_users", &["ad"]);
        let cursor = codec.seal(&list, &Continuation(b"adam".to_vec()));

        assert_eq!(codec.unseal(&list, &cursor), Ok(Continuation(b"adam".to_vec())));
        assert_eq!(codec.unseal(&ListKey::new("list_users", &["a"]), &cursor), Err(AppError::InvalidCursor));
        assert_eq!(codec.unseal(&ListKey::new("list_projects", &["ad"]), &cursor), Err(AppError::InvalidCursor));
        assert_eq!(other.unseal(&list, &cursor), Err(AppError::InvalidCursor), "another server key");
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let codec = codec(1);
        let list = ListKey::new("list_users", &[""]);
        let cursor = codec.seal(&list, &Continuation(b"bob".to_vec()));
        let bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            assert_eq!(codec.unseal(&list, &URL_SAFE_NO_PAD.encode(altered)), Err(AppError::InvalidCursor), "byte {i}");
        }
        for junk in ["", "!!!", "AA", &"A".repeat(5000), &format!("{cursor}=")] {
            assert_eq!(codec.unseal(&list, junk), Err(AppError::InvalidCursor), "{junk:?}");
        }
    }

    #[test]
    fn list_keys_cannot_be_shifted_into_the_continuation() {
        // ("ab", "c…") and ("a", "bc…") must not collide.
        let codec = codec(1);
        let a = codec.seal(&ListKey::new("op", &["ab"]), &Continuation(b"c".to_vec()));
        assert_eq!(codec.unseal(&ListKey::new("op", &["a"]), &a), Err(AppError::InvalidCursor));
    }
}
