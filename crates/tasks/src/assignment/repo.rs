//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{DeclineReason, Experience, OfferId, OfferStatus, TaskId};

/// One configuration version of the algorithm.
#[derive(Debug, Clone)]
pub struct ConfigRow {
    pub version: i32,
    pub status: String,
    pub weight_skill: i16,
    pub weight_timezone: i16,
    pub weight_experience: i16,
    pub weight_workload: i16,
    pub weight_performance: i16,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// The published configuration.
pub async fn active_config(conn: &mut PgConnection) -> sqlx::Result<Option<ConfigRow>> {
    sqlx::query_as!(
        ConfigRow,
        r#"SELECT version, status, weight_skill, weight_timezone, weight_experience, weight_workload, weight_performance,
                  note, created_at, published_at
           FROM task_assignment_configs WHERE status = 'published'"#
    )
    .fetch_optional(conn)
    .await
}

pub async fn configs(conn: &mut PgConnection) -> sqlx::Result<Vec<ConfigRow>> {
    sqlx::query_as!(
        ConfigRow,
        r#"SELECT version, status, weight_skill, weight_timezone, weight_experience, weight_workload, weight_performance,
                  note, created_at, published_at
           FROM task_assignment_configs ORDER BY version DESC"#
    )
    .fetch_all(conn)
    .await
}

pub async fn config(conn: &mut PgConnection, version: i32) -> sqlx::Result<Option<ConfigRow>> {
    sqlx::query_as!(
        ConfigRow,
        r#"SELECT version, status, weight_skill, weight_timezone, weight_experience, weight_workload, weight_performance,
                  note, created_at, published_at
           FROM task_assignment_configs WHERE version = $1 FOR UPDATE"#,
        version
    )
    .fetch_optional(conn)
    .await
}

/// A new draft, numbered after the highest version (serialized by a transaction-level advisory lock).
pub async fn insert_draft(
    conn: &mut PgConnection,
    weights: [i16; 5],
    note: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<i32> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('task_assignment_configs'))").execute(&mut *conn).await?;
    sqlx::query_scalar!(
        r#"INSERT INTO task_assignment_configs (version, status, weight_skill, weight_timezone, weight_experience,
                  weight_workload, weight_performance, note, created_by, created_at)
           SELECT COALESCE(max(version), 0) + 1, 'draft', $1, $2, $3, $4, $5, $6, $7, $8 FROM task_assignment_configs
           RETURNING version"#,
        weights[0],
        weights[1],
        weights[2],
        weights[3],
        weights[4],
        note,
        by,
        now
    )
    .fetch_one(conn)
    .await
}

/// Publishes a draft: the published version is retired in the same statement order.
pub async fn publish(conn: &mut PgConnection, version: i32, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE task_assignment_configs SET status = 'retired' WHERE status = 'published'")
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "UPDATE task_assignment_configs SET status = 'published', published_at = $2 WHERE version = $1",
        version,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A freelancer as the algorithm sees them for one task.
#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub user_id: Uuid,
    pub experience: Experience,
    pub time_zone: Option<String>,
    pub skills: Vec<String>,
    pub levels: Vec<i16>,
    pub active_tasks: i64,
    pub live_offers: i64,
    pub ratings_count: i32,
    pub ratings_sum: i32,
    pub deliveries: i32,
    pub on_time: i32,
    pub offers_received: i64,
    pub offers_accepted: i64,
    pub on_vacation: bool,
    pub offered_before: bool,
    pub declined: bool,
    pub specialist: bool,
    pub favourite: bool,
}

/// Every approved freelancer who has at least one of the task's required skills (anyone, when it
/// requires none), with what the algorithm needs: one statement of hash joins over small sets (the
/// required skills' rows, the active tasks, the offer counters, today's vacations, this task's offers,
/// the company's favourites), not a lookup per freelancer. `only` narrows it to one freelancer.
pub async fn candidates(
    conn: &mut PgConnection,
    task: TaskId,
    org: Uuid,
    category: &str,
    required: &[String],
    only: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<CandidateRow>> {
    sqlx::query_as!(
        CandidateRow,
        r#"WITH skilled AS (
               SELECT s.user_id, array_agg(s.skill ORDER BY s.skill) AS skills, array_agg(s.proficiency ORDER BY s.skill) AS levels
               FROM freelancer_skills s WHERE s.skill = ANY($4) GROUP BY s.user_id
           ), active AS (
               SELECT t.assignee AS user_id, count(*) AS n FROM tasks t
               WHERE t.assignee IS NOT NULL
                 AND t.status IN ('assigned', 'in_progress', 'pending_admin_review', 'in_review', 'revision_requested')
               GROUP BY t.assignee
           ), away AS (
               SELECT DISTINCT v.user_id FROM freelancer_vacations v WHERE v.starts_at <= $6 AND v.ends_at > $6
           ), this_task AS (
               SELECT o.user_id, bool_or(o.status = 'declined') AS declined FROM task_offers o WHERE o.task_id = $1 GROUP BY o.user_id
           )
           SELECT f.user_id, f.experience AS "experience: Experience", f.time_zone,
                  COALESCE(k.skills, '{}') AS "skills!", COALESCE(k.levels, '{}') AS "levels!",
                  COALESCE(a.n, 0) AS "active_tasks!", COALESCE(st.live, 0)::int8 AS "live_offers!",
                  f.ratings_count, f.ratings_sum, f.deliveries, f.on_time,
                  COALESCE(st.received, 0)::int8 AS "offers_received!", COALESCE(st.accepted, 0)::int8 AS "offers_accepted!",
                  (w.user_id IS NOT NULL) AS "on_vacation!",
                  (o.user_id IS NOT NULL) AS "offered_before!",
                  COALESCE(o.declined, false) AS "declined!",
                  $3 = ANY(f.specialties) AS "specialist!",
                  (fa.user_id IS NOT NULL) AS "favourite!"
           FROM freelancers f
           LEFT JOIN skilled k ON k.user_id = f.user_id
           LEFT JOIN active a ON a.user_id = f.user_id
           LEFT JOIN freelancer_offer_stats st ON st.user_id = f.user_id
           LEFT JOIN away w ON w.user_id = f.user_id
           LEFT JOIN this_task o ON o.user_id = f.user_id
           LEFT JOIN task_favourites fa ON fa.org_id = $2 AND fa.user_id = f.user_id
           WHERE f.status = 'approved' AND ($5::uuid IS NULL OR f.user_id = $5)
             AND (cardinality($4) = 0 OR k.user_id IS NOT NULL)"#,
        task as _,
        org,
        category,
        required,
        only,
        now
    )
    .fetch_all(conn)
    .await
}

/// An offer as stored, with its task's title.
#[derive(Debug, Clone)]
pub struct OfferRow {
    pub id: OfferId,
    pub task_id: TaskId,
    pub title: String,
    pub user_id: Uuid,
    pub level: i16,
    pub config_version: i32,
    pub score: i16,
    pub breakdown: serde_json::Value,
    pub status: OfferStatus,
    pub decline_reason: Option<DeclineReason>,
    pub decline_note: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub struct NewOffer {
    pub id: OfferId,
    pub task_id: TaskId,
    pub user_id: Uuid,
    pub level: i16,
    pub config_version: i32,
    pub score: i16,
    pub breakdown: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_offer(conn: &mut PgConnection, o: &NewOffer, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO task_offers (id, task_id, user_id, level, config_version, score, breakdown, status, expires_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'offered', $8, $9)"#,
        o.id as _,
        o.task_id as _,
        o.user_id,
        o.level,
        o.config_version,
        o.score,
        o.breakdown,
        o.expires_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the tasks whose live offer's time is up by `now`, in task order after `after` (a sweep's
/// keyset), at most `limit`: a sweep's batch, locked in the order every other path locks a task alone.
pub async fn lock_due_tasks(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    after: Option<TaskId>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT t.id FROM tasks t
           WHERE t.id IN (SELECT task_id FROM task_offers WHERE status = 'offered' AND expires_at <= $1)
             AND ($2::uuid IS NULL OR t.id > $2)
           ORDER BY t.id LIMIT $3
           FOR UPDATE OF t"#,
        now,
        after.map(|t| t.0),
        limit
    )
    .fetch_all(conn)
    .await
}

/// An offer a sweep expired.
pub struct ExpiredOffer {
    pub id: OfferId,
    pub task_id: TaskId,
    pub user_id: Uuid,
}

/// Expires the offers of `tasks` (locked) still out and due by `now`, in one statement.
pub async fn expire_due(
    conn: &mut PgConnection,
    tasks: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<ExpiredOffer>> {
    sqlx::query_as!(
        ExpiredOffer,
        r#"UPDATE task_offers SET status = 'expired', responded_at = $2
           WHERE task_id = ANY($1) AND status = 'offered' AND expires_at <= $2
           RETURNING id AS "id: OfferId", task_id AS "task_id: TaskId", user_id"#,
        tasks,
        now
    )
    .fetch_all(conn)
    .await
}

pub async fn offer(conn: &mut PgConnection, id: OfferId) -> sqlx::Result<Option<OfferRow>> {
    sqlx::query_as!(
        OfferRow,
        r#"SELECT o.id AS "id: OfferId", o.task_id AS "task_id: TaskId", t.title, o.user_id, o.level, o.config_version, o.score,
                  o.breakdown, o.status AS "status: OfferStatus", o.decline_reason AS "decline_reason: DeclineReason",
                  o.decline_note, o.expires_at, o.responded_at, o.created_at
           FROM task_offers o JOIN tasks t ON t.id = o.task_id WHERE o.id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// The task's live offer, if any.
pub async fn live_offer(conn: &mut PgConnection, task: TaskId) -> sqlx::Result<Option<OfferRow>> {
    sqlx::query_as!(
        OfferRow,
        r#"SELECT o.id AS "id: OfferId", o.task_id AS "task_id: TaskId", t.title, o.user_id, o.level, o.config_version, o.score,
                  o.breakdown, o.status AS "status: OfferStatus", o.decline_reason AS "decline_reason: DeclineReason",
                  o.decline_note, o.expires_at, o.responded_at, o.created_at
           FROM task_offers o JOIN tasks t ON t.id = o.task_id WHERE o.task_id = $1 AND o.status = 'offered'"#,
        task as _
    )
    .fetch_optional(conn)
    .await
}

/// A task's offers, in the order they were made.
pub async fn offers_of_task(conn: &mut PgConnection, task: TaskId) -> sqlx::Result<Vec<OfferRow>> {
    sqlx::query_as!(
        OfferRow,
        r#"SELECT o.id AS "id: OfferId", o.task_id AS "task_id: TaskId", t.title, o.user_id, o.level, o.config_version, o.score,
                  o.breakdown, o.status AS "status: OfferStatus", o.decline_reason AS "decline_reason: DeclineReason",
                  o.decline_note, o.expires_at, o.responded_at, o.created_at
           FROM task_offers o JOIN tasks t ON t.id = o.task_id WHERE o.task_id = $1 ORDER BY o.created_at, o.id"#,
        task as _
    )
    .fetch_all(conn)
    .await
}

/// A freelancer's offers, newest first; `open_only` keeps the live ones.
pub async fn offers_of_user(
    conn: &mut PgConnection,
    user: Uuid,
    open_only: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<OfferRow>> {
    let (at, id) = after.unzip();
    sqlx::query_as!(
        OfferRow,
        r#"SELECT o.id AS "id: OfferId", o.task_id AS "task_id: TaskId", t.title, o.user_id, o.level, o.config_version, o.score,
                  o.breakdown, o.status AS "status: OfferStatus", o.decline_reason AS "decline_reason: DeclineReason",
                  o.decline_note, o.expires_at, o.responded_at, o.created_at
           FROM task_offers o JOIN tasks t ON t.id = o.task_id
           WHERE o.user_id = $1 AND (NOT $2 OR o.status = 'offered')
             AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3, $4))
           ORDER BY o.created_at DESC, o.id DESC LIMIT $5"#,
        user,
        open_only,
        at,
        id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Ends a live offer; false when it was not live any more.
pub async fn end_offer(
    conn: &mut PgConnection,
    id: OfferId,
    status: OfferStatus,
    reason: Option<DeclineReason>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE task_offers SET status = $2, decline_reason = $3, decline_note = $4, responded_at = $5
           WHERE id = $1 AND status = 'offered'"#,
        id as _,
        status.as_str(),
        reason.map(DeclineReason::as_str),
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Tasks at levels 1–3 waiting for a taker, oldest first (capacity has freed: offer them again).
pub async fn waiting_tasks(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<TaskId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: TaskId" FROM tasks WHERE status = 'pending' ORDER BY created_at, id LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A freelancer's active tasks (those counting toward the workload cap).
pub async fn active_tasks(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM tasks WHERE assignee = $1
             AND status IN ('assigned', 'in_progress', 'pending_admin_review', 'in_review', 'revision_requested')"#,
        user
    )
    .fetch_one(conn)
    .await
}

/// A freelancer's offers received (not withdrawn) and accepted: the acceptance rate's counts.
pub async fn offer_counts(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT COALESCE(sum(received), 0)::int8 AS "received!", COALESCE(sum(accepted), 0)::int8 AS "accepted!"
           FROM freelancer_offer_stats WHERE user_id = $1"#,
        user
    )
    .fetch_one(conn)
    .await?;
    Ok((row.received, row.accepted))
}
