//! Check-in at the door: a scan checks a valid ticket in atomically; a second scan says when the first
//! was; old (revoked), refunded and other events' codes are refused with their reason. Offline scanners
//! upload their scans later; for each ticket the first scan wins.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;

use crate::dto::{Attendance, BatchResult, OfflineScan, Scan, ScanResult};
use crate::error::TicketingError;
use crate::model::EventId;
use crate::repo::{self, EventRow};
use crate::{chain, signing};

/// Most scans in one upload.
pub const MAX_BATCH: usize = 5_000;

async fn door(conn: &mut PgConnection, principal: &Principal, event: EventId) -> Result<EventRow, ApiError> {
    let row = repo::event(conn, event, false).await?.ok_or(TicketingError::NotFound("event"))?;
    if !super::may_check_in(conn, principal, &row).await? {
        // Staff of other events learn nothing about this one.
        return Err(TicketingError::NotFound("event").into());
    }
    Ok(row)
}

fn result(outcome: &str, code: &str) -> ScanResult {
    ScanResult {
        accepted: false,
        outcome: outcome.into(),
        code: code.into(),
        ticket_id: None,
        tier_name: None,
        checked_in_at: None,
    }
}

/// One scan, at `at`, in the caller's transaction.
pub(crate) async fn scan_one(
    conn: &mut PgConnection,
    event: &EventRow,
    by: uuid::Uuid,
    input: &str,
    at: DateTime<Utc>,
) -> Result<ScanResult, ApiError> {
    let input = input.trim();
    // A QR payload is checked against the event's key; a typed code is looked up as it is.
    let code = if signing::is_code(input) {
        input.to_owned()
    } else {
        let Ok(public) = <[u8; 32]>::try_from(event.signing_public_key.as_slice()) else {
            return Err(ApiError::internal(anyhow::anyhow!("an event key is not 32 bytes")));
        };
        match signing::verify(&public, input) {
            Ok((_, code)) => code,
            Err(signing::PayloadError::BadSignature) => {
                // Signed by another event's key, or forged: which one, the lookup below tells.
                let code = signing::parse(input).map(|(_, c, _)| c.to_owned()).unwrap_or_default();
                let foreign = repo::lookup_code(conn, &code).await?.is_some_and(|c| c.event_id != event.id);
                return Ok(result(if foreign { "foreign_event" } else { "invalid_signature" }, &code));
            }
            Err(signing::PayloadError::Malformed) => return Ok(result("unknown_code", input)),
        }
    };
    let Some(found) = repo::lookup_code(conn, &code).await? else { return Ok(result("unknown_code", &code)) };
    let mut answer = ScanResult {
        ticket_id: Some(found.ticket_id),
        tier_name: Some(found.tier_name.clone()),
        checked_in_at: found.checked_in_at,
        ..result("", &code)
    };
    answer.outcome = if found.event_id != event.id {
        answer.ticket_id = None;
        answer.tier_name = None;
        answer.checked_in_at = None;
        "foreign_event"
    } else if found.revoked {
        "revoked"
    } else if found.state == "refunded" {
        "refunded"
    } else if let Some(time) = repo::check_in(conn, found.ticket_id, at, by).await? {
        answer.checked_in_at = Some(time);
        if found.checked_in_at.is_some() {
            // An offline scan earlier than the recorded one: the first scan wins, this one is a repeat.
            "already_checked_in"
        } else {
            answer.accepted = true;
            chain::append(conn, event.id, found.ticket_id, chain::Action::Checkin, json!({"by": by}), time).await?;
            super::profiles::award_attendance(conn, found.holder_id, event.id, time).await?;
            "checked_in"
        }
    } else {
        // Checked in already (the update found an earlier time); report the first scan's time.
        answer.checked_in_at = repo::lookup_code(conn, &code).await?.and_then(|c| c.checked_in_at);
        "already_checked_in"
    }
    .into();
    Ok(answer)
}

pub async fn scan(ctx: &AppContext, principal: &Principal, req: Scan) -> Result<ScanResult, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let event = door(&mut tx, principal, req.event_id).await?;
    let answer = scan_one(&mut tx, &event, principal.user_id.0, &req.code, now).await?;
    if answer.accepted {
        platform::audit::Entry::new(
            principal.actor(),
            "ticket.checkin",
            "ticket",
            answer.ticket_id.map_or(event.id.0, |t| t.0),
        )
        .after(json!({"event": event.id}))
        .record(&mut tx, now)
        .await?;
    }
    tx.commit().await?;
    Ok(answer)
}

/// Scans made offline, applied in the order they were made; answers one result per scan, in the order sent.
pub async fn batch(
    ctx: &AppContext,
    principal: &Principal,
    event_id: EventId,
    scans: Vec<OfflineScan>,
) -> Result<BatchResult, ApiError> {
    if scans.is_empty() || scans.len() > MAX_BATCH {
        return Err(ApiError::invalid_field("scans", "invalid_length", format!("must hold 1 to {MAX_BATCH} scans")));
    }
    let now = ctx.clock.now();
    if let Some(i) = scans.iter().position(|s| s.scanned_at > now + chrono::Duration::minutes(5)) {
        return Err(ApiError::invalid_field(format!("scans[{i}].scanned_at"), "in_the_future", "is in the future"));
    }
    let mut tx = ctx.db.begin().await?;
    let event = door(&mut tx, principal, event_id).await?;
    let mut order: Vec<usize> = (0..scans.len()).collect();
    order.sort_by_key(|&i| (scans[i].scanned_at, i));
    let mut results: Vec<Option<ScanResult>> = vec![None; scans.len()];
    let mut accepted = 0;
    for i in order {
        let answer = scan_one(&mut tx, &event, principal.user_id.0, &scans[i].code, scans[i].scanned_at).await?;
        accepted += usize::from(answer.accepted);
        results[i] = Some(answer);
    }
    platform::audit::Entry::new(principal.actor(), "ticket.checkin_batch", "event", event_id.0)
        .after(json!({"scans": scans.len(), "checked_in": accepted}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(BatchResult { results: results.into_iter().flatten().collect() })
}

pub async fn attendance(ctx: &AppContext, principal: &Principal, event_id: EventId) -> Result<Attendance, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    door(&mut conn, principal, event_id).await?;
    let tiers = repo::attendance(&mut conn, event_id).await?;
    Ok(Attendance {
        event_id,
        sold: tiers.iter().map(|t| t.sold).sum(),
        checked_in: tiers.iter().map(|t| t.checked_in).sum(),
        tiers,
    })
}

/// Adds door staff to an event (its managers).
pub async fn add_staff(
    ctx: &AppContext,
    principal: &Principal,
    event_id: EventId,
    user: uuid::Uuid,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    super::managed_event(&mut tx, principal, event_id).await?;
    if !identity::service::is_active_user(&mut tx, identity::model::UserId(user)).await? {
        return Err(ApiError::invalid_field("user_id", "unknown_user", "is not an active user"));
    }
    repo::add_staff(&mut tx, event_id, user, now).await?;
    platform::audit::Entry::new(principal.actor(), "event.staff_add", "event", event_id.0)
        .after(json!({"user": user}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}
