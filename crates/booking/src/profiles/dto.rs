//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use identity::party::Party;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::model::{ArtistId, PromoterId, VenueId};

/// Create or change an artist profile.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtistRequest {
    /// A band: the organization (kind `band`) whose managers keep the profile. Only when creating.
    pub organization_id: Option<Uuid>,
    pub stage_name: Option<String>,
    pub bio: Option<String>,
    pub genres: Option<Vec<String>>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Minor units.
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub currency: Option<String>,
    /// Such as {"instagram": "https://..."}.
    pub social_links: Option<serde_json::Map<String, serde_json::Value>>,
    /// Links to photos, videos and recordings.
    pub media: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Artist {
    pub id: ArtistId,
    pub owner: Party,
    pub stage_name: String,
    pub bio: String,
    pub genres: Vec<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub currency: String,
    pub social_links: serde_json::Value,
    pub media: serde_json::Value,
    /// `budding`, `mid_scale`, `international` or `custom`: sets the commission.
    pub category: String,
    /// Set by an admin: the price range no longer suggests the category.
    pub category_locked: bool,
    /// Distance from the searched point, in km.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<f32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArtistSearch {
    /// Words in the name, genres and bio (ranked).
    pub q: Option<String>,
    pub genre: Option<String>,
    /// With `lng` and `radius_km`: artists based within that distance.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub radius_km: Option<f64>,
    /// A budget (minor units): artists whose price range overlaps [budget_min, budget_max].
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    /// Artists with no confirmed booking on this day (UTC).
    pub available_on: Option<chrono::NaiveDate>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// An admin sets (and locks) an artist's category, or unlocks it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    /// `budding`, `mid_scale`, `international` or `custom`.
    pub category: String,
    /// Keep it whatever the price range says (default true).
    pub locked: Option<bool>,
    /// For `custom`: the commission policy.
    pub policy: Option<crate::commission::Policy>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryHistoryItem {
    pub from_cat: String,
    pub to_cat: String,
    pub locked: bool,
    pub changed_by: Option<Uuid>,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueRequest {
    pub organization_id: Option<Uuid>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: Option<i32>,
    pub amenities: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Venue {
    pub id: VenueId,
    pub owner: Party,
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: i32,
    pub amenities: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VenueSearch {
    pub city: Option<String>,
    pub min_capacity: Option<i32>,
    pub max_capacity: Option<i32>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoterRequest {
    pub organization_id: Option<Uuid>,
    pub name: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Promoter {
    pub id: PromoterId,
    pub owner: Party,
    pub name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub verified: bool,
    /// 0–100 (50 to start).
    pub trust_score: i32,
}

/// An admin verifies a promoter or sets its trust score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoterReview {
    pub verified: Option<bool>,
    pub trust_score: Option<i32>,
}

impl From<super::repo::CategoryHistoryItemRow> for CategoryHistoryItem {
    fn from(r: super::repo::CategoryHistoryItemRow) -> Self {
        Self {
            from_cat: r.from_cat,
            to_cat: r.to_cat,
            locked: r.locked,
            changed_by: r.changed_by,
            reason: r.reason,
            changed_at: r.changed_at,
        }
    }
}

impl super::repo::ArtistRow {
    /// The row as the API answers it.
    pub fn dto(&self) -> Artist {
        Artist {
            id: self.id,
            owner: self.owner(),
            stage_name: self.stage_name.clone(),
            bio: self.bio.clone(),
            genres: self.genres.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            price_min: self.price_min,
            price_max: self.price_max,
            currency: self.currency.clone(),
            social_links: self.social_links.clone(),
            media: self.media.clone(),
            category: self.category.clone(),
            category_locked: self.category_locked,
            distance_km: None,
            rank: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl super::repo::VenueRow {
    /// The row as the API answers it.
    pub fn dto(&self) -> Venue {
        Venue {
            id: self.id,
            owner: Party::from_columns(self.user_id, self.org_id).unwrap_or(Party::User(Uuid::nil())),
            name: self.name.clone(),
            address: self.address.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            capacity: self.capacity,
            amenities: self.amenities.clone(),
        }
    }
}

impl super::repo::PromoterRow {
    /// The row as the API answers it.
    pub fn dto(&self) -> Promoter {
        Promoter {
            id: self.id,
            owner: self.owner(),
            name: self.name.clone(),
            contact_name: self.contact_name.clone(),
            contact_email: self.contact_email.clone(),
            verified: self.verified,
            trust_score: self.trust_score,
        }
    }
}
