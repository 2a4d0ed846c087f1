//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A template saved from a project.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    /// 1 to 200 characters, unique in the organization (whatever the case).
    pub name: String,
    /// Up to 4,000 characters.
    #[serde(default)]
    pub description: String,
}

/// A member's role a template gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateRole {
    pub user_id: Uuid,
    /// `manager`, `editor`, `commenter`, `viewer` or `client`.
    pub role: String,
}

/// A checklist a template gives, nothing ticked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateChecklist {
    pub title: String,
    pub items: Vec<String>,
}

/// A project template.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ProjectTemplate)]
pub struct Template {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: String,
    /// The kind of work of the projects made from it (when they do not name one).
    pub kind: String,
    pub folders: Vec<String>,
    pub roles: Vec<TemplateRole>,
    pub checklists: Vec<TemplateChecklist>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}
