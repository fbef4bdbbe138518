//! `/api/v1/auth`: registration, login, refresh and logout. No bearer token needed.

pub mod schemas;

use application::auth::{AuthService, Registration, TokenPair};
use domain::idempotency::Scope;
use domain::users::User;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use self::schemas::{LoginRequest, NoStore, RefreshRequest, RegisterRequest, TokenPairBody};
use crate::api::etag::etag;
use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError};
use crate::api::retries::{answer, Answered};
use crate::api::tags::ApiTags;
use crate::api::users::schemas::UserBody;

pub struct AuthApi;

error_set!(RegisterErrors: 400, 408, 409, 413, 415, 422, 500, 503);
error_set!(LoginErrors: 400, 401, 408, 409, 413, 415, 422, 429, 500, 503);
error_set!(RefreshErrors: 400, 401, 408, 409, 413, 415, 422, 500, 503);
error_set!(LogoutErrors: 400, 408, 409, 413, 415, 422, 500, 503);

#[derive(ApiResponse)]
pub enum Registered {
    /// The new user.
    #[oai(status = 201)]
    Created(Serialized<UserBody>, #[oai(header = "Location")] String, #[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum Tokens {
    /// The new pair; never to be cached.
    #[oai(status = 200)]
    Ok(
        Serialized<TokenPairBody>,
        /// Always `no-store`: tokens are never kept by a cache (RFC 6749 §5.1).
        #[oai(header = "Cache-Control")]
        NoStore,
    ),
}

fn tokens(pair: &TokenPair) -> Tokens {
    Tokens::Ok(Serialized(pair.clone().into()), NoStore)
}

fn registered(user: &User) -> Registered {
    let location = format!("/api/v1/users/{}", user.id);
    Registered::Created(Serialized(UserBody::from(user)), location, etag(user.version))
}

fn logged_out(_: &()) -> LoggedOut {
    LoggedOut::NoContent
}

#[derive(ApiResponse)]
pub enum LoggedOut {
    /// That login's refresh tokens are revoked (also when the token was unknown).
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account
    #[oai(path = "/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        auth: Data<&AuthService>,
        req: &Request,
        body: Json<RegisterRequest>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<Registered>, ApiError<RegisterErrors>> {
        let body = body.0;
        let registration = Registration {
            email: body.email.0,
            username: body.username.0,
            password: body.password.0,
            first_name: body.first_name.0,
            last_name: body.last_name.0,
        };
        answer(req, idempotency_key.0, Scope::Request, registered, |retry| auth.register(registration, retry)).await
    }

    /// Log in
    ///
    /// Failed attempts are limited per account (email and username alike) and per unknown login
    /// name, across every instance; past the limit the answer is 429, the right password included.
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        auth: Data<&AuthService>,
        req: &Request,
        body: Json<LoginRequest>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<Tokens>, ApiError<LoginErrors>> {
        answer(req, idempotency_key.0, Scope::Request, tokens, |retry| {
            auth.login(&body.0.login.0, &body.0.password.0, retry)
        })
        .await
    }

    /// Exchange a refresh token for a new pair
    ///
    /// The presented token is spent. Presenting a spent token again revokes every token of that login.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        auth: Data<&AuthService>,
        req: &Request,
        body: Json<RefreshRequest>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<Tokens>, ApiError<RefreshErrors>> {
        answer(req, idempotency_key.0, Scope::Request, tokens, |retry| auth.refresh(&body.0.refresh_token.0, retry))
            .await
    }

    /// Log out
    ///
    /// Ends the login the refresh token belongs to. Idempotent.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        auth: Data<&AuthService>,
        req: &Request,
        body: Json<RefreshRequest>,
        /// Makes a retry safe: the same key with the same request gets the first answer again.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$"))]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Answered<LoggedOut>, ApiError<LogoutErrors>> {
        answer(req, idempotency_key.0, Scope::Request, logged_out, |retry| auth.logout(&body.0.refresh_token.0, retry))
            .await
    }
}
