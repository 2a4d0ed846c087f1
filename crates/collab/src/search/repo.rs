//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::FileHit;
use crate::messages::repo::MessageRow;
use crate::model::{ConversationId, FileId, MessageId, ProjectId};

/// The channels of projects the user is a member of, or of the organizations' projects given (those
/// the user manages): (conversation, its project, its name).
pub async fn channels_readable(
    conn: &mut PgConnection,
    user: Uuid,
    orgs: &[Uuid],
) -> sqlx::Result<Vec<(ConversationId, ProjectId, String)>> {
    let rows = sqlx::query!(
        r#"SELECT c.id AS "id!", c.project_id AS "project_id!", c.name AS "name!"
           FROM conversations c JOIN projects p ON p.id = c.project_id
           WHERE c.kind = 'channel'
             AND (p.organization_id = ANY($2)
                  OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = $1))"#,
        user,
        orgs
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (ConversationId(r.id), ProjectId(r.project_id), r.name)).collect())
}

/// The threads the user has read or written in: (conversation, object kind, object id).
pub async fn threads_followed(
    conn: &mut PgConnection,
    user: Uuid,
) -> sqlx::Result<Vec<(ConversationId, String, Uuid)>> {
    let rows = sqlx::query!(
        r#"SELECT c.id AS "id!", c.subject_kind AS "kind!", c.subject_id AS "subject!"
           FROM conversation_reads r JOIN conversations c ON c.id = r.conversation_id
           WHERE r.user_id = $1 AND c.kind = 'thread'"#,
        user
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (ConversationId(r.id), r.kind, r.subject)).collect())
}

/// The direct conversations and groups the user is in, with their titles and their other members (in
/// the order they joined).
pub async fn joined(
    conn: &mut PgConnection,
    user: Uuid,
) -> sqlx::Result<Vec<(ConversationId, Option<String>, Vec<Uuid>)>> {
    let rows = sqlx::query!(
        r#"SELECT c.id AS "id: ConversationId", c.title,
                  COALESCE(array_agg(o.user_id ORDER BY o.added_at, o.user_id) FILTER (WHERE o.user_id IS NOT NULL), '{}') AS "others!"
           FROM conversation_members me
           JOIN conversations c ON c.id = me.conversation_id AND c.kind IN ('direct', 'group')
           LEFT JOIN conversation_members o ON o.conversation_id = c.id AND o.user_id <> me.user_id
           WHERE me.user_id = $1
           GROUP BY c.id, c.title"#,
        user
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title, r.others)).collect())
}

#[derive(Debug, Clone)]
pub struct HitRow {
    pub message: MessageRow,
    pub rank: f32,
}

/// Messages of these conversations that match, best first (then newest); deleted ones never. Of a query
/// that matches many, the newest `ranked` matches are ranked (the rest are reached by narrowing it:
/// `from:`, `in:`, `before:`), so that two common words cost the same at a million messages as at a
/// thousand.
#[allow(clippy::too_many_arguments)]
pub async fn messages(
    conn: &mut PgConnection,
    conversations: &[Uuid],
    words: &str,
    authors: &[Uuid],
    before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    (thread, file): (bool, bool),
    (ranked, limit): (i64, i64),
) -> sqlx::Result<Vec<HitRow>> {
    let rows = sqlx::query!(
        r#"WITH q AS (SELECT websearch_to_tsquery('simple', $2) AS q),
           matched AS (
               SELECT m.id, m.conversation_id, m.author_id, m.body, m.reply_to, m.reply_count, m.created_at,
                      m.edited_at, m.deleted_at, m.search
               FROM messages m, q
               WHERE m.conversation_id = ANY($1) AND m.deleted_at IS NULL
                 AND ($2 = '' OR m.search @@ q.q)
                 AND (cardinality($3::uuid[]) = 0 OR m.author_id = ANY($3))
                 AND ($4::timestamptz IS NULL OR m.created_at < $4)
                 AND ($5::timestamptz IS NULL OR m.created_at >= $5)
                 AND (NOT $6 OR m.reply_to IS NOT NULL OR m.reply_count > 0)
                 AND (NOT $7 OR EXISTS (SELECT 1 FROM message_attachments a WHERE a.message_id = m.id))
               ORDER BY m.created_at DESC, m.id DESC
               LIMIT $9)
           SELECT m.id AS "id!", m.conversation_id AS "conversation_id!", m.author_id AS "author_id!",
                  m.body AS "body!", m.reply_to, m.reply_count AS "reply_count!", m.created_at AS "created_at!",
                  m.edited_at, m.deleted_at, CASE WHEN $2 = '' THEN 0::real ELSE ts_rank(m.search, q.q) END AS "rank!"
           FROM matched m, q
           ORDER BY 10 DESC, m.created_at DESC, m.id DESC
           LIMIT $8"#,
        conversations,
        words,
        authors,
        before,
        after,
        thread,
        file,
        limit,
        ranked
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HitRow {
            message: MessageRow {
                id: MessageId(r.id),
                conversation_id: ConversationId(r.conversation_id),
                author_id: r.author_id,
                body: r.body,
                reply_to: r.reply_to.map(MessageId),
                reply_count: r.reply_count,
                created_at: r.created_at,
                edited_at: r.edited_at,
                deleted_at: r.deleted_at,
            },
            rank: r.rank,
        })
        .collect())
}

/// Of these projects, those whose name or description match, best first.
pub async fn projects(conn: &mut PgConnection, projects: &[Uuid], words: &str, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT p.id FROM projects p, websearch_to_tsquery('simple', $2) AS q
           WHERE p.id = ANY($1) AND to_tsvector('simple', p.name || ' ' || p.description) @@ q
           ORDER BY ts_rank(to_tsvector('simple', p.name || ' ' || p.description), q) DESC, p.created_at DESC
           LIMIT $3"#,
        projects,
        words,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Files of these projects (not deleted) whose name or folder match, or whose latest version's text
/// does (only once it passed its scan), best first; the excerpt shows the words in the text.
pub async fn files(
    conn: &mut PgConnection,
    projects: &[Uuid],
    words: &str,
    authors: &[Uuid],
    before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    limit: i64,
) -> sqlx::Result<Vec<FileHit>> {
    sqlx::query_as!(
        FileHit,
        r#"SELECT hit.id AS "file_id!: FileId", hit.project_id AS "project_id!: ProjectId", p.name AS "project_name!", hit.folder AS "folder!",
                  hit.name AS "name!", hit.version AS "version!", hit.media_type AS "media_type!", hit.size AS "size!",
                  CASE WHEN hit.in_text THEN ts_headline('simple', left(c.body, 20000), q,
                       'StartSel=[, StopSel=], MaxWords=24, MinWords=8, MaxFragments=2') END AS excerpt,
                  hit.rank AS "rank!"
           FROM websearch_to_tsquery('simple', $2) AS q
           CROSS JOIN LATERAL (
               SELECT f.id, f.project_id, f.folder, f.name, v.version, v.media_type, v.size, v.sha256, f.updated_at,
                      coalesce(c.search @@ q, false) AS in_text,
                      (ts_rank(f.search, q) * 2 + coalesce(ts_rank(c.search, q), 0))::real AS rank
               FROM project_files f
               JOIN project_file_versions v ON v.file_id = f.id AND v.version = f.latest_version
               LEFT JOIN project_file_contents c ON c.sha256 = v.sha256 AND v.scan = 'clean'
               WHERE f.project_id = ANY($1) AND f.deleted_at IS NULL
                 AND (f.search @@ q OR c.search @@ q)
                 AND (cardinality($3::uuid[]) = 0 OR v.uploaded_by = ANY($3))
                 AND ($4::timestamptz IS NULL OR v.created_at < $4)
                 AND ($5::timestamptz IS NULL OR v.created_at >= $5)
               ORDER BY rank DESC, f.updated_at DESC, f.id
               LIMIT $6
           ) AS hit
           JOIN projects p ON p.id = hit.project_id
           LEFT JOIN project_file_contents c ON c.sha256 = hit.sha256
           ORDER BY hit.rank DESC, hit.updated_at DESC, hit.id"#,
        projects,
        words,
        authors,
        before,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}
