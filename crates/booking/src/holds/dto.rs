//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{ArtistId, PromoterId};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    pub promoter_id: PromoterId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Days the hold lasts (1–14, default 7).
    pub valid_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Hold {
    pub id: Uuid,
    pub artist_id: ArtistId,
    pub promoter_id: PromoterId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `active`, `released`, `expired` or `converted` (an offer was made on it).
    pub state: String,
    /// 1 for the first hold on its time, 2 for the second, ... (active holds only).
    pub rank: Option<i64>,
    pub expires_at: DateTime<Utc>,
    pub challenge_deadline: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HoldList {
    pub items: Vec<Hold>,
}

impl From<super::repo::HoldRow> for Hold {
    fn from(r: super::repo::HoldRow) -> Self {
        Self {
            id: r.id,
            artist_id: r.artist_id,
            promoter_id: r.promoter_id,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            state: r.state.as_str().to_owned(),
            rank: r.rank,
            expires_at: r.expires_at,
            challenge_deadline: r.challenge_deadline,
            created_at: r.created_at,
        }
    }
}
