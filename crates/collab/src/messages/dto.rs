//! The area's request and response bodies.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::{EditRow, MessageRow, ReactionRow};
use crate::model::{ConversationId, MessageId};

/// A new message.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewConversationMessage)]
pub struct NewMessage {
    /// Markdown, 1 to 16,000 characters.
    pub body: String,
    /// The message this one answers: the reply joins that message's thread (a reply to a reply joins
    /// the same thread).
    pub reply_to: Option<MessageId>,
    /// On a support ticket's conversation, an agent's internal note: it goes to the ticket's notes,
    /// which the requester never sees. Refused anywhere else.
    #[serde(default)]
    pub internal: bool,
    /// Uploads of the writer's waiting in this conversation (`POST /v1/conversations/{id}/attachments`),
    /// in the order shown.
    #[serde(default)]
    pub attachments: Vec<Uuid>,
    /// In a project's channel: versions of the project's files to attach (after the uploads). At most 10
    /// files a message in all.
    #[serde(default)]
    pub files: Vec<crate::attachments::dto::AttachedFile>,
}

/// A message's new text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageEdit {
    /// Markdown, 1 to 16,000 characters.
    pub body: String,
}

/// A message. A deleted one keeps its place with no text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ConversationMessage)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub author: Uuid,
    pub author_name: String,
    /// Markdown; empty when deleted.
    pub body: String,
    /// The first message of the thread this one replies in.
    pub reply_to: Option<MessageId>,
    pub reply_count: i32,
    pub created_at: DateTime<Utc>,
    /// When it was last edited (its earlier texts at `/v1/messages/{id}/edits`).
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    /// The people it mentions who may read the conversation (`@username` in the text).
    pub mentions: Vec<Uuid>,
    /// Its reactions, in the order each emoji was first used.
    pub reactions: Vec<Reaction>,
    /// When it was pinned to its conversation (`GET /v1/conversations/{id}/pins`), if it is.
    pub pinned_at: Option<DateTime<Utc>>,
    /// Its files, in order (none once it is deleted).
    pub attachments: Vec<crate::attachments::dto::Attachment>,
}

/// The people who reacted to a message with one emoji.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    /// An emoji (`👍`) or a shortcode (`:thumbsup:`).
    pub emoji: String,
    pub count: i64,
    /// Whether the reader is one of them.
    pub mine: bool,
}

impl Message {
    /// A message without its mentions and reactions (see [`Message::with`]).
    pub fn of(row: MessageRow, names: &HashMap<Uuid, String>) -> Self {
        let deleted = row.deleted_at.is_some();
        Self {
            id: row.id,
            conversation_id: row.conversation_id,
            author: row.author_id,
            author_name: names.get(&row.author_id).cloned().unwrap_or_default(),
            body: if deleted { String::new() } else { row.body },
            reply_to: row.reply_to,
            reply_count: row.reply_count,
            created_at: row.created_at,
            edited_at: row.edited_at,
            deleted,
            mentions: Vec::new(),
            reactions: Vec::new(),
            pinned_at: None,
            attachments: Vec::new(),
        }
    }

    /// Adds the message's files from those of a page (a deleted message shows none).
    #[must_use]
    pub fn attached(mut self, files: &mut HashMap<Uuid, Vec<crate::attachments::dto::Attachment>>) -> Self {
        if let Some(files) = files.remove(&self.id.0)
            && !self.deleted
        {
            self.attachments = files;
        }
        self
    }

    /// Marks the message pinned when a page's pins hold it.
    #[must_use]
    pub fn pinned(mut self, pins: &[(Uuid, DateTime<Utc>)]) -> Self {
        self.pinned_at = pins.iter().find(|(m, _)| *m == self.id.0).map(|(_, at)| *at);
        self
    }

    /// Adds the message's mentions and reactions from those of a page (a deleted message shows none).
    #[must_use]
    pub fn with(mut self, mentions: &[(Uuid, Uuid)], reactions: &[ReactionRow]) -> Self {
        if !self.deleted {
            let id = self.id.0;
            self.mentions = mentions.iter().filter(|(m, _)| *m == id).map(|(_, u)| *u).collect();
            self.reactions = reactions
                .iter()
                .filter(|r| r.message_id == id)
                .map(|r| Reaction { emoji: r.emoji.clone(), count: r.count, mine: r.mine })
                .collect();
        }
        self
    }
}

/// An earlier text of a message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = MessageRevision)]
pub struct Edit {
    /// When this text was replaced.
    pub edited_at: DateTime<Utc>,
    pub edited_by: Uuid,
    /// The text before the edit.
    pub previous_body: String,
}

impl From<EditRow> for Edit {
    fn from(row: EditRow) -> Self {
        Self { edited_at: row.edited_at, edited_by: row.edited_by, previous_body: row.previous_body }
    }
}

/// How much of a conversation notifies the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationLevel {
    /// `all` (every message: following), `mentions` (mentions of you or your team, and replies to you),
    /// or `none` (muted). By default `all` in threads, direct conversations and groups, `mentions` in a
    /// project's channels.
    pub level: String,
}
