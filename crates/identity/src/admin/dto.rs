//! Administration: users, security events, the audit log and permission templates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::model::{TemplateId, UserStatus};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of an email address, username or display name.
    pub q: Option<String>,
    pub status: Option<UserStatus>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<crate::accounts::dto::User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// Why, for the record.
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// The user's global roles after the change: admin, staff and personas.
    pub roles: Vec<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    pub user_id: Option<Uuid>,
    /// `info`, `warning` or `critical`.
    pub severity: Option<String>,
    pub kind: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityEvent {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub kind: String,
    pub severity: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityEventList {
    pub items: Vec<SecurityEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub organization_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<platform::audit::Row> for AuditEntry {
    fn from(row: platform::audit::Row) -> Self {
        let platform::audit::Row {
            id,
            actor_user_id,
            actor_api_key,
            organization_id,
            action,
            resource_type,
            resource_id,
            before,
            after,
            request_id,
            ip,
            created_at,
        } = row;
        Self {
            id,
            actor_user_id,
            actor_api_key,
            organization_id,
            action,
            resource_type,
            resource_id,
            before,
            after,
            request_id,
            ip,
            created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    /// 2–50 lower-case letters, digits and `_`; usable as an organization role.
    #[schema(pattern = "^[a-z][a-z0-9_]{1,49}$", example = "talent_scout")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Permissions from the catalog.
    #[schema(min_items = 1, example = json!(["organizations.read", "members.read"]))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionTemplate {
    pub id: TemplateId,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<PermissionTemplate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Permission {
    pub name: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionCatalog {
    pub items: Vec<Permission>,
}

impl From<super::repo::SecurityEventRow> for SecurityEvent {
    fn from(r: super::repo::SecurityEventRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            kind: r.kind,
            severity: r.severity.as_str().to_owned(),
            ip: r.ip,
            user_agent: r.user_agent,
            details: r.details,
            created_at: r.created_at,
        }
    }
}

impl From<super::repo::PermissionTemplateRow> for PermissionTemplate {
    fn from(r: super::repo::PermissionTemplateRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            permissions: r.permissions,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
