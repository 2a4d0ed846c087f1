//! Organizations: creation (with a parent for sub-labels), profiles, members and their roles, invitations
//! by email, and teams. Someone outside an organization learns nothing about it: every refusal is a 404.
//! Membership changes of one organization run one at a time (its row is locked), so the rule that an
//! organization always keeps an owner holds under concurrency.

use chrono::Duration;
use platform::audit;
use platform::http::ClientMeta;
use platform::mail::{self, Message};
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;

use super::dto;
use super::repo;
use crate::auth::Principal;
use crate::authz::{self, OrgAccess, Target};
use crate::error::IdentityCode;
use crate::error::IdentityError;
use crate::model::{Email, InvitationId, InvitationStatus, OrgId, TeamId, UserId, parse_slug};
use crate::organizations::repo::OrgRow;
use crate::tokens::{self, Kind};

/// How long an invitation stays open.
pub const INVITATION_TTL: Duration = Duration::days(7);

fn org_dto(row: &OrgRow, my_role: Option<String>) -> dto::Organization {
    dto::Organization {
        id: row.id,
        slug: row.slug.clone(),
        name: row.name.clone(),
        kind: row.kind,
        parent_id: row.parent_id,
        description: row.description.clone(),
        website: row.website.clone(),
        email: row.email.clone(),
        country: row.country.clone(),
        city: row.city.clone(),
        settings: row.settings.clone(),
        created_at: row.created_at,
        my_role,
    }
}

fn member_dto(row: repo::MemberRow) -> dto::Member {
    dto::Member {
        user_id: row.user_id,
        username: row.username,
        display_name: row.display_name,
        role: row.role,
        joined_at: row.joined_at,
    }
}

/// What a role grants in an organization: a built-in role's grants or a permission template's.
async fn role_permissions(conn: &mut PgConnection, role: &str) -> sqlx::Result<Vec<String>> {
    match authz::org_role_grants(role) {
        Some(grants) => Ok(grants.iter().map(|p| (*p).to_owned()).collect()),
        None => Ok(repo::template_permissions(conn, role).await?.unwrap_or_default()),
    }
}

/// Loads the organization and the caller's standing in it.
pub(crate) async fn access(
    conn: &mut PgConnection,
    principal: &Principal,
    org: OrgId,
) -> Result<(OrgRow, OrgAccess), ApiError> {
    let row = repo::org(conn, org).await?.ok_or(IdentityError::NotFound("organization"))?;
    let role = repo::member_role(conn, org, principal.user_id).await?;
    let permissions = match &role {
        Some(role) => role_permissions(conn, role).await?,
        None => Vec::new(),
    };
    Ok((row, OrgAccess { org, role, permissions }))
}

/// Checks `permission`; an organization the caller may not even see answers 404.
pub(crate) fn require(principal: &Principal, permission: &str, access: &OrgAccess) -> Result<(), ApiError> {
    if authz::authorize(principal, "organizations.read", Target::Organization(access)).is_err() && access.role.is_none()
    {
        return Err(IdentityError::NotFound("organization").into());
    }
    Ok(authz::authorize(principal, permission, Target::Organization(access))?)
}

/// For other domains: checks that the caller holds `permission` in `org` (404 for strangers, 403 for
/// members without it).
pub async fn require_permission(
    conn: &mut PgConnection,
    principal: &Principal,
    org: OrgId,
    permission: &str,
) -> Result<(), ApiError> {
    let (_, access) = access(conn, principal, org).await?;
    require(principal, permission, &access)
}

/// For other domains: whether the caller's own role in `org` grants `permission` (global roles do not
/// count: an admin acting on an organization's object is an admin, not a member).
pub async fn member_holds(
    conn: &mut PgConnection,
    principal: &Principal,
    org: OrgId,
    permission: &str,
) -> Result<bool, ApiError> {
    let membership = membership(conn, principal, org).await?;
    Ok(membership.permissions.iter().any(|p| p == permission)
        && authz::authorize(principal, permission, Target::Organization(&membership)).is_ok())
}

/// For other domains: whether the caller's role in `org`, or in any organization above it (its parent,
/// the parent's parent, ...), grants `permission`: a parent label's staff manage its sub-labels' catalog,
/// not the other way round.
pub async fn holds_in_lineage(
    conn: &mut PgConnection,
    principal: &Principal,
    org: OrgId,
    permission: &str,
) -> Result<bool, ApiError> {
    for row in repo::lineage(conn, org).await? {
        if member_holds(conn, principal, row.id, permission).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// For other domains: the organization and those above it, nearest first (at most eight levels).
pub async fn lineage(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<Vec<repo::LineageRow>> {
    repo::lineage(conn, org).await
}

/// For other domains: the organizations where the caller's role grants `permission` (at most 500).
pub async fn orgs_granting(
    conn: &mut PgConnection,
    principal: &Principal,
    permission: &str,
) -> Result<Vec<OrgId>, ApiError> {
    let mut orgs = Vec::new();
    for row in repo::orgs_of(conn, principal.user_id, None, 500).await? {
        if role_permissions(conn, &row.role).await?.iter().any(|p| p == permission) {
            orgs.push(row.org.id);
        }
    }
    Ok(orgs)
}

/// For other domains: the organization's owners and admins, to notify on its behalf.
pub async fn managers(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<Vec<uuid::Uuid>> {
    let members = repo::members(conn, org, None, 1000).await?;
    Ok(members.into_iter().filter(|m| m.role == "owner" || m.role == "admin").map(|m| m.user_id.0).collect())
}

/// For other domains: whether the organization exists.
pub async fn exists(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<bool> {
    Ok(repo::org(conn, org).await?.is_some())
}

/// For other domains: the caller's membership in `org` (its role and what that role grants there), without
/// the reach of global roles. A non-member gets no role and no permissions.
pub async fn membership(conn: &mut PgConnection, principal: &Principal, org: OrgId) -> Result<OrgAccess, ApiError> {
    Ok(access(conn, principal, org).await?.1)
}

/// Whether a change must run alone among the organization's membership changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    None,
    Organization,
}

/// Opens the transaction of a change to `org` that needs `permission`: loads the organization and the
/// caller's standing, and (with `Lock::Organization`) locks it first so membership changes run one at a time.
async fn begin_change(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    permission: &str,
    lock: Lock,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, OrgRow, OrgAccess), ApiError> {
    let mut tx = ctx.db.begin().await?;
    if lock == Lock::Organization {
        repo::lock_org(&mut tx, org).await?;
    }
    let (row, access) = access(&mut tx, principal, org).await?;
    require(principal, permission, &access)?;
    Ok((tx, row, access))
}

/// A role that exists: built in, or a permission template.
async fn check_role(conn: &mut PgConnection, field: &str, role: &str) -> Result<String, ApiError> {
    let role = role.trim();
    if authz::org_role_grants(role).is_some() || repo::template_permissions(conn, role).await?.is_some() {
        Ok(role.to_owned())
    } else {
        Err(ApiError::invalid_field(
            field,
            "unknown_role",
            format!("`{role}` is not owner, admin, member, viewer or a permission template"),
        ))
    }
}

/// Only an owner (or a platform admin) may make or unmake owners.
fn may_touch_owners(principal: &Principal, access: &OrgAccess) -> Result<(), ApiError> {
    if access.role.as_deref() == Some("owner") || principal.has_role("admin") {
        Ok(())
    } else {
        Err(ApiError::new(IdentityCode::OwnerOnly, "Only an owner may grant or remove the owner role."))
    }
}

fn optional_text(value: Option<&str>, field: &str, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.push(FieldError::new(field, "too_long", format!("must be at most {max} characters")));
    }
    Some(value.to_owned())
}

fn check_profile(org: &mut OrgRow, name: Option<&str>, req_country: Option<&str>, errors: &mut Vec<FieldError>) {
    if let Some(name) = name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "invalid_length", "must be 1 to 200 characters"));
        }
        org.name = name.to_owned();
    }
    if let Some(country) = req_country {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            errors.push(FieldError::new("country", "invalid_format", "must be an ISO 3166-1 alpha-2 code such as DE"));
        }
        org.country = Some(country);
    }
    if let Some(website) = &org.website
        && !(website.starts_with("https://") || website.starts_with("http://"))
    {
        errors.push(FieldError::new("website", "invalid_format", "must be an http(s) URL"));
    }
    if let Some(email) = &org.email
        && let Err(e) = Email::parse("email", email)
    {
        errors.push(e);
    }
    if !org.settings.is_object() {
        errors.push(FieldError::new("settings", "invalid_type", "must be an object"));
    }
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    req: dto::CreateOrgRequest,
    meta: &ClientMeta,
) -> Result<dto::Organization, ApiError> {
    authz::authorize(principal, "organizations.create", Target::Platform)?;
    let now = ctx.clock.now();
    let mut errors = Vec::new();
    let slug = parse_slug(&req.slug).map_err(|e| errors.push(e)).unwrap_or_default();
    let mut org = OrgRow {
        id: OrgId::new(),
        slug,
        name: String::new(),
        kind: req.kind,
        parent_id: req.parent_id,
        description: optional_text(req.description.as_deref(), "description", 5000, &mut errors).unwrap_or_default(),
        website: optional_text(req.website.as_deref(), "website", 2048, &mut errors),
        email: optional_text(req.email.as_deref(), "email", 254, &mut errors),
        country: None,
        city: optional_text(req.city.as_deref(), "city", 200, &mut errors),
        settings: req.settings.unwrap_or_else(|| json!({})),
        created_at: now,
    };
    check_profile(&mut org, Some(&req.name), req.country.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = ctx.db.begin().await?;
    if let Some(parent) = req.parent_id {
        let (_, parent_access) = access(&mut tx, principal, parent)
            .await
            .map_err(|_| ApiError::invalid_field("parent_id", "not_found", "is not an organization you can see"))?;
        require(principal, "organizations.update", &parent_access)
            .map_err(|_| ApiError::invalid_field("parent_id", "not_allowed", "must be an organization you manage"))?;
    }
    repo::insert_org(&mut tx, &org, principal.user_id).await.map_err(crate::error::from_db)?;
    repo::add_member(&mut tx, org.id, principal.user_id, "owner", now).await?;
    audit::Entry::new(principal.actor(), "organization.create", "organization", org.id)
        .organization(org.id.0)
        .after(json!({"slug": org.slug, "name": org.name, "kind": org.kind, "parent_id": org.parent_id}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(org_dto(&org, Some("owner".into())))
}

pub async fn mine(
    ctx: &AppContext,
    principal: &Principal,
    page: &PageParams,
) -> Result<dto::OrganizationList, ApiError> {
    let limit = page.limit()?;
    let after: Option<OrgId> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::orgs_of(&mut conn, principal.user_id, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| r.org.id);
    Ok(dto::OrganizationList {
        items: page.items.into_iter().map(|r| org_dto(&r.org, Some(r.role))).collect(),
        next_cursor: page.next_cursor,
    })
}

pub async fn get(ctx: &AppContext, principal: &Principal, org: OrgId) -> Result<dto::Organization, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, access) = access(&mut conn, principal, org).await?;
    require(principal, "organizations.read", &access)?;
    Ok(org_dto(&row, access.role))
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    req: dto::UpdateOrgRequest,
    meta: &ClientMeta,
) -> Result<dto::Organization, ApiError> {
    let now = ctx.clock.now();
    let (mut tx, current, access) =
        begin_change(ctx, principal, org, "organizations.update", Lock::Organization).await?;
    let mut errors = Vec::new();
    let mut next = current.clone();
    if let Some(description) = &req.description {
        next.description = optional_text(Some(description), "description", 5000, &mut errors).unwrap_or_default();
    }
    if req.website.is_some() {
        next.website = optional_text(req.website.as_deref(), "website", 2048, &mut errors);
    }
    if req.email.is_some() {
        next.email = optional_text(req.email.as_deref(), "email", 254, &mut errors);
    }
    if req.city.is_some() {
        next.city = optional_text(req.city.as_deref(), "city", 200, &mut errors);
    }
    if let Some(settings) = req.settings {
        next.settings = settings;
    }
    check_profile(&mut next, req.name.as_deref(), req.country.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    repo::update_org(&mut tx, &next, now).await?;
    let (before, after) = audit::changed_fields(
        &serde_json::to_value(org_dto(&current, None)).unwrap_or_default(),
        &serde_json::to_value(org_dto(&next, None)).unwrap_or_default(),
    );
    audit::Entry::new(principal.actor(), "organization.update", "organization", org)
        .organization(org.0)
        .before(before)
        .after(after)
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(org_dto(&next, access.role))
}

pub async fn members(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    page: &PageParams,
) -> Result<dto::MemberList, ApiError> {
    let limit = page.limit()?;
    let after: Option<UserId> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let (_, access) = access(&mut conn, principal, org).await?;
    require(principal, "members.read", &access)?;
    let rows = repo::members(&mut conn, org, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |m| m.user_id);
    Ok(dto::MemberList { items: page.items.into_iter().map(member_dto).collect(), next_cursor: page.next_cursor })
}

/// Refuses a change that would leave the organization without an owner.
async fn keep_an_owner(
    conn: &mut PgConnection,
    org: OrgId,
    target_role: &str,
    new_role: Option<&str>,
) -> Result<(), ApiError> {
    if target_role == "owner" && new_role != Some("owner") && repo::owner_count(conn, org).await? <= 1 {
        return Err(ApiError::new(
            IdentityCode::LastOwner,
            "An organization must keep an owner: make someone else owner first.",
        ));
    }
    Ok(())
}

pub async fn change_role(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    user: UserId,
    role: &str,
    meta: &ClientMeta,
) -> Result<dto::Member, ApiError> {
    let now = ctx.clock.now();
    let (mut tx, _, access) = begin_change(ctx, principal, org, "members.manage", Lock::Organization).await?;
    let role = check_role(&mut tx, "role", role).await?;
    let current = repo::member_role(&mut tx, org, user).await?.ok_or(IdentityError::NotFound("member"))?;
    if current == "owner" || role == "owner" {
        may_touch_owners(principal, &access)?;
    }
    keep_an_owner(&mut tx, org, &current, Some(&role)).await?;
    repo::set_member_role(&mut tx, org, user, &role).await?;
    audit::Entry::new(principal.actor(), "member.change_role", "org_member", user)
        .organization(org.0)
        .before(json!({"role": current}))
        .after(json!({"role": role}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    let row = repo::member(&mut tx, org, user).await?.ok_or(IdentityError::NotFound("member"))?;
    tx.commit().await?;
    Ok(member_dto(row))
}

/// Removes a member; a member may always remove themselves (leave), unless they are the last owner.
pub async fn remove_member(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    user: UserId,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    repo::lock_org(&mut tx, org).await?;
    let (_, access) = access(&mut tx, principal, org).await?;
    let leaving = user == principal.user_id;
    if leaving {
        if access.role.is_none() {
            return Err(IdentityError::NotFound("organization").into());
        }
    } else {
        require(principal, "members.manage", &access)?;
    }
    let current = repo::member_role(&mut tx, org, user).await?.ok_or(IdentityError::NotFound("member"))?;
    if current == "owner" && !leaving {
        may_touch_owners(principal, &access)?;
    }
    keep_an_owner(&mut tx, org, &current, None).await?;
    repo::remove_member(&mut tx, org, user).await?;
    let action = if leaving { "member.leave" } else { "member.remove" };
    audit::Entry::new(principal.actor(), action, "org_member", user)
        .organization(org.0)
        .before(json!({"role": current}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn invite(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    req: dto::InviteRequest,
    meta: &ClientMeta,
) -> Result<dto::Invitation, ApiError> {
    let now = ctx.clock.now();
    let (mut tx, org_row, access) = begin_change(ctx, principal, org, "members.manage", Lock::Organization).await?;
    let email = Email::parse("email", &req.email).map_err(|e| ApiError::validation(vec![e]))?;
    let role = check_role(&mut tx, "role", &req.role).await?;
    if role == "owner" {
        may_touch_owners(principal, &access)?;
    }
    if repo::is_member_by_email(&mut tx, org, email.as_str()).await? {
        return Err(ApiError::new(IdentityCode::AlreadyMember, "Someone with this email address is already a member."));
    }
    repo::expire_stale_invitations(&mut tx, org, email.as_str(), now).await?;
    let (token, hash) = tokens::generate(Kind::Email);
    let invitation = repo::InvitationRow {
        id: InvitationId::new(),
        org_id: org,
        email: email.as_str().to_owned(),
        role: role.clone(),
        status: InvitationStatus::Pending,
        invited_by: principal.user_id,
        created_at: now,
        expires_at: now + INVITATION_TTL,
    };
    repo::insert_invitation(&mut tx, &invitation, &hash).await.map_err(crate::error::from_db)?;
    let body_text = format!(
        "You are invited to join {} on Backline as {role}.\n\nAccept (valid for 7 days):\n{}/invitations/accept?token={token}\n\n\
         Token: {token}\n\nIf you do not want to join, decline with the same token or ignore this message.\n",
        org_row.name, ctx.public_url,
    );
    let subject = format!("Join {} on Backline", org_row.name);
    mail::enqueue(&mut tx, &Message { to: invitation.email.clone(), subject, body_text, body_html: None }, now).await?;
    if let Some(invitee) = crate::accounts::repo::user_by_login(&mut tx, &invitation.email)
        .await?
        .filter(|u| u.email.eq_ignore_ascii_case(&invitation.email))
    {
        let inviter = crate::accounts::repo::user_by_id(&mut tx, principal.user_id)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let event = platform::events::Event {
            kind: "organization.invitation_received",
            recipients: vec![invitee.id.0],
            organization: None,
            data: json!({"organization_id": org, "organization_name": org_row.name, "inviter_name": inviter, "role": role}),
        };
        platform::events::emit(&mut tx, event, now).await?;
    }
    audit::Entry::new(principal.actor(), "invitation.create", "invitation", invitation.id)
        .organization(org.0)
        .after(json!({"email": invitation.email, "role": role}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(invitation_dto(invitation))
}

fn invitation_dto(row: repo::InvitationRow) -> dto::Invitation {
    dto::Invitation {
        id: row.id,
        org_id: row.org_id,
        email: row.email,
        role: row.role,
        status: row.status.as_str().to_owned(),
        invited_by: row.invited_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
    }
}

pub async fn invitations(ctx: &AppContext, principal: &Principal, org: OrgId) -> Result<dto::InvitationList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (_, access) = access(&mut conn, principal, org).await?;
    require(principal, "members.manage", &access)?;
    let rows = repo::pending_invitations(&mut conn, org, ctx.clock.now()).await?;
    Ok(dto::InvitationList { items: rows.into_iter().map(invitation_dto).collect() })
}

pub async fn revoke_invitation(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    id: InvitationId,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let (mut tx, _, _) = begin_change(ctx, principal, org, "members.manage", Lock::None).await?;
    if !repo::revoke_invitation(&mut tx, org, id, principal.user_id, now).await? {
        return Err(IdentityError::NotFound("invitation").into());
    }
    audit::Entry::new(principal.actor(), "invitation.revoke", "invitation", id)
        .organization(org.0)
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts (`accept = true`) or declines an invitation with its emailed token, as the signed-in caller.
pub async fn respond(
    ctx: &AppContext,
    principal: &Principal,
    token: &str,
    accept: bool,
    meta: &ClientMeta,
) -> Result<Option<dto::Organization>, ApiError> {
    principal.require_verified()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let invitation = repo::invitation_by_token(&mut tx, &tokens::hash(token.trim()))
        .await?
        .filter(|i| i.status == InvitationStatus::Pending && i.expires_at > now)
        .ok_or(IdentityError::InvalidEmailToken)?;
    repo::lock_org(&mut tx, invitation.org_id).await?;
    let status = if accept { InvitationStatus::Accepted } else { InvitationStatus::Declined };
    repo::close_invitation(&mut tx, invitation.id, status, principal.user_id, now).await?;
    if accept && !repo::add_member(&mut tx, invitation.org_id, principal.user_id, &invitation.role, now).await? {
        return Err(ApiError::new(IdentityCode::AlreadyMember, "You are already a member of this organization."));
    }
    if accept {
        let managers = repo::managers_except(&mut tx, invitation.org_id, principal.user_id).await?;
        let member = crate::accounts::repo::user_by_id(&mut tx, principal.user_id).await?;
        let org_name = repo::org(&mut tx, invitation.org_id).await?.map(|o| o.name).unwrap_or_default();
        let event = platform::events::Event {
            kind: "organization.member_added",
            recipients: managers,
            organization: Some(invitation.org_id.0),
            data: json!({
                "organization_id": invitation.org_id,
                "organization_name": org_name,
                "member_id": principal.user_id,
                "member_name": member.map(|m| m.display_name).unwrap_or_default(),
                "role": invitation.role,
            }),
        };
        platform::events::emit(&mut tx, event, now).await?;
    }
    let action = if accept { "invitation.accept" } else { "invitation.decline" };
    audit::Entry::new(principal.actor(), action, "invitation", invitation.id)
        .organization(invitation.org_id.0)
        .after(json!({"role": invitation.role}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    let org = repo::org(&mut tx, invitation.org_id).await?.ok_or(IdentityError::NotFound("organization"))?;
    tx.commit().await?;
    Ok(accept.then(|| org_dto(&org, Some(invitation.role))))
}

pub async fn create_team(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    req: dto::CreateTeamRequest,
    meta: &ClientMeta,
) -> Result<dto::Team, ApiError> {
    let now = ctx.clock.now();
    let (mut tx, _, _) = begin_change(ctx, principal, org, "teams.manage", Lock::None).await?;
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_field("name", "invalid_length", "must be 1 to 100 characters"));
    }
    let team = repo::TeamRow {
        id: TeamId::new(),
        org_id: org,
        name,
        description: req.description.unwrap_or_default().trim().to_owned(),
        member_count: 0,
        created_at: now,
    };
    repo::insert_team(&mut tx, &team).await.map_err(crate::error::from_db)?;
    audit::Entry::new(principal.actor(), "team.create", "team", team.id)
        .organization(org.0)
        .after(json!({"name": team.name}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(team_dto(team))
}

fn team_dto(row: repo::TeamRow) -> dto::Team {
    dto::Team {
        id: row.id,
        org_id: row.org_id,
        name: row.name,
        description: row.description,
        member_count: row.member_count,
        created_at: row.created_at,
    }
}

pub async fn teams(ctx: &AppContext, principal: &Principal, org: OrgId) -> Result<dto::TeamList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (_, access) = access(&mut conn, principal, org).await?;
    require(principal, "organizations.read", &access)?;
    Ok(dto::TeamList { items: repo::teams(&mut conn, org).await?.into_iter().map(team_dto).collect() })
}

pub async fn delete_team(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    team: TeamId,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let (mut tx, _, _) = begin_change(ctx, principal, org, "teams.manage", Lock::None).await?;
    if !repo::delete_team(&mut tx, org, team).await? {
        return Err(IdentityError::NotFound("team").into());
    }
    audit::Entry::new(principal.actor(), "team.delete", "team", team)
        .organization(org.0)
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn team_members(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    team: TeamId,
) -> Result<dto::MemberList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (_, access) = access(&mut conn, principal, org).await?;
    require(principal, "members.read", &access)?;
    if !repo::team_exists(&mut conn, org, team).await? {
        return Err(IdentityError::NotFound("team").into());
    }
    let items = repo::team_members(&mut conn, team).await?.into_iter().map(member_dto).collect();
    Ok(dto::MemberList { items, next_cursor: None })
}

/// Adds (`add = true`) or removes a member of the organization to or from one of its teams.
pub async fn set_team_member(
    ctx: &AppContext,
    principal: &Principal,
    org: OrgId,
    team: TeamId,
    user: UserId,
    add: bool,
    meta: &ClientMeta,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let (mut tx, _, _) = begin_change(ctx, principal, org, "teams.manage", Lock::None).await?;
    if !repo::team_exists(&mut tx, org, team).await? {
        return Err(IdentityError::NotFound("team").into());
    }
    if add {
        repo::add_team_member(&mut tx, org, team, user, now).await.map_err(|err| {
            if err.as_database_error().is_some_and(|e| e.is_foreign_key_violation()) {
                ApiError::invalid_field("user_id", "not_a_member", "must be a member of the organization")
            } else {
                err.into()
            }
        })?;
    } else if !repo::remove_team_member(&mut tx, team, user).await? {
        return Err(IdentityError::NotFound("team member").into());
    }
    let action = if add { "team.add_member" } else { "team.remove_member" };
    audit::Entry::new(principal.actor(), action, "team", team)
        .organization(org.0)
        .after(json!({"user_id": user}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A team's handle in mentions: its name in lower case, each run of other characters a dash ("Door
/// staff" is `door-staff`, "A&R" is `a-r`).
pub fn team_handle(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// For other domains: the members of the organization's team whose handle is `handle` (`None` when no
/// team has it).
pub async fn team_by_handle(
    conn: &mut PgConnection,
    org: OrgId,
    handle: &str,
) -> sqlx::Result<Option<Vec<uuid::Uuid>>> {
    let handle = handle.to_lowercase();
    for team in repo::teams(conn, org).await? {
        if team_handle(&team.name) == handle {
            let members = repo::team_members(conn, team.id).await?;
            return Ok(Some(members.into_iter().map(|m| m.user_id.0).collect()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod handle_tests {
    #[test]
    fn team_handles_are_lower_case_words_joined_by_dashes() {
        assert_eq!(super::team_handle("Door staff"), "door-staff");
        assert_eq!(super::team_handle("A&R"), "a-r");
        assert_eq!(super::team_handle("  Mix & Master!! "), "mix-master");
    }
}
