//! Every stored record, by kind: what `tessera copy` reads from one backend and writes to another,
//! keeping ids, versions, password hashes and every timestamp.

use crate::files::File;
use crate::members::Member;
use crate::pagination::Continuation;
use crate::posts::Post;
use crate::projects::Project;
use crate::users::User;

/// The kinds of record a copy moves, in the order they must be written: each needs the ones
/// before it (a member its project and user, a post its project, a file its project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Users,
    Projects,
    Members,
    Posts,
    Files,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] =
        [RecordKind::Users, RecordKind::Projects, RecordKind::Members, RecordKind::Posts, RecordKind::Files];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Users => "users",
            RecordKind::Projects => "projects",
            RecordKind::Members => "members",
            RecordKind::Posts => "posts",
            RecordKind::Files => "files",
        }
    }
}

/// One stored record, whole. Counts (members, posts, a project's file bytes) are not records:
/// storage derives them from the records it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    User(User),
    Project(Project),
    Member(Member),
    Post(Post),
    File(File),
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::User(_) => RecordKind::Users,
            Record::Project(_) => RecordKind::Projects,
            Record::Member(_) => RecordKind::Members,
            Record::Post(_) => RecordKind::Posts,
            Record::File(_) => RecordKind::Files,
        }
    }
}

/// One page of a scan: its records and where the next page starts (`None` at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPage {
    pub records: Vec<Record>,
    pub next: Option<Continuation>,
}
