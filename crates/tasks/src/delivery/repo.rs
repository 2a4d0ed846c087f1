//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::TaskId;

#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: Uuid,
    pub task_id: Uuid,
    pub author: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_message(
    conn: &mut PgConnection,
    id: Uuid,
    task: TaskId,
    author: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_messages (id, task_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        task as _,
        author,
        body,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A task's messages, oldest first, a page at a time.
pub async fn messages(
    conn: &mut PgConnection,
    task: TaskId,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    let (at, id) = after.unzip();
    sqlx::query_as!(
        MessageRow,
        r#"SELECT id, task_id, author, body, created_at
           FROM task_messages
           WHERE task_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
           ORDER BY created_at, id
           LIMIT $4"#,
        task as _,
        at,
        id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Counts an approved task between a company and a freelancer.
pub async fn count_approval(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
    rating: Option<i16>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_affinity (org_id, user_id, approved, ratings_sum, ratings, last_approved_at)
         VALUES ($1, $2, 1, coalesce($3::int, 0), CASE WHEN $3::int IS NULL THEN 0 ELSE 1 END, $4)
         ON CONFLICT (org_id, user_id) DO UPDATE
         SET approved = task_affinity.approved + 1,
             ratings_sum = task_affinity.ratings_sum + coalesce($3::int, 0),
             ratings = task_affinity.ratings + CASE WHEN $3::int IS NULL THEN 0 ELSE 1 END,
             last_approved_at = $4",
        org,
        user,
        rating.map(i32::from),
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct AffinityRow {
    pub user_id: Uuid,
    pub approved: i32,
    pub ratings_sum: i32,
    pub ratings: i32,
    pub last_approved_at: DateTime<Utc>,
    pub favourite: bool,
}

/// The freelancers a company has approved work from, most approved first.
pub async fn affinity(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<AffinityRow>> {
    sqlx::query_as!(
        AffinityRow,
        r#"SELECT a.user_id, a.approved, a.ratings_sum, a.ratings, a.last_approved_at,
                  EXISTS (SELECT 1 FROM task_favourites f WHERE f.org_id = a.org_id AND f.user_id = a.user_id) AS "favourite!"
           FROM task_affinity a
           WHERE a.org_id = $1
           ORDER BY a.approved DESC, a.last_approved_at DESC, a.user_id"#,
        org
    )
    .fetch_all(conn)
    .await
}
