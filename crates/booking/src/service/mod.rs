//! Booking's rules. This module holds who acts for a profile.

pub mod bookings;
pub mod calendars;
pub mod contracts;
pub mod holds;
pub mod money;
pub mod profiles;

use identity::auth::Principal;
use identity::authz::{self, Target};
use platform::ApiError;
use sqlx::PgConnection;
use uuid::Uuid;

/// The permission with which a caller acts for a profile's owner (the user, or a member of the
/// organization whose role grants it): `identity::party::may_act_for(.., BOOKINGS_MANAGE)`.
pub const BOOKINGS_MANAGE: &str = "bookings.manage";

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
    let artists =
        sqlx::query_scalar!(r#"SELECT id FROM artist_profiles WHERE user_id = $1 OR org_id = ANY($2)"#, me, &orgs)
            .fetch_all(&mut *conn)
            .await?;
    let promoters =
        sqlx::query_scalar!(r#"SELECT id FROM promoter_profiles WHERE user_id = $1 OR org_id = ANY($2)"#, me, &orgs)
            .fetch_all(&mut *conn)
            .await?;
    Ok((artists, promoters))
}
