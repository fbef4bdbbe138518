//! Response bodies as JSON bytes, serialised with serde; in debug builds (every test) checked
//! against the schema's own serialisation, so that the document sent and the document declared
//! cannot drift apart unnoticed. Used by the JSON payload and by problem documents alike.

use poem_openapi::types::ToJSON;
use serde::Serialize;

/// `value` as JSON bytes; in debug builds, an error when serde's bytes are not what the schema's
/// own serialisation (`ToJSON`) gives.
pub(crate) fn to_bytes<T: Serialize + ToJSON>(value: &T) -> Result<Vec<u8>, String> {
    let bytes = serde_json::to_vec(value).map_err(|e| format!("a response could not be serialised: {e}"))?;
    if cfg!(debug_assertions) {
        let ours = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
        if ours != value.to_json() {
            return Err(format!(
                "serde and the schema disagree on {}: {}",
                std::any::type_name::<T>(),
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    Ok(bytes)
}
