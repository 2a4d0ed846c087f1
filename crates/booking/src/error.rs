//! Booking's errors and their problem codes.

use platform::ApiError;

use crate::state::TransitionError;

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
        let detail = err.to_string();
        match err {
            BookingError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            BookingError::Transition(TransitionError::NotAllowed(..)) => {
                ApiError::conflict("invalid_transition", detail)
            }
            BookingError::Transition(TransitionError::WrongActor(..)) => {
                ApiError::forbidden("transition_not_permitted", detail)
            }
            BookingError::Db(err) => {
                if err.as_database_error().and_then(|e| e.constraint()) == Some("bookings_no_double_booking") {
                    ApiError::conflict("double_booking", "The artist already has a confirmed booking at that time.")
                } else {
                    err.into()
                }
            }
        }
    }
}
