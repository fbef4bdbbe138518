//! The error vocabulary of the core. Every storage adapter maps its own failures into
//! [`StorageError`] (a PostgreSQL unique violation and a DynamoDB failed condition become the same
//! [`Conflict`]), and value objects report rule violations as [`FieldViolation`]s.

use std::fmt;

/// One broken input rule, named by the API field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: &'static str,
    pub message: String,
}

impl FieldViolation {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Which rule on what is already stored a write broke: a uniqueness rule, or the project's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    EmailTaken,
    UsernameTaken,
    /// The person is a member of the project already.
    AlreadyMember,
    /// Another post of the project has this slug.
    SlugTaken,
    /// The project's files would pass its storage quota.
    QuotaExceeded,
    /// A file with this id is stored already (a direct upload completed twice).
    FileExists,
}

/// The failure underneath a [`StorageError`] — the driver's or the SDK's own error, kept whole so
/// that logs show its chain of causes. Nothing matches on it: what a caller may act on is the
/// variant.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a repository or unit of work can fail with. Adapters translate driver errors into these
/// variants themselves; services never see a driver type (a [`Cause`] is opaque to them).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness rule was broken by this write.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A conditional write found the record changed (or gone) since it was read: the stored
    /// version differs from the expected one, or a one-time transition already happened.
    #[error("the record changed since it was read")]
    ConditionFailed,
    /// An idempotency claim this unit of work completes is no longer held by its holder (its
    /// lease ended and another request took it over): nothing of the unit may commit.
    #[error("the idempotency claim was lost")]
    ClaimLost,
    /// A continuation that this adapter cannot decode (it passed the signature check, so this is
    /// a cursor from an older schema or another backend).
    #[error("continuation not understood")]
    BadContinuation,
    /// The backend cannot be reached or is overloaded; retrying later may succeed.
    #[error("storage unavailable: {context}")]
    Unavailable {
        /// What was being done, for the logs.
        context: String,
        #[source]
        source: Option<Cause>,
    },
    /// Anything else: a bug, a broken invariant or a driver failure. For logs only.
    #[error("storage failure: {context}")]
    Backend {
        /// What was being done or what was found broken, for the logs.
        context: String,
        #[source]
        source: Option<Cause>,
    },
}

impl StorageError {
    /// A broken invariant found by the adapter itself (a corrupt record, a misused unit of work).
    pub fn backend(context: impl Into<String>) -> Self {
        StorageError::Backend { context: context.into(), source: None }
    }

    /// A failure of the backend, `source` being the driver's own error.
    pub fn backend_from(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        StorageError::Backend { context: context.into(), source: Some(source.into()) }
    }

    /// The backend cannot serve now, as the adapter itself found.
    pub fn unavailable(context: impl Into<String>) -> Self {
        StorageError::Unavailable { context: context.into(), source: None }
    }

    /// The backend cannot serve now, `source` being the driver's own error.
    pub fn unavailable_from(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        StorageError::Unavailable { context: context.into(), source: Some(source.into()) }
    }
}
