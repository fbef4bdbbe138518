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

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    EmailTaken,
    UsernameTaken,
    /// The person is a member of the project already.
    AlreadyMember,
    /// Another post of the project has this slug.
    SlugTaken,
}

/// What a repository or unit of work can fail with. Adapters translate driver errors into these
/// variants themselves; services never see a driver type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// A uniqueness rule was broken by this write.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A conditional write found the record changed (or gone) since it was read: the stored
    /// version differs from the expected one, or a one-time transition already happened.
    #[error("the record changed since it was read")]
    ConditionFailed,
    /// A continuation that this adapter cannot decode (it passed the signature check, so this is
    /// a cursor from an older schema or another backend).
    #[error("continuation not understood")]
    BadContinuation,
    /// The backend cannot be reached or is overloaded; retrying later may succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken invariant. The message is for logs only.
    #[error("storage failure: {0}")]
    Backend(String),
}
