//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{PartyId, ReleaseId, TrackId};

platform::text_enum! {
    /// Which right a claim is on.
    pub enum RightType { Master = "master", Publishing = "publishing", Sync = "sync", Performance = "performance" }
}

platform::text_enum! {
    /// Where a claim stands: pending and verified claims count; rejected and expired ones do not.
    pub enum ClaimStatus { Pending = "pending", Verified = "verified", Rejected = "rejected", Expired = "expired" }
}

#[derive(Debug, Clone)]
pub struct ClaimRow {
    pub id: Uuid,
    pub release_id: ReleaseId,
    pub track_id: Option<TrackId>,
    pub right_type: RightType,
    pub holder: String,
    pub holder_party_id: Option<PartyId>,
    pub share_bp: i32,
    pub territories: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub status: ClaimStatus,
    pub conflicted: bool,
    pub review_note: Option<String>,
    pub created_by: Uuid,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, c: &ClaimRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO rights_claims (id, release_id, track_id, right_type, holder, holder_party_id, share_bp, territories,
                                    starts_on, ends_on, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        c.id,
        c.release_id as _,
        c.track_id as _,
        c.right_type as _,
        c.holder,
        c.holder_party_id as _,
        c.share_bp,
        &c.territories,
        c.starts_on,
        c.ends_on,
        c.status as _,
        c.created_by,
        c.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn claim(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ClaimRow>> {
    sqlx::query_as!(
        ClaimRow,
        r#"SELECT id, release_id AS "release_id: ReleaseId", track_id AS "track_id: TrackId",
                  right_type AS "right_type: RightType", holder, holder_party_id AS "holder_party_id: PartyId",
                  share_bp, territories, starts_on, ends_on, status AS "status: ClaimStatus", conflicted, review_note,
                  created_by, reviewed_at, created_at, updated_at
           FROM rights_claims WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Every claim on the release and its tracks, oldest first.
pub async fn of_release(conn: &mut PgConnection, release: ReleaseId) -> sqlx::Result<Vec<ClaimRow>> {
    sqlx::query_as!(
        ClaimRow,
        r#"SELECT id, release_id AS "release_id: ReleaseId", track_id AS "track_id: TrackId",
                  right_type AS "right_type: RightType", holder, holder_party_id AS "holder_party_id: PartyId",
                  share_bp, territories, starts_on, ends_on, status AS "status: ClaimStatus", conflicted, review_note,
                  created_by, reviewed_at, created_at, updated_at
           FROM rights_claims WHERE release_id = $1 ORDER BY created_at, id"#,
        release as _
    )
    .fetch_all(conn)
    .await
}

pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: ClaimStatus,
    reviewer: Option<Uuid>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE rights_claims SET status = $2, reviewed_by = COALESCE($3, reviewed_by),
                reviewed_at = CASE WHEN $3::uuid IS NULL THEN reviewed_at ELSE $5 END,
                review_note = COALESCE($4, review_note), updated_at = $5
         WHERE id = $1",
        id,
        status as _,
        reviewer,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the conflict flag of the release's claims: on exactly those in `conflicted`.
pub async fn flag(
    conn: &mut PgConnection,
    release: ReleaseId,
    conflicted: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE rights_claims SET conflicted = (id = ANY($2)), updated_at = $3
         WHERE release_id = $1 AND conflicted IS DISTINCT FROM (id = ANY($2))",
        release as _,
        conflicted,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A document backing a claim.
#[derive(Debug, Clone)]
pub struct DocumentRow {
    pub claim_id: Uuid,
    pub sha256: String,
    pub size: i64,
    pub md5: String,
    pub media_type: String,
    pub file_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

pub async fn add_document(conn: &mut PgConnection, d: &DocumentRow, by: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO rights_documents (claim_id, sha256, size, md5, media_type, file_name, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (claim_id, sha256) DO UPDATE SET file_name = EXCLUDED.file_name, uploaded_at = EXCLUDED.uploaded_at",
        d.claim_id,
        d.sha256,
        d.size,
        d.md5,
        d.media_type,
        d.file_name,
        by,
        d.uploaded_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The documents of the given claims, oldest first.
pub async fn documents_of(conn: &mut PgConnection, claims: &[Uuid]) -> sqlx::Result<Vec<DocumentRow>> {
    sqlx::query_as!(
        DocumentRow,
        "SELECT claim_id, sha256, size, md5, media_type, file_name, uploaded_at FROM rights_documents
         WHERE claim_id = ANY($1) ORDER BY uploaded_at, sha256",
        claims
    )
    .fetch_all(conn)
    .await
}
