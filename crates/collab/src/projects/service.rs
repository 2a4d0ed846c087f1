//! Projects: who may see and change them, their details, and their members.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::party::Party;
use platform::error::FieldError;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Member, MemberRole, NewProject, Project, ProjectChange, ProjectQuery};
use super::repo::{self, ProjectRow};
use crate::PROJECTS_MANAGE;
use crate::error::{CollabCode, CollabError};
use crate::model::{Priority, ProjectId, ProjectRole, ProjectStatus};

/// Whether the caller is a platform admin for projects.
pub fn is_admin(principal: &Principal) -> bool {
    principal.has_role("admin") && authz::authorize(principal, PROJECTS_MANAGE, Target::Platform).is_ok()
}

/// The caller's role in the project: their own as a member; `manager` for the organization's project
/// managers and platform admins; `None` for anyone else, who may not know the project exists.
pub async fn standing(
    conn: &mut PgConnection,
    principal: &Principal,
    project: &ProjectRow,
) -> Result<Option<ProjectRole>, ApiError> {
    if let Some(role) = repo::member_role(conn, project.id, principal.user_id.0).await? {
        return Ok(Some(role));
    }
    if identity::party::may_act_for(conn, principal, Party::Organization(project.organization_id), PROJECTS_MANAGE)
        .await?
        || is_admin(principal)
    {
        return Ok(Some(ProjectRole::Manager));
    }
    Ok(None)
}

/// The project and the caller's role in it; not found for anyone without one.
pub async fn visible_project(
    conn: &mut PgConnection,
    principal: &Principal,
    id: ProjectId,
    lock: bool,
) -> Result<(ProjectRow, ProjectRole), ApiError> {
    let project = repo::project(conn, id, lock).await?.ok_or(CollabError::NotFound("project"))?;
    let role = standing(conn, principal, &project).await?.ok_or(CollabError::NotFound("project"))?;
    Ok((project, role))
}

/// The project, locked, if the caller manages it: 404 when they cannot see it, 403 when they can.
pub async fn managed_project(
    conn: &mut PgConnection,
    principal: &Principal,
    id: ProjectId,
) -> Result<(ProjectRow, ProjectRole), ApiError> {
    let (project, role) = visible_project(conn, principal, id, true).await?;
    if !role.may_manage() {
        return Err(ApiError::new(platform::PlatformCode::Forbidden, "Only the project's managers change it."));
    }
    Ok((project, role))
}

/// A slug made from a name: lower-case letters and digits, words joined by single dashes, at most 64.
pub fn slug_from(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_end_matches('-').chars().take(64).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// Lower-case letters and digits in words joined by single dashes, at most 64: a project's slug, a
/// channel's name, a tag.
pub(crate) fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 64
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Checks a project's fields after a creation or a change; collects every problem.
fn check(p: &mut ProjectRow, errors: &mut Vec<FieldError>) {
    p.name = p.name.trim().to_owned();
    if p.name.is_empty() || p.name.chars().count() > 200 {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 200 characters"));
    }
    if !valid_slug(&p.slug) {
        errors.push(FieldError::new(
            "slug",
            "invalid_format",
            "must be lower-case letters and digits in words joined by single dashes, at most 64",
        ));
    }
    if p.description.chars().count() > 10_000 {
        errors.push(FieldError::new("description", "too_long", "must be at most 10,000 characters"));
    }
    p.kind = p.kind.trim().to_owned();
    if p.kind.is_empty() || p.kind.chars().count() > 100 {
        errors.push(FieldError::new("kind", "invalid_length", "must be 1 to 100 characters"));
    }
    match (p.budget_minor, &p.budget_currency) {
        (Some(b), _) if b < 0 => errors.push(FieldError::new("budget_minor", "out_of_range", "must not be negative")),
        (Some(_), None) => {
            errors.push(FieldError::new("budget_currency", "required", "is needed with a budget"));
        }
        (None, Some(_)) => {
            errors.push(FieldError::new("budget_minor", "required", "is needed with a budget currency"));
        }
        _ => {}
    }
    if let Some(currency) = &mut p.budget_currency {
        *currency = currency.trim().to_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new("budget_currency", "invalid_format", "must be an ISO 4217 currency code"));
        }
    }
    if p.estimated_hours.is_some_and(|h| h < 0) {
        errors.push(FieldError::new("estimated_hours", "out_of_range", "must not be negative"));
    }
    if p.actual_hours < 0 {
        errors.push(FieldError::new("actual_hours", "out_of_range", "must not be negative"));
    }
    if let (Some(start), Some(due)) = (p.start_date, p.due_date)
        && due < start
    {
        errors.push(FieldError::new("due_date", "before_start", "must not be before start_date"));
    }
    let mut tags = Vec::new();
    for tag in &p.tags {
        let tag = tag.trim().to_lowercase();
        if !valid_slug(&tag) || tag.len() > 32 {
            errors.push(FieldError::new(
                "tags",
                "invalid_tag",
                format!("\"{tag}\" is not lower-case letters, digits and dashes (at most 32)"),
            ));
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > 20 {
        errors.push(FieldError::new("tags", "too_many", "at most 20 tags"));
    }
    p.tags = tags;
}

fn parse_status(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<ProjectStatus> {
    let status = ProjectStatus::parse(text);
    if status.is_none() {
        errors.push(FieldError::new(
            field,
            "invalid_value",
            "must be planning, active, on_hold, completed or cancelled",
        ));
    }
    status
}

fn parse_priority(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<Priority> {
    let priority = Priority::parse(text);
    if priority.is_none() {
        errors.push(FieldError::new(field, "invalid_value", "must be low, medium, high or urgent"));
    }
    priority
}

fn parse_role(text: &str) -> Result<ProjectRole, ApiError> {
    ProjectRole::parse(text).ok_or_else(|| {
        ApiError::invalid_field("role", "invalid_value", "must be manager, editor, commenter, viewer or client")
    })
}

/// Sets or clears the completion date as the status moves in or out of `completed`.
fn mark_completion(p: &mut ProjectRow, now: DateTime<Utc>) {
    if p.status == ProjectStatus::Completed {
        p.completed_on.get_or_insert(now.date_naive());
    } else {
        p.completed_on = None;
    }
}

/// Checks that a member-to-be may hold `role`: members of the organization hold any role but
/// `client`; anyone else only `client`.
pub(crate) async fn check_member(
    conn: &mut PgConnection,
    field: &str,
    org: Uuid,
    user: Uuid,
    role: ProjectRole,
) -> Result<(), ApiError> {
    if !identity::service::is_active_user(conn, identity::model::UserId(user)).await? {
        return Err(ApiError::invalid_field(field, "unknown_user", "names no active user"));
    }
    let in_org = identity::service::org_role_of(conn, org, user).await?.is_some();
    match (role, in_org) {
        (ProjectRole::Client, true) => Err(ApiError::invalid_field(
            field,
            "invalid_value",
            "is a member of the organization; a client is someone from outside it",
        )),
        (ProjectRole::Client, false) | (_, true) => Ok(()),
        (_, false) => Err(ApiError::invalid_field(
            field,
            "not_a_member",
            "is not a member of the organization; someone from outside it takes part as a client",
        )),
    }
}

pub async fn create(ctx: &AppContext, principal: &Principal, req: NewProject) -> Result<Project, ApiError> {
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut errors = Vec::new();
    let status =
        req.status.as_deref().map_or(Some(ProjectStatus::Planning), |s| parse_status("status", s, &mut errors));
    let priority =
        req.priority.as_deref().map_or(Some(Priority::Medium), |s| parse_priority("priority", s, &mut errors));
    let template = match req.template_id {
        Some(id) => {
            let mut conn = ctx.db.acquire().await?;
            Some(crate::templates::service::for_new_project(&mut conn, req.organization_id, id).await?)
        }
        None => None,
    };
    let mut row = ProjectRow {
        id: ProjectId::new(),
        organization_id: req.organization_id,
        slug: req.slug.clone().map_or_else(|| slug_from(&req.name), |s| s.trim().to_owned()),
        name: req.name,
        description: match (req.description.trim(), &template) {
            ("", Some(t)) => t.description.clone(),
            (d, _) => d.to_owned(),
        },
        team_id: req.team_id,
        client_id: req.client_id,
        status: status.unwrap_or(ProjectStatus::Planning),
        priority: priority.unwrap_or(Priority::Medium),
        kind: req.kind.or_else(|| template.as_ref().map(|t| t.kind.clone())).unwrap_or_else(|| "other".into()),
        budget_minor: req.budget_minor,
        budget_currency: req.budget_currency,
        estimated_hours: req.estimated_hours,
        actual_hours: 0,
        start_date: req.start_date,
        due_date: req.due_date,
        completed_on: None,
        tags: req.tags,
        created_by: me,
        created_at: now,
        updated_at: now,
    };
    check(&mut row, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    mark_completion(&mut row, now);
    let mut tx = ctx.db.begin().await?;
    if !identity::service::organizations::exists(&mut tx, identity::model::OrgId(row.organization_id)).await? {
        return Err(ApiError::invalid_field("organization_id", "not_found", "names no organization"));
    }
    if !identity::party::may_act_for(&mut tx, principal, Party::Organization(row.organization_id), PROJECTS_MANAGE)
        .await?
    {
        return Err(identity::error::IdentityError::Forbidden(PROJECTS_MANAGE.into()).into());
    }
    if let Some(team) = row.team_id
        && !identity::service::team_of_org(&mut tx, row.organization_id, team).await?
    {
        return Err(ApiError::invalid_field("team_id", "not_found", "names no team of the organization"));
    }
    let manager = req.manager_id.unwrap_or(me);
    check_member(&mut tx, "manager_id", row.organization_id, manager, ProjectRole::Manager).await?;
    if let Some(client) = row.client_id {
        check_member(&mut tx, "client_id", row.organization_id, client, ProjectRole::Client).await?;
    }
    // The plan's limits, under the organization's plan lock (held to the commit).
    if !matches!(row.status, ProjectStatus::Completed | ProjectStatus::Cancelled) {
        crate::plans::service::room_for_project(&mut tx, row.organization_id, now).await?;
    }
    crate::plans::service::room_for_person(&mut tx, row.organization_id, manager, now).await?;
    if let Some(client) = row.client_id {
        crate::plans::service::room_for_person(&mut tx, row.organization_id, client, now).await?;
    }
    repo::insert(&mut tx, &row).await.map_err(CollabError::from)?;
    repo::put_member(&mut tx, row.id, manager, ProjectRole::Manager, me, now).await?;
    if let Some(client) = row.client_id {
        repo::put_member(&mut tx, row.id, client, ProjectRole::Client, me, now).await?;
    }
    crate::conversations::service::open_channel(&mut tx, row.id, "general", me, now).await?;
    let mut added: Vec<(Uuid, ProjectRole)> = std::iter::once((manager, ProjectRole::Manager))
        .chain(row.client_id.map(|c| (c, ProjectRole::Client)))
        .collect();
    if let Some(template) = &template {
        added.extend(crate::templates::service::apply(&mut tx, template, &row, (me, now)).await?);
    }
    for (user, role) in added {
        tell_added(&mut tx, &row, user, role, me, now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "project.create", "project", row.id)
        .organization(row.organization_id)
        .after(json!({"name": row.name, "slug": row.slug, "manager": manager, "client": row.client_id,
                      "template": req.template_id}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    // The caller is the manager, or one of the organization's project managers.
    Ok(Project::of(row, ProjectRole::Manager))
}

/// Tells a new member, unless they added themselves.
async fn tell_added(
    conn: &mut PgConnection,
    project: &ProjectRow,
    user: Uuid,
    role: ProjectRole,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if user == by {
        return Ok(());
    }
    let names = identity::service::display_names(conn, &[by]).await?;
    let data = json!({"project": project.name, "project_id": project.id, "role": role.as_str(),
                      "by": names.get(&by).cloned().unwrap_or_default()});
    crate::notify_users(conn, vec![user], "project.member_added", data, now).await
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: ProjectId) -> Result<Project, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, role) = visible_project(&mut conn, principal, id, false).await?;
    Ok(Project::of(row, role))
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: ProjectId,
    change: ProjectChange,
) -> Result<Project, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, role) = managed_project(&mut tx, principal, id).await?;
    let mut row = before.clone();
    let mut errors = Vec::new();
    if let Some(name) = change.name {
        row.name = name;
    }
    if let Some(slug) = change.slug {
        row.slug = slug.trim().to_owned();
    }
    if let Some(description) = change.description {
        row.description = description.trim().to_owned();
    }
    if let Some(kind) = change.kind {
        row.kind = kind;
    }
    if let Some(status) = change.status.as_deref().and_then(|s| parse_status("status", s, &mut errors)) {
        row.status = status;
    }
    if let Some(priority) = change.priority.as_deref().and_then(|s| parse_priority("priority", s, &mut errors)) {
        row.priority = priority;
    }
    if let Some(team) = change.team_id {
        row.team_id = team;
    }
    if let Some(budget) = change.budget_minor {
        row.budget_minor = budget;
    }
    if let Some(currency) = change.budget_currency {
        row.budget_currency = currency;
    }
    if let Some(hours) = change.estimated_hours {
        row.estimated_hours = hours;
    }
    if let Some(hours) = change.actual_hours {
        row.actual_hours = hours;
    }
    if let Some(date) = change.start_date {
        row.start_date = date;
    }
    if let Some(date) = change.due_date {
        row.due_date = date;
    }
    if let Some(tags) = change.tags {
        row.tags = tags;
    }
    check(&mut row, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if let Some(team) = row.team_id
        && before.team_id != Some(team)
        && !identity::service::team_of_org(&mut tx, row.organization_id, team).await?
    {
        return Err(ApiError::invalid_field("team_id", "not_found", "names no team of the organization"));
    }
    // Reopening a completed or cancelled project takes one of the plan's open projects.
    let closed = |s: ProjectStatus| matches!(s, ProjectStatus::Completed | ProjectStatus::Cancelled);
    if closed(before.status) && !closed(row.status) {
        crate::plans::service::room_for_project(&mut tx, row.organization_id, now).await?;
    }
    mark_completion(&mut row, now);
    row.updated_at = now;
    repo::update(&mut tx, &row).await.map_err(CollabError::from)?;
    platform::audit::Entry::new(principal.actor(), "project.update", "project", row.id)
        .organization(row.organization_id)
        .before(json!({"name": before.name, "slug": before.slug, "status": before.status.as_str()}))
        .after(json!({"name": row.name, "slug": row.slug, "status": row.status.as_str()}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(Project::of(row, role))
}

pub async fn list(ctx: &AppContext, principal: &Principal, q: ProjectQuery) -> Result<Page<Project>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let status = match q.status.as_deref() {
        Some(s) => Some(ProjectStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_field(
                "status",
                "invalid_value",
                "must be planning, active, on_hold, completed or cancelled",
            )
        })?),
        None => None,
    };
    let me = principal.user_id.0;
    let mut conn = ctx.db.acquire().await?;
    let (rows, manager) = match q.organization_id {
        Some(org) => {
            let manager =
                identity::party::may_act_for(&mut conn, principal, Party::Organization(org), PROJECTS_MANAGE).await?;
            let rows = repo::projects_of_org(&mut conn, org, me, manager, status, after, i64::from(limit) + 1).await?;
            (rows, manager)
        }
        None => (repo::projects_of_member(&mut conn, me, status, after, i64::from(limit) + 1).await?, false),
    };
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        let role = match repo::member_role(&mut conn, row.id, me).await? {
            Some(role) => role,
            None if manager => ProjectRole::Manager,
            None => continue,
        };
        items.push(Project::of(row, role));
    }
    Ok(Page { items, next_cursor: page.next_cursor })
}

pub async fn members(ctx: &AppContext, principal: &Principal, id: ProjectId) -> Result<Vec<Member>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    visible_project(&mut conn, principal, id, false).await?;
    let rows = repo::members(&mut conn, id).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    let names = identity::service::display_names(&mut conn, &ids).await?;
    Ok(rows.into_iter().map(|r| Member::of(r, &names)).collect())
}

/// Adds a member or changes their role. The project stays with at least one manager.
pub async fn put_member(
    ctx: &AppContext,
    principal: &Principal,
    id: ProjectId,
    user: Uuid,
    req: MemberRole,
) -> Result<Member, ApiError> {
    let role = parse_role(&req.role)?;
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let (project, _) = managed_project(&mut tx, principal, id).await?;
    check_member(&mut tx, "user_id", project.organization_id, user, role).await?;
    crate::plans::service::room_for_person(&mut tx, project.organization_id, user, now).await?;
    let before = repo::put_member(&mut tx, id, user, role, me, now).await?;
    if before == Some(ProjectRole::Manager) && role != ProjectRole::Manager {
        keeps_a_manager(&mut tx, id).await?;
    }
    if before.is_none() {
        tell_added(&mut tx, &project, user, role, me, now).await?;
    }
    platform::audit::Entry::new(principal.actor(), "project.member", "project", id)
        .organization(project.organization_id)
        .before(json!({"user": user, "role": before.map(ProjectRole::as_str)}))
        .after(json!({"user": user, "role": role.as_str()}))
        .record(&mut tx, now)
        .await?;
    let row = repo::members(&mut tx, id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user)
        .ok_or(CollabError::NotFound("member"))?;
    let names = identity::service::display_names(&mut tx, &[user]).await?;
    tx.commit().await?;
    Ok(Member::of(row, &names))
}

/// Removes a member: a manager removes anyone, a member removes themselves (leaves). The project
/// stays with at least one manager.
pub async fn remove_member(ctx: &AppContext, principal: &Principal, id: ProjectId, user: Uuid) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (project, role) = visible_project(&mut tx, principal, id, true).await?;
    if user != principal.user_id.0 && !role.may_manage() {
        return Err(ApiError::new(platform::PlatformCode::Forbidden, "Only the project's managers remove others."));
    }
    let before = repo::member_role(&mut tx, id, user).await?.ok_or(CollabError::NotFound("member"))?;
    repo::remove_member(&mut tx, id, user).await?;
    if before == ProjectRole::Manager {
        keeps_a_manager(&mut tx, id).await?;
    }
    platform::audit::Entry::new(principal.actor(), "project.member", "project", id)
        .organization(project.organization_id)
        .before(json!({"user": user, "role": before.as_str()}))
        .after(json!({"user": user, "role": null}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses a change that leaves the project without a manager (the project row is locked by the
/// caller, so two changes cannot each leave the other's manager as the last one and both pass).
async fn keeps_a_manager(conn: &mut PgConnection, id: ProjectId) -> Result<(), ApiError> {
    if repo::manager_count(conn, id).await? == 0 {
        return Err(ApiError::new(
            CollabCode::LastManager,
            "The project keeps at least one manager; make another member manager first.",
        ));
    }
    Ok(())
}
