//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::PartyId;

#[derive(Debug, Clone)]
pub struct SettingsRow {
    pub org_id: Uuid,
    pub dpid: Option<String>,
    pub gs1_prefix: Option<String>,
    pub last_item_reference: i64,
    pub updated_at: DateTime<Utc>,
}

pub async fn settings(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<SettingsRow>> {
    sqlx::query_as!(
        SettingsRow,
        "SELECT org_id, dpid, gs1_prefix, last_item_reference, updated_at FROM label_settings WHERE org_id = $1",
        org
    )
    .fetch_optional(conn)
    .await
}

/// Writes the label's DPID and prefix. A changed prefix starts its item references again from zero.
pub async fn put_settings(
    conn: &mut PgConnection,
    org: Uuid,
    dpid: Option<&str>,
    gs1_prefix: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO label_settings (org_id, dpid, gs1_prefix, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id) DO UPDATE SET dpid = EXCLUDED.dpid, gs1_prefix = EXCLUDED.gs1_prefix,
             last_item_reference = CASE WHEN label_settings.gs1_prefix IS DISTINCT FROM EXCLUDED.gs1_prefix
                                        THEN 0 ELSE label_settings.last_item_reference END,
             updated_at = EXCLUDED.updated_at",
        org,
        dpid,
        gs1_prefix,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The label's registrant codes, oldest first, with whether codes were assigned from each.
pub async fn registrants(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<(String, bool)>> {
    let rows = sqlx::query!(
        r#"SELECT r.code, EXISTS (SELECT 1 FROM isrc_sequences s WHERE s.registrant = r.code) AS "used!"
           FROM isrc_registrants r WHERE r.org_id = $1 ORDER BY r.created_at, r.code"#,
        org
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.used)).collect())
}

/// The label holding a registrant code, if any.
pub async fn registrant_owner(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("SELECT org_id FROM isrc_registrants WHERE code = $1", code).fetch_optional(conn).await
}

/// Adds a registrant code; one another label holds violates `isrc_registrants_pkey`.
pub async fn add_registrant(conn: &mut PgConnection, org: Uuid, code: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("INSERT INTO isrc_registrants (code, org_id, created_at) VALUES ($1, $2, $3)", code, org, now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn remove_registrant(conn: &mut PgConnection, org: Uuid, code: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM isrc_registrants WHERE org_id = $1 AND code = $2", org, code).execute(conn).await?;
    Ok(())
}

/// The next designation number of `registrant` in `year` (two digits): one statement, so concurrent
/// assignments each get their own number. Fails on the `last_number` check beyond 99,999.
pub async fn next_isrc_number(conn: &mut PgConnection, registrant: &str, year: i32) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "INSERT INTO isrc_sequences (registrant, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (registrant, year) DO UPDATE SET last_number = isrc_sequences.last_number + 1
         RETURNING last_number",
        registrant,
        year
    )
    .fetch_one(conn)
    .await
}

/// The next item reference of the label's prefix (the row stays locked until commit).
pub async fn next_item_reference(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<(String, i64)>> {
    let row = sqlx::query!(
        r#"UPDATE label_settings SET last_item_reference = last_item_reference + 1
           WHERE org_id = $1 AND gs1_prefix IS NOT NULL RETURNING gs1_prefix AS "prefix!", last_item_reference"#,
        org
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.prefix, r.last_item_reference)))
}

/// Takes the lowest free code of the label's pool; concurrent takers skip each other's rows.
pub async fn take_from_pool(conn: &mut PgConnection, org: Uuid, now: DateTime<Utc>) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "UPDATE upc_pool SET taken_at = $2
         WHERE lpad(code, 13, '0') = (SELECT lpad(code, 13, '0') FROM upc_pool WHERE org_id = $1 AND taken_at IS NULL
                                      ORDER BY code LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING code",
        org,
        now
    )
    .fetch_optional(conn)
    .await
}

/// Adds codes to the label's pool; a code in any pool already violates `upc_pool_code_key`.
pub async fn add_to_pool(
    conn: &mut PgConnection,
    org: Uuid,
    codes: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO upc_pool (code, org_id, imported_at) SELECT code, $1, $3 FROM unnest($2::text[]) AS c (code)",
        org,
        codes,
        now
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Free and taken codes of the label's pool.
pub async fn pool_counts(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE taken_at IS NULL) AS "free!", count(*) FILTER (WHERE taken_at IS NOT NULL) AS "taken!"
           FROM upc_pool WHERE org_id = $1"#,
        org
    )
    .fetch_one(conn)
    .await?;
    Ok((row.free, row.taken))
}

/// Whether a release holds the UPC already (in either of its forms).
pub async fn upc_in_use(conn: &mut PgConnection, code: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM releases WHERE lpad(upc, 13, '0') = lpad($1, 13, '0')) AS "used!""#,
        code
    )
    .fetch_one(conn)
    .await
}

pub async fn isrc_in_use(conn: &mut PgConnection, code: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM tracks WHERE isrc = $1) AS "used!""#, code)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone)]
pub struct PartyRow {
    pub id: PartyId,
    pub org_id: Uuid,
    pub name: String,
    pub roster: bool,
    pub isni: Option<String>,
    pub ipi: Option<String>,
    pub artist_profile_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert_party(conn: &mut PgConnection, p: &PartyRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO catalog_parties (id, org_id, name, roster, isni, ipi, artist_profile_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        p.id as _,
        p.org_id,
        p.name,
        p.roster,
        p.isni,
        p.ipi,
        p.artist_profile_id,
        p.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_party(conn: &mut PgConnection, p: &PartyRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE catalog_parties SET name = $2, roster = $3, isni = $4, ipi = $5, artist_profile_id = $6, updated_at = $7
         WHERE id = $1",
        p.id as _,
        p.name,
        p.roster,
        p.isni,
        p.ipi,
        p.artist_profile_id,
        p.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn party(conn: &mut PgConnection, id: PartyId) -> sqlx::Result<Option<PartyRow>> {
    sqlx::query_as!(
        PartyRow,
        r#"SELECT id AS "id: PartyId", org_id, name, roster, isni, ipi, artist_profile_id, created_at, updated_at
           FROM catalog_parties WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// The label's parties by name, after `after` (a name), `roster` only when asked.
pub async fn parties_of(
    conn: &mut PgConnection,
    org: Uuid,
    roster_only: bool,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<PartyRow>> {
    sqlx::query_as!(
        PartyRow,
        r#"SELECT id AS "id: PartyId", org_id, name, roster, isni, ipi, artist_profile_id, created_at, updated_at
           FROM catalog_parties
           WHERE org_id = $1 AND (NOT $2 OR roster) AND ($3::text IS NULL OR lower(name) > lower($3))
           ORDER BY lower(name) LIMIT $4"#,
        org,
        roster_only,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Whether codes can be assigned to a release of a label with this lineage: a UPC (free pool codes
/// or a prefix) and ISRCs (a registrant code).
pub async fn code_sources(conn: &mut PgConnection, orgs: &[Uuid]) -> sqlx::Result<(bool, bool)> {
    let row = sqlx::query!(
        r#"SELECT (EXISTS (SELECT 1 FROM upc_pool WHERE org_id = ANY($1) AND taken_at IS NULL)
                   OR EXISTS (SELECT 1 FROM label_settings WHERE org_id = ANY($1) AND gs1_prefix IS NOT NULL)) AS "upc!",
                  EXISTS (SELECT 1 FROM isrc_registrants WHERE org_id = ANY($1)) AS "isrc!""#,
        orgs
    )
    .fetch_one(conn)
    .await?;
    Ok((row.upc, row.isrc))
}
