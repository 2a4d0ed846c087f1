//! The brief builder in the web app: a company's task managers start a brief, fill its steps on one
//! page (each with its "confirmed" box), choose style cards from the library (their own choices and the
//! suggestions ranked by what the company chose before, with the pictures), and, once it is ready, make
//! it a task.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, AppContext, FieldError};
use serde::Deserialize;
use tasks::model::{BriefId, StyleCardId};
use uuid::Uuid;

use super::{FieldErrors, Layout, beside_form, done, lines, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

/// A style card on the page.
pub struct CardView {
    pub id: String,
    pub title: String,
    pub traits: String,
    pub chosen: bool,
    /// How well it agrees with the company's earlier choices, for a suggestion.
    pub score: Option<u32>,
}

/// A step's box and its standing.
pub struct StepView {
    pub step: String,
    pub label: &'static str,
    pub required: bool,
    pub filled: bool,
    pub confirmed: bool,
}

#[derive(Template)]
#[template(path = "brief.html")]
struct BriefPage {
    layout: Layout,
    brief: tasks::briefs::dto::Brief,
    text: Texts,
    steps: Vec<StepView>,
    missing: Vec<String>,
    audiences: Vec<(String, String, bool)>,
    cards: Vec<CardView>,
    categories: Vec<(String, String, i32)>,
    editable: bool,
    errors: FieldErrors,
    error: Option<String>,
}

/// The brief's fields as the form shows them.
#[derive(Default)]
struct Texts {
    summary: String,
    platform: String,
    content_type: String,
    intent: String,
    audience: String,
    deliverables: String,
    formats: String,
    motion: bool,
    custom_illustration: bool,
    visual_direction: String,
    outline: String,
}

fn label(step: &str) -> &'static str {
    match step {
        "summary" => "Summary",
        "platform" => "Platform",
        "content_type" => "Content type",
        "intent" => "Intent",
        "audience" => "Audience",
        "formats" => "Deliverables and formats",
        "visual_direction" => "Visual direction",
        "outline" => "Outline",
        _ => "Attachments",
    }
}

async fn brief_page(
    ctx: &AppContext,
    session: &Session,
    id: BriefId,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<BriefPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("Sign in first."))?;
    let brief = tasks::briefs::service::get(ctx, principal, id).await?;
    let editable = brief.task_id.is_none() && {
        let mut conn = ctx.db.acquire().await?;
        tasks::brands::service::manages(&mut conn, principal, brief.org_id).await?
    };
    let c = &brief.content;
    let text = Texts {
        summary: c.summary.clone().unwrap_or_default(),
        platform: c.platform.clone().unwrap_or_default(),
        content_type: c.content_type.clone().unwrap_or_default(),
        intent: c.intent.clone().unwrap_or_default(),
        audience: c.audience.clone().unwrap_or_default(),
        deliverables: c.deliverables.join("\n"),
        formats: c.formats.join("\n"),
        motion: c.motion,
        custom_illustration: c.custom_illustration,
        visual_direction: c.visual_direction.clone().unwrap_or_default(),
        outline: c.outline.clone().unwrap_or_default(),
    };
    let steps = brief
        .steps
        .iter()
        .map(|s| StepView {
            step: s.step.clone(),
            label: label(&s.step),
            required: s.required,
            filled: s.filled,
            confirmed: s.confirmed,
        })
        .collect();
    let missing = brief
        .missing
        .iter()
        .map(|m| {
            let why = if m.reason == "required" { "needs a value" } else { "is not confirmed" };
            format!("{} {why}", label(&m.step))
        })
        .collect();
    let trait_line = |c: &tasks::styles::dto::StyleCard| {
        format!("{}, {}, {}", c.style_axis, c.colour_temperature, c.deliverable_type.replace('_', " "))
    };
    let mut cards: Vec<CardView> = brief
        .style_cards
        .iter()
        .map(|c| CardView {
            id: c.id.0.to_string(),
            title: c.title.clone(),
            traits: trait_line(c),
            chosen: true,
            score: None,
        })
        .collect();
    let mut audiences = Vec::new();
    if editable {
        let query = tasks::styles::dto::SuggestionQuery { brief_id: Some(id.0), limit: Some(12), ..Default::default() };
        let suggestions = tasks::styles::service::suggestions(ctx, principal, brief.org_id, &query).await?;
        cards.extend(suggestions.items.into_iter().map(|s| CardView {
            id: s.card.id.0.to_string(),
            title: s.card.title.clone(),
            traits: trait_line(&s.card),
            chosen: false,
            score: Some(s.score),
        }));
        let chosen = brief.audience_profile.as_ref().map(|a| a.id);
        audiences = tasks::brands::service::audiences(ctx, principal, brief.org_id)
            .await?
            .into_iter()
            .map(|a| (a.id.0.to_string(), a.name, Some(a.id) == chosen))
            .collect();
    }
    let categories =
        tasks::tasks::service::categories(ctx).await?.into_iter().map(|c| (c.slug, c.name, c.base_credits)).collect();
    Ok(BriefPage {
        layout: Layout::new(format!("Brief: {}", brief.title), session),
        text,
        steps,
        missing,
        audiences,
        cards,
        categories,
        editable,
        brief,
        errors,
        error,
    })
}

async fn refused(ctx: &AppContext, session: &Session, id: BriefId, err: &ApiError) -> Response {
    if !beside_form(err) {
        return super::error(session, err);
    }
    let errors = FieldErrors::from_error(err);
    let message = Some(err.detail().to_owned());
    match brief_page(ctx, session, id, errors, message).await {
        Ok(view) => page(err.status(), &view),
        Err(e) => super::error(session, &e),
    }
}

pub async fn show(State(ctx): State<AppContext>, session: Session, Path(id): Path<BriefId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/briefs/{id}"));
    }
    match brief_page(&ctx, &session, id, FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewBriefForm {
    org_id: Uuid,
    title: String,
}

/// Starts a brief and opens it.
pub async fn create(State(ctx): State<AppContext>, session: Session, Form(form): Form<NewBriefForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/tasks") };
    let request = tasks::briefs::dto::NewBrief { org_id: form.org_id, title: form.title };
    match tasks::briefs::service::create(&ctx, principal, &request).await {
        Ok(brief) => done(&format!("/briefs/{}", brief.id.0), "Brief started: fill in its steps."),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepsForm {
    title: String,
    summary: String,
    platform: String,
    content_type: String,
    intent: String,
    audience: String,
    audience_id: String,
    deliverables: String,
    formats: String,
    motion: Option<String>,
    custom_illustration: Option<String>,
    visual_direction: String,
    outline: String,
    style_card_ids: Vec<String>,
    confirm: Vec<String>,
}

/// Saves every step from the form: the boxes ticked are confirmed, the others are not.
pub async fn save(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<BriefId>,
    body: axum::body::Bytes,
) -> Response {
    // Repeated fields (the cards and the boxes) need the ordered pairs, so the body is read here; its
    // token is checked exactly as `session::Form` does.
    let Some(principal) = &session.principal else { return to_signin(&format!("/briefs/{id}")) };
    let Some(form) = crate::session::repeated_form::<StepsForm>(&session, &body, &["style_card_ids", "confirm"]) else {
        return super::forbidden_form();
    };
    let mut cards = Vec::with_capacity(form.style_card_ids.len());
    for (i, card) in form.style_card_ids.iter().enumerate() {
        match card.parse::<Uuid>() {
            Ok(card) => cards.push(card),
            Err(_) => {
                let err = ApiError::validation(vec![FieldError::new(
                    format!("style_card_ids[{i}]"),
                    "not_found",
                    "is not a card of the library",
                )]);
                return refused(&ctx, &session, id, &err).await;
            }
        }
    }
    let audience_id = match form.audience_id.trim() {
        "" => None,
        value => match value.parse::<Uuid>() {
            Ok(a) => Some(a),
            Err(_) => {
                let err = ApiError::invalid_field("audience_id", "not_found", "is not one of the company's audiences");
                return refused(&ctx, &session, id, &err).await;
            }
        },
    };
    let steps = [
        "summary",
        "platform",
        "content_type",
        "intent",
        "audience",
        "formats",
        "visual_direction",
        "outline",
        "attachments",
    ];
    let text = |v: String| Some(Some(v));
    let edit = tasks::briefs::dto::BriefEdit {
        title: Some(form.title),
        summary: text(form.summary),
        platform: text(form.platform),
        content_type: text(form.content_type),
        intent: text(form.intent),
        audience: text(form.audience),
        audience_id: Some(audience_id),
        deliverables: Some(lines(&form.deliverables)),
        formats: Some(lines(&form.formats)),
        motion: Some(form.motion.is_some()),
        custom_illustration: Some(form.custom_illustration.is_some()),
        visual_direction: text(form.visual_direction),
        style_card_ids: Some(cards),
        outline: text(form.outline),
        unconfirm: steps.iter().filter(|s| !form.confirm.iter().any(|c| c == *s)).map(|s| (*s).to_owned()).collect(),
        confirm: form.confirm,
    };
    match tasks::briefs::service::edit(&ctx, principal, id, &edit).await {
        Ok(brief) if brief.status == "ready" => done(&format!("/briefs/{id}"), "Saved: the brief is ready."),
        Ok(_) => done(&format!("/briefs/{id}"), "Saved."),
        Err(err) => refused(&ctx, &session, id, &err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommissionForm {
    category: String,
    deadline: String,
}

/// Makes a ready brief a task.
pub async fn commission(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<BriefId>,
    Form(form): Form<CommissionForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/briefs/{id}")) };
    let Some(deadline_at) = format::parse_local(&form.deadline) else {
        let err =
            ApiError::validation(vec![FieldError::new("deadline_at", "invalid_format", "must be a date and time")]);
        return refused(&ctx, &session, id, &err).await;
    };
    let result = async {
        let brief = tasks::briefs::service::get(&ctx, principal, id).await?;
        let request = tasks::tasks::dto::NewTask {
            org_id: brief.org_id,
            category: form.category,
            title: brief.title,
            deadline_at,
            brief_id: Some(id),
            brief: None,
            required_skills: None,
            complexity: None,
        };
        let mut tx = ctx.db.begin().await?;
        let task = tasks::tasks::service::create(&mut tx, principal, &request, ctx.clock.now()).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(task)
    }
    .await;
    match result {
        Ok(task) => done(&format!("/tasks/{}", task.id), "Commissioned: its credits are held and it is being offered."),
        Err(err) => refused(&ctx, &session, id, &err).await,
    }
}

/// A style card's picture, for the pages.
pub async fn card_image(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<StyleCardId>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(principal) = &session.principal else { return StatusCode::NOT_FOUND.into_response() };
    match tasks::styles::service::image(&ctx, principal, id, headers.get(axum::http::header::RANGE)).await {
        Ok(response) => response,
        Err(err) => super::error(&session, &err),
    }
}

/// A company's file (a brief's attachment, a brand file), for the pages.
pub async fn task_file(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<tasks::model::TaskFileId>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/tasks") };
    match tasks::brands::service::download(&ctx, principal, id, headers.get(axum::http::header::RANGE)).await {
        Ok(response) => response,
        Err(err) => super::error(&session, &err),
    }
}

/// Attaches a file to the brief (a file form); the attachments step then needs confirming again.
pub async fn attach(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<BriefId>,
    request: axum::extract::Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/briefs/{id}")) };
    let next = format!("/briefs/{id}#step-attachments");
    let keep = async |form: crate::upload::FileForm| {
        let name = form.file_name.unwrap_or_else(|| "attachment".into());
        tasks::briefs::service::attach(&ctx, &principal, id, &name, form.body).await.map(|_| ())
    };
    let refused = async |err| refused(&ctx, &session, id, &err).await;
    let message = "Attached: confirm the attachments step again.";
    crate::upload::keep_file(&session, request, (&next, message), keep, refused).await
}
