//! The support desk in the web app: a customer's tickets and the form to open one; the support team's
//! queue (the next target first, with the time left or missed); a ticket's page with its conversation,
//! the team's internal notes among it (for the team only), canned replies, and the steps each side may
//! take. Every page asks the support desk's services, which decide who may see and do what.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use collab::model::TicketId;
use collab::support::dto::{Assignment, NewTicket, Rating, Resolve, Ticket, TicketChange, TicketQuery, TicketReply};
use collab::support::service as desk;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use uuid::Uuid;

use super::{FieldErrors, Layout, beside_form, done, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

/// A ticket in a list.
pub struct TicketLine {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub requester: String,
    pub assignee: String,
    /// The next target and the time left ("first response due in about 2 hours"), or the miss.
    pub target: String,
    pub missed: bool,
    pub updated: String,
}

/// How a ticket's targets read to an agent at `now`.
fn target_text(t: &Ticket, now: DateTime<Utc>) -> (String, bool) {
    let Some(sla) = &t.sla else { return (String::new(), false) };
    let missed = sla.first_response_breached_at.is_some() || sla.resolution_breached_at.is_some();
    let text = match (&sla.next, sla.next_due) {
        (Some(next), Some(due)) => {
            let what = next.replace('_', " ");
            let seconds = (due - now).num_seconds();
            if seconds >= 0 {
                format!("{what} due in {}", format::duration_seconds(seconds))
            } else {
                format!("{what} due {} ago", format::duration_seconds(-seconds))
            }
        }
        _ if missed => "a target was missed".to_owned(),
        _ => String::new(),
    };
    let text = if missed && sla.next.is_some() { format!("missed a target · {text}") } else { text };
    (text, missed)
}

fn line(t: Ticket, now: DateTime<Utc>) -> TicketLine {
    let (target, missed) = target_text(&t, now);
    TicketLine {
        id: t.id.to_string(),
        number: t.number,
        subject: t.subject,
        status: t.status.replace('_', " "),
        priority: t.priority,
        requester: t.requester.display_name,
        assignee: t.assignee.map(|a| a.display_name).unwrap_or_default(),
        target,
        missed,
        updated: format::when(t.last_activity_at),
    }
}

#[derive(Template)]
#[template(path = "support.html")]
struct DeskPage {
    layout: Layout,
    agent: bool,
    /// Which list an agent sees: `queue`, `mine`, `unassigned`, `breached`, `all`.
    view: String,
    tickets: Vec<TicketLine>,
    categories: Vec<&'static str>,
    form: TicketForm,
    errors: FieldErrors,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeskQuery {
    view: String,
}

async fn desk_page(
    ctx: &AppContext,
    session: &Session,
    view: &str,
    form: TicketForm,
    (errors, error): (FieldErrors, Option<String>),
) -> Result<DeskPage, ApiError> {
    let Some(principal) = &session.principal else { return Err(ApiError::not_found("No such page.")) };
    let agent = desk::is_agent(principal);
    let view = if agent && ["queue", "mine", "unassigned", "breached", "all"].contains(&view) {
        view
    } else if agent {
        "queue"
    } else {
        "all"
    };
    let mut query = TicketQuery { limit: Some(100), ..TicketQuery::default() };
    match view {
        "queue" => query.sort = Some("due".into()),
        "mine" => {
            query.sort = Some("due".into());
            query.assignee = Some("me".into());
        }
        "unassigned" => {
            query.sort = Some("due".into());
            query.assignee = Some("none".into());
        }
        "breached" => query.breached = true,
        _ => {}
    }
    let now = ctx.clock.now();
    let tickets = desk::list(ctx, principal, &query).await?.items.into_iter().map(|t| line(t, now)).collect();
    Ok(DeskPage {
        layout: Layout::new("Support", session),
        agent,
        view: view.to_owned(),
        tickets,
        categories: collab::model::TicketCategory::ALL.iter().map(|c| c.as_str()).collect(),
        form,
        errors,
        error,
    })
}

/// The desk: a customer's tickets and the form to open one; an agent's queue.
pub async fn desk(State(ctx): State<AppContext>, session: Session, Query(q): Query<DeskQuery>) -> Response {
    if session.principal.is_none() {
        return to_signin("/support");
    }
    match desk_page(&ctx, &session, &q.view, TicketForm::default(), (FieldErrors::default(), None)).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct TicketForm {
    pub subject: String,
    pub category: String,
    pub priority: String,
    pub description: String,
}

/// Opens a ticket; a refusal is shown beside the form with what was typed.
pub async fn open(State(ctx): State<AppContext>, session: Session, Form(form): Form<TicketForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/support") };
    let req = NewTicket {
        subject: form.subject.clone(),
        description: form.description.clone(),
        category: form.category.clone(),
        priority: Some(form.priority.clone()).filter(|p| !p.is_empty()),
    };
    match desk::open(&ctx, principal, req).await {
        Ok(t) => done(&format!("/support/tickets/{}", t.id), &format!("Ticket #{} opened.", t.number)),
        Err(err) if beside_form(&err) => {
            let errors = FieldErrors::from_error(&err);
            let error = err.field_errors().is_empty().then(|| err.detail().to_owned());
            match desk_page(&ctx, &session, "all", form, (errors, error)).await {
                Ok(view) => page(err.status(), &view),
                Err(err) => super::error(&session, &err),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A message of a ticket's page.
pub struct TicketMessageView {
    pub author: String,
    pub at: String,
    pub html: String,
    pub deleted: bool,
    pub internal: bool,
}

#[derive(Template)]
#[template(path = "support_ticket.html")]
struct TicketPage {
    layout: Layout,
    t: TicketView,
    messages: Vec<TicketMessageView>,
    canned: Vec<(String, String)>,
    body: String,
    errors: FieldErrors,
    error: Option<String>,
}

/// A ticket as its page shows it.
pub struct TicketView {
    pub id: String,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub category: String,
    pub requester: String,
    pub assignee: String,
    pub opened: String,
    pub resolution: String,
    pub reopen_until: String,
    pub satisfaction: String,
    pub target: String,
    pub missed: bool,
    /// Target lines for agents: (what, due, met or missed).
    pub targets: Vec<(String, String, String)>,
    pub conversation: String,
    pub can: Vec<String>,
}

impl TicketView {
    pub fn may(&self, step: &str) -> bool {
        self.can.iter().any(|c| c == step)
    }
}

fn view_of(t: Ticket, now: DateTime<Utc>) -> TicketView {
    let (target, missed) = target_text(&t, now);
    let targets = t
        .sla
        .as_ref()
        .map(|s| {
            let state = |met: Option<DateTime<Utc>>, missed: Option<DateTime<Utc>>| match (met, missed) {
                (_, Some(at)) => format!("missed at {}", format::when(at)),
                (Some(at), None) => format!("met at {}", format::when(at)),
                (None, None) => "running".to_owned(),
            };
            let resolved = t.resolved_at.filter(|_| s.resolution_breached_at.is_none());
            vec![
                (
                    "First response".to_owned(),
                    format::when(s.first_response_due),
                    state(s.first_responded_at, s.first_response_breached_at),
                ),
                ("Resolution".to_owned(), format::when(s.resolution_due), state(resolved, s.resolution_breached_at)),
            ]
        })
        .unwrap_or_default();
    TicketView {
        id: t.id.to_string(),
        number: t.number,
        subject: t.subject,
        status: t.status.replace('_', " "),
        priority: t.priority,
        category: t.category,
        requester: t.requester.display_name,
        assignee: t.assignee.map(|a| a.display_name).unwrap_or_default(),
        opened: format::when(t.created_at),
        resolution: t.resolution.unwrap_or_default(),
        reopen_until: t.reopen_until.map(format::when).unwrap_or_default(),
        satisfaction: t.satisfaction.map(|s| format!("{} of 5", s.score)).unwrap_or_default(),
        target,
        missed,
        targets,
        conversation: t.conversation_id.to_string(),
        can: t.can,
    }
}

async fn ticket_page(
    ctx: &AppContext,
    session: &Session,
    id: TicketId,
    body: String,
    (errors, error): (FieldErrors, Option<String>),
) -> Result<TicketPage, ApiError> {
    let Some(principal) = &session.principal else { return Err(ApiError::not_found("No such ticket.")) };
    let ticket = desk::get(ctx, principal, id).await?;
    let params = PageParams { limit: Some(200), cursor: None };
    let messages = desk::timeline(ctx, principal, id, &params)
        .await?
        .items
        .into_iter()
        .map(|m| TicketMessageView {
            author: m.message.author_name,
            at: format::when(m.message.created_at),
            html: if m.message.deleted { String::new() } else { crate::markdown::to_html(&m.message.body) },
            deleted: m.message.deleted,
            internal: m.internal,
        })
        .collect();
    let canned = if desk::is_agent(principal) {
        desk::canned_replies(ctx, principal).await?.into_iter().map(|c| (c.id.to_string(), c.title)).collect()
    } else {
        Vec::new()
    };
    Ok(TicketPage {
        layout: Layout::new(format!("#{} {}", ticket.number, ticket.subject), session),
        t: view_of(ticket, ctx.clock.now()),
        messages,
        canned,
        body,
        errors,
        error,
    })
}

/// A ticket's page.
pub async fn ticket(State(ctx): State<AppContext>, session: Session, Path(id): Path<TicketId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/support/tickets/{id}"));
    }
    match ticket_page(&ctx, &session, id, String::new(), (FieldErrors::default(), None)).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// Shows a refusal beside the ticket page's forms (what was typed kept), or the error page.
async fn refused(ctx: &AppContext, session: &Session, id: TicketId, body: String, err: ApiError) -> Response {
    if !beside_form(&err) {
        return super::error(session, &err);
    }
    let errors = FieldErrors::from_error(&err);
    let error = err.field_errors().is_empty().then(|| err.detail().to_owned());
    match ticket_page(ctx, session, id, body, (errors, error)).await {
        Ok(view) => page(err.status(), &view),
        Err(err) => super::error(session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReplyForm {
    body: String,
    canned_reply_id: String,
    internal: String,
}

/// Writes on a ticket: a reply, a canned reply, or an internal note.
pub async fn reply(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<TicketId>,
    Form(form): Form<ReplyForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/support/tickets/{id}")) };
    let canned = form.canned_reply_id.parse::<Uuid>().ok();
    let req = TicketReply {
        body: Some(form.body.clone()).filter(|b| canned.is_none() || !b.trim().is_empty()),
        canned_reply_id: canned,
        internal: !form.internal.is_empty(),
        attachments: Vec::new(),
    };
    let note = req.internal;
    match desk::post(&ctx, &settings.subjects, principal, id, req).await {
        Ok(_) => done(&format!("/support/tickets/{id}#write"), if note { "Note added." } else { "Sent." }),
        Err(err) => refused(&ctx, &session, id, form.body, err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepForm {
    step: String,
    resolution: String,
    score: String,
    comment: String,
    priority: String,
}

/// One of the ticket's steps: take it, resolve, close, reopen, rate, change its priority.
pub async fn step(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<TicketId>,
    Form(form): Form<StepForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/support/tickets/{id}")) };
    let result = match form.step.as_str() {
        "take" => desk::assign(&ctx, principal, id, Assignment { user_id: Some(principal.user_id.0) })
            .await
            .map(|_| "The ticket is yours."),
        "release" => {
            desk::assign(&ctx, principal, id, Assignment { user_id: None }).await.map(|_| "Back in the queue.")
        }
        "resolve" => {
            desk::resolve(&ctx, principal, id, Resolve { resolution: Some(form.resolution) }).await.map(|_| "Resolved.")
        }
        "close" => desk::close(&ctx, principal, id).await.map(|_| "Closed."),
        "reopen" => desk::reopen(&ctx, principal, id).await.map(|_| "Reopened."),
        "rate" => match form.score.parse::<i16>() {
            Ok(score) => desk::rate(&ctx, principal, id, Rating { score, comment: Some(form.comment) })
                .await
                .map(|_| "Thank you for rating."),
            Err(_) => Err(ApiError::invalid_field("score", "out_of_range", "must be 1 to 5")),
        },
        "priority" => {
            let change = TicketChange { priority: Some(form.priority), ..TicketChange::default() };
            desk::change(&ctx, principal, id, change).await.map(|_| "Priority changed.")
        }
        _ => Err(ApiError::invalid_field("step", "invalid_value", "names no step of a ticket")),
    };
    match result {
        Ok(message) => done(&format!("/support/tickets/{id}"), message),
        Err(err) => refused(&ctx, &session, id, String::new(), err).await,
    }
}
