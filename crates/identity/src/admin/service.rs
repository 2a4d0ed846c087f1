//! Administration: searching users, suspending and reactivating them (suspension ends every session),
//! approving accounts that need it, global roles, security events, the audit log (an organization's
//! managers read their organization's part), and permission templates.

use platform::audit;
use platform::http::ClientMeta;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use uuid::Uuid;

use crate::accounts::service::user_dto;
use crate::auth::Principal;
use crate::authz::{self, Target};
use crate::error::IdentityCode;
use crate::error::IdentityError;
use crate::model::{OrgId, TemplateId, UserId, UserStatus};
use crate::{accounts::dto::User, admin::dto};
use crate::{accounts::repo as accounts_repo, admin::repo};

fn page_of(limit: Option<u32>, cursor: Option<String>) -> PageParams {
    PageParams { limit, cursor }
}

pub async fn users(ctx: &AppContext, principal: &Principal, q: dto::UserQuery) -> Result<dto::UserList, ApiError> {
    authz::authorize(principal, "users.read", Target::Platform)?;
    let page = page_of(q.limit, q.cursor);
    let limit = page.limit()?;
    let after: Option<UserId> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let rows = repo::search_users(&mut conn, text, q.status, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |u| u.id);
    Ok(dto::UserList { items: page.items.iter().map(user_dto).collect(), next_cursor: page.next_cursor })
}

pub async fn user(ctx: &AppContext, principal: &Principal, id: UserId) -> Result<User, ApiError> {
    authz::authorize(principal, "users.read", Target::Platform)?;
    let mut conn = ctx.db.acquire().await?;
    Ok(user_dto(&accounts_repo::user_by_id(&mut conn, id).await?.ok_or(IdentityError::NotFound("user"))?))
}

/// What an admin does to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Suspend,
    Reactivate,
    Approve,
}

pub async fn act_on_user(
    ctx: &AppContext,
    principal: &Principal,
    id: UserId,
    action: AccountAction,
    reason: Option<String>,
    meta: &ClientMeta,
) -> Result<User, ApiError> {
    authz::authorize(principal, "users.manage", Target::Platform)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = accounts_repo::user_for_update(&mut tx, id).await?.ok_or(IdentityError::NotFound("user"))?;
    let conflict = |detail: &'static str| ApiError::new(IdentityCode::InvalidAccountState, detail);
    let (name, before, after) = match action {
        AccountAction::Suspend => {
            if id == principal.user_id {
                return Err(conflict("You cannot suspend your own account."));
            }
            if user.status != UserStatus::Active && user.status != UserStatus::PendingVerification {
                return Err(conflict("Only an active or pending account can be suspended."));
            }
            repo::set_status(&mut tx, id, UserStatus::Suspended, now).await?;
            accounts_repo::revoke_user_sessions(&mut tx, id, None, "suspended", now).await?;
            let event = accounts_repo::SecurityEvent {
                user: Some(id),
                kind: "account_suspended",
                severity: "warning",
                ip: meta.ip.as_deref(),
                user_agent: meta.user_agent.as_deref(),
                details: json!({"by": principal.user_id, "reason": reason}),
            };
            accounts_repo::insert_security_event(&mut tx, &event, now).await?;
            ("user.suspend", json!({"status": user.status}), json!({"status": "suspended", "reason": reason}))
        }
        AccountAction::Reactivate => {
            if user.status != UserStatus::Suspended {
                return Err(conflict("Only a suspended account can be reactivated."));
            }
            let status =
                if user.email_verified_at.is_some() { UserStatus::Active } else { UserStatus::PendingVerification };
            repo::set_status(&mut tx, id, status, now).await?;
            ("user.reactivate", json!({"status": "suspended"}), json!({"status": status}))
        }
        AccountAction::Approve => {
            if !user.needs_approval || user.approved_at.is_some() {
                return Err(conflict("This account does not wait for approval."));
            }
            repo::approve(&mut tx, id, now).await?;
            ("user.approve", json!({"approved": false}), json!({"approved": true}))
        }
    };
    audit::Entry::new(principal.actor(), name, "user", id)
        .before(before)
        .after(after)
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    let updated = accounts_repo::user_by_id(&mut tx, id).await?.ok_or(IdentityError::NotFound("user"))?;
    tx.commit().await?;
    Ok(user_dto(&updated))
}

pub async fn set_roles(
    ctx: &AppContext,
    principal: &Principal,
    id: UserId,
    roles: Vec<String>,
    meta: &ClientMeta,
) -> Result<User, ApiError> {
    authz::authorize(principal, "users.manage", Target::Platform)?;
    let errors: Vec<FieldError> = roles
        .iter()
        .enumerate()
        .filter(|(_, r)| !authz::is_global_role(r))
        .map(|(i, r)| FieldError::new(format!("roles[{i}]"), "unknown_role", format!("`{r}` is not a global role")))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if id == principal.user_id && !roles.iter().any(|r| r == "admin") {
        return Err(ApiError::new(IdentityCode::InvalidAccountState, "You cannot remove your own admin role."));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = accounts_repo::user_for_update(&mut tx, id).await?.ok_or(IdentityError::NotFound("user"))?;
    repo::replace_roles(&mut tx, id, &roles, now).await?;
    audit::Entry::new(principal.actor(), "user.set_roles", "user", id)
        .before(json!({"roles": user.roles}))
        .after(json!({"roles": roles}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    let updated = accounts_repo::user_by_id(&mut tx, id).await?.ok_or(IdentityError::NotFound("user"))?;
    tx.commit().await?;
    Ok(user_dto(&updated))
}

/// An empty filter (`?kind=`) means no filter.
fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

pub async fn security_events(
    ctx: &AppContext,
    principal: &Principal,
    q: dto::EventQuery,
) -> Result<dto::SecurityEventList, ApiError> {
    authz::authorize(principal, "security_events.read", Target::Platform)?;
    let q = dto::EventQuery { severity: non_empty(q.severity), kind: non_empty(q.kind), ..q };
    let page = page_of(q.limit, q.cursor.clone());
    let limit = page.limit()?;
    let before: Option<Uuid> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let rows: Vec<dto::SecurityEvent> =
        repo::security_events(&mut conn, &q, before, i64::from(limit) + 1).await?.into_iter().map(Into::into).collect();
    let page = Page::from_overfetch(rows, limit, |e| e.id);
    Ok(dto::SecurityEventList { items: page.items, next_cursor: page.next_cursor })
}

/// The audit log: everything for platform admins; one organization's rows for its managers.
pub async fn audit_log(
    ctx: &AppContext,
    principal: &Principal,
    org: Option<OrgId>,
    q: dto::AuditQuery,
) -> Result<dto::AuditList, ApiError> {
    let q = dto::AuditQuery { resource_type: non_empty(q.resource_type), resource_id: non_empty(q.resource_id), ..q };
    let mut conn = ctx.db.acquire().await?;
    match org {
        None => authz::authorize(principal, "audit.read", Target::Platform)?,
        Some(org) => {
            let (_, access) = crate::organizations::service::access(&mut conn, principal, org).await?;
            crate::organizations::service::require(principal, "audit.read", &access)?;
        }
    }
    let page = page_of(q.limit, q.cursor.clone());
    let limit = page.limit()?;
    let before: Option<Uuid> = page.cursor()?;
    let filter = platform::audit::Filter {
        organization_id: org.map(|o| o.0).or(q.organization_id),
        actor_user_id: q.actor_user_id,
        resource_type: q.resource_type.as_deref(),
        resource_id: q.resource_id.as_deref(),
        before,
        limit: i64::from(limit) + 1,
    };
    let rows: Vec<dto::AuditEntry> =
        platform::audit::list(&mut conn, &filter).await?.into_iter().map(dto::AuditEntry::from).collect();
    let page = Page::from_overfetch(rows, limit, |e| e.id);
    Ok(dto::AuditList { items: page.items, next_cursor: page.next_cursor })
}

pub fn permission_catalog() -> dto::PermissionCatalog {
    dto::PermissionCatalog {
        items: authz::PERMISSIONS.iter().map(|(name, description)| dto::Permission { name, description }).collect(),
    }
}

pub async fn templates(ctx: &AppContext, principal: &Principal) -> Result<dto::TemplateList, ApiError> {
    authz::authorize(principal, "permission_templates.manage", Target::Platform)?;
    let mut conn = ctx.db.acquire().await?;
    Ok(dto::TemplateList { items: repo::templates(&mut conn).await?.into_iter().map(Into::into).collect() })
}

fn check_template(req: &dto::TemplateRequest) -> Result<(String, Vec<String>), ApiError> {
    let mut errors = Vec::new();
    let name = req.name.trim().to_owned();
    let name_ok = (2..=50).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !authz::ORG_ROLES.contains(&name.as_str());
    if !name_ok {
        errors.push(FieldError::new(
            "name",
            "invalid_format",
            "must be 2–50 lower-case letters, digits and _, and not a built-in role",
        ));
    }
    if req.permissions.is_empty() {
        errors.push(FieldError::new("permissions", "required", "must name at least one permission"));
    }
    let mut permissions = Vec::new();
    for (i, p) in req.permissions.iter().enumerate() {
        if !authz::PERMISSIONS.iter().any(|(name, _)| name == p) {
            errors.push(FieldError::new(
                format!("permissions[{i}]"),
                "unknown_permission",
                format!("`{p}` is not in the catalog"),
            ));
        } else if !permissions.contains(p) {
            permissions.push(p.clone());
        }
    }
    if errors.is_empty() { Ok((name, permissions)) } else { Err(ApiError::validation(errors)) }
}

/// Creates a template (`id = None`) or replaces one.
pub async fn save_template(
    ctx: &AppContext,
    principal: &Principal,
    id: Option<TemplateId>,
    req: dto::TemplateRequest,
    meta: &ClientMeta,
) -> Result<dto::PermissionTemplate, ApiError> {
    authz::authorize(principal, "permission_templates.manage", Target::Platform)?;
    let (name, permissions) = check_template(&req)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let existing = match id {
        Some(id) => Some(repo::template(&mut tx, id).await?.ok_or(IdentityError::NotFound("permission template"))?),
        None => None,
    };
    if let Some(old) = &existing
        && old.name != name
        && repo::template_in_use(&mut tx, &old.name).await?
    {
        return Err(ApiError::new(
            IdentityCode::TemplateInUse,
            "Members hold this template as their role; it cannot be renamed.",
        ));
    }
    let template = repo::PermissionTemplateRow {
        id: id.unwrap_or_default(),
        name,
        description: req.description.trim().to_owned(),
        permissions,
        created_at: existing.as_ref().map_or(now, |t| t.created_at),
        updated_at: now,
    };
    repo::upsert_template(&mut tx, &template).await.map_err(crate::error::from_db)?;
    let action = if existing.is_some() { "permission_template.update" } else { "permission_template.create" };
    let mut entry = audit::Entry::new(principal.actor(), action, "permission_template", template.id)
        .after(json!({"name": template.name, "permissions": template.permissions}))
        .ip(meta.ip.as_deref());
    if let Some(old) = &existing {
        entry = entry.before(json!({"name": old.name, "permissions": old.permissions}));
    }
    entry.record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(template.into())
}

pub async fn delete_template(
    ctx: &AppContext,
    principal: &Principal,
    id: TemplateId,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    authz::authorize(principal, "permission_templates.manage", Target::Platform)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let template = repo::template(&mut tx, id).await?.ok_or(IdentityError::NotFound("permission template"))?;
    if repo::template_in_use(&mut tx, &template.name).await? {
        return Err(ApiError::new(
            IdentityCode::TemplateInUse,
            "Members hold this template as their role; change their roles first.",
        ));
    }
    repo::delete_template(&mut tx, id).await?;
    audit::Entry::new(principal.actor(), "permission_template.delete", "permission_template", id)
        .before(json!({"name": template.name}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}
