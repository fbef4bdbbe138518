//! DynamoDB storage: one table (layout in this crate's README.md), consistent reads, and a unit
//! of work whose writes are sent at commit as one conditional call — a single PutItem,
//! UpdateItem or DeleteItem, or one TransactWriteItems. Failed conditions become the domain's
//! conflicts by the position of the action that failed.

mod capacity;
mod cursor;
mod deletion;
mod errors;
mod export;
mod files;
mod idempotency;
mod item;
mod keys;
mod login_attempts;
mod members;
mod pages;
mod post_pages;
mod posts;
mod projects;
mod refresh_tokens;
mod setup;
mod storage;
mod table;
mod unit_of_work;
mod users;
mod writes;

pub use storage::{DynamoSettings, DynamoStorage};
