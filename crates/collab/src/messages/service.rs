//! Posting, reading, editing and deleting messages; every route asks `conversations::service::access`
//! first, so a message is read or changed only by those who may read its conversation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Edit, Message, MessageEdit, NewMessage};
use super::repo::{self, MessageRow};
use crate::conversations::service::{Access, access};
use crate::error::{CollabCode, CollabError};
use crate::model::{ConversationId, MessageId};
use crate::{CollabSettings, Subjects};

/// The most characters a message holds.
pub const MAX_BODY: usize = 16_000;

fn check_body(body: &str) -> Result<(), ApiError> {
    if body.trim().is_empty() || body.chars().count() > MAX_BODY {
        return Err(ApiError::invalid_field("body", "invalid_length", "must be 1 to 16,000 characters"));
    }
    if body.contains('\0') {
        return Err(ApiError::invalid_field("body", "invalid_character", "must not contain NUL"));
    }
    Ok(())
}

async fn names_of(conn: &mut PgConnection, rows: &[MessageRow]) -> sqlx::Result<HashMap<Uuid, String>> {
    let mut authors: Vec<Uuid> = rows.iter().map(|m| m.author_id).collect();
    authors.sort();
    authors.dedup();
    identity::service::display_names(conn, &authors).await
}

/// The message and the caller's access to its conversation; not found when they may not read it.
async fn visible_message(
    conn: &mut PgConnection,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    lock: bool,
) -> Result<(MessageRow, Access), ApiError> {
    let message = repo::message(conn, id, lock).await?.ok_or(CollabError::NotFound("message"))?;
    let access = access(conn, subjects, principal, message.conversation_id).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::NOT_FOUND { CollabError::NotFound("message").into() } else { e }
    })?;
    Ok((message, access))
}

pub async fn post(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
    req: NewMessage,
) -> Result<Message, ApiError> {
    check_body(&req.body)?;
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let access = access(&mut tx, subjects, principal, conversation).await?;
    if !access.may_post {
        return Err(ApiError::new(CollabCode::ReadOnly, "You may read this conversation but not write in it."));
    }
    let root = match req.reply_to {
        Some(id) => {
            let replied =
                repo::message(&mut tx, id, false).await?.filter(|m| m.conversation_id == conversation).ok_or_else(
                    || ApiError::invalid_field("reply_to", "not_found", "names no message of this conversation"),
                )?;
            let root = match replied.reply_to {
                Some(root) => repo::message(&mut tx, root, false).await?.ok_or(CollabError::NotFound("message"))?,
                None => replied,
            };
            if root.deleted_at.is_some() {
                return Err(ApiError::new(CollabCode::MessageDeleted, "The thread's first message was deleted."));
            }
            Some(root)
        }
        None => None,
    };
    let row = MessageRow {
        id: MessageId::new(),
        conversation_id: conversation,
        author_id: me,
        body: req.body,
        reply_to: root.as_ref().map(|r| r.id),
        reply_count: 0,
        created_at: now,
        edited_at: None,
        deleted_at: None,
    };
    repo::insert(&mut tx, &row).await?;
    crate::conversations::repo::mark_read(&mut tx, conversation, me, now).await?;
    let names = identity::service::display_names(&mut tx, &[me]).await?;
    tell(&mut tx, &access, &row, root.as_ref(), names.get(&me).cloned().unwrap_or_default(), now).await?;
    tx.commit().await?;
    Ok(Message::of(row, &names))
}

/// Tells the thread's parties of a new message, and the author of the message replied to of the
/// reply (once each; never the writer).
async fn tell(
    conn: &mut PgConnection,
    access: &Access,
    row: &MessageRow,
    root: Option<&MessageRow>,
    author: String,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let excerpt: String = row.body.chars().take(140).collect();
    let replied_to = root.map(|r| r.author_id).filter(|a| *a != row.author_id);
    let mut others: Vec<Uuid> =
        access.people.iter().copied().filter(|p| *p != row.author_id && Some(*p) != replied_to).collect();
    others.sort();
    others.dedup();
    let data = json!({"subject": access.title, "conversation_id": row.conversation_id, "message_id": row.id,
                      "author": author, "excerpt": excerpt});
    crate::notify_users(conn, others, "conversation.message", data.clone(), now).await?;
    if let Some(user) = replied_to {
        crate::notify_users(conn, vec![user], "conversation.reply", data, now).await?;
    }
    Ok(())
}

/// The conversation's first messages (replies are under each), newest first.
pub async fn list(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
    page: &PageParams,
) -> Result<Page<Message>, ApiError> {
    let limit = page.limit()?;
    let before: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    access(&mut conn, subjects, principal, conversation).await?;
    let rows = repo::top_level(&mut conn, conversation, before, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    let names = names_of(&mut conn, &page.items).await?;
    Ok(Page { items: page.items.into_iter().map(|r| Message::of(r, &names)).collect(), next_cursor: page.next_cursor })
}

/// The replies to a message, oldest first.
pub async fn replies(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    page: &PageParams,
) -> Result<Page<Message>, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    visible_message(&mut conn, subjects, principal, id, false).await?;
    let rows = repo::replies(&mut conn, id, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    let names = names_of(&mut conn, &page.items).await?;
    Ok(Page { items: page.items.into_iter().map(|r| Message::of(r, &names)).collect(), next_cursor: page.next_cursor })
}

/// Replaces a message's text: its author only, until `edit_window` has passed since it was posted
/// (at exactly 15 minutes it is closed). The text replaced is kept.
pub async fn edit(
    ctx: &AppContext,
    settings: &CollabSettings,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    req: MessageEdit,
) -> Result<Message, ApiError> {
    check_body(&req.body)?;
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let (mut row, _) = visible_message(&mut tx, subjects, principal, id, true).await?;
    if row.author_id != me {
        return Err(ApiError::new(CollabCode::NotTheAuthor, "Only the message's author edits it."));
    }
    if row.deleted_at.is_some() {
        return Err(ApiError::new(CollabCode::MessageDeleted, "The message was deleted."));
    }
    if now >= row.created_at + settings.edit_window {
        return Err(ApiError::new(
            CollabCode::EditWindowClosed,
            format!("A message is edited within {} minutes of posting it.", settings.edit_window.num_minutes()),
        ));
    }
    if row.body != req.body {
        repo::edit(&mut tx, id, &row.body, &req.body, me, now).await?;
        row.body = req.body;
        row.edited_at = Some(now);
    }
    let names = identity::service::display_names(&mut tx, &[me]).await?;
    tx.commit().await?;
    Ok(Message::of(row, &names))
}

/// A message's earlier texts, oldest first (none once it is deleted).
pub async fn edits(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
) -> Result<Vec<Edit>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, _) = visible_message(&mut conn, subjects, principal, id, false).await?;
    if row.deleted_at.is_some() {
        return Ok(Vec::new());
    }
    Ok(repo::edits(&mut conn, id).await?.into_iter().map(Edit::from).collect())
}

/// Deletes a message (its author, or a moderator of the conversation): it keeps its place, without
/// its text. Deleting it again changes nothing.
pub async fn delete(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let (row, access) = visible_message(&mut tx, subjects, principal, id, true).await?;
    if row.author_id != me && !access.moderator {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            "Only the message's author or a moderator of the conversation deletes it.",
        ));
    }
    if row.deleted_at.is_none() {
        repo::delete(&mut tx, id, me, now).await?;
        if row.author_id != me {
            platform::audit::Entry::new(principal.actor(), "message.delete", "message", id)
                .before(json!({"author": row.author_id, "conversation": row.conversation_id}))
                .record(&mut tx, now)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
