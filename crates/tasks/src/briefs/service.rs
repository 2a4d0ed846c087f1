//! Briefs built in steps by a company's task managers: each change names the steps it confirms, a
//! changed step loses its confirmation, style cards and a saved audience are chosen from what exists,
//! attachments are files in object storage. A ready brief becomes a task once (see `steps.rs`), and the
//! task keeps what the brief said then.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{self, Brief, BriefSummary};
use super::repo::{self, BriefRow};
use super::steps::{self, BriefContent, Extras, Step};
use crate::brands::dto::{Audience, TaskFile};
use crate::error::{TasksCode, TasksError};
use crate::model::{AudienceId, BriefId, FilePurpose, TaskId};
use crate::styles::dto::StyleCard;

/// The most style cards a brief chooses.
pub const MAX_STYLE_CARDS: usize = 12;

fn title(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 200 {
        return Err(ApiError::invalid_field("title", "invalid_length", "must be 1 to 200 characters"));
    }
    Ok(value.to_owned())
}

fn content_of(row: &BriefRow) -> BriefContent {
    // Written by this code from this type; `confirmed` lives in its own column.
    let mut content: BriefContent = serde_json::from_value(row.content.clone()).unwrap_or_default();
    content.confirmed = row.confirmed.clone();
    content
}

fn confirmed_steps(row: &BriefRow) -> Vec<Step> {
    row.confirmed.iter().filter_map(|s| Step::parse(s)).collect()
}

fn status(row: &BriefRow, ready: bool) -> &'static str {
    if row.task_id.is_some() {
        "used"
    } else if ready {
        "ready"
    } else {
        "draft"
    }
}

/// The brief as the API shows it: its steps' standing, its audience, cards and attachments.
async fn view(conn: &mut PgConnection, row: &BriefRow) -> Result<Brief, ApiError> {
    let cards = repo::styles(conn, row.id).await?;
    let files = crate::brands::repo::brief_files(conn, row.id).await?;
    let audience = match row.audience_id {
        Some(id) => crate::brands::repo::audience(conn, AudienceId(id)).await?.map(Audience::try_from).transpose()?,
        None => None,
    };
    let content = content_of(row);
    let extras = Extras { audience_id: row.audience_id.is_some(), style_cards: cards.len(), attachments: files.len() };
    let standings = steps::standings(&content, extras, &confirmed_steps(row));
    let missing: Vec<dto::MissingStep> = standings
        .iter()
        .filter_map(|s| s.problem().map(|p| dto::MissingStep { step: s.step.as_str().into(), reason: p.into() }))
        .collect();
    Ok(Brief {
        id: row.id,
        org_id: row.org_id,
        title: row.title.clone(),
        status: status(row, missing.is_empty()).into(),
        content: BriefContent { confirmed: Vec::new(), ..content },
        steps: standings
            .iter()
            .map(|s| dto::StepView {
                step: s.step.as_str().into(),
                required: s.required,
                filled: s.filled,
                confirmed: s.confirmed,
            })
            .collect(),
        missing,
        audience_profile: audience,
        style_cards: cards.into_iter().map(StyleCard::from).collect(),
        attachments: files.into_iter().map(TaskFile::from).collect(),
        task_id: row.task_id,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub async fn create(ctx: &AppContext, principal: &Principal, req: &dto::NewBrief) -> Result<Brief, ApiError> {
    let title = title(&req.title)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    crate::brands::service::require_manager(&mut tx, principal, req.org_id).await?;
    let row = BriefRow {
        id: BriefId::new(),
        org_id: req.org_id,
        created_by: principal.user_id.0,
        title,
        content: json!({}),
        confirmed: Vec::new(),
        audience_id: None,
        task_id: None,
        created_at: now,
        updated_at: now,
    };
    repo::insert_brief(&mut tx, &row).await?;
    let brief = view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(brief)
}

/// A brief: for its company's task managers, staff, and the freelancer working on (or offered) the task
/// made from it.
pub async fn get(ctx: &AppContext, principal: &Principal, id: BriefId) -> Result<Brief, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::brief(&mut conn, id, false).await?.ok_or(TasksError::NotFound("brief"))?;
    if !crate::brands::service::may_read(&mut conn, principal, row.org_id, Some(id)).await? {
        return Err(TasksError::NotFound("brief").into());
    }
    view(&mut conn, &row).await
}

/// A company's briefs, most recently changed first.
pub async fn of_org(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    page: &PageParams,
) -> Result<Page<BriefSummary>, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    crate::brands::service::require_manager(&mut conn, principal, org).await?;
    let rows = repo::briefs_of(&mut conn, org, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.updated_at, r.id.0));
    let mut items = Vec::with_capacity(page.items.len());
    for row in &page.items {
        let ready = row.task_id.is_none() && view(&mut conn, row).await?.missing.is_empty();
        items.push(BriefSummary {
            id: row.id,
            title: row.title.clone(),
            status: status(row, ready).into(),
            task_id: row.task_id,
            updated_at: row.updated_at,
        });
    }
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// A text field's new value: `None` unchanged, `Some(None)` cleared (or blank), else the trimmed text.
fn text_change(
    field: &str,
    change: &Option<Option<String>>,
    most: usize,
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    let value = change.as_ref()?;
    let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty());
    if value.is_some_and(|v| v.chars().count() > most) {
        errors.push(FieldError::new(field, "too_long", format!("at most {most} characters")));
    }
    Some(value.map(str::to_owned))
}

fn lines(field: &str, values: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if values.len() > 50 {
        errors.push(FieldError::new(field, "too_many", "at most 50"));
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let v = v.trim();
        if v.is_empty() || v.chars().count() > 200 {
            errors.push(FieldError::new(format!("{field}[{i}]"), "invalid_length", "must be 1 to 200 characters"));
        } else {
            out.push(v.to_owned());
        }
    }
    out
}

fn step_names(field: &str, names: &[String], errors: &mut Vec<FieldError>) -> Vec<Step> {
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match Step::parse(name) {
            Some(step) => out.push(step),
            None => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "invalid_value",
                "must be a step: summary, platform, content_type, intent, audience, formats, visual_direction, outline or attachments",
            )),
        }
    }
    out
}

/// Applies a change to a brief of the caller's company that is not a task yet.
pub async fn edit(ctx: &AppContext, principal: &Principal, id: BriefId, e: &dto::BriefEdit) -> Result<Brief, ApiError> {
    let mut errors = Vec::new();
    let summary = text_change("summary", &e.summary, 5000, &mut errors);
    let platform = text_change("platform", &e.platform, 200, &mut errors);
    let content_type = text_change("content_type", &e.content_type, 200, &mut errors);
    let intent = text_change("intent", &e.intent, 200, &mut errors);
    let audience = text_change("audience", &e.audience, 2000, &mut errors);
    let visual_direction = text_change("visual_direction", &e.visual_direction, 5000, &mut errors);
    let outline = text_change("outline", &e.outline, 10_000, &mut errors);
    let deliverables = e.deliverables.as_deref().map(|v| lines("deliverables", v, &mut errors));
    let formats = e.formats.as_deref().map(|v| lines("formats", v, &mut errors));
    let confirm = step_names("confirm", &e.confirm, &mut errors);
    let unconfirm = step_names("unconfirm", &e.unconfirm, &mut errors);
    if let Some(cards) = &e.style_card_ids {
        if cards.len() > MAX_STYLE_CARDS {
            errors.push(FieldError::new("style_card_ids", "too_many", format!("at most {MAX_STYLE_CARDS}")));
        }
        if cards.iter().enumerate().any(|(i, c)| cards[..i].contains(c)) {
            errors.push(FieldError::new("style_card_ids", "duplicate", "lists a card twice"));
        }
    }
    let title = e.title.as_deref().map(title).transpose()?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }

    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::brief(&mut tx, id, true).await?.ok_or(TasksError::NotFound("brief"))?;
    if !crate::brands::service::manages(&mut tx, principal, row.org_id).await? {
        return Err(TasksError::NotFound("brief").into());
    }
    if row.task_id.is_some() {
        return Err(ApiError::new(TasksCode::BriefUsed, "The brief is a task already; start a new brief."));
    }
    let before = content_of(&row);
    let mut after = before.clone();
    let mut changed = Vec::new();
    let mut set = |step: Step, differs: bool| {
        if differs {
            changed.push(step);
        }
    };
    for (step, field, change) in [
        (Step::Summary, &mut after.summary, summary),
        (Step::Platform, &mut after.platform, platform),
        (Step::ContentType, &mut after.content_type, content_type),
        (Step::Intent, &mut after.intent, intent),
        (Step::Audience, &mut after.audience, audience),
        (Step::VisualDirection, &mut after.visual_direction, visual_direction),
        (Step::Outline, &mut after.outline, outline),
    ] {
        if let Some(value) = change {
            set(step, *field != value);
            *field = value;
        }
    }
    if let Some(v) = deliverables {
        set(Step::Formats, after.deliverables != v);
        after.deliverables = v;
    }
    if let Some(v) = formats {
        set(Step::Formats, after.formats != v);
        after.formats = v;
    }
    if let Some(v) = e.motion {
        set(Step::Formats, after.motion != v);
        after.motion = v;
    }
    if let Some(v) = e.custom_illustration {
        set(Step::Formats, after.custom_illustration != v);
        after.custom_illustration = v;
    }
    if let Some(audience_id) = e.audience_id {
        if let Some(a) = audience_id {
            match crate::brands::repo::audience(&mut tx, AudienceId(a)).await? {
                Some(found) if found.org_id == row.org_id => {}
                _ => {
                    return Err(ApiError::invalid_field(
                        "audience_id",
                        "not_found",
                        "is not one of the company's audiences",
                    ));
                }
            }
        }
        set(Step::Audience, row.audience_id != audience_id);
        row.audience_id = audience_id;
    }
    if let Some(cards) = &e.style_card_ids {
        let current: Vec<Uuid> = repo::styles(&mut tx, id).await?.iter().map(|c| c.id.0).collect();
        if current != *cards {
            let active = crate::styles::repo::active_among(&mut tx, cards).await?;
            if let Some(i) = cards.iter().position(|c| !active.contains(c) && !current.contains(c)) {
                return Err(ApiError::invalid_field(
                    format!("style_card_ids[{i}]"),
                    "not_found",
                    "is not an active card of the style library",
                ));
            }
            repo::set_styles(&mut tx, id, row.org_id, cards, now).await?;
            set(Step::VisualDirection, true);
        }
    }
    let confirmed = steps::confirmations(&confirmed_steps(&row), &changed, &confirm, &unconfirm);
    row.confirmed = confirmed.iter().map(|s| s.as_str().to_owned()).collect();
    after.confirmed = Vec::new();
    row.content = serde_json::to_value(&after).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    if let Some(title) = title {
        row.title = title;
    }
    row.updated_at = now;
    repo::update_brief(&mut tx, &row).await.map_err(TasksError::from)?;
    let brief = view(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(brief)
}

/// Attaches a file to a brief of the caller's company that is not a task yet; the attachments step
/// needs confirming again.
pub async fn attach(
    ctx: &AppContext,
    principal: &Principal,
    id: BriefId,
    name: &str,
    body: axum::body::Body,
) -> Result<TaskFile, ApiError> {
    let name = crate::brands::service::file_name(name)?;
    {
        let mut conn = ctx.db.acquire().await?;
        editable(&mut conn, principal, id, false).await?;
    }
    let received = crate::brands::service::receive_file(ctx, principal, body, FilePurpose::BriefAttachment).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = editable(&mut tx, principal, id, true).await?;
    let purpose = FilePurpose::BriefAttachment;
    let file_for = crate::brands::service::FileFor { org: row.org_id, purpose, brief: Some(id), name, task: None };
    let file = crate::brands::service::record_file(&mut tx, principal, file_for, received, now).await?;
    unconfirm_attachments(&mut tx, &mut row, now).await?;
    tx.commit().await?;
    Ok(file.into())
}

/// The attachments changed: their step needs confirming again.
pub(crate) async fn unconfirm_attachments(
    conn: &mut PgConnection,
    row: &mut BriefRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    row.confirmed.retain(|s| s != Step::Attachments.as_str());
    row.updated_at = now;
    repo::update_brief(conn, row).await?;
    Ok(())
}

/// A brief of the caller's company that is not a task yet (locked with `lock`).
pub(crate) async fn editable(
    conn: &mut PgConnection,
    principal: &Principal,
    id: BriefId,
    lock: bool,
) -> Result<BriefRow, ApiError> {
    let row = repo::brief(conn, id, lock).await?.ok_or(TasksError::NotFound("brief"))?;
    if !crate::brands::service::manages(conn, principal, row.org_id).await? {
        return Err(TasksError::NotFound("brief").into());
    }
    if row.task_id.is_some() {
        return Err(ApiError::new(TasksCode::BriefUsed, "The brief is a task already; it no longer changes."));
    }
    Ok(row)
}

/// For a new task of `org`: the brief, locked, if it is the company's, not yet a task, and ready; its
/// content and what the task keeps of it (the content, the audience, the chosen cards and attachments).
pub(crate) async fn take_ready(
    conn: &mut PgConnection,
    principal: &Principal,
    org: Uuid,
    id: BriefId,
) -> Result<(BriefContent, serde_json::Value), ApiError> {
    let not_found = || ApiError::invalid_field("brief_id", "not_found", "is not a brief of the company");
    let row = repo::brief(conn, id, true).await?.ok_or_else(not_found)?;
    if row.org_id != org || !crate::brands::service::manages(conn, principal, org).await? {
        return Err(not_found());
    }
    if row.task_id.is_some() {
        return Err(ApiError::new(TasksCode::BriefUsed, "The brief is a task already; start a new brief."));
    }
    let brief = view(conn, &row).await?;
    if !brief.missing.is_empty() {
        let errors = brief.missing.iter().map(|m| {
            let field = format!("brief.{}", m.step);
            if m.reason == "required" {
                FieldError::new(field, "required", "has no value")
            } else {
                FieldError::new(field, "unconfirmed", "is not confirmed by the client")
            }
        });
        return Err(ApiError::new(TasksCode::BriefNotReady, "The brief is not ready: see which steps.")
            .with_errors(errors.collect()));
    }
    let content = content_of(&row);
    let mut kept = serde_json::to_value(&content).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    if let Some(object) = kept.as_object_mut() {
        object.insert("brief_id".into(), json!(id));
        object.insert("audience_profile".into(), json!(brief.audience_profile));
        object.insert(
            "style_cards".into(),
            json!(brief.style_cards.iter().map(|c| json!({"id": c.id, "title": c.title})).collect::<Vec<_>>()),
        );
        object.insert(
            "attachments".into(),
            json!(
                brief.attachments.iter().map(|f| json!({"id": f.id, "name": f.name, "url": f.url})).collect::<Vec<_>>()
            ),
        );
    }
    Ok((content, kept))
}

/// Records that the brief became `task`.
pub(crate) async fn mark_used(
    conn: &mut PgConnection,
    id: BriefId,
    task: TaskId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    repo::mark_used(conn, id, task, now).await?;
    Ok(())
}
