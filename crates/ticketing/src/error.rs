//! Ticketing's errors and their problem codes.

use platform::ApiError;

use crate::state::TransitionError;

#[derive(Debug, thiserror::Error)]
pub enum TicketingError {
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("the tier {tier} has {left} tickets left")]
    SoldOut { tier: String, left: i64 },
    #[error("this order expired; its tickets are back on sale")]
    OrderExpired,
    #[error("{0}")]
    Db(#[from] sqlx::Error),
}

impl From<TicketingError> for ApiError {
    fn from(err: TicketingError) -> Self {
        let detail = err.to_string();
        match err {
            TicketingError::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            TicketingError::Transition(TransitionError::NotAllowed(..)) => {
                ApiError::conflict("invalid_transition", detail)
            }
            TicketingError::Transition(TransitionError::WrongActor(..)) => {
                ApiError::forbidden("transition_not_permitted", detail)
            }
            TicketingError::SoldOut { .. } => ApiError::conflict("sold_out", detail),
            TicketingError::OrderExpired => ApiError::conflict("order_expired", detail),
            TicketingError::Db(err) => err.into(),
        }
    }
}
