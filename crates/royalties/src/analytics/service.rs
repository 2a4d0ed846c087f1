//! Reading the analytics: a label's staff read the label's; a payee reads their own.

use identity::auth::Principal;
use platform::{ApiError, AppContext};
use uuid::Uuid;

use super::dto::{AnalyticsQuery, EarningPoint, LabelAnalytics, MyAnalytics, Point, TopEntry};
use super::repo::{self, Filter};
use crate::error::RoyaltiesError;
use crate::reports::service::may_manage;

/// Entries in each top list.
const TOP: i64 = 10;

pub async fn label(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    q: AnalyticsQuery,
) -> Result<LabelAnalytics, ApiError> {
    may_manage(ctx, principal, org).await?;
    if let (Some(from), Some(to)) = (q.from, q.to)
        && to < from
    {
        return Err(ApiError::invalid_field("to", "before_from", "must not be before from"));
    }
    let f = Filter {
        from: q.from,
        to: q.to,
        track: q.track_id,
        release: q.release_id,
        store: q.store,
        territory: q.territory.map(|t| t.to_ascii_uppercase()),
    };
    let mut conn = ctx.reader().acquire().await?;
    let series = repo::series(&mut conn, org, &f).await.map_err(RoyaltiesError::from)?;
    let mut tops = Vec::with_capacity(4);
    for by in ["track", "release", "store", "territory"] {
        let rows = repo::top(&mut conn, org, &f, by, TOP).await.map_err(RoyaltiesError::from)?;
        tops.push(rows.into_iter().map(TopEntry::from).collect::<Vec<_>>());
    }
    // A release is listed by its title, as the catalog has it.
    if let Some(releases) = tops.get_mut(1) {
        for entry in releases.iter_mut() {
            if let Ok(id) = entry.key.parse::<Uuid>()
                && let Ok(release) =
                    catalog::releases::service::get(ctx, principal, catalog::model::ReleaseId(id)).await
            {
                entry.title = release.title;
            }
        }
    }
    let mut tops = tops.into_iter();
    let mut next = || tops.next().unwrap_or_default();
    Ok(LabelAnalytics {
        series: series.into_iter().map(Point::from).collect(),
        top_tracks: next(),
        top_releases: next(),
        top_stores: next(),
        top_territories: next(),
    })
}

pub async fn mine(ctx: &AppContext, principal: &Principal) -> Result<MyAnalytics, ApiError> {
    let mut conn = ctx.reader().acquire().await?;
    let series = repo::earnings(&mut conn, principal.user_id.0).await.map_err(RoyaltiesError::from)?;
    let top = repo::my_top(&mut conn, principal.user_id.0, TOP).await.map_err(RoyaltiesError::from)?;
    Ok(MyAnalytics {
        series: series.into_iter().map(EarningPoint::from).collect(),
        top_tracks: top.into_iter().map(TopEntry::from).collect(),
    })
}
