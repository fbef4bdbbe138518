//! Bearer authentication: the access token is checked by the auth service; any failure is a 401
//! problem with `WWW-Authenticate: Bearer`.

use application::auth::{AuthService, Principal};
use application::AppError;
use poem::{IntoResponse, Request};
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;

use crate::api::problems::ProblemResponse;

/// A JWT access token from `POST /api/v1/auth/login` or `/auth/refresh`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(pub Principal);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let refuse = |err: AppError| poem::Error::from_response(ProblemResponse::from(err).into_response());
    let auth = req.data::<AuthService>().ok_or_else(|| refuse(AppError::Internal("auth service not wired".into())))?;
    auth.authenticate(&bearer.token).map_err(refuse)
}
