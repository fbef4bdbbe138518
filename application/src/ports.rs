//! Every port of the core, in one place. A newcomer opens this file to see what Tessera needs
//! from the outside world; each method's contract is in its doc comment, and `bootstrap` alone
//! picks the adapters that implement them.
//!
//! | port | what it is for | adapters |
//! |---|---|---|
//! | [`Storage`] → [`UnitOfWork`] | transactions; the repositories of `domain::ports` (users, refresh tokens, projects, members, posts, files) are reached only through a unit of work | `adapters/sqlite`, `adapters/postgres`, `adapters/dynamodb` |
//! | [`Storage`] → [`LoginAttempts`] | failed password checks, counted outside any unit of work | `adapters/sqlite`, `adapters/postgres`, `adapters/dynamodb` |
//! | [`Storage`] → [`IdempotencyRecords`], [`UnitOfWork`] → [`IdempotentAnswers`] | claims and stored answers of requests with an `Idempotency-Key`; an answer with an effect is written in the effect's own unit of work | `adapters/sqlite`, `adapters/postgres`, `adapters/dynamodb` |
//! | [`Storage`] → [`RecordScan`] | every stored record, kind by kind (`tessera copy`) | `adapters/sqlite`, `adapters/postgres`, `adapters/dynamodb` |
//! | [`Storage`] → [`ExpiredSessions`] | removing refresh tokens and chains that can no longer serve (the sweep) | `adapters/sqlite`, `adapters/postgres`, `adapters/dynamodb` |
//! | [`BlobStore`] | a file's bytes, by the file's id: streamed in (hashed as they pass) and out, or presigned requests for clients to send them straight (S3) | `adapters/blob-fs`, `adapters/blob-s3` |
//! | [`PasswordHasher`] | Argon2id hashing and verification | `adapters/security` |
//! | [`TokenIssuer`] | access tokens (JWT) and refresh-token secrets | `adapters/security` |
//! | [`CursorCodec`] | sealing adapter continuations into signed public cursors | `adapters/security` |
//! | [`Clock`], [`IdGenerator`] | time and UUIDv7 ids, fixed in unit tests | `bootstrap` |
//!
//! The repository ports themselves live in the domain (`domain::ports`, re-exported here), since
//! they speak only the domain's types.
//!
//! ## The unit of work
//!
//! One shape of transaction fits SQL and DynamoDB alike.
//!
//! A service calls [`Storage::begin`], reaches repositories through the unit of work, and ends
//! with [`UnitOfWork::commit`]; dropping a unit of work uncommitted rolls it back. On SQL it wraps
//! a database transaction. On DynamoDB it reads directly (consistent reads) and buffers writes with
//! their conditions, sending them in one `TransactWriteItems` at commit; so a uniqueness or version
//! conflict may surface at the write call *or* at `commit()`, and services handle both alike.
//! A unit of work holds at most [`MAX_WRITES_PER_UNIT`] writes.

use async_trait::async_trait;
use domain::auth::{ChainId, TokenHash};
use domain::files::{FileId, Sha256Digest};
use domain::idempotency::{ClaimOutcome, ClaimRequest, Completion, Holder, RecordKey};
use domain::login_attempts::{AttemptKey, Reservation};
pub use domain::ports::{
    FileRepository, MemberRepository, PostRepository, ProjectRepository, RefreshTokenRepository, UserRepository,
};
use domain::users::{Password, PasswordHash, UserId};
use domain::{Continuation, StorageError};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::errors::AppError;
use crate::pagination::ListKey;

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

    fn files(&mut self) -> &mut dyn FileRepository;

    /// The stored answer of the request this unit of work serves, when it carries an
    /// `Idempotency-Key`: written with the unit's other writes, so both commit or neither does.
    fn idempotency(&mut self) -> &mut dyn IdempotentAnswers;

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

    /// The removal of refresh tokens and chains that can no longer serve (see [`ExpiredSessions`]).
    fn expired_sessions(&self) -> &dyn ExpiredSessions;

    /// Idempotency claims and the answers of requests with no effect (see [`IdempotencyRecords`]).
    fn idempotency(&self) -> &dyn IdempotencyRecords;

    /// Every stored record, kind by kind, for copying them elsewhere (see [`RecordScan`]).
    fn export(&self) -> &dyn RecordScan;
}

/// Reading every stored record of one kind, page after page, outside any unit of work: what
/// `tessera copy` reads from its source. The other side writes through the repositories' own
/// inserts, so that every count storage derives (members, posts, a project's file bytes) is
/// derived there too.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait RecordScan: Send + Sync {
    /// At most `limit` records of `kind` after `after` (the `next` of the previous page; `None`
    /// to start), and where the next page starts — `None` exactly when there is no more. A
    /// `limit` of 0 is taken as 1 (a page that may hold nothing would never move on). The order
    /// is the backend's own but stable: a record stored for the whole walk is met exactly once,
    /// whatever is written meanwhile. Records come whole (password hashes, versions, session
    /// epochs, every timestamp). What belongs to a project whose deletion has begun is left out.
    /// MUST return `BadContinuation` for bytes it did not produce.
    async fn scan(
        &self,
        kind: domain::records::RecordKind,
        after: Option<Continuation>,
        limit: u32,
    ) -> Result<domain::records::RecordPage, StorageError>;

    /// How many records of each kind storage holds, in [`RecordKind::ALL`]'s order: what a
    /// copy's progress counts towards. Exact while nothing writes; records of a project whose
    /// deletion is under way may be counted (it is an estimate for progress, never a check).
    ///
    /// [`RecordKind::ALL`]: domain::records::RecordKind::ALL
    async fn counts(&self) -> Result<Vec<(domain::records::RecordKind, u64)>, StorageError>;
}

/// Idempotency records (API.md, "Idempotent retries"), shared by every instance on the storage.
/// Each call is its own atomic write, outside any unit of work: a claim must be visible to every
/// other request at once, and the answer of a request with no effect has nothing to commit with.
/// An answer with an effect is stored through [`UnitOfWork::idempotency`] instead.
///
/// A record is in progress (a holder and a lease) or completed (an answer). Reads never rely on
/// the sweep or a TTL: every call compares the times it is given.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait IdempotencyRecords: Send + Sync {
    /// Claims `claim.record` for `claim.holder`, atomically (an insert-if-absent; N concurrent
    /// claims of one record grant it to exactly one). Granted when there is no record, or its
    /// `expires_at` is at or before `now`, or it is in progress with a lease ended at or before
    /// `now`: the record then holds this claim's fingerprint, holder, lease and expiry (an old
    /// answer is dropped). Otherwise answers what is there, leaving it as it is.
    async fn claim(&self, claim: &ClaimRequest) -> Result<ClaimOutcome, StorageError>;

    /// Stores the answer of a request that had no effect, if `completion.holder` still holds the
    /// record in progress; answers whether it did. The record's expiry becomes
    /// `completion.expires_at`.
    async fn complete(&self, completion: &Completion) -> Result<bool, StorageError>;

    /// Removes the record if `holder` still holds it in progress (an answer that must not be
    /// stored, so that a retry runs the operation); otherwise leaves it as it is.
    async fn release(&self, record: &RecordKey, holder: Holder) -> Result<(), StorageError>;

    /// Removes at most `limit` records whose `expires_at` is at or before `now` and answers how
    /// many. MUST leave every other record. A backend whose storage expires items by itself
    /// (DynamoDB's TTL) MAY remove none.
    async fn sweep(&self, now: OffsetDateTime, limit: u32) -> Result<u64, StorageError>;
}

/// The stored answer of a request with an effect, written in that effect's unit of work.
#[async_trait]
pub trait IdempotentAnswers: Send {
    /// Completes the record with `completion.answer` if `completion.holder` still holds it in
    /// progress. If it does not (its lease ended and another request took it over), this call or
    /// the unit's commit MUST fail with [`StorageError::ClaimLost`], and nothing of the unit
    /// commits — whatever other condition fails with it.
    async fn store(&mut self, completion: &Completion) -> Result<(), StorageError>;
}

/// What one call of [`ExpiredSessions::sweep`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionsSwept {
    /// Refresh tokens removed because they expired.
    pub tokens: u64,
    /// Chains removed, each with whatever tokens it still had.
    pub chains: u64,
}

/// Purging what refresh can no longer use (API.md: "expired tokens, chains and limiter records
/// are purged by the server"). Reached through [`Storage::expired_sessions`], outside any unit of
/// work: each call is its own short write, so a sweep never holds the database long.
///
/// Nothing read depends on the removal: refresh compares every time itself. A backend whose
/// storage expires items by itself (DynamoDB's TTL: every token carries its `expires_at`, every
/// chain its `ends_at`) MAY remove nothing and answer zeros.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ExpiredSessions: Send + Sync {
    /// Removes, in one batch, at most `limit` refresh tokens whose `expires_at` is at or before
    /// `now`, then at most `limit` chains that are over at `now`: a chain is over when it has
    /// ended (`ends_at <= now`), or when it was revoked and none of its tokens expires after
    /// `now`. A removed chain takes its remaining tokens with it (none of them could refresh it).
    /// MUST leave every token with `expires_at > now` and every other chain as it is. The caller
    /// calls again while a batch came back full.
    async fn sweep(&self, now: OffsetDateTime, limit: u32) -> Result<SessionsSwept, StorageError>;
}

/// Failed password checks, counted in the storage backend so that the count holds across every
/// instance sharing it and across restarts (API.md, "Brute-force protection"). Reached through
/// [`Storage::login_attempts`] and deliberately not part of a unit of work: an attempt counted
/// MUST stay counted whatever the request does afterwards (fails, is cancelled, loses its
/// connection). A success is cleared by the login's own unit of work
/// ([`RefreshTokenRepository::insert_chain`]).
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait LoginAttempts: Send + Sync {
    /// Counts one attempt for `key`, before its password is checked. MUST be atomic in the
    /// storage (never read-then-write in a process): N concurrent calls for one key answer N
    /// distinct counts. When the key has no window or its window ended at or before `now`, a new
    /// window `[now, now + window)` starts holding this attempt (1); else the attempt is added to
    /// the open window, whose end stays. The count answered MUST saturate at
    /// [`Reservation::MAX_FAILURES`], and no flood may overflow what is stored.
    async fn reserve(
        &self,
        key: &AttemptKey,
        now: OffsetDateTime,
        window: Duration,
    ) -> Result<Reservation, StorageError>;

    /// Forgets the attempts of `key` (a right password). Clearing a key with none is no error.
    async fn clear(&self, key: &AttemptKey) -> Result<(), StorageError>;

    /// Removes the records whose window ended at or before `before` and returns how many it
    /// removed. MUST leave every window still open at `before` as it is: sweeping one would
    /// reset a count under attack. A backend whose storage expires records by itself (DynamoDB's
    /// TTL) MAY leave the ended ones to it and remove none; reads never depend on the removal.
    async fn sweep(&self, before: OffsetDateTime) -> Result<u64, StorageError>;
}

#[cfg_attr(test, mockall::automock)]
pub trait CursorCodec: Send + Sync {
    fn seal(&self, list: &ListKey, continuation: &Continuation) -> String;

    /// MUST fail with `InvalidCursor` for anything `seal` did not produce for this very list.
    fn unseal(&self, list: &ListKey, cursor: &str) -> Result<Continuation, AppError>;
}

#[cfg_attr(test, mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current time, truncated to milliseconds so it survives every backend unchanged.
    fn now(&self) -> OffsetDateTime;
}

#[cfg_attr(test, mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new, time-ordered (UUIDv7) id.
    fn new_id(&self) -> Uuid;
}

/// Password hashing, which costs tens of milliseconds of CPU per call and is therefore bounded:
/// every method MAY wait for a turn, MUST fail at once with `Overloaded` when too many calls
/// already wait, and MUST NOT hash for a call whose future was dropped while it waited.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, AppError>;

    async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, AppError>;

    /// Spends the same work as `verify` against a hash nothing matches, so that an unknown login
    /// costs the same time as a wrong password.
    async fn verify_dummy(&self, password: &str) -> Result<(), AppError>;
}

/// A signed access token and its lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// A new refresh token: the secret for the client and the hash for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub secret: String,
    pub hash: TokenHash,
}

#[cfg_attr(test, mockall::automock)]
pub trait TokenIssuer: Send + Sync {
    fn issue_access(&self, user: UserId, now: OffsetDateTime) -> Result<AccessToken, AppError>;

    /// The user an access token was issued to. MUST fail with `Unauthenticated` for a token that
    /// is malformed, expired at `now`, signed with another key or algorithm, or unsigned.
    fn verify_access(&self, token: &str, now: OffsetDateTime) -> Result<UserId, AppError>;

    fn new_refresh_token(&self) -> NewRefreshToken;

    fn hash_refresh_token(&self, secret: &str) -> TokenHash;
}

/// Chain ids come from the id generator too; this keeps the conversion in one place.
pub fn new_chain_id(ids: &dyn IdGenerator) -> ChainId {
    ChainId(ids.new_id())
}

/// Chunks of a file's bytes, as they arrive or leave.
pub type ByteStream = futures::stream::BoxStream<'static, Result<bytes::Bytes, BlobError>>;

/// What went wrong with a blob.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The bytes passed the limit the writer was given; nothing was kept.
    #[error("more than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The stream of bytes itself failed (the client went away or sent a broken body); nothing
    /// was kept.
    #[error("the bytes stopped arriving: {0}")]
    Interrupted(String),
    /// The store cannot be reached or is overloaded; retrying later may succeed.
    #[error("blob store unavailable: {context}")]
    Unavailable {
        context: String,
        #[source]
        source: Option<domain::errors::Cause>,
    },
    /// Anything else: a bug or a broken store. For logs only.
    #[error("blob store failure: {context}")]
    Backend {
        context: String,
        #[source]
        source: Option<domain::errors::Cause>,
    },
}

/// A blob as written: its size and digest, measured while the bytes passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    pub size: u64,
    pub sha256: domain::files::Sha256Digest,
}

/// Bytes `first..=last` of a blob (both inclusive, as HTTP ranges are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

/// A blob being read: the whole blob's size, and the requested bytes as a stream.
pub struct BlobRead {
    pub size: u64,
    pub bytes: ByteStream,
}

/// A request signed for someone else to send, straight to the blob store: its URL, its method,
/// the headers it must carry as they are (they are signed), and when the signature lapses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: OffsetDateTime,
}

/// Where files' bytes live (DESIGN.md, "Files"), keyed by the file's id only. The metadata commit
/// comes after [`BlobStore::put`] and a failed commit deletes the blob, so a reader never meets
/// metadata without bytes; what a crash leaves is a blob nothing references, which the sweep
/// removes once it is older than a grace period ([`BlobStore::list`]).
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Writes `bytes` under `id`, hashing them as they pass, without holding them whole in memory.
    /// MUST refuse with [`BlobError::TooLarge`] as soon as more than `limit` bytes arrived, and
    /// keep nothing of a write that fails for any reason: a blob is visible under `id` whole or
    /// not at all. Writing an `id` that exists replaces it whole.
    async fn put(&self, id: FileId, bytes: ByteStream, limit: u64) -> Result<StoredBlob, BlobError>;

    /// The blob's bytes (all, or `range`, which the caller has checked against the size), or
    /// `None` when there is no blob under `id`.
    async fn get(&self, id: FileId, range: Option<ByteRange>) -> Result<Option<BlobRead>, BlobError>;

    /// Removes the blob; removing one that is not there is no error.
    async fn delete(&self, id: FileId) -> Result<(), BlobError>;

    /// Up to `limit` blobs with ids after `after` (in id order), each with when it was written:
    /// how the sweep finds blobs that no metadata references.
    async fn list(&self, after: Option<FileId>, limit: u32) -> Result<Vec<(FileId, OffsetDateTime)>, BlobError>;

    /// Whether this store hands out presigned requests: MUST be `true` exactly when
    /// [`BlobStore::presign_get`] and [`BlobStore::presign_put`] answer `Some`.
    fn presigns(&self) -> bool;

    /// A GET of the blob under `id` that anyone holding it may send for `ttl`, answered with
    /// `content_type` and `content_disposition` as its headers; `None` when this store cannot
    /// presign. Whether the blob exists is not checked.
    async fn presign_get(
        &self,
        id: FileId,
        ttl: std::time::Duration,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<Option<PresignedRequest>, BlobError>;

    /// A PUT under `id` that anyone holding it may send for `ttl`, stored as [`BlobStore::put`]
    /// stores (whole or not at all); `None` when this store cannot presign. Its signed headers
    /// fix the body's length (`size`), media type and SHA-256 (`sha256`, where the store can
    /// check one), so that nothing else can be stored with it — not even after the upload was
    /// accepted, while the URL still works. The caller still reads the blob back and measures it.
    async fn presign_put(
        &self,
        id: FileId,
        size: u64,
        content_type: &str,
        sha256: Sha256Digest,
        ttl: std::time::Duration,
    ) -> Result<Option<PresignedRequest>, BlobError>;
}
