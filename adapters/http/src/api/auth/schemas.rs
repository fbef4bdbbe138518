//! Request and response schemas of the auth feature.

use application::auth::TokenPair;
use poem_openapi::{Enum, Object};

use crate::api::schemas::inputs::{EmailInput, NameInput, NewPasswordInput, SecretInput, UsernameInput};

/// A new account.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: EmailInput,
    pub username: UsernameInput,
    pub password: NewPasswordInput,
    pub first_name: NameInput,
    pub last_name: NameInput,
}

/// Credentials; `login` is the email or the username, in any case.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: SecretInput,
    pub password: SecretInput,
}

/// A refresh token from a previous login or refresh.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: SecretInput,
}

/// How to present the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
pub enum TokenType {
    Bearer,
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Object, serde::Serialize)]
#[oai(rename = "TokenPair")]
pub struct TokenPairBody {
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque; spent by `auth/refresh`, which hands out the next one.
    pub refresh_token: String,
}

impl From<TokenPair> for TokenPairBody {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            token_type: TokenType::Bearer,
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        }
    }
}
