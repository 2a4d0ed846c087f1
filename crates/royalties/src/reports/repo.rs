//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::PgCopyIn;
use uuid::Uuid;

use crate::model::{ReportId, ReportStatus};

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: ReportId,
    pub org_id: Uuid,
    pub sender_party_id: String,
    pub sender_name: String,
    pub message_id: String,
    pub service: String,
    pub usage_start: String,
    pub usage_end: String,
    pub number_of_files: i32,
    pub status: ReportStatus,
    pub replaces: Option<ReportId>,
    pub replaced_by: Option<ReportId>,
    pub lines_total: i64,
    pub lines_done: i64,
    pub usage_lines: i64,
    pub summary_records: i32,
    pub errors: serde_json::Value,
    pub error_count: i64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct FileRow {
    pub file_number: i32,
    pub sha256: String,
    pub size: i64,
    pub gzip: bool,
    pub file_name: Option<String>,
}

impl ReportRow {
    /// A report just received, from its HEAD: queued when it has one file, else waiting for the others.
    pub fn received(head: &crate::dsr::Head, org: Uuid, by: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            id: ReportId::new(),
            org_id: org,
            sender_party_id: head.sender_party_id.clone(),
            sender_name: head.sender_name.clone(),
            message_id: head.message_id.clone(),
            service: head.service.clone(),
            usage_start: head.usage_start.chars().take(10).collect(),
            usage_end: head.usage_end.chars().take(10).collect(),
            number_of_files: head.number_of_files,
            status: if head.number_of_files == 1 { ReportStatus::Queued } else { ReportStatus::Receiving },
            replaces: None,
            replaced_by: None,
            lines_total: 0,
            lines_done: 0,
            usage_lines: 0,
            summary_records: 0,
            errors: serde_json::json!([]),
            error_count: 0,
            created_by: by,
            created_at: now,
            started_at: None,
            finished_at: None,
        }
    }
}

pub async fn insert(conn: &mut PgConnection, r: &ReportRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_reports (id, org_id, sender_party_id, sender_name, message_id, service, usage_start,
             usage_end, number_of_files, status, replaces, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        r.id as _,
        r.org_id,
        r.sender_party_id,
        r.sender_name,
        r.message_id,
        r.service,
        r.usage_start,
        r.usage_end,
        r.number_of_files,
        r.status as _,
        r.replaces as _,
        r.created_by,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The report, locked until commit when `lock`.
pub async fn report(conn: &mut PgConnection, id: ReportId) -> sqlx::Result<Option<ReportRow>> {
    sqlx::query_as!(
        ReportRow,
        r#"SELECT id AS "id: ReportId", org_id, sender_party_id, sender_name, message_id, service, usage_start,
                  usage_end, number_of_files, status AS "status: ReportStatus", replaces AS "replaces: ReportId",
                  replaced_by AS "replaced_by: ReportId", lines_total, lines_done, usage_lines, summary_records,
                  errors, error_count, created_by, created_at, started_at, finished_at
           FROM royalty_reports WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// The report, locked until commit: its files and its reading happen one at a time.
pub async fn lock(conn: &mut PgConnection, id: ReportId) -> sqlx::Result<Option<ReportRow>> {
    sqlx::query_as!(
        ReportRow,
        r#"SELECT id AS "id: ReportId", org_id, sender_party_id, sender_name, message_id, service, usage_start,
                  usage_end, number_of_files, status AS "status: ReportStatus", replaces AS "replaces: ReportId",
                  replaced_by AS "replaced_by: ReportId", lines_total, lines_done, usage_lines, summary_records,
                  errors, error_count, created_by, created_at, started_at, finished_at
           FROM royalty_reports WHERE id = $1 FOR UPDATE"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// A label's reports, newest first.
pub async fn of_label(
    conn: &mut PgConnection,
    org: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ReportRow>> {
    let (before_at, before_id) = before.unzip();
    sqlx::query_as!(
        ReportRow,
        r#"SELECT id AS "id: ReportId", org_id, sender_party_id, sender_name, message_id, service, usage_start,
                  usage_end, number_of_files, status AS "status: ReportStatus", replaces AS "replaces: ReportId",
                  replaced_by AS "replaced_by: ReportId", lines_total, lines_done, usage_lines, summary_records,
                  errors, error_count, created_by, created_at, started_at, finished_at
           FROM royalty_reports WHERE org_id = $1
                AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
           ORDER BY created_at DESC, id DESC LIMIT $4"#,
        org,
        before_at,
        before_id,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn add_file(conn: &mut PgConnection, report: ReportId, f: &FileRow) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO royalty_report_files (report_id, file_number, sha256, size, gzip, file_name)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        report as _,
        f.file_number,
        f.sha256,
        f.size,
        f.gzip,
        f.file_name
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn files(conn: &mut PgConnection, report: ReportId) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as!(
        FileRow,
        "SELECT file_number, sha256, size, gzip, file_name FROM royalty_report_files
         WHERE report_id = $1 ORDER BY file_number",
        report as _
    )
    .fetch_all(conn)
    .await
}

pub async fn set_status(conn: &mut PgConnection, id: ReportId, status: ReportStatus) -> sqlx::Result<()> {
    sqlx::query!("UPDATE royalty_reports SET status = $2 WHERE id = $1", id as _, status as _).execute(conn).await?;
    Ok(())
}

/// The job starts reading: how many lines the files hold, for the progress.
pub async fn start(conn: &mut PgConnection, id: ReportId, lines_total: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE royalty_reports SET status = 'reading', lines_total = $2, lines_done = 0, started_at = $3 WHERE id = $1",
        id as _,
        lines_total,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How far the reading is (written outside the loading transaction, so that it is seen meanwhile).
pub async fn progress(conn: &mut PgConnection, id: ReportId, lines_done: i64) -> sqlx::Result<()> {
    sqlx::query!("UPDATE royalty_reports SET lines_done = $2 WHERE id = $1", id as _, lines_done).execute(conn).await?;
    Ok(())
}

pub async fn loaded(
    conn: &mut PgConnection,
    id: ReportId,
    usage_lines: i64,
    summary_records: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE royalty_reports SET status = 'loaded', lines_done = lines_total, usage_lines = $2,
             summary_records = $3, finished_at = $4 WHERE id = $1",
        id as _,
        usage_lines,
        summary_records,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Refuses the report whole: its errors are kept, its files let go.
pub async fn refuse(
    conn: &mut PgConnection,
    id: ReportId,
    errors: &serde_json::Value,
    error_count: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE royalty_reports SET status = 'refused', errors = $2, error_count = $3, usage_lines = 0,
             summary_records = 0, finished_at = $4 WHERE id = $1",
        id as _,
        errors,
        error_count,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM royalty_report_files WHERE report_id = $1", id as _).execute(conn).await?;
    Ok(())
}

/// The report a correction replaces is marked so, once the correction is read.
pub async fn replace(conn: &mut PgConnection, old: ReportId, new: ReportId) -> sqlx::Result<()> {
    sqlx::query!("UPDATE royalty_reports SET replaced_by = $2 WHERE id = $1", old as _, new as _).execute(conn).await?;
    Ok(())
}

/// A refused correction gives the report it meant to replace its place back.
pub async fn clear_replacement(conn: &mut PgConnection, old: ReportId) -> sqlx::Result<()> {
    sqlx::query!("UPDATE royalty_reports SET replaced_by = NULL WHERE id = $1", old as _).execute(conn).await?;
    Ok(())
}

pub struct SummaryRows {
    pub ids: Vec<String>,
    pub record_types: Vec<String>,
    pub territories: Vec<String>,
    pub models: Vec<String>,
    pub use_types: Vec<String>,
    pub services: Vec<String>,
    pub totals: Vec<i64>,
    pub currencies: Vec<String>,
    /// Exact decimal text.
    pub revenues: Vec<String>,
}

impl From<&[crate::dsr::Summary]> for SummaryRows {
    /// A report's summary records as read, a column each.
    fn from(summaries: &[crate::dsr::Summary]) -> Self {
        Self {
            ids: summaries.iter().map(|s| s.id.clone()).collect(),
            record_types: summaries.iter().map(|s| s.record_type.clone()).collect(),
            territories: summaries.iter().map(|s| s.territory.clone()).collect(),
            models: summaries.iter().map(|s| s.commercial_model.clone()).collect(),
            use_types: summaries.iter().map(|s| s.use_type.clone()).collect(),
            services: summaries.iter().map(|s| s.service.clone()).collect(),
            totals: summaries.iter().map(|s| s.total_usages).collect(),
            currencies: summaries.iter().map(|s| s.currency.clone()).collect(),
            revenues: summaries.iter().map(|s| s.net_revenue.clone()).collect(),
        }
    }
}

pub async fn insert_summaries(conn: &mut PgConnection, report: ReportId, s: &SummaryRows) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_summaries (report_id, summary_id, record_type, territory, commercial_model, use_type,
             service, total_usages, currency, net_revenue)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
             $8::bigint[], $9::text[], $10::text[]::numeric[])",
        report as _,
        &s.ids,
        &s.record_types,
        &s.territories,
        &s.models,
        &s.use_types,
        &s.services,
        &s.totals,
        &s.currencies,
        &s.revenues
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Starts loading the report's usage totals in PostgreSQL's binary COPY format (see `super::load`;
/// columns in this order: report_id, summary_id, match_key, use_type, title, artist, lines, usages,
/// revenue).
pub async fn copy_totals(conn: &mut PgConnection) -> sqlx::Result<PgCopyIn<&mut PgConnection>> {
    conn.copy_in_raw(
        "COPY royalty_usage_totals (report_id, summary_id, match_key, use_type, title, artist, lines, usages, revenue)
         FROM STDIN WITH (FORMAT binary)",
    )
    .await
}

/// Starts loading a report's matches found by identifier in binary COPY format (see
/// `super::load::matches`): for a report being read, which has none yet.
pub async fn copy_matches(conn: &mut PgConnection) -> sqlx::Result<PgCopyIn<&mut PgConnection>> {
    conn.copy_in_raw(
        "COPY royalty_matches (report_id, match_key, track_id, release_id, matched_by, matched_at)
         FROM STDIN WITH (FORMAT binary)",
    )
    .await
}

/// The report's distinct match keys.
pub async fn match_keys(conn: &mut PgConnection, report: ReportId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT match_key AS "key!" FROM royalty_usage_totals
           WHERE report_id = $1 AND match_key IS NOT NULL"#,
        report as _
    )
    .fetch_all(conn)
    .await
}

/// Whether lines of the report have this match key.
pub async fn has_key(conn: &mut PgConnection, report: ReportId, key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM royalty_usage_totals WHERE report_id = $1 AND match_key = $2) AS "found!""#,
        report as _,
        key
    )
    .fetch_one(conn)
    .await
}

/// Records matches: each key to a track or (for a release sold whole) a release.
pub async fn add_matches(
    conn: &mut PgConnection,
    report: ReportId,
    keys: &[String],
    tracks: &[Option<Uuid>],
    releases: &[Option<Uuid>],
    by_staff: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_matches (report_id, match_key, track_id, release_id, matched_by, user_id, matched_at)
         SELECT $1, k, t, r, CASE WHEN $5::uuid IS NULL THEN 'identifier' ELSE 'staff' END, $5, $6
         FROM UNNEST($2::text[], $3::uuid[], $4::uuid[]) AS m(k, t, r)
         ON CONFLICT (report_id, match_key) DO UPDATE SET track_id = EXCLUDED.track_id,
             release_id = EXCLUDED.release_id, matched_by = EXCLUDED.matched_by, user_id = EXCLUDED.user_id,
             matched_at = EXCLUDED.matched_at",
        report as _,
        keys,
        tracks as &[Option<Uuid>],
        releases as &[Option<Uuid>],
        by_staff,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A summary's revenue beside what its lines were given, matched and not.
pub struct ReconciliationRow {
    pub summary_id: String,
    pub territory: String,
    pub currency: String,
    pub revenue: String,
    pub allocated: String,
    pub matched: String,
    pub unmatched: String,
    pub exact: bool,
}

pub async fn reconciliation(conn: &mut PgConnection, report: ReportId) -> sqlx::Result<Vec<ReconciliationRow>> {
    sqlx::query_as!(
        ReconciliationRow,
        r#"WITH lines AS (
               SELECT u.summary_id, sum(u.revenue) AS allocated,
                      sum(u.revenue) FILTER (WHERE m.match_key IS NOT NULL) AS matched,
                      sum(u.revenue) FILTER (WHERE m.match_key IS NULL) AS unmatched
               FROM royalty_usage_totals u
               LEFT JOIN royalty_matches m ON m.report_id = u.report_id AND m.match_key = u.match_key
               WHERE u.report_id = $1
               GROUP BY u.summary_id)
           SELECT s.summary_id, s.territory, s.currency, s.net_revenue::text AS "revenue!",
                  COALESCE(l.allocated, 0)::text AS "allocated!", COALESCE(l.matched, 0)::text AS "matched!",
                  COALESCE(l.unmatched, 0)::text AS "unmatched!",
                  (s.net_revenue = COALESCE(l.matched, 0) + COALESCE(l.unmatched, 0)) AS "exact!"
           FROM royalty_summaries s LEFT JOIN lines l ON l.summary_id = s.summary_id
           WHERE s.report_id = $1
           ORDER BY length(s.summary_id), s.summary_id"#,
        report as _
    )
    .fetch_all(conn)
    .await
}

/// A key of the report no match was found for, with what its lines say and hold.
pub struct UnmatchedRow {
    pub match_key: Option<String>,
    pub title: String,
    pub artist: String,
    pub lines: i64,
    pub usages: i64,
    pub revenue: String,
}

pub async fn unmatched(conn: &mut PgConnection, report: ReportId, limit: i64) -> sqlx::Result<Vec<UnmatchedRow>> {
    sqlx::query_as!(
        UnmatchedRow,
        r#"SELECT u.match_key, COALESCE(min(u.title), '') AS "title!", COALESCE(min(u.artist), '') AS "artist!",
                  sum(u.lines)::bigint AS "lines!", sum(u.usages)::bigint AS "usages!", sum(u.revenue)::text AS "revenue!"
           FROM royalty_usage_totals u
           LEFT JOIN royalty_matches m ON m.report_id = u.report_id AND m.match_key = u.match_key
           WHERE u.report_id = $1 AND m.match_key IS NULL
           GROUP BY u.match_key
           ORDER BY sum(u.revenue) DESC, u.match_key
           LIMIT $2"#,
        report as _,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The fee of the label's deal in force on the report's first day, in basis points
/// (`default_fee_bp` without one).
pub async fn fee_bp(conn: &mut PgConnection, report: ReportId, default_fee_bp: i32) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE((SELECT d.fee_bp FROM royalty_deals d JOIN royalty_reports r ON r.org_id = d.org_id
                            WHERE r.id = $1 AND d.effective_from <= r.usage_start::date
                            ORDER BY d.effective_from DESC LIMIT 1), $2) AS "fee_bp!""#,
        report as _,
        default_fee_bp
    )
    .fetch_one(conn)
    .await
}

/// Starts loading a new report's royalty lines in binary COPY format (see `super::load::Groups::lines`):
/// for a report being read, which has none yet.
pub async fn copy_lines(conn: &mut PgConnection) -> sqlx::Result<PgCopyIn<&mut PgConnection>> {
    conn.copy_in_raw(
        "COPY royalty_lines (report_id, n, match_key, title, track_id, release_id, territory, commercial_model,
                             use_type, currency, usages, gross, fee_bp, fee, net)
         FROM STDIN WITH (FORMAT binary)",
    )
    .await
}

/// Rebuilds the report's royalty lines from its matched usage totals: per recording (or release) ×
/// territory × commercial model × use type (the line's, else its summary's), with the fee of the deal
/// in force on the report's first day ([`fee_bp`]). Exact: fee = gross × basis points × 0.0001. A
/// report being read has the same lines made in memory (`super::load::Groups::lines`).
pub async fn build_lines(conn: &mut PgConnection, report: ReportId, default_fee_bp: i32) -> sqlx::Result<u64> {
    sqlx::query!("DELETE FROM royalty_lines WHERE report_id = $1", report as _).execute(&mut *conn).await?;
    let fee_bp = fee_bp(conn, report, default_fee_bp).await?;
    // The report's totals and matches were written in this transaction, so the planner has no
    // statistics of them: it would sort the totals to group them, or join tens of thousands of totals
    // to the matches by a loop over each (24 s for a million-line report). Hashing both in memory is
    // what their sizes call for (docs/benchmarks.md). Settings for this statement only, the
    // transaction's others as they were.
    let before = sqlx::query!(
        r#"SELECT current_setting('work_mem') AS "work_mem!", current_setting('enable_sort') AS "enable_sort!",
                  current_setting('enable_nestloop') AS "enable_nestloop!",
                  current_setting('jit') AS "jit!""#
    )
    .fetch_one(&mut *conn)
    .await?;
    set_planner(conn, ["64MB", "off", "off", "off"]).await?;
    let done = sqlx::query!(
        r#"WITH
           -- One pass over the totals (each names its title), joined to the key's match and its summary.
           agg AS (
               SELECT u.match_key, min(u.title COLLATE "C") AS title, m.track_id, m.release_id, s.territory, s.commercial_model,
                      COALESCE(NULLIF(u.use_type, ''), s.use_type) AS use_type, s.currency,
                      sum(u.usages)::bigint AS usages, sum(u.revenue) AS gross
               FROM royalty_usage_totals u
               JOIN royalty_matches m ON m.report_id = $1 AND m.match_key = u.match_key
               JOIN royalty_summaries s ON s.report_id = $1 AND s.summary_id = u.summary_id
               WHERE u.report_id = $1
               GROUP BY u.match_key, m.track_id, m.release_id, s.territory, s.commercial_model,
                        COALESCE(NULLIF(u.use_type, ''), s.use_type), s.currency)
           INSERT INTO royalty_lines (report_id, n, match_key, title, track_id, release_id, territory, commercial_model,
                                      use_type, currency, usages, gross, fee_bp, fee, net)
           SELECT $1, row_number() OVER (ORDER BY a.match_key COLLATE "C", a.territory COLLATE "C",
                                             a.commercial_model COLLATE "C", a.use_type COLLATE "C",
                                             a.currency COLLATE "C"),
                  a.match_key, a.title, a.track_id, a.release_id, a.territory, a.commercial_model, a.use_type, a.currency,
                  a.usages, a.gross, $2::integer, a.gross * $2::integer * 0.0001, a.gross - a.gross * $2::integer * 0.0001
           FROM agg a"#,
        report as _,
        fee_bp
    )
    .execute(&mut *conn)
    .await?;
    set_planner(conn, [&before.work_mem, &before.enable_sort, &before.enable_nestloop, &before.jit]).await?;
    Ok(done.rows_affected())
}

/// Sets, for the rest of the transaction, the planner settings [`build_lines`] changes: `work_mem`,
/// `enable_sort`, `enable_nestloop` and `jit`, in this order.
async fn set_planner(conn: &mut PgConnection, [work_mem, sort, nestloop, jit]: [&str; 4]) -> sqlx::Result<()> {
    sqlx::query!(
        r#"SELECT set_config('work_mem', $1, true) AS work_mem, set_config('enable_sort', $2, true) AS enable_sort,
                  set_config('enable_nestloop', $3, true) AS enable_nestloop, set_config('jit', $4, true) AS jit"#,
        work_mem,
        sort,
        nestloop,
        jit
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// A report's royalty lines, as the API shows them.
pub struct LineRow {
    pub match_key: String,
    pub title: String,
    pub track_id: Option<Uuid>,
    pub release_id: Option<Uuid>,
    pub territory: String,
    pub commercial_model: String,
    pub use_type: String,
    pub currency: String,
    pub usages: i64,
    pub gross: String,
    pub fee_bp: i32,
    pub fee: String,
    pub net: String,
}

pub async fn lines(conn: &mut PgConnection, report: ReportId, limit: i64) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as!(
        LineRow,
        r#"SELECT match_key, title, track_id, release_id, territory, commercial_model, use_type, currency, usages,
                  gross::text AS "gross!", fee_bp, fee::text AS "fee!", net::text AS "net!"
           FROM royalty_lines WHERE report_id = $1 ORDER BY gross DESC, n LIMIT $2"#,
        report as _,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A label's saved CSV mappings, by store.
pub async fn csv_mappings(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<(String, serde_json::Value)>> {
    let rows = sqlx::query!("SELECT store, mapping FROM royalty_csv_mappings WHERE org_id = $1 ORDER BY store", org)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.store, r.mapping)).collect())
}

pub async fn csv_mapping(conn: &mut PgConnection, org: Uuid, store: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!("SELECT mapping FROM royalty_csv_mappings WHERE org_id = $1 AND store = $2", org, store)
        .fetch_optional(conn)
        .await
}

pub async fn save_csv_mapping(
    conn: &mut PgConnection,
    org: Uuid,
    store: &str,
    mapping: &serde_json::Value,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_csv_mappings (org_id, store, mapping, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, store) DO UPDATE SET mapping = EXCLUDED.mapping, updated_by = EXCLUDED.updated_by,
             updated_at = EXCLUDED.updated_at",
        org,
        store,
        mapping,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a report as a CSV export of `store`, read with `mapping`.
pub async fn set_csv(
    conn: &mut PgConnection,
    report: ReportId,
    store: &str,
    mapping: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_report_csv (report_id, store, mapping) VALUES ($1, $2, $3)",
        report as _,
        store,
        mapping
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The store and mapping of a report sent as CSV; none for DSR.
pub async fn report_csv(
    conn: &mut PgConnection,
    report: ReportId,
) -> sqlx::Result<Option<(String, serde_json::Value)>> {
    let row = sqlx::query!("SELECT store, mapping FROM royalty_report_csv WHERE report_id = $1", report as _)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| (r.store, r.mapping)))
}

/// Remembers that staff matched `key` to `track` for the label.
#[allow(clippy::too_many_arguments)]
pub async fn remember(
    conn: &mut PgConnection,
    org: Uuid,
    key: &str,
    track: Uuid,
    release: Option<Uuid>,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO royalty_key_mappings (org_id, match_key, track_id, release_id, mapped_by, mapped_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (org_id, match_key) DO UPDATE SET track_id = EXCLUDED.track_id, release_id = EXCLUDED.release_id,
             mapped_by = EXCLUDED.mapped_by, mapped_at = EXCLUDED.mapped_at",
        org,
        key,
        track,
        release,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies the label's remembered matches to the report's keys not matched yet; answers them (key,
/// track, release).
pub async fn match_remembered(
    conn: &mut PgConnection,
    report: ReportId,
    org: Uuid,
    keys: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, Option<Uuid>, Option<Uuid>)>> {
    let rows = sqlx::query!(
        "INSERT INTO royalty_matches (report_id, match_key, track_id, release_id, matched_by, user_id, matched_at)
         SELECT $1, k.match_key, k.track_id, k.release_id, 'remembered', k.mapped_by, $3
         FROM royalty_key_mappings k
         WHERE k.org_id = $2
           AND k.match_key = ANY($4)
         ON CONFLICT (report_id, match_key) DO NOTHING
         RETURNING match_key, track_id, release_id",
        report as _,
        org,
        now,
        keys
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.match_key, r.track_id, r.release_id)).collect())
}
