//! Tessera's pure core: entities, value objects that can only hold valid values, the errors the
//! core speaks in, and the repository ports every storage adapter implements (all in `ports`).
//!
//! No I/O crate may appear in this crate's dependency tree: it compiles without an async runtime,
//! a database driver or a web framework, and nothing here knows which backend runs.

pub mod auth;
pub mod errors;
pub mod files;
pub mod idempotency;
pub mod login_attempts;
pub mod members;
pub mod pagination;
pub mod ports;
pub mod posts;
pub mod projects;
pub mod records;
mod text;
pub mod users;

pub use errors::{Conflict, FieldViolation, StorageError};
pub use pagination::{Continuation, JsonSize, Page, PageBudget, PageFill, PageLimit};
pub use text::Raw;
