//! Contracts: a version generated at agreement (and at each side's one edit request), signed in order,
//! organizer then artist, within 48 hours, each signature naming the SHA-256 of the version signed;
//! then an admin's review when the setting is on, and the booking is confirmed. An unsigned contract
//! expires with its booking.

use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use platform::http::ClientMeta;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use utoipa::ToSchema;

use super::bookings::{Loaded, cancel, load, notice_data, notify, side_name};
use super::is_admin;
use crate::BookingSettings;
use crate::contract::{self, Document};
use crate::dto::Agreement;
use crate::error::BookingCode;
use crate::error::BookingError;
use crate::model::BookingId;
use crate::repo::{self, ArtistRow, BookingRow, PromoterRow};
use crate::state::{self, Actor, BookingStatus};

pub const EXPIRE: JobKind = JobKind::new("booking.contract_deadline").max_attempts(10);
/// How long both sides have to sign a version.
pub const SIGN_WITHIN: Duration = Duration::hours(48);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Signature {
    pub version: i32,
    /// `organizer` or `artist`.
    pub side: String,
    pub user_id: uuid::Uuid,
    /// The SHA-256 (hex) of the version signed.
    #[sqlx(skip)]
    pub sha256: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub sha256_bytes: Vec<u8>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub signed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractView {
    pub booking_id: BookingId,
    pub version: i32,
    pub document: Document,
    /// The canonical text: what the hash covers and the PDF shows.
    pub text: String,
    pub sha256: String,
    pub deadline_at: Option<DateTime<Utc>>,
    /// Signatures of every version, oldest first.
    pub signatures: Vec<Signature>,
    /// Both sides signed the current version; an admin's review may still be pending.
    pub signed: bool,
    pub review_pending: bool,
    /// Which sides have used their one edit request.
    pub edits_used: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The SHA-256 (hex) of the version you read and sign.
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// The clause to add (each side may request one edit; both sign the new version).
    pub clause: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approve` (the booking is confirmed) or `reject` (it is cancelled).
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct ContractRow {
    version: i32,
    document: serde_json::Value,
    text: String,
    sha256: Vec<u8>,
}

async fn current(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<Option<ContractRow>> {
    sqlx::query_as(
        "SELECT version, document, text, sha256 FROM booking_contracts WHERE booking_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(booking)
    .fetch_optional(conn)
    .await
}

/// Writes a new version of the contract and gives both sides 48 hours to sign it.
pub(crate) async fn generate(
    conn: &mut PgConnection,
    row: &BookingRow,
    artist: &ArtistRow,
    promoter: &PromoterRow,
    agreement: &Agreement,
    edit: Option<(Actor, String)>,
    now: DateTime<Utc>,
) -> Result<i32, ApiError> {
    let previous = current(conn, row.id).await?;
    let version = previous.as_ref().map_or(1, |p| p.version + 1);
    let mut clauses: Vec<String> = previous
        .and_then(|p| serde_json::from_value::<Document>(p.document).ok())
        .map(|d| d.clauses)
        .unwrap_or_default();
    let edited_by = edit.as_ref().map(|(side, _)| side_name(*side));
    if let Some((_, clause)) = edit {
        clauses.push(clause);
    }
    let venue = match row.venue_id {
        Some(v) => repo::venue(conn, v).await?.map(|v| format!("{}, {}", v.name, v.city)),
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
    };
    let text = contract::text(&doc);
    let hash = contract::sha256(&text);
    sqlx::query!(
        r#"INSERT INTO booking_contracts (booking_id, version, document, text, sha256, edited_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
        row.id as _,
        version,
        serde_json::to_value(&doc).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?,
        &text,
        hash.as_slice(),
        edited_by,
        now
    )
    .execute(&mut *conn)
    .await?;
    let deadline = now + SIGN_WITHIN;
    sqlx::query!(
        r#"UPDATE bookings SET contract_version = $2, contract_deadline = $3 WHERE id = $1"#,
        row.id as _,
        version,
        deadline
    )
    .execute(&mut *conn)
    .await?;
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

async fn signatures(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<Vec<Signature>> {
    let mut rows: Vec<Signature> = sqlx::query_as(
        "SELECT version, side, user_id, sha256 AS sha256_bytes, ip, user_agent, signed_at FROM booking_signatures
         WHERE booking_id = $1 ORDER BY signed_at, version, side",
    )
    .bind(booking)
    .fetch_all(conn)
    .await?;
    for row in &mut rows {
        row.sha256 = platform::hex::encode(&row.sha256_bytes);
    }
    Ok(rows)
}

async fn contract_view(conn: &mut PgConnection, row: &BookingRow) -> Result<ContractView, ApiError> {
    let contract = current(conn, row.id).await?.ok_or(BookingError::NotFound("contract"))?;
    let (deadline, review_pending, organizer_edited, artist_edited): (Option<DateTime<Utc>>, bool, bool, bool) =
        sqlx::query_as(
            "SELECT contract_deadline, review_pending, organizer_edited, artist_edited FROM bookings WHERE id = $1",
        )
        .bind(row.id)
        .fetch_one(&mut *conn)
        .await?;
    let signatures = signatures(conn, row.id).await?;
    let signed = ["organizer", "artist"]
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
        signatures,
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
    if !matches!(side, Actor::Organizer | Actor::Artist) {
        return Err(ApiError::new(BookingCode::NotAParty, "Only the organizer and the artist sign."));
    }
    principal.require_verified()?;
    let contract = current(&mut tx, id).await?.ok_or(BookingError::NotFound("contract"))?;
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
    let signed = signatures(&mut tx, id).await?;
    let has = |s: &str| signed.iter().any(|x| x.version == contract.version && x.side == s);
    let me = side_name(side);
    if has(me) {
        return Err(ApiError::new(BookingCode::AlreadySigned, "Your side signed this version already."));
    }
    if side == Actor::Artist && !has("organizer") {
        return Err(ApiError::new(BookingCode::OrganizerSignsFirst, "The organizer signs first."));
    }
    sqlx::query!(
        r#"INSERT INTO booking_signatures (booking_id, version, side, user_id, sha256, ip, user_agent, signed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        id as _,
        contract.version,
        me,
        principal.user_id.0,
        &contract.sha256,
        meta.ip.as_deref(),
        meta.user_agent.as_deref(),
        now
    )
    .execute(&mut *tx)
    .await?;
    platform::audit::Entry::new(principal.actor(), "booking.sign", "booking", id.0)
        .after(json!({"version": contract.version, "side": me, "sha256": platform::hex::encode(&contract.sha256)}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    if side == Actor::Artist {
        jobs::cancel_unique(&mut tx, &format!("booking:{id}:contract"), now).await?;
        if settings.admin_review {
            sqlx::query!(r#"UPDATE bookings SET review_pending = true WHERE id = $1"#, id as _)
                .execute(&mut *tx)
                .await?;
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
    // One confirmation per artist at a time: two overlapping ones would otherwise deadlock in the
    // exclusion constraint's check instead of one being refused by it.
    sqlx::query!(
        r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#,
        format!("booking:artist:{}", row.artist_id)
    )
    .execute(&mut *conn)
    .await?;
    row.status = BookingStatus::Confirmed;
    row.updated_at = now;
    repo::update_booking(conn, row).await.map_err(BookingError::from)?;
    sqlx::query!(r#"UPDATE bookings SET review_pending = false WHERE id = $1"#, row.id as _)
        .execute(&mut *conn)
        .await?;
    for owner in [artist.owner(), promoter.owner()] {
        notify(conn, owner, "booking.confirmed", notice_data(artist, promoter, row, None, "EUR"), now).await?;
    }
    super::money::on_confirmed(conn, row, artist, promoter, now).await
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
    contracting(&row)?;
    let review_pending: bool = sqlx::query_scalar!(r#"SELECT review_pending FROM bookings WHERE id = $1"#, id as _)
        .fetch_one(&mut *tx)
        .await?;
    if review_pending {
        return Err(ApiError::new(BookingCode::ContractSigned, "Both sides signed; the contract waits for review."));
    }
    let column = match side {
        Actor::Organizer => "organizer_edited",
        Actor::Artist => "artist_edited",
        _ => return Err(ApiError::new(BookingCode::NotAParty, "Only the organizer and the artist edit.")),
    };
    let used = sqlx::query(&format!("UPDATE bookings SET {column} = true WHERE id = $1 AND NOT {column}"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if used.rows_affected() == 0 {
        return Err(ApiError::new(BookingCode::EditUsed, "Your side has used its one edit request."));
    }
    let agreement: Agreement = row
        .agreed
        .clone()
        .and_then(|a| serde_json::from_value(a).ok())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a contracting booking without an agreement")))?;
    let version = generate(&mut tx, &row, &artist, &promoter, &agreement, Some((side, clause.clone())), now).await?;
    platform::audit::Entry::new(principal.actor(), "booking.contract_edit", "booking", id.0)
        .after(json!({"version": version, "side": side_name(side), "clause": clause}))
        .record(&mut tx, now)
        .await?;
    let view = contract_view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(view)
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
    let pending: bool = sqlx::query_scalar!(r#"SELECT review_pending FROM bookings WHERE id = $1"#, id as _)
        .fetch_one(&mut *tx)
        .await?;
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
    let Some(mut row) = repo::booking(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such booking"));
    };
    let (deadline, pending): (Option<DateTime<Utc>>, bool) =
        sqlx::query_as("SELECT contract_deadline, review_pending FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if row.status != BookingStatus::Contracting || pending || deadline.is_none_or(|d| d > now) {
        return Ok(());
    }
    let artist =
        repo::artist(&mut tx, row.artist_id, false).await?.ok_or_else(|| JobFailure::permanent("no artist"))?;
    let promoter =
        repo::promoter(&mut tx, row.promoter_id).await?.ok_or_else(|| JobFailure::permanent("no promoter"))?;
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
