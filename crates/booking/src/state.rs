//! The booking lifecycle: eleven statuses, the transitions between them, and who may make each
//! (drawn in docs/booking.md). Completed, cancelled and refunded are final.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// Stored as text; a value the database holds that is none of these fails to decode (a 500, logged),
// never read as another status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum BookingStatus {
    Inquiry,
    Offered,
    Negotiating,
    Contracting,
    Confirmed,
    PaidDeposit,
    Scheduled,
    Completed,
    Cancelled,
    Disputed,
    Refunded,
}

impl std::fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl BookingStatus {
    pub const ALL: [Self; 11] = [
        Self::Inquiry,
        Self::Offered,
        Self::Negotiating,
        Self::Contracting,
        Self::Confirmed,
        Self::PaidDeposit,
        Self::Scheduled,
        Self::Completed,
        Self::Cancelled,
        Self::Disputed,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inquiry => "inquiry",
            Self::Offered => "offered",
            Self::Negotiating => "negotiating",
            Self::Contracting => "contracting",
            Self::Confirmed => "confirmed",
            Self::PaidDeposit => "paid_deposit",
            Self::Scheduled => "scheduled",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Disputed => "disputed",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Statuses in which the artist's time is taken (the database refuses overlaps among them).
    pub fn holds_the_date(self) -> bool {
        matches!(self, Self::Confirmed | Self::PaidDeposit | Self::Scheduled)
    }

    /// Statuses of a booking still being negotiated.
    pub fn negotiating(self) -> bool {
        matches!(self, Self::Inquiry | Self::Offered | Self::Negotiating)
    }
}

/// Who asks for a transition (stored as text where a booking records who cancelled it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Actor {
    /// The promoter's side.
    Organizer,
    /// The artist's side (the artist, or a band's manager).
    Artist,
    Admin,
    /// Backline itself: timers, payments.
    System,
}

platform::text_enum! {
    /// How a booking began: the organizer's offer, or the artist's application to an open call.
    pub enum Origin { Offer = "offer", Application = "application" }
}

platform::text_enum! {
    /// A party to a booking: who signs, edits, proposes and whose turn it is.
    pub enum Side { Organizer = "organizer", Artist = "artist" }
}

impl Side {
    /// The side an actor acts for, if it is a party.
    pub fn of(actor: Actor) -> Option<Side> {
        match actor {
            Actor::Organizer => Some(Side::Organizer),
            Actor::Artist => Some(Side::Artist),
            Actor::Admin | Actor::System => None,
        }
    }
}

use Actor::{Admin, Artist, Organizer, System};
use BookingStatus::*;

/// Every allowed transition and who may make it. Anything else is refused.
pub const TRANSITIONS: &[(BookingStatus, BookingStatus, &[Actor])] = &[
    // An application is answered by the organizer's first proposal.
    (Inquiry, Negotiating, &[Organizer]),
    (Inquiry, Cancelled, &[Organizer, Artist, System, Admin]),
    // An offer is countered or accepted by the artist.
    (Offered, Negotiating, &[Artist]),
    (Offered, Contracting, &[Artist]),
    (Offered, Cancelled, &[Organizer, Artist, System, Admin]),
    // Rounds: whoever's turn it is accepts.
    (Negotiating, Negotiating, &[Organizer, Artist]),
    (Negotiating, Contracting, &[Organizer, Artist]),
    (Negotiating, Cancelled, &[Organizer, Artist, System, Admin]),
    // Signatures (and an admin's review when the setting is on) confirm; an unsigned contract expires.
    (Contracting, Confirmed, &[System, Admin]),
    (Contracting, Cancelled, &[Organizer, Artist, System, Admin]),
    (Confirmed, PaidDeposit, &[System]),
    (Confirmed, Cancelled, &[Organizer, Artist, System, Admin]),
    (PaidDeposit, Scheduled, &[System]),
    (PaidDeposit, Cancelled, &[Organizer, Artist, Admin]),
    (PaidDeposit, Disputed, &[Organizer, Artist]),
    (Scheduled, Completed, &[Organizer, System, Admin]),
    (Scheduled, Cancelled, &[Organizer, Artist, Admin]),
    (Scheduled, Disputed, &[Organizer, Artist]),
    // An admin resolves a dispute: release to the artist, or money back (in full or split).
    (Disputed, Completed, &[Admin]),
    (Disputed, Refunded, &[Admin]),
];

pub type TransitionError = platform::lifecycle::TransitionError<BookingStatus>;

impl platform::lifecycle::State for BookingStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Checks one transition for one actor.
pub fn check(from: BookingStatus, to: BookingStatus, actor: Actor) -> Result<(), TransitionError> {
    platform::lifecycle::check(TRANSITIONS, from, to, actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product's rules (docs/booking.md), stated as reasons rather than as a table: who may move a
    /// booking from `from` to `to`, or `None` where no step leads there.
    fn who_may(from: BookingStatus, to: BookingStatus) -> Option<Vec<Actor>> {
        let parties = vec![Organizer, Artist];
        if matches!(from, Completed | Cancelled | Refunded) {
            return None; // final
        }
        // Money is held once the deposit is paid.
        let money_held = matches!(from, PaidDeposit | Scheduled);
        match to {
            // Either party or an admin may call a booking off until a dispute; a timer (an expired
            // deadline) only while no money is held.
            Cancelled if from != Disputed => {
                let mut who = vec![Organizer, Artist, Admin];
                if !money_held {
                    who.push(System);
                }
                Some(who)
            }
            // The organizer makes the first proposal; the artist answers an offer; then turns alternate.
            Negotiating => match from {
                Inquiry => Some(vec![Organizer]),
                Offered => Some(vec![Artist]),
                Negotiating => Some(parties),
                _ => None,
            },
            // Accepting: the artist accepts an offer; either side accepts the other's proposal.
            Contracting => match from {
                Offered => Some(vec![Artist]),
                Negotiating => Some(parties),
                _ => None,
            },
            // Both signatures confirm (Backline itself), or the admin's review does.
            Confirmed => (from == Contracting).then(|| vec![System, Admin]),
            // Money steps are Backline's own: the deposit paid, the balance collected.
            PaidDeposit => (from == Confirmed).then(|| vec![System]),
            Scheduled => (from == PaidDeposit).then(|| vec![System]),
            // After the show: the organizer, a timer or an admin completes; a dispute only an admin ends.
            Completed => match from {
                Scheduled => Some(vec![Organizer, System, Admin]),
                Disputed => Some(vec![Admin]),
                _ => None,
            },
            Disputed => money_held.then_some(parties),
            Refunded => (from == Disputed).then(|| vec![Admin]),
            _ => None,
        }
    }

    /// Every (from, to, actor) of the 11 × 11 × 4 against the rules as stated above.
    #[test]
    fn every_transition_is_allowed_or_refused_by_state_and_actor() {
        for from in BookingStatus::ALL {
            for to in BookingStatus::ALL {
                let allowed = who_may(from, to);
                for actor in [Organizer, Artist, Admin, System] {
                    let want = match &allowed {
                        None => Err(TransitionError::NotAllowed(from, to)),
                        Some(actors) if actors.contains(&actor) => Ok(()),
                        Some(_) => Err(TransitionError::WrongActor(from, to)),
                    };
                    assert_eq!(check(from, to, actor), want, "{from:?} -> {to:?} by {actor:?}");
                }
            }
        }
    }

    #[test]
    fn final_states_go_nowhere() {
        for from in [Completed, Cancelled, Refunded] {
            for to in BookingStatus::ALL {
                for actor in [Organizer, Artist, Admin, System] {
                    assert_eq!(
                        check(from, to, actor),
                        Err(TransitionError::NotAllowed(from, to)),
                        "{from:?} -> {to:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_status_is_reachable_from_an_opening() {
        let mut reached = vec![Inquiry, Offered];
        let mut grew = true;
        while grew {
            grew = false;
            for (from, to, _) in TRANSITIONS {
                if reached.contains(from) && !reached.contains(to) {
                    reached.push(*to);
                    grew = true;
                }
            }
        }
        for status in BookingStatus::ALL {
            assert!(reached.contains(&status), "{status:?} is unreachable");
        }
    }

    #[test]
    fn actors_are_checked() {
        assert!(check(Offered, Contracting, Artist).is_ok());
        assert_eq!(check(Offered, Contracting, Organizer), Err(TransitionError::WrongActor(Offered, Contracting)));
        assert_eq!(check(Inquiry, Negotiating, Artist), Err(TransitionError::WrongActor(Inquiry, Negotiating)));
        assert_eq!(check(Contracting, Confirmed, Organizer), Err(TransitionError::WrongActor(Contracting, Confirmed)));
        assert_eq!(check(Disputed, Refunded, Organizer), Err(TransitionError::WrongActor(Disputed, Refunded)));
        assert_eq!(check(Confirmed, Scheduled, System), Err(TransitionError::NotAllowed(Confirmed, Scheduled)));
    }

    #[test]
    fn names_round_trip() {
        for status in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(status.as_str()), Some(status));
        }
    }
}
