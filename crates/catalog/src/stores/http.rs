//! The area's HTTP handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::{ApiError, AppContext, Json};

use super::dto::{Store, StoreChoices, StoreList, StoreRequest};
use super::service;
use crate::model::StoreId;

/// Admins: add a store.
#[utoipa::path(post, path = "/v1/admin/stores", tag = "catalog", security(("bearer" = [])),
    request_body = StoreRequest, responses((status = 201, body = Store)))]
pub async fn create_store(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<StoreRequest>,
) -> Result<(StatusCode, Json<Store>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, &principal, req).await?)))
}

/// Admins: every store, enabled or not.
#[utoipa::path(get, path = "/v1/admin/stores", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = StoreList)))]
pub async fn admin_stores(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<StoreList>, ApiError> {
    Ok(Json(service::list(&ctx, &principal).await?))
}

/// Admins: change a store (credentials are replaced, never shown).
#[utoipa::path(patch, path = "/v1/admin/stores/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = StoreId, Path)), request_body = StoreRequest, responses((status = 200, body = Store)))]
pub async fn update_store(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<StoreId>,
    Json(req): Json<StoreRequest>,
) -> Result<Json<Store>, ApiError> {
    Ok(Json(service::update(&ctx, &principal, id, req).await?))
}

/// The stores a release can be delivered to.
#[utoipa::path(get, path = "/v1/stores", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = StoreChoices)))]
pub async fn stores(
    State(ctx): State<AppContext>,
    AuthUser(_principal): AuthUser,
) -> Result<Json<StoreChoices>, ApiError> {
    Ok(Json(service::choices(&ctx).await?))
}
