//! Registration, login, refresh with rotation and reuse detection, logout, and access-token checks.

use std::sync::Arc;

use domain::auth::{RefreshChain, RefreshToken};
use domain::login_attempts::{AttemptKey, LoginName};
use domain::users::{Email, Password, PersonName, Role, User, UserId, Username};
use domain::StorageError;
use time::Duration;

use crate::errors::AppError;
use crate::idempotency::{record, Retry};
use crate::login_limit::LoginLimit;
use crate::ports::{new_chain_id, Clock, IdGenerator, PasswordHasher, TokenIssuer};
use crate::ports::{Storage, UnitOfWork};
use crate::validation::validate;

/// The caller behind a valid access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
}

/// A registration as it arrives: raw strings, parsed into value objects by the service so that
/// every broken rule is reported at once.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub username: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
}

/// What a successful login or refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
}

#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    pub refresh_ttl: Duration,
    /// How long a login lives from `auth/login`, however often it is refreshed.
    pub session_max_age: Duration,
    pub login_limit: LoginLimit,
}

/// Everything the auth use cases reach the outside world through.
#[derive(Clone)]
pub struct AuthDeps {
    pub storage: Arc<dyn Storage>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn TokenIssuer>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

#[derive(Clone)]
pub struct AuthService {
    deps: AuthDeps,
    settings: AuthSettings,
}

struct ParsedRegistration {
    email: Email,
    username: Username,
    password: Password,
    first_name: PersonName,
    last_name: PersonName,
}

fn parse_registration(r: &Registration) -> Result<ParsedRegistration, AppError> {
    let (email, username, password, first_name, last_name) = validate((
        Email::parse(&r.email),
        Username::parse(&r.username),
        Password::parse("password", &r.password),
        PersonName::parse("first_name", &r.first_name),
        PersonName::parse("last_name", &r.last_name),
    ))?;
    Ok(ParsedRegistration { email, username, password, first_name, last_name })
}

impl AuthService {
    pub fn new(deps: AuthDeps, settings: AuthSettings) -> Self {
        Self { deps, settings }
    }

    /// Creates a user with role `user`.
    pub async fn register(&self, registration: Registration, retry: Option<Retry<User>>) -> Result<User, AppError> {
        self.create_user(registration, Role::User, retry).await
    }

    /// Creates an administrator (the `tessera admin create` command; not reachable over HTTP).
    pub async fn create_admin(&self, registration: Registration) -> Result<User, AppError> {
        self.create_user(registration, Role::Admin, None).await
    }

    async fn create_user(
        &self,
        registration: Registration,
        role: Role,
        retry: Option<Retry<User>>,
    ) -> Result<User, AppError> {
        let parsed = parse_registration(&registration)?;
        // Hash before opening the unit of work: Argon2 takes tens of milliseconds and must not
        // hold a transaction (or SQLite's single writer) while it runs.
        let password_hash = self.deps.hasher.hash(&parsed.password).await?;
        let now = self.deps.clock.now();
        let user = User {
            id: UserId(self.deps.ids.new_id()),
            email: parsed.email,
            username: parsed.username,
            first_name: parsed.first_name,
            last_name: parsed.last_name,
            avatar_url: None,
            role,
            password_hash,
            session_epoch: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut uow = self.deps.storage.begin().await?;
        uow.users().insert(&user).await?;
        record(retry.as_ref(), uow.as_mut(), &user).await?;
        uow.commit().await?;
        Ok(user)
    }

    /// Exchanges a login name (email or username, any case) and password for a token pair,
    /// starting a new refresh-token chain.
    ///
    /// The attempt is counted (one storage call) after the lookup and before any hashing: an
    /// account is one target whatever name found it, an unknown name is counted as its digest.
    /// Locked, the answer is the same for both and nothing is hashed. A success clears the
    /// account's count in the login's own unit of work (`insert_chain`).
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        retry: Option<Retry<TokenPair>>,
    ) -> Result<TokenPair, AppError> {
        // Longer than any email: nobody's, refused before it costs a count or a hash.
        let Some(name) = LoginName::parse(login) else {
            return Err(AppError::InvalidCredentials);
        };
        let found = self.find_by_login(&name).await?;
        let key = match &found {
            Some(user) => AttemptKey::Account(user.id),
            None => AttemptKey::unknown_name(&name),
        };
        let now = self.deps.clock.now();
        self.settings.login_limit.count_attempt(self.deps.storage.as_ref(), &key, now).await?;
        let verified = match &found {
            Some(user) => self.deps.hasher.verify(password, &user.password_hash).await?,
            None => {
                self.deps.hasher.verify_dummy(password).await?;
                false
            }
        };
        // A failure needs nothing more: the counted attempt stands as it.
        let Some(user) = found.filter(|_| verified) else {
            return Err(AppError::InvalidCredentials);
        };

        let chain = RefreshChain {
            id: new_chain_id(self.deps.ids.as_ref()),
            user_id: user.id,
            session_epoch: user.session_epoch,
            created_at: now,
            ends_at: now + self.settings.session_max_age,
            revoked_at: None,
        };
        let mut uow = self.deps.storage.begin().await?;
        uow.refresh_tokens().insert_chain(&chain).await?;
        let pair = self.next_token(uow.as_mut(), &chain).await?;
        record(retry.as_ref(), uow.as_mut(), &pair).await?;
        uow.commit().await?;
        Ok(pair)
    }

    /// The account a login name names. One that is no valid email or username belongs to
    /// nobody: it costs the same count and hash as any unknown name, and storage never sees it.
    async fn find_by_login(&self, name: &LoginName) -> Result<Option<User>, AppError> {
        let name = name.as_str();
        let found = if name.contains('@') {
            match Email::parse(name) {
                Ok(email) => self.deps.storage.read().await?.users().find_by_email(&email).await?,
                Err(_) => None,
            }
        } else {
            match Username::parse(name) {
                Ok(username) => self.deps.storage.read().await?.users().find_by_username(&username).await?,
                Err(_) => None,
            }
        };
        Ok(found)
    }

    /// Adds a fresh refresh token to `chain` inside `uow` and issues the matching access token.
    async fn next_token(&self, uow: &mut dyn UnitOfWork, chain: &RefreshChain) -> Result<TokenPair, AppError> {
        let now = self.deps.clock.now();
        let fresh = self.deps.tokens.new_refresh_token();
        let token = RefreshToken {
            hash: fresh.hash,
            chain_id: chain.id,
            user_id: chain.user_id,
            issued_at: now,
            expires_at: chain.token_expiry(now, self.settings.refresh_ttl),
            spent_at: None,
        };
        uow.refresh_tokens().insert_token(&token).await?;
        let access = self.deps.tokens.issue_access(chain.user_id, now)?;
        Ok(TokenPair { access_token: access.token, expires_in: access.expires_in, refresh_token: fresh.secret })
    }

    /// Spends `refresh_token` and hands out the next pair of its chain. Presenting a spent token
    /// again revokes the whole chain (it was stolen, or the client is broken). A chain that reached
    /// its end (`--session-max-age` from the login) refreshes no more, whatever its tokens say.
    ///
    /// With an `Idempotency-Key`, the new pair is stored with the spend: a retry after a lost
    /// answer gets that pair again and never reaches this code (no reuse is detected).
    pub async fn refresh(&self, refresh_token: &str, retry: Option<Retry<TokenPair>>) -> Result<TokenPair, AppError> {
        let hash = self.deps.tokens.hash_refresh_token(refresh_token);
        let now = self.deps.clock.now();
        let mut uow = self.deps.storage.begin().await?;
        let token = uow.refresh_tokens().find_token(&hash).await?.ok_or(AppError::InvalidRefreshToken)?;
        let chain = uow.refresh_tokens().get_chain(token.chain_id).await?.ok_or(AppError::InvalidRefreshToken)?;
        let user = uow.users().get(token.user_id).await?.ok_or(AppError::InvalidRefreshToken)?;
        if chain.revoked_at.is_some() || chain.has_ended(now) || chain.session_epoch != user.session_epoch {
            return Err(AppError::InvalidRefreshToken);
        }
        if token.spent_at.is_some() {
            uow.refresh_tokens().revoke_chain(chain.id, now).await?;
            uow.commit().await?;
            return Err(AppError::RefreshTokenReused);
        }
        if token.expires_at <= now {
            return Err(AppError::InvalidRefreshToken);
        }
        let spent = uow.refresh_tokens().spend_token(&hash, now).await;
        let pair = match spent {
            Ok(()) => self.next_token(uow.as_mut(), &chain).await?,
            Err(e) => return self.lost_spend_race(uow, e, &chain).await,
        };
        record(retry.as_ref(), uow.as_mut(), &pair).await?;
        match uow.commit().await {
            Ok(()) => Ok(pair),
            // DynamoDB checks the "not spent yet" condition only at commit.
            Err(StorageError::ConditionFailed) => {
                let uow = self.deps.storage.begin().await?;
                self.lost_spend_race(uow, StorageError::ConditionFailed, &chain).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Another request spent the same token between our read and our write: that is reuse too.
    async fn lost_spend_race(
        &self,
        mut uow: Box<dyn UnitOfWork>,
        err: StorageError,
        chain: &RefreshChain,
    ) -> Result<TokenPair, AppError> {
        if !matches!(err, StorageError::ConditionFailed) {
            return Err(err.into());
        }
        uow.refresh_tokens().revoke_chain(chain.id, self.deps.clock.now()).await?;
        uow.commit().await?;
        Err(AppError::RefreshTokenReused)
    }

    /// Ends the login `refresh_token` belongs to. Unknown tokens are ignored (idempotent).
    pub async fn logout(&self, refresh_token: &str, retry: Option<Retry<()>>) -> Result<(), AppError> {
        let hash = self.deps.tokens.hash_refresh_token(refresh_token);
        let mut uow = self.deps.storage.begin().await?;
        let Some(token) = uow.refresh_tokens().find_token(&hash).await? else {
            return Ok(());
        };
        uow.refresh_tokens().revoke_chain(token.chain_id, self.deps.clock.now()).await?;
        record(retry.as_ref(), uow.as_mut(), &()).await?;
        uow.commit().await?;
        Ok(())
    }

    /// The principal of a valid access token. Stateless: no storage call.
    pub fn authenticate(&self, access_token: &str) -> Result<Principal, AppError> {
        let user_id = self.deps.tokens.verify_access(access_token, self.deps.clock.now())?;
        Ok(Principal { user_id })
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
