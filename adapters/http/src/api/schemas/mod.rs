//! Schema pieces that several features share: string inputs whose schema states API.md's rules,
//! roles and post statuses as the API spells them, and optional request fields.

pub mod fields;
pub mod inputs;
pub mod roles;
