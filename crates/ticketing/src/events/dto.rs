//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use identity::party::Party;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::model::{CategoryId, EventId};
use crate::state::EventStatus;
use crate::tiers::dto::Tier;

/// Create an event (a draft).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Organize it as this organization (needs `events.manage` there); else the caller organizes it.
    pub organization_id: Option<Uuid>,
    #[schema(example = "Nova Beats live")]
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA time zone of the venue, such as `Europe/Berlin`.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    /// Most tickets of all tiers together.
    pub capacity: Option<i32>,
    #[serde(default)]
    pub venue: Venue,
    pub cover_url: Option<String>,
    /// A category slug.
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Resale price cap in basis points of face value (10,000 = face value; the default).
    pub resale_cap_bps: Option<i32>,
}

/// Change an event; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub timezone: Option<String>,
    pub capacity: Option<i32>,
    pub venue: Option<Venue>,
    pub cover_url: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub resale_cap_bps: Option<i32>,
}

/// Where an event takes place.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EventVenue)]
pub struct Venue {
    pub name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryRef {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: EventId,
    pub organizer: Party,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub capacity: Option<i32>,
    pub venue: Venue,
    pub cover_url: Option<String>,
    pub category: Option<CategoryRef>,
    pub tags: Vec<String>,
    pub status: EventStatus,
    pub resale_cap_bps: i32,
    /// The tiers the caller may see: public ones, or all of them for the organizer.
    pub tiers: Vec<Tier>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventSummary {
    pub id: EventId,
    pub organizer: Party,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub city: Option<String>,
    pub venue_name: Option<String>,
    pub cover_url: Option<String>,
    pub category: Option<String>,
    pub status: EventStatus,
    /// Full-text relevance when searching by `q`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<f32>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventSearch {
    /// Words to look for in the title, venue, city and description (ranked).
    pub q: Option<String>,
    /// A category slug (its subcategories included).
    pub category: Option<String>,
    pub tag: Option<String>,
    /// Events starting at or after this time (default: now).
    pub from: Option<DateTime<Utc>>,
    /// Events starting before this time.
    pub to: Option<DateTime<Utc>>,
    pub city: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Change an event's status.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `published`, `postponed`, `cancelled`, `completed` or `draft`.
    pub status: EventStatus,
    /// Shown to ticket holders when the event is cancelled or postponed.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub slug: String,
    pub name: String,
    pub icon: String,
    pub color: String,
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryList {
    /// Ordered by parent, then position.
    pub items: Vec<Category>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub slug: String,
    pub name: String,
    /// The parent category's slug.
    pub parent: Option<String>,
    #[serde(default)]
    pub icon: String,
    /// `#rrggbb`.
    pub color: Option<String>,
    #[serde(default)]
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagCount {
    pub name: String,
    /// Events using it.
    pub use_count: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagList {
    pub items: Vec<TagCount>,
}

impl From<super::repo::CategoryRow> for Category {
    fn from(r: super::repo::CategoryRow) -> Self {
        Self {
            id: r.id,
            parent_id: r.parent_id,
            slug: r.slug,
            name: r.name,
            icon: r.icon,
            color: r.color,
            position: r.position,
        }
    }
}

impl From<super::repo::TagCountRow> for TagCount {
    fn from(r: super::repo::TagCountRow) -> Self {
        Self { name: r.name, use_count: r.use_count }
    }
}
