//! `/api/v1/users`: the caller's own record, password changes, public profiles, the admin list.

pub mod schemas;

use application::users::{ProfileChanges, ProfilePatch, UserService};
use domain::users::{User, UserId};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use self::schemas::{ChangePasswordRequest, ProfileBody, UpdateMeRequest, UserBody, UserPageBody};
use crate::api::etag::{etag, expected_version};
use crate::api::json::Serialized;
use crate::api::problems::{error_set, ApiError};
use crate::api::schemas::fields::field;
use crate::api::security::BearerAuth;
use crate::api::tags::ApiTags;

pub struct UsersApi;

error_set!(GetMeErrors: 401, 500, 503);
error_set!(UpdateMeErrors: 400, 401, 408, 409, 412, 413, 415, 422, 500, 503);
error_set!(ChangePasswordErrors: 400, 401, 403, 408, 413, 415, 422, 429, 500, 503);
error_set!(GetUserErrors: 400, 401, 404, 500, 503);
error_set!(ListUsersErrors: 400, 401, 403, 500, 503);

#[derive(ApiResponse)]
pub enum UserResponse {
    /// The caller's record.
    #[oai(status = 200)]
    Ok(Serialized<UserBody>, #[oai(header = "ETag")] String),
}

impl UserResponse {
    pub fn of(user: &User) -> Self {
        UserResponse::Ok(Serialized(UserBody::from(user)), etag(user.version))
    }
}

#[derive(ApiResponse)]
pub enum PasswordChanged {
    /// Changed; every login of the user has ended.
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
pub enum ProfileResponse {
    #[oai(status = 200)]
    Ok(Serialized<ProfileBody>),
}

#[derive(ApiResponse)]
pub enum UserPageResponse {
    #[oai(status = 200)]
    Ok(Serialized<UserPageBody>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UsersApi {
    /// The caller's own record
    #[oai(path = "/users/me", method = "get", operation_id = "get_me")]
    async fn get_me(&self, auth: BearerAuth, users: Data<&UserService>) -> Result<UserResponse, ApiError<GetMeErrors>> {
        let user = users.me(auth.0).await?;
        Ok(UserResponse::of(&user))
    }

    /// Change the caller's profile
    ///
    /// With `If-Match: "<version>"` the change happens only if the record is still at that version.
    #[oai(path = "/users/me", method = "patch", operation_id = "update_me")]
    async fn update_me(
        &self,
        auth: BearerAuth,
        users: Data<&UserService>,
        body: Json<UpdateMeRequest>,
        #[oai(name = "If-Match", validator(pattern = r#"^(|\*|(W/)?"[^"]*")$"#))] if_match: Header<Option<String>>,
    ) -> Result<UserResponse, ApiError<UpdateMeErrors>> {
        let body = body.0;
        let patch = ProfilePatch {
            first_name: field(body.first_name, |v| v.0),
            last_name: field(body.last_name, |v| v.0),
            username: field(body.username, |v| v.0),
            avatar_url: field(body.avatar_url, |url| url.0),
        };
        // Every field is checked before the precondition: a bad body is 422 whatever its If-Match.
        let changes = ProfileChanges::parse(patch)?;
        let expected = expected_version(if_match.0.as_deref())?;
        let user = users.update_me(auth.0, changes, expected).await?;
        Ok(UserResponse::of(&user))
    }

    /// Change the caller's password
    ///
    /// Ends every login of the user: all their refresh tokens stop working. A wrong
    /// `current_password` counts against the account's failed-login limit; past it the answer is 429.
    #[oai(path = "/users/me/password", method = "put", operation_id = "change_password")]
    async fn change_password(
        &self,
        auth: BearerAuth,
        users: Data<&UserService>,
        body: Json<ChangePasswordRequest>,
    ) -> Result<PasswordChanged, ApiError<ChangePasswordErrors>> {
        users.change_password(auth.0, &body.0.current_password.0, &body.0.new_password.0).await?;
        Ok(PasswordChanged::NoContent)
    }

    /// A user's public profile
    #[oai(path = "/users/:user_id", method = "get", operation_id = "get_user")]
    async fn get_user(
        &self,
        _auth: BearerAuth,
        users: Data<&UserService>,
        user_id: Path<Uuid>,
    ) -> Result<ProfileResponse, ApiError<GetUserErrors>> {
        let user = users.profile(UserId(user_id.0)).await?;
        Ok(ProfileResponse::Ok(Serialized(ProfileBody::from(&user.profile()))))
    }

    /// Every user by username (administrators only)
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    async fn list_users(
        &self,
        auth: BearerAuth,
        users: Data<&UserService>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 2048))]
        cursor: Query<Option<String>>,
        /// Only usernames that start with this.
        #[oai(validator(pattern = "^[A-Za-z0-9_]{1,32}$"))]
        username_prefix: Query<Option<String>>,
    ) -> Result<UserPageResponse, ApiError<ListUsersErrors>> {
        let listed = users.list(auth.0, username_prefix.0.as_deref(), cursor.0.as_deref(), limit.0).await?;
        Ok(UserPageResponse::Ok(Serialized(UserPageBody {
            items: listed.items.iter().map(UserBody::from).collect(),
            next_cursor: listed.next_cursor,
        })))
    }
}
