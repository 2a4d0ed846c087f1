//! Receiving reports and reading them. An upload is streamed into staging, its first line read as the
//! report's HEAD (which report, which of its files), and kept by content; once every file of the report
//! is in, a job reads the files in order, summing their usage lines as it goes and loading the sums
//! with `COPY` inside one transaction while its progress is written beside it, and either commits the
//! whole report or refuses it whole with its errors.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use identity::auth::Principal;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::pagination::{Page, PageParams};
use platform::storage::Digests;
use platform::{ApiError, AppContext};
use serde_json::json;
use uuid::Uuid;

use super::dto::{
    CsvMapping, CsvMappingList, MatchRequest, Reconciliation, Report, ReportError, ReportList, Unmatched,
    UnmatchedList, UploadQuery,
};
use super::load;
use super::repo::{self, FileRow, ReportRow, SummaryRows};
use crate::dsr::{self, FileSummary, Head, LineError};
use crate::error::{RoyaltiesCode, RoyaltiesError};
use crate::model::{ReportId, ReportStatus};

/// Reads a report whose files are all in.
pub const READ: JobKind =
    JobKind::new("royalties.read_report").max_attempts(3).lease(std::time::Duration::from_secs(15 * 60));

/// The largest file of a report (a month of a large store's streams, uncompressed).
pub const MAX_FILE_BYTES: u64 = 20_000_000_000;

/// Bytes of `COPY` rows sent at once.
const CHUNK: usize = 256 * 1024;
/// Plain DSR files from this size are read in two parts at once (`dsr::read_in_two`): a file of
/// 4 MiB is some 75,000 lines, read in 0.02 s whole.
pub const SPLIT_FROM: u64 = 4 << 20;

pub fn register(registry: &mut Registry) {
    registry.register(READ, |ctx: AppContext, job: Job| async move { read(ctx, job.field("report_id")?).await });
}

/// The label's staff (a parent label's included) and admins.
pub(crate) async fn may_manage(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<(), ApiError> {
    if principal.has_role("admin") || catalog::labels::service::is_manager(ctx, principal, org).await? {
        Ok(())
    } else {
        Err(RoyaltiesError::NotFound("report").into())
    }
}

/// Opens a report file, through gzip when it is one (by its magic bytes, not its name).
fn open(path: &Path) -> std::io::Result<(bool, Box<dyn BufRead + Send>)> {
    let mut magic = [0u8; 2];
    let n = std::fs::File::open(path)?.read(&mut magic)?;
    let gzip = n == 2 && magic == [0x1f, 0x8b];
    let file = std::fs::File::open(path)?;
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(1 << 16, flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    Ok((gzip, reader))
}

/// The staged file's HEAD, and whether it is gzip.
fn peek(path: &Path) -> Result<(bool, Head), String> {
    let (gzip, reader) = open(path).map_err(|e| e.to_string())?;
    let mut first = Vec::new();
    reader.take(64 * 1024).read_until(b'\n', &mut first).map_err(|e| format!("the file could not be read: {e}"))?;
    let line = String::from_utf8(first).map_err(|_| "its first line is not UTF-8".to_owned())?;
    dsr::read_head(&line).map(|head| (gzip, head)).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| format!("{} {}", e.cell.unwrap_or(""), e.reason).trim().to_owned())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Receives one file of a report into storage: its HEAD and whether it is gzip.
async fn receive(ctx: &AppContext, body: axum::body::Body) -> Result<(platform::storage::Kept, bool, Head), ApiError> {
    let staged = ctx.storage.receive(body, MAX_FILE_BYTES, Digests::Sha256).await?;
    let path = staged.path().to_owned();
    let peeked = tokio::task::spawn_blocking(move || peek(&path))
        .await
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("read a report's head")))?;
    let (gzip, head) = peeked
        .map_err(|why| ApiError::new(RoyaltiesCode::NotAReport, format!("The file is not a DSR report: {why}.")))?;
    let kept =
        ctx.storage.keep(staged).await.map_err(|e| platform::storage::unavailable(e.context("keep a report file")))?;
    Ok((kept, gzip, head))
}

fn file_name(name: Option<String>) -> Option<String> {
    name.map(|n| n.trim().chars().take(255).collect::<String>()).filter(|n| !n.is_empty())
}

/// Records a kept file as the report's file `number`; answers false when the report has that file already.
#[allow(clippy::too_many_arguments)]
async fn record_file(
    tx: &mut sqlx::PgConnection,
    report: ReportId,
    kept: &platform::storage::Kept,
    gzip: bool,
    media: &str,
    number: i32,
    name: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, ApiError> {
    platform::storage::record(tx, kept, media, now).await?;
    let file = FileRow {
        file_number: number,
        sha256: kept.sha256.clone(),
        size: kept.size as i64,
        gzip,
        file_name: file_name(name),
    };
    Ok(repo::add_file(tx, report, &file).await.map_err(RoyaltiesError::from)?)
}

async fn answer(conn: &mut sqlx::PgConnection, row: ReportRow) -> Result<Report, ApiError> {
    let files = repo::files(conn, row.id).await.map_err(RoyaltiesError::from)?;
    Ok(Report::new(row, files.len() as i32))
}

/// A report's first file (or its only one): the report is created from its HEAD. A report of several
/// files then waits for the others ([`add_file`]); a complete one is queued for reading.
pub async fn upload(
    ctx: &AppContext,
    principal: &Principal,
    query: UploadQuery,
    body: axum::body::Body,
) -> Result<Report, ApiError> {
    let org = query.label_id.ok_or_else(|| ApiError::invalid_field("label_id", "required", "is required"))?;
    may_manage(ctx, principal, org).await?;
    admit(ctx, principal).await?;
    let sender = Sender { org, by: principal.user_id.0, actor: principal.actor() };
    accept_report(ctx, &sender, query, body).await
}

/// A person's upload counts towards the upload limit (an inbox's pick-ups do not).
async fn admit(ctx: &AppContext, principal: &Principal) -> Result<(), ApiError> {
    ctx.storage.admit(&ctx.db, principal.user_id.0, principal.client_ip.as_deref(), ctx.clock.now()).await
}

/// Who sends a report: a label's staff through the API, or the label's inbox at a store (the user who
/// set it up, acting through the poll).
pub struct Sender {
    pub org: Uuid,
    pub by: Uuid,
    pub actor: platform::audit::Actor,
}

/// Receives a report for a label whose sender may send it: DSR (its first file, or its only one) or a
/// CSV export.
pub async fn accept_report(
    ctx: &AppContext,
    sender: &Sender,
    query: UploadQuery,
    body: axum::body::Body,
) -> Result<Report, ApiError> {
    let org = sender.org;
    match query.format.as_deref().unwrap_or("dsr") {
        "dsr" => {}
        "csv" => return upload_csv(ctx, sender, query, body).await,
        _ => return Err(ApiError::invalid_field("format", "invalid_value", "must be dsr or csv")),
    }
    let (kept, gzip, head) = receive(ctx, body).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if let Some(old) = query.replaces {
        let previous = repo::lock(&mut tx, old).await.map_err(RoyaltiesError::from)?;
        let Some(previous) = previous.filter(|p| p.org_id == org) else {
            return Err(ApiError::invalid_field("replaces", "not_found", "is not a report of the label"));
        };
        if previous.status != ReportStatus::Loaded || previous.replaced_by.is_some() {
            return Err(ApiError::invalid_field(
                "replaces",
                "invalid_value",
                "only a loaded report not yet corrected is replaced",
            ));
        }
        if crate::statements::repo::is_closed(&mut tx, old).await.map_err(RoyaltiesError::from)? {
            return Err(ApiError::invalid_field(
                "replaces",
                "locked",
                "is in a closed period: paid periods are never rewritten",
            ));
        }
        if previous.sender_party_id != head.sender_party_id {
            return Err(ApiError::invalid_field(
                "replaces",
                "invalid_value",
                "the correction comes from another sender",
            ));
        }
    }
    let row = ReportRow { replaces: query.replaces, ..ReportRow::received(&head, org, sender.by, now) };
    if let Some(old) = query.replaces {
        // The old report steps aside at once (so that the correction may carry its message id); a
        // refused correction gives it its place back.
        repo::replace(&mut tx, old, row.id).await.map_err(RoyaltiesError::from)?;
    }
    repo::insert(&mut tx, &row).await.map_err(RoyaltiesError::from)?;
    let media = if gzip { "application/gzip" } else { "text/tab-separated-values" };
    record_file(&mut tx, row.id, &kept, gzip, media, head.file_number, query.filename, now).await?;
    platform::audit::Entry::new(sender.actor, "royalties.report_upload", "royalty_report", row.id.0)
        .organization(org)
        .after(json!({"message_id": row.message_id, "sender": row.sender_party_id, "file": head.file_number,
                      "files": head.number_of_files, "sha256": kept.sha256, "replaces": query.replaces}))
        .record(&mut tx, now)
        .await?;
    if row.status == ReportStatus::Queued {
        jobs::enqueue(&mut tx, NewJob::new(READ, json!({"report_id": row.id})), now).await?;
    }
    let answer = answer(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

/// A store's CSV export: read with the mapping saved for its store, for the month named; the same file
/// sent twice is a duplicate (its message id is the file's SHA-256).
async fn upload_csv(
    ctx: &AppContext,
    sender: &Sender,
    query: UploadQuery,
    body: axum::body::Body,
) -> Result<Report, ApiError> {
    let org = sender.org;
    let store = query.store.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let store = store.ok_or_else(|| ApiError::invalid_field("store", "required", "name the store of a CSV export"))?;
    let period = query.period.as_deref().unwrap_or_default();
    let (first, last) = crate::model::parse_period(period)
        .ok_or_else(|| ApiError::invalid_field("period", "invalid_format", "must be the month reported, YYYY-MM"))?;
    if query.replaces.is_some() {
        return Err(ApiError::invalid_field("replaces", "not_applicable", "a CSV export is not replaced; send DSR"));
    }
    let saved = {
        let mut conn = ctx.db.acquire().await?;
        repo::csv_mapping(&mut conn, org, store).await.map_err(RoyaltiesError::from)?
    };
    let saved = saved.ok_or_else(|| {
        ApiError::invalid_field("store", "not_found", "no CSV mapping is saved for this store; save one first")
    })?;
    let mapping: crate::csv::Mapping = serde_json::from_value(saved.clone())
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("read a saved CSV mapping")))?;
    let staged = ctx.storage.receive(body, MAX_FILE_BYTES, Digests::Sha256).await?;
    let path = staged.path().to_owned();
    let heading = tokio::task::spawn_blocking(move || -> std::io::Result<(bool, String)> {
        let (gzip, reader) = open(&path)?;
        let mut first = Vec::new();
        reader.take(64 * 1024).read_until(b'\n', &mut first)?;
        Ok((gzip, String::from_utf8_lossy(&first).into_owned()))
    })
    .await
    .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("read a CSV heading")))?
    .map_err(|e| ApiError::new(RoyaltiesCode::NotAReport, format!("The file could not be read: {e}.")))?;
    let (gzip, heading) = heading;
    if let Err(missing) = mapping.locate(&heading) {
        return Err(ApiError::new(
            RoyaltiesCode::NotAReport,
            format!("The file's first row lacks the columns the mapping of {store} names for: {}.", missing.join(", ")),
        ));
    }
    let kept =
        ctx.storage.keep(staged).await.map_err(|e| platform::storage::unavailable(e.context("keep a report file")))?;
    let now = ctx.clock.now();
    let head = dsr::Head {
        sender_party_id: format!("CSV:{}", store.chars().take(90).collect::<String>()),
        sender_name: store.to_owned(),
        message_id: kept.sha256.clone(),
        service: store.to_owned(),
        usage_start: first.to_string(),
        usage_end: last.to_string(),
        file_number: 1,
        number_of_files: 1,
        ..Default::default()
    };
    let row = ReportRow::received(&head, org, sender.by, now);
    let mut tx = ctx.db.begin().await?;
    repo::insert(&mut tx, &row).await.map_err(RoyaltiesError::from)?;
    repo::set_csv(&mut tx, row.id, store, &saved).await.map_err(RoyaltiesError::from)?;
    let media = if gzip { "application/gzip" } else { "text/csv" };
    record_file(&mut tx, row.id, &kept, gzip, media, 1, query.filename, now).await?;
    platform::audit::Entry::new(sender.actor, "royalties.report_upload", "royalty_report", row.id.0)
        .organization(org)
        .after(json!({"format": "csv", "store": store, "period": period, "sha256": kept.sha256}))
        .record(&mut tx, now)
        .await?;
    jobs::enqueue(&mut tx, NewJob::new(READ, json!({"report_id": row.id})), now).await?;
    let answer = answer(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The label's saved CSV mappings.
pub async fn csv_mappings(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<CsvMappingList, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::csv_mappings(&mut conn, org).await.map_err(RoyaltiesError::from)?;
    let items = rows
        .into_iter()
        .filter_map(|(store, value)| serde_json::from_value(value).ok().map(|mapping| CsvMapping { store, mapping }))
        .collect();
    Ok(CsvMappingList { items })
}

/// Saves (or replaces) the mapping of a store's CSV exports; reports already sent keep theirs.
pub async fn save_csv_mapping(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    store: &str,
    mapping: crate::csv::Mapping,
) -> Result<CsvMapping, ApiError> {
    may_manage(ctx, principal, org).await?;
    let store = store.trim();
    if store.is_empty() || store.chars().count() > 100 {
        return Err(ApiError::invalid_field("store", "invalid_length", "must be 1 to 100 characters"));
    }
    let errors = mapping.check();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let value = serde_json::to_value(&mapping).map_err(|e| ApiError::internal(anyhow::Error::new(e)))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    repo::save_csv_mapping(&mut tx, org, store, &value, principal.user_id.0, now)
        .await
        .map_err(RoyaltiesError::from)?;
    platform::audit::Entry::new(principal.actor(), "royalties.csv_mapping_save", "organization", org)
        .organization(org)
        .after(json!({"store": store, "mapping": value}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(CsvMapping { store: store.to_owned(), mapping })
}

/// Another file of a report of several: the same message, a file number not received yet. The last one
/// queues the report for reading.
pub async fn add_file(
    ctx: &AppContext,
    principal: &Principal,
    id: ReportId,
    name: Option<String>,
    body: axum::body::Body,
) -> Result<Report, ApiError> {
    {
        let mut conn = ctx.db.acquire().await?;
        let row = repo::report(&mut conn, id)
            .await
            .map_err(RoyaltiesError::from)?
            .ok_or(RoyaltiesError::NotFound("report"))?;
        may_manage(ctx, principal, row.org_id).await?;
        if row.status != ReportStatus::Receiving {
            return Err(ApiError::new(RoyaltiesCode::ReportComplete, "The report has all its files."));
        }
    }
    admit(ctx, principal).await?;
    let (kept, gzip, head) = receive(ctx, body).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = repo::lock(&mut tx, id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("report"))?;
    if row.status != ReportStatus::Receiving {
        return Err(ApiError::new(RoyaltiesCode::ReportComplete, "The report has all its files."));
    }
    if head.message_id != row.message_id
        || head.sender_party_id != row.sender_party_id
        || head.number_of_files != row.number_of_files
    {
        return Err(ApiError::new(
            RoyaltiesCode::NotAReport,
            format!(
                "The file belongs to another report: message {} of {} in {} files.",
                head.message_id, head.sender_party_id, head.number_of_files
            ),
        ));
    }
    let media = if gzip { "application/gzip" } else { "text/tab-separated-values" };
    if !record_file(&mut tx, id, &kept, gzip, media, head.file_number, name, now).await? {
        return Err(ApiError::new(
            RoyaltiesCode::DuplicateReport,
            format!("File {} of the report was received before.", head.file_number),
        ));
    }
    let received = repo::files(&mut tx, id).await.map_err(RoyaltiesError::from)?.len() as i32;
    if received == row.number_of_files {
        repo::set_status(&mut tx, id, ReportStatus::Queued).await.map_err(RoyaltiesError::from)?;
        jobs::enqueue(&mut tx, NewJob::new(READ, json!({"report_id": id})), now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "royalties.report_file", "royalty_report", id.0)
        .organization(row.org_id)
        .after(json!({"file": head.file_number, "sha256": kept.sha256}))
        .record(&mut tx, now)
        .await?;
    let row =
        repo::report(&mut tx, id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("report"))?;
    let answer = answer(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: ReportId) -> Result<Report, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row =
        repo::report(&mut conn, id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("report"))?;
    may_manage(ctx, principal, row.org_id).await?;
    answer(&mut conn, row).await
}

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    page: PageParams,
) -> Result<ReportList, ApiError> {
    may_manage(ctx, principal, org).await?;
    let limit = page.limit()?;
    let before: Option<(chrono::DateTime<chrono::Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::of_label(&mut conn, org, before, i64::from(limit) + 1).await.map_err(RoyaltiesError::from)?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        items.push(answer(&mut conn, row).await?);
    }
    Ok(ReportList { items, next_cursor: page.next_cursor })
}

/// Whether `org` (the report's label) is `owner` or above it: a label's report pays its sub-labels'
/// recordings, never another label's.
async fn in_lineage(
    conn: &mut sqlx::PgConnection,
    cache: &mut std::collections::HashMap<Uuid, bool>,
    org: Uuid,
    owner: Uuid,
) -> sqlx::Result<bool> {
    if let Some(known) = cache.get(&owner) {
        return Ok(*known);
    }
    let lineage = identity::organizations::service::lineage(conn, identity::model::OrgId(owner)).await?;
    let found = lineage.iter().any(|o| o.id.0 == org);
    cache.insert(owner, found);
    Ok(found)
}

/// A key matched: the key, its track (none for a release sold whole) and release.
type Found = (String, Option<Uuid>, Option<Uuid>);

/// Matches the report's keys to the label's catalog by identifier: ISRCs to tracks, ICPNs to releases
/// (which the caller writes, [`write_matches`]). It only reads, on any connection.
async fn match_by_identifier(conn: &mut sqlx::PgConnection, org: Uuid, keys: &[String]) -> sqlx::Result<Vec<Found>> {
    let isrcs: Vec<String> = keys.iter().filter_map(|k| k.strip_prefix("isrc:").map(str::to_owned)).collect();
    let icpns: Vec<String> = keys.iter().filter_map(|k| k.strip_prefix("icpn:").map(str::to_owned)).collect();
    let mut cache = std::collections::HashMap::new();
    let mut found = Vec::new();
    for (isrc, track, owner, release) in catalog::tracks_by_isrc(conn, &isrcs).await? {
        if in_lineage(conn, &mut cache, org, owner).await? {
            found.push((format!("isrc:{isrc}"), Some(track.0), release.map(|r| r.0)));
        }
    }
    for (code, release, owner) in catalog::releases_by_icpn(conn, &icpns).await? {
        if in_lineage(conn, &mut cache, org, owner).await? {
            found.push((format!("icpn:{code}"), None, Some(release.0)));
        }
    }
    Ok(found)
}

/// Match keys as the reader learns them: those read so far when a part of a file read in two ends,
/// and, once all are read, every key (none when the parts of the last file, read in two, sent them
/// all: a report's keys are 11 MB at ten million lines).
enum Keys {
    Part(Vec<String>),
    All(Vec<String>),
}

/// [`match_by_identifier`] on a connection of its own, for the keys as the reader sends them (each
/// once): the keys of the part of a file read in two that ends first are matched while the other
/// part is still read, the rest while PostgreSQL takes in the last rows of totals. None when the
/// reader ends without every key (a refused report, more keys than are kept in memory, a CSV export),
/// or when the pool has no idle connection to spare (a busy worker does not wait for one, nor take
/// one from other jobs: the report's transaction matches them instead, as it did before).
async fn match_early(
    ctx: AppContext,
    org: Uuid,
    mut keys: tokio::sync::mpsc::UnboundedReceiver<Keys>,
) -> sqlx::Result<Option<Vec<Found>>> {
    let (mut conn, mut asked, mut found) = (None, foldhash::HashSet::default(), Vec::new());
    while let Some(batch) = keys.recv().await {
        let (all, batch) = match batch {
            Keys::Part(batch) => (false, batch),
            Keys::All(batch) => (true, batch),
        };
        let new: Vec<String> = batch.into_iter().filter(|key| !asked.contains(key)).collect();
        if !new.is_empty() {
            let conn = match &mut conn {
                Some(conn) => conn,
                None => match ctx.db.try_acquire() {
                    Some(idle) => conn.insert(idle),
                    None => return Ok(None),
                },
            };
            found.extend(match_by_identifier(conn, org, &new).await?);
            asked.extend(new);
        }
        if all {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// What staff matched by hand for the label before, for the keys not `found` by identifier: written,
/// and answered. The other keys wait in the unmatched queue.
async fn match_remembered(
    conn: &mut sqlx::PgConnection,
    id: ReportId,
    org: Uuid,
    keys: &[String],
    found: &[Found],
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<Vec<Found>> {
    let matched: foldhash::HashSet<&str> = found.iter().map(|(k, _, _)| k.as_str()).collect();
    let rest: Vec<String> = keys.iter().filter(|k| !matched.contains(k.as_str())).cloned().collect();
    match rest.is_empty() {
        true => Ok(Vec::new()),
        false => repo::match_remembered(conn, id, org, &rest, now).await,
    }
}

/// Writes a report's matches found by identifier, by COPY (the report, being read in this transaction,
/// has none of them yet): 20,000 matches took 0.08 s as one INSERT, 0.05 s so.
async fn write_matches(
    conn: &mut sqlx::PgConnection,
    id: ReportId,
    found: &[Found],
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    let mut copy = repo::copy_matches(conn).await?;
    copy.send(super::load::matches(id.0, found, now)).await?;
    copy.finish().await?;
    Ok(())
}

/// The proof that a report's money is all accounted for: for each summary record, its revenue beside
/// what its lines were given, matched and not, to the last unit; and the totals by currency.
pub async fn reconciliation(ctx: &AppContext, principal: &Principal, id: ReportId) -> Result<Reconciliation, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row =
        repo::report(&mut conn, id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("report"))?;
    may_manage(ctx, principal, row.org_id).await?;
    let rows = repo::reconciliation(&mut conn, id).await.map_err(RoyaltiesError::from)?;
    Ok(Reconciliation::new(row.status.as_str(), rows))
}

/// The report's lines no recording or release was found for, the largest revenue first.
pub async fn unmatched(ctx: &AppContext, principal: &Principal, id: ReportId) -> Result<UnmatchedList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row =
        repo::report(&mut conn, id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("report"))?;
    may_manage(ctx, principal, row.org_id).await?;
    let rows = repo::unmatched(&mut conn, id, 1_000).await.map_err(RoyaltiesError::from)?;
    Ok(UnmatchedList { items: rows.into_iter().map(Unmatched::from).collect() })
}

/// Staff resolve an unmatched key: its lines are the track's (of the report's label or a label under it),
/// and the label's later reports with the same key are matched to it when they are read.
pub async fn resolve(
    ctx: &AppContext,
    principal: &Principal,
    id: ReportId,
    req: MatchRequest,
) -> Result<UnmatchedList, ApiError> {
    if !(principal.has_role("admin") || principal.has_role("staff")) {
        return Err(identity::error::IdentityError::Forbidden("royalties.match".into()).into());
    }
    let track = catalog::tracks::service::get(ctx, principal, req.track_id).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = repo::lock(&mut tx, id).await.map_err(RoyaltiesError::from)?.ok_or(RoyaltiesError::NotFound("report"))?;
    if row.status != ReportStatus::Loaded {
        return Err(ApiError::new(RoyaltiesCode::ReportComplete, "Only a loaded report's lines are matched."));
    }
    if crate::statements::repo::is_closed(&mut tx, id).await.map_err(RoyaltiesError::from)? {
        return Err(ApiError::new(RoyaltiesCode::PeriodClosed, "The report's period is closed: its lines are final."));
    }
    let mut cache = std::collections::HashMap::new();
    if !in_lineage(&mut tx, &mut cache, row.org_id, track.label_id).await.map_err(RoyaltiesError::from)? {
        return Err(ApiError::invalid_field("track_id", "not_found", "is not a track of the report's label"));
    }
    if !repo::has_key(&mut tx, id, &req.match_key).await.map_err(RoyaltiesError::from)? {
        return Err(ApiError::invalid_field("match_key", "not_found", "is not a key of the report's lines"));
    }
    let release = catalog::first_release_of(&mut tx, track.id).await.map_err(RoyaltiesError::from)?.map(|r| r.0);
    repo::add_matches(
        &mut tx,
        id,
        std::slice::from_ref(&req.match_key),
        &[Some(track.id.0)],
        &[release],
        Some(principal.user_id.0),
        now,
    )
    .await
    .map_err(RoyaltiesError::from)?;
    repo::remember(&mut tx, row.org_id, &req.match_key, track.id.0, release, principal.user_id.0, now)
        .await
        .map_err(RoyaltiesError::from)?;
    repo::build_lines(&mut tx, id, crate::terms::service::DEFAULT_FEE_BP).await.map_err(RoyaltiesError::from)?;
    platform::audit::Entry::new(principal.actor(), "royalties.match", "royalty_report", id.0)
        .organization(row.org_id)
        .after(json!({"match_key": req.match_key, "track_id": track.id}))
        .record(&mut tx, now)
        .await?;
    let rows = repo::unmatched(&mut tx, id, 1_000).await.map_err(RoyaltiesError::from)?;
    tx.commit().await?;
    Ok(UnmatchedList { items: rows.into_iter().map(Unmatched::from).collect() })
}

/// What the reading thread found: each file's summary, and the problems (by file).
struct Outcome {
    files: Vec<FileSummary>,
    errors: Vec<ReportError>,
    error_count: u64,
    sums: load::Sums,
    /// A file read in two parts whose parts did not agree (a problem in it): the report is to be
    /// read again, each file whole, which names every problem in order.
    disagreed: bool,
}

fn report_error(file: i32, e: LineError) -> ReportError {
    ReportError { file, line: e.line, record_type: e.record_type, cell: e.cell.map(str::to_owned), reason: e.reason }
}

/// Counts a file's lines (for the progress), through gzip when it is one.
fn count_lines(path: &Path) -> std::io::Result<u64> {
    let (_, mut reader) = open(path)?;
    let mut n = 0u64;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(n);
        }
        // memchr counts with the widest vector instructions the machine has: 54 MB took 34 ms
        // counted a byte at a time, time the reading's threads wanted.
        n += memchr::memchr_iter(b'\n', buf).count() as u64;
        let len = buf.len();
        reader.consume(len);
    }
}

/// A file read whole, or the first part of one read in two: its lines summed by the report's
/// encoder, whose rows go to the `COPY` in chunks; at the part's end, the keys read so far go to be
/// matched.
struct FirstPart<'a> {
    encoder: &'a mut load::Encoder,
    chunk: &'a mut Vec<u8>,
    sink: &'a tokio::sync::mpsc::Sender<Vec<u8>>,
    /// The report's lines read, for the progress: those of the files before this one, and this one's.
    done: &'a AtomicU64,
    lines_before: u64,
    /// The `COPY` is gone, or the report refused: nothing more is sent.
    refused: bool,
    on_keys: &'a tokio::sync::mpsc::UnboundedSender<Keys>,
}

impl dsr::Lines for &mut FirstPart<'_> {
    fn line(&mut self, usage: &dsr::Usage) {
        self.done.store(self.lines_before + usage.line, Ordering::Relaxed);
        if self.refused {
            return;
        }
        self.encoder.add(self.chunk, usage);
        if self.chunk.len() >= CHUNK && self.sink.blocking_send(std::mem::take(self.chunk)).is_err() {
            self.refused = true;
        }
    }

    fn end(&mut self) {
        if let (false, Some(keys)) = (self.refused, self.encoder.keys()) {
            let _ = self.on_keys.send(Keys::Part(keys));
        }
    }
}

/// The second part of a file read in two: its lines summed by its own encoder, whose rows go to the
/// `COPY` in chunks of whole rows, the last ones at the part's end (on its thread, while the first
/// part may still be read).
struct SecondPart<'a> {
    encoder: load::Encoder,
    rows: Vec<u8>,
    sink: &'a tokio::sync::mpsc::Sender<Vec<u8>>,
    /// The part's lines read, for the progress.
    done: &'a AtomicU64,
    first_line: Option<u64>,
    /// The `COPY` is gone (the load was stopped): nothing more is sent.
    gone: bool,
    on_keys: &'a tokio::sync::mpsc::UnboundedSender<Keys>,
}

impl dsr::Lines for &mut SecondPart<'_> {
    fn line(&mut self, usage: &dsr::Usage) {
        let from = *self.first_line.get_or_insert(usage.line);
        self.done.store(usage.line - from + 1, Ordering::Relaxed);
        if self.gone {
            return;
        }
        self.encoder.add(&mut self.rows, usage);
        if self.rows.len() >= CHUNK && self.sink.blocking_send(std::mem::take(&mut self.rows)).is_err() {
            self.gone = true;
        }
    }

    fn end(&mut self) {
        if self.gone {
            return;
        }
        if let Some(keys) = self.encoder.keys() {
            let _ = self.on_keys.send(Keys::Part(keys));
        }
        self.encoder.flush(&mut self.rows);
        if self.sink.blocking_send(std::mem::take(&mut self.rows)).is_err() {
            self.gone = true;
        }
    }
}

/// Reads the files in order on a blocking thread, sending `COPY` rows (the lines' totals) in chunks;
/// with `split`, a large plain DSR file in two parts at once. `done` receives the lines read: of the
/// whole or first part, and of the second; `on_keys` the report's match keys: a part's at its end,
/// and all once all are read (before the last rows are sent).
fn read_files(
    report: Uuid,
    files: &[(i32, tempfile::TempPath)],
    csv: Option<&(String, crate::csv::Mapping)>,
    split: bool,
    sink: &tokio::sync::mpsc::Sender<Vec<u8>>,
    done: &[AtomicU64; 2],
    on_keys: &tokio::sync::mpsc::UnboundedSender<Keys>,
) -> std::io::Result<Outcome> {
    let mut out = Outcome {
        files: Vec::new(),
        errors: Vec::new(),
        error_count: 0,
        sums: load::Sums::default(),
        disagreed: false,
    };
    let mut chunk = Vec::with_capacity(CHUNK + 4096);
    let mut encoder = load::Encoder::new(report, &mut chunk);
    if let (Some((store, mapping)), Some((number, path))) = (csv, files.first()) {
        let (_, input) = open(path)?;
        let mut refused = false;
        let (read, errors, count) = crate::csv::read(input, mapping, store, |usage| {
            done[0].store(usage.line, Ordering::Relaxed);
            if refused {
                return;
            }
            encoder.add(&mut chunk, &usage);
            if chunk.len() >= CHUNK && sink.blocking_send(std::mem::take(&mut chunk)).is_err() {
                refused = true;
            }
        })?;
        done[0].store(read.lines, Ordering::Relaxed);
        out.error_count = count;
        out.errors = errors.into_iter().map(|e| report_error(*number, e)).collect();
        if out.errors.is_empty() {
            encoder.finish(&mut chunk);
            let _ = sink.blocking_send(chunk);
        }
        out.files.push(FileSummary {
            summaries: read.summaries,
            lines: read.lines,
            usage_lines: read.usage_lines,
            ..Default::default()
        });
        out.sums = encoder.sums();
        return Ok(out);
    }
    let mut lines_before = 0u64;
    // Whether the keys read so far were all sent (by the parts of a file read in two).
    let mut keys_sent = false;
    // The running shares go on from file to file: a summary's lines may be in any of them.
    let mut allocation = crate::allocation::Allocation::default();
    for (number, path) in files {
        let (gzip, input) = open(path)?;
        let mut refused = !out.errors.is_empty();
        let size = std::fs::metadata(path)?.len();
        let cut = match split && !gzip && !refused && size >= SPLIT_FROM {
            // Past the middle, as the second part's reader first skims the first.
            true => dsr::find_cut(&mut std::fs::File::open(path)?, size / 5 * 3)?,
            false => None,
        };
        if cut.is_some() && !chunk.is_empty() && sink.blocking_send(std::mem::take(&mut chunk)).is_err() {
            refused = true;
        }
        // The second part's encoder: its rows go by themselves, in chunks of whole rows after the
        // signature (sent above), as the two parts' chunks may come in any order.
        let second = cut.map(|cut| (cut, encoder.following()));
        let mut first = FirstPart {
            encoder: &mut encoder,
            chunk: &mut chunk,
            sink,
            done: &done[0],
            lines_before,
            refused,
            on_keys,
        };
        let mut add = &mut first;
        let (summary, errors, count) = match second {
            // (A gzip file's size is not its text's: its list grows as it needs.)
            None => {
                keys_sent = false;
                dsr::Reader::sized(if gzip { 0 } else { size }).read(input, &mut allocation, |usage| {
                    dsr::Lines::line(&mut add, usage);
                })?
            }
            Some((cut, second)) => {
                drop(input);
                let mut part = SecondPart {
                    encoder: second,
                    rows: Vec::with_capacity(CHUNK + 4096),
                    sink,
                    done: &done[1],
                    first_line: None,
                    gone: false,
                    on_keys,
                };
                let read = dsr::read_in_two(path, cut, &mut allocation, add, &mut part)?;
                done[1].store(0, Ordering::Relaxed);
                let Some(read) = read else {
                    out.disagreed = true;
                    return Ok(out);
                };
                keys_sent = true;
                let mut rows = Vec::new();
                encoder.absorb(part.encoder, &mut rows);
                if !part.gone && !rows.is_empty() {
                    let _ = sink.blocking_send(rows);
                }
                read
            }
        };
        lines_before += summary.lines;
        done[0].store(lines_before, Ordering::Relaxed);
        out.error_count += count;
        let mut errors = errors;
        if !summary.repeated_transactions.is_empty() {
            let (_, input) = open(path)?;
            let repeated = dsr::repeated_transactions(input, &summary.repeated_transactions)?;
            out.error_count += repeated.len() as u64;
            errors.extend(repeated);
            errors.sort_by_key(|e| e.line);
        }
        for e in errors {
            if out.errors.len() < dsr::MAX_ERRORS {
                out.errors.push(report_error(*number, e));
            }
        }
        out.files.push(summary);
    }
    if out.errors.is_empty() {
        if encoder.keeps_keys() {
            let keys = if keys_sent { Vec::new() } else { encoder.keys().unwrap_or_default() };
            let _ = on_keys.send(Keys::All(keys));
        }
        encoder.finish(&mut chunk);
        let _ = sink.blocking_send(chunk);
    }
    out.sums = encoder.sums();
    for problem in dsr::check_report(&out.files) {
        out.error_count += 1;
        if out.errors.len() < dsr::MAX_ERRORS {
            out.errors.push(ReportError { file: 0, line: 0, record_type: String::new(), cell: None, reason: problem });
        }
    }
    Ok(out)
}

/// After its lines' totals are loaded: the report's summaries, its matches (those `found` by
/// identifier already, or found now) and royalty lines, and its status (`loaded` usage lines).
pub(crate) async fn finish(
    tx: &mut sqlx::PgConnection,
    row: &ReportRow,
    summaries: &[dsr::Summary],
    loaded: u64,
    sums: load::Sums,
    found: Option<Vec<Found>>,
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    let id = row.id;
    repo::insert_summaries(tx, id, &SummaryRows::from(summaries)).await?;
    let keys = match sums.keys {
        Some(keys) => keys,
        None => repo::match_keys(tx, id).await?,
    };
    let found = match found {
        Some(found) => found,
        None => match_by_identifier(tx, row.org_id, &keys).await?,
    };
    let remembered = match_remembered(tx, id, row.org_id, &keys, &found, now).await?;
    let matched = found.len() + remembered.len();
    // The royalty lines are made from the groups' sums in memory (0.2 s less for a million lines than
    // from the stored rows, docs/benchmarks.md), on another thread while the matches are written; or
    // from the rows when there were too many groups to keep.
    let making = match sums.groups {
        Some(groups) => {
            let fee_bp = repo::fee_bp(tx, id, crate::terms::service::DEFAULT_FEE_BP).await?;
            let all: Vec<Found> = found.iter().chain(&remembered).cloned().collect();
            let summaries = summaries.to_vec();
            Some(tokio::task::spawn_blocking(move || {
                let matches: foldhash::HashMap<&str, load::Match> =
                    all.iter().map(|(key, track, release)| (key.as_str(), (*track, *release))).collect();
                groups.lines(id.0, &summaries, &matches, fee_bp)
            }))
        }
        None => None,
    };
    write_matches(tx, id, &found, now).await?;
    let lines = match making {
        Some(making) => {
            let (stream, lines) =
                making.await.map_err(|e| sqlx::Error::Protocol(format!("making royalty lines: {e}")))?;
            let mut copy = repo::copy_lines(tx).await?;
            copy.send(stream).await?;
            copy.finish().await?;
            lines
        }
        None => repo::build_lines(tx, id, crate::terms::service::DEFAULT_FEE_BP).await?,
    };
    tracing::info!(report = %id.0, matched, lines, "a sales report's recordings and releases are matched");
    repo::loaded(tx, id, loaded as i64, summaries.len() as i32, now).await?;
    let data = json!({"report_id": id, "message_id": row.message_id, "usage_lines": loaded.to_string(),
                      "matched": matched.to_string()});
    tell(tx, row, "royalties.report_read", data, now).await
}

/// Tells whoever sent the report how its reading ended (in the app, live on the stream, and by mail
/// as their preferences say).
async fn tell(
    conn: &mut sqlx::PgConnection,
    row: &ReportRow,
    kind: &'static str,
    data: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    let event =
        platform::events::Event { kind, recipients: vec![row.created_by], organization: Some(row.org_id), data };
    platform::events::emit(conn, event, now).await.map(|_| ())
}

/// Pushes the reading's progress to the sender's open streams (an SSE event `progress`).
async fn announce(
    conn: &mut sqlx::PgConnection,
    row: &ReportRow,
    phase: &str,
    lines_done: i64,
    lines_total: i64,
) -> sqlx::Result<()> {
    let percent = if lines_total > 0 { (lines_done * 100 / lines_total).clamp(0, 100) } else { 0 };
    let progress = json!({"kind": "royalties.report", "report_id": row.id, "message_id": row.message_id,
                          "phase": phase, "lines_done": lines_done, "lines_total": lines_total, "percent": percent});
    platform::events::progress(conn, row.created_by, &progress).await
}

/// The job: reads the report whole, or refuses it whole.
async fn read(ctx: AppContext, id: ReportId) -> Result<(), JobFailure> {
    let mut conn = ctx.db.acquire().await.map_err(JobFailure::retry)?;
    let Some(row) = repo::report(&mut conn, id).await.map_err(JobFailure::retry)? else {
        return Err(JobFailure::permanent("no such report"));
    };
    if !matches!(row.status, ReportStatus::Queued | ReportStatus::Reading) {
        return Ok(());
    }
    let files = repo::files(&mut conn, id).await.map_err(JobFailure::retry)?;
    let mut local = Vec::with_capacity(files.len());
    for f in &files {
        local.push((f.file_number, ctx.storage.fetch(&f.sha256).await.map_err(JobFailure::retry)?));
    }
    let csv = match repo::report_csv(&mut conn, id).await.map_err(JobFailure::retry)? {
        Some((store, value)) => Some((store, serde_json::from_value(value).map_err(JobFailure::permanent)?)),
        None => None,
    };
    let started = std::time::Instant::now();
    // The reading begins at once; the lines are counted beside it (on the other core), for the
    // progress.
    // Both hold the local copies (removed when the last lets go).
    let local = Arc::new(local);
    let counting = {
        let local = local.clone();
        tokio::task::spawn_blocking(move || {
            local.iter().map(|(_, p)| count_lines(p)).collect::<std::io::Result<Vec<u64>>>()
        })
    };
    let mut counting = Some(counting);
    let mut total = 0;
    let csv = Arc::new(csv);
    // Large files are read in two parts at once; when the parts do not agree (a problem), the report
    // is read again with each file whole, which names every problem in order.
    let mut split = true;
    let (read, tx, groups, found) = loop {
        let (sink, mut rows) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let done = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let (on_keys, keys) = tokio::sync::mpsc::unbounded_channel();
        let matching = tokio::spawn(match_early(ctx.clone(), row.org_id, keys));
        let reader = {
            let (done, local, csv) = (done.clone(), local.clone(), csv.clone());
            // The sink closes when the thread ends, which ends the loading loop below.
            tokio::task::spawn_blocking(move || {
                read_files(id.0, &local, csv.as_ref().as_ref(), split, &sink, &done, &on_keys)
            })
        };
        if let Some(counting) = counting.take() {
            total = counting.await.map_err(JobFailure::retry)?.map_err(JobFailure::retry)?.iter().sum::<u64>();
            repo::start(&mut conn, id, total as i64, ctx.clock.now()).await.map_err(JobFailure::retry)?;
            announce(&mut conn, &row, "reading", 0, total as i64).await.map_err(JobFailure::retry)?;
        }
        let mut tx = ctx.db.begin().await.map_err(JobFailure::retry)?;
        let mut copy = repo::copy_totals(&mut tx).await.map_err(JobFailure::retry)?;
        let mut last = std::time::Instant::now();
        // Rows arrive only when the groups in memory fill up or the files end: the progress is
        // written twice a second whether or not they do.
        let every = std::time::Duration::from_millis(500);
        loop {
            match tokio::time::timeout(every, rows.recv()).await {
                Ok(Some(chunk)) => {
                    copy.send(chunk).await.map_err(JobFailure::retry)?;
                }
                Ok(None) => break,
                Err(_) => {}
            }
            if last.elapsed() >= every {
                let lines = done.iter().map(|d| d.load(Ordering::Relaxed)).sum::<u64>().min(total) as i64;
                repo::progress(&mut conn, id, lines).await.map_err(JobFailure::retry)?;
                announce(&mut conn, &row, "reading", lines, total as i64).await.map_err(JobFailure::retry)?;
                last = std::time::Instant::now();
            }
        }
        let read = reader.await.map_err(JobFailure::retry)?.map_err(JobFailure::retry)?;
        if read.disagreed {
            matching.abort();
            copy.abort("read again, each file whole").await.map_err(JobFailure::retry)?;
            tx.rollback().await.map_err(JobFailure::retry)?;
            split = false;
            continue;
        }
        if !read.errors.is_empty() || read.error_count > 0 {
            matching.abort();
            copy.abort("the report is refused").await.map_err(JobFailure::retry)?;
            tx.rollback().await.map_err(JobFailure::retry)?;
            break (read, None, 0, None);
        }
        let groups = copy.finish().await.map_err(JobFailure::retry)?;
        let found = matching.await.map_err(JobFailure::retry)?.map_err(JobFailure::retry)?;
        break (read, Some(tx), groups, found);
    };
    let reading = started.elapsed();
    let now = ctx.clock.now();
    let Some(mut tx) = tx else {
        let mut tx = ctx.db.begin().await.map_err(JobFailure::retry)?;
        let errors = serde_json::to_value(&read.errors).map_err(JobFailure::permanent)?;
        repo::refuse(&mut tx, id, &errors, read.error_count as i64, now).await.map_err(JobFailure::retry)?;
        if let Some(old) = row.replaces {
            repo::clear_replacement(&mut tx, old).await.map_err(JobFailure::retry)?;
        }
        let data = json!({"report_id": id, "message_id": row.message_id, "errors": read.error_count.to_string()});
        tell(&mut tx, &row, "royalties.report_refused", data, now).await.map_err(JobFailure::retry)?;
        tx.commit().await.map_err(JobFailure::retry)?;
        announce(&mut conn, &row, "refused", total as i64, total as i64).await.map_err(JobFailure::retry)?;
        tracing::info!(report = %id.0, errors = read.error_count, "a sales report is refused");
        return Ok(());
    };
    let loaded = read.files.iter().map(|f| f.usage_lines).sum();
    let summaries = &read.files[0].summaries;
    finish(&mut tx, &row, summaries, loaded, read.sums, found, now).await.map_err(JobFailure::retry)?;
    tx.commit().await.map_err(JobFailure::retry)?;
    announce(&mut conn, &row, "done", total as i64, total as i64).await.map_err(JobFailure::retry)?;
    tracing::info!(report = %id.0, lines = loaded, groups, reading = reading.as_secs_f64(),
                   seconds = started.elapsed().as_secs_f64(), "a sales report is loaded");
    Ok(())
}
