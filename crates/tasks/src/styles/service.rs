//! The library of style reference cards: staff add cards and their images (a picture the library has
//! already is refused by its perceptual hash), everyone signed in browses the active ones with filters,
//! and a company's task managers get suggestions ranked by what its briefs chose before.

use identity::auth::Principal;
use identity::party::Party;
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use uuid::Uuid;

use super::dto::{self, StyleCard};
use super::{phash, rank, repo};
use crate::error::{TasksCode, TasksError};
use crate::model::{StyleCardId, StyleCardStatus};

/// The largest image a card may have.
pub const MAX_IMAGE_BYTES: u64 = 25_000_000;

fn one_of(field: &str, value: &str, allowed: &[&str], errors: &mut Vec<FieldError>) {
    if !allowed.contains(&value) {
        errors.push(FieldError::new(field, "invalid_value", format!("must be one of {}", allowed.join(", "))));
    }
}

fn level(field: &str, value: i16, errors: &mut Vec<FieldError>) {
    if !(1..=5).contains(&value) {
        errors.push(FieldError::new(field, "out_of_range", "must be from 1 to 5"));
    }
}

/// A list of short words or phrases: each 1–60 characters once trimmed, at most `most` of them.
pub(crate) fn words(field: &str, values: &[String], most: usize, errors: &mut Vec<FieldError>) -> Vec<String> {
    if values.len() > most {
        errors.push(FieldError::new(field, "too_many", format!("at most {most}")));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let v = v.trim();
        if v.is_empty() || v.chars().count() > 60 {
            errors.push(FieldError::new(format!("{field}[{i}]"), "invalid_length", "must be 1 to 60 characters"));
        } else if out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            errors.push(FieldError::new(format!("{field}[{i}]"), "duplicate", "is listed twice"));
        } else {
            out.push(v.to_owned());
        }
    }
    out
}

/// Colours as `#RRGGBB`, written in lower case.
pub(crate) fn colours(field: &str, values: &[String], most: usize, errors: &mut Vec<FieldError>) -> Vec<String> {
    if values.len() > most {
        errors.push(FieldError::new(field, "too_many", format!("at most {most}")));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let ok = v.len() == 7 && v.starts_with('#') && v[1..].chars().all(|c| c.is_ascii_hexdigit());
        if ok {
            out.push(v.to_ascii_lowercase());
        } else {
            errors.push(FieldError::new(format!("{field}[{i}]"), "invalid_format", "must be a colour as #RRGGBB"));
        }
    }
    out
}

pub async fn create(ctx: &AppContext, principal: &Principal, req: &dto::NewStyleCard) -> Result<StyleCard, ApiError> {
    crate::require_staff(principal)?;
    let mut errors = Vec::new();
    let title = req.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new("title", "invalid_length", "must be 1 to 200 characters"));
    }
    one_of("deliverable_type", &req.deliverable_type, dto::DELIVERABLE_TYPES, &mut errors);
    one_of("style_axis", &req.style_axis, dto::STYLE_AXES, &mut errors);
    one_of("colour_temperature", &req.colour_temperature, dto::TEMPERATURES, &mut errors);
    level("energy", req.energy, &mut errors);
    level("density", req.density, &mut errors);
    level("formality", req.formality, &mut errors);
    let samples = colours("colour_samples", &req.colour_samples, 12, &mut errors);
    let industries = words("industries", &req.industries, 20, &mut errors);
    let mood = words("mood_keywords", &req.mood_keywords, 20, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let id = StyleCardId::new();
    let mut tx = ctx.db.begin().await?;
    let card = repo::NewCard {
        id,
        title,
        deliverable_type: &req.deliverable_type,
        style_axis: &req.style_axis,
        colour_temperature: &req.colour_temperature,
        energy: req.energy,
        density: req.density,
        formality: req.formality,
        colour_samples: &samples,
        industries: &industries,
        mood_keywords: &mood,
        created_by: principal.user_id.0,
    };
    repo::insert_card(&mut tx, &card, now).await?;
    platform::audit::Entry::new(principal.actor(), "style_card.create", "style_card", id.0)
        .after(json!({"title": title, "deliverable_type": req.deliverable_type, "style_axis": req.style_axis}))
        .record(&mut tx, now)
        .await?;
    let row = repo::card(&mut tx, id, false).await?.ok_or(TasksError::NotFound("style card"))?;
    tx.commit().await?;
    Ok(row.into())
}

/// Sets a card's image: decoded and hashed in staging; refused, with nothing kept, when it is not a
/// JPEG or PNG of 64 to 10,000 pixels a side, or when the library has the same picture already.
pub async fn upload_image(
    ctx: &AppContext,
    principal: &Principal,
    id: StyleCardId,
    body: axum::body::Body,
) -> Result<StyleCard, ApiError> {
    crate::require_staff(principal)?;
    {
        let mut conn = ctx.db.acquire().await?;
        let card = repo::card(&mut conn, id, false).await?.ok_or(TasksError::NotFound("style card"))?;
        if card.status == StyleCardStatus::Retired {
            return Err(ApiError::new(TasksCode::CardRetired, "The card is retired; its image cannot change."));
        }
    }
    let check = |path: &std::path::Path| {
        phash::of_file(path).map_err(|e| ApiError::invalid_field("image", "corrupt_file", e.0))
    };
    let (kept, picture) = platform::storage::receive_checked(
        ctx,
        principal.user_id.0,
        principal.client_ip.as_deref(),
        body,
        MAX_IMAGE_BYTES,
        platform::storage::Digests::Sha256,
        check,
    )
    .await?;
    let now = ctx.clock.now();
    let phash = picture.hash as i64;
    let mut tx = ctx.db.begin().await?;
    let card = repo::card(&mut tx, id, true).await?.ok_or(TasksError::NotFound("style card"))?;
    if card.status == StyleCardStatus::Retired {
        return Err(ApiError::new(TasksCode::CardRetired, "The card is retired; its image cannot change."));
    }
    repo::lock_images(&mut tx).await?;
    if let Some((other, title, distance)) =
        repo::same_picture(&mut tx, id, phash, phash::SAME_PICTURE_BITS as i32).await?
    {
        return Err(ApiError::new(
            TasksCode::DuplicateImage,
            format!("The library has this picture already: card {} ({title}) is {distance} of 64 bits away.", other.0),
        ));
    }
    let media_type = if picture.format == "png" { "image/png" } else { "image/jpeg" };
    platform::storage::record(&mut tx, &kept, media_type, now).await?;
    let image = repo::Image {
        sha256: &kept.sha256,
        media_type,
        width: picture.width as i32,
        height: picture.height as i32,
        size: kept.size as i64,
        phash,
    };
    repo::set_image(&mut tx, id, &image, now).await?;
    platform::audit::Entry::new(principal.actor(), "style_card.image", "style_card", id.0)
        .after(json!({"sha256": kept.sha256, "phash": format!("{:016x}", picture.hash)}))
        .record(&mut tx, now)
        .await?;
    let row = repo::card(&mut tx, id, false).await?.ok_or(TasksError::NotFound("style card"))?;
    tx.commit().await?;
    Ok(row.into())
}

/// Retires a card: it leaves the library and suggestions, and stays on the briefs that chose it.
pub async fn retire(ctx: &AppContext, principal: &Principal, id: StyleCardId) -> Result<StyleCard, ApiError> {
    crate::require_staff(principal)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    repo::card(&mut tx, id, true).await?.ok_or(TasksError::NotFound("style card"))?;
    repo::set_status(&mut tx, id, StyleCardStatus::Retired, now).await?;
    platform::audit::Entry::new(principal.actor(), "style_card.retire", "style_card", id.0)
        .record(&mut tx, now)
        .await?;
    let row = repo::card(&mut tx, id, false).await?.ok_or(TasksError::NotFound("style card"))?;
    tx.commit().await?;
    Ok(row.into())
}

/// A card's row, if the caller may see it: an active one for anyone signed in, any for staff.
async fn visible(ctx: &AppContext, principal: &Principal, id: StyleCardId) -> Result<repo::CardRow, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::card(&mut conn, id, false).await?.ok_or(TasksError::NotFound("style card"))?;
    if row.status != StyleCardStatus::Active && !crate::is_staff(principal) {
        return Err(TasksError::NotFound("style card").into());
    }
    Ok(row)
}

/// A card: an active one for anyone signed in, any for staff.
pub async fn get(ctx: &AppContext, principal: &Principal, id: StyleCardId) -> Result<StyleCard, ApiError> {
    Ok(visible(ctx, principal, id).await?.into())
}

/// A card's image.
pub async fn image(
    ctx: &AppContext,
    principal: &Principal,
    id: StyleCardId,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let row = visible(ctx, principal, id).await?;
    let (Some(sha256), Some(media_type), Some(size)) = (row.sha256, row.media_type, row.size) else {
        return Err(TasksError::NotFound("image").into());
    };
    let extension = if media_type == "image/png" { "png" } else { "jpg" };
    let name = format!("style-{}.{extension}", id.0);
    platform::storage::file_response(ctx, &sha256, &media_type, size, &name, range).await
}

fn range(field: &str, min: Option<i16>, max: Option<i16>, errors: &mut Vec<FieldError>) -> (i16, i16) {
    let (lo, hi) = (min.unwrap_or(1), max.unwrap_or(5));
    if !(1..=5).contains(&lo) {
        errors.push(FieldError::new(format!("{field}_min"), "out_of_range", "must be from 1 to 5"));
    }
    if !(1..=5).contains(&hi) {
        errors.push(FieldError::new(format!("{field}_max"), "out_of_range", "must be from 1 to 5"));
    }
    if lo > hi {
        errors.push(FieldError::new(format!("{field}_max"), "before_from", "must not be below the minimum"));
    }
    (lo, hi)
}

fn limit(value: Option<u32>, default: u32, most: u32) -> Result<i64, ApiError> {
    match value.unwrap_or(default) {
        n if (1..=most).contains(&n) => Ok(i64::from(n)),
        _ => Err(ApiError::invalid_field("limit", "out_of_range", format!("must be from 1 to {most}"))),
    }
}

/// The library, filtered, newest first.
pub async fn list(ctx: &AppContext, principal: &Principal, q: &dto::StyleQuery) -> Result<Vec<StyleCard>, ApiError> {
    let mut errors = Vec::new();
    let status = match q.status.as_deref() {
        None => StyleCardStatus::Active,
        Some(s) => match StyleCardStatus::parse(s) {
            Some(status) if status == StyleCardStatus::Active || crate::is_staff(principal) => status,
            Some(_) => {
                return Err(ApiError::invalid_field("status", "staff_only", "only staff see drafts and retired cards"));
            }
            None => return Err(ApiError::invalid_field("status", "invalid_value", "must be draft, active or retired")),
        },
    };
    for (field, value, allowed) in [
        ("deliverable_type", &q.deliverable_type, dto::DELIVERABLE_TYPES),
        ("style_axis", &q.style_axis, dto::STYLE_AXES),
        ("colour_temperature", &q.colour_temperature, dto::TEMPERATURES),
    ] {
        if let Some(value) = value {
            one_of(field, value, allowed, &mut errors);
        }
    }
    let filter = repo::Filter {
        status: Some(status),
        deliverable_type: q.deliverable_type.as_deref(),
        style_axis: q.style_axis.as_deref(),
        colour_temperature: q.colour_temperature.as_deref(),
        industry: q.industry.as_deref(),
        mood: q.mood.as_deref(),
        energy: range("energy", q.energy_min, q.energy_max, &mut errors),
        density: range("density", q.density_min, q.density_max, &mut errors),
        formality: range("formality", q.formality_min, q.formality_max, &mut errors),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let limit = limit(q.limit, 50, 200)?;
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::cards(&mut conn, &filter, limit).await?.into_iter().map(StyleCard::from).collect())
}

fn traits(row: &repo::CardRow) -> rank::Traits {
    rank::Traits {
        id: row.id.0,
        deliverable_type: row.deliverable_type.clone(),
        style_axis: row.style_axis.clone(),
        colour_temperature: row.colour_temperature.clone(),
        energy: row.energy,
        density: row.density,
        formality: row.formality,
        mood_keywords: row.mood_keywords.clone(),
        created_at: row.created_at,
    }
}

/// Active cards ranked for a company by what its briefs chose before (see `rank.rs`).
pub async fn suggestions(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    q: &dto::SuggestionQuery,
) -> Result<dto::Suggestions, ApiError> {
    if let Some(kind) = &q.deliverable_type {
        let mut errors = Vec::new();
        one_of("deliverable_type", kind, dto::DELIVERABLE_TYPES, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
    }
    let limit = limit(q.limit, 12, 50)? as usize;
    let mut conn = ctx.db.acquire().await?;
    if !identity::party::may_act_for(&mut conn, principal, Party::Organization(org), crate::TASKS_MANAGE).await? {
        return Err(ApiError::not_found("No such organization."));
    }
    let history = repo::chosen_by(&mut conn, org).await?;
    let filter = repo::Filter {
        deliverable_type: q.deliverable_type.as_deref(),
        energy: (1, 5),
        density: (1, 5),
        formality: (1, 5),
        ..repo::Filter::default()
    };
    let leave_out: Vec<Uuid> = match q.brief_id {
        Some(brief) => crate::briefs::repo::styles_of(&mut conn, brief.into(), org).await?,
        None => Vec::new(),
    };
    let rows: Vec<repo::CardRow> =
        repo::cards(&mut conn, &filter, 2_000).await?.into_iter().filter(|r| !leave_out.contains(&r.id.0)).collect();
    drop(conn);
    let chosen: Vec<rank::Traits> = history.iter().map(traits).collect();
    let ranked = rank::rank(rows.iter().map(traits).collect(), &chosen);
    let mut by_id: std::collections::HashMap<Uuid, repo::CardRow> = rows.into_iter().map(|r| (r.id.0, r)).collect();
    let items = ranked
        .into_iter()
        .take(limit)
        .filter_map(|(t, score)| by_id.remove(&t.id).map(|row| dto::Suggestion { card: row.into(), score }))
        .collect();
    Ok(dto::Suggestions { earlier_choices: history.len(), items })
}
