//! Collaboration in the web app: the projects board (the caller's projects, and a form to start one in
//! each organization where they may), a project's page (details, members, channels), a conversation's
//! page (messages with their replies, Markdown shown safely, a form to write), and the way into the
//! thread of a booking or an event. Every page asks collaboration's services, which check who may see
//! and do what.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use collab::conversations::dto::ReadMark;
use collab::messages::dto::{Message, NewMessage};
use collab::messages::service::Change;
use collab::model::{ConversationId, MessageId, ProjectId};
use collab::projects::dto::{MemberRole, NewProject, ProjectChange, ProjectQuery};
use identity::auth::Principal;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use uuid::Uuid;

use super::{FieldErrors, Layout, beside_form, done, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

/// A project on the board.
pub struct ProjectLine {
    pub id: String,
    pub name: String,
    pub priority: String,
    pub role: String,
    pub due: String,
    pub status: String,
}

/// A project's statuses, in the order work goes, with their names: the board's columns.
const STATUSES: [(&str, &str); 5] = [
    ("planning", "Planning"),
    ("active", "Active"),
    ("on_hold", "On hold"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
];

/// A column of the board: the projects of one status.
pub struct BoardColumn {
    pub key: &'static str,
    pub label: &'static str,
    pub projects: Vec<ProjectLine>,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct BoardPage {
    layout: Layout,
    /// One column a status, in the order work goes.
    columns: Vec<BoardColumn>,
    /// Every status with its name (a manager's card moves to any of them).
    statuses: [(&'static str, &'static str); 5],
    /// Whether the caller is on any project.
    any: bool,
    /// Organizations where the caller may start a project: (id, name).
    orgs: Vec<(String, String)>,
    /// Their project templates: (id, name with the organization's).
    templates: Vec<(String, String)>,
    errors: FieldErrors,
    error: Option<String>,
}

async fn board(
    ctx: &AppContext,
    session: &Session,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<BoardPage, ApiError> {
    let Some(principal) = &session.principal else { return Err(ApiError::not_found("No such page.")) };
    let page =
        collab::projects::service::list(ctx, principal, ProjectQuery { limit: Some(200), ..ProjectQuery::default() })
            .await?;
    let any = !page.items.is_empty();
    let mut columns: Vec<BoardColumn> =
        STATUSES.into_iter().map(|(key, label)| BoardColumn { key, label, projects: Vec::new() }).collect();
    for p in page.items {
        let line = ProjectLine {
            id: p.id.to_string(),
            name: p.name,
            priority: p.priority,
            role: p.my_role,
            due: p.due_date.map(|d| d.to_string()).unwrap_or_default(),
            status: p.status.clone(),
        };
        if let Some(column) = columns.iter_mut().find(|c| c.key == p.status) {
            column.projects.push(line);
        }
    }
    let mut conn = ctx.db.acquire().await?;
    let mut orgs = Vec::new();
    let mut templates = Vec::new();
    for org in identity::service::organizations::orgs_granting(&mut conn, principal, collab::PROJECTS_MANAGE).await? {
        let name = identity::service::org_slug(&mut conn, org.0).await?.unwrap_or_default();
        for template in collab::templates::service::list(ctx, principal, org.0).await? {
            templates.push((template.id.to_string(), format!("{} ({name})", template.name)));
        }
        orgs.push((org.to_string(), name));
    }
    let layout = Layout::new("Projects", session);
    Ok(BoardPage { layout, columns, statuses: STATUSES, any, orgs, templates, errors, error })
}

/// The projects board.
pub async fn list(State(ctx): State<AppContext>, session: Session) -> Response {
    if session.principal.is_none() {
        return to_signin("/projects");
    }
    match board(&ctx, &session, FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProjectForm {
    org_id: String,
    name: String,
    kind: String,
    due_date: String,
    /// A template of the organization's to start from; empty for none.
    template_id: String,
}

/// Starts a project; a refusal is shown beside the form.
pub async fn create(State(ctx): State<AppContext>, session: Session, Form(form): Form<ProjectForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/projects") };
    let Ok(org) = form.org_id.parse::<Uuid>() else {
        return super::error(
            &session,
            &ApiError::invalid_field("organization_id", "not_found", "names no organization"),
        );
    };
    let due_date = match day("due_date", &form.due_date) {
        Ok(d) => d,
        Err(err) => {
            return match board(&ctx, &session, FieldErrors::from_error(&err), None).await {
                Ok(view) => page(err.status(), &view),
                Err(err) => super::error(&session, &err),
            };
        }
    };
    let req = NewProject {
        organization_id: org,
        name: form.name,
        slug: None,
        description: String::new(),
        kind: Some(form.kind.trim().to_owned()).filter(|k| !k.is_empty()),
        status: None,
        priority: None,
        team_id: None,
        manager_id: None,
        client_id: None,
        budget_minor: None,
        budget_currency: None,
        estimated_hours: None,
        start_date: None,
        due_date,
        tags: Vec::new(),
        template_id: form.template_id.trim().parse().ok(),
    };
    match collab::projects::service::create(&ctx, principal, req).await {
        Ok(project) => done(&format!("/projects/{}", project.id), "Project started."),
        Err(err) if beside_form(&err) => {
            let (errors, error) =
                (FieldErrors::from_error(&err), err.field_errors().is_empty().then(|| err.detail().to_owned()));
            match board(&ctx, &session, errors, error).await {
                Ok(view) => page(err.status(), &view),
                Err(err) => super::error(&session, &err),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A date typed in a form's field, or none when it is left empty.
fn day(field: &str, text: &str) -> Result<Option<chrono::NaiveDate>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| ApiError::invalid_field(field, "invalid_format", "must be a date"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DetailsForm {
    name: String,
    status: String,
    priority: String,
    due_date: String,
    description: String,
}

/// Saves a project's details (its managers); a refusal is shown beside the form.
pub async fn save_details(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ProjectId>,
    Form(form): Form<DetailsForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/projects/{id}")) };
    let change = day("due_date", &form.due_date).map(|due| ProjectChange {
        name: Some(form.name),
        status: Some(form.status),
        priority: Some(form.priority),
        description: Some(form.description),
        due_date: Some(due),
        ..ProjectChange::default()
    });
    match async { collab::projects::service::update(&ctx, principal, id, change?).await }.await {
        Ok(_) => done(&format!("/projects/{id}"), "Project saved."),
        Err(err) => refused_in(&ctx, &session, (id, Some("details")), err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    name: String,
    description: String,
}

/// Saves the project's structure (folders, members' roles, checklists) as a template of its
/// organization (its managers).
pub async fn save_template(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ProjectId>,
    Form(form): Form<TemplateForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/projects/{id}")) };
    let req = collab::templates::dto::NewTemplate { name: form.name, description: form.description };
    match collab::templates::service::save(&ctx, principal, id, req).await {
        Ok(t) => done(
            &format!("/projects/{id}"),
            &format!("Saved as the template {}: new projects of the organization can start from it.", t.name),
        ),
        Err(err) => refused_in(&ctx, &session, (id, Some("template")), err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    status: String,
}

/// Moves a project to another column of the board (its managers).
pub async fn move_project(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ProjectId>,
    Form(form): Form<MoveForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/projects") };
    let change = ProjectChange { status: Some(form.status), ..ProjectChange::default() };
    match collab::projects::service::update(&ctx, principal, id, change).await {
        Ok(p) => {
            let column = STATUSES.iter().find(|(k, _)| *k == p.status).map_or("", |(_, label)| label);
            done("/projects#projects", &format!("{} is in {column} now.", p.name))
        }
        Err(err) if beside_form(&err) => {
            let error = Some(err.field_errors().first().map_or(err.detail(), |e| e.message.as_str()).to_owned());
            match board(&ctx, &session, FieldErrors::default(), error).await {
                Ok(view) => page(err.status(), &view),
                Err(err) => super::error(&session, &err),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChecklistForm {
    title: String,
    /// One item a line.
    items: String,
}

/// Makes a checklist on the project (its managers and editors).
pub async fn new_checklist(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ProjectId>,
    Form(form): Form<ChecklistForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/projects/{id}")) };
    let req = collab::checklists::dto::NewChecklist { title: form.title, items: super::lines(&form.items) };
    match collab::checklists::service::create(&ctx, principal, id, req).await {
        Ok(_) => done(&format!("/projects/{id}#checklists-heading"), "Checklist made."),
        Err(err) => refused(&ctx, &session, id, err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FolderForm {
    path: String,
}

/// Makes a folder in the project (its managers and editors).
pub async fn new_folder(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ProjectId>,
    Form(form): Form<FolderForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/projects/{id}")) };
    let req = collab::files::dto::NewFolder { path: form.path };
    match collab::files::service::add_folder(&ctx, principal, id, req).await {
        Ok((folder, _)) => {
            done(&format!("/projects/{id}#files-heading"), &format!("The folder {} is there.", folder.path))
        }
        Err(err) => refused(&ctx, &session, id, err).await,
    }
}

/// Deletes a file of the project (its managers and editors); it is listed among the deleted files.
pub async fn delete_file(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<collab::model::FileId>,
    Form(_): Form<super::NoFields>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/projects") };
    let file = match collab::files::service::get(&ctx, principal, id).await {
        Ok(f) => f,
        Err(err) => return super::error(&session, &err),
    };
    match collab::files::service::delete(&ctx, principal, id).await {
        Ok(()) => done(&format!("/projects/{}#deleted-heading", file.project_id), &format!("{} deleted.", file.name)),
        Err(err) => refused(&ctx, &session, file.project_id, err).await,
    }
}

/// Brings a deleted file back with its versions (the project's managers and editors).
pub async fn undelete_file(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<collab::model::FileId>,
    Form(_): Form<super::NoFields>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/projects") };
    match collab::files::service::undelete(&ctx, &settings.collab, principal, id).await {
        Ok(f) => done(&format!("/projects/{}#files-heading", f.project_id), &format!("{} is back.", f.name)),
        Err(err) => super::error(&session, &err),
    }
}

/// A checklist on the project's page: its items (id, text, ticked).
pub struct ChecklistLine {
    pub title: String,
    pub done: usize,
    pub total: usize,
    pub items: Vec<(String, String, bool)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TickForm {
    done: String,
}

/// Ticks a checklist's item, or unticks it, and goes back to its project's page.
pub async fn tick(
    State(ctx): State<AppContext>,
    session: Session,
    Path(item): Path<Uuid>,
    Form(form): Form<TickForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/projects") };
    let req = collab::checklists::dto::ItemTick { done: form.done == "true" };
    match collab::checklists::service::tick(&ctx, principal, item, req).await {
        Ok(c) => Redirect::to(&format!("/projects/{}#checklists-heading", c.project_id)).into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// A member on the project's page.
pub struct MemberLine {
    pub name: String,
    pub role: String,
}

/// A file on the project's page, with its versions, newest first.
pub struct FileLine {
    pub id: String,
    pub path: String,
    pub category: String,
    pub versions: Vec<VersionLine>,
}

pub struct VersionLine {
    pub url: String,
    /// `pending`, `clean` or `infected`: only a clean version is linked.
    pub scan: String,
    pub version: i32,
    pub status: String,
    pub size: String,
    pub label: String,
    /// What its content holds ("800 × 400 px", "2 pages", "3:05"), once read.
    pub details: String,
    /// Its thumbnail, when it has one.
    pub thumbnail: Option<String>,
    /// Its thread.
    pub thread: String,
}

/// What a version's content holds, in words.
pub(crate) fn media_details(m: &collab::files::dto::FileMedia) -> String {
    let mut parts = Vec::new();
    if let (Some(w), Some(h)) = (m.width, m.height) {
        parts.push(format!("{w} × {h} px"));
    }
    if let Some(p) = m.pages {
        parts.push(if p == 1 { "1 page".to_owned() } else { format!("{p} pages") });
    }
    if let Some(ms) = m.duration_ms {
        let s = ms / 1000;
        parts.push(format!("{}:{:02}", s / 60, s % 60));
    }
    parts.join(" · ")
}

/// A version's thumbnail, for a member of its project.
pub async fn file_thumbnail(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, version)): Path<(collab::model::FileId, i32)>,
) -> Response {
    let Some(principal) = &session.principal else {
        return to_signin(&format!("/project-files/{id}/versions/{version}/thumbnail"));
    };
    match collab::files::service::thumbnail(&ctx, principal, id, version).await {
        Ok(response) => response,
        Err(err) => super::error(&session, &err),
    }
}

/// A version's bytes, for a member of its project (with the `Range` a player asks for).
pub async fn file_version(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, version)): Path<(collab::model::FileId, i32)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(principal) = &session.principal else {
        return to_signin(&format!("/project-files/{id}/versions/{version}"));
    };
    match collab::files::service::download(&ctx, principal, id, version, headers.get(axum::http::header::RANGE)).await {
        Ok(response) => response,
        Err(err) => super::error(&session, &err),
    }
}

/// A conversation in a list.
pub struct ConversationLine {
    pub id: String,
    pub title: String,
    pub unread: i64,
    pub mentions: i64,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    layout: Layout,
    id: String,
    name: String,
    description: String,
    status: String,
    /// The status and priority as stored, and the due date as a form's date (`2027-01-31`).
    status_key: String,
    priority_key: String,
    due_date: String,
    priority: String,
    kind: String,
    due: String,
    my_role: String,
    manager: bool,
    /// Managers and editors upload files.
    may_upload: bool,
    /// Everyone but viewers ticks checklists' items.
    may_tick: bool,
    /// What the details form offers.
    statuses: [(&'static str, &'static str); 5],
    priorities: Vec<&'static str>,
    /// The project's deleted files (shown to its managers and editors): id, path, when, by whom.
    deleted: Vec<(String, String, String)>,
    checklists: Vec<ChecklistLine>,
    members: Vec<MemberLine>,
    channels: Vec<ConversationLine>,
    files: Vec<FileLine>,
    /// The project's folders, offered when uploading.
    folders: Vec<String>,
    categories: Vec<&'static str>,
    roles: Vec<&'static str>,
    errors: FieldErrors,
    error: Option<String>,
}

async fn project_page(
    ctx: &AppContext,
    session: &Session,
    id: ProjectId,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<ProjectPage, ApiError> {
    let Some(principal) = &session.principal else { return Err(ApiError::not_found("No such project.")) };
    let project = collab::projects::service::get(ctx, principal, id).await?;
    let members = collab::projects::service::members(ctx, principal, id).await?;
    let channels = collab::conversations::service::channels(ctx, principal, id).await?;
    let files = collab::files::service::list(ctx, principal, id).await?;
    let checklists = collab::checklists::service::list(ctx, principal, id).await?;
    let folders = collab::files::service::folders(ctx, principal, id).await?;
    let may_upload = matches!(project.my_role.as_str(), "manager" | "editor");
    let deleted = if may_upload { collab::files::service::deleted(ctx, principal, id).await? } else { Vec::new() };
    Ok(ProjectPage {
        statuses: STATUSES,
        priorities: collab::model::Priority::ALL.iter().map(|p| p.as_str()).collect(),
        deleted: deleted
            .into_iter()
            .map(|d| {
                let f = d.file;
                let path = if f.folder.is_empty() { f.name } else { format!("{}/{}", f.folder, f.name) };
                (f.id.to_string(), path, format::when(d.deleted_at))
            })
            .collect(),
        folders: folders.into_iter().map(|f| f.path).filter(|p| !p.is_empty()).collect(),
        categories: collab::model::FileCategory::ALL.iter().map(|c| c.as_str()).collect(),
        may_tick: project.my_role != "viewer",
        checklists: checklists
            .into_iter()
            .map(|c| ChecklistLine {
                title: c.title,
                done: c.done,
                total: c.items.len(),
                items: c.items.into_iter().map(|i| (i.id.to_string(), i.body, i.done)).collect(),
            })
            .collect(),
        layout: Layout::new(project.name.clone(), session),
        id: project.id.to_string(),
        manager: project.my_role == "manager",
        may_upload,
        name: project.name,
        description: project.description,
        status_key: project.status.clone(),
        due_date: project.due_date.map(|d| d.to_string()).unwrap_or_default(),
        priority_key: project.priority.clone(),
        status: project.status.replace('_', " "),
        priority: project.priority,
        kind: project.kind.replace('_', " "),
        due: project.due_date.map(|d| d.to_string()).unwrap_or_default(),
        my_role: project.my_role,
        members: members.into_iter().map(|m| MemberLine { name: m.display_name, role: m.role }).collect(),
        channels: channels
            .into_iter()
            .map(|c| ConversationLine {
                id: c.id.to_string(),
                title: format!("#{}", c.name.unwrap_or_default()),
                unread: c.unread,
                mentions: c.mentions,
            })
            .collect(),
        files: files
            .into_iter()
            .map(|f| {
                let path = if f.folder.is_empty() { f.name.clone() } else { format!("{}/{}", f.folder, f.name) };
                let versions = f
                    .versions
                    .iter()
                    .map(|v| VersionLine {
                        url: format!("/project-files/{}/versions/{}", f.id, v.version),
                        scan: v.scan.clone(),
                        version: v.version,
                        status: v.status.replace('_', " "),
                        size: format!("{:.1} kB", v.size as f64 / 1000.0),
                        label: v.label.clone().unwrap_or_default(),
                        details: v.media.as_ref().map(media_details).unwrap_or_default(),
                        thumbnail: v
                            .media
                            .as_ref()
                            .and_then(|m| m.thumbnail_url.as_ref())
                            .map(|_| format!("/project-files/{}/versions/{}/thumbnail", f.id, v.version)),
                        thread: format!("/threads/file_version/{}", v.id),
                    })
                    .collect();
                FileLine { id: f.id.to_string(), path, category: f.category, versions }
            })
            .collect(),
        roles: collab::model::ProjectRole::ALL.iter().map(|r| r.as_str()).collect(),
        errors,
        error,
    })
}

/// A project's page.
pub async fn show(State(ctx): State<AppContext>, session: Session, Path(id): Path<ProjectId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/projects/{id}"));
    }
    match project_page(&ctx, &session, id, FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// Shows a refusal beside the project page's forms (or the error page for one that is not).
async fn refused(ctx: &AppContext, session: &Session, id: ProjectId, err: ApiError) -> Response {
    refused_in(ctx, session, (id, None), err).await
}

/// Shows a refusal beside the project page's form `form`, whose fields the page names `form.field`.
async fn refused_in(
    ctx: &AppContext,
    session: &Session,
    (id, form): (ProjectId, Option<&str>),
    err: ApiError,
) -> Response {
    if !beside_form(&err) {
        return super::error(session, &err);
    }
    let errors = FieldErrors::from_error(&err);
    let errors = match form {
        Some(form) => errors.within(form),
        None => errors,
    };
    let error = err.field_errors().is_empty().then(|| err.detail().to_owned());
    match project_page(ctx, session, id, errors, error).await {
        Ok(view) => page(err.status(), &view),
        Err(err) => super::error(session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    username: String,
    role: String,
}

/// Adds a member by username, or changes their role.
pub async fn member(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ProjectId>,
    Form(form): Form<MemberForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/projects/{id}")) };
    let user = match ctx.db.acquire().await {
        Ok(mut conn) => identity::service::user_id_by_username(&mut conn, form.username.trim()).await,
        Err(err) => Err(err),
    };
    let result = match user {
        Ok(Some(user)) => {
            collab::projects::service::put_member(&ctx, principal, id, user, MemberRole { role: form.role }).await
        }
        Ok(None) => Err(ApiError::invalid_field("username", "unknown_user", "names no user")),
        Err(err) => Err(err.into()),
    };
    match result {
        Ok(m) => done(&format!("/projects/{id}"), &format!("{} is {} now.", m.display_name, m.role)),
        Err(err) => {
            // The form names the person by username; the service by id.
            let err = if err.field_errors().iter().any(|e| e.field == "user_id") {
                let message = err.field_errors()[0].message.clone();
                ApiError::invalid_field("username", "invalid_value", message)
            } else {
                err
            };
            refused(&ctx, &session, id, err).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChannelForm {
    name: String,
}

/// Opens a channel.
pub async fn channel(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ProjectId>,
    Form(form): Form<ChannelForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/projects/{id}")) };
    let req = collab::conversations::dto::NewChannel { name: form.name };
    match collab::conversations::service::new_channel(&ctx, principal, id, req).await {
        Ok(c) => done(&format!("/conversations/{}", c.id), "Channel opened."),
        Err(err) => refused_in(&ctx, &session, (id, Some("channel")), err).await,
    }
}

/// Uploads a file into the folder the form names (the project's top when none), in the category it
/// chose (a name the folder has makes the next version, and keeps the file's category).
pub async fn upload_file(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<ProjectId>,
    request: axum::extract::Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/projects/{id}")) };
    let next = format!("/projects/{id}#files-heading");
    let keep = async |form: crate::upload::FileForm| {
        let category = Some(form.field("category").to_owned()).filter(|c| !c.is_empty());
        let target = collab::files::dto::UploadTarget {
            folder: form.field("folder").to_owned(),
            category,
            name: form.file_name.unwrap_or_default(),
            ..collab::files::dto::UploadTarget::default()
        };
        collab::files::service::upload(&ctx, &settings.collab, &principal, id, target, form.body).await.map(|_| ())
    };
    let refused = async |err| refused_in(&ctx, &session, (id, Some("upload")), err).await;
    crate::upload::keep_file(&session, request, (&next, "File kept."), keep, refused).await
}

/// An attachment's bytes, for whoever may read its message.
pub async fn attachment(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<Uuid>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/attachments/{id}")) };
    let range = headers.get(axum::http::header::RANGE);
    match collab::attachments::service::download(&ctx, &settings.subjects, principal, id, range).await {
        Ok(response) => response,
        Err(err) => super::error(&session, &err),
    }
}

/// Sends a file as a message of its own (named by the file) in a direct conversation, a group or a
/// thread; a project's channel takes the project's files, uploaded on the project's page.
pub async fn send_file(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<ConversationId>,
    request: axum::extract::Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/conversations/{id}")) };
    let next = format!("/conversations/{id}#write");
    let keep = async |form: crate::upload::FileForm| {
        let name = form.file_name.unwrap_or_default();
        let target = collab::attachments::dto::AttachmentTarget { name: name.clone() };
        let up =
            collab::attachments::service::upload(&ctx, &settings.subjects, &principal, id, target, form.body).await?;
        let req =
            NewMessage { body: name, reply_to: None, internal: false, attachments: vec![up.id], files: Vec::new() };
        collab::messages::service::post(&ctx, &settings.subjects, &principal, id, req).await.map(|_| ())
    };
    let refused = async |err: ApiError| {
        let errors = FieldErrors::from_pairs([("file".to_owned(), err.detail().to_owned())]);
        match conversation_page(
            &ctx,
            (&settings.subjects, settings.collab.edit_window),
            &session,
            id,
            None,
            (String::new(), errors),
        )
        .await
        {
            Ok(view) => page(err.status(), &view),
            Err(err) => super::error(&session, &err),
        }
    };
    crate::upload::keep_file(&session, request, (&next, "File sent."), keep, refused).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReactionForm {
    emoji: String,
    /// `add` or `remove`.
    action: String,
}

/// Reacts to a message with an emoji, or takes the reaction back.
pub async fn react(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<MessageId>,
    Form(form): Form<ReactionForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/projects") };
    let subjects = &settings.subjects;
    let done = if form.action == "remove" {
        collab::messages::service::unreact(&ctx, subjects, principal, id, &form.emoji).await.map(|_| ())
    } else {
        collab::messages::service::react(&ctx, subjects, principal, id, &form.emoji).await.map(|_| ())
    };
    match done.and(Ok(())) {
        Ok(()) => match collab::messages::service::one(&ctx, subjects, principal, id).await {
            Ok(m) => back_to(&m),
            Err(err) => super::error(&session, &err),
        },
        Err(err) => super::error(&session, &err),
    }
}

/// Back to the message's line on its conversation's page (among its thread's replies for a reply).
fn back_to(m: &Message) -> Response {
    Redirect::to(&message_page(m)).into_response()
}

/// The address of a message's line: on its conversation's page, or among its thread's replies.
fn message_page(m: &Message) -> String {
    let page = match m.reply_to {
        Some(root) => format!("/conversations/{}?thread={root}", m.conversation_id),
        None => format!("/conversations/{}", m.conversation_id),
    };
    format!("{page}#m-{}", m.id)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PinForm {
    /// `pin` or `unpin`.
    action: String,
}

/// Pins a message to its conversation, or unpins it (whoever may post there).
pub async fn pin_message(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<MessageId>,
    Form(form): Form<PinForm>,
) -> Response {
    let subjects = &settings.subjects;
    if form.action == "unpin" {
        let unpin = async |principal: &Principal| collab::messages::service::unpin(&ctx, subjects, principal, id).await;
        on_message(&ctx, subjects, &session, id, ("Unpinned.", unpin)).await
    } else {
        let pin = async |principal: &Principal| {
            collab::messages::service::pin(&ctx, subjects, principal, id).await.map(|_| ())
        };
        on_message(&ctx, subjects, &session, id, ("Pinned.", pin)).await
    }
}

#[derive(Template)]
#[template(path = "message_edit.html")]
struct EditPage {
    layout: Layout,
    id: String,
    back: String,
    body: String,
    errors: FieldErrors,
}

impl EditPage {
    fn of(session: &Session, id: MessageId, back: String, body: String, errors: FieldErrors) -> Self {
        let layout = Layout::new(String::from("Edit your message"), session);
        Self { layout, id: id.to_string(), back, body, errors }
    }
}

/// A message's edit form (its author, within the edit window).
pub async fn edit_message_form(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<MessageId>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/messages/{id}/edit")) };
    match collab::messages::service::one(&ctx, &settings.subjects, principal, id).await {
        Ok(m) if m.author == principal.user_id.0 && !m.deleted => {
            page(StatusCode::OK, &EditPage::of(&session, id, message_page(&m), m.body, FieldErrors::default()))
        }
        Ok(_) => super::error(
            &session,
            &ApiError::new(collab::error::CollabCode::NotTheAuthor, "Only the message's author edits it."),
        ),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditForm {
    body: String,
}

/// Saves a message's new text; a refusal (the window closed, an empty text) is shown beside the form.
pub async fn edit_message(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<MessageId>,
    Form(form): Form<EditForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/messages/{id}/edit")) };
    let subjects = &settings.subjects;
    let req = collab::messages::dto::MessageEdit { body: form.body.clone() };
    match collab::messages::service::edit(&ctx, &settings.collab, subjects, principal, id, req).await {
        Ok(m) => done(&message_page(&m), "Message edited."),
        Err(err) if beside_form(&err) => {
            let back = match collab::messages::service::one(&ctx, subjects, principal, id).await {
                Ok(m) => message_page(&m),
                Err(err) => return super::error(&session, &err),
            };
            let mut errors = FieldErrors::from_error(&err);
            if errors.is_empty() {
                errors = FieldErrors::from_pairs([("body".to_owned(), err.detail().to_owned())]);
            }
            page(err.status(), &EditPage::of(&session, id, back, form.body, errors))
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LevelForm {
    level: String,
}

/// Sets what the reader is told of a conversation: every message, mentions of them, or nothing.
pub async fn set_level(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<ConversationId>,
    Form(form): Form<LevelForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/conversations/{id}")) };
    let req = collab::messages::dto::NotificationLevel { level: form.level };
    match collab::messages::service::set_level(&ctx, &settings.subjects, principal, id, req).await {
        Ok(level) => {
            let said = match level.level.as_str() {
                "all" => "You follow this conversation: every message is told to you.",
                "mentions" => "You are told of mentions of you only.",
                _ => "Muted: nothing of this conversation is told to you.",
            };
            done(&format!("/conversations/{id}"), said)
        }
        Err(err) => super::error(&session, &err),
    }
}

/// Deletes a message (its author, or a moderator).
pub async fn delete_message(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<MessageId>,
    Form(_): Form<super::NoFields>,
) -> Response {
    let subjects = &settings.subjects;
    let delete = async |principal: &Principal| collab::messages::service::delete(&ctx, subjects, principal, id).await;
    on_message(&ctx, subjects, &session, id, ("Message deleted.", delete)).await
}

/// Does something to a message the reader may see (`act`, which asks its own rule), then goes back to
/// the message's line with what was done.
async fn on_message(
    ctx: &AppContext,
    subjects: &collab::Subjects,
    session: &Session,
    id: MessageId,
    (said, act): (&str, impl AsyncFnOnce(&Principal) -> Result<(), ApiError>),
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/projects") };
    let message = match collab::messages::service::one(ctx, subjects, principal, id).await {
        Ok(m) => m,
        Err(err) => return super::error(session, &err),
    };
    match act(principal).await {
        Ok(()) => done(&message_page(&message), said),
        Err(err) => super::error(session, &err),
    }
}

/// A message on a conversation's page.
pub struct MessageView {
    pub id: String,
    pub author: String,
    pub at: String,
    /// Rendered Markdown (safe HTML), empty when deleted.
    pub html: String,
    pub deleted: bool,
    pub edited: bool,
    pub replies: i32,
    pub reactions: Vec<ReactionView>,
    /// The quick reactions it does not have yet.
    pub picks: Vec<&'static str>,
    pub files: Vec<AttachmentView>,
    /// Written by the reader (who may delete it).
    pub mine: bool,
    /// The reader may still edit it (theirs, within the edit window).
    pub editable: bool,
    pub pinned: bool,
}

/// An emoji's reactions on a message.
pub struct ReactionView {
    pub emoji: String,
    pub count: i64,
    pub mine: bool,
}

/// A file attached to a message.
pub struct AttachmentView {
    pub id: String,
    pub name: String,
    pub size: String,
    /// Passed its virus scan (only then is it linked).
    pub clean: bool,
}

/// The reactions offered on every message, one click each.
const PICKS: [&str; 4] = ["👍", "❤️", "🎉", "👀"];

impl MessageView {
    /// `edits_after`: messages posted after it are still within the edit window.
    fn of(m: Message, reader: Uuid, edits_after: DateTime<Utc>) -> Self {
        let reactions: Vec<ReactionView> =
            m.reactions.iter().map(|r| ReactionView { emoji: r.emoji.clone(), count: r.count, mine: r.mine }).collect();
        Self {
            id: m.id.to_string(),
            author: m.author_name,
            at: format::when(m.created_at),
            html: if m.deleted { String::new() } else { crate::markdown::to_html(&m.body) },
            deleted: m.deleted,
            edited: m.edited_at.is_some(),
            replies: m.reply_count,
            picks: PICKS.into_iter().filter(|p| !reactions.iter().any(|r| r.emoji == *p)).collect(),
            reactions,
            files: m
                .attachments
                .into_iter()
                .map(|a| AttachmentView {
                    id: a.id.to_string(),
                    name: a.name,
                    size: format!("{:.1} kB", a.size as f64 / 1000.0),
                    clean: a.scan == "clean",
                })
                .collect(),
            mine: m.author == reader,
            editable: m.author == reader && !m.deleted && m.created_at > edits_after,
            pinned: m.pinned_at.is_some(),
        }
    }
}

/// One message's line, on the page and as a live update (`oob`: it replaces the line already shown).
#[derive(Template)]
#[template(path = "message_line.html")]
struct MessageLine<'a> {
    m: &'a MessageView,
    conversation: &'a str,
    /// Shown among a thread's replies (no link to replies of its own).
    threaded: bool,
    oob: bool,
    /// The reader's form token, and whether they may react (not a project's viewer).
    csrf: &'a str,
    may_post: bool,
}

impl MessageView {
    fn line(&self, conversation: &str, threaded: bool, oob: bool, (csrf, may_post): (&str, bool)) -> String {
        MessageLine { m: self, conversation, threaded, oob, csrf, may_post }.render().unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    layout: Layout,
    id: String,
    title: String,
    may_post: bool,
    /// The project of a channel, for the way back.
    project: Option<String>,
    /// When showing one message's replies: that message.
    thread: Option<MessageView>,
    /// The messages' lines, oldest first.
    lines: Vec<String>,
    /// The pinned messages, most recently pinned first (on the page of first messages).
    pinned: Vec<PinLine>,
    /// The reader's notification level: `all`, `mentions` or `none` (on the page of first messages).
    level: String,
    body: String,
    errors: FieldErrors,
}

/// A pinned message, as the conversation's page lists it.
pub struct PinLine {
    pub author: String,
    pub excerpt: String,
    pub link: String,
}

/// A message's first 140 characters.
fn excerpt(body: &str) -> String {
    let mut text: String = body.chars().take(140).collect();
    if body.chars().nth(140).is_some() {
        text.push('…');
    }
    text
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ThreadQuery {
    thread: Option<MessageId>,
}

async fn conversation_page(
    ctx: &AppContext,
    (subjects, edit_window): (&collab::Subjects, chrono::Duration),
    session: &Session,
    id: ConversationId,
    thread: Option<MessageId>,
    (body, errors): (String, FieldErrors),
) -> Result<ConversationPage, ApiError> {
    let Some(principal) = &session.principal else { return Err(ApiError::not_found("No such conversation.")) };
    let conversation = collab::conversations::service::get(ctx, subjects, principal, id).await?;
    let edits_after = ctx.clock.now() - edit_window;
    let params = PageParams { limit: Some(50), cursor: None };
    let (thread, messages) = match thread {
        Some(root) => {
            let replies = collab::messages::service::replies(ctx, subjects, principal, root, &params).await?;
            let first = collab::messages::service::one(ctx, subjects, principal, root).await?;
            if first.conversation_id != id {
                return Err(ApiError::not_found("No such message."));
            }
            (Some(MessageView::of(first, principal.user_id.0, edits_after)), replies.items)
        }
        None => {
            let mut items = collab::messages::service::list(ctx, subjects, principal, id, &params).await?.items;
            items.reverse();
            (None, items)
        }
    };
    let (pinned, level) = if thread.is_none() {
        let pins = collab::messages::service::pins(ctx, subjects, principal, id).await?;
        let pins = pins
            .into_iter()
            .map(|m| PinLine { link: message_page(&m), excerpt: excerpt(&m.body), author: m.author_name })
            .collect();
        (pins, collab::messages::service::level(ctx, subjects, principal, id).await?.level)
    } else {
        (Vec::new(), String::new())
    };
    collab::conversations::service::mark_read(ctx, subjects, principal, id, ReadMark::default()).await?;
    let conversation_id = id.to_string();
    let threaded = thread.is_some();
    let reader = (session.csrf.as_str(), conversation.may_post);
    let lines = messages
        .into_iter()
        .map(|m| MessageView::of(m, principal.user_id.0, edits_after).line(&conversation_id, threaded, false, reader))
        .collect();
    Ok(ConversationPage {
        layout: Layout::new(conversation.title.clone(), session),
        id: id.to_string(),
        title: conversation.title,
        may_post: conversation.may_post,
        project: conversation.project_id.map(|p| p.to_string()),
        thread,
        lines,
        pinned,
        level,
        body,
        errors,
    })
}

/// A conversation: its latest 50 messages, oldest at the top, or one message's replies.
pub async fn conversation(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<ConversationId>,
    Query(q): Query<ThreadQuery>,
) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/conversations/{id}"));
    }
    match conversation_page(
        &ctx,
        (&settings.subjects, settings.collab.edit_window),
        &session,
        id,
        q.thread,
        (String::new(), FieldErrors::default()),
    )
    .await
    {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MessageForm {
    body: String,
    reply_to: String,
}

/// Posts a message (or a reply); a refused one is shown beside the form with what was typed.
pub async fn post_message(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path(id): Path<ConversationId>,
    Form(form): Form<MessageForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/conversations/{id}")) };
    let reply_to = form.reply_to.parse::<Uuid>().ok().map(MessageId);
    let back = match reply_to {
        Some(root) => format!("/conversations/{id}?thread={root}"),
        None => format!("/conversations/{id}"),
    };
    let req =
        NewMessage { body: form.body.clone(), reply_to, internal: false, attachments: Vec::new(), files: Vec::new() };
    match collab::messages::service::post(&ctx, &settings.subjects, principal, id, req).await {
        Ok(_) => Redirect::to(&format!("{back}#write")).into_response(),
        Err(err) if beside_form(&err) => {
            let mut errors = FieldErrors::from_error(&err);
            if errors.is_empty() {
                errors = FieldErrors::from_pairs([("body".to_owned(), err.detail().to_owned())]);
            }
            match conversation_page(
                &ctx,
                (&settings.subjects, settings.collab.edit_window),
                &session,
                id,
                reply_to,
                (form.body, errors),
            )
            .await
            {
                Ok(view) => page(err.status(), &view),
                Err(err) => super::error(&session, &err),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// The thread of a booking or an event: made on first use and shown.
pub async fn object_thread(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path((kind, id)): Path<(String, Uuid)>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/threads/{kind}/{id}")) };
    match collab::conversations::service::thread(&ctx, &settings.subjects, principal, &kind, id).await {
        Ok(c) => Redirect::to(&format!("/conversations/{}", c.id)).into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// The conversation's changes as they happen, for its page: new messages appended, edited and deleted
/// ones replaced in place, and who is writing. Replies are not shown on the page of first messages.
pub async fn stream(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    Extension(hub): Extension<Arc<notify::stream::Hub>>,
    session: Session,
    Path(id): Path<ConversationId>,
) -> Response {
    let Some(principal) = &session.principal else { return StatusCode::UNAUTHORIZED.into_response() };
    let may_post = match collab::conversations::service::get(&ctx, &settings.subjects, principal, id).await {
        Ok(c) => c.may_post,
        Err(err) => return super::error(&session, &err),
    };
    let conversation = id.to_string();
    let (reader, csrf) = (principal.user_id.0, session.csrf.clone());
    let (clock, edit_window) = (ctx.clock.clone(), settings.collab.edit_window);
    let render = move |change: Change| match change {
        Change::Message { message, new } => {
            if message.reply_to.is_some() {
                return Event::default().comment("a reply");
            }
            let line = MessageView::of(message, reader, clock.now() - edit_window).line(
                &conversation,
                false,
                !new,
                (&csrf, may_post),
            );
            Event::default().event(if new { "message" } else { "updated" }).data(line)
        }
        Change::Deleted(message) => {
            let line = format!(
                "<li class=\"message\" id=\"m-{message}\" hx-swap-oob=\"outerHTML\"><p class=\"meta\">This message was deleted.</p></li>"
            );
            Event::default().event("updated").data(line)
        }
        Change::Presence { name, here, .. } => Event::default().event("presence").data(format!(
            "{} {}",
            platform::markup::escape(&name),
            if here { "opened this conversation." } else { "left." }
        )),
        Change::Typing { name, .. } => {
            Event::default().event("typing").data(format!("{} is writing…", platform::markup::escape(&name)))
        }
        // Nothing on the page listens to it; a client that must re-read hears it.
        Change::Resync => Event::default().event("resync").data("resync"),
    };
    match collab::messages::service::follow_with(&ctx, &hub, &settings.subjects, principal, id, render).await {
        Ok(sse) => sse.into_response(),
        Err(err) => super::error(&session, &err),
    }
}

/// A message found, as the search page shows it.
pub struct HitLine {
    pub conversation: String,
    pub title: String,
    pub author: String,
    pub at: String,
    pub html: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    searched: bool,
    hits: Vec<HitLine>,
    projects: Vec<(String, String)>,
    files: Vec<FileHitLine>,
    errors: FieldErrors,
}

/// A file found: its download, its project, and where the words are in its text.
struct FileHitLine {
    href: String,
    project: String,
    project_name: String,
    name: String,
    excerpt: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchForm {
    q: String,
}

/// Search what the caller may read: messages (with `from:`, `in:`, `before:`, `after:`, `is:thread`)
/// and projects. A query that does not read is said beside the box.
pub async fn search(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Query(form): Query<SearchForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/search") };
    let q = form.q.trim().to_owned();
    let mut view = SearchPage {
        layout: Layout::new("Search", &session),
        q: q.clone(),
        searched: !q.is_empty(),
        hits: Vec::new(),
        projects: Vec::new(),
        files: Vec::new(),
        errors: FieldErrors::default(),
    };
    if q.is_empty() {
        return page(StatusCode::OK, &view);
    }
    let query = collab::search::dto::SearchQuery { q, limit: Some(50) };
    match collab::search::service::search(&ctx, &settings.subjects, principal, query).await {
        Ok(found) => {
            view.hits = found
                .messages
                .into_iter()
                .map(|hit| HitLine {
                    conversation: hit.message.conversation_id.to_string(),
                    title: hit.conversation_title,
                    author: hit.message.author_name,
                    at: format::when(hit.message.created_at),
                    html: crate::markdown::to_html(&hit.message.body),
                    message: hit.message.id.to_string(),
                })
                .collect();
            view.projects = found.projects.into_iter().map(|p| (p.id.to_string(), p.name)).collect();
            view.files = found
                .files
                .into_iter()
                .map(|f| FileHitLine {
                    href: format!("/project-files/{}/versions/{}", f.file_id, f.version),
                    project: f.project_id.to_string(),
                    name: if f.folder.is_empty() { f.name } else { format!("{}/{}", f.folder, f.name) },
                    project_name: f.project_name,
                    excerpt: f.excerpt.unwrap_or_default(),
                })
                .collect();
            page(StatusCode::OK, &view)
        }
        Err(err) if beside_form(&err) => {
            view.errors = FieldErrors::from_error(&err);
            if view.errors.is_empty() {
                view.errors = FieldErrors::from_pairs([("q".to_owned(), err.detail().to_owned())]);
            }
            page(err.status(), &view)
        }
        Err(err) => super::error(&session, &err),
    }
}
