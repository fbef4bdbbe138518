//! The caller's own record, password changes, public profiles and the admin list of users.

use std::sync::Arc;

use domain::login_attempts::AttemptKey;
use domain::users::{AvatarUrl, Password, PersonName, Role, User, UserId, UserListQuery, Username, UsernamePrefix};
use domain::StorageError;

use crate::auth::Principal;
use crate::errors::{AppError, Resource};
use crate::login_limit::LoginLimit;
use crate::pagination::{parse_limit, ListKey, Listed, PageRequest};
use crate::ports::CursorCodec;
use crate::ports::Storage;
use crate::ports::{Clock, PasswordHasher};
use crate::validation::{validate, Field, Patch};
use crate::versions::expected_version;

/// A change to the caller's profile as it arrives: each field left out, `null`, or a raw string.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub first_name: Field<String>,
    pub last_name: Field<String>,
    pub username: Field<String>,
    /// `null` removes the avatar.
    pub avatar_url: Field<String>,
}

/// A change to the caller's profile, every field valid; `None` and `Keep` keep the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub username: Option<Username>,
    pub avatar_url: Patch<AvatarUrl>,
}

impl ProfileChanges {
    /// Parses every field of `patch` at once: one `Validation` error names each bad field. Done
    /// before the change's precondition is looked at, so a bad body is 422 whatever its `If-Match`.
    pub fn parse(patch: ProfilePatch) -> Result<Self, AppError> {
        let (first_name, last_name, username, avatar_url) = validate((
            patch.first_name.non_null("first_name", |n| PersonName::parse("first_name", n)),
            patch.last_name.non_null("last_name", |n| PersonName::parse("last_name", n)),
            patch.username.non_null("username", |n| Username::parse(&n)),
            patch.avatar_url.nullable(|url| AvatarUrl::parse(&url)),
        ))?;
        Ok(Self { first_name, last_name, username, avatar_url })
    }
}

/// How often a password change re-reads the user after losing a race with another write.
const PASSWORD_CHANGE_ATTEMPTS: usize = 3;

#[derive(Clone)]
pub struct UserDeps {
    pub storage: Arc<dyn Storage>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub clock: Arc<dyn Clock>,
    pub cursors: Arc<dyn CursorCodec>,
}

#[derive(Clone)]
pub struct UserService {
    deps: UserDeps,
    login_limit: LoginLimit,
}

impl UserService {
    pub fn new(deps: UserDeps, login_limit: LoginLimit) -> Self {
        Self { deps, login_limit }
    }

    /// The caller's own record. A valid token whose user no longer exists is unauthenticated.
    pub async fn me(&self, principal: Principal) -> Result<User, AppError> {
        let mut reader = self.deps.storage.read().await?;
        reader.users().get(principal.user_id).await?.ok_or(AppError::Unauthenticated)
    }

    /// Applies `changes` to the caller's record. With `if_match`, the write happens only if the
    /// stored version is still that one; the check is the storage's compare-and-set, not a read.
    pub async fn update_me(
        &self,
        principal: Principal,
        changes: ProfileChanges,
        if_match: Option<i64>,
    ) -> Result<User, AppError> {
        let mut uow = self.deps.storage.begin().await?;
        let current = uow.users().get(principal.user_id).await?.ok_or(AppError::Unauthenticated)?;
        let expected = expected_version(if_match, current.version)?;
        let mut next = current.clone();
        if let Some(name) = changes.first_name {
            next.first_name = name;
        }
        if let Some(name) = changes.last_name {
            next.last_name = name;
        }
        if let Some(name) = changes.username {
            next.username = name;
        }
        match changes.avatar_url {
            Patch::Keep => {}
            Patch::Clear => next.avatar_url = None,
            Patch::Set(url) => next.avatar_url = Some(url),
        }
        if next == current {
            return Ok(current);
        }
        next.version = current.version + 1;
        next.updated_at = self.deps.clock.now();
        uow.users().update(&next, expected).await?;
        uow.commit().await?;
        Ok(next)
    }

    /// Replaces the caller's password after checking the current one, and ends every login of the
    /// user (their refresh-token chains die with the old session epoch). Each check of the
    /// current password is counted against the account's login limit before it is made.
    pub async fn change_password(
        &self,
        principal: Principal,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), AppError> {
        let new_password = Password::parse("new_password", new_password).map_err(AppError::invalid)?;
        for _ in 0..PASSWORD_CHANGE_ATTEMPTS {
            let user = {
                let mut reader = self.deps.storage.read().await?;
                reader.users().get(principal.user_id).await?.ok_or(AppError::Unauthenticated)?
            };
            // Guessing the current password with a stolen access token is guessing the
            // account's password: counted against the same account as its logins, first.
            let key = AttemptKey::Account(user.id);
            self.login_limit.count_attempt(self.deps.storage.as_ref(), &key, self.deps.clock.now()).await?;
            if !self.deps.hasher.verify(current_password, &user.password_hash).await? {
                return Err(AppError::WrongCurrentPassword);
            }
            // The right password was no failure: the count goes, as after a successful login
            // (else every password change would count as a failure against the account).
            self.deps.storage.login_attempts().clear(&key).await?;
            let mut next = user.clone();
            next.password_hash = self.deps.hasher.hash(&new_password).await?;
            next.session_epoch = user.session_epoch + 1;
            next.version = user.version + 1;
            next.updated_at = self.deps.clock.now();
            let mut uow = self.deps.storage.begin().await?;
            let written = match uow.users().update(&next, user.version).await {
                Ok(()) => uow.commit().await,
                Err(e) => Err(e),
            };
            match written {
                Ok(()) => return Ok(()),
                // Someone else wrote the record between our read and our write: verify the
                // current password again against what is stored now.
                Err(StorageError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Internal(format!("password change lost {PASSWORD_CHANGE_ATTEMPTS} races in a row")))
    }

    /// Anyone's public profile.
    pub async fn profile(&self, id: UserId) -> Result<User, AppError> {
        let mut reader = self.deps.storage.read().await?;
        reader.users().get(id).await?.ok_or(AppError::NotFound(Resource::User))
    }

    /// Every user by username, for administrators only.
    pub async fn list(
        &self,
        principal: Principal,
        username_prefix: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Listed<User>, AppError> {
        let (prefix, limit) = validate((username_prefix.map(UsernamePrefix::parse).transpose(), parse_limit(limit)))?;
        let list = ListKey::new("list_users", &[prefix.as_ref().map_or("", UsernamePrefix::as_str)]);
        let page = PageRequest::open(self.deps.cursors.as_ref(), list, cursor, limit)?;

        let mut reader = self.deps.storage.read().await?;
        let caller = reader.users().get(principal.user_id).await?.ok_or(AppError::Unauthenticated)?;
        if caller.role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        let query = UserListQuery { prefix, after: page.after.clone(), limit: page.limit, budget: page.budget };
        Ok(page.finish(reader.users().list(&query).await?))
    }
}

#[cfg(test)]
#[path = "users_tests.rs"]
mod tests;
