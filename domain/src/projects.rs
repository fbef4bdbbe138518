//! Projects, the roles people hold in them, and the authorisation table.

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::FieldViolation;
use crate::pagination::{json_text_len, Continuation, JsonSize, PageBudget, PageLimit};
use crate::text;
use crate::users::{Profile, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectId(pub Uuid);

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(raw: impl crate::text::Raw) -> Result<Self, FieldViolation> {
        text::line("name", raw, 1, 100).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 0 to 2000 characters, kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description(String);

impl Description {
    pub fn parse(raw: impl crate::text::Raw) -> Result<Self, FieldViolation> {
        text::block("description", raw, 2000).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The role a person holds in one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectRole {
    Owner,
    Editor,
    Viewer,
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 3] = [ProjectRole::Owner, ProjectRole::Editor, ProjectRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Owner => "owner",
            ProjectRole::Editor => "editor",
            ProjectRole::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        ProjectRole::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// The authorisation table: what each role may do in its project.
    pub fn can(self, action: ProjectAction) -> bool {
        use ProjectAction as A;
        use ProjectRole as R;
        match action {
            // A file's uploader may delete it whatever their role now: they put it there.
            A::View | A::ListMembers | A::DeleteOwnFile => true,
            A::Edit | A::CreatePost | A::SeeDrafts | A::ModifyOwnPost | A::UploadFile => {
                matches!(self, R::Owner | R::Editor)
            }
            A::Delete | A::ManageMembers | A::ModifyAnyPost | A::DeleteAnyFile => self == R::Owner,
            // The owner cannot leave: ownership is not transferable (API.md: cannot_change_owner).
            A::Leave => self != R::Owner,
        }
    }
}

/// Everything a role may be asked to do inside a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectAction {
    View,
    Edit,
    Delete,
    ListMembers,
    ManageMembers,
    Leave,
    CreatePost,
    SeeDrafts,
    ModifyOwnPost,
    ModifyAnyPost,
    UploadFile,
    DeleteOwnFile,
    DeleteAnyFile,
}

impl ProjectAction {
    pub const ALL: [ProjectAction; 13] = [
        ProjectAction::View,
        ProjectAction::Edit,
        ProjectAction::Delete,
        ProjectAction::ListMembers,
        ProjectAction::ManageMembers,
        ProjectAction::Leave,
        ProjectAction::CreatePost,
        ProjectAction::SeeDrafts,
        ProjectAction::ModifyOwnPost,
        ProjectAction::ModifyAnyPost,
        ProjectAction::UploadFile,
        ProjectAction::DeleteOwnFile,
        ProjectAction::DeleteAnyFile,
    ];
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The caller may not even see the project: answer as if it did not exist.
    Hidden,
    /// The caller sees the project but its role does not allow the action.
    Forbidden,
}

/// Whether someone holding `role` (or no role: not a member) may do `action`.
pub fn authorize(role: Option<ProjectRole>, action: ProjectAction) -> Result<ProjectRole, Denied> {
    match role {
        None => Err(Denied::Hidden),
        Some(role) if role.can(action) => Ok(role),
        Some(_) => Err(Denied::Forbidden),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: ProjectName,
    pub description: Description,
    pub owner_id: UserId,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

/// A project as one person sees it: with its owner's profile, their role and exact counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectView {
    pub project: Project,
    pub owner: Profile,
    pub my_role: ProjectRole,
    /// Members, the owner included.
    pub member_count: i64,
    /// Posts, drafts included.
    pub post_count: i64,
}

/// Its texts and the owner's profile, and at most 300 bytes for ids, role, counts, times, version
/// and field names.
impl JsonSize for ProjectView {
    fn json_size(&self) -> usize {
        300 + json_text_len(self.project.name.as_str())
            + json_text_len(self.project.description.as_str())
            + self.owner.json_size()
    }
}

/// One page of the projects a person owns or is a member of, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectListQuery {
    pub member: UserId,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
    pub budget: PageBudget,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProjectAction as A;
    use ProjectRole as R;

    /// The whole table, written out: a change to a rule must change this test.
    #[test]
    fn the_authorisation_table() {
        let allowed = |role: R| -> Vec<A> { A::ALL.into_iter().filter(|a| role.can(*a)).collect() };
        assert_eq!(
            allowed(R::Owner),
            [
                A::View,
                A::Edit,
                A::Delete,
                A::ListMembers,
                A::ManageMembers,
                A::CreatePost,
                A::SeeDrafts,
                A::ModifyOwnPost,
                A::ModifyAnyPost,
                A::UploadFile,
                A::DeleteOwnFile,
                A::DeleteAnyFile
            ]
        );
        assert_eq!(
            allowed(R::Editor),
            [
                A::View,
                A::Edit,
                A::ListMembers,
                A::Leave,
                A::CreatePost,
                A::SeeDrafts,
                A::ModifyOwnPost,
                A::UploadFile,
                A::DeleteOwnFile
            ]
        );
        assert_eq!(allowed(R::Viewer), [A::View, A::ListMembers, A::Leave, A::DeleteOwnFile]);
    }

    #[test]
    fn strangers_are_hidden_and_members_without_the_right_are_forbidden() {
        for action in A::ALL {
            assert_eq!(authorize(None, action), Err(Denied::Hidden));
            for role in R::ALL {
                let expected = if role.can(action) { Ok(role) } else { Err(Denied::Forbidden) };
                assert_eq!(authorize(Some(role), action), expected, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in R::ALL {
            assert_eq!(R::parse(role.as_str()), Some(role));
        }
        assert_eq!(R::parse("admin"), None);
    }

    #[test]
    fn names_and_descriptions_follow_the_rules() {
        assert_eq!(ProjectName::parse("  Apollo ").map(|n| n.as_str().to_owned()), Ok("Apollo".into()));
        assert!(ProjectName::parse(" ").is_err());
        assert!(ProjectName::parse("x".repeat(101)).is_err());
        assert!(ProjectName::parse("x".repeat(100)).is_ok());
        assert!(Description::parse("").is_ok());
        assert!(Description::parse("line one\nline two\ttab").is_ok());
        assert!(Description::parse("d".repeat(2001)).is_err());
        assert!(Description::parse("bell\u{7}").is_err());
    }
}
