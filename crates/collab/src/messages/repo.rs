//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{ConversationId, MessageId};

#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub author_id: Uuid,
    pub body: String,
    pub reply_to: Option<MessageId>,
    pub reply_count: i32,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

pub async fn message(conn: &mut PgConnection, id: MessageId, lock: bool) -> sqlx::Result<Option<MessageRow>> {
    if lock {
        sqlx::query_as!(
            MessageRow,
            r#"SELECT id AS "id: MessageId", conversation_id AS "conversation_id: ConversationId", author_id, body,
                      reply_to AS "reply_to: MessageId", reply_count, created_at, edited_at, deleted_at
               FROM messages WHERE id = $1 FOR UPDATE"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            MessageRow,
            r#"SELECT id AS "id: MessageId", conversation_id AS "conversation_id: ConversationId", author_id, body,
                      reply_to AS "reply_to: MessageId", reply_count, created_at, edited_at, deleted_at
               FROM messages WHERE id = $1"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    }
}

/// Stores a message and counts it on its conversation (and on the message it replies to).
pub async fn insert(conn: &mut PgConnection, m: &MessageRow) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH added AS (
             INSERT INTO messages (id, conversation_id, author_id, body, reply_to, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING conversation_id, reply_to),
         root AS (UPDATE messages SET reply_count = reply_count + 1 WHERE id = (SELECT reply_to FROM added))
         UPDATE conversations SET message_count = message_count + 1,
                                  last_message_at = greatest(last_message_at, $6)
         WHERE id = (SELECT conversation_id FROM added)",
        m.id as _,
        m.conversation_id as _,
        m.author_id,
        m.body,
        m.reply_to as _,
        m.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A conversation's first messages (not replies), newest first, before the cursor.
pub async fn top_level(
    conn: &mut PgConnection,
    conversation: ConversationId,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    sqlx::query_as!(
        MessageRow,
        r#"SELECT id AS "id: MessageId", conversation_id AS "conversation_id: ConversationId", author_id, body,
                  reply_to AS "reply_to: MessageId", reply_count, created_at, edited_at, deleted_at
           FROM messages
           WHERE conversation_id = $1 AND reply_to IS NULL
             AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
           ORDER BY created_at DESC, id DESC
           LIMIT $4"#,
        conversation as _,
        before.map(|b| b.0),
        before.map(|b| b.1),
        limit
    )
    .fetch_all(conn)
    .await
}

/// The replies to a message, oldest first, after the cursor.
pub async fn replies(
    conn: &mut PgConnection,
    root: MessageId,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    sqlx::query_as!(
        MessageRow,
        r#"SELECT id AS "id: MessageId", conversation_id AS "conversation_id: ConversationId", author_id, body,
                  reply_to AS "reply_to: MessageId", reply_count, created_at, edited_at, deleted_at
           FROM messages
           WHERE reply_to = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
           ORDER BY created_at, id
           LIMIT $4"#,
        root as _,
        after.map(|a| a.0),
        after.map(|a| a.1),
        limit
    )
    .fetch_all(conn)
    .await
}

/// Replaces the text and keeps the one it replaces.
pub async fn edit(
    conn: &mut PgConnection,
    id: MessageId,
    previous: &str,
    body: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH kept AS (INSERT INTO message_edits (id, message_id, edited_by, edited_at, previous_body)
                       VALUES ($1, $2, $3, $4, $5))
         UPDATE messages SET body = $6, edited_at = $4 WHERE id = $2",
        platform::ids::new_id(),
        id as _,
        by,
        now,
        previous,
        body
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct EditRow {
    pub edited_by: Uuid,
    pub edited_at: DateTime<Utc>,
    pub previous_body: String,
}

/// A message's earlier texts, oldest first.
pub async fn edits(conn: &mut PgConnection, id: MessageId) -> sqlx::Result<Vec<EditRow>> {
    sqlx::query_as!(
        EditRow,
        "SELECT edited_by, edited_at, previous_body FROM message_edits WHERE message_id = $1 ORDER BY edited_at, id",
        id as _
    )
    .fetch_all(conn)
    .await
}

pub async fn delete(conn: &mut PgConnection, id: MessageId, by: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE messages SET deleted_at = $2, deleted_by = $3 WHERE id = $1", id as _, now, by)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records whom a message mentions.
pub async fn insert_mentions(
    conn: &mut PgConnection,
    message: MessageId,
    conversation: ConversationId,
    users: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO message_mentions (message_id, user_id, conversation_id, created_at)
         SELECT $1, u, $2, $4 FROM unnest($3::uuid[]) AS u ON CONFLICT DO NOTHING",
        message as _,
        conversation as _,
        users,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whom each of these messages mentions: (message, user).
pub async fn mentions_of(conn: &mut PgConnection, messages: &[Uuid]) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    let rows = sqlx::query!(
        "SELECT message_id, user_id FROM message_mentions WHERE message_id = ANY($1) ORDER BY message_id, user_id",
        messages
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.message_id, r.user_id)).collect())
}

#[derive(Debug, Clone)]
pub struct ReactionRow {
    pub message_id: Uuid,
    pub emoji: String,
    pub count: i64,
    /// Whether the reader is among those who reacted so.
    pub mine: bool,
    pub first_at: DateTime<Utc>,
}

/// The reactions to each of these messages, counted, in the order each emoji was first used.
pub async fn reactions_of(conn: &mut PgConnection, messages: &[Uuid], reader: Uuid) -> sqlx::Result<Vec<ReactionRow>> {
    sqlx::query_as!(
        ReactionRow,
        r#"SELECT message_id, emoji, count(*) AS "count!", bool_or(user_id = $2) AS "mine!", min(created_at) AS "first_at!"
           FROM message_reactions WHERE message_id = ANY($1)
           GROUP BY message_id, emoji
           ORDER BY message_id, min(created_at), emoji"#,
        messages,
        reader
    )
    .fetch_all(conn)
    .await
}

/// Who reacted to a message with what (each reader's own reactions are marked from it).
pub async fn reactors(conn: &mut PgConnection, message: MessageId) -> sqlx::Result<Vec<(String, Uuid)>> {
    let rows = sqlx::query!("SELECT emoji, user_id FROM message_reactions WHERE message_id = $1", message as _)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.emoji, r.user_id)).collect())
}

/// How many distinct emoji the message has, and whether `emoji` is one of them.
pub async fn reaction_kinds(conn: &mut PgConnection, message: MessageId, emoji: &str) -> sqlx::Result<(i64, bool)> {
    let row = sqlx::query!(
        r#"SELECT count(DISTINCT emoji) AS "kinds!", coalesce(bool_or(emoji = $2), false) AS "present!"
           FROM message_reactions WHERE message_id = $1"#,
        message as _,
        emoji
    )
    .fetch_one(conn)
    .await?;
    Ok((row.kinds, row.present))
}

pub async fn add_reaction(
    conn: &mut PgConnection,
    message: MessageId,
    emoji: &str,
    user: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO message_reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        message as _,
        emoji,
        user,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_reaction(conn: &mut PgConnection, message: MessageId, emoji: &str, user: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM message_reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
        message as _,
        emoji,
        user
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The messages of several conversations in one timeline (a support ticket's conversation and its
/// notes), replies included, oldest first, after the cursor.
pub async fn timeline(
    conn: &mut PgConnection,
    conversations: &[Uuid],
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    sqlx::query_as!(
        MessageRow,
        r#"SELECT id AS "id: MessageId", conversation_id AS "conversation_id: ConversationId", author_id, body,
                  reply_to AS "reply_to: MessageId", reply_count, created_at, edited_at, deleted_at
           FROM messages
           WHERE conversation_id = ANY($1) AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
           ORDER BY created_at, id
           LIMIT $4"#,
        conversations,
        after.map(|a| a.0),
        after.map(|a| a.1),
        limit
    )
    .fetch_all(conn)
    .await
}

/// The pinned among these messages, with when.
pub async fn pins_of(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<(Uuid, DateTime<Utc>)>> {
    let rows = sqlx::query!("SELECT message_id, pinned_at FROM message_pins WHERE message_id = ANY($1)", ids)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.message_id, r.pinned_at)).collect())
}

/// A conversation's pinned messages, most recently pinned first.
pub async fn pinned(conn: &mut PgConnection, conversation: ConversationId) -> sqlx::Result<Vec<MessageRow>> {
    sqlx::query_as!(
        MessageRow,
        r#"SELECT m.id AS "id: MessageId", m.conversation_id AS "conversation_id: ConversationId", m.author_id, m.body,
                  m.reply_to AS "reply_to: MessageId", m.reply_count, m.created_at, m.edited_at, m.deleted_at
           FROM message_pins p JOIN messages m ON m.id = p.message_id
           WHERE p.conversation_id = $1 ORDER BY p.pinned_at DESC, m.id DESC"#,
        conversation as _
    )
    .fetch_all(conn)
    .await
}

/// How many messages of the conversation are pinned.
pub async fn pin_count(conn: &mut PgConnection, conversation: ConversationId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM message_pins WHERE conversation_id = $1"#, conversation as _)
        .fetch_one(conn)
        .await
}

/// Pins a message (pinning it again changes nothing); answers whether it was new.
pub async fn pin(
    conn: &mut PgConnection,
    message: MessageId,
    conversation: ConversationId,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "INSERT INTO message_pins (message_id, conversation_id, pinned_by, pinned_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (message_id) DO NOTHING",
        message as _,
        conversation as _,
        by,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

pub async fn unpin(conn: &mut PgConnection, message: MessageId) -> sqlx::Result<bool> {
    Ok(sqlx::query!("DELETE FROM message_pins WHERE message_id = $1", message as _)
        .execute(conn)
        .await?
        .rows_affected()
        > 0)
}

/// People's notification levels in a conversation.
pub async fn levels(conn: &mut PgConnection, conversation: ConversationId) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows =
        sqlx::query!("SELECT user_id, level FROM conversation_prefs WHERE conversation_id = $1", conversation as _)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.level)).collect())
}

pub async fn set_level(
    conn: &mut PgConnection,
    conversation: ConversationId,
    user: Uuid,
    level: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO conversation_prefs (conversation_id, user_id, level, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET level = $3, updated_at = $4",
        conversation as _,
        user,
        level,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
