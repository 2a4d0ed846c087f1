//! Request and response bodies of webhook endpoints and their deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::{DeliveryRow, EndpointRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_kinds: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// The signing secret, shown this once only.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub items: Vec<Endpoint>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// Where to POST events: `https://`, or `http://` for development.
    #[schema(example = "https://example.com/backline/webhooks")]
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event kinds to send, or `["*"]` for all.
    #[schema(min_items = 1, example = json!(["organization.member_added"]))]
    pub event_kinds: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_kinds: Option<Vec<String>>,
    /// Re-enable an endpoint that was disabled after failures (or disable it).
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub event_id: Uuid,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub response_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
}

impl From<EndpointRow> for Endpoint {
    fn from(row: EndpointRow) -> Self {
        Self {
            id: row.id,
            organization_id: row.organization_id,
            url: row.url,
            description: row.description,
            event_kinds: row.event_kinds,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            consecutive_failures: row.consecutive_failures,
            created_at: row.created_at,
        }
    }
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        let DeliveryRow {
            id,
            event_id,
            state,
            attempts,
            last_status,
            last_error,
            response_ms,
            created_at,
            delivered_at,
        } = row;
        Self {
            id,
            event_id,
            state: state.as_str().to_owned(),
            attempts,
            last_status,
            last_error,
            response_ms,
            created_at,
            delivered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub event_id: uuid::Uuid,
}
