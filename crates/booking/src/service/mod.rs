//! Booking's rules. This module holds who acts for a profile.

pub mod bookings;
pub mod calendars;
pub mod contracts;
pub mod holds;
pub mod money;
pub mod profiles;

use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::model::{OrgId, UserId};
use platform::ApiError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::Owner;

/// Whether the caller acts for a profile's owner: the user themself, or a member of the owning
/// organization (a band, a venue company, a promoter) whose role grants `bookings.manage`.
pub async fn acts_for(conn: &mut PgConnection, principal: &Principal, owner: Owner) -> Result<bool, ApiError> {
    match owner {
        Owner::User(user) => Ok(user == principal.user_id.0
            && authz::authorize(principal, "bookings.manage", Target::OwnedBy(UserId(user))).is_ok()),
        Owner::Organization(org) => {
            identity::service::organizations::member_holds(conn, principal, OrgId(org), "bookings.manage").await
        }
    }
}

/// Whether the caller is a platform admin for booking matters.
pub fn is_admin(principal: &Principal) -> bool {
    principal.has_role("admin") && authz::authorize(principal, "bookings.admin", Target::Platform).is_ok()
}

/// The artist and promoter profiles the caller acts for.
pub async fn my_profiles(conn: &mut PgConnection, principal: &Principal) -> Result<(Vec<Uuid>, Vec<Uuid>), ApiError> {
    let orgs: Vec<Uuid> = identity::service::organizations::orgs_granting(conn, principal, "bookings.manage")
        .await?
        .into_iter()
        .map(|o| o.0)
        .collect();
    let me = principal.user_id.0;
    let artists = sqlx::query_scalar("SELECT id FROM artist_profiles WHERE user_id = $1 OR org_id = ANY($2)")
        .bind(me)
        .bind(&orgs)
        .fetch_all(&mut *conn)
        .await?;
    let promoters = sqlx::query_scalar("SELECT id FROM promoter_profiles WHERE user_id = $1 OR org_id = ANY($2)")
        .bind(me)
        .bind(&orgs)
        .fetch_all(&mut *conn)
        .await?;
    Ok((artists, promoters))
}

/// The users who act for an owner, to notify them: the user, or the organization's owners and admins.
pub async fn people_of(conn: &mut PgConnection, owner: Owner) -> sqlx::Result<Vec<Uuid>> {
    match owner {
        Owner::User(user) => Ok(vec![user]),
        Owner::Organization(org) => identity::service::organizations::managers(conn, OrgId(org)).await,
    }
}
