//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database answers and every
//! migration is applied) and `/metrics` (Prometheus text format).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::context::AppContext;
use crate::db::{self, Readiness};
use crate::error::ApiError;
use crate::error::PlatformCode;
use crate::json::Json;
use crate::metrics::{PoolReading, Sample};

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: &'static str,
    pub version: &'static str,
}

/// Liveness: the process is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION") })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: &'static str,
    /// The read replica, when one is configured: a replica that is down or behind is bypassed (the
    /// primary serves its reads), so the service stays ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<crate::replica::ReplicaState>,
}

/// Readiness: the database is reachable and every migration is applied.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, body = Ready),
        (status = 503, description = "Database unreachable or migrations pending", body = crate::error::ProblemBody,
         content_type = "application/problem+json"),
    )
)]
async fn readyz(State(ctx): State<AppContext>) -> Result<Json<Ready>, ApiError> {
    match db::readiness(&ctx.db).await {
        Readiness::Ready => Ok(Json(Ready { status: "ready", replica: ctx.replica.as_ref().map(|r| r.state()) })),
        Readiness::DatabaseUnreachable(reason) => {
            tracing::warn!(%reason, "not ready: database unreachable");
            Err(ApiError::new(PlatformCode::DatabaseUnreachable, "The database is not reachable."))
        }
        Readiness::MigrationsPending { missing } => Err(ApiError::new(
            PlatformCode::MigrationsPending,
            format!("{} migration(s) are not applied yet.", missing.len()),
        )),
    }
}

/// Metrics in the Prometheus text exposition format (version 0.0.4).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
async fn metrics(State(ctx): State<AppContext>) -> impl IntoResponse {
    let pool = PoolReading {
        size: ctx.db.size(),
        idle: u32::try_from(ctx.db.num_idle()).unwrap_or(u32::MAX),
        max: ctx.db.options().get_max_connections(),
    };
    let mut text = ctx.metrics.render(Some(pool));
    if let Some(replica) = &ctx.replica {
        let state = replica.state();
        let (reads, bypassed) = replica.counts();
        let mut samples = vec![
            Sample::new(
                "backline_replica_up",
                "1 while the read replica is in use, 0 while it is bypassed.",
                f64::from(u8::from(state.status == "streaming")),
            ),
            Sample::new("backline_replica_reads_total", "Reads served by the read replica.", reads as f64),
            Sample::new(
                "backline_replica_bypassed_reads_total",
                "Reads sent to the primary because the replica was down or behind.",
                bypassed as f64,
            ),
        ];
        if let Some(lag) = state.lag_seconds {
            samples.push(Sample::new(
                "backline_replica_lag_seconds",
                "How far the read replica is behind the primary.",
                lag,
            ));
        }
        text.push_str(&crate::metrics::Metrics::render_samples(&samples));
    }
    text.push_str(&crate::metrics::Metrics::render_samples(&ctx.metrics.collect(&ctx.db).await));
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}
