//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{StyleCardId, StyleCardStatus};

#[derive(Debug, Clone)]
pub struct CardRow {
    pub id: StyleCardId,
    pub title: String,
    pub deliverable_type: String,
    pub style_axis: String,
    pub colour_temperature: String,
    pub energy: i16,
    pub density: i16,
    pub formality: i16,
    pub colour_samples: Vec<String>,
    pub industries: Vec<String>,
    pub mood_keywords: Vec<String>,
    pub status: StyleCardStatus,
    pub sha256: Option<String>,
    pub media_type: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub size: Option<i64>,
    pub phash: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub struct NewCard<'a> {
    pub id: StyleCardId,
    pub title: &'a str,
    pub deliverable_type: &'a str,
    pub style_axis: &'a str,
    pub colour_temperature: &'a str,
    pub energy: i16,
    pub density: i16,
    pub formality: i16,
    pub colour_samples: &'a [String],
    pub industries: &'a [String],
    pub mood_keywords: &'a [String],
    pub created_by: Uuid,
}

pub async fn insert_card(conn: &mut PgConnection, card: &NewCard<'_>, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO task_style_cards (id, title, deliverable_type, style_axis, colour_temperature, energy, density,
                                       formality, colour_samples, industries, mood_keywords, status, created_by,
                                       created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', $12, $13, $13)",
        card.id as _,
        card.title,
        card.deliverable_type,
        card.style_axis,
        card.colour_temperature,
        card.energy,
        card.density,
        card.formality,
        card.colour_samples,
        card.industries,
        card.mood_keywords,
        card.created_by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One card, locked for the transaction with `lock`.
pub async fn card(conn: &mut PgConnection, id: StyleCardId, lock: bool) -> sqlx::Result<Option<CardRow>> {
    if lock {
        sqlx::query_scalar!("SELECT id FROM task_style_cards WHERE id = $1 FOR UPDATE", id as _)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query_as!(
        CardRow,
        r#"SELECT id AS "id: StyleCardId", title, deliverable_type, style_axis, colour_temperature, energy, density,
                  formality, colour_samples, industries, mood_keywords, status AS "status: StyleCardStatus", sha256,
                  media_type, width, height, size, phash, created_at
           FROM task_style_cards WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// The library's filters, each optional.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub status: Option<StyleCardStatus>,
    pub deliverable_type: Option<&'a str>,
    pub style_axis: Option<&'a str>,
    pub colour_temperature: Option<&'a str>,
    pub industry: Option<&'a str>,
    pub mood: Option<&'a str>,
    pub energy: (i16, i16),
    pub density: (i16, i16),
    pub formality: (i16, i16),
}

/// Cards that pass the filter, newest first.
pub async fn cards(conn: &mut PgConnection, f: &Filter<'_>, limit: i64) -> sqlx::Result<Vec<CardRow>> {
    sqlx::query_as!(
        CardRow,
        r#"SELECT id AS "id: StyleCardId", title, deliverable_type, style_axis, colour_temperature, energy, density,
                  formality, colour_samples, industries, mood_keywords, status AS "status: StyleCardStatus", sha256,
                  media_type, width, height, size, phash, created_at
           FROM task_style_cards
           WHERE status = $1
             AND ($2::text IS NULL OR deliverable_type = $2)
             AND ($3::text IS NULL OR style_axis = $3)
             AND ($4::text IS NULL OR colour_temperature = $4)
             AND ($5::text IS NULL OR $5 = ANY (industries))
             AND ($6::text IS NULL OR lower($6) = ANY (SELECT lower(k) FROM unnest(mood_keywords) k))
             AND energy BETWEEN $7 AND $8 AND density BETWEEN $9 AND $10 AND formality BETWEEN $11 AND $12
           ORDER BY created_at DESC, id DESC
           LIMIT $13"#,
        f.status.unwrap_or(StyleCardStatus::Active) as _,
        f.deliverable_type,
        f.style_axis,
        f.colour_temperature,
        f.industry,
        f.mood,
        f.energy.0,
        f.energy.1,
        f.density.0,
        f.density.1,
        f.formality.0,
        f.formality.1,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The cards a company's briefs chose, one row per choice (a card chosen twice counts twice).
pub async fn chosen_by(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<CardRow>> {
    sqlx::query_as!(
        CardRow,
        r#"SELECT c.id AS "id: StyleCardId", c.title, c.deliverable_type, c.style_axis, c.colour_temperature, c.energy,
                  c.density, c.formality, c.colour_samples, c.industries, c.mood_keywords,
                  c.status AS "status: StyleCardStatus", c.sha256, c.media_type, c.width, c.height, c.size, c.phash,
                  c.created_at
           FROM task_brief_styles s JOIN task_style_cards c ON c.id = s.card_id
           WHERE s.org_id = $1"#,
        org
    )
    .fetch_all(conn)
    .await
}

/// Serialises image checks: two pictures uploaded at once cannot both pass as new.
pub async fn lock_images(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('task_style_cards.image'))").execute(conn).await?;
    Ok(())
}

/// The nearest other card whose picture is at most `bits` away from `phash`, and how far.
pub async fn same_picture(
    conn: &mut PgConnection,
    id: StyleCardId,
    phash: i64,
    bits: i32,
) -> sqlx::Result<Option<(StyleCardId, String, i32)>> {
    let row = sqlx::query!(
        r#"SELECT id AS "id: StyleCardId", title, d AS "distance!"
           FROM (SELECT id, title, length(replace(((phash # $2)::bit(64))::text, '0', '')) AS d
                 FROM task_style_cards WHERE phash IS NOT NULL AND id <> $1) c
           WHERE d <= $3
           ORDER BY d, id LIMIT 1"#,
        id as _,
        phash,
        bits
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.id, r.title, r.distance)))
}

pub struct Image<'a> {
    pub sha256: &'a str,
    pub media_type: &'a str,
    pub width: i32,
    pub height: i32,
    pub size: i64,
    pub phash: i64,
}

/// Sets the card's image; a draft becomes active.
pub async fn set_image(
    conn: &mut PgConnection,
    id: StyleCardId,
    image: &Image<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE task_style_cards
         SET sha256 = $2, media_type = $3, width = $4, height = $5, size = $6, phash = $7,
             status = CASE WHEN status = 'draft' THEN 'active' ELSE status END, updated_at = $8
         WHERE id = $1",
        id as _,
        image.sha256,
        image.media_type,
        image.width,
        image.height,
        image.size,
        image.phash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_status(
    conn: &mut PgConnection,
    id: StyleCardId,
    status: StyleCardStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!("UPDATE task_style_cards SET status = $2, updated_at = $3 WHERE id = $1", id as _, status as _, now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Of `ids`, the active cards.
pub async fn active_among(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!("SELECT id FROM task_style_cards WHERE id = ANY ($1) AND status = 'active'", ids)
        .fetch_all(conn)
        .await
}
