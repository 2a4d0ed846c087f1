//! The area's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{
    LabelParty, LabelPartyList, LabelPartyQuery, LabelPartyRequest, LabelSettings, PoolImport, SettingsRequest,
};
use super::service;
use crate::model::PartyId;

/// A label's identifier settings: DDEX party id, GS1 prefix, ISRC registrant codes, its pool of UPCs.
#[utoipa::path(get, path = "/v1/labels/{id}/settings", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The label (an organization of kind `label` or `sub_label`)")),
    responses((status = 200, body = LabelSettings),
              (status = 422, description = "`not_a_label`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn label_settings(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<LabelSettings>, ApiError> {
    Ok(Json(service::settings(&ctx, &principal, id).await?))
}

/// Change a label's identifier settings.
#[utoipa::path(patch, path = "/v1/labels/{id}/settings", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SettingsRequest,
    responses((status = 200, body = LabelSettings),
              (status = 422, description = "`validation_failed`, `not_a_label`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn update_label_settings(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<SettingsRequest>,
) -> Result<Json<LabelSettings>, ApiError> {
    Ok(Json(service::put_settings(&ctx, &principal, id, req).await?))
}

/// Import bought UPC/EAN codes into the label's pool (check digits verified; a code in any pool is refused).
#[utoipa::path(post, path = "/v1/labels/{id}/upc-pool", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PoolImport,
    responses((status = 200, body = LabelSettings),
              (status = 409, description = "`identifier_taken`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn import_upc_pool(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<PoolImport>,
) -> Result<Json<LabelSettings>, ApiError> {
    Ok(Json(service::import_pool(&ctx, &principal, id, req).await?))
}

/// Add an artist or contributor the label credits.
#[utoipa::path(post, path = "/v1/labels/{id}/parties", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = LabelPartyRequest,
    responses((status = 201, body = LabelParty)))]
pub async fn create_party(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<LabelPartyRequest>,
) -> Result<(StatusCode, Json<LabelParty>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create_party(&ctx, &principal, id, req).await?)))
}

/// The label's artists and contributors, by name.
#[utoipa::path(get, path = "/v1/labels/{id}/parties", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path), LabelPartyQuery), responses((status = 200, body = LabelPartyList)))]
pub async fn parties(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Query(query): Query<LabelPartyQuery>,
) -> Result<Json<LabelPartyList>, ApiError> {
    Ok(Json(service::parties(&ctx, &principal, id, query).await?))
}

/// Change an artist or contributor.
#[utoipa::path(patch, path = "/v1/parties/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = PartyId, Path)), request_body = LabelPartyRequest, responses((status = 200, body = LabelParty)))]
pub async fn update_party(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<PartyId>,
    Json(req): Json<LabelPartyRequest>,
) -> Result<Json<LabelParty>, ApiError> {
    Ok(Json(service::update_party(&ctx, &principal, id, req).await?))
}
