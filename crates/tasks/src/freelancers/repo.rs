//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{Experience, FreelancerStatus};

#[derive(Debug, Clone)]
pub struct FreelancerRow {
    pub user_id: Uuid,
    pub status: FreelancerStatus,
    pub headline: String,
    pub experience: Experience,
    pub time_zone: Option<String>,
    pub work_starts: i16,
    pub work_ends: i16,
    pub specialties: Vec<String>,
    pub portfolio: Vec<String>,
    pub ratings_count: i32,
    pub ratings_sum: i32,
    pub deliveries: i32,
    pub on_time: i32,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A freelancer's profile, locked for the transaction with `lock` (accepting and claiming lock it, so
/// that two acceptances by one freelancer are counted against the workload cap one after the other).
pub async fn freelancer(conn: &mut PgConnection, user: Uuid, lock: bool) -> sqlx::Result<Option<FreelancerRow>> {
    if lock {
        sqlx::query_scalar!("SELECT user_id FROM freelancers WHERE user_id = $1 FOR UPDATE", user)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query_as!(
        FreelancerRow,
        r#"SELECT user_id, status AS "status: FreelancerStatus", headline, experience AS "experience: Experience", time_zone,
                  work_starts, work_ends, specialties, portfolio, ratings_count, ratings_sum, deliveries, on_time,
                  decision_note, created_at, updated_at
           FROM freelancers WHERE user_id = $1"#,
        user
    )
    .fetch_optional(conn)
    .await
}

/// Freelancers in a status, oldest application first, a page at a time.
pub async fn freelancers_in(
    conn: &mut PgConnection,
    status: FreelancerStatus,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<FreelancerRow>> {
    let (at, id) = after.unzip();
    sqlx::query_as!(
        FreelancerRow,
        r#"SELECT user_id, status AS "status: FreelancerStatus", headline, experience AS "experience: Experience", time_zone,
                  work_starts, work_ends, specialties, portfolio, ratings_count, ratings_sum, deliveries, on_time,
                  decision_note, created_at, updated_at
           FROM freelancers WHERE status = $1 AND ($2::timestamptz IS NULL OR (created_at, user_id) > ($2, $3))
           ORDER BY created_at, user_id LIMIT $4"#,
        status.as_str(),
        at,
        id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// What a profile says, as the freelancer writes it.
pub struct ProfileFields<'a> {
    pub headline: &'a str,
    pub experience: Experience,
    pub time_zone: Option<&'a str>,
    pub work_starts: i16,
    pub work_ends: i16,
    pub specialties: &'a [String],
    pub portfolio: &'a [String],
}

pub async fn insert_freelancer(
    conn: &mut PgConnection,
    user: Uuid,
    f: &ProfileFields<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO freelancers (user_id, status, headline, experience, time_zone, work_starts, work_ends, specialties,
                                    portfolio, created_at, updated_at)
           VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $9)"#,
        user,
        f.headline,
        f.experience.as_str(),
        f.time_zone,
        f.work_starts,
        f.work_ends,
        f.specialties,
        f.portfolio,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_freelancer(
    conn: &mut PgConnection,
    user: Uuid,
    f: &ProfileFields<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE freelancers SET headline = $2, experience = $3, time_zone = $4, work_starts = $5, work_ends = $6,
                  specialties = $7, portfolio = $8, updated_at = $9
           WHERE user_id = $1"#,
        user,
        f.headline,
        f.experience.as_str(),
        f.time_zone,
        f.work_starts,
        f.work_ends,
        f.specialties,
        f.portfolio,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces a freelancer's skills.
pub async fn set_skills(conn: &mut PgConnection, user: Uuid, skills: &[String], levels: &[i16]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM freelancer_skills WHERE user_id = $1", user).execute(&mut *conn).await?;
    sqlx::query!(
        "INSERT INTO freelancer_skills (user_id, skill, proficiency) SELECT $1, * FROM unnest($2::text[], $3::int2[])",
        user,
        skills,
        levels
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn skills(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<(String, i16)>> {
    let rows = sqlx::query!("SELECT skill, proficiency FROM freelancer_skills WHERE user_id = $1 ORDER BY skill", user)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.skill, r.proficiency)).collect())
}

pub async fn decide(
    conn: &mut PgConnection,
    user: Uuid,
    status: FreelancerStatus,
    by: Uuid,
    note: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE freelancers SET status = $2, decided_by = $3, decision_note = $4, updated_at = $5 WHERE user_id = $1",
        user,
        status.as_str(),
        by,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A period away.
#[derive(Debug, Clone)]
pub struct VacationRow {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

pub async fn add_vacation(
    conn: &mut PgConnection,
    user: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = platform::ids::new_id();
    sqlx::query!(
        "INSERT INTO freelancer_vacations (id, user_id, starts_at, ends_at) VALUES ($1, $2, $3, $4)",
        id,
        user,
        starts_at,
        ends_at
    )
    .execute(conn)
    .await?;
    Ok(id)
}

/// A freelancer's vacations not yet over.
pub async fn vacations(conn: &mut PgConnection, user: Uuid, now: DateTime<Utc>) -> sqlx::Result<Vec<VacationRow>> {
    sqlx::query_as!(
        VacationRow,
        "SELECT id, starts_at, ends_at FROM freelancer_vacations WHERE user_id = $1 AND ends_at > $2 ORDER BY starts_at",
        user,
        now
    )
    .fetch_all(conn)
    .await
}

pub async fn remove_vacation(conn: &mut PgConnection, user: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done =
        sqlx::query!("DELETE FROM freelancer_vacations WHERE id = $1 AND user_id = $2", id, user).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn add_favourite(conn: &mut PgConnection, org: Uuid, user: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_favourites (org_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org,
        user,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_favourite(conn: &mut PgConnection, org: Uuid, user: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM task_favourites WHERE org_id = $1 AND user_id = $2", org, user).execute(conn).await?;
    Ok(())
}

pub async fn favourites(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!("SELECT user_id FROM task_favourites WHERE org_id = $1 ORDER BY created_at, user_id", org)
        .fetch_all(conn)
        .await
}

/// Records a delivery, on time or not.
pub async fn count_delivery(conn: &mut PgConnection, user: Uuid, on_time: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE freelancers SET deliveries = deliveries + 1, on_time = on_time + CASE WHEN $2::bool THEN 1 ELSE 0 END WHERE user_id = $1",
        user,
        on_time
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a client's rating (1–5) of approved work.
pub async fn count_rating(conn: &mut PgConnection, user: Uuid, rating: i16) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE freelancers SET ratings_count = ratings_count + 1, ratings_sum = ratings_sum + $2 WHERE user_id = $1",
        user,
        i32::from(rating)
    )
    .execute(conn)
    .await?;
    Ok(())
}
