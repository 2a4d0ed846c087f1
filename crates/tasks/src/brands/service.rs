//! A company's brand (name, colours, fonts, tone, do and don't, its logo and assets as files) and its
//! saved audiences. The company's task managers write them; staff, and freelancers working on or
//! offered one of the company's tasks, read them. Files (brand files and briefs' attachments) are
//! streamed into object storage, known by their first bytes, and kept once per content.

use chrono::Utc;
use identity::auth::Principal;
use identity::party::Party;
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{self, Audience, Brand, TaskFile};
use super::{repo, sniff};
use crate::error::{TasksCode, TasksError};
use crate::model::{AudienceId, BriefId, FilePurpose, TaskFileId};
use crate::styles::service::{colours, words};

/// The largest file a brand or a brief may have.
pub const MAX_FILE_BYTES: u64 = 200_000_000;

/// Whether the caller manages the company's tasks.
pub async fn manages(conn: &mut PgConnection, principal: &Principal, org: Uuid) -> Result<bool, ApiError> {
    identity::party::may_act_for(conn, principal, Party::Organization(org), crate::TASKS_MANAGE).await
}

/// Refuses, as if the company did not exist, a caller who does not manage its tasks.
pub(crate) async fn require_manager(conn: &mut PgConnection, principal: &Principal, org: Uuid) -> Result<(), ApiError> {
    if manages(conn, principal, org).await? { Ok(()) } else { Err(ApiError::not_found("No such organization.")) }
}

/// Whether the caller may read the company's brand and briefs: its task managers, staff, and
/// freelancers working on or offered one of its tasks (with `brief`: the task made from that brief).
pub(crate) async fn may_read(
    conn: &mut PgConnection,
    principal: &Principal,
    org: Uuid,
    brief: Option<BriefId>,
) -> Result<bool, ApiError> {
    Ok(manages(conn, principal, org).await?
        || crate::is_staff(principal)
        || repo::works_for(conn, principal.user_id.0, org, brief.map(|b| b.0)).await?)
}

fn text(field: &str, value: Option<&str>, most: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > most {
        errors.push(FieldError::new(field, "too_long", format!("at most {most} characters")));
    }
    Some(value.to_owned())
}

pub async fn brand(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<Brand, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    if !may_read(&mut conn, principal, org, None).await? {
        return Err(ApiError::not_found("No such organization."));
    }
    let row = repo::brand(&mut conn, org).await?;
    let files = repo::brand_files(&mut conn, org).await?;
    Ok(Brand::of(org, row, files))
}

pub async fn put_brand(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    input: &dto::BrandInput,
) -> Result<Brand, ApiError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 200 characters"));
    }
    let row = repo::BrandRow {
        name: name.to_owned(),
        colours: colours("colours", &input.colours, 24, &mut errors),
        fonts: words("fonts", &input.fonts, 12, &mut errors),
        tone: text("tone", input.tone.as_deref(), 2000, &mut errors),
        dos: phrases("dos", &input.dos, &mut errors),
        donts: phrases("donts", &input.donts, &mut errors),
        updated_at: ctx.clock.now(),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    repo::put_brand(&mut tx, org, &row, principal.user_id.0, now).await?;
    platform::audit::Entry::new(principal.actor(), "brand.update", "organization", org)
        .organization(org)
        .after(json!({"name": row.name, "colours": row.colours, "fonts": row.fonts}))
        .record(&mut tx, now)
        .await?;
    let files = repo::brand_files(&mut tx, org).await?;
    let brand = Brand::of(org, repo::brand(&mut tx, org).await?, files);
    tx.commit().await?;
    Ok(brand)
}

/// Short sentences (do and don't): each 1–300 characters, at most 30.
fn phrases(field: &str, values: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if values.len() > 30 {
        errors.push(FieldError::new(field, "too_many", "at most 30"));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let v = v.trim();
        if v.is_empty() || v.chars().count() > 300 {
            errors.push(FieldError::new(format!("{field}[{i}]"), "invalid_length", "must be 1 to 300 characters"));
        } else {
            out.push(v.to_owned());
        }
    }
    out
}

fn audience_facets(input: &dto::AudienceInput) -> Result<(String, [serde_json::Value; 4]), ApiError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 200 characters"));
    }
    let d = &input.demographics;
    for (field, age) in [("demographics.age_min", d.age_min), ("demographics.age_max", d.age_max)] {
        if age.is_some_and(|a| !(13..=100).contains(&a)) {
            errors.push(FieldError::new(field, "out_of_range", "must be from 13 to 100"));
        }
    }
    if let (Some(min), Some(max)) = (d.age_min, d.age_max)
        && min > max
    {
        errors.push(FieldError::new("demographics.age_max", "before_from", "must not be below age_min"));
    }
    let demographics = dto::Demographics {
        age_min: d.age_min,
        age_max: d.age_max,
        genders: words("demographics.genders", &d.genders, 20, &mut errors),
        locations: words("demographics.locations", &d.locations, 20, &mut errors),
        languages: words("demographics.languages", &d.languages, 20, &mut errors),
        income: text("demographics.income", d.income.as_deref(), 200, &mut errors),
        education: text("demographics.education", d.education.as_deref(), 200, &mut errors),
    };
    let f = &input.firmographics;
    let firmographics = dto::Firmographics {
        industries: words("firmographics.industries", &f.industries, 20, &mut errors),
        company_sizes: words("firmographics.company_sizes", &f.company_sizes, 20, &mut errors),
        roles: words("firmographics.roles", &f.roles, 20, &mut errors),
        regions: words("firmographics.regions", &f.regions, 20, &mut errors),
    };
    let p = &input.psychographics;
    let psychographics = dto::Psychographics {
        interests: words("psychographics.interests", &p.interests, 20, &mut errors),
        values: words("psychographics.values", &p.values, 20, &mut errors),
        lifestyles: words("psychographics.lifestyles", &p.lifestyles, 20, &mut errors),
        pain_points: words("psychographics.pain_points", &p.pain_points, 20, &mut errors),
    };
    let b = &input.behaviour;
    let behaviour = dto::Behaviour {
        channels: words("behaviour.channels", &b.channels, 20, &mut errors),
        purchase_habits: words("behaviour.purchase_habits", &b.purchase_habits, 20, &mut errors),
        devices: words("behaviour.devices", &b.devices, 20, &mut errors),
        brand_loyalty: text("behaviour.brand_loyalty", b.brand_loyalty.as_deref(), 200, &mut errors),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let json = |v: serde_json::Result<serde_json::Value>| v.map_err(|e| ApiError::internal(anyhow::anyhow!(e)));
    Ok((
        name.to_owned(),
        [
            json(serde_json::to_value(demographics))?,
            json(serde_json::to_value(firmographics))?,
            json(serde_json::to_value(psychographics))?,
            json(serde_json::to_value(behaviour))?,
        ],
    ))
}

pub async fn audiences(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<Vec<Audience>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    if !may_read(&mut conn, principal, org, None).await? {
        return Err(ApiError::not_found("No such organization."));
    }
    repo::audiences(&mut conn, org).await?.into_iter().map(Audience::try_from).collect()
}

/// Creates an audience (`id` absent) or replaces one of the company's.
pub async fn save_audience(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    id: Option<AudienceId>,
    input: &dto::AudienceInput,
) -> Result<Audience, ApiError> {
    let (name, [demographics, firmographics, psychographics, behaviour]) = audience_facets(input)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    let created_at = match id {
        Some(id) => match repo::audience(&mut tx, id).await? {
            Some(a) if a.org_id == org => a.created_at,
            _ => return Err(TasksError::NotFound("audience").into()),
        },
        None => now,
    };
    let id = id.unwrap_or_default();
    let row = repo::AudienceRow {
        id,
        org_id: org,
        name,
        demographics,
        firmographics,
        psychographics,
        behaviour,
        created_at,
        updated_at: now,
    };
    repo::put_audience(&mut tx, &row).await.map_err(TasksError::from)?;
    platform::audit::Entry::new(principal.actor(), "audience.save", "audience", id.0)
        .organization(org)
        .after(json!({"name": row.name}))
        .record(&mut tx, now)
        .await?;
    let row = repo::audience(&mut tx, id).await?.ok_or(TasksError::NotFound("audience"))?;
    let audience = Audience::try_from(row)?;
    tx.commit().await?;
    Ok(audience)
}

/// Deletes an audience no brief uses.
pub async fn delete_audience(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    id: AudienceId,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    match repo::audience(&mut tx, id).await? {
        Some(a) if a.org_id == org => {}
        _ => return Err(TasksError::NotFound("audience").into()),
    }
    repo::delete_audience(&mut tx, id).await.map_err(TasksError::from)?;
    platform::audit::Entry::new(principal.actor(), "audience.delete", "audience", id.0)
        .organization(org)
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A file's name: 1–200 characters, no control characters or slashes.
pub(crate) fn file_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field("name", "invalid_length", "must be 1 to 200 characters"));
    }
    if name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(ApiError::invalid_field(
            "name",
            "invalid_character",
            "must not hold control characters or slashes",
        ));
    }
    Ok(name.to_owned())
}

/// Receives a file into staging, learns its media type from its first bytes and keeps it in object
/// storage; the caller then records it ([`record_file`]) in its own transaction. A logo must be a PNG,
/// JPEG or SVG image.
pub(crate) async fn receive_file(
    ctx: &AppContext,
    principal: &Principal,
    body: axum::body::Body,
    purpose: FilePurpose,
) -> Result<(platform::storage::Kept, &'static str), ApiError> {
    let check = move |path: &std::path::Path| {
        let media_type = sniff::of_file(path).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
        if purpose == FilePurpose::BrandLogo && !matches!(media_type, "image/png" | "image/jpeg" | "image/svg+xml") {
            return Err(ApiError::invalid_field("file", "unsupported_format", "a logo is a PNG, JPEG or SVG image"));
        }
        Ok(media_type)
    };
    platform::storage::receive_checked(
        ctx,
        principal.user_id.0,
        principal.client_ip.as_deref(),
        body,
        MAX_FILE_BYTES,
        platform::storage::Digests::Sha256,
        check,
    )
    .await
}

/// What a new file is for: whose, why, under which name; a deliverable names its task and delivery
/// round (the caller holds the task's row lock, so that versions are counted one upload at a time).
pub(crate) struct FileFor {
    pub org: Uuid,
    pub purpose: FilePurpose,
    pub brief: Option<BriefId>,
    pub name: String,
    pub task: Option<(Uuid, i16)>,
}

/// Records a kept file.
pub(crate) async fn record_file(
    conn: &mut PgConnection,
    principal: &Principal,
    FileFor { org, purpose, brief, name, task }: FileFor,
    (kept, media_type): (platform::storage::Kept, &'static str),
    now: chrono::DateTime<Utc>,
) -> Result<repo::FileRow, ApiError> {
    platform::storage::record(conn, &kept, media_type, now).await?;
    let version = match task {
        Some((task, _)) => Some(repo::next_version(conn, task, &name).await?),
        None => None,
    };
    let row = repo::FileRow {
        id: TaskFileId::new(),
        org_id: org,
        purpose,
        brief_id: brief.map(|b| b.0),
        name,
        sha256: kept.sha256,
        size: kept.size as i64,
        media_type: media_type.to_owned(),
        uploaded_by: principal.user_id.0,
        created_at: now,
        task_id: task.map(|(t, _)| t),
        version,
        round: task.map(|(_, r)| r),
    };
    repo::insert_file(conn, &row).await.map_err(TasksError::from)?;
    platform::audit::Entry::new(principal.actor(), "task_file.upload", "task_file", row.id.0)
        .organization(org)
        .after(json!({"purpose": purpose.as_str(), "name": row.name, "sha256": row.sha256, "size": row.size,
                      "task": row.task_id, "version": row.version}))
        .record(conn, now)
        .await?;
    Ok(row)
}

/// Adds the brand's logo (replacing the one before) or an asset.
pub async fn upload_brand_file(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    q: &dto::BrandFileQuery,
    body: axum::body::Body,
) -> Result<TaskFile, ApiError> {
    let purpose = match q.kind.as_str() {
        "logo" => FilePurpose::BrandLogo,
        "asset" => FilePurpose::BrandAsset,
        _ => return Err(ApiError::invalid_field("kind", "invalid_value", "must be logo or asset")),
    };
    let name = file_name(&q.name)?;
    {
        let mut conn = ctx.db.acquire().await?;
        require_manager(&mut conn, principal, org).await?;
    }
    let received = receive_file(ctx, principal, body, purpose).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    if purpose == FilePurpose::BrandLogo {
        repo::delete_logo(&mut tx, org).await?;
    }
    let file_for = FileFor { org, purpose, brief: None, name, task: None };
    let row = record_file(&mut tx, principal, file_for, received, now).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// A file the caller may read: the company's task managers, staff, and freelancers working on its
/// tasks (a brief's attachment: on the task made from that brief).
async fn readable_file(
    conn: &mut PgConnection,
    principal: &Principal,
    id: TaskFileId,
) -> Result<repo::FileRow, ApiError> {
    let row = repo::file(conn, id).await?.ok_or(TasksError::NotFound("file"))?;
    if !may_read(conn, principal, row.org_id, row.brief_id.map(BriefId)).await? {
        return Err(TasksError::NotFound("file").into());
    }
    Ok(row)
}

pub async fn download(
    ctx: &AppContext,
    principal: &Principal,
    id: TaskFileId,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = readable_file(&mut conn, principal, id).await?;
    drop(conn);
    platform::storage::file_response(ctx, &row.sha256, &row.media_type, row.size, &row.name, range).await
}

/// Deletes a brand file, or an attachment of a brief not yet made into a task.
pub async fn delete_file(ctx: &AppContext, principal: &Principal, id: TaskFileId) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = repo::file(&mut tx, id).await?.ok_or(TasksError::NotFound("file"))?;
    if let Some(task) = row.task_id {
        // A deliverable: its task's parties learn that it stays; nobody else learns it exists.
        if !crate::delivery::service::is_party(&mut tx, principal, crate::model::TaskId(task)).await? {
            return Err(TasksError::NotFound("file").into());
        }
        return Err(ApiError::new(
            TasksCode::FileKept,
            "A deliverable stays with its task; upload a new version instead.",
        ));
    }
    if !manages(&mut tx, principal, row.org_id).await? {
        return Err(TasksError::NotFound("file").into());
    }
    let brief = match row.brief_id {
        Some(brief) => Some(crate::briefs::service::editable(&mut tx, principal, BriefId(brief), true).await?),
        None => None,
    };
    repo::delete_file(&mut tx, id).await?;
    if let Some(mut brief) = brief {
        crate::briefs::service::unconfirm_attachments(&mut tx, &mut brief, now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "task_file.delete", "task_file", id.0)
        .organization(row.org_id)
        .before(json!({"name": row.name, "sha256": row.sha256}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}
