//! Scheduling deliveries, delivering batches, and reading stores' acknowledgements.
//!
//! A delivery never holds a transaction across the network: the attempt (its message id and batch) is
//! recorded and committed, the batch is written to the store, then the outcome is recorded. A failed
//! attempt waits in `queued` for the job's next try (exponential backoff); after the last, the delivery
//! is `failed` and the label is told. The release follows its deliveries: `delivered` once every store
//! has its batch, `live` once every store acknowledged it, `taken_down` once every store acknowledged the
//! takedown.

use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use platform::error::FieldError;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;

use super::dto::{Distribution, DistributionList, ScheduleRequest};
use super::repo::{self, DistributionAction, DistributionRow, DistributionState};
use crate::error::CatalogError;
use crate::model::{DistributionId, ReleaseId, StoreId};
use crate::releases::ern;
use crate::releases::repo::{self as releases, ReleaseRow};
use crate::releases::service::{Built, actor_for, build_message, notify, transition};
use crate::state::{self, Actor, ReleaseStatus};
use crate::stores::repo::{self as stores, StoreRow};
use crate::transfer::join;

pub const DELIVER: JobKind = JobKind::new("catalog.deliver").max_attempts(6);
pub const POLL_ACKNOWLEDGEMENTS: JobKind = JobKind::new("catalog.poll_acknowledgements").max_attempts(1);

/// The folder of a store's inbox where it leaves its acknowledgements.
pub const ACK_FOLDER: &str = "acknowledgements";

pub fn register(registry: &mut Registry) {
    registry.register(DELIVER, |ctx: AppContext, job: Job| async move { deliver(ctx, job).await });
    registry.register(POLL_ACKNOWLEDGEMENTS, |ctx: AppContext, _job: Job| async move { poll(ctx).await });
    registry
        .schedule("catalog.poll_acknowledgements", "* * * * *", POLL_ACKNOWLEDGEMENTS, json!({}))
        .expect("a valid schedule");
}

fn job_key(id: DistributionId) -> String {
    format!("catalog.deliver:{}", id.0)
}

/// Queues the delivery's job at `at`, replacing one queued before.
pub(crate) async fn queue_delivery(
    conn: &mut PgConnection,
    id: DistributionId,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let key = job_key(id);
    jobs::cancel_unique(conn, &key, now).await?;
    jobs::enqueue(conn, NewJob::new(DELIVER, json!({"distribution_id": id})).at(at).unique(key), now).await?;
    Ok(())
}

async fn list_of(conn: &mut PgConnection, release: ReleaseId) -> sqlx::Result<DistributionList> {
    Ok(DistributionList { items: repo::of_release(conn, release).await?.into_iter().map(Distribution::from).collect() })
}

/// The label (or staff) chooses stores: an approved release becomes scheduled; a scheduled one gains stores.
pub async fn schedule(
    ctx: &AppContext,
    principal: &Principal,
    id: ReleaseId,
    req: ScheduleRequest,
) -> Result<DistributionList, ApiError> {
    let now = ctx.clock.now();
    let mut errors = Vec::new();
    if req.store_ids.is_empty() || req.store_ids.len() > 100 {
        errors.push(FieldError::new("store_ids", "invalid_length", "name 1 to 100 stores"));
    }
    if req.deliver_at.is_some_and(|at| at < now - Duration::minutes(1)) {
        errors.push(FieldError::new("deliver_at", "in_the_past", "must be now or later"));
    }
    let mut tx = ctx.db.begin().await?;
    let mut row = releases::lock(&mut tx, id).await?.ok_or(CatalogError::NotFound("release"))?;
    let actor = actor_for(&mut tx, principal, &row).await?;
    let mut chosen: Vec<StoreRow> = Vec::new();
    for (i, store) in req.store_ids.iter().enumerate() {
        match stores::store(&mut tx, *store).await? {
            Some(s) if chosen.iter().any(|c| c.id == s.id) => {
                errors.push(FieldError::new(format!("store_ids[{i}]"), "taken", "appears twice"));
            }
            Some(s) if s.enabled => chosen.push(s),
            Some(_) => errors.push(FieldError::new(
                format!("store_ids[{i}]"),
                "not_allowed",
                "the store takes no deliveries now",
            )),
            None => errors.push(FieldError::new(format!("store_ids[{i}]"), "not_found", "is not a store")),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if row.status != ReleaseStatus::Scheduled {
        transition(&mut tx, Some(principal), &mut row, ReleaseStatus::Scheduled, actor, None, now).await?;
    }
    for store in &chosen {
        let at = req.deliver_at.unwrap_or_else(|| default_time(&row, store, now)).max(now);
        let dist = repo::schedule(&mut tx, id, store.id, DistributionAction::Release, at, now).await?;
        queue_delivery(&mut tx, dist, at, now).await?;
    }
    let names = chosen.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
    platform::audit::Entry::new(principal.actor(), "release.schedule", "release", id.0)
        .organization(row.org_id)
        .after(json!({"stores": req.store_ids, "deliver_at": req.deliver_at}))
        .record(&mut tx, now)
        .await?;
    notify(&mut tx, &row, "catalog.release_scheduled", json!({"stores": names}), now).await?;
    let answer = list_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(answer)
}

/// A store's lead time before the release date (at midnight UTC).
fn default_time(row: &ReleaseRow, store: &StoreRow, now: DateTime<Utc>) -> DateTime<Utc> {
    row.release_date
        .and_then(|d| d.checked_sub_signed(Duration::days(i64::from(store.lead_days))))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(now, |d| d.and_utc())
}

pub async fn list(ctx: &AppContext, principal: &Principal, id: ReleaseId) -> Result<DistributionList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = releases::release(&mut conn, id).await?.ok_or(CatalogError::NotFound("release"))?;
    actor_for(&mut conn, principal, &row).await?;
    Ok(list_of(&mut conn, id).await?)
}

/// The most distributions a label's board lists.
const BOARD_LIMIT: i64 = 5_000;

/// A label's distribution board: every delivery of its releases, store by store (its staff, and review
/// staff).
pub async fn of_label(ctx: &AppContext, principal: &Principal, org: uuid::Uuid) -> Result<DistributionList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    if !crate::labels::service::reviews(principal) {
        crate::labels::service::require_manager(&mut conn, principal, org).await?;
    }
    let rows = repo::of_label(&mut conn, org, BOARD_LIMIT).await?;
    Ok(DistributionList { items: rows.into_iter().map(Distribution::from).collect() })
}

/// The label (or staff) takes a release down: every store it went to gets a message without deals.
pub async fn takedown(ctx: &AppContext, principal: &Principal, id: ReleaseId) -> Result<DistributionList, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = releases::lock(&mut tx, id).await?.ok_or(CatalogError::NotFound("release"))?;
    let actor = actor_for(&mut tx, principal, &row).await?;
    transition(&mut tx, Some(principal), &mut row, ReleaseStatus::TakedownRequested, actor, None, now).await?;
    for d in repo::of_release(&mut tx, id).await? {
        let dist = repo::schedule(&mut tx, id, d.store_id, DistributionAction::Takedown, now, now).await?;
        queue_delivery(&mut tx, dist, now, now).await?;
    }
    notify(&mut tx, &row, "catalog.takedown_requested", json!({}), now).await?;
    advance(&mut tx, &mut row, now).await?;
    let answer = list_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Moves the release along with its deliveries (Backline's own steps).
async fn advance(conn: &mut PgConnection, row: &mut ReleaseRow, now: DateTime<Utc>) -> Result<(), ApiError> {
    let all = repo::of_release(conn, row.id).await?;
    let every = |f: &dyn Fn(&DistributionRow) -> bool| all.iter().all(f);
    let next = match row.status {
        ReleaseStatus::Scheduled
            if !all.is_empty()
                && every(&|d| matches!(d.state, DistributionState::Delivered | DistributionState::Acknowledged)) =>
        {
            Some(ReleaseStatus::Delivered)
        }
        ReleaseStatus::Delivered if every(&|d| d.state == DistributionState::Acknowledged) => Some(ReleaseStatus::Live),
        ReleaseStatus::TakedownRequested
            if every(&|d| d.action == DistributionAction::Takedown && d.state == DistributionState::Acknowledged) =>
        {
            Some(ReleaseStatus::TakenDown)
        }
        _ => None,
    };
    if let Some(to) = next
        && state::check(row.status, to, Actor::System).is_ok()
    {
        transition(conn, None, row, to, Actor::System, None, now).await?;
        if to == ReleaseStatus::TakenDown {
            notify(conn, row, "catalog.release_taken_down", json!({}), now).await?;
        }
        // Delivered may be followed at once by live (every store acknowledged already).
        Box::pin(advance(conn, row, now)).await?;
    }
    Ok(())
}

/// An API error as one line for a delivery's `last_error`.
fn describe(err: &ApiError) -> String {
    let mut text = err.detail().to_owned();
    for e in err.field_errors() {
        text.push_str(&format!(" {}: {}.", e.field, e.message));
    }
    text
}

/// The batch folder's name: the time, to the millisecond (DDEX's batch naming).
fn batch_name(now: DateTime<Utc>) -> String {
    now.format("%Y%m%d%H%M%S%3f").to_string()
}

async fn deliver(ctx: AppContext, job: Job) -> Result<(), JobFailure> {
    let id: DistributionId = job.field("distribution_id")?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(d) = repo::lock(&mut tx, id).await? else { return Ok(()) };
    // A delivery already made or given up is not made again; `delivering` is an attempt that died.
    if !matches!(d.state, DistributionState::Pending | DistributionState::Queued | DistributionState::Delivering) {
        return Ok(());
    }
    let Some(row) = releases::lock(&mut tx, d.release_id).await? else { return Ok(()) };
    let wanted = match d.action {
        DistributionAction::Release => {
            matches!(row.status, ReleaseStatus::Scheduled | ReleaseStatus::Delivered | ReleaseStatus::Live)
        }
        DistributionAction::Takedown => matches!(row.status, ReleaseStatus::TakedownRequested),
    };
    let Some(store) = stores::store(&mut tx, d.store_id).await? else { return Ok(()) };
    if !wanted {
        return Ok(());
    }
    let message_id = platform::ids::new_id().simple().to_string();
    let batch = batch_name(now);
    let action = match d.action {
        DistributionAction::Release => ern::Action::Release,
        DistributionAction::Takedown => ern::Action::Takedown,
    };
    let built = match build_message(&mut tx, &row, &store, &message_id, action, now).await {
        Ok(built) => built,
        Err(err) => {
            // The message cannot be made (a missing DPID, a release no longer valid): retrying cannot help.
            let reason = describe(&err);
            repo::finish(&mut tx, id, DistributionState::Failed, Some(&reason), now).await?;
            notify(&mut tx, &row, "catalog.delivery_failed", json!({"store": store.name, "reason": reason}), now)
                .await?;
            tx.commit().await?;
            return Err(JobFailure::permanent(reason));
        }
    };
    repo::start(&mut tx, id, &message_id, &batch, now).await?;
    tx.commit().await?;

    let sent = send(&ctx, &store, &row, &batch, &built).await;

    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let result = match sent {
        Ok(()) => {
            repo::finish(&mut tx, id, DistributionState::Delivered, None, now).await?;
            tracing::info!(distribution = %id.0, store = %store.name, batch, "delivered");
            Ok(())
        }
        Err(err) => {
            let reason = format!("{err:#}");
            if job.attempts >= job.max_attempts {
                repo::finish(&mut tx, id, DistributionState::Failed, Some(&reason), now).await?;
                notify(&mut tx, &row, "catalog.delivery_failed", json!({"store": store.name, "reason": reason}), now)
                    .await?;
            } else {
                repo::finish(&mut tx, id, DistributionState::Queued, Some(&reason), now).await?;
            }
            Err(JobFailure::retry(reason))
        }
    };
    if let Some(mut current) = releases::lock(&mut tx, row.id).await? {
        advance(&mut tx, &mut current, now).await.map_err(|e| JobFailure::retry(describe(&e)))?;
    }
    tx.commit().await?;
    result
}

/// Writes the batch: every resource file, then the message, then the completion marker, last.
async fn send(ctx: &AppContext, store: &StoreRow, row: &ReleaseRow, batch: &str, built: &Built) -> anyhow::Result<()> {
    let endpoint = store.endpoint(ctx)?;
    let mut conn = endpoint.connect().await?;
    let product = row.upc.clone().unwrap_or_else(|| row.id.0.simple().to_string());
    let folder = join(&[&store.path, batch, &product]);
    for (uri, sha256) in &built.files {
        let stream = ctx.storage.read(&platform::storage::Storage::key_of(sha256)).await?;
        conn.put_stream(&join(&[&folder, uri]), stream).await?;
    }
    let message = format!("{product}.xml");
    conn.put_bytes(&join(&[&folder, &message]), built.xml.clone().into_bytes()).await?;
    let marker = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BatchComplete>\n  <BatchId>{batch}</BatchId>\n  <File>{product}/{message}</File>\n</BatchComplete>\n"
    );
    conn.put_bytes(&join(&[&store.path, batch, &format!("BatchComplete_{batch}.xml")]), marker.into_bytes()).await?;
    Ok(())
}

/// Reads every store's acknowledgements (a store that cannot be reached now is tried again next time).
async fn poll(ctx: AppContext) -> Result<(), JobFailure> {
    let mut conn = ctx.db.acquire().await?;
    let waiting = repo::stores_awaiting_ack(&mut conn).await?;
    drop(conn);
    for store in waiting {
        if let Err(err) = poll_store(&ctx, store).await {
            tracing::warn!(store = %store.0, error = %format!("{err:#}"), "reading acknowledgements failed");
        }
    }
    Ok(())
}

/// Reads one store's acknowledgements folder: each acknowledgement of a delivery of ours moves it to
/// `acknowledged` or `failed` (with the store's reason) and is then removed from the store's folder.
pub async fn poll_store(ctx: &AppContext, store_id: StoreId) -> anyhow::Result<usize> {
    let mut db = ctx.db.acquire().await?;
    let Some(store) = stores::store(&mut db, store_id).await? else { return Ok(0) };
    let waiting = repo::awaiting_ack(&mut db, store_id).await?;
    drop(db);
    if waiting.is_empty() {
        return Ok(0);
    }
    let mut conn = store.endpoint(ctx)?.connect().await?;
    let folder = join(&[&store.path, ACK_FOLDER]);
    let mut done = 0;
    for name in conn.list(&folder).await?.into_iter().filter(|n| n.ends_with(".xml")) {
        let path = join(&[&folder, &name]);
        let text = String::from_utf8_lossy(&conn.read(&path).await?).into_owned();
        let Some(ack) = super::ack::read(&text) else { continue };
        let answered = waiting.iter().find(|d| {
            ack.names.iter().any(|n| {
                d.message_id.as_deref() == Some(n.as_str())
                    || d.batch.as_deref().is_some_and(|b| n.contains(b) && n.ends_with(".xml"))
            })
        });
        let Some(d) = answered else { continue };
        let now = ctx.clock.now();
        let mut tx = ctx.db.begin().await?;
        if let Some(current) = repo::lock(&mut tx, d.id).await?
            && current.state == DistributionState::Delivered
            && current.message_id == d.message_id
            && let Some(mut row) = releases::lock(&mut tx, d.release_id).await?
        {
            if ack.ok {
                repo::finish(&mut tx, d.id, DistributionState::Acknowledged, None, now).await?;
                if d.action == DistributionAction::Release {
                    notify(&mut tx, &row, "catalog.release_live", json!({"store": store.name}), now).await?;
                }
            } else {
                let reason = ack.reason.clone().unwrap_or_else(|| ack.status.clone());
                repo::finish(&mut tx, d.id, DistributionState::Failed, Some(&reason), now).await?;
                notify(&mut tx, &row, "catalog.delivery_failed", json!({"store": store.name, "reason": reason}), now)
                    .await?;
            }
            advance(&mut tx, &mut row, now).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
        }
        tx.commit().await?;
        conn.remove(&path).await?;
        done += 1;
    }
    Ok(done)
}
