//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{AnalyticsQuery, LabelAnalytics, MyAnalytics};
use super::service;

/// The label's streams, downloads and net revenue per day (a report's period counts on its first day)
/// and its top recordings, releases, stores and territories; filters narrow both.
#[utoipa::path(get, path = "/v1/labels/{id}/royalty-analytics", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path), AnalyticsQuery),
    responses((status = 200, body = LabelAnalytics),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn label_royalty_analytics(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<AnalyticsQuery>,
) -> Result<Json<LabelAnalytics>, ApiError> {
    Ok(Json(service::label(&ctx, &principal, id, q).await?))
}

/// The caller's royalties per month (as their statements give them) and their top recordings.
#[utoipa::path(get, path = "/v1/me/royalty-analytics", tag = "royalties", security(("bearer" = [])),
    responses((status = 200, body = MyAnalytics)))]
pub async fn my_royalty_analytics(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<MyAnalytics>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal).await?))
}
