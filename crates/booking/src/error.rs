//! Booking's errors and their problem codes.

use platform::ApiError;
use platform::error::ConstraintAnswer;

use crate::state::TransitionError;

platform::codes! {
    /// Booking's problem codes: directory, negotiation, contracts, money, holds.
    pub enum BookingCode in "booking" {
        NotAParty = (FORBIDDEN, "not_a_party", "only the booking's organizer and artist may do this"),
        NotTheOrganizer = (FORBIDDEN, "not_the_organizer", "only the organizer's side may do this"),
        ProfileExists = (CONFLICT, "profile_exists", "the owner has such a profile already; change it instead"),
        AlreadyApplied = (CONFLICT, "already_applied", "the artist has a booking for this event already"),
        NotOpen = (CONFLICT, "not_open", "the event does not take applications"),
        NotNegotiating = (CONFLICT, "not_negotiating", "the booking is not being negotiated"),
        StillNegotiating = (CONFLICT, "still_negotiating", "the booking is still being negotiated: decline it instead"),
        NotYourTurn = (CONFLICT, "not_your_turn", "it is the other side's turn"),
        NoMoreRounds = (CONFLICT, "no_more_rounds", "after three proposals the artist may only accept or walk away"),
        NothingToAccept = (CONFLICT, "nothing_to_accept", "there is no proposal of the other side to accept"),
        NotContracting = (CONFLICT, "not_contracting", "the booking has no contract being signed"),
        OrganizerSignsFirst = (CONFLICT, "organizer_signs_first", "the organizer signs before the artist"),
        AlreadySigned = (CONFLICT, "already_signed", "the caller's side signed this version already"),
        ContractChanged = (CONFLICT, "contract_changed", "the signed hash is not the current version's"),
        ContractSigned = (CONFLICT, "contract_signed", "both sides signed; the contract cannot be edited"),
        EditUsed = (CONFLICT, "edit_used", "the side has used its one edit request"),
        AnnexExists = (CONFLICT, "annex_exists", "the contract annexes these bytes already"),
        TooManyAnnexes = (CONFLICT, "too_many_annexes", "a contract annexes at most 10 files"),
        NotSigned = (CONFLICT, "not_signed", "the contract is not signed by both sides yet"),
        DoubleBooking = (CONFLICT, "double_booking", "the artist has a confirmed booking at that time"),
        DateTaken = (CONFLICT, "date_taken", "the artist has a confirmed booking at that time"),
        NothingDue = (CONFLICT, "nothing_due", "nothing is due for the booking in its status"),
        ShowNotOver = (CONFLICT, "show_not_over", "a booking completes once its show has ended"),
        NotDisputed = (CONFLICT, "not_disputed", "only a disputed booking is resolved"),
        HoldNotActive = (CONFLICT, "hold_not_active", "the hold is released, expired or converted"),
        AlreadyChallenged = (CONFLICT, "already_challenged", "the first hold is challenged already"),
        NothingToChallenge = (CONFLICT, "nothing_to_challenge", "only an active second (or later) hold challenges the first"),
    }
}

/// How booking answers a violation of one of its named constraints.
pub const CONSTRAINTS: &[ConstraintAnswer<BookingCode>] = &[ConstraintAnswer {
    constraint: "bookings_no_double_booking",
    code: BookingCode::DoubleBooking,
    detail: "The artist already has a confirmed booking at that time.",
    field: None,
}];

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl From<BookingError> for ApiError {
    fn from(err: BookingError) -> Self {
        match err {
            BookingError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            BookingError::Transition(err) => err.into(),
            BookingError::Db(err) => platform::error::from_db(err, CONSTRAINTS),
        }
    }
}
