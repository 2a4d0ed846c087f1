//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{CategoryId, Complexity, TaskId, Urgency};
use crate::state::TaskStatus;

/// A task as stored, with its category's slug.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub id: TaskId,
    pub org_id: Uuid,
    pub created_by: Uuid,
    pub category_id: CategoryId,
    pub category: String,
    pub title: String,
    pub brief: serde_json::Value,
    pub deadline_at: DateTime<Utc>,
    pub urgency: Urgency,
    pub complexity: Complexity,
    pub credits: i32,
    pub required_skills: Vec<String>,
    pub status: TaskStatus,
    pub level: i16,
    pub offers_at_level: i16,
    pub claims_until: Option<DateTime<Utc>>,
    pub assignee: Option<Uuid>,
    pub revisions: i16,
    pub delivery_note: Option<String>,
    pub review_note: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub rating: Option<i16>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A task category.
#[derive(Debug, Clone)]
pub struct CategoryRow {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
    pub base_credits: i32,
    pub required_skills: Vec<String>,
}

pub async fn categories(conn: &mut PgConnection) -> sqlx::Result<Vec<CategoryRow>> {
    sqlx::query_as!(
        CategoryRow,
        r#"SELECT id AS "id: CategoryId", slug, name, base_credits, required_skills FROM task_categories ORDER BY name"#
    )
    .fetch_all(conn)
    .await
}

pub async fn category_by_slug(conn: &mut PgConnection, slug: &str) -> sqlx::Result<Option<CategoryRow>> {
    sqlx::query_as!(
        CategoryRow,
        r#"SELECT id AS "id: CategoryId", slug, name, base_credits, required_skills FROM task_categories WHERE slug = $1"#,
        slug
    )
    .fetch_optional(conn)
    .await
}

/// A task, locked for the rest of the transaction with `lock`.
pub async fn task(conn: &mut PgConnection, id: TaskId, lock: bool) -> sqlx::Result<Option<TaskRow>> {
    if lock {
        sqlx::query_scalar!("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", id as _)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query_as!(
        TaskRow,
        r#"SELECT t.id AS "id: TaskId", t.org_id, t.created_by, t.category_id AS "category_id: CategoryId", c.slug AS category,
                  t.title, t.brief, t.deadline_at, t.urgency AS "urgency: Urgency", t.complexity AS "complexity: Complexity",
                  t.credits, t.required_skills, t.status AS "status: TaskStatus", t.level, t.offers_at_level, t.claims_until,
                  t.assignee, t.revisions, t.delivery_note, t.review_note, t.delivered_at, t.rating, t.completed_at,
                  t.cancelled_at, t.created_at, t.updated_at
           FROM tasks t JOIN task_categories c ON c.id = t.category_id WHERE t.id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// An organization's tasks, newest first, a page at a time.
pub async fn tasks_of_org(
    conn: &mut PgConnection,
    org: Uuid,
    status: Option<TaskStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<TaskRow>> {
    let (at, id) = after.unzip();
    sqlx::query_as!(
        TaskRow,
        r#"SELECT t.id AS "id: TaskId", t.org_id, t.created_by, t.category_id AS "category_id: CategoryId", c.slug AS category,
                  t.title, t.brief, t.deadline_at, t.urgency AS "urgency: Urgency", t.complexity AS "complexity: Complexity",
                  t.credits, t.required_skills, t.status AS "status: TaskStatus", t.level, t.offers_at_level, t.claims_until,
                  t.assignee, t.revisions, t.delivery_note, t.review_note, t.delivered_at, t.rating, t.completed_at,
                  t.cancelled_at, t.created_at, t.updated_at
           FROM tasks t JOIN task_categories c ON c.id = t.category_id
           WHERE t.org_id = $1 AND ($2::text IS NULL OR t.status = $2)
             AND ($3::timestamptz IS NULL OR (t.created_at, t.id) < ($3, $4))
           ORDER BY t.created_at DESC, t.id DESC LIMIT $5"#,
        org,
        status.map(TaskStatus::as_str),
        at,
        id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A freelancer's tasks (assigned to them), newest first, a page at a time.
pub async fn tasks_of_assignee(
    conn: &mut PgConnection,
    user: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<TaskRow>> {
    let (at, id) = after.unzip();
    sqlx::query_as!(
        TaskRow,
        r#"SELECT t.id AS "id: TaskId", t.org_id, t.created_by, t.category_id AS "category_id: CategoryId", c.slug AS category,
                  t.title, t.brief, t.deadline_at, t.urgency AS "urgency: Urgency", t.complexity AS "complexity: Complexity",
                  t.credits, t.required_skills, t.status AS "status: TaskStatus", t.level, t.offers_at_level, t.claims_until,
                  t.assignee, t.revisions, t.delivery_note, t.review_note, t.delivered_at, t.rating, t.completed_at,
                  t.cancelled_at, t.created_at, t.updated_at
           FROM tasks t JOIN task_categories c ON c.id = t.category_id
           WHERE t.assignee = $1 AND ($2::timestamptz IS NULL OR (t.created_at, t.id) < ($2, $3))
           ORDER BY t.created_at DESC, t.id DESC LIMIT $4"#,
        user,
        at,
        id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Tasks waiting for staff: delivered work to review and tasks no one took, oldest first.
pub async fn staff_queue(conn: &mut PgConnection) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as!(
        TaskRow,
        r#"SELECT t.id AS "id: TaskId", t.org_id, t.created_by, t.category_id AS "category_id: CategoryId", c.slug AS category,
                  t.title, t.brief, t.deadline_at, t.urgency AS "urgency: Urgency", t.complexity AS "complexity: Complexity",
                  t.credits, t.required_skills, t.status AS "status: TaskStatus", t.level, t.offers_at_level, t.claims_until,
                  t.assignee, t.revisions, t.delivery_note, t.review_note, t.delivered_at, t.rating, t.completed_at,
                  t.cancelled_at, t.created_at, t.updated_at
           FROM tasks t JOIN task_categories c ON c.id = t.category_id
           WHERE t.status IN ('pending_admin_review', 'unassignable')
           ORDER BY t.updated_at, t.id LIMIT 200"#
    )
    .fetch_all(conn)
    .await
}

/// A new task, as created.
pub struct NewTask<'a> {
    pub id: TaskId,
    pub org_id: Uuid,
    pub created_by: Uuid,
    pub category_id: CategoryId,
    pub title: &'a str,
    pub brief: &'a serde_json::Value,
    pub deadline_at: DateTime<Utc>,
    pub urgency: Urgency,
    pub complexity: Complexity,
    pub credits: i32,
    pub required_skills: &'a [String],
}

pub async fn insert_task(conn: &mut PgConnection, t: &NewTask<'_>, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO tasks (id, org_id, created_by, category_id, title, brief, deadline_at, urgency, complexity, credits,
                              required_skills, status, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $12)"#,
        t.id as _,
        t.org_id,
        t.created_by,
        t.category_id as _,
        t.title,
        t.brief,
        t.deadline_at,
        t.urgency.as_str(),
        t.complexity.as_str(),
        t.credits,
        t.required_skills,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a task's changing fields back.
pub async fn save(conn: &mut PgConnection, t: &TaskRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE tasks SET status = $2, level = $3, offers_at_level = $4, claims_until = $5, assignee = $6, revisions = $7,
                  delivery_note = $8, review_note = $9, delivered_at = $10, rating = $11, completed_at = $12,
                  cancelled_at = $13, complexity = $14, updated_at = $15
           WHERE id = $1"#,
        t.id as _,
        t.status.as_str(),
        t.level,
        t.offers_at_level,
        t.claims_until,
        t.assignee,
        t.revisions,
        t.delivery_note,
        t.review_note,
        t.delivered_at,
        t.rating,
        t.completed_at,
        t.cancelled_at,
        t.complexity.as_str(),
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One step of a task's activity log.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub actor: Option<Uuid>,
    pub action: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn log(
    conn: &mut PgConnection,
    task: TaskId,
    actor: Option<Uuid>,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_activity (id, task_id, actor, action, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        platform::ids::new_id(),
        task as _,
        actor,
        action,
        detail,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The same step of many tasks' logs (a sweep's), in one statement.
pub async fn log_many(
    conn: &mut PgConnection,
    action: &str,
    entries: &[(TaskId, serde_json::Value)],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = entries.iter().map(|_| platform::ids::new_id()).collect();
    let tasks: Vec<Uuid> = entries.iter().map(|(t, _)| t.0).collect();
    let details: Vec<serde_json::Value> = entries.iter().map(|(_, d)| d.clone()).collect();
    sqlx::query!(
        r#"INSERT INTO task_activity (id, task_id, actor, action, detail, created_at)
           SELECT e.id, e.task_id, NULL, $4, e.detail, $5 FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[]) AS e (id, task_id, detail)"#,
        &ids,
        &tasks,
        &details,
        action,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Tasks whose offer ended without a taker wait again (`offered` → `pending`), in one statement.
pub async fn reopen_offered(conn: &mut PgConnection, tasks: &[Uuid], now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE tasks SET status = 'pending', updated_at = $2 WHERE id = ANY($1) AND status = 'offered'"#,
        tasks,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn activity(conn: &mut PgConnection, task: TaskId) -> sqlx::Result<Vec<ActivityRow>> {
    sqlx::query_as!(
        ActivityRow,
        "SELECT actor, action, detail, created_at FROM task_activity WHERE task_id = $1 ORDER BY created_at, id",
        task as _
    )
    .fetch_all(conn)
    .await
}

/// When the task was last passed to the client for review.
pub async fn passed_to_client_at(conn: &mut PgConnection, task: TaskId) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        r#"SELECT max(created_at) AS "at" FROM task_activity WHERE task_id = $1 AND action = 'passed_to_client'"#,
        task as _
    )
    .fetch_one(conn)
    .await
}
