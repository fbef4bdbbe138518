//! Tessera's use cases. One service per feature takes commands and returns domain values; it owns
//! the transaction boundary through the [`ports::Storage`] port and reaches every other piece of
//! the outside world through a port of this crate. Nothing here knows HTTP, SQL or DynamoDB.

pub mod auth;
mod blob_meter;
pub mod copy;
pub mod direct_uploads;
pub mod errors;
pub mod files;
pub mod health;
pub mod idempotency;
pub mod login_limit;
pub mod members;
pub mod pagination;
pub mod ports;
pub mod posts;
pub mod projects;
pub mod sweep;
pub mod users;
pub mod validation;
pub mod versions;
pub mod workspace;

#[cfg(test)]
mod testing;

pub use errors::{AppError, ErrorChain, Resource};
