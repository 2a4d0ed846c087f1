//! Creative tasks in the web app: a company's credits, its new-task form and its task board; a
//! freelancer's offers (with the time left to answer), their work and the application to join; a task's
//! page with its brief beside the delivery, the steps the viewer may take and its activity.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext, FieldError};
use serde::Deserialize;
use tasks::model::{OfferId, TaskId};
use uuid::Uuid;

use super::{FieldErrors, Layout, PayForm, beside_form, done, lines, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

/// A company the viewer commissions tasks for.
pub struct Company {
    pub id: String,
    pub name: String,
    pub available: i64,
    pub held: i64,
    pub packs: Vec<(i32, String)>,
    pub tasks: Vec<TaskLine>,
    /// The company's briefs: id, title, status.
    pub briefs: Vec<(String, String, String)>,
}

/// A task in a list.
pub struct TaskLine {
    pub id: String,
    pub title: String,
    pub category: String,
    pub status: String,
    pub credits: i32,
    pub due: String,
}

impl From<tasks::tasks::dto::TaskSummary> for TaskLine {
    fn from(t: tasks::tasks::dto::TaskSummary) -> Self {
        Self {
            id: t.id.to_string(),
            title: t.title,
            category: t.category.replace('_', " "),
            status: t.status.replace('_', " "),
            credits: t.credits,
            due: format::when(t.deadline_at),
        }
    }
}

/// An offer waiting for the viewer's answer.
pub struct OfferLine {
    pub id: String,
    pub task_id: String,
    pub title: String,
    pub score: i16,
    pub left: String,
    /// When it expires (RFC 3339), for the page's countdown.
    pub expires: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    layout: Layout,
    companies: Vec<Company>,
    categories: Vec<(String, String, i32)>,
    freelancer: Option<String>,
    approved: bool,
    offers: Vec<OfferLine>,
    /// The freelancer's tasks, each with what it earns (earned once approved).
    work: Vec<(TaskLine, String)>,
    /// What the completed tasks on the page earned.
    earned: String,
    errors: FieldErrors,
    error: Option<String>,
    pay_key: String,
}

/// What is left before `at`, in minutes or hours.
fn left(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let minutes = (at - now).num_minutes().max(0);
    if minutes < 120 { format!("{minutes} min left") } else { format!("{} h {} min left", minutes / 60, minutes % 60) }
}

async fn tasks_page(
    ctx: &AppContext,
    settings: &WebSettings,
    session: &Session,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<TasksPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("Sign in first."))?;
    let now = ctx.clock.now();
    let orgs = {
        let mut conn = ctx.db.acquire().await?;
        identity::service::organizations::orgs_granting(&mut conn, principal, tasks::TASKS_MANAGE).await?
    };
    let mut companies = Vec::new();
    for org in orgs {
        let credits = tasks::credits::service::balance(ctx, &settings.tasks, principal, org.0).await?;
        let list = tasks::tasks::service::of_org(ctx, principal, org.0, None, &PageParams::default()).await?;
        let name = {
            let mut conn = ctx.db.acquire().await?;
            identity::service::org_slug(&mut conn, org.0).await?.unwrap_or_default()
        };
        let briefs = tasks::briefs::service::of_org(ctx, principal, org.0, &PageParams::default()).await?;
        companies.push(Company {
            id: org.0.to_string(),
            name,
            available: credits.available,
            held: credits.held,
            packs: credits.packs.into_iter().map(|p| (p.credits, p.price_display)).collect(),
            tasks: list.items.into_iter().map(TaskLine::from).collect(),
            briefs: briefs.items.into_iter().map(|b| (b.id.0.to_string(), b.title, b.status)).collect(),
        });
    }
    let categories =
        tasks::tasks::service::categories(ctx).await?.into_iter().map(|c| (c.slug, c.name, c.base_credits)).collect();
    let freelancer = tasks::freelancers::service::me(ctx, principal).await.ok().map(|f| f.status);
    let offers = tasks::assignment::service::my_offers(ctx, principal, true, &PageParams::default())
        .await?
        .items
        .into_iter()
        .map(|o| OfferLine {
            id: o.id.to_string(),
            task_id: o.task_id.to_string(),
            title: o.title,
            score: o.score,
            left: left(o.expires_at, now),
            expires: o.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
        .collect();
    let s = &settings.tasks;
    let mine = tasks::tasks::service::mine(ctx, principal, &PageParams::default()).await?.items;
    let earned_minor: i64 = mine.iter().filter(|t| t.status == "completed").map(|t| s.earning(t.credits)).sum();
    let work = mine
        .into_iter()
        .map(|t| {
            let earning = format::money(s.earning(t.credits), &s.credit_currency);
            let earning = match t.status.as_str() {
                "completed" => earning,
                "cancelled" => "—".to_owned(),
                _ => format!("{earning} on approval"),
            };
            (TaskLine::from(t), earning)
        })
        .collect();
    Ok(TasksPage {
        layout: Layout::new("Creative tasks", session),
        companies,
        categories,
        approved: freelancer.as_deref() == Some("approved"),
        freelancer,
        offers,
        work,
        earned: format::money(earned_minor, &settings.tasks.credit_currency),
        errors,
        error,
        pay_key: Uuid::now_v7().simple().to_string(),
    })
}

async fn refused(ctx: &AppContext, settings: &WebSettings, session: &Session, err: &ApiError) -> Response {
    if !beside_form(err) {
        return super::error(session, err);
    }
    let errors = FieldErrors::from_error(err);
    let message = errors.is_empty().then(|| err.detail().to_owned());
    match tasks_page(ctx, settings, session, errors, message).await {
        Ok(view) => page(err.status(), &view),
        Err(e) => super::error(session, &e),
    }
}

pub async fn show(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
) -> Response {
    if session.principal.is_none() {
        return to_signin("/tasks");
    }
    match tasks_page(&ctx, &settings, &session, FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BuyForm {
    org_id: Uuid,
    credits: i32,
    source: String,
    card_number: String,
    key: String,
}

/// Buys a pack for a company, by card (the sandbox's test card) or from its wallet.
pub async fn buy(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Form(form): Form<BuyForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/tasks") };
    let now = ctx.clock.now();
    let pay = PayForm { source: form.source, card_number: form.card_number, key: form.key };
    let request = tasks::credits::dto::BuyCredits {
        credits: form.credits,
        source: Some(pay.source("card").into()),
        provider: None,
        card_number: pay.card("card"),
        payment_method: None,
    };
    let key = pay.retry_key("credits");
    let result = async {
        tasks::credits::service::charge(&ctx, &settings.tasks, &settings.ledger, principal, &request, Some(&key))
            .await?;
        let mut tx = ctx.db.begin().await?;
        let credits =
            tasks::credits::service::buy(&mut tx, &settings.tasks, principal, form.org_id, &request, now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(credits)
    }
    .await;
    match result {
        Ok(c) => done("/tasks", &format!("Bought {} credits: {} available.", form.credits, c.available)),
        Err(err) => refused(&ctx, &settings, &session, &err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewTaskForm {
    org_id: Uuid,
    category: String,
    title: String,
    deadline: String,
    summary: String,
    deliverables: String,
    formats: String,
    motion: Option<String>,
    custom_illustration: Option<String>,
}

/// Commissions a task from the form's brief.
pub async fn create(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Form(form): Form<NewTaskForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/tasks") };
    let Some(deadline_at) = format::parse_local(&form.deadline) else {
        let err =
            ApiError::validation(vec![FieldError::new("deadline_at", "invalid_format", "must be a date and time")]);
        return refused(&ctx, &settings, &session, &err).await;
    };
    let request = tasks::tasks::dto::NewTask {
        org_id: form.org_id,
        category: form.category,
        title: form.title,
        deadline_at,
        brief_id: None,
        brief: Some(tasks::briefs::steps::BriefContent {
            summary: Some(form.summary),
            platform: None,
            content_type: None,
            intent: None,
            audience: None,
            deliverables: lines(&form.deliverables),
            formats: lines(&form.formats),
            motion: form.motion.is_some(),
            custom_illustration: form.custom_illustration.is_some(),
            visual_direction: None,
            outline: None,
            confirmed: vec!["summary".into()],
        }),
        required_skills: None,
        complexity: None,
    };
    let now = ctx.clock.now();
    let result = async {
        let mut tx = ctx.db.begin().await?;
        let task = tasks::tasks::service::create(&mut tx, principal, &request, now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(task)
    }
    .await;
    match result {
        Ok(task) => done(&format!("/tasks/{}", task.id), "Commissioned: its credits are held and it is being offered."),
        Err(err) => refused(&ctx, &settings, &session, &err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ApplyForm {
    experience: String,
    time_zone: String,
    skills: String,
}

/// Applies as a freelancer: skills typed as `skill:proficiency`, one a line or separated by commas.
pub async fn apply(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Form(form): Form<ApplyForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/tasks") };
    let mut skills = Vec::new();
    for part in form.skills.split([',', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        let (name, level) = part.split_once(':').unwrap_or((part, "70"));
        let Ok(proficiency) = level.trim().parse::<i16>() else {
            let err = ApiError::validation(vec![FieldError::new(
                "skills",
                "invalid_format",
                "write each skill as name:level, such as graphic_design:80",
            )]);
            return refused(&ctx, &settings, &session, &err).await;
        };
        skills.push(tasks::freelancers::dto::Skill { skill: name.trim().to_owned(), proficiency });
    }
    let request = tasks::freelancers::dto::FreelancerProfile {
        headline: String::new(),
        experience: form.experience,
        time_zone: Some(form.time_zone.trim().to_owned()).filter(|z| !z.is_empty()),
        work_starts: None,
        work_ends: None,
        skills,
        specialties: Vec::new(),
        portfolio: Vec::new(),
    };
    match tasks::freelancers::service::save(&ctx, principal, request).await {
        Ok(_) => done("/tasks", "Thank you: staff review your application."),
        Err(err) => refused(&ctx, &settings, &session, &err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AnswerForm {
    reason: String,
}

pub async fn accept(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<OfferId>,
    Form(_): Form<AnswerForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/tasks") };
    match tasks::assignment::service::accept(&ctx, &settings.tasks, principal, id).await {
        Ok(task) => done(&format!("/tasks/{}", task.id), "Accepted: the task is yours."),
        Err(err) => refused(&ctx, &settings, &session, &err).await,
    }
}

pub async fn decline(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<OfferId>,
    Form(form): Form<AnswerForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/tasks") };
    let request = tasks::assignment::dto::Decline { reason: form.reason, note: None };
    match tasks::assignment::service::decline(&ctx, principal, id, request).await {
        Ok(_) => done("/tasks", "Declined: the task goes to someone else."),
        Err(err) => refused(&ctx, &settings, &session, &err).await,
    }
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    layout: Layout,
    task: tasks::tasks::dto::Task,
    category: String,
    summary: String,
    deliverables: Vec<String>,
    formats: Vec<String>,
    due: String,
    status: String,
    activity: Vec<(String, String)>,
    can_start: bool,
    can_deliver: bool,
    can_review: bool,
    can_approve: bool,
    can_cancel: bool,
    /// The task's files: id, name, version, whether it is the latest of its name.
    files: Vec<(String, String, i32, bool)>,
    /// Messages: who, when, what.
    messages: Vec<(String, String, String)>,
    /// Whether the viewer is one of the task's parties (company, freelancer, staff): they see its
    /// files and messages.
    party: bool,
    /// For staff, while nobody has the task: who would get it and why, and the hand assignment.
    preview: Option<PreviewView>,
    error: Option<String>,
}

/// "Who would get this task, and why", as staff see it on the task's page.
pub struct PreviewView {
    pub level: u8,
    pub version: i32,
    /// Name, freelancer id, score, tier, the breakdown in words.
    pub ranked: Vec<(String, String, u32, String, String)>,
    /// Name and why they are left out.
    pub excluded: Vec<(String, String)>,
}

async fn preview_view(
    ctx: &AppContext,
    settings: &tasks::TaskSettings,
    principal: &identity::auth::Principal,
    id: TaskId,
) -> Result<PreviewView, ApiError> {
    let p = tasks::assignment::service::preview(ctx, settings, principal, id).await?;
    let ids: Vec<Uuid> = p.ranked.iter().map(|r| r.freelancer).chain(p.excluded.iter().map(|e| e.freelancer)).collect();
    let names = {
        let mut conn = ctx.db.acquire().await?;
        identity::service::display_names(&mut conn, &ids).await?
    };
    let name = |u: &Uuid| names.get(u).cloned().unwrap_or_else(|| u.to_string());
    let words = |b: &serde_json::Value| {
        [
            ("skill", "skill"),
            ("timezone", "time zone"),
            ("experience", "experience"),
            ("workload", "workload"),
            ("performance", "performance"),
            ("specialist_bonus", "specialist +"),
            ("favourite_bonus", "favourite +"),
        ]
        .iter()
        .filter_map(|(k, label)| b.get(*k).and_then(serde_json::Value::as_f64).map(|v| (label, v)))
        .filter(|(label, v)| !label.ends_with('+') || *v > 0.0)
        .map(|(label, v)| format!("{label} {v:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
    };
    Ok(PreviewView {
        level: p.level,
        version: p.config_version,
        ranked: p
            .ranked
            .iter()
            .map(|r| {
                (name(&r.freelancer), r.freelancer.to_string(), r.score, r.tier.replace('_', " "), words(&r.breakdown))
            })
            .collect(),
        excluded: p.excluded.iter().map(|e| (name(&e.freelancer), e.reason.replace('_', " "))).collect(),
    })
}

async fn task_page(
    ctx: &AppContext,
    settings: &tasks::TaskSettings,
    session: &Session,
    id: TaskId,
    error: Option<String>,
) -> Result<TaskPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("Sign in first."))?;
    let task = tasks::tasks::service::get(ctx, principal, id).await?;
    let me = principal.user_id.0;
    let client = {
        let mut conn = ctx.db.acquire().await?;
        identity::party::may_act_for(
            &mut conn,
            principal,
            identity::party::Party::Organization(task.org_id),
            tasks::TASKS_MANAGE,
        )
        .await?
    };
    let staff = tasks::is_staff(principal);
    let mine = task.assignee == Some(me);
    let status = task.status.as_str();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    };
    let (files, messages, party) = match tasks::delivery::service::files(ctx, principal, id).await {
        Ok(files) => {
            let files = files
                .into_iter()
                .map(|d| (d.file.id.0.to_string(), d.file.name, d.file.version.unwrap_or(1), d.latest))
                .collect();
            let page = PageParams { limit: Some(100), cursor: None };
            let messages = tasks::delivery::service::messages(ctx, principal, id, &page)
                .await?
                .items
                .into_iter()
                .map(|m| (m.author_name, format::when(m.created_at), m.body))
                .collect();
            (files, messages, true)
        }
        Err(_) => (Vec::new(), Vec::new(), false),
    };
    let preview = if staff && matches!(status, "pending" | "offered" | "unassignable") {
        Some(preview_view(ctx, settings, principal, id).await?)
    } else {
        None
    };
    Ok(TaskPage {
        preview,
        files,
        messages,
        party,
        layout: Layout::new(task.title.clone(), session),
        category: task.category.replace('_', " "),
        summary: text(&task.brief["summary"]),
        deliverables: list(&task.brief["deliverables"]),
        formats: list(&task.brief["formats"]),
        due: format::when(task.deadline_at),
        status: status.replace('_', " "),
        activity: task.activity.iter().map(|a| (format::when(a.at), a.action.replace('_', " "))).collect(),
        can_start: mine && matches!(status, "assigned" | "revision_requested"),
        can_deliver: mine && status == "in_progress",
        can_review: staff && status == "pending_admin_review",
        can_approve: client && status == "in_review",
        can_cancel: (client && matches!(status, "pending" | "offered" | "assigned" | "unassignable"))
            || (staff && !matches!(status, "completed" | "cancelled")),
        task,
        error,
    })
}

pub async fn show_task(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<TaskId>,
) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/tasks/{id}"));
    }
    match task_page(&ctx, &settings.tasks, &session, id, None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepForm {
    note: String,
    decision: String,
    rating: String,
    /// Whom staff assign the task to, by hand.
    freelancer: String,
}

/// One step on a task's page: `start`, `deliver`, `review`, `approve`, `revise`, `cancel`, or `assign`
/// (staff, by hand).
pub async fn step(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path((id, action)): Path<(TaskId, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/tasks/{id}")) };
    let note = tasks::tasks::dto::Note { note: Some(form.note.clone()).filter(|n| !n.trim().is_empty()) };
    let s = &settings.tasks;
    let result = match action.as_str() {
        "start" => tasks::tasks::service::start_work(&ctx, principal, id).await,
        "deliver" => tasks::tasks::service::deliver(&ctx, principal, id, note).await,
        "review" => {
            let req = tasks::tasks::dto::StaffReview { decision: form.decision.clone(), note: note.note };
            tasks::tasks::service::review(&ctx, s, principal, id, req).await
        }
        "approve" => {
            let rating = form.rating.trim().parse::<i16>().ok();
            tasks::tasks::service::approve(&ctx, s, principal, id, tasks::tasks::dto::Approval { rating }).await
        }
        "revise" => tasks::tasks::service::request_revision(&ctx, s, principal, id, note).await,
        "cancel" => tasks::tasks::service::cancel(&ctx, principal, id, note).await,
        "assign" => match form.freelancer.trim().parse::<Uuid>() {
            Ok(freelancer_id) => {
                let req = tasks::assignment::dto::AssignByHand { freelancer_id };
                tasks::assignment::service::assign_by_hand(&ctx, principal, id, req).await
            }
            Err(_) => Err(ApiError::invalid_field("freelancer_id", "not_approved", "is not an approved freelancer")),
        },
        _ => Err(ApiError::not_found("No such step.")),
    };
    match result {
        Ok(task) => done(&format!("/tasks/{id}"), &format!("Done: the task is {}.", task.status.replace('_', " "))),
        Err(err) => answered(&ctx, &settings.tasks, &session, id, err).await,
    }
}

/// The freelancer uploads a file they deliver (a file form); a name the task has makes its next version.
pub async fn upload_file(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<TaskId>,
    request: axum::extract::Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/tasks/{id}")) };
    let next = format!("/tasks/{id}#files");
    let keep = async |form: crate::upload::FileForm| {
        let name = form.file_name.unwrap_or_else(|| "file".into());
        tasks::delivery::service::upload(&ctx, &principal, id, &name, form.body).await.map(|_| ())
    };
    let refused = async |err| answered(&ctx, &settings.tasks, &session, id, err).await;
    crate::upload::keep_file(&session, request, (&next, "The file is uploaded."), keep, refused).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MessageForm {
    body: String,
}

/// A party posts a message on the task.
pub async fn post_message(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<TaskId>,
    Form(form): Form<MessageForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/tasks/{id}")) };
    let request = tasks::delivery::dto::NewMessage { body: form.body };
    match tasks::delivery::service::post_message(&ctx, principal, id, &request).await {
        Ok(_) => done(&format!("/tasks/{id}#messages"), "Sent."),
        Err(err) => answered(&ctx, &settings.tasks, &session, id, err).await,
    }
}

/// A refusal shown on the task's page (or the error page, for a task the viewer may not see).
async fn answered(
    ctx: &AppContext,
    settings: &tasks::TaskSettings,
    session: &Session,
    id: TaskId,
    err: ApiError,
) -> Response {
    if beside_form(&err) {
        let mut message = err.detail().to_owned();
        for e in err.field_errors() {
            message.push_str(&format!(" {}.", e.message));
        }
        match task_page(ctx, settings, session, id, Some(message)).await {
            Ok(view) => page(err.status(), &view),
            Err(e) => super::error(session, &e),
        }
    } else {
        super::error(session, &err)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {}

/// Staff's queue: deliveries to review, tasks no one took, freelancers waiting for approval.
#[derive(Template)]
#[template(path = "admin_tasks.html")]
struct StaffPage {
    layout: Layout,
    queue: Vec<TaskLine>,
    applicants: Vec<(String, String, String)>,
    configs: Vec<tasks::assignment::dto::Config>,
    /// The draft form's weights (the published configuration's, or what was sent): the field, its
    /// label, its value and its error.
    weights: Vec<(&'static str, &'static str, i16, Option<String>)>,
    errors: FieldErrors,
    error: Option<String>,
}

async fn staff_page(
    ctx: &AppContext,
    session: &Session,
    draft: Option<tasks::assignment::dto::WeightsBody>,
    err: Option<&ApiError>,
) -> Result<StaffPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("Sign in first."))?;
    let queue = tasks::tasks::service::staff_queue(ctx, principal).await?;
    let pending = tasks::freelancers::service::list(ctx, principal, Some("pending"), &PageParams::default()).await?;
    let configs = tasks::assignment::service::configs(ctx, principal).await?;
    let draft = draft.unwrap_or_else(|| {
        configs.iter().find(|c| c.status == "published").map(|c| c.weights.clone()).unwrap_or(
            tasks::assignment::dto::WeightsBody {
                skill: 35,
                timezone: 20,
                experience: 20,
                workload: 15,
                performance: 10,
            },
        )
    });
    Ok(StaffPage {
        layout: Layout::new("Creative tasks: staff", session),
        queue: queue.into_iter().map(TaskLine::from).collect(),
        applicants: pending
            .items
            .into_iter()
            .map(|f| {
                let skills =
                    f.skills.iter().map(|s| format!("{} {}", s.skill, s.proficiency)).collect::<Vec<_>>().join(", ");
                (f.user_id.to_string(), f.experience, skills)
            })
            .collect(),
        configs,
        weights: [
            ("skill", "Skill", draft.skill),
            ("timezone", "Time zone", draft.timezone),
            ("experience", "Experience", draft.experience),
            ("workload", "Workload", draft.workload),
            ("performance", "Performance", draft.performance),
        ]
        .into_iter()
        .map(|(name, label, value)| {
            let error = err.and_then(|e| {
                e.field_errors().iter().find(|f| f.field == format!("weights.{name}")).map(|f| f.message.clone())
            });
            (name, label, value, error)
        })
        .collect(),
        errors: err.map(FieldErrors::from_error).unwrap_or_default(),
        error: err.map(|e| e.detail().to_owned()),
    })
}

pub async fn staff(State(ctx): State<AppContext>, session: Session, Query(_): Query<QueueQuery>) -> Response {
    if session.principal.is_none() {
        return to_signin("/admin/tasks");
    }
    match staff_page(&ctx, &session, None, None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfigForm {
    skill: String,
    timezone: String,
    experience: String,
    workload: String,
    performance: String,
    note: String,
}

/// Staff save a draft of the assignment configuration (weights of 0–100 summing to 100).
pub async fn new_config(State(ctx): State<AppContext>, session: Session, Form(form): Form<ConfigForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/tasks") };
    // A weight that is not a number is sent as -1, which the service refuses by its field's name.
    let weight = |v: &str| v.trim().parse::<i16>().unwrap_or(-1);
    let weights = tasks::assignment::dto::WeightsBody {
        skill: weight(&form.skill),
        timezone: weight(&form.timezone),
        experience: weight(&form.experience),
        workload: weight(&form.workload),
        performance: weight(&form.performance),
    };
    let note = Some(form.note).filter(|n| !n.trim().is_empty());
    let req = tasks::assignment::dto::NewConfig { weights: weights.clone(), note };
    match tasks::assignment::service::new_config(&ctx, principal, req).await {
        Ok(c) => done("/admin/tasks#configs", &format!("Draft version {} saved: publish it to use it.", c.version)),
        Err(err) if beside_form(&err) => match staff_page(&ctx, &session, Some(weights), Some(&err)).await {
            Ok(view) => page(err.status(), &view),
            Err(e) => super::error(&session, &e),
        },
        Err(err) => super::error(&session, &err),
    }
}

/// Staff publish a draft: it becomes the one active configuration.
pub async fn publish_config(
    State(ctx): State<AppContext>,
    session: Session,
    Path(version): Path<i32>,
    Form(_): Form<QueueQuery>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/tasks") };
    match tasks::assignment::service::publish_config(&ctx, principal, version).await {
        Ok(c) => done("/admin/tasks#configs", &format!("Version {} is active: new offers use it.", c.version)),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    status: String,
}

pub async fn decide(
    State(ctx): State<AppContext>,
    session: Session,
    Path(user): Path<Uuid>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/tasks") };
    let req = tasks::freelancers::dto::FreelancerDecision { status: form.status, note: None };
    match tasks::freelancers::service::decide(&ctx, principal, user, req).await {
        Ok(f) => done("/admin/tasks", &format!("The freelancer is {}.", f.status)),
        Err(err) => super::error(&session, &err),
    }
}
