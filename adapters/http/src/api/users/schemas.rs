//! Request and response schemas of the users feature, split by intent.

use domain::users::{Profile, Role, User};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Enum, Object};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::schemas::inputs::{AvatarUrlInput, NameInput, NewPasswordInput, SecretInput, UsernameInput};

/// A user's role across the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename = "Role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RoleBody {
    User,
    Admin,
}

impl From<Role> for RoleBody {
    fn from(role: Role) -> Self {
        match role {
            Role::User => RoleBody::User,
            Role::Admin => RoleBody::Admin,
        }
    }
}

/// What anyone may see of a user.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "Profile")]
pub struct ProfileBody {
    pub id: Uuid,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    #[oai(nullable)]
    pub avatar_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<&Profile> for ProfileBody {
    fn from(profile: &Profile) -> Self {
        Self {
            id: profile.id.0,
            username: profile.username.as_str().to_owned(),
            first_name: profile.first_name.as_str().to_owned(),
            last_name: profile.last_name.as_str().to_owned(),
            avatar_url: profile.avatar_url.as_ref().map(|a| a.as_str().to_owned()),
            created_at: profile.created_at,
        }
    }
}

/// A user's own record: the profile plus email, role and version.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(rename = "User")]
pub struct UserBody {
    #[oai(flatten)]
    #[serde(flatten)]
    pub profile: ProfileBody,
    pub email: String,
    pub role: RoleBody,
    /// Increases with every change; sent as the `ETag`.
    pub version: i64,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            profile: ProfileBody::from(&user.profile()),
            email: user.email.as_str().to_owned(),
            role: user.role.into(),
            version: user.version,
        }
    }
}

/// Fields to change on the caller's record; absent fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct UpdateMeRequest {
    pub first_name: MaybeUndefined<NameInput>,
    pub last_name: MaybeUndefined<NameInput>,
    pub username: MaybeUndefined<UsernameInput>,
    /// `null` removes the avatar.
    #[oai(nullable)]
    pub avatar_url: MaybeUndefined<AvatarUrlInput>,
}

/// A password change; every refresh token of the user is revoked by it.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: SecretInput,
    pub new_password: NewPasswordInput,
}

/// A page of users.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "UserPage")]
pub struct UserPageBody {
    pub items: Vec<UserBody>,
    /// Pass as `cursor` to get the next page; `null` exactly when the list has no more items. A page
    /// also stops early at about 1 MiB of JSON, so it may hold fewer than `limit` items and still
    /// have a cursor.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}
