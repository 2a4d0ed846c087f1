//! The area's SQL.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub struct RateRow {
    pub day: NaiveDate,
    pub base: String,
    pub quote: String,
    pub rate: String,
    pub entered_at: DateTime<Utc>,
}

/// Enters rates (a correction replaces the day's rate).
pub async fn upsert_rates(
    conn: &mut PgConnection,
    days: &[NaiveDate],
    bases: &[String],
    quotes: &[String],
    rates: &[String],
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "INSERT INTO royalty_exchange_rates (day, base, quote, rate, entered_by, entered_at)
         SELECT d, b, q, r::numeric, $5, $6 FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[]) AS x(d, b, q, r)
         ON CONFLICT (day, base, quote) DO UPDATE SET rate = EXCLUDED.rate, entered_by = EXCLUDED.entered_by,
             entered_at = EXCLUDED.entered_at",
        days,
        bases,
        quotes,
        rates,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn rates(
    conn: &mut PgConnection,
    base: Option<&str>,
    quote: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    limit: i64,
) -> sqlx::Result<Vec<RateRow>> {
    sqlx::query_as!(
        RateRow,
        r#"SELECT day, base, quote, rate::text AS "rate!", entered_at FROM royalty_exchange_rates
           WHERE ($1::text IS NULL OR base = $1) AND ($2::text IS NULL OR quote = $2)
             AND ($3::date IS NULL OR day >= $3) AND ($4::date IS NULL OR day <= $4)
           ORDER BY day DESC, base, quote LIMIT $5"#,
        base,
        quote,
        from,
        to,
        limit
    )
    .fetch_all(conn)
    .await
}

pub struct DealRow {
    pub effective_from: NaiveDate,
    pub fee_bp: i32,
    pub set_at: DateTime<Utc>,
}

pub async fn set_deal(
    conn: &mut PgConnection,
    org: Uuid,
    from: NaiveDate,
    fee_bp: i32,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_deals (org_id, effective_from, fee_bp, set_by, set_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, effective_from) DO UPDATE SET fee_bp = EXCLUDED.fee_bp, set_by = EXCLUDED.set_by,
             set_at = EXCLUDED.set_at",
        org,
        from,
        fee_bp,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The deal's history, the latest first.
pub async fn deals(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<DealRow>> {
    sqlx::query_as!(
        DealRow,
        "SELECT effective_from, fee_bp, set_at FROM royalty_deals WHERE org_id = $1 ORDER BY effective_from DESC",
        org
    )
    .fetch_all(conn)
    .await
}

/// The last month any of these labels closed, if any (`YYYY-MM`).
pub async fn last_closed(conn: &mut PgConnection, orgs: &[Uuid]) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT max(period) FROM royalty_periods WHERE org_id = ANY($1)", orgs).fetch_one(conn).await
}
