//! What a domain answers about one of its objects when a conversation is attached to it (a booking's
//! thread, an event's): whether the caller may take part, what the object is called, and who hears of
//! new messages. The collaboration domain asks; the owning domain decides, by its own rule.

use uuid::Uuid;

/// The caller may read and write the object's thread; `people` are told of its new messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discussion {
    /// How the object is named to the people in its thread ("Booking: Nightjar at Stage Club").
    pub title: String,
    /// Everyone who takes part in the object on its owners' sides (users), the caller included.
    pub people: Vec<Uuid>,
}
