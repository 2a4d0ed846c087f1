//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct PlanRow {
    pub organization_id: Uuid,
    pub plan: String,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub next_plan: Option<String>,
    pub renewed: bool,
    pub renewal_failures: i32,
    pub complimentary: bool,
    pub updated_at: DateTime<Utc>,
}

/// The organization's plan row (made on Free when it has none), locked: every change of plan, every
/// project opened and every person added to a project of the organization takes this lock, so that
/// limits hold under concurrent requests.
pub async fn lock(conn: &mut PgConnection, org: Uuid, now: DateTime<Utc>) -> sqlx::Result<PlanRow> {
    sqlx::query!(
        "INSERT INTO org_plans (organization_id, plan, updated_at) VALUES ($1, 'free', $2)
         ON CONFLICT (organization_id) DO NOTHING",
        org,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_as!(
        PlanRow,
        "SELECT organization_id, plan, period_start, period_end, next_plan, renewed, renewal_failures, complimentary,
                updated_at
         FROM org_plans WHERE organization_id = $1 FOR UPDATE",
        org
    )
    .fetch_one(conn)
    .await
}

/// The organization's plan row, if it has one (none: Free).
pub async fn get(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<PlanRow>> {
    sqlx::query_as!(
        PlanRow,
        "SELECT organization_id, plan, period_start, period_end, next_plan, renewed, renewal_failures, complimentary,
                updated_at
         FROM org_plans WHERE organization_id = $1",
        org
    )
    .fetch_optional(conn)
    .await
}

pub async fn save(conn: &mut PgConnection, p: &PlanRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE org_plans SET plan = $2, period_start = $3, period_end = $4, next_plan = $5, renewed = $6,
                              renewal_failures = $7, complimentary = $8, updated_at = $9
         WHERE organization_id = $1",
        p.organization_id,
        p.plan,
        p.period_start,
        p.period_end,
        p.next_plan,
        p.renewed,
        p.renewal_failures,
        p.complimentary,
        p.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ChargeRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub plan: String,
    pub amount_minor: i64,
    /// What was left unused of the plan's paid period, taken off the price (an upgrade's).
    pub credit_minor: i64,
    pub currency: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub outcome: String,
    pub reason: Option<String>,
    pub entry_id: Option<Uuid>,
    pub by_user: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_charge(conn: &mut PgConnection, c: &ChargeRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO plan_charges (id, organization_id, plan, amount_minor, credit_minor, currency, period_start,
                                   period_end, outcome, reason, entry_id, by_user, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        c.id,
        c.organization_id,
        c.plan,
        c.amount_minor,
        c.credit_minor,
        c.currency,
        c.period_start,
        c.period_end,
        c.outcome,
        c.reason,
        c.entry_id,
        c.by_user,
        c.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn charges(conn: &mut PgConnection, org: Uuid, limit: i64) -> sqlx::Result<Vec<ChargeRow>> {
    sqlx::query_as!(
        ChargeRow,
        "SELECT id, organization_id, plan, amount_minor, credit_minor, currency, period_start, period_end, outcome,
                reason, entry_id, by_user, created_at
         FROM plan_charges WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        org,
        limit
    )
    .fetch_all(conn)
    .await
}

/// What was paid for the plan's periods from `start` on (the current one and any renewal paid ahead):
/// each charge's amount and period.
pub async fn paid_from(
    conn: &mut PgConnection,
    org: Uuid,
    start: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, DateTime<Utc>, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        "SELECT amount_minor, period_start, period_end FROM plan_charges
         WHERE organization_id = $1 AND outcome = 'paid' AND period_start >= $2",
        org,
        start
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.amount_minor, r.period_start, r.period_end)).collect())
}

/// The organization's open projects (neither completed nor cancelled).
pub async fn open_projects(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM projects WHERE organization_id = $1 AND status NOT IN ('completed', 'cancelled')"#,
        org
    )
    .fetch_one(conn)
    .await
}

/// The people on the organization's projects.
pub async fn project_people(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT m.user_id AS "user_id!" FROM project_members m JOIN projects p ON p.id = m.project_id
           WHERE p.organization_id = $1 ORDER BY 1"#,
        org
    )
    .fetch_all(conn)
    .await
}

/// The card an organization's plan renews by, and who set it.
pub async fn plan_card(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<(Uuid, Uuid)>> {
    let row = sqlx::query!("SELECT card_id, set_by FROM org_plan_cards WHERE organization_id = $1", org)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| (r.card_id, r.set_by)))
}

pub async fn set_plan_card(
    conn: &mut PgConnection,
    org: Uuid,
    card: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO org_plan_cards (organization_id, card_id, set_by, set_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (organization_id) DO UPDATE SET card_id = $2, set_by = $3, set_at = $4",
        org,
        card,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Renewals by the wallet again; false when no card was set.
pub async fn clear_plan_card(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM org_plan_cards WHERE organization_id = $1", org).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}
