//! The job queue's administration (admins): counts, lists, one job, and retrying a dead one. The queue
//! and its SQL are the platform's (`platform::jobs::admin`).

use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::error::IdentityError;
use platform::jobs::admin::JobState;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use uuid::Uuid;

use super::dto;
use crate::error::NotifyCode;

pub async fn job_stats(ctx: &AppContext, principal: &Principal) -> Result<dto::JobStats, ApiError> {
    authz::authorize(principal, "jobs.manage", Target::Platform)?;
    Ok(dto::JobStats { items: platform::jobs::admin::counts(&ctx.db).await?.into_iter().map(Into::into).collect() })
}

pub async fn jobs(ctx: &AppContext, principal: &Principal, q: dto::JobQuery) -> Result<dto::JobList, ApiError> {
    authz::authorize(principal, "jobs.manage", Target::Platform)?;
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = page.limit()?;
    let before: Option<Uuid> = page.cursor()?;
    let state = q.state.as_deref().filter(|s| !s.is_empty());
    let state = match state {
        None => None,
        Some(text) => Some(JobState::parse(text).ok_or_else(|| {
            ApiError::invalid_field("state", "invalid_value", "must be queued, running, succeeded, dead or cancelled")
        })?),
    };
    let kind = q.kind.as_deref().filter(|k| !k.is_empty());
    let rows = platform::jobs::admin::list(&ctx.db, state, kind, before, i64::from(limit) + 1).await?;
    let rows: Vec<dto::JobRecord> = rows.into_iter().map(Into::into).collect();
    let page = Page::from_overfetch(rows, limit, |j| j.id);
    Ok(dto::JobList { items: page.items, next_cursor: page.next_cursor })
}

pub async fn job(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<dto::JobRecord, ApiError> {
    authz::authorize(principal, "jobs.manage", Target::Platform)?;
    Ok(platform::jobs::admin::get(&ctx.db, id).await?.ok_or(IdentityError::NotFound("job"))?.into())
}

pub async fn retry_job(
    ctx: &AppContext,
    principal: &Principal,
    id: Uuid,
    meta: &platform::http::ClientMeta,
) -> Result<dto::JobRecord, ApiError> {
    authz::authorize(principal, "jobs.manage", Target::Platform)?;
    let now = ctx.clock.now();
    let Some(job) = platform::jobs::admin::retry(&ctx.db, id, now).await? else {
        return match platform::jobs::admin::get(&ctx.db, id).await? {
            Some(_) => Err(ApiError::new(NotifyCode::JobNotDead, "Only a dead job can be retried.")),
            None => Err(IdentityError::NotFound("job").into()),
        };
    };
    let mut conn = ctx.db.acquire().await?;
    platform::audit::Entry::new(principal.actor(), "job.retry", "job", id)
        .ip(meta.ip.as_deref())
        .record(&mut conn, now)
        .await?;
    Ok(job.into())
}
