//! State machines of lifecycles (events, bookings, ...): a table of allowed transitions with the actors
//! allowed to make each, and the one check every domain runs before it changes a state.

use std::fmt::Debug;

/// A state with a stable name.
pub trait State: Copy + Eq + Debug {
    fn name(self) -> &'static str;
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError<S: State> {
    #[error("no transition leads from {} to {}", .0.name(), .1.name())]
    NotAllowed(S, S),
    #[error("this actor may not make the transition from {} to {}", .0.name(), .1.name())]
    WrongActor(S, S),
}

/// A refused transition answers 409 `invalid_transition` (no such step) or 403 `transition_not_permitted`
/// (a step, but not for this actor), in every domain alike.
impl<S: State> From<TransitionError<S>> for crate::ApiError {
    fn from(err: TransitionError<S>) -> Self {
        let code = match err {
            TransitionError::NotAllowed(..) => crate::PlatformCode::InvalidTransition,
            TransitionError::WrongActor(..) => crate::PlatformCode::TransitionNotPermitted,
        };
        crate::ApiError::new(code, err.to_string())
    }
}

/// Checks one transition for one actor against `table`: anything not in it is refused.
pub fn check<S: State, A: PartialEq + Copy>(
    table: &[(S, S, &[A])],
    from: S,
    to: S,
    actor: A,
) -> Result<(), TransitionError<S>> {
    let (_, _, actors) =
        table.iter().find(|(f, t, _)| *f == from && *t == to).ok_or(TransitionError::NotAllowed(from, to))?;
    if actors.contains(&actor) { Ok(()) } else { Err(TransitionError::WrongActor(from, to)) }
}

/// Logs one structured line for a change of an object's lifecycle state (nothing when it stays), so
/// that an object's history can be followed in the logs by its id.
pub fn log_change<S: State>(object: &'static str, id: impl std::fmt::Display, from: S, to: S) {
    if from != to {
        tracing::info!(object, id = %id, from = from.name(), to = to.name(), "state changed");
    }
}
