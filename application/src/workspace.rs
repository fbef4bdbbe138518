//! What the project, member and post services share: the ports they reach the outside world
//! through, and the one authorisation call every project-scoped use case makes.

use std::sync::Arc;

use domain::projects::{authorize, Denied, ProjectAction, ProjectId, ProjectRole};
use domain::users::UserId;

use crate::errors::{AppError, Resource};
use crate::ports::CursorCodec;
use crate::ports::{Clock, IdGenerator};
use crate::ports::{Storage, UnitOfWork};

/// Everything the project, member and post use cases reach the outside world through.
#[derive(Clone)]
pub struct WorkspaceDeps {
    pub storage: Arc<dyn Storage>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub cursors: Arc<dyn CursorCodec>,
}

/// The caller's role in `project`, if it allows `action`. A caller who is not a member is told
/// the project does not exist (its existence never leaks); a member whose role lacks the action
/// is forbidden.
pub(crate) async fn require(
    uow: &mut dyn UnitOfWork,
    project: ProjectId,
    caller: UserId,
    action: ProjectAction,
) -> Result<ProjectRole, AppError> {
    let role = uow.members().get(project, caller).await?.map(|m| m.role);
    permit(role, action)
}

/// [`require`] for a role already read (or `None`: not a member).
pub(crate) fn permit(role: Option<ProjectRole>, action: ProjectAction) -> Result<ProjectRole, AppError> {
    authorize(role, action).map_err(|denied| match denied {
        Denied::Hidden => AppError::NotFound(Resource::Project),
        Denied::Forbidden => AppError::Forbidden,
    })
}
