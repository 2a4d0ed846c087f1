//! Check-in at the door: a scan checks a valid ticket in atomically; a second scan says when the first
//! was; old (revoked), refunded and other events' codes are refused with their reason. Offline scanners
//! upload their scans later; for each ticket the first scan wins.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;

use super::dto::{Attendance, BatchResult, OfflineScan, Scan, ScanResult};
use super::{dto, repo};
use crate::error::TicketingError;
use crate::events::repo::EventRow;
use crate::events::service::visible_event;
use crate::model::{EventId, TicketId};
use crate::state::TicketState;
use crate::{chain, signing};

/// Most scans in one upload.
pub const MAX_BATCH: usize = 5_000;

async fn door(conn: &mut PgConnection, principal: &Principal, event: EventId) -> Result<EventRow, ApiError> {
    let row = crate::events::repo::event(conn, event, false).await?.ok_or(TicketingError::NotFound("event"))?;
    if !may_check_in(conn, principal, &row).await? {
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

/// A scanned input, resolved to a ticket of this event or to the reason it is refused. Nothing is
/// locked yet: the ticket's event never changes, so a code of another event can be refused at once.
enum Resolved {
    Ticket { ticket: TicketId, code: String },
    Refused(ScanResult),
}

async fn resolve(conn: &mut PgConnection, event: &EventRow, input: &str) -> Result<Resolved, ApiError> {
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
                let outcome = if foreign { "foreign_event" } else { "invalid_signature" };
                return Ok(Resolved::Refused(result(outcome, &code)));
            }
            Err(signing::PayloadError::Malformed) => return Ok(Resolved::Refused(result("unknown_code", input))),
        }
    };
    Ok(match repo::lookup_code(conn, &code).await? {
        None => Resolved::Refused(result("unknown_code", &code)),
        Some(found) if found.event_id != event.id => Resolved::Refused(result("foreign_event", &code)),
        Some(found) => Resolved::Ticket { ticket: found.ticket_id, code },
    })
}

/// Decides one scan of a ticket of this event, at `at`, in the caller's transaction. The ticket row is
/// locked first and read again under the lock, so that of any number of concurrent scans exactly one
/// is told `checked_in` and appends the chain record; the others see its time. A scan earlier than the
/// recorded one (an offline scanner's) moves the recorded time back, but is reported as a repeat: one
/// admission per ticket, whatever the order in which scans arrive.
async fn admit(
    conn: &mut PgConnection,
    event: &EventRow,
    by: uuid::Uuid,
    ticket: TicketId,
    code: &str,
    at: DateTime<Utc>,
) -> Result<ScanResult, ApiError> {
    crate::aftersale::repo::lock_ticket(conn, ticket).await?;
    // Read after the lock: a transfer, refund or earlier scan that committed meanwhile is seen.
    let found = repo::lookup_code(conn, code)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a ticket code disappeared while scanned")))?;
    let mut answer = ScanResult {
        ticket_id: Some(found.ticket_id),
        tier_name: Some(found.tier_name.clone()),
        checked_in_at: found.checked_in_at,
        ..result("", code)
    };
    answer.outcome = if found.revoked {
        "revoked"
    } else if found.state == TicketState::Refunded {
        "refunded"
    } else {
        match found.checked_in_at {
            None => {
                repo::check_in(conn, ticket, at, by).await?;
                answer.checked_in_at = Some(at);
                answer.accepted = true;
                chain::append(conn, event.id, ticket, chain::Action::Checkin, json!({"by": by}), at).await?;
                tracing::info!(object = "ticket", id = %ticket.0, to = "checked_in", "state changed");
                crate::profiles::service::award_attendance(conn, found.holder_id, event.id, at).await?;
                "checked_in"
            }
            Some(first) if at < first => {
                // An offline scan earlier than the recorded one: its time is the admission's.
                repo::check_in(conn, ticket, at, by).await?;
                answer.checked_in_at = Some(at);
                "already_checked_in"
            }
            Some(_) => "already_checked_in",
        }
    }
    .into();
    Ok(answer)
}

/// One scan, at `at`, in the caller's transaction.
pub(crate) async fn scan_one(
    conn: &mut PgConnection,
    event: &EventRow,
    by: uuid::Uuid,
    input: &str,
    at: DateTime<Utc>,
) -> Result<ScanResult, ApiError> {
    match resolve(conn, event, input).await? {
        Resolved::Refused(answer) => Ok(answer),
        Resolved::Ticket { ticket, code } => admit(conn, event, by, ticket, &code, at).await,
    }
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
    let mut resolved = Vec::with_capacity(scans.len());
    for scan in &scans {
        resolved.push(resolve(&mut tx, &event, &scan.code).await?);
    }
    // Every ticket of the upload is locked before any is decided, in one order (by id) shared by all
    // uploads, so that two uploads, or an upload and online scans, never wait on each other in a cycle.
    let mut tickets: Vec<TicketId> = resolved
        .iter()
        .filter_map(|r| if let Resolved::Ticket { ticket, .. } = r { Some(*ticket) } else { None })
        .collect();
    tickets.sort_unstable_by_key(|t| t.0);
    tickets.dedup();
    repo::lock_tickets(&mut tx, &tickets).await?;
    let mut order: Vec<usize> = (0..scans.len()).collect();
    order.sort_by_key(|&i| (scans[i].scanned_at, i));
    let mut results: Vec<Option<ScanResult>> = vec![None; scans.len()];
    let mut accepted = 0;
    for i in order {
        let answer = match &resolved[i] {
            Resolved::Refused(answer) => answer.clone(),
            Resolved::Ticket { ticket, code } => {
                admit(&mut tx, &event, principal.user_id.0, *ticket, code, scans[i].scanned_at).await?
            }
        };
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
        tiers: tiers.into_iter().map(Into::into).collect(),
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
    crate::events::service::managed_event(&mut tx, principal, event_id).await?;
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

/// Whether the caller may scan tickets at the event's door: its managers, members of the organizing
/// organization with `tickets.checkin`, the event's door staff, and admins.
pub async fn may_check_in(conn: &mut PgConnection, principal: &Principal, event: &EventRow) -> Result<bool, ApiError> {
    Ok(identity::party::may_act_for(conn, principal, event.organizer(), "events.manage").await?
        || identity::party::may_act_for(conn, principal, event.organizer(), "tickets.checkin").await?
        || repo::is_staff(conn, event.id, principal.user_id.0).await?
        || (principal.has_role("admin") && authz::authorize(principal, "tickets.checkin", Target::Platform).is_ok()))
}

/// The public key that verifies the event's ticket payloads.
pub async fn checkin_key(
    ctx: &AppContext,
    principal: Option<&Principal>,
    id: EventId,
) -> Result<dto::CheckinKey, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, _) = visible_event(&mut conn, principal, id, false).await?;
    Ok(dto::CheckinKey {
        event_id: row.id,
        algorithm: "Ed25519".into(),
        public_key: URL_SAFE_NO_PAD.encode(&row.signing_public_key),
        public_key_hex: platform::hex::encode(&row.signing_public_key),
        payload_format: "BL1.<event id: 32 hex digits>.<code>.<Ed25519 signature over the rest, unpadded base64url>"
            .into(),
    })
}
