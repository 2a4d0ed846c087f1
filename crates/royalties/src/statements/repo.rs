//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{PayeeId, PayeeKind, ReportId, StatementId};

/// One part of a report's proof: the total, the unmatched revenue, the platform's fee, a payee's
/// share, or the difference (total minus the rest), per currency.
pub struct ProofRow {
    pub part: String,
    pub currency: String,
    pub payee_id: Option<Uuid>,
    pub name: Option<String>,
    pub kind: Option<PayeeKind>,
    pub amount: String,
    pub zero: bool,
}

pub async fn proof(conn: &mut PgConnection, report: ReportId) -> sqlx::Result<Vec<ProofRow>> {
    sqlx::query_as!(
        ProofRow,
        r#"WITH parts AS (
               SELECT 'total' AS part, currency, NULL::uuid AS payee_id, sum(net_revenue) AS amount
               FROM royalty_summaries WHERE report_id = $1 GROUP BY currency
               UNION ALL
               SELECT 'unmatched', s.currency, NULL, sum(u.revenue)
               FROM royalty_usage_totals u
               JOIN royalty_summaries s ON s.report_id = u.report_id AND s.summary_id = u.summary_id
               LEFT JOIN royalty_matches m ON m.report_id = u.report_id AND m.match_key = u.match_key
               WHERE u.report_id = $1 AND m.match_key IS NULL GROUP BY s.currency
               UNION ALL
               SELECT 'fee', currency, NULL, sum(fee) FROM royalty_lines WHERE report_id = $1 GROUP BY currency
               UNION ALL
               SELECT 'payee', l.currency, sh.payee_id, sum(sh.amount)
               FROM royalty_shares(ARRAY[$1]::uuid[]) sh
               JOIN royalty_lines l ON l.report_id = sh.report_id AND l.n = sh.n
               GROUP BY l.currency, sh.payee_id),
           rows AS (
               SELECT part, currency, payee_id, amount FROM parts
               UNION ALL
               SELECT 'difference', currency, NULL,
                      COALESCE(sum(amount) FILTER (WHERE part = 'total'), 0) - COALESCE(sum(amount) FILTER (WHERE part <> 'total'), 0)
               FROM parts GROUP BY currency)
           SELECT r.part AS "part!", r.currency AS "currency!", r.payee_id, p.name AS "name?", p.kind AS "kind?: PayeeKind",
                  r.amount::text AS "amount!", (r.amount = 0) AS "zero!"
           FROM rows r LEFT JOIN royalty_payees p ON p.id = r.payee_id
           ORDER BY r.currency, array_position(ARRAY['total', 'unmatched', 'fee', 'payee', 'difference'], r.part),
                    r.amount DESC, p.name"#,
        report as _
    )
    .fetch_all(conn)
    .await
}

/// A report of a label's month, with what matters for closing it.
pub struct PeriodReport {
    pub id: ReportId,
    pub status: String,
}

/// The label's reports whose period ends in the month (corrected ones left out).
pub async fn reports_of(conn: &mut PgConnection, org: Uuid, period: &str) -> sqlx::Result<Vec<PeriodReport>> {
    sqlx::query_as!(
        PeriodReport,
        r#"SELECT r.id AS "id: ReportId", r.status
           FROM royalty_reports r
           WHERE r.org_id = $1 AND left(r.usage_end, 7) = $2 AND r.replaced_by IS NULL AND r.status <> 'refused'
           ORDER BY r.created_at, r.id"#,
        org,
        period
    )
    .fetch_all(conn)
    .await
}

/// Whether a report lies in a closed period.
pub async fn is_closed(conn: &mut PgConnection, report: ReportId) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM royalty_periods WHERE $1 = ANY (reports)) AS "closed!""#,
        report as _
    )
    .fetch_one(conn)
    .await
}

/// Closes the month: fails on the primary key when it is closed already.
pub async fn close(
    conn: &mut PgConnection,
    org: Uuid,
    period: &str,
    reports: &[Uuid],
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_periods (org_id, period, reports, closed_by, closed_at) VALUES ($1, $2, $3, $4, $5)",
        org,
        period,
        reports,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A conversion the reports need and no rate is entered for: (from, to, day).
pub async fn missing_rates(conn: &mut PgConnection, reports: &[Uuid]) -> sqlx::Result<Vec<(String, String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT l.currency AS "base!", p.currency AS "quote!", r.usage_end AS "day!"
           FROM royalty_shares($1) sh
           JOIN royalty_lines l ON l.report_id = sh.report_id AND l.n = sh.n
           JOIN royalty_reports r ON r.id = l.report_id
           JOIN royalty_payees p ON p.id = sh.payee_id
           WHERE l.currency <> p.currency AND NOT EXISTS (
               SELECT 1 FROM royalty_exchange_rates x
               WHERE x.day = r.usage_end::date AND x.base = l.currency AND x.quote = p.currency)
           ORDER BY 3, 1, 2"#,
        reports
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.base, r.quote, r.day)).collect())
}

/// A statement line before rounding, in the payee's currency: rows come by payee and currency, then by
/// decreasing remainder (the order the rounding gives units in).
pub struct LineRow {
    pub payee_id: PayeeId,
    pub currency: String,
    pub release_id: Option<Uuid>,
    pub track_id: Option<Uuid>,
    pub title: String,
    pub store: String,
    pub territory: String,
    pub use_type: String,
    pub usages: i64,
    pub exact: String,
    pub floor: i64,
    /// The statement's exact total in minor units, rounded half away from zero.
    pub total: i64,
    pub statement_exact: String,
}

pub async fn statement_lines(
    conn: &mut PgConnection,
    reports: &[Uuid],
    currencies: &[String],
    exponents: &[i32],
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as!(
        LineRow,
        r#"WITH conv AS (
               SELECT sh.payee_id, p.currency AS pc, l.release_id, l.track_id, l.title,
                      COALESCE(NULLIF(r.service, ''), r.sender_name) AS store, l.territory, l.use_type, l.usages,
                      sh.amount * CASE WHEN l.currency = p.currency THEN 1 ELSE x.rate END AS exact
               FROM royalty_shares($1) sh
               JOIN royalty_lines l ON l.report_id = sh.report_id AND l.n = sh.n
               JOIN royalty_reports r ON r.id = l.report_id
               JOIN royalty_payees p ON p.id = sh.payee_id
               LEFT JOIN royalty_exchange_rates x
                   ON x.day = r.usage_end::date AND x.base = l.currency AND x.quote = p.currency),
           grouped AS (
               SELECT payee_id, pc, release_id, track_id, min(title) AS title, store, territory, use_type,
                      sum(usages) AS usages, sum(exact) AS exact
               FROM conv GROUP BY payee_id, pc, release_id, track_id, store, territory, use_type),
           scaled AS (
               SELECT g.*, g.exact * power(10::numeric, e.exp) AS x
               FROM grouped g JOIN UNNEST($2::text[], $3::int[]) AS e(cur, exp) ON e.cur = g.pc)
           SELECT payee_id AS "payee_id!: PayeeId", pc AS "currency!", release_id, track_id, title AS "title!",
                  store AS "store!", territory AS "territory!", use_type AS "use_type!", usages::bigint AS "usages!",
                  exact::text AS "exact!", floor(x)::bigint AS "floor!",
                  round(sum(x) OVER (PARTITION BY payee_id, pc))::bigint AS "total!",
                  (sum(exact) OVER (PARTITION BY payee_id, pc))::text AS "statement_exact!"
           FROM scaled
           ORDER BY payee_id, pc, x - floor(x) DESC, release_id, track_id, store, territory, use_type"#,
        reports,
        currencies,
        exponents
    )
    .fetch_all(conn)
    .await
}

/// The platform's fee of the reports per currency: exact, and rounded to minor units.
pub async fn fees(
    conn: &mut PgConnection,
    reports: &[Uuid],
    currencies: &[String],
    exponents: &[i32],
) -> sqlx::Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT l.currency AS "currency!", sum(l.fee)::text AS "exact!",
                  round(sum(l.fee) * power(10::numeric, min(e.exp)))::bigint AS "amount!"
           FROM royalty_lines l JOIN UNNEST($2::text[], $3::int[]) AS e(cur, exp) ON e.cur = l.currency
           WHERE l.report_id = ANY ($1) GROUP BY l.currency ORDER BY 1"#,
        reports,
        currencies,
        exponents
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.currency, r.exact, r.amount)).collect())
}

pub async fn insert_fee(
    conn: &mut PgConnection,
    org: Uuid,
    period: &str,
    currency: &str,
    exact: &str,
    amount: i64,
    entry: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_period_fees (org_id, period, currency, exact, amount, entry_id) VALUES ($1, $2, $3, $4::text::numeric, $5, $6)",
        org,
        period,
        currency,
        exact,
        amount,
        entry
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct StatementRow {
    pub id: StatementId,
    pub org_id: Uuid,
    pub period: String,
    pub payee_id: PayeeId,
    pub payee_name: String,
    pub payee_kind: PayeeKind,
    pub payee_user: Option<Uuid>,
    pub currency: String,
    pub opening_balance: i64,
    pub earned: i64,
    pub recouped: i64,
    pub payable: i64,
    pub closing_balance: i64,
    pub exact: String,
    pub entry_id: Option<Uuid>,
    pub recouped_entry: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_statement(conn: &mut PgConnection, s: &StatementRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_statements (id, org_id, period, payee_id, currency, opening_balance, earned, recouped,
                                         payable, closing_balance, exact, entry_id, recouped_entry, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::numeric, $12, $13, $14)",
        s.id as _,
        s.org_id,
        s.period,
        s.payee_id as _,
        s.currency,
        s.opening_balance,
        s.earned,
        s.recouped,
        s.payable,
        s.closing_balance,
        s.exact,
        s.entry_id,
        s.recouped_entry,
        s.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A statement's lines, as stored.
pub struct StoredLine {
    pub release_id: Option<Uuid>,
    pub track_id: Option<Uuid>,
    pub title: String,
    pub store: String,
    pub territory: String,
    pub use_type: String,
    pub usages: i64,
    pub exact: String,
    pub amount: i64,
}

pub async fn insert_lines(conn: &mut PgConnection, statement: StatementId, lines: &[StoredLine]) -> sqlx::Result<()> {
    let n: Vec<i32> = (1..=i32::try_from(lines.len()).unwrap_or(i32::MAX)).collect();
    sqlx::query!(
        "INSERT INTO royalty_statement_lines (statement_id, n, release_id, track_id, title, store, territory, use_type,
                                              usages, exact, amount)
         SELECT $1, * FROM UNNEST($2::int[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
                                  $9::bigint[], $10::text[]::numeric[], $11::bigint[])",
        statement as _,
        &n,
        &lines.iter().map(|l| l.release_id).collect::<Vec<_>>() as &[Option<Uuid>],
        &lines.iter().map(|l| l.track_id).collect::<Vec<_>>() as &[Option<Uuid>],
        &lines.iter().map(|l| l.title.clone()).collect::<Vec<_>>(),
        &lines.iter().map(|l| l.store.clone()).collect::<Vec<_>>(),
        &lines.iter().map(|l| l.territory.clone()).collect::<Vec<_>>(),
        &lines.iter().map(|l| l.use_type.clone()).collect::<Vec<_>>(),
        &lines.iter().map(|l| l.usages).collect::<Vec<_>>(),
        &lines.iter().map(|l| l.exact.clone()).collect::<Vec<_>>(),
        &lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn lines(conn: &mut PgConnection, statement: StatementId) -> sqlx::Result<Vec<StoredLine>> {
    sqlx::query_as!(
        StoredLine,
        r#"SELECT release_id, track_id, title, store, territory, use_type, usages, exact::text AS "exact!", amount
           FROM royalty_statement_lines WHERE statement_id = $1
           ORDER BY title, release_id, track_id, store, territory, use_type"#,
        statement as _
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_recoupments(
    conn: &mut PgConnection,
    statement: StatementId,
    releases: &[Uuid],
    outstanding: &[i64],
    recouped: &[i64],
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_recoupments (statement_id, release_id, outstanding, recouped)
         SELECT $1, * FROM UNNEST($2::uuid[], $3::bigint[], $4::bigint[])",
        statement as _,
        releases,
        outstanding,
        recouped
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct RecoupmentRow {
    pub release_id: Uuid,
    pub outstanding: i64,
    pub recouped: i64,
}

pub async fn recoupments(conn: &mut PgConnection, statement: StatementId) -> sqlx::Result<Vec<RecoupmentRow>> {
    sqlx::query_as!(
        RecoupmentRow,
        "SELECT release_id, outstanding, recouped FROM royalty_recoupments WHERE statement_id = $1 ORDER BY release_id",
        statement as _
    )
    .fetch_all(conn)
    .await
}

/// Which statements to read: every filter given must hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    pub id: Option<StatementId>,
    pub org: Option<Uuid>,
    pub period: Option<&'a str>,
    /// The statements of the payees this user is.
    pub user: Option<Uuid>,
}

/// Statements, the latest month first, at most 1,000.
pub async fn statements(conn: &mut PgConnection, f: Filter<'_>) -> sqlx::Result<Vec<StatementRow>> {
    sqlx::query_as!(
        StatementRow,
        r#"SELECT s.id AS "id: StatementId", s.org_id, s.period, s.payee_id AS "payee_id: PayeeId", p.name AS payee_name,
                  p.kind AS "payee_kind: PayeeKind", p.user_id AS payee_user, s.currency, s.opening_balance, s.earned,
                  s.recouped, s.payable, s.closing_balance, s.exact::text AS "exact!", s.entry_id, s.recouped_entry,
                  s.created_at
           FROM royalty_statements s JOIN royalty_payees p ON p.id = s.payee_id
           WHERE ($1::uuid IS NULL OR s.id = $1) AND ($2::uuid IS NULL OR s.org_id = $2)
             AND ($3::text IS NULL OR s.period = $3) AND ($4::uuid IS NULL OR p.user_id = $4)
           ORDER BY s.period DESC, p.kind, p.name, s.currency LIMIT 1000"#,
        f.id as Option<StatementId>,
        f.org,
        f.period,
        f.user
    )
    .fetch_all(conn)
    .await
}

pub struct PeriodRow {
    pub period: String,
    pub reports: Vec<Uuid>,
    pub closed_at: DateTime<Utc>,
}

pub async fn periods(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<PeriodRow>> {
    sqlx::query_as!(
        PeriodRow,
        "SELECT period, reports, closed_at FROM royalty_periods WHERE org_id = $1 ORDER BY period DESC",
        org
    )
    .fetch_all(conn)
    .await
}
