//! Freelancer profiles: written by the freelancer (a new one waits for staff's approval; only approved
//! freelancers are offered work), decided by staff, and a company's favourites.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::party::Party;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto;
use super::repo::{self, ProfileFields};
use crate::error::TasksError;
use crate::model::{Experience, FreelancerStatus};

/// Checks skill names: lowercase words joined by underscores, at most 50 of them, no repeats.
pub fn skill_names(names: &[String], field: &str) -> Result<Vec<String>, ApiError> {
    if names.len() > 50 {
        return Err(ApiError::invalid_field(field, "too_many", "at most 50"));
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let ok = !name.is_empty()
            && name.len() <= 50
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with('_');
        if !ok {
            return Err(ApiError::invalid_field(
                format!("{field}[{i}]"),
                "invalid_format",
                "lowercase letters, digits and underscores",
            ));
        }
        if out.contains(name) {
            return Err(ApiError::invalid_field(format!("{field}[{i}]"), "duplicate", "is listed twice"));
        }
        out.push(name.clone());
    }
    Ok(out)
}

/// Creates or changes the caller's freelancer profile. A new profile is `pending` until staff decide.
pub async fn save(
    ctx: &AppContext,
    principal: &Principal,
    req: dto::FreelancerProfile,
) -> Result<dto::Freelancer, ApiError> {
    let experience = Experience::parse(&req.experience).ok_or_else(|| {
        ApiError::invalid_field("experience", "invalid_value", "must be junior, mid, senior or expert")
    })?;
    if let Some(tz) = &req.time_zone
        && tz.parse::<chrono_tz::Tz>().is_err()
    {
        return Err(ApiError::invalid_field(
            "time_zone",
            "invalid_value",
            "must be an IANA time zone such as Europe/Berlin",
        ));
    }
    let (starts, ends) = (req.work_starts.unwrap_or(9), req.work_ends.unwrap_or(18));
    if !(0..=23).contains(&starts) {
        return Err(ApiError::invalid_field("work_starts", "out_of_range", "an hour from 0 to 23"));
    }
    if !(1..=24).contains(&ends) || ends <= starts {
        return Err(ApiError::invalid_field("work_ends", "out_of_range", "an hour from 1 to 24, after work_starts"));
    }
    if req.headline.chars().count() > 200 {
        return Err(ApiError::invalid_field("headline", "too_long", "at most 200 characters"));
    }
    let names: Vec<String> = req.skills.iter().map(|s| s.skill.clone()).collect();
    let names = skill_names(&names, "skills")?;
    let mut levels = Vec::with_capacity(req.skills.len());
    for (i, s) in req.skills.iter().enumerate() {
        if !(0..=100).contains(&s.proficiency) {
            return Err(ApiError::invalid_field(
                format!("skills[{i}].proficiency"),
                "out_of_range",
                "must be 0 to 100",
            ));
        }
        levels.push(s.proficiency);
    }
    let specialties = skill_names(&req.specialties, "specialties")?;
    if req.portfolio.len() > 20
        || req.portfolio.iter().any(|u| !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 500)
    {
        return Err(ApiError::invalid_field("portfolio", "invalid_value", "at most 20 http(s) links"));
    }
    let fields = ProfileFields {
        headline: req.headline.trim(),
        experience,
        time_zone: req.time_zone.as_deref(),
        work_starts: starts,
        work_ends: ends,
        specialties: &specialties,
        portfolio: &req.portfolio,
    };
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let existing = repo::freelancer(&mut tx, me, true).await?;
    if existing.is_some() {
        repo::update_freelancer(&mut tx, me, &fields, now).await?;
    } else {
        repo::insert_freelancer(&mut tx, me, &fields, now).await.map_err(TasksError::from)?;
    }
    repo::set_skills(&mut tx, me, &names, &levels).await?;
    platform::audit::Entry::new(
        principal.actor(),
        if existing.is_some() { "freelancer.update" } else { "freelancer.apply" },
        "freelancer",
        me,
    )
    .record(&mut tx, now)
    .await?;
    let answer = profile(&mut tx, me, now).await?;
    tx.commit().await?;
    Ok(answer)
}

async fn profile(conn: &mut PgConnection, user: Uuid, now: DateTime<Utc>) -> Result<dto::Freelancer, ApiError> {
    let row = repo::freelancer(conn, user, false).await?.ok_or(TasksError::NotFound("freelancer"))?;
    let skills = repo::skills(conn, user).await?;
    let vacations = repo::vacations(conn, user, now).await?;
    let offers = crate::assignment::repo::offer_counts(conn, user).await?;
    let active = crate::assignment::repo::active_tasks(conn, user).await?;
    Ok(dto::Freelancer::new(row, skills, vacations, offers, active))
}

pub async fn me(ctx: &AppContext, principal: &Principal) -> Result<dto::Freelancer, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    profile(&mut conn, principal.user_id.0, ctx.clock.now()).await
}

/// A freelancer's profile: themselves and staff.
pub async fn get(ctx: &AppContext, principal: &Principal, user: Uuid) -> Result<dto::Freelancer, ApiError> {
    if user != principal.user_id.0 && !crate::is_staff(principal) {
        return Err(TasksError::NotFound("freelancer").into());
    }
    let mut conn = ctx.db.acquire().await?;
    profile(&mut conn, user, ctx.clock.now()).await
}

/// Freelancers by status (staff), oldest application first: `pending` is the approval queue.
pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    status: Option<&str>,
    page: &PageParams,
) -> Result<Page<dto::Freelancer>, ApiError> {
    crate::require_staff(principal)?;
    let status = match status {
        None => FreelancerStatus::Pending,
        Some(s) => FreelancerStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_field("status", "invalid_value", "must be pending, approved, rejected or suspended")
        })?,
    };
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::freelancers_in(&mut conn, status, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.user_id));
    let mut items = Vec::with_capacity(page.items.len());
    for row in &page.items {
        items.push(profile(&mut conn, row.user_id, now).await?);
    }
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// Staff approve, reject or suspend a freelancer (with a note for the freelancer).
pub async fn decide(
    ctx: &AppContext,
    principal: &Principal,
    user: Uuid,
    req: dto::FreelancerDecision,
) -> Result<dto::Freelancer, ApiError> {
    crate::require_staff(principal)?;
    let status = match FreelancerStatus::parse(&req.status) {
        Some(s) if s != FreelancerStatus::Pending => s,
        _ => return Err(ApiError::invalid_field("status", "invalid_value", "must be approved, rejected or suspended")),
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let before = repo::freelancer(&mut tx, user, true).await?.ok_or(TasksError::NotFound("freelancer"))?;
    repo::decide(&mut tx, user, status, principal.user_id.0, req.note.as_deref().unwrap_or(""), now).await?;
    platform::audit::Entry::new(principal.actor(), "freelancer.decide", "freelancer", user)
        .before(json!({"status": before.status.as_str()}))
        .after(json!({"status": status.as_str(), "note": req.note}))
        .record(&mut tx, now)
        .await?;
    if status == FreelancerStatus::Approved {
        // A new pair of hands: tasks waiting for one are offered again.
        crate::assignment::service::capacity_freed(&mut tx, now).await?;
    }
    let answer = profile(&mut tx, user, now).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The caller adds a period away: no offers reach them during it.
pub async fn add_vacation(
    ctx: &AppContext,
    principal: &Principal,
    req: dto::NewVacation,
) -> Result<dto::Freelancer, ApiError> {
    if req.ends_at <= req.starts_at {
        return Err(ApiError::invalid_field("ends_at", "invalid_range", "must be after starts_at"));
    }
    let now = ctx.clock.now();
    if req.ends_at <= now {
        return Err(ApiError::invalid_field("ends_at", "in_the_past", "must be in the future"));
    }
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    repo::freelancer(&mut tx, me, true).await?.ok_or(TasksError::NotFound("freelancer"))?;
    repo::add_vacation(&mut tx, me, req.starts_at, req.ends_at).await?;
    let answer = profile(&mut tx, me, now).await?;
    tx.commit().await?;
    Ok(answer)
}

pub async fn remove_vacation(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<dto::Freelancer, ApiError> {
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    if !repo::remove_vacation(&mut tx, me, id).await? {
        return Err(TasksError::NotFound("vacation").into());
    }
    let answer = profile(&mut tx, me, now).await?;
    tx.commit().await?;
    Ok(answer)
}

/// A company marks (or unmarks) a freelancer as a favourite: favourites are offered its tasks first.
pub async fn favourite(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    user: Uuid,
    on: bool,
) -> Result<dto::Favourites, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if !identity::party::may_act_for(&mut tx, principal, Party::Organization(org), crate::TASKS_MANAGE).await? {
        return Err(ApiError::not_found("No such organization."));
    }
    if on {
        match repo::freelancer(&mut tx, user, false).await? {
            Some(f) if f.status == FreelancerStatus::Approved => repo::add_favourite(&mut tx, org, user, now).await?,
            _ => return Err(TasksError::NotFound("freelancer").into()),
        }
    } else {
        repo::remove_favourite(&mut tx, org, user).await?;
    }
    let items = repo::favourites(&mut tx, org).await?;
    tx.commit().await?;
    Ok(dto::Favourites { org_id: org, freelancers: items })
}
