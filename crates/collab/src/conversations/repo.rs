//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{ConversationId, ConversationKind, ProjectId};

#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub project_id: Option<ProjectId>,
    pub name: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<Uuid>,
    /// A group's title.
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub message_count: i32,
}

pub async fn conversation(conn: &mut PgConnection, id: ConversationId) -> sqlx::Result<Option<ConversationRow>> {
    sqlx::query_as!(
        ConversationRow,
        r#"SELECT id AS "id: ConversationId", kind AS "kind: ConversationKind", project_id AS "project_id: ProjectId",
                  name, subject_kind, subject_id, title, created_at, last_message_at, message_count
           FROM conversations WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert_channel(
    conn: &mut PgConnection,
    project: ProjectId,
    name: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<ConversationRow> {
    sqlx::query_as!(
        ConversationRow,
        r#"INSERT INTO conversations (id, kind, project_id, name, created_by, created_at)
           VALUES ($1, 'channel', $2, $3, $4, $5)
           RETURNING id AS "id: ConversationId", kind AS "kind: ConversationKind", project_id AS "project_id: ProjectId",
                     name, subject_kind, subject_id, title, created_at, last_message_at, message_count"#,
        ConversationId::new() as _,
        project as _,
        name,
        by,
        now
    )
    .fetch_one(conn)
    .await
}

/// The thread of one object, made on first use (two first uses at once make one thread).
pub async fn thread_of(
    conn: &mut PgConnection,
    kind: &str,
    subject: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<ConversationRow> {
    sqlx::query!(
        "INSERT INTO conversations (id, kind, subject_kind, subject_id, created_by, created_at)
         VALUES ($1, 'thread', $2, $3, $4, $5) ON CONFLICT (subject_kind, subject_id) DO NOTHING",
        ConversationId::new() as _,
        kind,
        subject,
        by,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_as!(
        ConversationRow,
        r#"SELECT id AS "id: ConversationId", kind AS "kind: ConversationKind", project_id AS "project_id: ProjectId",
                  name, subject_kind, subject_id, title, created_at, last_message_at, message_count
           FROM conversations WHERE subject_kind = $1 AND subject_id = $2"#,
        kind,
        subject
    )
    .fetch_one(conn)
    .await
}

pub async fn channels(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<Vec<ConversationRow>> {
    sqlx::query_as!(
        ConversationRow,
        r#"SELECT id AS "id: ConversationId", kind AS "kind: ConversationKind", project_id AS "project_id: ProjectId",
                  name, subject_kind, subject_id, title, created_at, last_message_at, message_count
           FROM conversations WHERE project_id = $1 ORDER BY name"#,
        project as _
    )
    .fetch_all(conn)
    .await
}

/// The conversations a user follows: the channels of their projects, and the threads they have read
/// or written in; most recently active first.
pub async fn followed(conn: &mut PgConnection, user: Uuid, limit: i64) -> sqlx::Result<Vec<ConversationRow>> {
    sqlx::query_as!(
        ConversationRow,
        r#"SELECT c.id AS "id!: ConversationId", c.kind AS "kind!: ConversationKind",
                  c.project_id AS "project_id: ProjectId", c.name, c.subject_kind, c.subject_id,
                  c.title, c.created_at AS "created_at!", c.last_message_at, c.message_count AS "message_count!"
           FROM (SELECT c.* FROM project_members m JOIN conversations c ON c.project_id = m.project_id WHERE m.user_id = $1
                 UNION
                 SELECT c.* FROM conversation_reads r JOIN conversations c ON c.id = r.conversation_id
                 WHERE r.user_id = $1
                 UNION
                 SELECT c.* FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.user_id = $1) c
           ORDER BY coalesce(c.last_message_at, c.created_at) DESC, c.id DESC
           LIMIT $2"#,
        user,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Where the user has read each conversation up to.
pub async fn read_until(
    conn: &mut PgConnection,
    user: Uuid,
    conversations: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT conversation_id, read_until FROM conversation_reads WHERE user_id = $1 AND conversation_id = ANY($2)",
        user,
        conversations
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.conversation_id, r.read_until)).collect())
}

/// Messages of others after each one's read position (or all of them, never read), per conversation.
pub async fn unread_counts(
    conn: &mut PgConnection,
    user: Uuid,
    conversations: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT c.id AS "id!", count(m.id) AS "unread!"
           FROM unnest($2::uuid[]) AS c (id)
           LEFT JOIN conversation_reads r ON r.conversation_id = c.id AND r.user_id = $1
           LEFT JOIN messages m ON m.conversation_id = c.id AND m.author_id <> $1 AND m.deleted_at IS NULL
                                AND (r.read_until IS NULL OR m.created_at > r.read_until)
           GROUP BY c.id"#,
        user,
        conversations
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.unread)).collect())
}

/// Moves the user's read position forward (never back).
pub async fn mark_read(
    conn: &mut PgConnection,
    conversation: ConversationId,
    user: Uuid,
    until: DateTime<Utc>,
) -> sqlx::Result<DateTime<Utc>> {
    sqlx::query_scalar!(
        "INSERT INTO conversation_reads (conversation_id, user_id, read_until) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_until = greatest(conversation_reads.read_until, $3)
         RETURNING read_until",
        conversation as _,
        user,
        until
    )
    .fetch_one(conn)
    .await
}

/// Mentions of the user after their read position, per conversation (deleted messages left out).
pub async fn mention_counts(
    conn: &mut PgConnection,
    user: Uuid,
    conversations: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT mm.conversation_id, count(*) AS "mentions!"
           FROM message_mentions mm
           JOIN messages m ON m.id = mm.message_id AND m.deleted_at IS NULL
           LEFT JOIN conversation_reads r ON r.conversation_id = mm.conversation_id AND r.user_id = $1
           WHERE mm.user_id = $1 AND mm.conversation_id = ANY($2)
             AND (r.read_until IS NULL OR mm.created_at > r.read_until)
           GROUP BY mm.conversation_id"#,
        user,
        conversations
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.conversation_id, r.mentions)).collect())
}

/// A new group with its title.
pub async fn insert_group(
    conn: &mut PgConnection,
    title: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<ConversationRow> {
    sqlx::query_as!(
        ConversationRow,
        r#"INSERT INTO conversations (id, kind, title, created_by, created_at) VALUES ($1, 'group', $2, $3, $4)
           RETURNING id AS "id: ConversationId", kind AS "kind: ConversationKind", project_id AS "project_id: ProjectId",
                     name, subject_kind, subject_id, title, created_at, last_message_at, message_count"#,
        ConversationId::new() as _,
        title,
        by,
        now
    )
    .fetch_one(conn)
    .await
}

/// The direct conversation between two people, made on first use (two first uses at once make one),
/// with both as its members.
pub async fn direct_between(
    conn: &mut PgConnection,
    me: Uuid,
    other: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<(bool, ConversationRow)> {
    let key = if me < other { format!("{me}:{other}") } else { format!("{other}:{me}") };
    let made = sqlx::query_scalar!(
        r#"INSERT INTO conversations (id, kind, direct_key, created_by, created_at) VALUES ($1, 'direct', $2, $3, $4)
           ON CONFLICT (direct_key) DO NOTHING RETURNING id"#,
        ConversationId::new() as _,
        key,
        me,
        now
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = made {
        add_members(conn, ConversationId(id), &[me, other], me, now).await?;
    }
    let row = sqlx::query_as!(
        ConversationRow,
        r#"SELECT id AS "id: ConversationId", kind AS "kind: ConversationKind", project_id AS "project_id: ProjectId",
                  name, subject_kind, subject_id, title, created_at, last_message_at, message_count
           FROM conversations WHERE direct_key = $1"#,
        key
    )
    .fetch_one(conn)
    .await?;
    Ok((made.is_some(), row))
}

pub async fn add_members(
    conn: &mut PgConnection,
    conversation: ConversationId,
    users: &[Uuid],
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO conversation_members (conversation_id, user_id, added_by, added_at)
         SELECT $1, u, $3, $4 FROM unnest($2::uuid[]) AS u ON CONFLICT DO NOTHING",
        conversation as _,
        users,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A direct conversation's or a group's members, in the order they joined.
pub async fn members(conn: &mut PgConnection, conversation: ConversationId) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT user_id FROM conversation_members WHERE conversation_id = $1 ORDER BY added_at, user_id",
        conversation as _
    )
    .fetch_all(conn)
    .await
}

pub async fn remove_member(conn: &mut PgConnection, conversation: ConversationId, user: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
        conversation as _,
        user
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks a group while its members change, so that its size limit holds when several add at once.
pub async fn lock(conn: &mut PgConnection, conversation: ConversationId) -> sqlx::Result<()> {
    sqlx::query!("SELECT id FROM conversations WHERE id = $1 FOR UPDATE", conversation as _)
        .fetch_optional(conn)
        .await?;
    Ok(())
}

/// A new connection of `user` to the conversation's stream; answers whether they were not here before
/// (no connection, or none refreshed within 90 seconds).
pub async fn arrive(
    conn: &mut PgConnection,
    conversation: ConversationId,
    user: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let connections = sqlx::query_scalar!(
        "INSERT INTO conversation_presence (conversation_id, user_id, connections, since, seen_at)
         VALUES ($1, $2, 1, $3, $3)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET
             connections = CASE WHEN conversation_presence.connections = 0
                                  OR conversation_presence.seen_at < $3::timestamptz - interval '90 seconds'
                                THEN 1 ELSE conversation_presence.connections + 1 END,
             since = CASE WHEN conversation_presence.connections = 0
                            OR conversation_presence.seen_at < $3::timestamptz - interval '90 seconds'
                          THEN $3 ELSE conversation_presence.since END,
             seen_at = $3
         RETURNING connections",
        conversation as _,
        user,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok(connections == 1)
}

/// Keeps `user`'s connections to the conversation counted as here.
pub async fn still_here(
    conn: &mut PgConnection,
    conversation: ConversationId,
    user: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE conversation_presence SET seen_at = $3 WHERE conversation_id = $1 AND user_id = $2 AND connections > 0",
        conversation as _,
        user,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One of `user`'s connections closed; answers whether it was their last.
pub async fn depart(conn: &mut PgConnection, conversation: ConversationId, user: Uuid) -> sqlx::Result<bool> {
    let left = sqlx::query_scalar!(
        "UPDATE conversation_presence SET connections = greatest(connections - 1, 0)
         WHERE conversation_id = $1 AND user_id = $2 RETURNING connections",
        conversation as _,
        user
    )
    .fetch_optional(conn)
    .await?;
    Ok(left == Some(0))
}

/// Who is here: (user, since when), earliest first.
pub async fn present(
    conn: &mut PgConnection,
    conversation: ConversationId,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT user_id, since FROM conversation_presence
         WHERE conversation_id = $1 AND connections > 0 AND seen_at >= $2::timestamptz - interval '90 seconds'
         ORDER BY since, user_id",
        conversation as _,
        now
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.since)).collect())
}

/// Everyone who reads the conversation by plain membership: a channel's project members, or a direct
/// conversation's or group's people (as [`member_reads`] asks of one).
pub async fn plain_readers(conn: &mut PgConnection, conversation: ConversationId) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT m.user_id AS "user_id!" FROM conversations c JOIN project_members m ON m.project_id = c.project_id
           WHERE c.id = $1 AND c.kind = 'channel'
           UNION ALL
           SELECT cm.user_id FROM conversations c JOIN conversation_members cm ON cm.conversation_id = c.id
           WHERE c.id = $1 AND c.kind IN ('direct', 'group')"#,
        conversation as _
    )
    .fetch_all(conn)
    .await
}

/// Whether `user` reads the conversation by plain membership: a member of a channel's project, or of a
/// direct conversation or group. False says nothing (an organization's project manager, a thread's
/// party): the full rule (`service::access`) decides those.
pub async fn member_reads(conn: &mut PgConnection, conversation: ConversationId, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM conversations c
               WHERE c.id = $1
                 AND ((c.kind = 'channel' AND EXISTS (
                          SELECT 1 FROM project_members m WHERE m.project_id = c.project_id AND m.user_id = $2))
                      OR (c.kind IN ('direct', 'group') AND EXISTS (
                          SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = c.id AND cm.user_id = $2)))
           ) AS "reads!""#,
        conversation as _,
        user
    )
    .fetch_one(conn)
    .await
}
