//! The event lifecycle: its states, the transitions between them, and who may make each (the table
//! [`TRANSITIONS`]; drawn in docs/ticketing.md). Completed is final.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Stored as text; a value the database holds that is none of these fails to decode (a 500, logged),
// never read as another status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum EventStatus {
    Draft,
    Published,
    Postponed,
    Cancelled,
    Completed,
}

impl std::fmt::Display for EventStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventStatus {
    pub const ALL: [Self; 5] = [Self::Draft, Self::Published, Self::Postponed, Self::Cancelled, Self::Completed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Postponed => "postponed",
            Self::Cancelled => "cancelled",
            Self::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the public sees the event (search, its page, ticket sales while published).
    pub fn is_public(self) -> bool {
        matches!(self, Self::Published | Self::Postponed | Self::Completed)
    }
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A manager of the event's organizer (the organizing user, or an organization member with
    /// `events.manage`).
    Organizer,
    /// A platform admin, moderating.
    Admin,
    /// Backline itself (timers).
    System,
}

use Actor::{Admin, Organizer, System};
use EventStatus::{Cancelled, Completed, Draft, Postponed, Published};

/// Every allowed transition and the actors allowed to make it. Anything else is refused.
pub const TRANSITIONS: &[(EventStatus, EventStatus, &[Actor])] = &[
    (Draft, Published, &[Organizer]),
    (Draft, Cancelled, &[Organizer, Admin]),
    (Published, Cancelled, &[Organizer, Admin]),
    (Published, Completed, &[Organizer, Admin, System]),
    (Published, Postponed, &[Organizer, Admin]),
    (Postponed, Published, &[Organizer]),
    (Postponed, Cancelled, &[Organizer, Admin]),
    (Postponed, Draft, &[Organizer]),
    (Cancelled, Draft, &[Organizer]),
    (Cancelled, Published, &[Organizer]),
];

pub type TransitionError = platform::lifecycle::TransitionError<EventStatus>;

impl platform::lifecycle::State for EventStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Checks one transition for one actor.
pub fn check(from: EventStatus, to: EventStatus, actor: Actor) -> Result<(), TransitionError> {
    platform::lifecycle::check(TRANSITIONS, from, to, actor)
}

platform::text_enum! {
    /// Whether a tier is offered to everyone or only through its direct link.
    pub enum Visibility { Public = "public", Hidden = "hidden" }
}

platform::text_enum! {
    /// Where an order stands.
    pub enum OrderState { Pending = "pending", Paid = "paid", Expired = "expired", Cancelled = "cancelled" }
}

platform::text_enum! {
    /// Whether a ticket still admits its holder.
    pub enum TicketState { Valid = "valid", Refunded = "refunded" }
}

platform::text_enum! {
    /// Where an offered transfer stands.
    pub enum TransferState { Pending = "pending", Accepted = "accepted", Declined = "declined", Cancelled = "cancelled" }
}

platform::text_enum! {
    /// Where a resale listing stands.
    pub enum ListingState { Active = "active", Sold = "sold", Cancelled = "cancelled" }
}

platform::text_enum! {
    /// Where an attributed order stands.
    pub enum AttributionState { Pending = "pending", Approved = "approved", Rejected = "rejected", Paid = "paid" }
}

platform::text_enum! {
    /// How an attribution link earns: a share of each order's net, or a fixed amount per order.
    pub enum ShareType { Percent = "percent", Fixed = "fixed" }
}

platform::text_enum! {
    /// Who an attribution link belongs to.
    pub enum PartnerKind { Creator = "creator", Sponsor = "sponsor" }
}

platform::text_enum! {
    /// Who receives a split of an event's revenue.
    pub enum RecipientType { User = "user", Organization = "organization", Platform = "platform" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product's sentence (docs/ticketing.md), read as it is written.
    const PRODUCT_RULE: &str = "draft → published | cancelled; published → cancelled | completed | postponed; \
                                postponed → published | cancelled | draft; cancelled → draft | published; \
                                completed is final";

    #[test]
    fn every_pair_of_states_is_allowed_or_refused_as_the_product_rules_say() {
        let mut allowed = Vec::new();
        for clause in PRODUCT_RULE.split(';').filter(|c| c.contains('→')) {
            let (from, tos) = clause.split_once('→').unwrap();
            let from = EventStatus::parse(from.trim()).unwrap();
            for to in tos.split('|') {
                allowed.push((from, EventStatus::parse(to.trim()).unwrap()));
            }
        }
        assert_eq!(allowed.len(), 10);
        for from in EventStatus::ALL {
            for to in EventStatus::ALL {
                let by_someone = [Organizer, Admin, System].iter().any(|a| check(from, to, *a).is_ok());
                assert_eq!(by_someone, allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
        // Completed is final.
        for to in EventStatus::ALL {
            assert_eq!(check(Completed, to, Admin), Err(TransitionError::NotAllowed(Completed, to)));
        }
    }

    #[test]
    fn actors_are_checked() {
        assert_eq!(check(Draft, Published, Admin), Err(TransitionError::WrongActor(Draft, Published)));
        assert!(check(Published, Cancelled, Admin).is_ok());
        assert!(check(Published, Completed, System).is_ok());
        assert_eq!(check(Published, Cancelled, System), Err(TransitionError::WrongActor(Published, Cancelled)));
        assert!(check(Cancelled, Published, Organizer).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for status in EventStatus::ALL {
            assert_eq!(EventStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(EventStatus::parse("deleted"), None);
    }
}
