//! Deliverables, messages and affinity. The freelancer uploads files while working (a file of a name
//! the task has makes its next version; nothing is replaced), and a delivery needs at least one file
//! for its round; the company's task managers, the freelancer and staff read them and talk on the task
//! (the others are told of each message); each approval counts toward the company's affinity with the
//! freelancer.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::party::Party;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Affinity, Deliverable, Message, NewMessage};
use super::repo;
use crate::brands::dto::TaskFile;
use crate::error::{TasksCode, TasksError};
use crate::model::{FilePurpose, TaskId};
use crate::state::TaskStatus;
use crate::tasks::repo::TaskRow;

/// Whether the caller is one of the task's parties: the company's task managers, its freelancer, staff.
pub async fn is_party(conn: &mut PgConnection, principal: &Principal, task: TaskId) -> Result<bool, ApiError> {
    match crate::tasks::repo::task(conn, task, false).await? {
        Some(row) => party_of(conn, principal, &row).await,
        None => Ok(false),
    }
}

async fn party_of(conn: &mut PgConnection, principal: &Principal, task: &TaskRow) -> Result<bool, ApiError> {
    Ok(task.assignee == Some(principal.user_id.0)
        || crate::is_staff(principal)
        || crate::brands::service::manages(conn, principal, task.org_id).await?)
}

/// The task, if the caller is its freelancer and works on it now.
async fn working(conn: &mut PgConnection, principal: &Principal, id: TaskId, lock: bool) -> Result<TaskRow, ApiError> {
    let task = crate::tasks::repo::task(conn, id, lock).await?.ok_or(TasksError::NotFound("task"))?;
    if task.assignee != Some(principal.user_id.0) {
        return Err(if party_of(conn, principal, &task).await? {
            ApiError::new(platform::PlatformCode::Forbidden, "Only the task's freelancer uploads its files.")
        } else {
            TasksError::NotFound("task").into()
        });
    }
    if task.status != TaskStatus::InProgress {
        return Err(ApiError::new(
            TasksCode::NotInProgress,
            format!("The task is {}; files are uploaded while it is in progress.", task.status.as_str()),
        ));
    }
    Ok(task)
}

/// Uploads a deliverable (any file up to 200 MB) for the task's current round; a name the task has
/// already makes its next version.
pub async fn upload(
    ctx: &AppContext,
    principal: &Principal,
    id: TaskId,
    name: &str,
    body: axum::body::Body,
) -> Result<TaskFile, ApiError> {
    let name = crate::brands::service::file_name(name)?;
    {
        let mut conn = ctx.db.acquire().await?;
        working(&mut conn, principal, id, false).await?;
    }
    let received = crate::brands::service::receive_file(ctx, principal, body, FilePurpose::Deliverable).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let task = working(&mut tx, principal, id, true).await?;
    let file_for = crate::brands::service::FileFor {
        org: task.org_id,
        purpose: FilePurpose::Deliverable,
        brief: None,
        name,
        task: Some((id.0, task.revisions)),
    };
    let file = crate::brands::service::record_file(&mut tx, principal, file_for, received, now).await?;
    crate::tasks::repo::log(
        &mut tx,
        id,
        Some(principal.user_id.0),
        "file_uploaded",
        json!({"file": file.id, "name": file.name, "version": file.version, "round": file.round}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(file.into())
}

/// Whether the task has a file for its current delivery round (a delivery needs one).
pub(crate) async fn require_files(conn: &mut PgConnection, task: &TaskRow) -> Result<(), ApiError> {
    if crate::brands::repo::deliverables_in_round(conn, task.id.0, task.revisions).await? == 0 {
        return Err(ApiError::new(
            TasksCode::NoDeliverable,
            "Upload the files you deliver first (POST /v1/tasks/{id}/files).",
        ));
    }
    Ok(())
}

/// The task's deliverables, by name, newest version first.
pub async fn files(ctx: &AppContext, principal: &Principal, id: TaskId) -> Result<Vec<Deliverable>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    if !is_party(&mut conn, principal, id).await? {
        return Err(TasksError::NotFound("task").into());
    }
    let rows = crate::brands::repo::deliverables(&mut conn, id.0).await?;
    let mut out: Vec<Deliverable> = Vec::with_capacity(rows.len());
    for row in rows {
        let latest = out.last().is_none_or(|d| d.file.name != row.name);
        out.push(Deliverable { file: row.into(), latest });
    }
    Ok(out)
}

fn message_views(rows: Vec<repo::MessageRow>, names: &std::collections::HashMap<Uuid, String>) -> Vec<Message> {
    rows.into_iter()
        .map(|r| Message {
            author_name: names.get(&r.author).cloned().unwrap_or_default(),
            id: r.id,
            task_id: r.task_id,
            author: r.author,
            body: r.body,
            created_at: r.created_at,
        })
        .collect()
}

/// Posts a message on the task; the other parties are told.
pub async fn post_message(
    ctx: &AppContext,
    principal: &Principal,
    id: TaskId,
    req: &NewMessage,
) -> Result<Message, ApiError> {
    let body = req.body.trim();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(ApiError::invalid_field("body", "invalid_length", "must be 1 to 10,000 characters"));
    }
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let task = crate::tasks::repo::task(&mut tx, id, false).await?.ok_or(TasksError::NotFound("task"))?;
    if !party_of(&mut tx, principal, &task).await? {
        return Err(TasksError::NotFound("task").into());
    }
    let message = Uuid::now_v7();
    repo::insert_message(&mut tx, message, id, me, body, now).await?;
    let mut others = identity::party::people_to_notify(&mut tx, Party::Organization(task.org_id)).await?;
    others.extend(task.assignee);
    others.retain(|u| *u != me);
    others.sort();
    others.dedup();
    let names = identity::service::display_names(&mut tx, &[me]).await?;
    let author = names.get(&me).cloned().unwrap_or_default();
    let excerpt: String = body.chars().take(140).collect();
    let data = json!({"title": task.title, "task_id": id, "author": author, "excerpt": excerpt});
    crate::notify_users(&mut tx, others, "task.message", data, now).await?;
    tx.commit().await?;
    let row = repo::MessageRow { id: message, task_id: id.0, author: me, body: body.to_owned(), created_at: now };
    Ok(message_views(vec![row], &names).remove(0))
}

/// The task's messages, oldest first.
pub async fn messages(
    ctx: &AppContext,
    principal: &Principal,
    id: TaskId,
    page: &PageParams,
) -> Result<Page<Message>, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    if !is_party(&mut conn, principal, id).await? {
        return Err(TasksError::NotFound("task").into());
    }
    let rows = repo::messages(&mut conn, id, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id));
    let mut authors: Vec<Uuid> = page.items.iter().map(|m| m.author).collect();
    authors.sort();
    authors.dedup();
    let names = identity::service::display_names(&mut conn, &authors).await?;
    Ok(Page { items: message_views(page.items, &names), next_cursor: page.next_cursor })
}

/// Counts an approval toward the company's affinity with the freelancer.
pub(crate) async fn count_approval(
    conn: &mut PgConnection,
    task: &TaskRow,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if let Some(freelancer) = task.assignee {
        repo::count_approval(conn, task.org_id, freelancer, task.rating, now).await?;
    }
    Ok(())
}

/// The freelancers the company has approved work from, most approved first.
pub async fn affinity(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<Vec<Affinity>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    if !crate::brands::service::manages(&mut conn, principal, org).await? && !crate::is_staff(principal) {
        return Err(ApiError::not_found("No such organization."));
    }
    let rows = repo::affinity(&mut conn, org).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let names = identity::service::display_names(&mut conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| Affinity {
            name: names.get(&r.user_id).cloned().unwrap_or_default(),
            freelancer: r.user_id,
            approved: r.approved,
            rating: (r.ratings > 0).then(|| f64::from(r.ratings_sum) / f64::from(r.ratings)),
            last_approved_at: r.last_approved_at,
            favourite: r.favourite,
        })
        .collect())
}
