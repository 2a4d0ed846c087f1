//! Ticketing's ids and parsed values.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

platform::id_type!(
    /// An event.
    EventId
);
platform::id_type!(
    /// A ticket tier of an event.
    TierId
);
platform::id_type!(
    /// An order: tickets held for a buyer until paid.
    OrderId
);
platform::id_type!(
    /// A ticket. Its code changes on transfer and resale; its id does not.
    TicketId
);
platform::id_type!(
    /// An event category.
    CategoryId
);

/// Who organizes an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Organizer {
    User(Uuid),
    Organization(Uuid),
}

impl Organizer {
    pub fn from_columns(user: Option<Uuid>, org: Option<Uuid>) -> Option<Self> {
        match (user, org) {
            (Some(user), None) => Some(Self::User(user)),
            (None, Some(org)) => Some(Self::Organization(org)),
            _ => None,
        }
    }

    /// The ledger owner of the organizer's money.
    pub fn owner(self) -> ledger::model::Owner {
        match self {
            Self::User(id) => ledger::model::Owner::User(id),
            Self::Organization(id) => ledger::model::Owner::Organization(id),
        }
    }
}

/// A tag: lowercase, 1–40 characters of letters, digits, spaces and `&+.-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Option<Self> {
        let tag = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let ok = !tag.is_empty()
            && tag.chars().count() <= 40
            && tag.chars().all(|c| c.is_alphanumeric() || " &+.-".contains(c))
            && tag.chars().next().is_some_and(char::is_alphanumeric);
        ok.then_some(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized_or_refused() {
        assert_eq!(Tag::parse("  Drum &  Bass ").unwrap().as_str(), "drum & bass");
        assert_eq!(Tag::parse("r&b").unwrap().as_str(), "r&b");
        assert!(Tag::parse("").is_none());
        assert!(Tag::parse("-techno").is_none());
        assert!(Tag::parse(&"a".repeat(41)).is_none());
        assert!(Tag::parse("semi;colon").is_none());
    }
}
