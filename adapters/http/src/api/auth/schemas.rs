//! Request and response schemas of the auth feature.

use std::borrow::Cow;

use application::auth::TokenPair;
use poem::http::HeaderValue;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ToHeader, Type};
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

/// `Cache-Control: no-store`, which every answer holding tokens carries (RFC 6749 §5.1): declared on
/// those operations as a header whose only value is `no-store`.
#[derive(Debug, Clone, Copy)]
pub struct NoStore;

impl NoStore {
    const VALUE: &'static str = "no-store";
}

impl Type for NoStore {
    const IS_REQUIRED: bool = true;
    type RawValueType = &'static str;
    type RawElementValueType = &'static str;

    fn name() -> Cow<'static, str> {
        "string(no-store)".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            enum_items: vec![Self::VALUE.into()],
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&Self::VALUE)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(&Self::VALUE))
    }
}

impl ToHeader for NoStore {
    fn to_header(&self) -> Option<HeaderValue> {
        Some(HeaderValue::from_static(Self::VALUE))
    }
}
