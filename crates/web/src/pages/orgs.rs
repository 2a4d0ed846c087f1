//! Organizations (labels, promoters, venues, bands, ...): the caller's list and a new one; an
//! organization's page with its members (roles, removal), pending invitations (invite, revoke) and
//! teams; a team's members; and the page the invitation mail links to, where the invitee accepts or
//! declines. Every action is the API's service with its permission checks.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use identity::model::{InvitationId, OrgId, OrgKind, TeamId, UserId};
use identity::organizations::dto::{CreateOrgRequest, CreateTeamRequest, InviteRequest};
use platform::http::ClientMeta;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext};
use serde::Deserialize;

use super::{FieldErrors, Layout, page, to_signin, urlencode};
use crate::format;
use crate::session::{Form, Session};

/// An organization as a list shows it.
pub struct OrgLine {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub role: String,
}

/// The kinds a new organization may be, as (value, label).
const KINDS: &[(&str, &str)] = &[
    ("label", "A label"),
    ("sub_label", "A sub-label"),
    ("promoter", "A promoter"),
    ("venue", "A venue"),
    ("agency", "An agency"),
    ("band", "A band"),
    ("company", "A company"),
    ("school", "A school"),
    ("other", "Something else"),
];

fn kind_name(kind: OrgKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewOrgForm {
    name: String,
    slug: String,
    kind: String,
    city: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
struct Orgs {
    layout: Layout,
    orgs: Vec<OrgLine>,
    next: Option<String>,
    form: NewOrgForm,
    kinds: &'static [(&'static str, &'static str)],
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CursorQuery {
    cursor: Option<String>,
}

async fn orgs_page(
    ctx: &AppContext,
    session: &Session,
    cursor: Option<String>,
    form: NewOrgForm,
    errors: FieldErrors,
) -> Result<Orgs, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such page."))?;
    let list = identity::organizations::service::mine(ctx, principal, &PageParams { limit: Some(50), cursor }).await?;
    Ok(Orgs {
        layout: Layout::new("Organizations", session),
        orgs: list
            .items
            .into_iter()
            .map(|o| OrgLine {
                id: o.id.to_string(),
                name: o.name,
                kind: kind_name(o.kind),
                role: o.my_role.unwrap_or_default(),
            })
            .collect(),
        next: list.next_cursor.map(|c| format!("/orgs?cursor={}", urlencode(&c))),
        form,
        kinds: KINDS,
        errors,
    })
}

pub async fn list(State(ctx): State<AppContext>, session: Session, Query(q): Query<CursorQuery>) -> Response {
    if session.principal.is_none() {
        return to_signin("/orgs");
    }
    let form = NewOrgForm { kind: "promoter".into(), ..NewOrgForm::default() };
    match orgs_page(&ctx, &session, q.cursor, form, FieldErrors::default()).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

pub async fn create(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<NewOrgForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/orgs") };
    let result = async {
        let kind: OrgKind = serde_json::from_value(serde_json::Value::String(form.kind.clone()))
            .map_err(|_| ApiError::invalid_field("kind", "invalid_value", "choose what kind of organization it is"))?;
        let request = CreateOrgRequest {
            slug: form.slug.trim().to_owned(),
            name: form.name.trim().to_owned(),
            kind,
            parent_id: None,
            description: None,
            website: None,
            email: None,
            country: None,
            city: Some(form.city.trim().to_owned()).filter(|c| !c.is_empty()),
            settings: None,
        };
        identity::organizations::service::create(&ctx, principal, request, &meta).await
    }
    .await;
    match result {
        Ok(org) => {
            super::done(&format!("/orgs/{}", org.id), &format!("{} is created: invite its members below.", org.name))
        }
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY || err.status() == StatusCode::CONFLICT => {
            let mut errors = FieldErrors::from_error(&err);
            if errors.is_empty() {
                // A taken slug is a conflict: it belongs beside the slug.
                errors = FieldErrors::from_pairs([("slug".to_owned(), err.detail().to_owned())]);
            }
            match orgs_page(&ctx, &session, None, form, errors).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A member as the organization's page lists them.
pub struct MemberLine {
    pub user_id: String,
    pub username: String,
    pub name: String,
    pub role: String,
    pub joined: String,
}

pub struct InvitationLine {
    pub id: String,
    pub email: String,
    pub role: String,
    pub expires: String,
}

pub struct TeamLine {
    pub id: String,
    pub name: String,
    pub description: String,
    pub members: i64,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    layout: Layout,
    id: String,
    name: String,
    kind: String,
    city: String,
    my_role: String,
    manager: bool,
    members: Vec<MemberLine>,
    next: Option<String>,
    invitations: Vec<InvitationLine>,
    teams: Vec<TeamLine>,
    roles: &'static [&'static str],
    invite_email: String,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn org_page(
    ctx: &AppContext,
    session: &Session,
    id: OrgId,
    cursor: Option<String>,
    invite_email: String,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<OrgPage, ApiError> {
    use identity::organizations::service as orgs;
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such organization."))?;
    let org = orgs::get(ctx, principal, id).await?;
    let members = orgs::members(ctx, principal, id, &PageParams { limit: Some(50), cursor }).await?;
    let teams = orgs::teams(ctx, principal, id).await?;
    let my_role = org.my_role.clone().unwrap_or_default();
    let manager = matches!(my_role.as_str(), "owner" | "admin") || principal.has_role("admin");
    // Only managers see pending invitations (the API's `members.manage`).
    let invitations = if manager { orgs::invitations(ctx, principal, id).await?.items } else { Vec::new() };
    Ok(OrgPage {
        layout: Layout::new(org.name.clone(), session),
        id: org.id.to_string(),
        name: org.name,
        kind: kind_name(org.kind),
        city: org.city.unwrap_or_default(),
        my_role,
        manager,
        members: members
            .items
            .into_iter()
            .map(|m| MemberLine {
                user_id: m.user_id.to_string(),
                username: m.username,
                name: m.display_name,
                role: m.role,
                joined: format::when(m.joined_at),
            })
            .collect(),
        next: members.next_cursor.map(|c| format!("/orgs/{id}?cursor={}", urlencode(&c))),
        invitations: invitations
            .into_iter()
            .map(|i| InvitationLine {
                id: i.id.to_string(),
                email: i.email,
                role: i.role,
                expires: format::when(i.expires_at),
            })
            .collect(),
        teams: teams
            .items
            .into_iter()
            .map(|t| TeamLine {
                id: t.id.to_string(),
                name: t.name,
                description: t.description,
                members: t.member_count,
            })
            .collect(),
        roles: identity::authz::ORG_ROLES,
        invite_email,
        errors,
        notice,
    })
}

pub async fn show(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<OrgId>,
    Query(q): Query<CursorQuery>,
) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/orgs/{id}"));
    }
    match org_page(&ctx, &session, id, q.cursor, String::new(), FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// After a change on the organization's page: the page again, with the error beside its field (or on
/// top), or a notice.
async fn answer<T>(
    ctx: &AppContext,
    session: &Session,
    id: OrgId,
    result: Result<T, ApiError>,
    invite_email: String,
    notice: impl FnOnce(&T) -> Option<String>,
) -> Response {
    match result {
        Ok(done) => match notice(&done) {
            None => Redirect::to(&format!("/orgs/{id}")).into_response(),
            Some(message) => {
                match org_page(ctx, session, id, None, String::new(), FieldErrors::default(), Some(message)).await {
                    Ok(view) => page(StatusCode::OK, &view),
                    Err(err) => super::error(session, &err),
                }
            }
        },
        Err(err)
            if err.status().is_client_error()
                && err.status() != StatusCode::NOT_FOUND
                && err.status() != StatusCode::FORBIDDEN =>
        {
            let mut errors = FieldErrors::from_error(&err);
            if errors.is_empty() {
                errors = FieldErrors::from_pairs([("form".to_owned(), err.detail().to_owned())]);
            }
            match org_page(ctx, session, id, None, invite_email, errors, None).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(session, &other),
            }
        }
        Err(err) => super::error(session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path(id): Path<OrgId>,
    Form(form): Form<InviteForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{id}")) };
    let request = InviteRequest { email: form.email.trim().to_owned(), role: form.role.clone() };
    let result = identity::organizations::service::invite(&ctx, principal, id, request, &meta).await;
    answer(&ctx, &session, id, result, form.email, |i| Some(format!("An invitation went to {}.", i.email))).await
}

#[derive(Deserialize, Default)]
pub struct Empty {}

pub async fn revoke(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path((id, invitation)): Path<(OrgId, InvitationId)>,
    Form(_): Form<Empty>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{id}")) };
    let result = identity::organizations::service::revoke_invitation(&ctx, principal, id, invitation, &meta).await;
    answer(&ctx, &session, id, result, String::new(), |()| None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

/// A member's new role, or (`role=remove`) their removal; a member may also leave this way.
pub async fn member(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path((id, user)): Path<(OrgId, UserId)>,
    Form(form): Form<RoleForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{id}")) };
    use identity::organizations::service as orgs;
    if form.role == "remove" {
        let leaving = user == principal.user_id;
        let result = orgs::remove_member(&ctx, principal, id, user, &meta).await;
        if leaving && result.is_ok() {
            return Redirect::to("/orgs").into_response();
        }
        return answer(&ctx, &session, id, result, String::new(), |()| None).await;
    }
    let result = orgs::change_role(&ctx, principal, id, user, &form.role, &meta).await;
    answer(&ctx, &session, id, result, String::new(), |_| None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TeamForm {
    name: String,
    description: String,
}

pub async fn create_team(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path(id): Path<OrgId>,
    Form(form): Form<TeamForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{id}")) };
    let request = CreateTeamRequest {
        name: form.name.trim().to_owned(),
        description: Some(form.description.trim().to_owned()).filter(|d| !d.is_empty()),
    };
    let result = identity::organizations::service::create_team(&ctx, principal, id, request, &meta).await;
    answer(&ctx, &session, id, result, String::new(), |_| None).await
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    layout: Layout,
    org_id: String,
    org_name: String,
    id: String,
    name: String,
    description: String,
    members: Vec<MemberLine>,
    /// Organization members not in the team, who can be added.
    others: Vec<MemberLine>,
    manager: bool,
}

pub async fn team(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, team)): Path<(OrgId, TeamId)>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{id}/teams/{team}")) };
    use identity::organizations::service as orgs;
    let result = async {
        let org = orgs::get(&ctx, principal, id).await?;
        let found = orgs::teams(&ctx, principal, id).await?.items.into_iter().find(|t| t.id == team);
        let t = found.ok_or_else(|| ApiError::not_found("No such team."))?;
        let in_team = orgs::team_members(&ctx, principal, id, team).await?;
        let everyone = orgs::members(&ctx, principal, id, &PageParams { limit: Some(200), cursor: None }).await?;
        Ok::<_, ApiError>((org, t, in_team, everyone))
    }
    .await;
    match result {
        Ok((org, t, in_team, everyone)) => {
            let line = |m: identity::organizations::dto::Member| MemberLine {
                user_id: m.user_id.to_string(),
                username: m.username,
                name: m.display_name,
                role: m.role,
                joined: format::when(m.joined_at),
            };
            let ids: Vec<UserId> = in_team.items.iter().map(|m| m.user_id).collect();
            let my_role = org.my_role.clone().unwrap_or_default();
            let view = TeamPage {
                layout: Layout::new(format!("{}: {}", org.name, t.name), &session),
                org_id: org.id.to_string(),
                org_name: org.name,
                id: t.id.to_string(),
                name: t.name,
                description: t.description,
                members: in_team.items.into_iter().map(line).collect(),
                others: everyone.items.into_iter().filter(|m| !ids.contains(&m.user_id)).map(line).collect(),
                manager: matches!(my_role.as_str(), "owner" | "admin") || principal.has_role("admin"),
            };
            page(StatusCode::OK, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TeamMemberForm {
    user_id: String,
    add: String,
}

pub async fn team_member(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Path((id, team)): Path<(OrgId, TeamId)>,
    Form(form): Form<TeamMemberForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{id}/teams/{team}")) };
    let Ok(user) = form.user_id.trim().parse().map(UserId) else {
        return super::error(&session, &ApiError::invalid_field("user_id", "required", "choose a member"));
    };
    let add = form.add == "true";
    match identity::organizations::service::set_team_member(&ctx, principal, id, team, user, add, &meta).await {
        Ok(()) => Redirect::to(&format!("/orgs/{id}/teams/{team}")).into_response(),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    error: Option<String>,
}

/// The page the invitation mail links to: accept or decline (signed in as the invitee).
pub async fn invitation(session: Session, Query(q): Query<TokenQuery>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/invitations/accept?token={}", urlencode(&q.token)));
    }
    let view = InvitationPage { layout: Layout::new("An invitation", &session), token: q.token, error: None };
    page(StatusCode::OK, &view)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RespondForm {
    token: String,
    accept: String,
}

pub async fn respond(
    State(ctx): State<AppContext>,
    session: Session,
    meta: ClientMeta,
    Form(form): Form<RespondForm>,
) -> Response {
    let Some(principal) = &session.principal else {
        return to_signin(&format!("/invitations/accept?token={}", urlencode(&form.token)));
    };
    let accept = form.accept == "true";
    match identity::organizations::service::respond(&ctx, principal, &form.token, accept, &meta).await {
        Ok(Some(org)) => super::done(&format!("/orgs/{}", org.id), &format!("Welcome to {}.", org.name)),
        Ok(None) => Redirect::to("/orgs").into_response(),
        Err(err) if err.status().is_client_error() => {
            let view = InvitationPage {
                layout: Layout::new("An invitation", &session),
                token: form.token,
                error: Some(err.detail().to_owned()),
            };
            page(err.status(), &view)
        }
        Err(err) => super::error(&session, &err),
    }
}
