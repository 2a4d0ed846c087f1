//! Staff pages: users (find, suspend, reactivate) and the job queue's dead jobs (retry), with the
//! API's permission checks (`users.manage`, `jobs.manage`): anyone else is refused.

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
