//! Contracts: a version generated at agreement (and at each side's one edit request), signed in order,
//! organizer then artist, within 48 hours, each signature naming the SHA-256 of the version signed;
//! then an admin's review when the setting is on, and the booking is confirmed. An unsigned contract
//! expires with its booking.

use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use platform::http::ClientMeta;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;

use super::dto::{ContractView, EditRequest, ReviewRequest, SignRequest, Signature};
use super::repo::{self, ContractState, NewVersion, SignatureRow};
use crate::BookingSettings;
use crate::bookings::dto::Agreement;
use crate::bookings::repo::BookingRow;
use crate::bookings::service::{Loaded, cancel, load, notice_data, notify};
use crate::contract::{self, Annex, Document};
use crate::error::{BookingCode, BookingError};
use crate::model::BookingId;
use crate::profiles::repo::{ArtistRow, PromoterRow};
use crate::profiles::service::is_admin;
use crate::state::{self, Actor, BookingStatus, Side};

pub const EXPIRE: JobKind = JobKind::new("booking.contract_deadline").max_attempts(10);
/// How long both sides have to sign a version.
pub const SIGN_WITHIN: Duration = Duration::hours(48);

/// What makes a new version of a contract: the agreement itself, a side's one edit (a clause), or a
/// file a side annexes.
pub(crate) enum Change {
    Agreed,
    Clause(Actor, String),
    Annex(Actor, Annex),
}

/// Writes a new version of the contract and gives both sides 48 hours to sign it.
pub(crate) async fn generate(
    conn: &mut PgConnection,
    row: &BookingRow,
    artist: &ArtistRow,
    promoter: &PromoterRow,
    agreement: &Agreement,
    change: Change,
    now: DateTime<Utc>,
) -> Result<i32, ApiError> {
    let previous = repo::current(conn, row.id).await?;
    let version = previous.as_ref().map_or(1, |p| p.version + 1);
    let (mut clauses, mut annexes) = previous
        .and_then(|p| serde_json::from_value::<Document>(p.document).ok())
        .map(|d| (d.clauses, d.annexes))
        .unwrap_or_default();
    let edited_by = match change {
        Change::Agreed => None,
        Change::Clause(side, clause) => {
            clauses.push(clause);
            Side::of(side)
        }
        Change::Annex(side, annex) => {
            annexes.push(annex);
            Side::of(side)
        }
    };
    let venue = match row.venue_id {
        Some(v) => crate::profiles::repo::venue(conn, v).await?.map(|v| format!("{}, {}", v.name, v.city)),
        None => None,
    };
    let terms = agreement.terms.clone();
    let doc = Document {
        booking_id: row.id.0,
        version,
        organizer: promoter.name.clone(),
        artist: artist.stage_name.clone(),
        starts_at: terms.starts_at,
        ends_at: terms.ends_at,
        venue,
        schedule: contract::schedule(&agreement.figures, i64::from(terms.deposit_bps), terms.starts_at),
        terms,
        category: agreement.category.clone(),
        figures: agreement.figures,
        clauses,
        annexes,
    };
    let text = contract::text(&doc);
    let hash = contract::sha256(&text);
    let document = serde_json::to_value(&doc).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let deadline = now + SIGN_WITHIN;
    let new = NewVersion { booking: row.id, version, document, text: &text, sha256: hash.as_slice(), edited_by, now };
    repo::insert_version(conn, &new, deadline).await?;
    let key = format!("booking:{}:contract", row.id);
    jobs::cancel_unique(conn, &key, now).await?;
    jobs::enqueue(conn, NewJob::new(EXPIRE, json!({"booking_id": row.id})).at(deadline).unique(key), now).await?;
    let mut data = notice_data(artist, promoter, row, None, "EUR");
    data["version"] = json!(version);
    data["deadline"] = json!(deadline.format("%Y-%m-%d %H:%M UTC").to_string());
    for owner in [promoter.owner(), artist.owner()] {
        notify(conn, owner, "booking.contract", data.clone(), now).await?;
    }
    Ok(version)
}

async fn contract_view(conn: &mut PgConnection, row: &BookingRow) -> Result<ContractView, ApiError> {
    let contract = repo::current(conn, row.id).await?.ok_or(BookingError::NotFound("contract"))?;
    let ContractState { deadline, review_pending, organizer_edited, artist_edited } =
        repo::contract_state(conn, row.id).await?;
    let signatures = repo::signatures(conn, row.id).await?;
    let signed = [Side::Organizer, Side::Artist]
        .iter()
        .all(|side| signatures.iter().any(|s| s.version == contract.version && s.side == *side));
    let mut edits_used = Vec::new();
    if organizer_edited {
        edits_used.push("organizer".to_owned());
    }
    if artist_edited {
        edits_used.push("artist".to_owned());
    }
    Ok(ContractView {
        booking_id: row.id,
        version: contract.version,
        document: serde_json::from_value(contract.document).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?,
        text: contract.text,
        sha256: platform::hex::encode(&contract.sha256),
        deadline_at: if row.status == BookingStatus::Contracting { deadline } else { None },
        signatures: signatures.into_iter().map(Signature::from).collect(),
        signed,
        review_pending,
        edits_used,
    })
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: BookingId) -> Result<ContractView, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let Loaded { row, .. } = load(&mut conn, principal, id, false).await?;
    contract_view(&mut conn, &row).await
}

/// The current version as a PDF.
pub async fn pdf(ctx: &AppContext, principal: &Principal, id: BookingId) -> Result<Vec<u8>, ApiError> {
    let view = get(ctx, principal, id).await?;
    Ok(contract::pdf(&view.text, &view.sha256))
}

/// The agreement a contracting booking holds.
fn agreement_of(row: &BookingRow) -> Result<Agreement, ApiError> {
    row.agreed
        .clone()
        .and_then(|a| serde_json::from_value(a).ok())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a contracting booking without an agreement")))
}

fn contracting(row: &BookingRow) -> Result<(), ApiError> {
    if row.status == BookingStatus::Contracting {
        Ok(())
    } else {
        Err(ApiError::new(BookingCode::NotContracting, format!("The booking is {}, not contracting.", row.status)))
    }
}

/// One side signs the current version (organizer first); after both, the admin's review, or confirmation.
pub async fn sign(
    ctx: &AppContext,
    settings: &BookingSettings,
    principal: &Principal,
    meta: &ClientMeta,
    id: BookingId,
    req: SignRequest,
) -> Result<ContractView, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    contracting(&row)?;
    let Some(me) = Side::of(side) else {
        return Err(ApiError::new(BookingCode::NotAParty, "Only the organizer and the artist sign."));
    };
    principal.require_verified()?;
    let contract = repo::current(&mut tx, id).await?.ok_or(BookingError::NotFound("contract"))?;
    let given = platform::hex::decode(req.sha256.trim()).unwrap_or_default();
    if given != contract.sha256 {
        return Err(ApiError::new(
            BookingCode::ContractChanged,
            format!(
                "You signed a hash that is not version {}'s; read the current version and sign its hash.",
                contract.version
            ),
        ));
    }
    let signed = repo::signatures(&mut tx, id).await?;
    let has = |s: Side| signed.iter().any(|x| x.version == contract.version && x.side == s);
    if has(me) {
        return Err(ApiError::new(BookingCode::AlreadySigned, "Your side signed this version already."));
    }
    if me == Side::Artist && !has(Side::Organizer) {
        return Err(ApiError::new(BookingCode::OrganizerSignsFirst, "The organizer signs first."));
    }
    let signature = SignatureRow {
        version: contract.version,
        side: me,
        user_id: principal.user_id.0,
        sha256: contract.sha256.clone(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        signed_at: now,
    };
    repo::insert_signature(&mut tx, id, &signature).await?;
    platform::audit::Entry::new(principal.actor(), "booking.sign", "booking", id.0)
        .after(json!({"version": contract.version, "side": me.as_str(), "sha256": platform::hex::encode(&contract.sha256)}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    if side == Actor::Artist {
        jobs::cancel_unique(&mut tx, &format!("booking:{id}:contract"), now).await?;
        if settings.admin_review {
            repo::set_review_pending(&mut tx, id, true).await?;
        } else {
            confirm(&mut tx, &mut row, &artist, &promoter, Actor::System, now).await?;
        }
    }
    let view = contract_view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view)
}

/// Confirms a fully signed booking: its date is now the artist's (the database refuses an overlap).
async fn confirm(
    conn: &mut PgConnection,
    row: &mut BookingRow,
    artist: &ArtistRow,
    promoter: &PromoterRow,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    state::check(BookingStatus::Contracting, BookingStatus::Confirmed, actor).map_err(BookingError::from)?;
    repo::lock_artist_dates(conn, row.artist_id).await?;
    row.status = BookingStatus::Confirmed;
    row.updated_at = now;
    crate::bookings::repo::update_booking(conn, row).await.map_err(BookingError::from)?;
    repo::set_review_pending(conn, row.id, false).await?;
    for owner in [artist.owner(), promoter.owner()] {
        notify(conn, owner, "booking.confirmed", notice_data(artist, promoter, row, None, "EUR"), now).await?;
    }
    crate::money::service::on_confirmed(conn, row, artist, promoter, now).await
}

/// Each side may ask for one edit: a clause added in a new version, which both sign again.
pub async fn request_edit(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    req: EditRequest,
) -> Result<ContractView, ApiError> {
    let now = ctx.clock.now();
    let clause = req.clause.trim().to_owned();
    if clause.is_empty() || clause.chars().count() > 2000 {
        return Err(ApiError::invalid_field("clause", "invalid_length", "must be 1 to 2,000 characters"));
    }
    let mut tx = ctx.db.begin().await?;
    let Loaded { row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let review_pending = repo::contract_state(&mut tx, id).await?.review_pending;
    let editor = changing_side(&row, review_pending, side)?;
    if !repo::use_edit(&mut tx, id, editor).await? {
        return Err(ApiError::new(BookingCode::EditUsed, "Your side has used its one edit request."));
    }
    let agreement = agreement_of(&row)?;
    let version =
        generate(&mut tx, &row, &artist, &promoter, &agreement, Change::Clause(side, clause.clone()), now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.contract_edit", "booking", id.0)
        .after(json!({"version": version, "side": editor.as_str(), "clause": clause}))
        .record(&mut tx, now)
        .await?;
    let view = contract_view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view)
}

/// The most files a contract annexes, and the largest.
pub const MAX_ANNEXES: usize = 10;
pub const MAX_ANNEX_BYTES: u64 = 100_000_000;

/// Whether a side may change the contract now: the booking is contracting, the contract is not waiting
/// for review, and the caller is the organizer's or the artist's side. Answers the side.
fn changing_side(row: &BookingRow, review_pending: bool, side: Actor) -> Result<Side, ApiError> {
    contracting(row)?;
    if review_pending {
        return Err(ApiError::new(BookingCode::ContractSigned, "Both sides signed; the contract waits for review."));
    }
    Side::of(side)
        .ok_or_else(|| ApiError::new(BookingCode::NotAParty, "Only the organizer and the artist change the contract."))
}

/// A side annexes a file to the contract (a stage plot, a technical rider; up to 10 files of at most
/// 100 MB): a new version names it with its SHA-256, and both sides sign that version again. The same
/// bytes are annexed once. A refused file leaves nothing behind.
pub async fn annex(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    name: &str,
    media_type: &str,
    body: axum::body::Body,
) -> Result<ContractView, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 || name.contains(['/', '\\']) || name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_field(
            "name",
            "invalid_format",
            "must be 1 to 255 characters without /, \\ or control characters",
        ));
    }
    let media_type = media_type.trim();
    let media_type =
        if media_type.is_empty() || media_type.len() > 255 { "application/octet-stream" } else { media_type };
    {
        let mut conn = ctx.db.acquire().await?;
        let Loaded { row, side, .. } = load(&mut conn, principal, id, false).await?;
        let review_pending = repo::contract_state(&mut conn, id).await?.review_pending;
        changing_side(&row, review_pending, side)?;
    }
    let (kept, ()) = platform::storage::receive_checked(
        ctx,
        principal.user_id.0,
        principal.client_ip.as_deref(),
        body,
        MAX_ANNEX_BYTES,
        platform::storage::Digests::Sha256,
        |_| Ok(()),
    )
    .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { row, artist, promoter, side } = load(&mut tx, principal, id, true).await?;
    let review_pending = repo::contract_state(&mut tx, id).await?.review_pending;
    changing_side(&row, review_pending, side)?;
    let current = repo::current(&mut tx, id).await?.ok_or(BookingError::NotFound("contract"))?;
    let annexes = serde_json::from_value::<Document>(current.document).map(|d| d.annexes).unwrap_or_default();
    if annexes.len() >= MAX_ANNEXES {
        return Err(ApiError::new(
            BookingCode::TooManyAnnexes,
            format!("A contract annexes at most {MAX_ANNEXES} files."),
        ));
    }
    if let Some(same) = annexes.iter().find(|a| a.sha256 == kept.sha256) {
        return Err(ApiError::new(
            BookingCode::AnnexExists,
            format!("These bytes are annex {} ({}) already.", same.number, same.name),
        ));
    }
    platform::storage::record(&mut tx, &kept, media_type, now).await?;
    let annex = Annex {
        number: annexes.len() as i32 + 1,
        name: name.to_owned(),
        media_type: media_type.to_owned(),
        size: kept.size as i64,
        sha256: kept.sha256.clone(),
    };
    let agreement = agreement_of(&row)?;
    let version =
        generate(&mut tx, &row, &artist, &promoter, &agreement, Change::Annex(side, annex.clone()), now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.contract_annex", "booking", id.0)
        .after(json!({"version": version, "annex": annex}))
        .record(&mut tx, now)
        .await?;
    let view = contract_view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view)
}

/// One of the contract's annexes, by its number (whole, or the byte range asked for): for the parties.
pub async fn annex_file(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    number: i32,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let view = get(ctx, principal, id).await?;
    let annex =
        view.document.annexes.into_iter().find(|a| a.number == number).ok_or(BookingError::NotFound("annex"))?;
    platform::storage::file_response(ctx, &annex.sha256, &annex.media_type, annex.size, &annex.name, range).await
}

/// An admin approves (confirmed) or rejects (cancelled) a fully signed contract.
pub async fn review(
    ctx: &AppContext,
    principal: &Principal,
    id: BookingId,
    req: ReviewRequest,
) -> Result<ContractView, ApiError> {
    if !is_admin(principal) {
        return Err(identity::error::IdentityError::Forbidden("bookings.admin".into()).into());
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Loaded { mut row, artist, promoter, .. } = load(&mut tx, principal, id, true).await?;
    contracting(&row)?;
    let pending = repo::contract_state(&mut tx, id).await?.review_pending;
    if !pending {
        return Err(ApiError::new(BookingCode::NotSigned, "The contract is not signed by both sides yet."));
    }
    match req.decision.as_str() {
        "approve" => confirm(&mut tx, &mut row, &artist, &promoter, Actor::Admin, now).await?,
        "reject" => {
            let reason = if req.reason.trim().is_empty() {
                "the contract was rejected in review".to_owned()
            } else {
                req.reason.trim().to_owned()
            };
            cancel(&mut tx, &mut row, &artist, &promoter, Actor::Admin, &reason, now).await?;
        }
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be approve or reject")),
    }
    platform::audit::Entry::new(principal.actor(), "booking.review", "booking", id.0)
        .after(json!({"decision": req.decision, "status": row.status}))
        .record(&mut tx, now)
        .await?;
    let view = contract_view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view)
}

/// The `booking.contract_deadline` job: a contract not signed by both sides within 48 hours is void and
/// its booking cancelled.
async fn expire(ctx: AppContext, id: BookingId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut row) = crate::bookings::repo::booking(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such booking"));
    };
    let ContractState { deadline, review_pending: pending, .. } = repo::contract_state(&mut tx, id).await?;
    if row.status != BookingStatus::Contracting || pending || deadline.is_none_or(|d| d > now) {
        return Ok(());
    }
    let artist = crate::profiles::repo::artist(&mut tx, row.artist_id, false)
        .await?
        .ok_or_else(|| JobFailure::permanent("no artist"))?;
    let promoter = crate::profiles::repo::promoter(&mut tx, row.promoter_id)
        .await?
        .ok_or_else(|| JobFailure::permanent("no promoter"))?;
    cancel(&mut tx, &mut row, &artist, &promoter, Actor::System, "the contract was not signed within 48 hours", now)
        .await
        .map_err(|e| JobFailure::retry(format!("{e:?}")))?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "booking.contract_void", "booking", id.0)
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(EXPIRE, |ctx: AppContext, job: Job| async move {
        let id: BookingId = job.field("booking_id")?;
        expire(ctx, id).await
    });
}
