//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{CannedRow, EventRow, TargetRow};
use crate::messages::dto::Message;
use crate::model::{ConversationId, TicketId};

/// A new support ticket.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewSupportTicket)]
pub struct NewTicket {
    /// 1 to 200 characters.
    pub subject: String,
    /// What happened, in Markdown: 1 to 16,000 characters. It is also the first message of the ticket's
    /// conversation.
    pub description: String,
    /// `account`, `payments`, `payouts`, `tickets`, `bookings`, `releases`, `royalties`, `tasks`,
    /// `projects`, `technical` or `other`.
    pub category: String,
    /// `low`, `medium` (default) or `high`; `urgent` is set by the support team.
    pub priority: Option<String>,
}

/// An agent's change to a ticket: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SupportTicketChange)]
pub struct TicketChange {
    pub subject: Option<String>,
    pub category: Option<String>,
    /// A new priority moves the ticket's targets (counted from when it was opened).
    pub priority: Option<String>,
}

/// Who holds a ticket: an agent, or `null` to give it back to the queue.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketAssignment)]
pub struct Assignment {
    pub user_id: Option<Uuid>,
}

/// A message on a ticket: its text, or a canned reply filled in for the ticket.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SupportTicketReply)]
pub struct TicketReply {
    /// Markdown, 1 to 16,000 characters; left out with `canned_reply_id`.
    pub body: Option<String>,
    /// A canned reply whose text (placeholders filled) is posted; agents only.
    pub canned_reply_id: Option<Uuid>,
    /// An internal note: seen by agents only, never by the requester. Agents only.
    #[serde(default)]
    pub internal: bool,
    /// The writer's uploads waiting in the ticket's conversation
    /// (`POST /v1/conversations/{conversation_id}/attachments`), at most 10; on an internal note they
    /// are seen by agents only.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
}

/// Resolving a ticket.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketResolution)]
pub struct Resolve {
    /// What solved it (up to 4,000 characters), shown to the requester.
    pub resolution: Option<String>,
}

/// The requester's rating of the help they had.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketRating)]
pub struct Rating {
    /// 1 (poor) to 5 (excellent).
    pub score: i16,
    /// Up to 2,000 characters.
    pub comment: Option<String>,
}

/// A person on a ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = TicketPerson)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
}

/// The requester's rating.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = TicketSatisfaction)]
pub struct Satisfaction {
    pub score: i16,
    pub comment: Option<String>,
    pub rated_at: DateTime<Utc>,
}

/// A ticket's targets, for agents: when the first answer and the resolution are due, and what was missed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = TicketSla)]
pub struct Sla {
    pub first_response_due: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub first_response_breached_at: Option<DateTime<Utc>>,
    pub resolution_due: DateTime<Utc>,
    pub resolution_breached_at: Option<DateTime<Utc>>,
    /// When a missed target escalated the ticket (its holder and the admins were told).
    pub escalated_at: Option<DateTime<Utc>>,
    /// The next target still running (`first_response` or `resolution`), if any.
    pub next: Option<String>,
    /// When that target falls due.
    pub next_due: Option<DateTime<Utc>>,
}

/// A support ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SupportTicket)]
pub struct Ticket {
    pub id: TicketId,
    /// The number people quote (`#1001`).
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub category: String,
    pub priority: String,
    /// `open`, `pending_customer`, `pending_staff`, `resolved` or `closed`.
    pub status: String,
    pub requester: Person,
    pub assignee: Option<Person>,
    /// The conversation with the requester (`/v1/conversations/{id}/...` works on it too).
    pub conversation_id: ConversationId,
    /// The agents' internal notes: present for agents only.
    pub notes_conversation_id: Option<ConversationId>,
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Until when the ticket may be reopened (seven days after it was resolved).
    pub reopen_until: Option<DateTime<Utc>>,
    pub reopened_count: i32,
    pub satisfaction: Option<Satisfaction>,
    /// Targets and breaches: present for agents only.
    pub sla: Option<Sla>,
    pub last_activity_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do now: `reply`, `note`, `assign`, `change`, `resolve`, `close`, `reopen`, `rate`.
    pub can: Vec<String>,
}

/// A message of a ticket's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SupportTicketMessage)]
pub struct TicketMessage {
    /// An internal note (agents see them; the requester never does).
    pub internal: bool,
    #[serde(flatten)]
    pub message: Message,
}

/// One step in a ticket's history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SupportTicketEvent)]
pub struct TicketEvent {
    /// `opened`, `status`, `assigned`, `changed`, `breached`, `rated`.
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub by: Option<Uuid>,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl From<EventRow> for TicketEvent {
    fn from(e: EventRow) -> Self {
        Self {
            kind: e.kind,
            from_status: e.from_status,
            to_status: e.to_status,
            by: e.by_user,
            detail: e.detail,
            at: e.created_at,
        }
    }
}

/// Which tickets to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// Statuses, comma-separated (`open,pending_staff`); every status when left out.
    pub status: Option<String>,
    /// Agents: `me`, `none` or a user id.
    pub assignee: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    /// Agents: only tickets that missed a target.
    #[serde(default)]
    pub breached: bool,
    /// Agents: only the tickets they opened themselves.
    #[serde(default)]
    pub mine: bool,
    /// `created` (newest first, default) or `due` (the agents' queue: unsettled tickets, the next
    /// target first).
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// A response and resolution target.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SupportTarget)]
pub struct Target {
    /// `urgent`, `high`, `medium` or `low`.
    pub priority: String,
    /// Minutes from opening to the first answer by an agent.
    pub first_response_minutes: i32,
    /// Minutes from opening (or reopening) to resolution.
    pub resolution_minutes: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<TargetRow> for Target {
    fn from(t: TargetRow) -> Self {
        Self {
            priority: t.priority.as_str().to_owned(),
            first_response_minutes: t.first_response_minutes,
            resolution_minutes: t.resolution_minutes,
            updated_at: t.updated_at,
        }
    }
}

/// New targets for a priority.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SupportTargetChange)]
pub struct TargetChange {
    /// 1 to 525,600 (a year).
    pub first_response_minutes: i32,
    /// At least the first response's, at most 525,600.
    pub resolution_minutes: i32,
}

/// A reply agents reuse. Placeholders: `{{requester}}`, `{{number}}`, `{{subject}}`, `{{agent}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SupportCannedReply)]
pub struct CannedReply {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub used_count: i32,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CannedRow> for CannedReply {
    fn from(c: CannedRow) -> Self {
        Self {
            id: c.id,
            title: c.title,
            body: c.body,
            used_count: c.used_count,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new canned reply, or a change to one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SupportCannedReplyInput)]
pub struct CannedReplyInput {
    /// 1 to 100 characters, unique.
    pub title: String,
    /// Markdown, 1 to 16,000 characters, with placeholders.
    pub body: String,
}
