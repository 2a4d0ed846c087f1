//! Rights claims: made by the label, verified or rejected by staff, expired by timer. Every change
//! recomputes the release's conflicts under the release's lock, so that claims added at the same time
//! are judged together; a conflicted territory is left out of the deals of every message until staff
//! resolve it, and a conflict everywhere stops delivery.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use identity::auth::Principal;
use platform::error::FieldError;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::conflict::{self, Claim};
use super::dto::{ClaimRequest, ClaimReview, RightsClaim, RightsConflict, RightsOverview};
use super::repo::{self, ClaimRow, ClaimStatus, RightType};
use crate::error::CatalogError;
use crate::fields;
use crate::labels::service::{CATALOG_REVIEW, manages};
use crate::model::{ReleaseId, TrackId};
use crate::releases::repo as releases;
use crate::releases::service::actor_for;
use crate::state::Actor;

pub const EXPIRE: JobKind = JobKind::new("catalog.rights_expire").max_attempts(10);

pub fn register(registry: &mut Registry) {
    registry.register(EXPIRE, |ctx: AppContext, job: Job| async move { expire(ctx, job.field("claim_id")?).await });
}

/// The release's conflicts among claims that count (pending and verified), right by right.
fn conflicts_of(claims: &[ClaimRow]) -> Vec<RightsConflict> {
    let mut groups: BTreeMap<(Option<Uuid>, &'static str), Vec<Claim<Uuid>>> = BTreeMap::new();
    for c in claims.iter().filter(|c| matches!(c.status, ClaimStatus::Pending | ClaimStatus::Verified)) {
        groups.entry((c.track_id.map(|t| t.0), c.right_type.as_str())).or_default().push(Claim {
            key: c.id,
            share_bp: c.share_bp,
            territories: c.territories.clone(),
            starts_on: c.starts_on,
            ends_on: c.ends_on,
        });
    }
    let mut out = Vec::new();
    for ((track, right), group) in groups {
        for found in conflict::conflicts(&group) {
            out.push(RightsConflict {
                right_type: right.to_owned(),
                track_id: track.map(TrackId),
                territory: found.territory,
                from: found.from,
                total_bp: found.total_bp,
                claim_ids: found.claims,
            });
        }
    }
    out
}

/// Recomputes and stores the release's conflict flags (the release is locked by the caller).
async fn reflag(
    conn: &mut PgConnection,
    release: ReleaseId,
    now: DateTime<Utc>,
) -> Result<Vec<RightsConflict>, ApiError> {
    let claims = repo::of_release(conn, release).await?;
    let found = conflicts_of(&claims);
    let mut ids: Vec<Uuid> = found.iter().flat_map(|c| c.claim_ids.iter().copied()).collect();
    ids.sort();
    ids.dedup();
    repo::flag(conn, release, &ids, now).await?;
    Ok(found)
}

/// Claims with their documents.
async fn with_documents(conn: &mut PgConnection, claims: Vec<ClaimRow>) -> sqlx::Result<Vec<RightsClaim>> {
    let ids: Vec<Uuid> = claims.iter().map(|c| c.id).collect();
    let mut docs = repo::documents_of(conn, &ids).await?;
    Ok(claims
        .into_iter()
        .map(|c| {
            let (mine, rest): (Vec<_>, Vec<_>) = docs.drain(..).partition(|d| d.claim_id == c.id);
            docs = rest;
            RightsClaim::new(c, mine)
        })
        .collect())
}

async fn overview(conn: &mut PgConnection, release: ReleaseId) -> Result<RightsOverview, ApiError> {
    let claims = repo::of_release(conn, release).await?;
    let conflicts = conflicts_of(&claims);
    Ok(RightsOverview { claims: with_documents(conn, claims).await?, conflicts })
}

/// Territories where delivery is blocked on `day`: those in a conflict that has begun and not ended,
/// and whether one blocks every territory.
pub(crate) async fn blocked(
    conn: &mut PgConnection,
    release: ReleaseId,
    day: NaiveDate,
) -> sqlx::Result<(bool, Vec<String>)> {
    let claims = repo::of_release(conn, release).await?;
    let live: Vec<ClaimRow> = claims.into_iter().filter(|c| c.ends_on.is_none_or(|end| day < end)).collect();
    let found = conflicts_of(&live);
    let everywhere = found.iter().any(|c| c.territory.is_none());
    let mut territories: Vec<String> = found.into_iter().filter_map(|c| c.territory).collect();
    territories.sort();
    territories.dedup();
    Ok((everywhere, territories))
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    release: ReleaseId,
    req: ClaimRequest,
) -> Result<RightsClaim, ApiError> {
    let now = ctx.clock.now();
    let mut errors = Vec::new();
    let right_type = RightType::parse(req.right_type.trim());
    if right_type.is_none() {
        errors.push(FieldError::new("right_type", "invalid_value", "must be master, publishing, sync or performance"));
    }
    let mut holder = String::new();
    fields::required("holder", Some(&req.holder), &mut holder, 200, &mut errors);
    if !(1..=conflict::WHOLE_BP).contains(&req.share_bp) {
        errors.push(FieldError::new("share_bp", "out_of_range", "must be 1 to 10,000 basis points (0.01% to 100%)"));
    }
    let territories = fields::territories("territories", &req.territories, &mut errors);
    if req.ends_on.is_some_and(|end| end <= req.starts_on) {
        errors.push(FieldError::new("ends_on", "before_start", "must be after starts_on"));
    }
    let mut tx = ctx.db.begin().await?;
    // One change of a release's claims at a time: concurrent claims are judged together.
    let row = releases::lock(&mut tx, release).await?.ok_or(CatalogError::NotFound("release"))?;
    if !manages(&mut tx, principal, row.org_id).await? {
        actor_for(&mut tx, principal, &row).await?;
        return Err(identity::error::IdentityError::Forbidden("catalog.manage".into()).into());
    }
    if let Some(track) = req.track_id
        && !crate::tracks::repo::track_list(&mut tx, release).await?.iter().any(|l| l.track.id == track)
    {
        errors.push(FieldError::new("track_id", "not_found", "is not a track of the release"));
    }
    if let Some(party) = req.holder_party_id {
        let lineage = identity::service::organizations::lineage(&mut tx, identity::model::OrgId(row.org_id)).await?;
        let orgs: Vec<Uuid> = lineage.iter().map(|o| o.id.0).collect();
        if crate::tracks::repo::parties_of_labels(&mut tx, &[party.0], &orgs).await?.is_empty() {
            errors.push(FieldError::new(
                "holder_party_id",
                "not_found",
                "is not an artist or contributor of the label",
            ));
        }
    }
    let Some(right_type) = right_type.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let claim = ClaimRow {
        id: platform::ids::new_id(),
        release_id: release,
        track_id: req.track_id,
        right_type,
        holder,
        holder_party_id: req.holder_party_id,
        share_bp: req.share_bp,
        territories,
        starts_on: req.starts_on,
        ends_on: req.ends_on,
        status: ClaimStatus::Pending,
        conflicted: false,
        review_note: None,
        created_by: principal.user_id.0,
        reviewed_at: None,
        created_at: now,
        updated_at: now,
    };
    repo::insert(&mut tx, &claim).await?;
    if let Some(end) = claim.ends_on.and_then(|d| d.and_hms_opt(0, 0, 0)) {
        jobs::enqueue(&mut tx, NewJob::new(EXPIRE, json!({"claim_id": claim.id})).at(end.and_utc()), now).await?;
    }
    let found = reflag(&mut tx, release, now).await?;
    platform::audit::Entry::new(principal.actor(), "rights.claim", "rights_claim", claim.id)
        .organization(row.org_id)
        .after(json!({"release": release, "right": right_type, "holder": claim.holder, "share_bp": claim.share_bp,
                      "territories": claim.territories, "conflicts": found.len()}))
        .record(&mut tx, now)
        .await?;
    let answer = repo::claim(&mut tx, claim.id).await?.ok_or(CatalogError::NotFound("claim"))?;
    let answer = with_documents(&mut tx, vec![answer]).await?.remove(0);
    tx.commit().await?;
    Ok(answer)
}

pub async fn list(ctx: &AppContext, principal: &Principal, release: ReleaseId) -> Result<RightsOverview, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = releases::release(&mut conn, release).await?.ok_or(CatalogError::NotFound("release"))?;
    actor_for(&mut conn, principal, &row).await?;
    overview(&mut conn, release).await
}

/// Staff verify a claim or reject it (a rejected claim no longer counts, which resolves its conflicts).
pub async fn review(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    req: ClaimReview,
) -> Result<RightsOverview, ApiError> {
    let now = ctx.clock.now();
    let status = match req.decision.as_str() {
        "verify" => ClaimStatus::Verified,
        "reject" => ClaimStatus::Rejected,
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be verify or reject")),
    };
    let mut note = None;
    let mut errors = Vec::new();
    fields::optional("note", req.note.as_deref(), &mut note, 2000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut conn = ctx.db.acquire().await?;
    let claim = repo::claim(&mut conn, id).await?.ok_or(CatalogError::NotFound("claim"))?;
    drop(conn);
    let mut tx = ctx.db.begin().await?;
    let row = releases::lock(&mut tx, claim.release_id).await?.ok_or(CatalogError::NotFound("claim"))?;
    if actor_for(&mut tx, principal, &row).await? != Actor::Staff {
        return Err(identity::error::IdentityError::Forbidden(CATALOG_REVIEW.into()).into());
    }
    let claim = repo::claim(&mut tx, id).await?.ok_or(CatalogError::NotFound("claim"))?;
    if matches!(claim.status, ClaimStatus::Expired) {
        return Err(ApiError::new(platform::PlatformCode::InvalidTransition, "The claim has expired."));
    }
    repo::set_status(&mut tx, id, status, Some(principal.user_id.0), note.as_deref(), now).await?;
    reflag(&mut tx, claim.release_id, now).await?;
    platform::audit::Entry::new(principal.actor(), "rights.review", "rights_claim", id)
        .organization(row.org_id)
        .after(json!({"status": status, "note": note}))
        .record(&mut tx, now)
        .await?;
    let answer = overview(&mut tx, claim.release_id).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The timer at a claim's end: it no longer counts.
async fn expire(ctx: AppContext, id: Uuid) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let Some(claim) = repo::claim(&mut conn, id).await? else { return Ok(()) };
    drop(conn);
    let mut tx = ctx.db.begin().await?;
    releases::lock(&mut tx, claim.release_id).await?;
    if matches!(claim.status, ClaimStatus::Pending | ClaimStatus::Verified) {
        repo::set_status(&mut tx, id, ClaimStatus::Expired, None, None, now).await?;
        reflag(&mut tx, claim.release_id, now).await.map_err(|e| JobFailure::retry(e.detail().to_owned()))?;
    }
    tx.commit().await?;
    Ok(())
}

/// The claim and whether the caller manages its label (else staff, else not found).
async fn claim_for(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<(ClaimRow, Uuid, bool), ApiError> {
    let claim = repo::claim(conn, id).await?.ok_or(CatalogError::NotFound("claim"))?;
    let row = releases::release(conn, claim.release_id).await?.ok_or(CatalogError::NotFound("claim"))?;
    actor_for(conn, principal, &row).await.map_err(|_| CatalogError::NotFound("claim"))?;
    let manager = manages(conn, principal, row.org_id).await?;
    Ok((claim, row.org_id, manager))
}

/// The label attaches a document (a contract, a registration) to its claim: a PDF, JPEG or PNG of up to
/// 50 MB, checked by its content and kept once by content.
pub async fn upload_document(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    body: axum::body::Body,
    file_name: Option<String>,
) -> Result<RightsClaim, ApiError> {
    {
        let mut conn = ctx.db.acquire().await?;
        if !claim_for(&mut conn, principal, id).await?.2 {
            return Err(identity::error::IdentityError::Forbidden("catalog.manage".into()).into());
        }
    }
    let file_name = file_name.map(|n| n.trim().chars().take(255).collect::<String>()).filter(|n| !n.is_empty());
    let (kept, media_type) = crate::files::receive_checked(
        ctx,
        principal,
        body,
        "document",
        super::document::MAX_BYTES,
        super::document::check,
    )
    .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (claim, org, _) = claim_for(&mut tx, principal, id).await?;
    platform::storage::record(&mut tx, &kept, media_type, now).await?;
    let doc = repo::DocumentRow {
        claim_id: id,
        sha256: kept.sha256.clone(),
        size: kept.size as i64,
        md5: kept.md5().map_err(ApiError::internal)?.to_owned(),
        media_type: media_type.to_owned(),
        file_name,
        uploaded_at: now,
    };
    repo::add_document(&mut tx, &doc, principal.user_id.0).await?;
    platform::audit::Entry::new(principal.actor(), "rights.document", "rights_claim", id)
        .organization(org)
        .after(json!({"sha256": kept.sha256, "size": kept.size, "media_type": media_type}))
        .record(&mut tx, now)
        .await?;
    let answer = with_documents(&mut tx, vec![claim]).await?.remove(0);
    tx.commit().await?;
    Ok(answer)
}

/// A claim's document, for its label's staff and review staff.
pub async fn download_document(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    sha256: &str,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    claim_for(&mut conn, principal, id).await?;
    let doc = repo::documents_of(&mut conn, &[id])
        .await?
        .into_iter()
        .find(|d| d.sha256 == sha256)
        .ok_or(CatalogError::NotFound("document"))?;
    drop(conn);
    let media_type: &'static str = match doc.media_type.as_str() {
        "application/pdf" => "application/pdf",
        "image/png" => "image/png",
        _ => "image/jpeg",
    };
    let name = doc.file_name.clone().unwrap_or_else(|| sha256.to_owned());
    platform::storage::file_response(ctx, &doc.sha256, media_type, doc.size, &name, range).await
}
