//! Request and response bodies of notify's API.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::repo::Notification;

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
    pub items: Vec<crate::repo::NotificationTemplate>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `queued`, `running`, `succeeded`, `dead` or `cancelled`.
    pub state: Option<String>,
    pub kind: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub items: Vec<platform::jobs::admin::JobRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobStats {
    pub items: Vec<platform::jobs::admin::KindCount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub event_id: uuid::Uuid,
}
