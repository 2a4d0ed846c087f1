//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{
    CloseRequest, Closed, FormatQuery, PeriodList, Proof, RoyaltyStatement, RoyaltyStatementQuery, StatementList,
};
use super::service;
use crate::model::{ReportId, StatementId};

/// Close a month (the label's staff): a statement per payee, posted to their pending earnings.
#[utoipa::path(post, path = "/v1/labels/{id}/royalty-periods", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CloseRequest,
    responses((status = 201, body = Closed),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`period_closed`, `period_not_over`, `reports_pending`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`exchange_rate_missing`, `validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn close_royalty_period(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<CloseRequest>,
) -> Result<(StatusCode, Json<Closed>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::close(&ctx, &principal, id, req).await?)))
}

/// The label's closed months, the latest first.
#[utoipa::path(get, path = "/v1/labels/{id}/royalty-periods", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PeriodList),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn royalty_periods(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<PeriodList>, ApiError> {
    Ok(Json(service::periods(&ctx, &principal, id).await?))
}

/// The label's statements (of a month, or all), the latest month first.
#[utoipa::path(get, path = "/v1/labels/{id}/royalty-statements", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path), RoyaltyStatementQuery),
    responses((status = 200, body = StatementList),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn label_royalty_statements(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<RoyaltyStatementQuery>,
) -> Result<Json<StatementList>, ApiError> {
    Ok(Json(service::of_label(&ctx, &principal, id, q).await?))
}

/// The caller's own royalty statements, from every label that pays them, the latest month first.
#[utoipa::path(get, path = "/v1/me/royalty-statements", tag = "royalties", security(("bearer" = [])),
    responses((status = 200, body = StatementList)))]
pub async fn my_royalty_statements(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<StatementList>, ApiError> {
    Ok(Json(service::mine(&ctx, &principal).await?))
}

/// A statement with its lines and recoupment, as JSON, CSV (`?format=csv`) or PDF (`?format=pdf`): its
/// payee and the label's staff.
#[utoipa::path(get, path = "/v1/royalty-statements/{id}", tag = "royalties", security(("bearer" = [])),
    params(("id" = StatementId, Path), FormatQuery),
    responses((status = 200, description = "The statement", content((RoyaltyStatement = "application/json"),
                   (String = "text/csv"), (Vec<u8> = "application/pdf"))),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn royalty_statement(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<StatementId>,
    Query(q): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "pdf") {
        return Err(ApiError::invalid_field("format", "invalid_value", "must be json, csv or pdf"));
    }
    let statement = service::get(&ctx, &principal, id).await?;
    let name = format!("royalty-statement-{}-{}", statement.summary.period, id.0);
    let (body, media) = match format {
        "csv" => (service::csv(&statement).into_bytes(), "text/csv; charset=utf-8"),
        "pdf" => (platform::pdf::text(&service::text(&statement)), "application/pdf"),
        _ => return Ok(Json(statement).into_response()),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{format}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The proof that a report's money is all accounted for: per currency, its net revenue beside the
/// unmatched revenue, the platform's fee and each payee's share, exactly (`difference` is zero).
#[utoipa::path(get, path = "/v1/royalties/reports/{id}/proof", tag = "royalties", security(("bearer" = [])),
    params(("id" = ReportId, Path)),
    responses((status = 200, body = Proof),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn report_proof(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReportId>,
) -> Result<Json<Proof>, ApiError> {
    Ok(Json(service::proof(&ctx, &principal, id).await?))
}
