//! The area's HTTP handlers.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{
    CsvMapping, CsvMappingList, MatchRequest, Reconciliation, Report, ReportList, UnmatchedList, UploadQuery,
};
use super::service;
use crate::model::ReportId;

/// The file's name, as the sender named it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    pub filename: Option<String>,
}

/// Upload a store's sales report (a DDEX DSR flat file, plain or gzip) as the request body, streamed;
/// for a report in several files, its first file (the others go to `/files`). Answers 202: a job reads
/// it; follow its progress with `GET /v1/royalties/reports/{id}`.
#[utoipa::path(post, path = "/v1/royalties/reports", tag = "royalties", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "text/tab-separated-values", description = "the report file, plain or gzip"),
    responses((status = 202, body = Report),
              (status = 409, description = "`duplicate_report`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`not_a_report`, `validation_failed`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: too many uploads by this account or from this address this hour; see Retry-After", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_report(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<Report>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(service::upload(&ctx, &principal, query, body).await?)))
}

/// Another file of a report sent in several: the same message, a file number not received yet. The
/// last one queues the report for reading.
#[utoipa::path(post, path = "/v1/royalties/reports/{id}/files", tag = "royalties", security(("bearer" = [])),
    params(("id" = ReportId, Path), FileQuery),
    request_body(content = Vec<u8>, content_type = "text/tab-separated-values", description = "the report file, plain or gzip"),
    responses((status = 202, body = Report),
              (status = 409, description = "`report_complete`, `duplicate_report`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`not_a_report`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: too many uploads by this account or from this address this hour; see Retry-After", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn add_report_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReportId>,
    Query(query): Query<FileQuery>,
    body: Body,
) -> Result<(StatusCode, Json<Report>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(service::add_file(&ctx, &principal, id, query.filename, body).await?)))
}

/// A report: its progress (phase, lines done, percent), its counts, and why it was refused.
#[utoipa::path(get, path = "/v1/royalties/reports/{id}", tag = "royalties", security(("bearer" = [])),
    params(("id" = ReportId, Path)), responses((status = 200, body = Report)))]
pub async fn report(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReportId>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// A label's reports, newest first.
#[utoipa::path(get, path = "/v1/labels/{id}/royalty-reports", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path), PageParams), responses((status = 200, body = ReportList)))]
pub async fn label_reports(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Json<ReportList>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id, page).await?))
}

/// The proof that the report's money is all accounted for: each summary's revenue beside what its lines
/// were given, matched to the label's catalog and not, to the last unit.
#[utoipa::path(get, path = "/v1/royalties/reports/{id}/reconciliation", tag = "royalties", security(("bearer" = [])),
    params(("id" = ReportId, Path)), responses((status = 200, body = Reconciliation)))]
pub async fn report_reconciliation(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReportId>,
) -> Result<Json<Reconciliation>, ApiError> {
    Ok(Json(service::reconciliation(&ctx, &principal, id).await?))
}

/// The report's lines that no recording or release of the label was found for, the largest revenue
/// first (at most 1,000 keys).
#[utoipa::path(get, path = "/v1/royalties/reports/{id}/unmatched", tag = "royalties", security(("bearer" = [])),
    params(("id" = ReportId, Path)), responses((status = 200, body = UnmatchedList)))]
pub async fn report_unmatched(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReportId>,
) -> Result<Json<UnmatchedList>, ApiError> {
    Ok(Json(service::unmatched(&ctx, &principal, id).await?))
}

/// Staff match an unmatched key to a track of the report's label; answers what is still unmatched.
#[utoipa::path(post, path = "/v1/royalties/reports/{id}/matches", tag = "royalties", security(("bearer" = [])),
    params(("id" = ReportId, Path)), request_body = MatchRequest,
    responses((status = 200, body = UnmatchedList),
              (status = 409, description = "`report_complete`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn match_report_key(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ReportId>,
    Json(req): Json<MatchRequest>,
) -> Result<Json<UnmatchedList>, ApiError> {
    Ok(Json(service::resolve(&ctx, &principal, id, req).await?))
}

/// The label's saved CSV mappings, one per store that sends CSV exports.
#[utoipa::path(get, path = "/v1/labels/{id}/csv-mappings", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CsvMappingList),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn csv_mappings(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<CsvMappingList>, ApiError> {
    Ok(Json(service::csv_mappings(&ctx, &principal, id).await?))
}

/// Save how a store's CSV exports are read: which heading holds the ISRC (or UPC), territory, usages,
/// revenue, currency, title, artist and use type; then upload with `format=csv&store=…&period=YYYY-MM`.
#[utoipa::path(put, path = "/v1/labels/{id}/csv-mappings/{store}", tag = "royalties", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("store" = String, Path)), request_body = crate::csv::Mapping,
    responses((status = 200, body = CsvMapping),
              (status = 404, description = "`not_found`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn save_csv_mapping(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, store)): Path<(Uuid, String)>,
    Json(mapping): Json<crate::csv::Mapping>,
) -> Result<Json<CsvMapping>, ApiError> {
    Ok(Json(service::save_csv_mapping(&ctx, &principal, id, &store, mapping).await?))
}
