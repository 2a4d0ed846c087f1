//! The area's request and response bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{MemberRow, ProjectRow};
use crate::model::ProjectId;

/// A new project in an organization.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub organization_id: Uuid,
    /// 1 to 200 characters.
    pub name: String,
    /// Lower-case letters, digits and single dashes, up to 64; unique in the organization. Made from the
    /// name when left out.
    pub slug: Option<String>,
    #[serde(default)]
    pub description: String,
    /// What kind of work it is (`album_artwork`, `music_video`, `tour_design`, ...); `other` by default.
    pub kind: Option<String>,
    /// `planning` (default), `active`, `on_hold`, `completed` or `cancelled`.
    pub status: Option<String>,
    /// `low`, `medium` (default), `high` or `urgent`.
    pub priority: Option<String>,
    /// One of the organization's teams.
    pub team_id: Option<Uuid>,
    /// The manager; the caller when left out. Must be a member of the organization.
    pub manager_id: Option<Uuid>,
    /// The client: a user outside the organization, who gets the `client` role.
    pub client_id: Option<Uuid>,
    /// In minor units of `budget_currency`.
    pub budget_minor: Option<i64>,
    pub budget_currency: Option<String>,
    pub estimated_hours: Option<i32>,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// A template of the organization (`/v1/orgs/{id}/project-templates`) whose folders, checklists and
    /// members' roles the project gets; its kind and description too, unless given here.
    pub template_id: Option<Uuid>,
}

/// A change to a project: only the fields given change; `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChange {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<i64>)]
    pub budget_minor: Option<Option<i64>>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<String>)]
    pub budget_currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<i32>)]
    pub estimated_hours: Option<Option<i32>>,
    pub actual_hours: Option<i32>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "platform::json::present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<Option<NaiveDate>>,
    pub tags: Option<Vec<String>>,
}

/// A project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub id: ProjectId,
    pub organization_id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub status: String,
    pub priority: String,
    pub team_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub budget_minor: Option<i64>,
    pub budget_currency: Option<String>,
    pub estimated_hours: Option<i32>,
    pub actual_hours: i32,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Set when the project is completed.
    pub completed_on: Option<NaiveDate>,
    pub tags: Vec<String>,
    /// The caller's role in the project (`manager` for the organization's project managers).
    pub my_role: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Project {
    pub fn of(row: ProjectRow, my_role: crate::model::ProjectRole) -> Self {
        Self {
            id: row.id,
            organization_id: row.organization_id,
            slug: row.slug,
            name: row.name,
            description: row.description,
            kind: row.kind,
            status: row.status.as_str().to_owned(),
            priority: row.priority.as_str().to_owned(),
            team_id: row.team_id,
            client_id: row.client_id,
            budget_minor: row.budget_minor,
            budget_currency: row.budget_currency,
            estimated_hours: row.estimated_hours,
            actual_hours: row.actual_hours,
            start_date: row.start_date,
            due_date: row.due_date,
            completed_on: row.completed_on,
            tags: row.tags,
            my_role: my_role.as_str().to_owned(),
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Which projects to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectQuery {
    /// One organization's projects (all of them for its project managers, else those the caller is a
    /// member of); without it, every project the caller is a member of.
    pub organization_id: Option<Uuid>,
    /// Only projects in this status.
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A member's role.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProjectMemberRole)]
pub struct MemberRole {
    /// `manager`, `editor`, `commenter`, `viewer` or `client`.
    pub role: String,
}

/// A member of a project.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ProjectMember)]
pub struct Member {
    pub user_id: Uuid,
    pub display_name: String,
    pub role: String,
    pub added_at: DateTime<Utc>,
}

impl Member {
    pub fn of(row: MemberRow, names: &std::collections::HashMap<Uuid, String>) -> Self {
        Self {
            user_id: row.user_id,
            display_name: names.get(&row.user_id).cloned().unwrap_or_default(),
            role: row.role.as_str().to_owned(),
            added_at: row.added_at,
        }
    }
}
