//! A party: a user or an organization, the one type every domain uses for "who owns this, who organizes
//! that, who is paid". It answers the two questions other domains ask of one: may this caller act for
//! it with a permission, and whom to notify on its behalf.

use platform::ApiError;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::authz::{self, Target};
use crate::model::{OrgId, UserId};

/// A user or an organization (a band, a venue company, a promoter, a label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Party {
    User(Uuid),
    Organization(Uuid),
}

impl Party {
    /// From a pair of columns of which exactly one is set (`user_id`, `org_id`).
    pub fn from_columns(user: Option<Uuid>, org: Option<Uuid>) -> Option<Self> {
        match (user, org) {
            (Some(user), None) => Some(Self::User(user)),
            (None, Some(org)) => Some(Self::Organization(org)),
            _ => None,
        }
    }

    /// The pair of columns that stores it.
    pub fn columns(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Self::User(id) => (Some(id), None),
            Self::Organization(id) => (None, Some(id)),
        }
    }
}

/// Whether the caller may act for `party` with `permission`: the user themself (within what their
/// credentials allow), or a member of the organization whose role grants it there.
pub async fn may_act_for(
    conn: &mut PgConnection,
    principal: &Principal,
    party: Party,
    permission: &str,
) -> Result<bool, ApiError> {
    match party {
        Party::User(user) => Ok(user == principal.user_id.0
            && authz::authorize(principal, permission, Target::OwnedBy(UserId(user))).is_ok()),
        Party::Organization(org) => {
            crate::organizations::service::member_holds(conn, principal, OrgId(org), permission).await
        }
    }
}

/// The people to notify on behalf of `party`: the user, or the organization's owners and admins.
pub async fn people_to_notify(conn: &mut PgConnection, party: Party) -> sqlx::Result<Vec<Uuid>> {
    match party {
        Party::User(user) => Ok(vec![user]),
        Party::Organization(org) => crate::organizations::service::managers(conn, OrgId(org)).await,
    }
}
