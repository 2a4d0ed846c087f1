//! Request and response bodies of the notification center and its templates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{NotificationRow, TemplateRow};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// The event kind, such as `organization.member_added`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Self {
        let NotificationRow { id, kind, title, body, data, read, created_at } = row;
        Self { id, kind, title, body, data, read, created_at }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationTemplate {
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Whether the notification is also emailed by default (each user may choose otherwise).
    pub email: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<TemplateRow> for NotificationTemplate {
    fn from(row: TemplateRow) -> Self {
        let TemplateRow { kind, title, body, email, updated_at } = row;
        Self { kind, title, body, email, updated_at }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only notifications not read yet.
    #[serde(default)]
    pub unread_only: bool,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<Notification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Updated {
    pub updated: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationTemplateRequest {
    /// Text with `{{variable}}` placeholders, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Text with `{{variable}}` placeholders, 1–10000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// Whether to email the notification by default.
    pub email: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationTemplateList {
    pub items: Vec<NotificationTemplate>,
}
