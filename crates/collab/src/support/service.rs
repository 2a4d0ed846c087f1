//! The support desk's rules: who may see a ticket (its requester and the agents), its steps, its targets
//! and their timers, internal notes, canned replies.
//!
//! A ticket's conversation with its requester is a thread of kind `support_ticket`; its notes are a
//! thread of kind `support_notes`, which only agents may read. Every route that reads messages asks the
//! conversation's access first, so a note cannot reach a customer by any of them.

use chrono::{DateTime, Duration, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target as AuthTarget};
use platform::discussion::Discussion;
use platform::error::FieldError;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, PlatformCode};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::canned;
use super::dto::{
    Assignment, CannedReply, CannedReplyInput, NewTicket, Person, Rating, Resolve, Satisfaction, Sla, Target,
    TargetChange, Ticket, TicketChange, TicketEvent, TicketMessage, TicketQuery, TicketReply,
};
use super::repo::{self, CannedRow, EventRow, TargetRow, TicketRow};
use super::sla::{self, Clock, Goal};
use crate::conversations::repo as conversations;
use crate::error::{CollabCode, CollabError};
use crate::messages::dto::NewMessage;
use crate::messages::repo::MessageRow;
use crate::model::{ConversationId, MessageId, Priority, TicketCategory, TicketId, TicketStatus};
use crate::{Subjects, notify_users};

/// Open tickets and follow one's own (every signed-in user).
pub const REQUEST: &str = "support.request";
/// Work the desk (staff and admins).
pub const AGENT: &str = "support.agent";
/// Set the desk's targets (admins).
pub const ADMIN: &str = "support.admin";

/// The thread between a ticket's requester and the agents.
pub const TICKET_SUBJECT: &str = "support_ticket";
/// The agents' internal notes on a ticket.
pub const NOTES_SUBJECT: &str = "support_notes";

/// How long after its resolution a ticket may be reopened; it closes by itself then.
pub const REOPEN_WITHIN: Duration = Duration::days(7);

/// A timer: a ticket's target falls due; if it is still running, it is missed and escalated.
pub const SLA_DUE: JobKind = JobKind::new("support.sla").max_attempts(10);
/// A timer: a resolved ticket closes seven days after its resolution.
pub const AUTO_CLOSE: JobKind = JobKind::new("support.ticket.close").max_attempts(10);

/// Tickets one person may open in an hour.
pub const OPEN_PER_HOUR: u32 = 10;

/// Whether the caller works the support desk.
pub fn is_agent(principal: &Principal) -> bool {
    authz::authorize(principal, AGENT, AuthTarget::Platform).is_ok()
}

fn title(t: &TicketRow) -> String {
    format!("Support #{}: {}", t.number, t.subject)
}

/// The thread of a ticket, for its requester and the agents.
pub async fn discussion(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<Option<Discussion>, ApiError> {
    let Some(t) = repo::ticket(conn, TicketId(id), false).await? else { return Ok(None) };
    if t.requester_id != principal.user_id.0 && !is_agent(principal) {
        return Ok(None);
    }
    let mut people = vec![t.requester_id];
    people.extend(t.assignee_id.filter(|a| *a != t.requester_id));
    Ok(Some(Discussion { title: title(&t), people }))
}

/// The internal notes of a ticket, for agents only.
pub async fn notes_discussion(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<Option<Discussion>, ApiError> {
    if !is_agent(principal) {
        return Ok(None);
    }
    let Some(t) = repo::ticket(conn, TicketId(id), false).await? else { return Ok(None) };
    Ok(Some(Discussion { title: format!("Notes · {}", title(&t)), people: t.assignee_id.into_iter().collect() }))
}

/// The ticket if the caller may see it (its requester, an agent); 404 for anyone else.
async fn visible(
    conn: &mut PgConnection,
    principal: &Principal,
    id: TicketId,
    lock: bool,
) -> Result<TicketRow, ApiError> {
    let t = repo::ticket(conn, id, lock).await?.ok_or(CollabError::NotFound("ticket"))?;
    if t.requester_id != principal.user_id.0 && !is_agent(principal) {
        return Err(CollabError::NotFound("ticket").into());
    }
    Ok(t)
}

fn agents_only(principal: &Principal, what: &str) -> Result<(), ApiError> {
    if is_agent(principal) {
        Ok(())
    } else {
        Err(ApiError::new(PlatformCode::Forbidden, format!("Only the support team {what}.")))
    }
}

fn clock(t: &TicketRow) -> Clock {
    Clock {
        settled: t.status.settled(),
        first_response_due: t.first_response_due,
        first_responded: t.first_responded_at.is_some(),
        first_response_breached: t.first_response_breached_at.is_some(),
        resolution_due: t.resolution_due,
        resolution_breached: t.resolution_breached_at.is_some(),
    }
}

fn reopen_until(t: &TicketRow) -> Option<DateTime<Utc>> {
    t.resolved_at.map(|at| at + REOPEN_WITHIN)
}

fn within_reopen(t: &TicketRow, now: DateTime<Utc>) -> bool {
    reopen_until(t).is_some_and(|until| now < until)
}

fn parse_category(text: &str, errors: &mut Vec<FieldError>) -> Option<TicketCategory> {
    let category = TicketCategory::parse(text);
    if category.is_none() {
        let all: Vec<&str> = TicketCategory::ALL.iter().map(|c| c.as_str()).collect();
        errors.push(FieldError::new("category", "invalid_value", format!("must be one of {}", all.join(", "))));
    }
    category
}

fn parse_priority(text: &str, agent: bool, errors: &mut Vec<FieldError>) -> Option<Priority> {
    match Priority::parse(text) {
        Some(Priority::Urgent) if !agent => {
            errors.push(FieldError::new("priority", "not_allowed", "urgent is set by the support team"));
            None
        }
        Some(p) => Some(p),
        None => {
            errors.push(FieldError::new("priority", "invalid_value", "must be low, medium, high or urgent"));
            None
        }
    }
}

fn check_subject(subject: &str, errors: &mut Vec<FieldError>) {
    if subject.is_empty() || subject.chars().count() > 200 {
        errors.push(FieldError::new("subject", "invalid_length", "must be 1 to 200 characters"));
    }
}

/// Records a step of the ticket's history.
async fn record(
    conn: &mut PgConnection,
    t: &TicketRow,
    kind: &str,
    from: Option<TicketStatus>,
    by: Option<Uuid>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let event = EventRow {
        id: platform::ids::new_id(),
        ticket_id: t.id,
        kind: kind.to_owned(),
        from_status: from.map(|s| s.as_str().to_owned()),
        to_status: from.map(|_| t.status.as_str().to_owned()),
        by_user: by,
        detail,
        created_at: now,
    };
    repo::insert_event(conn, &event).await
}

/// Moves the ticket to `to`, recording the step (nothing when it is there already).
async fn move_to(
    conn: &mut PgConnection,
    t: &mut TicketRow,
    to: TicketStatus,
    by: Option<Uuid>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if t.status == to {
        return Ok(());
    }
    let from = t.status;
    t.status = to;
    t.updated_at = now;
    record(conn, t, "status", Some(from), by, detail, now).await
}

fn timer_key(id: TicketId, what: &str) -> String {
    format!("support:{}:{what}", id.0)
}

/// Sets the ticket's timers to its targets: one per running target at its due time, none once the
/// ticket is settled (a resolved ticket's closing timer is set by `resolve`).
pub(crate) async fn schedule(conn: &mut PgConnection, t: &TicketRow, now: DateTime<Utc>) -> sqlx::Result<()> {
    let c = clock(t);
    for goal in [Goal::FirstResponse, Goal::Resolution] {
        let key = timer_key(t.id, goal.as_str());
        jobs::cancel_unique(conn, &key, now).await?;
        if c.running(goal) {
            let job = NewJob::new(SLA_DUE, json!({"ticket_id": t.id, "target": goal.as_str()}));
            jobs::enqueue(conn, job.at(c.due(goal)).unique(key), now).await?;
        }
    }
    Ok(())
}

/// The agents (staff and admins), without `except`.
async fn agents(conn: &mut PgConnection, except: Uuid) -> sqlx::Result<Vec<Uuid>> {
    let roles = authz::roles_granting(AGENT);
    Ok(identity::service::role_holders(conn, &roles).await?.into_iter().filter(|u| *u != except).collect())
}

async fn names(conn: &mut PgConnection, t: &TicketRow) -> sqlx::Result<std::collections::HashMap<Uuid, String>> {
    let mut ids = vec![t.requester_id];
    ids.extend(t.assignee_id);
    identity::service::display_names(conn, &ids).await
}

/// The ticket as the caller sees it: agents see its notes and targets; the requester does not.
async fn view(
    conn: &mut PgConnection,
    principal: &Principal,
    t: TicketRow,
    now: DateTime<Utc>,
) -> sqlx::Result<Ticket> {
    let names = names(conn, &t).await?;
    Ok(ticket_of(principal, t, &names, now))
}

fn ticket_of(
    principal: &Principal,
    t: TicketRow,
    names: &std::collections::HashMap<Uuid, String>,
    now: DateTime<Utc>,
) -> Ticket {
    let agent = is_agent(principal);
    let requester = t.requester_id == principal.user_id.0;
    let person = |id: Uuid| Person { id, display_name: names.get(&id).cloned().unwrap_or_default() };
    let reopenable = t.status.settled() && within_reopen(&t, now);
    let mut can = Vec::new();
    if !t.status.settled() || reopenable {
        can.push("reply");
    }
    if agent {
        can.extend(["note", "assign", "change"]);
        if !t.status.settled() {
            can.push("resolve");
        }
    }
    if t.status != TicketStatus::Closed {
        can.push("close");
    }
    if reopenable {
        can.push("reopen");
    }
    if requester && t.status.settled() {
        can.push("rate");
    }
    let c = clock(&t);
    let sla = agent.then(|| Sla {
        first_response_due: t.first_response_due,
        first_responded_at: t.first_responded_at,
        first_response_breached_at: t.first_response_breached_at,
        resolution_due: t.resolution_due,
        resolution_breached_at: t.resolution_breached_at,
        escalated_at: t.escalated_at,
        next: c.next().map(|(g, _)| g.as_str().to_owned()),
        next_due: c.next().map(|(_, due)| due),
    });
    Ticket {
        id: t.id,
        number: t.number,
        reopen_until: reopen_until(&t),
        requester: person(t.requester_id),
        assignee: t.assignee_id.map(person),
        subject: t.subject,
        description: t.description,
        category: t.category.as_str().to_owned(),
        priority: t.priority.as_str().to_owned(),
        status: t.status.as_str().to_owned(),
        conversation_id: t.conversation_id,
        notes_conversation_id: agent.then_some(t.notes_conversation_id),
        resolution: t.resolution,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        reopened_count: t.reopened_count,
        satisfaction: t.satisfaction.zip(t.rated_at).map(|(score, rated_at)| Satisfaction {
            score,
            comment: t.satisfaction_comment,
            rated_at,
        }),
        sla,
        last_activity_at: t.last_activity_at,
        created_at: t.created_at,
        updated_at: t.updated_at,
        can: can.into_iter().map(str::to_owned).collect(),
    }
}

/// Opens a ticket: its conversation starts with the description, its targets' timers start, and the
/// agents are told.
pub async fn open(ctx: &AppContext, principal: &Principal, req: NewTicket) -> Result<Ticket, ApiError> {
    authz::authorize(principal, REQUEST, AuthTarget::Platform)?;
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let agent = is_agent(principal);
    let mut errors = Vec::new();
    let subject = req.subject.trim().to_owned();
    check_subject(&subject, &mut errors);
    if req.description.trim().is_empty() || req.description.chars().count() > crate::messages::service::MAX_BODY {
        errors.push(FieldError::new("description", "invalid_length", "must be 1 to 16,000 characters"));
    } else if req.description.contains('\0') {
        errors.push(FieldError::new("description", "invalid_character", "must not contain NUL"));
    }
    let category = parse_category(req.category.trim(), &mut errors);
    let priority =
        req.priority.as_deref().map_or(Some(Priority::Medium), |p| parse_priority(p.trim(), agent, &mut errors));
    let (Some(category), Some(priority), true) = (category, priority, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let mut conn = ctx.db.acquire().await?;
    platform::ratelimit::hit(
        &mut *conn,
        &format!("support.open:{me}"),
        platform::ratelimit::Limit::new(OPEN_PER_HOUR, std::time::Duration::from_secs(3600)),
        now,
    )
    .await?;
    drop(conn);
    let mut tx = ctx.db.begin().await?;
    let target = repo::target(&mut tx, priority).await?;
    let id = TicketId::new();
    let conversation = conversations::thread_of(&mut tx, TICKET_SUBJECT, id.0, me, now).await?;
    let notes = conversations::thread_of(&mut tx, NOTES_SUBJECT, id.0, me, now).await?;
    let mut t = TicketRow::opened(
        id,
        me,
        (subject, req.description.clone()),
        category,
        priority,
        (conversation.id, notes.id),
        &target,
        now,
    );
    t.number = repo::insert(&mut tx, &t).await?;
    let first = MessageRow {
        id: MessageId::new(),
        conversation_id: conversation.id,
        author_id: me,
        body: req.description,
        reply_to: None,
        reply_count: 0,
        created_at: now,
        edited_at: None,
        deleted_at: None,
    };
    crate::messages::repo::insert(&mut tx, &first).await?;
    conversations::mark_read(&mut tx, conversation.id, me, now).await?;
    record(&mut tx, &t, "opened", None, Some(me), json!({"priority": priority, "category": category}), now).await?;
    schedule(&mut tx, &t, now).await?;
    let names = identity::service::display_names(&mut tx, &[me]).await?;
    let requester = names.get(&me).cloned().unwrap_or_default();
    let told = agents(&mut tx, me).await?;
    let data = json!({"ticket_id": id, "number": t.number, "subject": t.subject, "priority": priority,
                      "requester": requester});
    notify_users(&mut tx, told, "support.ticket.opened", data, now).await?;
    tx.commit().await?;
    let mut conn = ctx.db.acquire().await?;
    Ok(view(&mut conn, principal, t, now).await?)
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: TicketId) -> Result<Ticket, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let t = visible(&mut conn, principal, id, false).await?;
    Ok(view(&mut conn, principal, t, ctx.clock.now()).await?)
}

/// The caller's tickets; for agents every ticket, filtered, or the queue (`sort=due`).
pub async fn list(ctx: &AppContext, principal: &Principal, query: &TicketQuery) -> Result<Page<Ticket>, ApiError> {
    let page = PageParams { cursor: query.cursor.clone(), limit: query.limit };
    let limit = page.limit()?;
    let agent = is_agent(principal);
    let me = principal.user_id.0;
    let mut errors = Vec::new();
    let mut statuses = Vec::new();
    for s in query.status.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match TicketStatus::parse(s) {
            Some(status) => statuses.push(status.as_str().to_owned()),
            None => errors.push(FieldError::new(
                "status",
                "invalid_value",
                "must be open, pending_customer, pending_staff, resolved or closed (comma-separated)",
            )),
        }
    }
    let (assignee, unassigned) = match query.assignee.as_deref() {
        None => (None, false),
        Some(_) if !agent => {
            errors.push(FieldError::new("assignee", "not_allowed", "filters the support team's tickets"));
            (None, false)
        }
        Some("me") => (Some(me), false),
        Some("none") => (None, true),
        Some(other) => match Uuid::parse_str(other) {
            Ok(id) => (Some(id), false),
            Err(_) => {
                errors.push(FieldError::new("assignee", "invalid_value", "must be me, none or a user id"));
                (None, false)
            }
        },
    };
    let priority = query.priority.as_deref().and_then(|p| parse_priority(p, true, &mut errors));
    let category = query.category.as_deref().and_then(|c| parse_category(c, &mut errors));
    let by_due = match query.sort.as_deref() {
        None | Some("created") => false,
        Some("due") if agent => true,
        Some("due") => {
            errors.push(FieldError::new("sort", "not_allowed", "due orders the support team's queue"));
            false
        }
        Some(_) => {
            errors.push(FieldError::new("sort", "invalid_value", "must be created or due"));
            false
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let page = if by_due {
        let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
        let rows = repo::queue(&mut conn, assignee, unassigned, after, i64::from(limit) + 1).await?;
        // The queue's order (repo::queue): the first response's due time until one is given, then the
        // resolution's; a missed target stays at the top.
        Page::from_overfetch(rows, limit, |t| {
            (if t.first_responded_at.is_none() { t.first_response_due } else { t.resolution_due }, t.id.0)
        })
    } else {
        let before: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
        let requester = (!agent || query.mine).then_some(me);
        let breached = agent && query.breached;
        let rows = repo::list(
            &mut conn,
            requester,
            &statuses,
            assignee,
            unassigned,
            priority,
            category,
            breached,
            before,
            i64::from(limit) + 1,
        )
        .await?;
        Page::from_overfetch(rows, limit, |t| (t.created_at, t.id.0))
    };
    let mut ids: Vec<Uuid> =
        page.items.iter().flat_map(|t| std::iter::once(t.requester_id).chain(t.assignee_id)).collect();
    ids.sort();
    ids.dedup();
    let names = identity::service::display_names(&mut conn, &ids).await?;
    let items = page.items.into_iter().map(|t| ticket_of(principal, t, &names, now)).collect();
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// An agent changes a ticket's subject, category or priority; a new priority moves its targets.
pub async fn change(
    ctx: &AppContext,
    principal: &Principal,
    id: TicketId,
    req: TicketChange,
) -> Result<Ticket, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut t = visible(&mut tx, principal, id, true).await?;
    agents_only(principal, "changes a ticket's subject, category and priority")?;
    let mut errors = Vec::new();
    let before = json!({"subject": t.subject, "category": t.category, "priority": t.priority});
    if let Some(subject) = &req.subject {
        t.subject = subject.trim().to_owned();
        check_subject(&t.subject, &mut errors);
    }
    if let Some(category) = req.category.as_deref().and_then(|c| parse_category(c.trim(), &mut errors)) {
        t.category = category;
    }
    let priority = req.priority.as_deref().and_then(|p| parse_priority(p.trim(), true, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if let Some(priority) = priority.filter(|p| *p != t.priority) {
        // Each target keeps its start (the opening, or the last reopening) and takes the new length.
        let old = repo::target(&mut tx, t.priority).await?;
        let new = repo::target(&mut tx, priority).await?;
        t.first_response_due = sla::after(t.created_at, new.first_response_minutes);
        let started = t.resolution_due - Duration::minutes(i64::from(old.resolution_minutes));
        t.resolution_due = sla::after(started, new.resolution_minutes);
        t.priority = priority;
    }
    t.updated_at = now;
    repo::save(&mut tx, &t).await?;
    let after = json!({"subject": t.subject, "category": t.category, "priority": t.priority});
    if before != after {
        record(&mut tx, &t, "changed", None, Some(principal.user_id.0), json!({"before": before, "after": after}), now)
            .await?;
        schedule(&mut tx, &t, now).await?;
    }
    let view = view(&mut tx, principal, t, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// An agent gives the ticket to an agent (themselves included), or back to the queue.
pub async fn assign(
    ctx: &AppContext,
    principal: &Principal,
    id: TicketId,
    req: Assignment,
) -> Result<Ticket, ApiError> {
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let mut t = visible(&mut tx, principal, id, true).await?;
    agents_only(principal, "assigns tickets")?;
    if let Some(user) = req.user_id {
        let roles = identity::service::active_roles_of(&mut tx, identity::model::UserId(user)).await?;
        let agent_roles = authz::roles_granting(AGENT);
        if !roles.iter().any(|r| agent_roles.contains(&r.as_str())) {
            return Err(ApiError::invalid_field("user_id", "not_an_agent", "names nobody on the support team"));
        }
    }
    if t.assignee_id != req.user_id {
        let from = t.assignee_id;
        t.assignee_id = req.user_id;
        t.updated_at = now;
        repo::save(&mut tx, &t).await?;
        record(&mut tx, &t, "assigned", None, Some(me), json!({"from": from, "to": req.user_id}), now).await?;
        if let Some(user) = req.user_id.filter(|u| *u != me) {
            let data = json!({"ticket_id": t.id, "number": t.number, "subject": t.subject, "priority": t.priority});
            notify_users(&mut tx, vec![user], "support.ticket.assigned", data, now).await?;
        }
    }
    let view = view(&mut tx, principal, t, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// The ticket a conversation is the public thread of, if it is one.
pub(crate) fn ticket_of_thread(conversation: &conversations::ConversationRow) -> Option<TicketId> {
    (conversation.subject_kind.as_deref() == Some(TICKET_SUBJECT))
        .then_some(conversation.subject_id)
        .flatten()
        .map(TicketId)
}

/// Where an internal note asked for on `conversation` goes: the notes of the ticket whose thread it is
/// (or the notes themselves). The caller may read `conversation`.
pub(crate) async fn notes_of(
    conn: &mut PgConnection,
    principal: &Principal,
    conversation: &conversations::ConversationRow,
) -> Result<ConversationId, ApiError> {
    let not_here =
        || ApiError::invalid_field("internal", "not_allowed", "internal notes are written on support tickets only");
    let ticket = match conversation.subject_kind.as_deref() {
        Some(NOTES_SUBJECT) => return Ok(conversation.id),
        Some(TICKET_SUBJECT) => conversation.subject_id.map(TicketId).ok_or_else(not_here)?,
        _ => return Err(not_here()),
    };
    let t = visible(conn, principal, ticket, false).await?;
    if !is_agent(principal) {
        return Err(ApiError::invalid_field("internal", "not_allowed", "internal notes are the support team's"));
    }
    Ok(t.notes_conversation_id)
}

/// What a message in a ticket's public thread does to the ticket, in the message's transaction: a
/// settled ticket reopens (within seven days of its resolution; after that the message is refused);
/// an agent's message is the first response if none was, and waits on the customer; the requester's
/// waits on the desk.
pub(crate) async fn on_message(
    conn: &mut PgConnection,
    principal: &Principal,
    id: TicketId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut t = repo::ticket(conn, id, true).await?.ok_or(CollabError::NotFound("ticket"))?;
    let me = principal.user_id.0;
    let mut timers = false;
    if t.status.settled() {
        reopen_row(conn, &mut t, me, now).await?;
        timers = true;
    }
    let to = if t.requester_id == me {
        if t.first_responded_at.is_some() { TicketStatus::PendingStaff } else { TicketStatus::Open }
    } else {
        if t.first_responded_at.is_none() {
            t.first_responded_at = Some(now);
            timers = true;
        }
        TicketStatus::PendingCustomer
    };
    move_to(conn, &mut t, to, Some(me), json!({"by": "message"}), now).await?;
    t.last_activity_at = now;
    t.updated_at = now;
    repo::save(conn, &t).await?;
    if timers {
        schedule(conn, &t, now).await?;
    }
    Ok(())
}

/// Reopens a settled ticket within its window: its resolution target starts again from now.
async fn reopen_row(conn: &mut PgConnection, t: &mut TicketRow, by: Uuid, now: DateTime<Utc>) -> Result<(), ApiError> {
    if !within_reopen(t, now) {
        return Err(ApiError::new(
            CollabCode::ReopenWindowClosed,
            format!(
                "Ticket #{} was resolved more than {} days ago; open a new ticket (you can mention #{}).",
                t.number,
                REOPEN_WITHIN.num_days(),
                t.number
            ),
        ));
    }
    let from = t.status;
    let target = repo::target(conn, t.priority).await?;
    let detail = json!({"resolution": t.resolution, "satisfaction": t.satisfaction});
    t.status = if t.first_responded_at.is_some() { TicketStatus::PendingStaff } else { TicketStatus::Open };
    t.resolved_at = None;
    t.closed_at = None;
    t.resolution = None;
    t.satisfaction = None;
    t.satisfaction_comment = None;
    t.rated_at = None;
    t.reopened_count += 1;
    t.resolution_due = sla::after(now, target.resolution_minutes);
    t.resolution_breached_at = None;
    t.updated_at = now;
    record(conn, t, "reopened", Some(from), Some(by), detail, now).await?;
    jobs::cancel_unique(conn, &timer_key(t.id, "close"), now).await?;
    Ok(())
}

/// Posts on a ticket: a reply (text or a canned reply) to the requester, or an internal note.
pub async fn post(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: TicketId,
    req: TicketReply,
) -> Result<TicketMessage, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let t = visible(&mut conn, principal, id, false).await?;
    let agent = is_agent(principal);
    if req.internal && !agent {
        return Err(ApiError::invalid_field("internal", "not_allowed", "internal notes are the support team's"));
    }
    let (body, canned) = match (req.body, req.canned_reply_id) {
        (Some(body), None) => (body, None),
        (None, Some(canned)) if agent => {
            let reply = repo::canned_reply(&mut conn, canned)
                .await?
                .ok_or_else(|| ApiError::invalid_field("canned_reply_id", "not_found", "names no canned reply"))?;
            let names = names(&mut conn, &t).await?;
            let me = principal.user_id.0;
            let agent_name = identity::service::display_names(&mut conn, &[me]).await?.remove(&me).unwrap_or_default();
            let number = t.number.to_string();
            let requester = names.get(&t.requester_id).map_or("", String::as_str);
            (canned::fill(&reply.body, [requester, &number, &t.subject, &agent_name]), Some(canned))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid_field(
                "canned_reply_id",
                "not_allowed",
                "canned replies are the support team's",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field("body", "not_applicable", "give body or canned_reply_id, not both"));
        }
        (None, None) => return Err(ApiError::invalid_field("body", "required", "the message's text")),
    };
    drop(conn);
    // An internal note goes to the ticket's notes; uploads wait in the ticket's conversation either way.
    let message = crate::messages::service::post(
        ctx,
        subjects,
        principal,
        t.conversation_id,
        NewMessage { body, reply_to: None, internal: req.internal, attachments: req.attachments, files: Vec::new() },
    )
    .await?;
    if let Some(canned) = canned {
        let mut conn = ctx.db.acquire().await?;
        repo::canned_used(&mut conn, canned).await?;
    }
    Ok(TicketMessage { internal: req.internal, message })
}

/// The ticket's messages, oldest first: the requester sees the conversation; agents see the notes
/// in it as well, each marked `internal`.
pub async fn timeline(
    ctx: &AppContext,
    principal: &Principal,
    id: TicketId,
    page: &PageParams,
) -> Result<Page<TicketMessage>, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let t = visible(&mut conn, principal, id, false).await?;
    let mut conversations = vec![t.conversation_id.0];
    if is_agent(principal) {
        conversations.push(t.notes_conversation_id.0);
    }
    let rows = crate::messages::repo::timeline(&mut conn, &conversations, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |m| (m.created_at, m.id.0));
    let messages = crate::messages::service::complete(&mut conn, page.items, principal.user_id.0).await?;
    let items = messages
        .into_iter()
        .map(|message| TicketMessage { internal: message.conversation_id == t.notes_conversation_id, message })
        .collect();
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// An agent resolves the ticket: its targets stop, the requester is told, and it closes by itself seven
/// days later unless reopened.
pub async fn resolve(ctx: &AppContext, principal: &Principal, id: TicketId, req: Resolve) -> Result<Ticket, ApiError> {
    let resolution = req.resolution.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if resolution.as_ref().is_some_and(|r| r.chars().count() > 4000) {
        return Err(ApiError::invalid_field("resolution", "too_long", "must be at most 4,000 characters"));
    }
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let mut t = visible(&mut tx, principal, id, true).await?;
    agents_only(principal, "resolves tickets; close your ticket if you no longer need help")?;
    if t.status.settled() {
        return Err(ApiError::new(CollabCode::TicketSettled, format!("Ticket #{} is already {}.", t.number, t.status)));
    }
    t.resolution = resolution;
    t.resolved_at = Some(now);
    t.last_activity_at = now;
    let detail = json!({"resolution": t.resolution});
    move_to(&mut tx, &mut t, TicketStatus::Resolved, Some(me), detail, now).await?;
    repo::save(&mut tx, &t).await?;
    schedule(&mut tx, &t, now).await?;
    let job = NewJob::new(AUTO_CLOSE, json!({"ticket_id": t.id}));
    jobs::enqueue(&mut tx, job.at(now + REOPEN_WITHIN).unique(timer_key(t.id, "close")), now).await?;
    let data = json!({"ticket_id": t.id, "number": t.number, "subject": t.subject,
                      "resolution": t.resolution.clone().unwrap_or_default()});
    notify_users(
        &mut tx,
        vec![t.requester_id].into_iter().filter(|u| *u != me).collect(),
        "support.ticket.resolved",
        data,
        now,
    )
    .await?;
    let view = view(&mut tx, principal, t, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// Closes the ticket (its requester, or an agent): it needs nothing more.
pub async fn close(ctx: &AppContext, principal: &Principal, id: TicketId) -> Result<Ticket, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut t = visible(&mut tx, principal, id, true).await?;
    if t.status == TicketStatus::Closed {
        return Err(ApiError::new(CollabCode::TicketSettled, format!("Ticket #{} is already closed.", t.number)));
    }
    t.resolved_at.get_or_insert(now);
    t.closed_at = Some(now);
    t.last_activity_at = now;
    move_to(&mut tx, &mut t, TicketStatus::Closed, Some(principal.user_id.0), json!({}), now).await?;
    repo::save(&mut tx, &t).await?;
    schedule(&mut tx, &t, now).await?;
    jobs::cancel_unique(&mut tx, &timer_key(t.id, "close"), now).await?;
    let view = view(&mut tx, principal, t, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// Reopens a resolved or closed ticket within seven days of its resolution.
pub async fn reopen(ctx: &AppContext, principal: &Principal, id: TicketId) -> Result<Ticket, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut t = visible(&mut tx, principal, id, true).await?;
    if !t.status.settled() {
        return Err(ApiError::new(
            CollabCode::TicketNotSettled,
            format!("Ticket #{} is {}: it is open.", t.number, t.status),
        ));
    }
    reopen_row(&mut tx, &mut t, principal.user_id.0, now).await?;
    t.last_activity_at = now;
    repo::save(&mut tx, &t).await?;
    schedule(&mut tx, &t, now).await?;
    let view = view(&mut tx, principal, t, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// The requester rates the help they had, once the ticket is resolved or closed (again to change it).
pub async fn rate(ctx: &AppContext, principal: &Principal, id: TicketId, req: Rating) -> Result<Ticket, ApiError> {
    let mut errors = Vec::new();
    if !(1..=5).contains(&req.score) {
        errors.push(FieldError::new("score", "out_of_range", "must be 1 to 5"));
    }
    let comment = req.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        errors.push(FieldError::new("comment", "too_long", "must be at most 2,000 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut t = visible(&mut tx, principal, id, true).await?;
    if t.requester_id != principal.user_id.0 {
        return Err(ApiError::new(CollabCode::NotTheRequester, "Only the ticket's requester rates it."));
    }
    if !t.status.settled() {
        return Err(ApiError::new(
            CollabCode::TicketNotSettled,
            format!("Ticket #{} is {}; it is rated once resolved or closed.", t.number, t.status),
        ));
    }
    t.satisfaction = Some(req.score);
    t.satisfaction_comment = comment;
    t.rated_at = Some(now);
    t.updated_at = now;
    repo::save(&mut tx, &t).await?;
    record(&mut tx, &t, "rated", None, Some(principal.user_id.0), json!({"score": req.score}), now).await?;
    let view = view(&mut tx, principal, t, now).await?;
    tx.commit().await?;
    Ok(view)
}

/// The ticket's history, for agents.
pub async fn events(ctx: &AppContext, principal: &Principal, id: TicketId) -> Result<Vec<TicketEvent>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    visible(&mut conn, principal, id, false).await?;
    agents_only(principal, "reads a ticket's history")?;
    Ok(repo::events(&mut conn, id).await?.into_iter().map(TicketEvent::from).collect())
}

pub async fn targets(ctx: &AppContext, principal: &Principal) -> Result<Vec<Target>, ApiError> {
    agents_only(principal, "reads the desk's targets")?;
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::targets(&mut conn).await?.into_iter().map(Target::from).collect())
}

/// An admin sets a priority's targets; tickets opened from then on are held to them.
pub async fn set_target(
    ctx: &AppContext,
    principal: &Principal,
    priority: &str,
    req: TargetChange,
) -> Result<Target, ApiError> {
    authz::authorize(principal, ADMIN, AuthTarget::Platform)?;
    let Some(priority) = Priority::parse(priority) else {
        return Err(CollabError::NotFound("priority").into());
    };
    let mut errors = Vec::new();
    if !(1..=525_600).contains(&req.first_response_minutes) {
        errors.push(FieldError::new("first_response_minutes", "out_of_range", "must be 1 to 525,600"));
    }
    if !(1..=525_600).contains(&req.resolution_minutes) {
        errors.push(FieldError::new("resolution_minutes", "out_of_range", "must be 1 to 525,600"));
    } else if req.resolution_minutes < req.first_response_minutes {
        errors.push(FieldError::new(
            "resolution_minutes",
            "before_first_response",
            "must be at least first_response_minutes",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let row = TargetRow {
        priority,
        first_response_minutes: req.first_response_minutes,
        resolution_minutes: req.resolution_minutes,
        updated_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    let before = repo::target(&mut tx, priority).await?;
    repo::set_target(&mut tx, &row).await?;
    platform::audit::Entry::new(principal.actor(), "support.target", "support_target", Uuid::nil())
        .before(json!({"priority": priority, "first_response_minutes": before.first_response_minutes,
                       "resolution_minutes": before.resolution_minutes}))
        .after(json!({"priority": priority, "first_response_minutes": row.first_response_minutes,
                      "resolution_minutes": row.resolution_minutes}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(Target::from(row))
}

fn check_canned(req: &CannedReplyInput) -> Result<(String, String), ApiError> {
    let mut errors = Vec::new();
    let title = req.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 100 {
        errors.push(FieldError::new("title", "invalid_length", "must be 1 to 100 characters"));
    }
    if req.body.trim().is_empty() || req.body.chars().count() > crate::messages::service::MAX_BODY {
        errors.push(FieldError::new("body", "invalid_length", "must be 1 to 16,000 characters"));
    } else if let Some(name) = canned::unknown_placeholder(&req.body) {
        errors.push(FieldError::new(
            "body",
            "unknown_placeholder",
            format!("{{{{{name}}}}} is not a placeholder; use {}", canned::PLACEHOLDERS.join(", ")),
        ));
    }
    if errors.is_empty() { Ok((title, req.body.clone())) } else { Err(ApiError::validation(errors)) }
}

pub async fn canned_replies(ctx: &AppContext, principal: &Principal) -> Result<Vec<CannedReply>, ApiError> {
    agents_only(principal, "keeps canned replies")?;
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::canned_replies(&mut conn).await?.into_iter().map(CannedReply::from).collect())
}

pub async fn new_canned_reply(
    ctx: &AppContext,
    principal: &Principal,
    req: CannedReplyInput,
) -> Result<CannedReply, ApiError> {
    agents_only(principal, "keeps canned replies")?;
    let (title, body) = check_canned(&req)?;
    let now = ctx.clock.now();
    let row = CannedRow {
        id: platform::ids::new_id(),
        title,
        body,
        created_by: principal.user_id.0,
        used_count: 0,
        created_at: now,
        updated_at: now,
    };
    let mut conn = ctx.db.acquire().await?;
    repo::insert_canned(&mut conn, &row).await.map_err(CollabError::from)?;
    Ok(CannedReply::from(row))
}

pub async fn change_canned_reply(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    req: CannedReplyInput,
) -> Result<CannedReply, ApiError> {
    agents_only(principal, "keeps canned replies")?;
    let (title, body) = check_canned(&req)?;
    let mut conn = ctx.db.acquire().await?;
    let mut row = repo::canned_reply(&mut conn, id).await?.ok_or(CollabError::NotFound("canned reply"))?;
    row.title = title;
    row.body = body;
    row.updated_at = ctx.clock.now();
    repo::update_canned(&mut conn, &row).await.map_err(CollabError::from)?;
    Ok(CannedReply::from(row))
}

pub async fn delete_canned_reply(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    agents_only(principal, "keeps canned replies")?;
    let mut conn = ctx.db.acquire().await?;
    if repo::delete_canned(&mut conn, id).await? { Ok(()) } else { Err(CollabError::NotFound("canned reply").into()) }
}

/// The timer of a target: missed if still running at its due time, which escalates the ticket (its
/// holder and the admins are told; nobody holding it, every agent).
async fn target_due(ctx: AppContext, id: TicketId, goal: Goal) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut t) = repo::ticket(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such ticket"));
    };
    if !clock(&t).missed(goal, now) {
        return Ok(()); // met, settled, or its due time moved (its new timer is set)
    }
    match goal {
        Goal::FirstResponse => t.first_response_breached_at = Some(now),
        Goal::Resolution => t.resolution_breached_at = Some(now),
    }
    let due = clock(&t).due(goal);
    t.escalated_at.get_or_insert(now);
    t.updated_at = now;
    repo::save(&mut tx, &t).await?;
    record(&mut tx, &t, "breached", None, None, json!({"target": goal.as_str(), "due": due}), now).await?;
    let mut told = match t.assignee_id {
        Some(holder) => {
            let mut people = identity::service::admin_ids(&mut tx).await?;
            people.push(holder);
            people
        }
        None => agents(&mut tx, Uuid::nil()).await?,
    };
    told.sort();
    told.dedup();
    let data = json!({"ticket_id": t.id, "number": t.number, "subject": t.subject, "priority": t.priority,
                      "target": goal.as_str().replace('_', " "), "due": due.format("%Y-%m-%d %H:%M UTC").to_string()});
    notify_users(&mut tx, told, "support.sla.breached", data, now).await?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "support.sla.breached", "support_ticket", id.0)
        .after(json!({"target": goal.as_str(), "due": due}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The closing timer: a ticket still resolved seven days after its resolution closes.
async fn close_due(ctx: AppContext, id: TicketId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut t) = repo::ticket(&mut tx, id, true).await? else {
        return Err(JobFailure::permanent("no such ticket"));
    };
    if t.status != TicketStatus::Resolved || within_reopen(&t, now) {
        return Ok(()); // reopened or closed since, or not yet
    }
    t.closed_at = Some(now);
    move_to(&mut tx, &mut t, TicketStatus::Closed, None, json!({"by": "timer"}), now).await?;
    repo::save(&mut tx, &t).await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(SLA_DUE, |ctx: AppContext, job: Job| async move {
        let id: TicketId = job.field("ticket_id")?;
        let target: String = job.field("target")?;
        let goal = Goal::parse(&target).ok_or_else(|| JobFailure::permanent(format!("unknown target {target}")))?;
        target_due(ctx, id, goal).await
    });
    registry.register(AUTO_CLOSE, |ctx: AppContext, job: Job| async move {
        let id: TicketId = job.field("ticket_id")?;
        close_due(ctx, id).await
    });
}
