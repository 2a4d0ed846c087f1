//! Ticketing's business rules. Each area owns its transactions; this module holds who may do what
//! with an event.

pub mod aftersale;
pub mod checkin;
pub mod events;
pub mod orders;
pub mod profiles;
pub mod settlement;
pub mod tiers;

use identity::auth::Principal;
use identity::authz::{self, Target};
use platform::ApiError;
use sqlx::PgConnection;

use crate::error::TicketingError;
use crate::model::EventId;
use crate::repo::{self, EventRow};
use crate::state::{Actor, EventStatus};

/// How the caller stands towards an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Manages it: the organizing user, or a member of the organizing organization with `events.manage`.
    Manager,
    /// A platform admin who does not manage it.
    Admin,
    /// Anyone else, signed in or not.
    Public,
}

impl Standing {
    /// The actor of a status change, if the caller may make any.
    pub fn actor(self) -> Option<Actor> {
        match self {
            Self::Manager => Some(Actor::Organizer),
            Self::Admin => Some(Actor::Admin),
            Self::Public => None,
        }
    }

    pub fn sees_everything(self) -> bool {
        self != Self::Public
    }
}

/// The caller's standing towards `event`.
pub async fn standing(
    conn: &mut PgConnection,
    principal: Option<&Principal>,
    event: &EventRow,
) -> Result<Standing, ApiError> {
    let Some(principal) = principal else { return Ok(Standing::Public) };
    if identity::party::may_act_for(conn, principal, event.organizer(), "events.manage").await? {
        return Ok(Standing::Manager);
    }
    if principal.has_role("admin") && authz::authorize(principal, "events.manage", Target::Platform).is_ok() {
        return Ok(Standing::Admin);
    }
    Ok(Standing::Public)
}

/// Whether someone with this standing may see the event at all. Drafts are their organizer's alone;
/// a cancelled event stays visible if it was ever published (its ticket holders look it up).
pub fn visible(standing: Standing, event: &EventRow) -> bool {
    standing.sees_everything()
        || event.status.is_public()
        || (event.status == EventStatus::Cancelled && event.published_at.is_some())
}

/// The event, if the caller may see it (anything else is not found), with the caller's standing.
pub async fn visible_event(
    conn: &mut PgConnection,
    principal: Option<&Principal>,
    id: EventId,
    lock: bool,
) -> Result<(EventRow, Standing), ApiError> {
    let event = repo::event(conn, id, lock).await?.ok_or(TicketingError::NotFound("event"))?;
    let standing = standing(conn, principal, &event).await?;
    if !visible(standing, &event) {
        return Err(TicketingError::NotFound("event").into());
    }
    Ok((event, standing))
}

/// The event, locked, if the caller manages it (or is an admin): 404 when they cannot see it, 403 when
/// they can see it but not change it.
pub async fn managed_event(
    conn: &mut PgConnection,
    principal: &Principal,
    id: EventId,
) -> Result<(EventRow, Standing), ApiError> {
    let (event, standing) = visible_event(conn, Some(principal), id, true).await?;
    if standing == Standing::Public {
        return Err(identity::error::IdentityError::Forbidden("events.manage".into()).into());
    }
    Ok((event, standing))
}

/// Whether the caller may scan tickets at the event's door: its managers, members of the organizing
/// organization with `tickets.checkin`, the event's door staff, and admins.
pub async fn may_check_in(conn: &mut PgConnection, principal: &Principal, event: &EventRow) -> Result<bool, ApiError> {
    Ok(identity::party::may_act_for(conn, principal, event.organizer(), "events.manage").await?
        || identity::party::may_act_for(conn, principal, event.organizer(), "tickets.checkin").await?
        || repo::is_staff(conn, event.id, principal.user_id.0).await?
        || (principal.has_role("admin") && authz::authorize(principal, "tickets.checkin", Target::Platform).is_ok()))
}
