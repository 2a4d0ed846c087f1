//! Assignment: ranks candidates with the published configuration (`score.rs`), offers a task to the
//! best one with an acceptance window by urgency, sweeps an unanswered offer at its exact second (a
//! timer job per offer), and climbs the escalation ladder when a level runs out: level 1 (skill 70, up
//! to 3 offers), level 2 (skill 50, up to 3 offers, one task over the workload cap), level 3 (open to
//! claims by any qualified freelancer for 30 minutes; the first claim wins), level 4 (unassignable:
//! staff are told and may assign by hand). Every step runs with the task's row locked, so a timer, an
//! answer and a claim arriving together are applied one after the other.

use chrono::{DateTime, Timelike, Utc};
use identity::auth::Principal;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto;
use super::repo::{self, CandidateRow, NewOffer, OfferRow};
use super::score::{self, Candidate, Exclusion, Performance, Ranking, TaskFacts, Weights};
use crate::TaskSettings;
use crate::error::{TasksCode, TasksError};
use crate::model::{DeclineReason, FreelancerStatus, OfferId, OfferStatus, TaskId};
use crate::state::{self, Actor, TaskStatus};
use crate::tasks::repo::TaskRow;

/// Runs the next assignment step of a new (or freed) task.
pub const ASSIGN: JobKind = JobKind::new("tasks.assign").max_attempts(10);
/// Sweeps one offer at its expiry.
pub const EXPIRE: JobKind = JobKind::new("tasks.offer_expire").max_attempts(10);
/// Offers a sweep expires in one transaction (a storm of a thousand is one commit).
const SWEEP_BATCH: i64 = 1_000;
/// Closes a task's claim window (level 3 to level 4).
pub const CLOSE_CLAIMS: JobKind = JobKind::new("tasks.claims_close").max_attempts(10);
/// Offers waiting tasks again, oldest first, when a freelancer's capacity frees.
pub const DISPATCH: JobKind = JobKind::new("tasks.dispatch").max_attempts(10);

/// The published configuration: its version and weights.
pub(crate) async fn active_weights(conn: &mut PgConnection) -> Result<(i32, Weights), ApiError> {
    let row = repo::active_config(conn)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no published assignment configuration")))?;
    Ok((row.version, weights_of(&row)))
}

pub(crate) fn weights_of(row: &repo::ConfigRow) -> Weights {
    let w = |v: i16| u32::try_from(v).unwrap_or(0);
    Weights {
        skill: w(row.weight_skill),
        timezone: w(row.weight_timezone),
        experience: w(row.weight_experience),
        workload: w(row.weight_workload),
        performance: w(row.weight_performance),
    }
}

/// The freelancer's local hour at `now`, when their time zone is known.
pub fn local_hour(time_zone: Option<&str>, now: DateTime<Utc>) -> Option<u32> {
    let tz: chrono_tz::Tz = time_zone?.parse().ok()?;
    Some(now.with_timezone(&tz).hour())
}

fn candidate(row: CandidateRow, now: DateTime<Utc>) -> Candidate {
    let n = |v: i32| u32::try_from(v).unwrap_or(0);
    Candidate {
        user_id: row.user_id,
        skills: row.skills.into_iter().zip(row.levels).map(|(s, l)| (s, u32::try_from(l).unwrap_or(0))).collect(),
        local_hour: local_hour(row.time_zone.as_deref(), now),
        experience: row.experience,
        active_tasks: u32::try_from(row.active_tasks).unwrap_or(u32::MAX),
        live_offers: u32::try_from(row.live_offers).unwrap_or(u32::MAX),
        performance: Performance {
            ratings_count: n(row.ratings_count),
            ratings_sum: n(row.ratings_sum),
            deliveries: n(row.deliveries),
            on_time: n(row.on_time),
            offers_received: u32::try_from(row.offers_received).unwrap_or(u32::MAX),
            offers_accepted: u32::try_from(row.offers_accepted).unwrap_or(u32::MAX),
        },
        on_vacation: row.on_vacation,
        offered_before: row.offered_before,
        declined: row.declined,
        specialist: row.specialist,
        favourite: row.favourite,
    }
}

/// The candidates for `task` at `level`, read in one statement and ranked; `only` narrows the read
/// to one freelancer (a claim).
pub async fn ranking(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    task: &TaskRow,
    level: u8,
    only: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(i32, Weights, Vec<Candidate>, Ranking), ApiError> {
    let (version, weights) = active_weights(conn).await?;
    let rows = repo::candidates(conn, task.id, task.org_id, &task.category, &task.required_skills, only, now).await?;
    let candidates: Vec<Candidate> = rows.into_iter().map(|r| candidate(r, now)).collect();
    let facts = facts(task);
    let ranking = score::rank(&facts, &candidates, weights, score::level_rules(level, settings));
    Ok((version, weights, candidates, ranking))
}

/// The candidates as claims see them: those offered the task before, or who declined it, may claim it
/// (a claim is a change of mind, and welcome). `only` narrows them to one freelancer.
async fn claimants(
    conn: &mut PgConnection,
    task: &TaskRow,
    only: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(Weights, Vec<Candidate>), ApiError> {
    let (_, weights) = active_weights(conn).await?;
    let rows = repo::candidates(conn, task.id, task.org_id, &task.category, &task.required_skills, only, now).await?;
    let candidates =
        rows.into_iter().map(|r| Candidate { offered_before: false, declined: false, ..candidate(r, now) }).collect();
    Ok((weights, candidates))
}

fn facts(task: &TaskRow) -> TaskFacts<'_> {
    TaskFacts { required_skills: &task.required_skills, complexity: task.complexity, urgency: task.urgency }
}

fn level_of(task: &TaskRow) -> u8 {
    u8::try_from(task.level).unwrap_or(4)
}

/// Moves a task whose level ran out to the next one.
async fn escalate(conn: &mut PgConnection, task: &mut TaskRow, why: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    let from = task.level;
    task.level += 1;
    task.offers_at_level = 0;
    crate::tasks::repo::log(conn, task.id, None, "escalated", json!({"from": from, "to": task.level, "why": why}), now)
        .await
}

/// The next assignment step of a task whose row the caller has locked: an offer to the best candidate
/// at its level, or the next level when this one has run out, up to claims and then staff. Saves it.
pub(crate) async fn advance(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    task: &mut TaskRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    while task.status == TaskStatus::Pending {
        match level_of(task) {
            level @ (1 | 2) => {
                if i32::from(task.offers_at_level) >= settings.offers_per_level {
                    escalate(conn, task, "offers used", now).await?;
                    continue;
                }
                let (version, _, _, ranking) = ranking(conn, settings, task, level, None, now).await?;
                match ranking.ranked.first() {
                    Some(best) => {
                        let best = best.clone();
                        make_offer(conn, settings, task, version, &best, now).await?;
                    }
                    None => escalate(conn, task, "no candidate", now).await?,
                }
            }
            3 => {
                match task.claims_until {
                    None => open_claims(conn, settings, task, now).await?,
                    Some(until) if until <= now => unassignable(conn, task, now).await?,
                    Some(_) => {}
                }
                break;
            }
            _ => {
                unassignable(conn, task, now).await?;
                break;
            }
        }
    }
    crate::tasks::repo::save(conn, task, now).await?;
    Ok(())
}

async fn make_offer(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    task: &mut TaskRow,
    version: i32,
    best: &score::Ranked,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let id = OfferId::new();
    let expires_at = now + settings.acceptance_window(task.urgency);
    let breakdown = json!({"tier": best.tier, "score": best.breakdown});
    let offer = NewOffer {
        id,
        task_id: task.id,
        user_id: best.user_id,
        level: task.level,
        config_version: version,
        score: i16::try_from(best.breakdown.total).unwrap_or(100),
        breakdown: breakdown.clone(),
        expires_at,
    };
    repo::insert_offer(conn, &offer, now).await?;
    state::check(task.status, TaskStatus::Offered, Actor::System)?;
    task.status = TaskStatus::Offered;
    task.offers_at_level += 1;
    // One sweep a second expires every offer due by then (a storm of offers due at once is one job), and
    // it runs before new assignment work that is due at the same time.
    let at = sweep_at(expires_at);
    let sweep =
        NewJob::new(EXPIRE, json!({"due": at})).at(at).unique(format!("offers:{}", at.timestamp())).priority(10);
    jobs::enqueue(conn, sweep, now).await?;
    crate::tasks::repo::log(
        conn,
        task.id,
        None,
        "offered",
        json!({"offer_id": id, "freelancer": best.user_id, "level": task.level, "score": best.breakdown.total,
               "config_version": version, "expires_at": expires_at}),
        now,
    )
    .await?;
    let data = json!({"title": task.title, "credits": task.credits, "task_id": task.id, "offer_id": id,
                      "deadline": task.deadline_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                      "expires": expires_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()});
    crate::notify_users(conn, vec![best.user_id], "task.offered", data, now).await?;
    tracing::info!(task = %task.id, offer = %id, freelancer = %best.user_id, level = task.level, score = best.breakdown.total, "task offered");
    Ok(())
}

async fn open_claims(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    task: &mut TaskRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let until = now + settings.claim_window;
    task.claims_until = Some(until);
    jobs::enqueue(conn, NewJob::new(CLOSE_CLAIMS, json!({"task_id": task.id})).at(until), now).await?;
    crate::tasks::repo::log(conn, task.id, None, "open_for_claims", json!({"until": until}), now).await?;
    // Those who may claim it are told: the qualified, best first (those offered it before included).
    let (weights, candidates) = claimants(conn, task, None, now).await?;
    let qualified = score::rank(&facts(task), &candidates, weights, score::level_rules(3, settings));
    let recipients: Vec<Uuid> = qualified.ranked.iter().map(|r| r.user_id).collect();
    if !recipients.is_empty() {
        let data =
            json!({"title": task.title, "task_id": task.id, "until": until.format("%Y-%m-%d %H:%M UTC").to_string()});
        crate::notify_users(conn, recipients, "task.open_for_claims", data, now).await?;
    }
    Ok(())
}

async fn unassignable(conn: &mut PgConnection, task: &mut TaskRow, now: DateTime<Utc>) -> Result<(), ApiError> {
    state::check(task.status, TaskStatus::Unassignable, Actor::System)?;
    task.status = TaskStatus::Unassignable;
    task.level = 4;
    crate::tasks::repo::log(conn, task.id, None, "unassignable", json!({}), now).await?;
    let staff = identity::service::admin_ids(conn).await?;
    crate::notify_users(conn, staff, "task.unassignable", json!({"title": task.title, "task_id": task.id}), now)
        .await?;
    tracing::warn!(task = %task.id, "task unassignable");
    Ok(())
}

/// Assigns a task to a freelancer: the task's row is locked, its live offer (if any) ended by the caller.
async fn assign(
    conn: &mut PgConnection,
    task: &mut TaskRow,
    user: Uuid,
    actor: Actor,
    by: Uuid,
    how: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    state::check(task.status, TaskStatus::Assigned, actor)?;
    task.status = TaskStatus::Assigned;
    task.assignee = Some(user);
    crate::tasks::repo::save(conn, task, now).await?;
    crate::tasks::repo::log(conn, task.id, Some(by), "assigned", json!({"freelancer": user, "how": how}), now).await?;
    let client = identity::party::people_to_notify(conn, identity::party::Party::Organization(task.org_id)).await?;
    crate::notify_users(conn, client, "task.assigned", json!({"title": task.title, "task_id": task.id}), now).await?;
    tracing::info!(task = %task.id, freelancer = %user, how, "task assigned");
    Ok(())
}

/// The caller's approved freelancer profile, locked: one freelancer's acceptances and claims are
/// counted against the workload cap one at a time.
async fn me_as_freelancer(conn: &mut PgConnection, principal: &Principal) -> Result<Uuid, ApiError> {
    let me = principal.user_id.0;
    match crate::freelancers::repo::freelancer(conn, me, true).await? {
        Some(f) if f.status == FreelancerStatus::Approved => Ok(me),
        _ => Err(ApiError::new(TasksCode::NotAFreelancer, "Only an approved freelancer may do this.")),
    }
}

async fn active_tasks(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<i64> {
    repo::active_tasks(conn, user).await
}

/// Accepts an offer made to the caller, before it expires and within the workload cap of its level.
pub async fn accept(
    ctx: &AppContext,
    settings: &TaskSettings,
    principal: &Principal,
    id: OfferId,
) -> Result<crate::tasks::dto::Task, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let offer = mine(&mut tx, principal, id).await?;
    let me = me_as_freelancer(&mut tx, principal).await?;
    let mut task = crate::tasks::repo::task(&mut tx, offer.task_id, true).await?.ok_or(TasksError::NotFound("task"))?;
    let offer = repo::offer(&mut tx, id).await?.ok_or(TasksError::NotFound("offer"))?;
    if offer.status != OfferStatus::Offered || offer.expires_at <= now {
        let what = if offer.status == OfferStatus::Offered { "expired" } else { offer.status.as_str() };
        return Err(ApiError::new(TasksCode::OfferNotOpen, format!("This offer is {what}.")));
    }
    let cap = score::level_rules(u8::try_from(offer.level).unwrap_or(1), settings).workload_cap;
    let active = active_tasks(&mut tx, me).await?;
    if active >= i64::from(cap) {
        return Err(ApiError::new(
            TasksCode::AtWorkloadCap,
            format!("You have {active} active tasks; an offer at level {} allows at most {cap}.", offer.level),
        ));
    }
    repo::end_offer(&mut tx, id, OfferStatus::Accepted, None, None, now).await?;
    assign(&mut tx, &mut task, me, Actor::Freelancer, me, "offer", now).await?;
    let answer = crate::tasks::service::view(&mut tx, &task).await?;
    tx.commit().await?;
    Ok(answer)
}

/// An offer made to the caller (anyone else's is answered 404).
async fn mine(conn: &mut PgConnection, principal: &Principal, id: OfferId) -> Result<OfferRow, ApiError> {
    match repo::offer(conn, id).await? {
        Some(o) if o.user_id == principal.user_id.0 => Ok(o),
        _ => Err(TasksError::NotFound("offer").into()),
    }
}

/// Declines an offer with a reason; the assignment job offers the task to the next candidate at once.
pub async fn decline(
    ctx: &AppContext,
    principal: &Principal,
    id: OfferId,
    req: dto::Decline,
) -> Result<dto::TaskOffer, ApiError> {
    let reason = DeclineReason::parse(&req.reason).ok_or_else(|| {
        ApiError::invalid_field(
            "reason",
            "invalid_value",
            "must be too_busy, skill_mismatch, deadline_too_tight, low_credits, personal_conflict or other",
        )
    })?;
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::invalid_field("note", "too_long", "at most 1,000 characters"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let offer = mine(&mut tx, principal, id).await?;
    let mut task = crate::tasks::repo::task(&mut tx, offer.task_id, true).await?.ok_or(TasksError::NotFound("task"))?;
    let current = repo::offer(&mut tx, id).await?.ok_or(TasksError::NotFound("offer"))?;
    if current.status != OfferStatus::Offered || current.expires_at <= now {
        return Err(ApiError::new(TasksCode::OfferNotOpen, format!("This offer is {}.", current.status)));
    }
    repo::end_offer(&mut tx, id, OfferStatus::Declined, Some(reason), note, now).await?;
    crate::tasks::repo::log(
        &mut tx,
        task.id,
        Some(principal.user_id.0),
        "offer_declined",
        json!({"offer_id": id, "reason": reason.as_str()}),
        now,
    )
    .await?;
    back_to_pending(&mut tx, &mut task, Actor::Freelancer, now).await?;
    let answer = repo::offer(&mut tx, id).await?.ok_or(TasksError::NotFound("offer"))?;
    tx.commit().await?;
    Ok(answer.into())
}

/// After an offer ended unanswered or declined: the task is pending again, and the assignment job asked
/// for its next step. (Each transaction that ends or makes an offer touches one freelancer's counters,
/// and always after the task's lock, so two answers at once can never wait on each other.)
async fn back_to_pending(
    conn: &mut PgConnection,
    task: &mut TaskRow,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if task.status == TaskStatus::Offered {
        state::check(task.status, TaskStatus::Pending, actor)?;
        task.status = TaskStatus::Pending;
        crate::tasks::repo::save(conn, task, now).await?;
    }
    start(conn, task.id, now).await?;
    Ok(())
}

/// Claims a task open to claims (level 3): the first qualified freelancer wins.
pub async fn claim(
    ctx: &AppContext,
    settings: &TaskSettings,
    principal: &Principal,
    id: TaskId,
) -> Result<crate::tasks::dto::Task, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let me = me_as_freelancer(&mut tx, principal).await?;
    let mut task = crate::tasks::repo::task(&mut tx, id, true).await?.ok_or(TasksError::NotFound("task"))?;
    let open = task.level == 3
        && matches!(task.status, TaskStatus::Pending | TaskStatus::Offered)
        && task.claims_until.is_some_and(|u| u > now);
    if !open {
        if task.assignee.is_some() {
            return Err(ApiError::new(TasksCode::TaskTaken, "Another freelancer took this task first."));
        }
        return Err(ApiError::new(TasksCode::NotOpenForClaims, "This task is not open to claims."));
    }
    let (weights, mut candidates) = claimants(&mut tx, &task, Some(me), now).await?;
    let me_row = candidates
        .pop()
        .ok_or_else(|| ApiError::new(TasksCode::NotQualified, "You have none of the skills this task requires."))?;
    match score::exclusion(&facts(&task), &me_row, score::level_rules(3, settings)) {
        None => {}
        Some(Exclusion::AtWorkloadCap) => {
            return Err(ApiError::new(TasksCode::AtWorkloadCap, "You have as many active tasks as the cap allows."));
        }
        Some(reason) => {
            return Err(ApiError::new(TasksCode::NotQualified, format!("You do not qualify: {}.", reason.as_str())));
        }
    }
    let breakdown = score::score(&facts(&task), &me_row, weights);
    if let Some(live) = repo::live_offer(&mut tx, id).await? {
        repo::end_offer(&mut tx, live.id, OfferStatus::Withdrawn, None, None, now).await?;
    }
    assign(&mut tx, &mut task, me, Actor::Freelancer, me, "claim", now).await?;
    crate::tasks::repo::log(&mut tx, id, Some(me), "claimed", json!({"score": breakdown.total}), now).await?;
    let answer = crate::tasks::service::view(&mut tx, &task).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Staff assign a task by hand (pending, offered or unassignable) to an approved freelancer.
pub async fn assign_by_hand(
    ctx: &AppContext,
    principal: &Principal,
    id: TaskId,
    req: dto::AssignByHand,
) -> Result<crate::tasks::dto::Task, ApiError> {
    crate::require_staff(principal)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let freelancer = crate::freelancers::repo::freelancer(&mut tx, req.freelancer_id, true).await?;
    if freelancer.is_none_or(|f| f.status != FreelancerStatus::Approved) {
        return Err(ApiError::invalid_field("freelancer_id", "not_approved", "is not an approved freelancer"));
    }
    let mut task = crate::tasks::repo::task(&mut tx, id, true).await?.ok_or(TasksError::NotFound("task"))?;
    if !matches!(task.status, TaskStatus::Pending | TaskStatus::Offered | TaskStatus::Unassignable) {
        return Err(ApiError::new(TasksCode::NotAssignable, format!("A {} task cannot be assigned.", task.status)));
    }
    if let Some(live) = repo::live_offer(&mut tx, id).await? {
        repo::end_offer(&mut tx, live.id, OfferStatus::Withdrawn, None, None, now).await?;
    }
    assign(&mut tx, &mut task, req.freelancer_id, Actor::Staff, principal.user_id.0, "staff", now).await?;
    platform::audit::Entry::new(principal.actor(), "task.assign", "task", id.0)
        .after(json!({"freelancer": req.freelancer_id}))
        .record(&mut tx, now)
        .await?;
    let answer = crate::tasks::service::view(&mut tx, &task).await?;
    tx.commit().await?;
    Ok(answer)
}

/// "Who would get this task, and why", at its level now, without making an offer (staff).
pub async fn preview(
    ctx: &AppContext,
    settings: &TaskSettings,
    principal: &Principal,
    id: TaskId,
) -> Result<dto::Preview, ApiError> {
    crate::require_staff(principal)?;
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let task = crate::tasks::repo::task(&mut conn, id, false).await?.ok_or(TasksError::NotFound("task"))?;
    let level = level_of(&task).clamp(1, 3);
    let (version, weights, _, ranking) = ranking(&mut conn, settings, &task, level, None, now).await?;
    Ok(dto::Preview::new(level, version, weights, ranking))
}

/// The caller's offers, newest first (`open` keeps the live ones).
pub async fn my_offers(
    ctx: &AppContext,
    principal: &Principal,
    open: bool,
    page: &platform::pagination::PageParams,
) -> Result<platform::pagination::Page<dto::TaskOffer>, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::offers_of_user(&mut conn, principal.user_id.0, open, after, i64::from(limit) + 1).await?;
    let page = platform::pagination::Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    Ok(platform::pagination::Page {
        items: page.items.into_iter().map(dto::TaskOffer::from).collect(),
        next_cursor: page.next_cursor,
    })
}

/// `tasks.assign`: the first step of a new task (or a task whose claims closed).
async fn run_assign(ctx: AppContext, settings: &TaskSettings, id: TaskId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut task) = crate::tasks::repo::task(&mut tx, id, true).await? else { return Ok(()) };
    if task.status != TaskStatus::Pending {
        return Ok(());
    }
    advance(&mut tx, settings, &mut task, now).await.map_err(|e| JobFailure::retry(e.detail()))?;
    tx.commit().await?;
    Ok(())
}

/// `tasks.offer_expire`: one sweep a second. Every offer unanswered by now is expired, in batches of up
/// to 1,000 a transaction, each a handful of set-based statements whatever its size: the batch's tasks
/// locked in id order, their offers ended, the steps logged, the tasks set back to waiting and the
/// assignment job asked for each task's next candidate. Sweeps that overlap find the other's offers done
/// and pass them by.
async fn run_expire(ctx: AppContext) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut after = None;
    loop {
        let mut tx = ctx.db.begin().await?;
        let tasks = repo::lock_due_tasks(&mut tx, now, after, SWEEP_BATCH).await?;
        let full = tasks.len() as i64 == SWEEP_BATCH;
        after = tasks.last().copied().map(TaskId);
        expire_batch(&mut tx, &tasks, now).await?;
        tx.commit().await?;
        if !full {
            return Ok(());
        }
    }
}

/// Expires the due offers of `tasks` (locked) and sets their tasks waiting again (an offered task goes
/// back to pending: the rule `state.rs` gives the system).
async fn expire_batch(conn: &mut PgConnection, tasks: &[Uuid], now: DateTime<Utc>) -> Result<(), JobFailure> {
    if tasks.is_empty() {
        return Ok(());
    }
    state::check(TaskStatus::Offered, TaskStatus::Pending, Actor::System)
        .map_err(|e| JobFailure::retry(e.to_string()))?;
    let expired = repo::expire_due(conn, tasks, now).await?;
    let entries: Vec<_> =
        expired.iter().map(|o| (o.task_id, json!({"offer_id": o.id, "freelancer": o.user_id}))).collect();
    crate::tasks::repo::log_many(conn, "offer_expired", &entries, now).await?;
    let ids: Vec<Uuid> = expired.iter().map(|o| o.task_id.0).collect();
    crate::tasks::repo::reopen_offered(conn, &ids, now).await?;
    let jobs: Vec<NewJob> = expired.iter().map(|o| assign_job(o.task_id)).collect();
    jobs::enqueue_many(conn, &jobs, now).await?;
    Ok(())
}

/// When the sweep for an offer due at `at` runs: at `at` if it is a whole second, else at the next one.
fn sweep_at(at: DateTime<Utc>) -> DateTime<Utc> {
    let whole = DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at);
    if whole == at { at } else { whole + chrono::Duration::seconds(1) }
}

/// `tasks.claims_close`: a task still unclaimed when its window closes becomes unassignable.
async fn run_close_claims(ctx: AppContext, settings: &TaskSettings, id: TaskId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut task) = crate::tasks::repo::task(&mut tx, id, true).await? else { return Ok(()) };
    if task.status != TaskStatus::Pending || task.level != 3 || task.claims_until.is_none_or(|u| u > now) {
        return Ok(());
    }
    advance(&mut tx, settings, &mut task, now).await.map_err(|e| JobFailure::retry(e.detail()))?;
    tx.commit().await?;
    Ok(())
}

/// `tasks.dispatch`: capacity freed; tasks waiting at levels 1–3 are offered again, oldest first (at
/// level 3 an offer goes out while the claim window stays open).
async fn run_dispatch(ctx: AppContext, settings: &TaskSettings, job: Uuid) -> Result<(), JobFailure> {
    // Capacity freed while this runs asks for another dispatch, not this one.
    jobs::release_unique(&ctx.db, job).await?;
    let now = ctx.clock.now();
    let waiting = {
        let mut conn = ctx.db.acquire().await?;
        repo::waiting_tasks(&mut conn, 100).await?
    };
    for id in waiting {
        let mut tx = ctx.db.begin().await?;
        let Some(mut task) = crate::tasks::repo::task(&mut tx, id, true).await? else { continue };
        if task.status != TaskStatus::Pending {
            continue;
        }
        let step = if task.level == 3 && task.claims_until.is_some_and(|u| u > now) {
            offer_during_claims(&mut tx, settings, &mut task, now).await
        } else {
            advance(&mut tx, settings, &mut task, now).await
        };
        step.map_err(|e| JobFailure::retry(e.detail()))?;
        tx.commit().await?;
    }
    Ok(())
}

/// An offer to the best qualified candidate of a task open to claims.
async fn offer_during_claims(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    task: &mut TaskRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let (version, _, _, ranking) = ranking(conn, settings, task, 3, None, now).await?;
    if let Some(best) = ranking.ranked.first().cloned() {
        make_offer(conn, settings, task, version, &best, now).await?;
        crate::tasks::repo::save(conn, task, now).await?;
    }
    Ok(())
}

/// Asks for a dispatch of waiting tasks (one at a time: a second request while one waits is merged).
pub(crate) async fn capacity_freed(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<()> {
    jobs::enqueue(conn, NewJob::new(DISPATCH, json!({})).unique("tasks:dispatch"), now).await?;
    Ok(())
}

/// Starts assignment of a new task (in the creating transaction).
pub(crate) async fn start(conn: &mut PgConnection, task: TaskId, now: DateTime<Utc>) -> sqlx::Result<()> {
    jobs::enqueue(conn, assign_job(task), now).await?;
    Ok(())
}

/// The assignment job's next step for a task (one at a time per task).
fn assign_job(task: TaskId) -> NewJob {
    NewJob::new(ASSIGN, json!({"task_id": task})).unique(format!("assign:{task}"))
}

/// Ends the live offer of a task being cancelled.
pub(crate) async fn withdraw_live(conn: &mut PgConnection, task: TaskId, now: DateTime<Utc>) -> sqlx::Result<()> {
    if let Some(live) = repo::live_offer(conn, task).await? {
        repo::end_offer(conn, live.id, OfferStatus::Withdrawn, None, None, now).await?;
    }
    Ok(())
}

/// The configurations, newest first (staff).
pub async fn configs(ctx: &AppContext, principal: &Principal) -> Result<Vec<dto::Config>, ApiError> {
    crate::require_staff(principal)?;
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::configs(&mut conn).await?.into_iter().map(dto::Config::from).collect())
}

/// A new draft configuration (staff): weights of 0–100 summing to exactly 100.
pub async fn new_config(ctx: &AppContext, principal: &Principal, req: dto::NewConfig) -> Result<dto::Config, ApiError> {
    crate::require_staff(principal)?;
    let w = &req.weights;
    let parts = [w.skill, w.timezone, w.experience, w.workload, w.performance];
    let names = ["weights.skill", "weights.timezone", "weights.experience", "weights.workload", "weights.performance"];
    for (value, name) in parts.iter().zip(names) {
        if !(0..=100).contains(value) {
            return Err(ApiError::invalid_field(name, "out_of_range", "must be 0 to 100"));
        }
    }
    let sum: i16 = parts.iter().sum();
    if sum != 100 {
        return Err(ApiError::invalid_field(
            "weights",
            "must_sum_to_100",
            format!("sum to {sum}; they must sum to 100"),
        ));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let version =
        repo::insert_draft(&mut tx, parts, req.note.as_deref().unwrap_or(""), principal.user_id.0, now).await?;
    platform::audit::Entry::new(principal.actor(), "task_config.draft", "task_assignment_config", Uuid::nil())
        .after(json!({"version": version, "weights": parts}))
        .record(&mut tx, now)
        .await?;
    let row = repo::config(&mut tx, version).await?.ok_or(TasksError::NotFound("configuration"))?;
    tx.commit().await?;
    Ok(row.into())
}

/// Publishes a draft (staff): it becomes the one active version; the previous one is retired.
pub async fn publish_config(ctx: &AppContext, principal: &Principal, version: i32) -> Result<dto::Config, ApiError> {
    crate::require_staff(principal)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = repo::config(&mut tx, version).await?.ok_or(TasksError::NotFound("configuration"))?;
    if row.status != "draft" {
        return Err(ApiError::new(TasksCode::ConfigPublished, format!("Version {version} is {}.", row.status)));
    }
    repo::publish(&mut tx, version, now).await?;
    platform::audit::Entry::new(principal.actor(), "task_config.publish", "task_assignment_config", Uuid::nil())
        .after(json!({"version": version}))
        .record(&mut tx, now)
        .await?;
    let row = repo::config(&mut tx, version).await?.ok_or(TasksError::NotFound("configuration"))?;
    tx.commit().await?;
    Ok(row.into())
}

pub fn register(registry: &mut Registry, settings: TaskSettings) {
    let s = std::sync::Arc::new(settings);
    let a = s.clone();
    registry.register(ASSIGN, move |ctx: AppContext, job: Job| {
        let s = a.clone();
        async move { run_assign(ctx, &s, job.field("task_id")?).await }
    });
    registry.register(EXPIRE, |ctx: AppContext, _: Job| async move { run_expire(ctx).await });
    let c = s.clone();
    registry.register(CLOSE_CLAIMS, move |ctx: AppContext, job: Job| {
        let s = c.clone();
        async move { run_close_claims(ctx, &s, job.field("task_id")?).await }
    });
    registry.register(DISPATCH, move |ctx: AppContext, job: Job| {
        let s = s.clone();
        async move { run_dispatch(ctx, &s, job.id).await }
    });
}
