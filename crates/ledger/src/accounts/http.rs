//! HTTP handlers of accounts, statements and journal entries.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::auth::{AuthUser, Principal};
use identity::authz::{self, Target};
use platform::error::ProblemBody;
use platform::http::ClientMeta;
use platform::idempotency;
use platform::{ApiError, AppContext, Json};

use super::dto;
use super::service;
use crate::model::{AccountId, EntryId};

/// The caller's accounts and balances.
#[utoipa::path(get, path = "/v1/me/wallet", tag = "ledger", security(("bearer" = [])), responses((status = 200, body = dto::Wallet)))]
pub async fn wallet(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::Wallet>, ApiError> {
    Ok(Json(service::wallet(&ctx, &principal).await?))
}

/// An account's entries over a period with the running balance, as JSON or CSV (`?format=csv`).
#[utoipa::path(get, path = "/v1/ledger/accounts/{id}/statement", tag = "ledger", security(("bearer" = [])),
    params(("id" = AccountId, Path), dto::StatementQuery),
    responses((status = 200, description = "The statement, as JSON or (`?format=csv`) CSV",
                content((dto::Statement = "application/json"), (String = "text/csv"))),
              (status = 404, body = ProblemBody, content_type = "application/problem+json")))]
pub async fn statement(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<AccountId>,
    Query(q): Query<dto::StatementQuery>,
) -> Result<Response, ApiError> {
    let account = service::readable(&ctx, &principal, id).await?;
    let from = q.from.unwrap_or(account.created_at);
    let to = q.to.unwrap_or_else(|| ctx.clock.now() + chrono::Duration::seconds(1));
    if to <= from {
        return Err(ApiError::invalid_field("to", "before_from", "must be after from"));
    }
    let mut conn = ctx.db.acquire().await?;
    let statement = service::statement(&mut conn, account, from, to).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(statement).into_response()),
        "csv" => {
            let mut response = service::statement_csv(&statement).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            Ok(response)
        }
        _ => Err(ApiError::invalid_field("format", "invalid_value", "must be json or csv")),
    }
}

/// One entry with its postings (admins).
#[utoipa::path(get, path = "/v1/admin/ledger/entries/{id}", tag = "ledger", security(("bearer" = [])),
    params(("id" = EntryId, Path)), responses((status = 200, body = dto::EntryWithPostings)))]
pub async fn entry(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<EntryId>,
) -> Result<Json<dto::EntryWithPostings>, ApiError> {
    Ok(Json(service::entry(&ctx, &principal, id).await?))
}

/// Runs a money-moving request once per `Idempotency-Key` of the caller and answers it (201).
pub(crate) async fn once<T, W>(
    ctx: &AppContext,
    principal: &Principal,
    headers: &HeaderMap,
    route: &str,
    request: &impl serde::Serialize,
    now: chrono::DateTime<chrono::Utc>,
    work: W,
) -> Result<Response, ApiError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    W: AsyncFnOnce(&mut sqlx::PgConnection) -> Result<T, ApiError>,
{
    let scope = principal.user_id.to_string();
    let request = idempotency::Request { scope: &scope, headers, route, body: request };
    idempotency::respond(&ctx.db, request, StatusCode::CREATED, now, work).await
}

/// Post a manual, balanced entry (admins). Send an `Idempotency-Key`: a retry returns the first answer.
#[utoipa::path(post, path = "/v1/admin/ledger/entries", tag = "ledger", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1–255 characters")),
    request_body = dto::AdjustmentRequest,
    responses((status = 201, body = dto::EntryWithPostings),
              (status = 409, description = "`insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn adjust(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    headers: HeaderMap,
    Json(req): Json<dto::AdjustmentRequest>,
) -> Result<Response, ApiError> {
    let memo = service::check_adjustment(&principal, &req)?;
    let now = ctx.clock.now();
    once(&ctx, &principal, &headers, "POST /v1/admin/ledger/entries", &req, now, async |conn| {
        service::adjust(conn, &principal, meta.ip.as_deref(), &req, &memo, now).await
    })
    .await
}

/// Post the reversing entry of an entry (admins). An entry is reversed at most once.
#[utoipa::path(post, path = "/v1/admin/ledger/entries/{id}/reverse", tag = "ledger", security(("bearer" = [])),
    params(("id" = EntryId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = dto::ReverseRequest,
    responses((status = 201, body = dto::EntryWithPostings),
              (status = 409, description = "`already_reversed` or `insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn reverse(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    meta: ClientMeta,
    headers: HeaderMap,
    Path(id): Path<EntryId>,
    Json(req): Json<dto::ReverseRequest>,
) -> Result<Response, ApiError> {
    authz::authorize(&principal, "ledger.adjust", Target::Platform)?;
    principal.require_verified()?;
    let now = ctx.clock.now();
    once(&ctx, &principal, &headers, &format!("POST /v1/admin/ledger/entries/{id}/reverse"), &req, now, async |conn| {
        service::reverse_entry(conn, &principal, meta.ip.as_deref(), id, req.memo.trim(), now).await
    })
    .await
}
