//! Tasks: created from a ready brief with the category's credits held (refused when the company lacks
//! them), then through the lifecycle in `state.rs`, each step by its actor with the task's row locked:
//! the freelancer starts and delivers, staff pass the delivery to the client or return it, the client
//! approves (the credits are spent and the freelancer earns 70% of their value, held 7 days) or asks for
//! a revision (at most two). A cancellation gives the credits back at once. A delivery the client does
//! not review within 14 days is approved by a timer.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::party::Party;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::complexity;
use super::dto::{self, Task};
use super::repo::{self, NewTask, TaskRow};
use crate::TaskSettings;
use crate::error::{TasksCode, TasksError};
use crate::model::{Complexity, TaskId, Urgency};
use crate::state::{self, Actor, TaskStatus};

/// Approves a delivery the client has not reviewed in time.
pub const AUTO_APPROVE: JobKind = JobKind::new("tasks.auto_approve").max_attempts(10);

/// What the caller is to a task.
#[derive(Debug, Clone, Copy, Default)]
struct Access {
    client: bool,
    freelancer: bool,
    offered: bool,
    may_claim: bool,
    staff: bool,
}

impl Access {
    fn any(self) -> bool {
        self.client || self.freelancer || self.offered || self.may_claim || self.staff
    }
}

async fn access(conn: &mut PgConnection, principal: &Principal, task: &TaskRow) -> Result<Access, ApiError> {
    let me = principal.user_id.0;
    let client =
        identity::party::may_act_for(conn, principal, Party::Organization(task.org_id), crate::TASKS_MANAGE).await?;
    let live = crate::assignment::repo::live_offer(conn, task.id).await?;
    let open_for_claims = task.level == 3 && task.claims_until.is_some() && task.assignee.is_none();
    let may_claim = open_for_claims
        && crate::freelancers::repo::freelancer(conn, me, false)
            .await?
            .is_some_and(|f| f.status == crate::model::FreelancerStatus::Approved);
    Ok(Access {
        client,
        freelancer: task.assignee == Some(me),
        offered: live.is_some_and(|o| o.user_id == me),
        may_claim,
        staff: crate::is_staff(principal),
    })
}

/// The task as the API shows it, with its live offer's expiry and its activity.
pub(crate) async fn view(conn: &mut PgConnection, task: &TaskRow) -> Result<Task, ApiError> {
    let live = crate::assignment::repo::live_offer(conn, task.id).await?;
    let activity = repo::activity(conn, task.id).await?;
    Ok(Task::new(task, live.map(|o| o.expires_at), activity))
}

pub async fn categories(ctx: &AppContext) -> Result<Vec<dto::TaskCategory>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::categories(&mut conn).await?.into_iter().map(dto::TaskCategory::from).collect())
}

/// Creates a task in the caller's transaction (an idempotent request's): credits held, assignment
/// started.
pub async fn create(
    conn: &mut PgConnection,
    principal: &Principal,
    req: &dto::NewTask,
    now: DateTime<Utc>,
) -> Result<Task, ApiError> {
    let title = req.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(ApiError::invalid_field("title", "invalid_length", "1 to 200 characters"));
    }
    if req.deadline_at <= now {
        return Err(ApiError::invalid_field("deadline_at", "in_the_past", "must be in the future"));
    }
    let id = TaskId::new();
    let (brief, brief_json) = match (&req.brief, req.brief_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field("brief", "not_applicable", "send a brief_id or a brief, not both"));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "brief_id",
                "required",
                "a ready brief, or the brief whole in `brief`",
            ));
        }
        (Some(brief), None) => {
            let summary = brief.summary.as_deref().map(str::trim).unwrap_or_default();
            if summary.is_empty() || summary.chars().count() > 5000 {
                return Err(ApiError::invalid_field("brief.summary", "invalid_length", "1 to 5,000 characters"));
            }
            let json = serde_json::to_value(brief).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
            (brief.clone(), json)
        }
        (None, Some(brief_id)) => crate::briefs::service::take_ready(conn, principal, req.org_id, brief_id).await?,
    };
    if brief.deliverables.len() > 50 || brief.formats.len() > 50 {
        return Err(ApiError::invalid_field(
            "brief.deliverables",
            "too_many",
            "at most 50 deliverables and 50 formats",
        ));
    }
    let category = repo::category_by_slug(conn, &req.category)
        .await?
        .ok_or_else(|| ApiError::invalid_field("category", "unknown_category", "is not a task category"))?;
    if !identity::party::may_act_for(conn, principal, Party::Organization(req.org_id), crate::TASKS_MANAGE).await? {
        return Err(ApiError::invalid_field("org_id", "not_yours", "is not a company you manage tasks for"));
    }
    let staff = crate::is_staff(principal);
    let complexity = match &req.complexity {
        Some(_) if !staff => {
            return Err(ApiError::invalid_field(
                "complexity",
                "staff_only",
                "is detected from the brief; staff may set it",
            ));
        }
        Some(c) => Complexity::parse(c).ok_or_else(|| {
            ApiError::invalid_field("complexity", "invalid_value", "must be simple, intermediate, advanced or expert")
        })?,
        None => complexity::detect(&complexity::Signals::of(&brief)),
    };
    let required_skills = match &req.required_skills {
        Some(skills) => crate::freelancers::service::skill_names(skills, "required_skills")?,
        None => category.required_skills.clone(),
    };
    let credits = category.base_credits;
    crate::credits::service::hold(conn, req.org_id, credits, id, now).await?;
    let new = NewTask {
        id,
        org_id: req.org_id,
        created_by: principal.user_id.0,
        category_id: category.id,
        title,
        brief: &brief_json,
        deadline_at: req.deadline_at,
        urgency: Urgency::of(req.deadline_at, now),
        complexity,
        credits,
        required_skills: &required_skills,
    };
    repo::insert_task(conn, &new, now).await?;
    if let Some(brief_id) = req.brief_id {
        crate::briefs::service::mark_used(conn, brief_id, id, now).await?;
    }
    repo::log(conn, id, Some(principal.user_id.0), "created", json!({"credits": credits}), now).await?;
    crate::assignment::service::start(conn, id, now).await?;
    platform::audit::Entry::new(principal.actor(), "task.create", "task", id.0)
        .after(json!({"org": req.org_id, "category": category.slug, "credits": credits}))
        .record(conn, now)
        .await?;
    let task = repo::task(conn, id, false).await?.ok_or(TasksError::NotFound("task"))?;
    view(conn, &task).await
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: TaskId) -> Result<Task, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let task = repo::task(&mut conn, id, false).await?.ok_or(TasksError::NotFound("task"))?;
    if !access(&mut conn, principal, &task).await?.any() {
        return Err(TasksError::NotFound("task").into());
    }
    view(&mut conn, &task).await
}

/// An organization's tasks (its task managers), newest first, filtered by status.
pub async fn of_org(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    status: Option<&str>,
    page: &PageParams,
) -> Result<Page<dto::TaskSummary>, ApiError> {
    let status = status
        .map(|s| {
            TaskStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_field("status", "invalid_value", "is not a task status"))
        })
        .transpose()?;
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    if !identity::party::may_act_for(&mut conn, principal, Party::Organization(org), crate::TASKS_MANAGE).await?
        && !crate::is_staff(principal)
    {
        return Err(ApiError::not_found("No such organization."));
    }
    let rows = repo::tasks_of_org(&mut conn, org, status, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    Ok(Page { items: page.items.iter().map(dto::TaskSummary::from).collect(), next_cursor: page.next_cursor })
}

/// The caller's work as a freelancer, newest first.
pub async fn mine(
    ctx: &AppContext,
    principal: &Principal,
    page: &PageParams,
) -> Result<Page<dto::TaskSummary>, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::tasks_of_assignee(&mut conn, principal.user_id.0, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    Ok(Page { items: page.items.iter().map(dto::TaskSummary::from).collect(), next_cursor: page.next_cursor })
}

/// What waits for staff: deliveries to review and unassignable tasks, oldest first.
pub async fn staff_queue(ctx: &AppContext, principal: &Principal) -> Result<Vec<dto::TaskSummary>, ApiError> {
    crate::require_staff(principal)?;
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::staff_queue(&mut conn).await?.iter().map(dto::TaskSummary::from).collect())
}

/// Loads a task for a step, locked; the freelancer's profile first when the assignee acts (the lock
/// order every path keeps: freelancer, then task).
async fn load(conn: &mut PgConnection, principal: &Principal, id: TaskId) -> Result<(TaskRow, Access), ApiError> {
    let peek = repo::task(conn, id, false).await?.ok_or(TasksError::NotFound("task"))?;
    if let Some(assignee) = peek.assignee {
        crate::freelancers::repo::freelancer(conn, assignee, true).await?;
    }
    let task = repo::task(conn, id, true).await?.ok_or(TasksError::NotFound("task"))?;
    let access = access(conn, principal, &task).await?;
    if !access.any() {
        return Err(TasksError::NotFound("task").into());
    }
    Ok((task, access))
}

/// One step of the lifecycle: checks the transition for the actor the caller is, applies `change`,
/// saves, logs and answers.
async fn step(
    ctx: &AppContext,
    principal: &Principal,
    id: TaskId,
    to: TaskStatus,
    action: &str,
    change: impl AsyncFnOnce(&mut PgConnection, &mut TaskRow, Actor, DateTime<Utc>) -> Result<serde_json::Value, ApiError>,
) -> Result<Task, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut task, access) = load(&mut tx, principal, id).await?;
    let actor = actor_for(task.status, to, access);
    state::check(task.status, to, actor)?;
    let from = task.status;
    let detail = change(&mut *tx, &mut task, actor, now).await?;
    task.status = to;
    repo::save(&mut tx, &task, now).await?;
    repo::log(&mut tx, id, Some(principal.user_id.0), action, detail, now).await?;
    platform::lifecycle::log_change("task", id, from, to);
    let answer = view(&mut tx, &task).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The actor the caller acts as for a transition: the role the table allows, if the caller has it.
fn actor_for(from: TaskStatus, to: TaskStatus, access: Access) -> Actor {
    let mine = [(access.freelancer, Actor::Freelancer), (access.client, Actor::Client), (access.staff, Actor::Staff)];
    mine.iter()
        .filter(|(has, _)| *has)
        .map(|(_, actor)| *actor)
        .find(|actor| state::check(from, to, *actor).is_ok())
        .or_else(|| mine.iter().find(|(has, _)| *has).map(|(_, a)| *a))
        .unwrap_or(Actor::Client)
}

pub async fn start_work(ctx: &AppContext, principal: &Principal, id: TaskId) -> Result<Task, ApiError> {
    step(ctx, principal, id, TaskStatus::InProgress, "started", async |_, _, _, _| Ok(json!({}))).await
}

/// The freelancer delivers: staff review it next.
pub async fn deliver(ctx: &AppContext, principal: &Principal, id: TaskId, req: dto::Note) -> Result<Task, ApiError> {
    let note = note(&req, false)?;
    step(ctx, principal, id, TaskStatus::PendingAdminReview, "delivered", async |conn, task, _, now| {
        crate::delivery::service::require_files(conn, task).await?;
        let on_time = now <= task.deadline_at;
        task.delivered_at = Some(now);
        task.delivery_note = note.clone();
        crate::freelancers::repo::count_delivery(conn, task.assignee.unwrap_or_default(), on_time).await?;
        Ok(json!({"on_time": on_time, "note": note}))
    })
    .await
}

/// Staff pass a delivery to the client (who then has 14 days to review it) or return it with notes.
pub async fn review(
    ctx: &AppContext,
    settings: &TaskSettings,
    principal: &Principal,
    id: TaskId,
    req: dto::StaffReview,
) -> Result<Task, ApiError> {
    let note = note(&dto::Note { note: req.note.clone() }, false)?;
    let (to, action) = match req.decision.as_str() {
        "pass" => (TaskStatus::InReview, "passed_to_client"),
        "return" if note.is_some() => (TaskStatus::InProgress, "returned"),
        "return" => return Err(ApiError::invalid_field("note", "required", "say what to change")),
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be pass or return")),
    };
    let window = settings.auto_approve_after;
    step(ctx, principal, id, to, action, async |conn, task, _, now| {
        task.review_note = note.clone();
        let data = json!({"title": task.title, "task_id": task.id, "note": note.clone().unwrap_or_default()});
        if to == TaskStatus::InReview {
            let at = now + window;
            let key = format!("auto-approve:{}:{}", task.id, task.revisions);
            jobs::enqueue(conn, NewJob::new(AUTO_APPROVE, json!({"task_id": task.id})).at(at).unique(key), now).await?;
            let client = identity::party::people_to_notify(conn, Party::Organization(task.org_id)).await?;
            crate::notify_users(conn, client, "task.delivered", data, now).await?;
            Ok(json!({"auto_approve_at": at}))
        } else {
            crate::notify_users(conn, task.assignee.into_iter().collect(), "task.returned", data, now).await?;
            Ok(json!({"note": note}))
        }
    })
    .await
}

/// The client approves (with an optional rating of 1–5): credits spent, the freelancer paid.
pub async fn approve(
    ctx: &AppContext,
    settings: &TaskSettings,
    principal: &Principal,
    id: TaskId,
    req: dto::Approval,
) -> Result<Task, ApiError> {
    if req.rating.is_some_and(|r| !(1..=5).contains(&r)) {
        return Err(ApiError::invalid_field("rating", "out_of_range", "must be 1 to 5"));
    }
    step(ctx, principal, id, TaskStatus::Completed, "approved", async |conn, task, _, now| {
        task.rating = req.rating;
        complete(conn, settings, task, now).await
    })
    .await
}

/// Completion, by the client or the timer: the held credits spent, the freelancer's earning credited
/// (pending for the holding period), their rating counted, waiting tasks offered again.
async fn complete(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    task: &mut TaskRow,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, ApiError> {
    let freelancer =
        task.assignee.ok_or_else(|| ApiError::internal(anyhow::anyhow!("completed task without assignee")))?;
    task.completed_at = Some(now);
    let earned =
        crate::credits::service::spend(conn, settings, task.org_id, task.credits, task.id, freelancer, now).await?;
    if let Some(rating) = task.rating {
        crate::freelancers::repo::count_rating(conn, freelancer, rating).await?;
    }
    crate::delivery::service::count_approval(conn, task, now).await?;
    crate::assignment::service::capacity_freed(conn, now).await?;
    let data = json!({"title": task.title, "task_id": task.id, "earned": earned.1});
    crate::notify_users(conn, vec![freelancer], "task.completed", data, now).await?;
    Ok(json!({"credits_spent": task.credits, "earned_minor": earned.0, "rating": task.rating}))
}

/// The client asks for a revision (at most two; after that a change is a new task).
pub async fn request_revision(
    ctx: &AppContext,
    settings: &TaskSettings,
    principal: &Principal,
    id: TaskId,
    req: dto::Note,
) -> Result<Task, ApiError> {
    let note = note(&req, true)?;
    let max = settings.max_revisions;
    step(ctx, principal, id, TaskStatus::RevisionRequested, "revision_requested", async |conn, task, _, now| {
        if i32::from(task.revisions) >= max {
            return Err(ApiError::new(
                TasksCode::RevisionLimit,
                format!("This task has had its {max} revisions; a further change is a new task."),
            ));
        }
        task.revisions += 1;
        task.review_note = note.clone();
        let data = json!({"title": task.title, "task_id": task.id, "note": note.clone().unwrap_or_default()});
        crate::notify_users(conn, task.assignee.into_iter().collect(), "task.revision_requested", data, now).await?;
        Ok(json!({"revision": task.revisions, "note": note}))
    })
    .await
}

/// Cancels a task (the client before work starts, staff at any open step): its credits go back at once.
pub async fn cancel(ctx: &AppContext, principal: &Principal, id: TaskId, req: dto::Note) -> Result<Task, ApiError> {
    let note = note(&req, false)?;
    step(ctx, principal, id, TaskStatus::Cancelled, "cancelled", async |conn, task, _, now| {
        crate::assignment::service::withdraw_live(conn, task.id, now).await?;
        crate::credits::service::release(conn, task.org_id, task.credits, task.id, now).await?;
        task.cancelled_at = Some(now);
        if task.assignee.is_some() {
            crate::assignment::service::capacity_freed(conn, now).await?;
        }
        Ok(json!({"credits_returned": task.credits, "note": note}))
    })
    .await
}

fn note(req: &dto::Note, required: bool) -> Result<Option<String>, ApiError> {
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if required && note.is_none() {
        return Err(ApiError::invalid_field("note", "required", "say what to change"));
    }
    if note.as_ref().is_some_and(|n| n.chars().count() > 5000) {
        return Err(ApiError::invalid_field("note", "too_long", "at most 5,000 characters"));
    }
    Ok(note)
}

/// `tasks.auto_approve`: a delivery in the client's review past the window is approved by the system.
async fn auto_approve(ctx: AppContext, settings: &TaskSettings, id: TaskId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(peek) = repo::task(&mut tx, id, false).await? else { return Ok(()) };
    if let Some(assignee) = peek.assignee {
        crate::freelancers::repo::freelancer(&mut tx, assignee, true).await?;
    }
    let Some(mut task) = repo::task(&mut tx, id, true).await? else { return Ok(()) };
    let passed_at = repo::passed_to_client_at(&mut tx, id).await?;
    let due = passed_at.is_some_and(|at| at + settings.auto_approve_after <= now);
    if task.status != TaskStatus::InReview || !due {
        return Ok(());
    }
    state::check(task.status, TaskStatus::Completed, Actor::System)
        .map_err(|e| JobFailure::permanent(e.to_string()))?;
    let detail = complete(&mut tx, settings, &mut task, now).await.map_err(|e| JobFailure::retry(e.detail()))?;
    task.status = TaskStatus::Completed;
    repo::save(&mut tx, &task, now).await?;
    repo::log(&mut tx, id, None, "auto_approved", detail, now).await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry, settings: TaskSettings) {
    let s = std::sync::Arc::new(settings);
    registry.register(AUTO_APPROVE, move |ctx: AppContext, job: Job| {
        let s = s.clone();
        async move { auto_approve(ctx, &s, job.field("task_id")?).await }
    });
}
