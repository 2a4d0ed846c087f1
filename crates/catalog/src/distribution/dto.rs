//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::DistributionRow;
use crate::model::{DistributionId, ReleaseId, StoreId};

/// Deliver a release to these stores (it must be approved, or scheduled already to add stores).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub store_ids: Vec<StoreId>,
    /// When to deliver; by default each store's lead time before the release date (now if that is past).
    pub deliver_at: Option<DateTime<Utc>>,
}

/// One release's delivery to one store.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Distribution {
    pub id: DistributionId,
    pub release_id: ReleaseId,
    pub store_id: StoreId,
    pub store_name: String,
    /// `pending`, `queued` (a retry waits), `delivering`, `delivered` (waiting for the store's answer),
    /// `acknowledged` or `failed`.
    pub state: String,
    /// What the latest message says: `release` or `takedown`.
    pub action: String,
    pub deliver_at: DateTime<Utc>,
    pub attempts: i32,
    /// The latest message's id and batch folder.
    pub message_id: Option<String>,
    pub batch: Option<String>,
    /// Why the latest attempt failed, or the store's reason for refusing.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl From<DistributionRow> for Distribution {
    fn from(d: DistributionRow) -> Self {
        Self {
            id: d.id,
            release_id: d.release_id,
            store_id: d.store_id,
            store_name: d.store_name,
            state: d.state.as_str().into(),
            action: d.action.as_str().into(),
            deliver_at: d.deliver_at,
            attempts: d.attempts,
            message_id: d.message_id,
            batch: d.batch,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            acknowledged_at: d.acknowledged_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DistributionList {
    pub items: Vec<Distribution>,
}
