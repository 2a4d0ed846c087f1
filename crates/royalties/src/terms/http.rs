//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{Deal, DealRequest, ExchangeRate, RateImport, RateList, RateQuery, RateRequest};
use super::service;

/// Enter a day's exchange rate (staff); a second entry for the same day and pair corrects it.
#[utoipa::path(post, path = "/v1/royalties/exchange-rates", tag = "royalties", security(("bearer" = [])),
    request_body = RateRequest,
    responses((status = 200, body = ExchangeRate),
              (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_exchange_rate(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<RateRequest>,
) -> Result<Json<ExchangeRate>, ApiError> {
    Ok(Json(service::set_rate(&ctx, &principal, req).await?))
}

/// The exchange rates entered (staff), the latest day first, at most 1,000.
#[utoipa::path(get, path = "/v1/royalties/exchange-rates", tag = "royalties", security(("bearer" = [])),
    params(RateQuery),
    responses((status = 200, body = RateList),
              (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn exchange_rates(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(q): Query<RateQuery>,
) -> Result<Json<RateList>, ApiError> {
    Ok(Json(service::rates(&ctx, &principal, q).await?))
}

/// Import exchange rates as CSV (`day,base,quote,rate` per row, a heading row allowed): every row is
/// entered, or none when one is wrong (named `rows[n].field`).
#[utoipa::path(post, path = "/v1/royalties/exchange-rates/import", tag = "royalties", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = RateImport),
              (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn import_exchange_rates(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    body: String,
) -> Result<Json<RateImport>, ApiError> {
    Ok(Json(service::import_rates(&ctx, &principal, &body).await?))
}

/// The label's distribution deal: the fee in force and its history (the label's staff).
#[utoipa::path(get, path = "/v1/labels/{id}/royalty-deal", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Deal),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn royalty_deal(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<Deal>, ApiError> {
    Ok(Json(service::deal(&ctx, &principal, id).await?))
}

/// Set the label's fee from a date on (staff); a date in a closed month is refused.
#[utoipa::path(put, path = "/v1/labels/{id}/royalty-deal", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = DealRequest,
    responses((status = 200, body = Deal),
              (status = 403, description = "`forbidden`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_royalty_deal(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<DealRequest>,
) -> Result<Json<Deal>, ApiError> {
    Ok(Json(service::set_deal(&ctx, &principal, id, req).await?))
}
