//! The area's SQL.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

/// What to count: every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub track: Option<Uuid>,
    pub release: Option<Uuid>,
    pub store: Option<String>,
    pub territory: Option<String>,
}

/// One day (a report period's first day) and currency of a label's series.
pub struct PointRow {
    pub day: NaiveDate,
    pub currency: String,
    pub streams: i64,
    pub downloads: i64,
    pub revenue: String,
}

pub async fn series(conn: &mut PgConnection, org: Uuid, f: &Filter) -> sqlx::Result<Vec<PointRow>> {
    sqlx::query_as!(
        PointRow,
        r#"SELECT day AS "day!", currency AS "currency!",
                  COALESCE(sum(usages) FILTER (WHERE use_type ILIKE '%stream%'), 0)::bigint AS "streams!",
                  COALESCE(sum(usages) FILTER (WHERE use_type ILIKE '%download%'), 0)::bigint AS "downloads!",
                  sum(net)::text AS "revenue!"
           FROM royalty_label_lines($1, $2, $3, $4, $5, $6, $7)
           GROUP BY 1, 2 ORDER BY 1, 2"#,
        org,
        f.from,
        f.to,
        f.track,
        f.release,
        f.store.as_deref(),
        f.territory.as_deref()
    )
    .fetch_all(conn)
    .await
}

/// One entry of a top list: a recording, a release, a store or a territory.
pub struct TopRow {
    pub key: String,
    pub title: String,
    pub streams: i64,
    pub downloads: i64,
}

/// The label's top entries by `by` (`track`, `release`, `store`, `territory`), the most streamed first.
pub async fn top(conn: &mut PgConnection, org: Uuid, f: &Filter, by: &str, limit: i64) -> sqlx::Result<Vec<TopRow>> {
    sqlx::query_as!(
        TopRow,
        r#"WITH chosen AS (
               SELECT CASE $8 WHEN 'track' THEN track_id::text WHEN 'release' THEN release_id::text
                              WHEN 'store' THEN store ELSE territory END AS key,
                      CASE $8 WHEN 'track' THEN title WHEN 'release' THEN release_id::text
                              WHEN 'store' THEN store ELSE territory END AS title,
                      use_type, usages
               FROM royalty_label_lines($1, $2, $3, $4, $5, $6, $7))
           SELECT key AS "key!", min(title) AS "title!",
                  COALESCE(sum(usages) FILTER (WHERE use_type ILIKE '%stream%'), 0)::bigint AS "streams!",
                  COALESCE(sum(usages) FILTER (WHERE use_type ILIKE '%download%'), 0)::bigint AS "downloads!"
           FROM chosen WHERE key IS NOT NULL
           GROUP BY key ORDER BY 3 DESC, 4 DESC, 1 LIMIT $9"#,
        org,
        f.from,
        f.to,
        f.track,
        f.release,
        f.store.as_deref(),
        f.territory.as_deref(),
        by,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A payee's month: usages and what they were paid, by currency.
pub struct EarningRow {
    pub period: String,
    pub currency: String,
    pub streams: i64,
    pub downloads: i64,
    pub earned: i64,
}

/// The months of the payees a user is, oldest first.
pub async fn earnings(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<EarningRow>> {
    sqlx::query_as!(
        EarningRow,
        r#"SELECT s.period, s.currency,
                  COALESCE(sum(l.usages) FILTER (WHERE l.use_type ILIKE '%stream%'), 0)::bigint AS "streams!",
                  COALESCE(sum(l.usages) FILTER (WHERE l.use_type ILIKE '%download%'), 0)::bigint AS "downloads!",
                  COALESCE(sum(l.amount), 0)::bigint AS "earned!"
           FROM royalty_statements s JOIN royalty_payees p ON p.id = s.payee_id
           LEFT JOIN royalty_statement_lines l ON l.statement_id = s.id
           WHERE p.user_id = $1
           GROUP BY s.period, s.currency ORDER BY s.period, s.currency"#,
        user
    )
    .fetch_all(conn)
    .await
}

/// A payee's recordings, the most streamed first.
pub async fn my_top(conn: &mut PgConnection, user: Uuid, limit: i64) -> sqlx::Result<Vec<TopRow>> {
    sqlx::query_as!(
        TopRow,
        r#"SELECT COALESCE(l.track_id::text, l.release_id::text, l.title) AS "key!", min(l.title) AS "title!",
                  COALESCE(sum(l.usages) FILTER (WHERE l.use_type ILIKE '%stream%'), 0)::bigint AS "streams!",
                  COALESCE(sum(l.usages) FILTER (WHERE l.use_type ILIKE '%download%'), 0)::bigint AS "downloads!"
           FROM royalty_statement_lines l JOIN royalty_statements s ON s.id = l.statement_id
           JOIN royalty_payees p ON p.id = s.payee_id
           WHERE p.user_id = $1
           GROUP BY 1 ORDER BY 3 DESC, 4 DESC, 1 LIMIT $2"#,
        user,
        limit
    )
    .fetch_all(conn)
    .await
}
