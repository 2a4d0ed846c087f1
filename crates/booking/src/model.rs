//! Booking's ids and parsed values.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

platform::id_type!(
    /// An artist (a solo artist or a band).
    ArtistId
);
platform::id_type!(
    /// A venue.
    VenueId
);
platform::id_type!(
    /// A promoter (or organizer).
    PromoterId
);
platform::id_type!(
    /// A booking.
    BookingId
);

/// Who a profile belongs to: a user, or an organization (a band, a venue company, a promoter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
#[schema(as = ProfileOwner)]
pub enum Owner {
    User(Uuid),
    Organization(Uuid),
}

impl Owner {
    pub fn from_columns(user: Option<Uuid>, org: Option<Uuid>) -> Option<Self> {
        match (user, org) {
            (Some(user), None) => Some(Self::User(user)),
            (None, Some(org)) => Some(Self::Organization(org)),
            _ => None,
        }
    }

    pub fn columns(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Self::User(id) => (Some(id), None),
            Self::Organization(id) => (None, Some(id)),
        }
    }

    pub fn ledger(self) -> ledger::model::Owner {
        match self {
            Self::User(id) => ledger::model::Owner::User(id),
            Self::Organization(id) => ledger::model::Owner::Organization(id),
        }
    }
}

/// The great-circle distance in kilometres between two points (haversine, mean Earth radius).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371.0 * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    #[test]
    fn berlin_to_hamburg_is_about_255_km() {
        let d = super::distance_km(52.52, 13.405, 53.551, 9.993);
        assert!((d - 255.0).abs() < 3.0, "{d}");
        assert!(super::distance_km(10.0, 10.0, 10.0, 10.0).abs() < 1e-9);
    }
}
