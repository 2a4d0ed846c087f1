//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::ConversationRow;
use crate::model::{ConversationId, ProjectId};

/// A conversation, as its reader sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    /// `channel` (a project's), `thread` (a business object's), `direct` (two people) or `group`.
    pub kind: String,
    /// How it is shown: `#general · Project` for a channel, the object's name for a thread, the other
    /// person's name for a direct conversation, the title for a group.
    pub title: String,
    /// A channel's project and name.
    pub project_id: Option<ProjectId>,
    pub name: Option<String>,
    /// A thread's object: its kind (`booking`, `event`, ...) and id.
    pub subject_kind: Option<String>,
    pub subject_id: Option<Uuid>,
    /// Whether the caller may post (a project's viewers read only).
    pub may_post: bool,
    pub message_count: i32,
    /// Messages of others the caller has not read.
    pub unread: i64,
    /// Of those, the ones that mention the caller.
    pub mentions: i64,
    pub last_message_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Conversation {
    pub fn of(row: ConversationRow, title: String, may_post: bool, (unread, mentions): (i64, i64)) -> Self {
        Self {
            id: row.id,
            kind: row.kind.as_str().to_owned(),
            title,
            project_id: row.project_id,
            name: row.name,
            subject_kind: row.subject_kind,
            subject_id: row.subject_id,
            may_post,
            message_count: row.message_count,
            unread,
            mentions,
            last_message_at: row.last_message_at,
            created_at: row.created_at,
        }
    }
}

/// A new channel in a project.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// Lower-case letters, digits and single dashes, at most 64; unique in the project.
    pub name: String,
}

/// How far the caller has read.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadMark {
    /// Everything up to this time is read (now by default); a read position never moves back.
    pub until: Option<DateTime<Utc>>,
}

/// The caller's read position.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadPosition {
    pub conversation_id: ConversationId,
    pub read_until: DateTime<Utc>,
    pub unread: i64,
    pub mentions: i64,
}

/// A new direct conversation or group.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// `direct` (with `user_id`) or `group` (with `title` and `members`).
    pub kind: String,
    /// Whom to write to, for a direct conversation.
    pub user_id: Option<Uuid>,
    /// A group's title, 1 to 100 characters.
    pub title: Option<String>,
    /// A group's other people, 1 to 49.
    #[serde(default)]
    pub members: Vec<Uuid>,
}

/// Someone in a direct conversation or a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationMember {
    pub user_id: Uuid,
    pub display_name: String,
}

/// Someone in a conversation now: their live stream of it is open.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Present {
    pub user_id: Uuid,
    pub name: String,
    /// Here since.
    pub since: DateTime<Utc>,
}
