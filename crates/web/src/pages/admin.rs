//! Staff pages: users (find, suspend, reactivate), contract reviews and disputes, the job queue's dead
//! jobs (retry), the audit log and security events, with the API's permission checks: anyone else is refused.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use identity::admin::dto::UserQuery;
use identity::admin::service::AccountAction;
use identity::model::UserId;
use platform::AppContext;
use platform::http::ClientMeta;
use serde::Deserialize;
use uuid::Uuid;

use super::{Layout, page, to_signin, urlencode};
use crate::format;
use crate::session::{Form, Session};

/// A user as the staff list shows them.
pub struct UserLine {
    pub id: String,
    pub username: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub roles: String,
    pub joined: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct Users {
    layout: Layout,
    q: String,
    users: Vec<UserLine>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    cursor: Option<String>,
}

pub async fn users(State(ctx): State<AppContext>, session: Session, Query(q): Query<UsersQuery>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/users") };
    let query = UserQuery {
        q: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
        limit: Some(50),
        cursor: q.cursor.clone(),
        ..UserQuery::default()
    };
    match identity::admin::service::users(&ctx, principal, query).await {
        Ok(list) => {
            let view = Users {
                layout: Layout::new("Users", &session),
                next: list.next_cursor.map(|c| format!("/admin/users?q={}&cursor={}", urlencode(&q.q), urlencode(&c))),
                q: q.q,
                users: list
                    .items
                    .into_iter()
                    .map(|u| UserLine {
                        id: u.id.to_string(),
                        username: u.username,
                        name: u.display_name,
                        email: u.email,
                        status: serde_json::to_value(u.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        roles: u.roles.join(", "),
                        joined: format::when(u.created_at),
                    })
                    .collect(),
            };
            page(StatusCode::OK, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    reason: String,
}

/// `suspend` or `reactivate` a user.
pub async fn act(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path((id, action)): Path<(UserId, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/users") };
    let action = match action.as_str() {
        "suspend" => AccountAction::Suspend,
        "reactivate" => AccountAction::Reactivate,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let reason = Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty());
    match identity::admin::service::act_on_user(&ctx, principal, id, action, reason, &meta).await {
        Ok(user) => Redirect::to(&format!("/admin/users?q={}", urlencode(&user.username))).into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// A dead job.
pub struct JobLine {
    pub id: String,
    pub kind: String,
    pub attempts: i32,
    pub error: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct Jobs {
    layout: Layout,
    jobs: Vec<JobLine>,
}

pub async fn dead_jobs(State(ctx): State<AppContext>, session: Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/jobs") };
    let query = notify::jobs::dto::JobQuery { state: Some("dead".into()), limit: Some(100), ..Default::default() };
    match notify::jobs::service::jobs(&ctx, principal, query).await {
        Ok(list) => {
            let jobs = list
                .items
                .into_iter()
                .map(|j| JobLine {
                    id: j.id.to_string(),
                    kind: j.kind,
                    attempts: j.attempts,
                    error: j.last_error.unwrap_or_default(),
                    when: format::when(j.finished_at.unwrap_or(j.created_at)),
                })
                .collect();
            page(StatusCode::OK, &Jobs { layout: Layout::new("Dead jobs", &session), jobs })
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct RetryForm {}

pub async fn retry(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path(id): Path<Uuid>,
    Form(_): Form<RetryForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/jobs") };
    match notify::jobs::service::retry_job(&ctx, principal, id, &meta).await {
        Ok(_) => Redirect::to("/admin/jobs").into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// Runs the security self-check now (admins), then shows it.
pub async fn run_checks(State(ctx): State<AppContext>, session: Session, Form(_): Form<RetryForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/security") };
    match identity::selfcheck::service::run_now(&ctx, principal).await {
        Ok(_) => Redirect::to("/admin/security#self-check").into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// A booking waiting for staff.
pub struct QueueLine {
    pub id: String,
    pub with: String,
    pub when: String,
    pub waiting_for: &'static str,
    pub note: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "admin_bookings.html")]
struct Queue {
    layout: Layout,
    bookings: Vec<QueueLine>,
}

/// Signed contracts to review and disputes to resolve, oldest first; each opens the booking's page,
/// where staff decide.
pub async fn bookings(State(ctx): State<AppContext>, session: Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/bookings") };
    match booking::bookings::service::awaiting_staff(&ctx, principal).await {
        Ok(list) => {
            let bookings = list
                .items
                .into_iter()
                .map(|b| {
                    let disputed = b.status.as_str() == "disputed";
                    QueueLine {
                        id: b.id.to_string(),
                        with: format!("{} · {}", b.artist_name, b.promoter_name),
                        when: format::when(b.starts_at),
                        waiting_for: if disputed { "a dispute to resolve" } else { "a contract to review" },
                        note: b.money.and_then(|m| m.dispute_reason).unwrap_or_default(),
                        since: format::when(b.updated_at),
                    }
                })
                .collect();
            page(StatusCode::OK, &Queue { layout: Layout::new("Reviews and disputes", &session), bookings })
        }
        Err(err) => super::error(&session, &err),
    }
}

/// One line of the audit log.
pub struct AuditLine {
    pub action: String,
    pub resource: String,
    pub actor: String,
    pub change: String,
    pub ip: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct Audit {
    layout: Layout,
    q: AuditFilter,
    lines: Vec<AuditLine>,
    next: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditFilter {
    resource_type: String,
    resource_id: String,
    actor: String,
    cursor: Option<String>,
}

/// `{"status": "draft"}` as `status: draft`.
fn compact(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The audit log, newest first, filtered by the kind of object, its id, or who acted.
pub async fn audit(State(ctx): State<AppContext>, session: Session, Query(q): Query<AuditFilter>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/audit") };
    let actor = q.actor.trim();
    let actor_user_id = match actor {
        "" => None,
        text => match Uuid::parse_str(text) {
            Ok(id) => Some(id),
            Err(_) => {
                let view = Audit {
                    layout: Layout::new("Audit log", &session),
                    q,
                    lines: Vec::new(),
                    next: None,
                    error: Some("Who acted: give a user's id.".into()),
                };
                return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
            }
        },
    };
    let query = identity::admin::dto::AuditQuery {
        organization_id: None,
        actor_user_id,
        resource_type: Some(q.resource_type.trim().to_owned()),
        resource_id: Some(q.resource_id.trim().to_owned()),
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    match identity::admin::service::audit_log(&ctx, principal, None, query).await {
        Ok(list) => {
            let lines = list
                .items
                .into_iter()
                .map(|e| AuditLine {
                    action: e.action,
                    resource: format!("{} {}", e.resource_type, e.resource_id.unwrap_or_default()),
                    actor: e
                        .actor_user_id
                        .map(|u| u.to_string())
                        .or(e.actor_api_key.map(|k| format!("API key {k}")))
                        .unwrap_or_else(|| "Backline".into()),
                    change: [compact(e.before.as_ref()), compact(e.after.as_ref())]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" → "),
                    ip: e.ip.unwrap_or_default(),
                    when: format::when(e.created_at),
                })
                .collect();
            let next = list.next_cursor.map(|c| {
                format!(
                    "/admin/audit?resource_type={}&resource_id={}&actor={}&cursor={}",
                    urlencode(&q.resource_type),
                    urlencode(&q.resource_id),
                    urlencode(&q.actor),
                    urlencode(&c)
                )
            });
            page(StatusCode::OK, &Audit { layout: Layout::new("Audit log", &session), q, lines, next, error: None })
        }
        Err(err) => super::error(&session, &err),
    }
}

/// One security event.
pub struct EventLine {
    pub kind: String,
    pub severity: String,
    pub user: String,
    pub ip: String,
    pub details: String,
    pub when: String,
}

/// One check of the latest self-check run.
pub struct CheckLine {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// The latest self-check run, for admins.
pub struct CheckView {
    pub when: String,
    pub trigger: String,
    pub passed: bool,
    pub lines: Vec<CheckLine>,
}

#[derive(Template)]
#[template(path = "admin_security.html")]
struct Security {
    layout: Layout,
    q: EventFilter,
    events: Vec<EventLine>,
    next: Option<String>,
    /// Admins see the self-check and may run it.
    is_admin: bool,
    check: Option<CheckView>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EventFilter {
    severity: String,
    kind: String,
    cursor: Option<String>,
}

/// Security events (failed sign-ins, lockouts, token reuse, ...), newest first.
pub async fn security(State(ctx): State<AppContext>, session: Session, Query(q): Query<EventFilter>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/security") };
    let query = identity::admin::dto::EventQuery {
        user_id: None,
        severity: Some(q.severity.clone()),
        kind: Some(q.kind.clone()),
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    match identity::admin::service::security_events(&ctx, principal, query).await {
        Ok(list) => {
            let events = list
                .items
                .into_iter()
                .map(|e| EventLine {
                    kind: e.kind,
                    severity: e.severity,
                    user: e.user_id.map(|u| u.to_string()).unwrap_or_default(),
                    ip: e.ip.unwrap_or_default(),
                    details: compact(Some(&e.details)),
                    when: format::when(e.created_at),
                })
                .collect();
            let next = list.next_cursor.map(|c| {
                format!(
                    "/admin/security?severity={}&kind={}&cursor={}",
                    urlencode(&q.severity),
                    urlencode(&q.kind),
                    urlencode(&c)
                )
            });
            let is_admin = principal.has_role("admin");
            let check = if is_admin {
                identity::selfcheck::service::runs(&ctx, principal).await.ok().and_then(|l| l.items.into_iter().next())
            } else {
                None
            };
            let check = check.map(|run| CheckView {
                when: format::when(run.created_at),
                trigger: run.trigger,
                passed: run.passed,
                lines: run
                    .checks
                    .into_iter()
                    .map(|c| CheckLine { name: c.name, passed: c.passed, detail: c.detail })
                    .collect(),
            });
            let layout = Layout::new("Security events", &session);
            page(StatusCode::OK, &Security { layout, q, events, next, is_admin, check })
        }
        Err(err) => super::error(&session, &err),
    }
}
