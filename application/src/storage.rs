//! The unit-of-work port: the one shape of transaction that fits SQL and DynamoDB alike.
//!
//! A service calls [`Storage::begin`], reaches repositories through the unit of work, and ends
//! with [`UnitOfWork::commit`]; dropping a unit of work uncommitted rolls it back. On SQL it wraps
//! a database transaction. On DynamoDB it reads directly (consistent reads) and buffers writes with
//! their conditions, sending them in one `TransactWriteItems` at commit; so a uniqueness or version
//! conflict may surface at the write call *or* at `commit()`, and services handle both alike.
//! A unit of work holds at most [`MAX_WRITES_PER_UNIT`] writes.

use async_trait::async_trait;
use domain::auth::RefreshTokenRepository;
use domain::members::MemberRepository;
use domain::posts::PostRepository;
use domain::projects::ProjectRepository;
use domain::users::UserRepository;
use domain::StorageError;

use crate::ports::LoginAttempts;

/// DynamoDB's limit on the actions of one transaction, which every backend honours so that a
/// service written against SQLite cannot outgrow DynamoDB.
pub const MAX_WRITES_PER_UNIT: usize = 100;

#[async_trait]
pub trait UnitOfWork: Send {
    fn users(&mut self) -> &mut dyn UserRepository;

    fn refresh_tokens(&mut self) -> &mut dyn RefreshTokenRepository;

    fn projects(&mut self) -> &mut dyn ProjectRepository;

    fn members(&mut self) -> &mut dyn MemberRepository;

    fn posts(&mut self) -> &mut dyn PostRepository;

    /// Makes every write of this unit durable, all or nothing. Conditions checked late (DynamoDB)
    /// fail here with the same `StorageError` the write call would have given.
    async fn commit(self: Box<Self>) -> Result<(), StorageError>;
}

#[async_trait]
pub trait Storage: Send + Sync {
    /// A unit of work for a use case that writes.
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StorageError>;

    /// A unit of work for a use case that only reads: no transaction is opened (each read is one
    /// round trip), and writing through it is a bug.
    async fn read(&self) -> Result<Box<dyn UnitOfWork>, StorageError>;

    /// Answers `Ok` when the backend can serve requests (readiness).
    async fn ping(&self) -> Result<(), StorageError>;

    /// The failed-login counts, kept outside any unit of work (see [`LoginAttempts`]).
    fn login_attempts(&self) -> &dyn LoginAttempts;
}
