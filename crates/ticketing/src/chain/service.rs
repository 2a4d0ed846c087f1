//! Appending to an event's chain (inside the caller's transaction) and verifying it.

use chrono::{DateTime, Utc};
use platform::AppContext;
use platform::jobs::{Job, JobFailure, JobKind, Registry};
use serde_json::Value;
use sqlx::PgConnection;

use super::digest::{Action, digest, first_problem};
use super::dto::Verification;
use super::repo::{self, RecordRow};
use crate::model::{EventId, TicketId};

/// Appends a record, in the caller's transaction (which it serializes with the event's other ticket
/// changes by locking the event row's chain head). Issues not yet in the chain go in first, so the
/// chain keeps the order things happened in.
pub async fn append(
    conn: &mut PgConnection,
    event: EventId,
    ticket: TicketId,
    action: Action,
    data: Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let (length, head) = repo::head(conn, event, true).await?;
    let (length, head) = append_issues(conn, event, length, head, now).await?;
    let record = record(event, length + 1, &head, ticket, action, data, now);
    repo::insert(conn, event, &record).await
}

fn record(
    event: EventId,
    seq: i64,
    head: &[u8],
    ticket: TicketId,
    action: Action,
    data: Value,
    now: DateTime<Utc>,
) -> RecordRow {
    // PostgreSQL keeps microseconds; the hash covers exactly what is stored.
    let micros = now.timestamp_micros();
    let created_at = DateTime::from_timestamp_micros(micros).unwrap_or(now);
    let hash = digest(head, event, seq, ticket, action.as_str(), &data, micros);
    RecordRow {
        seq,
        ticket_id: ticket,
        action: action.as_str().to_owned(),
        data,
        prev_hash: head.to_vec(),
        hash: hash.to_vec(),
        created_at,
    }
}

/// Most issue records appended in one statement.
const ISSUE_BATCH: i64 = 2_000;

/// Appends the issues of tickets sold without touching the chain (a purchase paid at once), in the
/// order they were issued, after the head the caller has locked; answers the new length and head.
async fn append_issues(
    conn: &mut PgConnection,
    event: EventId,
    mut length: i64,
    mut head: Vec<u8>,
    now: DateTime<Utc>,
) -> sqlx::Result<(i64, Vec<u8>)> {
    loop {
        let pending = repo::pending_issues(conn, event, ISSUE_BATCH).await?;
        if pending.is_empty() {
            return Ok((length, head));
        }
        let mut records = Vec::with_capacity(pending.len());
        for p in &pending {
            let data = serde_json::json!({"holder": p.holder, "code_sha256": super::code_hash(&p.code), "order": p.order_id, "price": p.price});
            let r = record(event, length + 1, &head, p.ticket_id, Action::Issue, data, now);
            (length, head) = (r.seq, r.hash.clone());
            records.push(r);
        }
        repo::insert_issues(conn, event, &records).await?;
        if (pending.len() as i64) < ISSUE_BATCH {
            return Ok((length, head));
        }
    }
}

/// Brings an event's chain up to date with the tickets sold since, in batches: enqueued (once per event
/// while one waits) by every purchase paid at once.
pub const CATCH_UP: JobKind = JobKind::new("ticketing.chain.catch_up").max_attempts(20);

/// Appends the issues of the tickets sold since the chain last moved, until none is left (a purchase
/// committing meanwhile is taken in the same run).
pub async fn catch_up(conn: &mut PgConnection, event: EventId, now: DateTime<Utc>) -> sqlx::Result<()> {
    let (mut length, mut head) = repo::head(conn, event, true).await?;
    loop {
        let (after, moved) = append_issues(conn, event, length, head, now).await?;
        if after == length {
            return Ok(());
        }
        (length, head) = (after, moved);
    }
}

/// The safety net under [`CATCH_UP`]: a purchase whose enqueue was absorbed by a catch-up just before
/// it gave up its key, and which committed only after that catch-up's last look, finds no job to wake;
/// once a minute every event with tickets not yet in its chain gets a catch-up (one waiting per event,
/// as purchases enqueue them).
pub const SWEEP: JobKind = JobKind::new("ticketing.chain.sweep");

/// Enqueues a catch-up for every event with tickets not in its chain yet; how many.
pub async fn sweep(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<usize, JobFailure> {
    let events = repo::events_behind(conn).await?;
    for event in &events {
        let job = platform::jobs::NewJob::new(CATCH_UP, serde_json::json!({"event_id": event}))
            .unique(format!("chain:{event}"));
        platform::jobs::enqueue(&mut *conn, job, now).await?;
    }
    Ok(events.len())
}

pub fn register(registry: &mut Registry) {
    registry.register(SWEEP, |ctx: AppContext, _job: Job| async move {
        let mut conn = ctx.db.acquire().await?;
        sweep(&mut conn, ctx.clock.now()).await?;
        Ok::<(), JobFailure>(())
    });
    registry.schedule("ticketing.chain.sweep", "* * * * *", SWEEP, serde_json::json!({})).expect("a valid schedule");
    registry.register(CATCH_UP, |ctx: AppContext, job: Job| async move {
        let event: EventId = job.field("event_id")?;
        // A purchase that commits from now on enqueues a catch-up of its own instead of being absorbed
        // by this one, which might already have looked.
        platform::jobs::release_unique(&ctx.db, job.id).await?;
        let mut tx = ctx.db.begin().await?;
        catch_up(&mut tx, event, ctx.clock.now()).await?;
        tx.commit().await?;
        Ok::<(), JobFailure>(())
    });
}

/// Recomputes every record of the event's chain, in order, against the head the event row holds.
pub async fn verify(conn: &mut PgConnection, event: EventId) -> sqlx::Result<Verification> {
    // The head and the records in one statement: one snapshot, so that an append in flight (the
    // worker catching the chain up) is never taken for a broken chain.
    let (length, head, records) = repo::snapshot(conn, event).await?;
    let problem = first_problem(event, &records, length, &head);
    Ok(Verification {
        event_id: event,
        valid: problem.is_none(),
        records: records.len() as i64,
        head: platform::hex::encode(&head),
        first_invalid_seq: problem.as_ref().map(|p| p.0),
        problem: problem.map(|p| p.1),
    })
}
