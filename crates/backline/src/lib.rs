//! The Backline service: wires every domain's router, the operations endpoints and the API viewer into
//! one application, and owns the command line (see `main.rs`) and its configuration.

pub mod backup;
pub mod config;
pub mod database;
pub mod demo_threads;

use axum::Router;
use platform::http::{EdgeLimits, edge};
use platform::ratelimit::{self, Limit};
use platform::{AppContext, demo, openapi, ops};
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Backline API",
        description = "The open platform for the music and creative economy: artists, promoters, venues, labels, \
                       clients, freelancers and fans find each other, agree, deliver and settle money.\n\n\
                       Errors are RFC 9457 `application/problem+json` documents with a stable `code`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    tags(
        (name = "auth", description = "Registration, verification, sign-in, tokens and password recovery"),
        (name = "me", description = "The caller's account, sessions and API keys"),
        (name = "organizations", description = "Organizations, members, invitations, teams"),
        (name = "notifications", description = "The notification center and the real-time stream"),
        (name = "webhooks", description = "Outgoing webhooks of an organization, signed with HMAC-SHA256"),
        (name = "ledger", description = "The double-entry ledger: wallets, statements, adjustments, payout methods, withdrawals"),
        (name = "payments", description = "Payments in: intents, capture, refunds, provider webhooks"),
        (name = "ticketing", description = "Events, ticket tiers, orders, tickets and check-in"),
        (name = "booking", description = "Artists, venues and promoters; booking offers, negotiation and agreements"),
        (name = "catalog", description = "Labels, releases, tracks, identifiers, review and distribution to stores"),
        (name = "royalties", description = "Stores' sales reports (DDEX DSR), exchange rates and deals, payees and splits, recoupment, statements and the reconciliation proof"),
        (name = "collab", description = "Collaboration: projects and their members, channels, threads on bookings and events, messages"),
        (name = "support", description = "The support desk: tickets, internal notes, canned replies, response and resolution targets"),
        (name = "tasks", description = "Creative tasks: credits, freelancers, briefs and tasks, assignment with expiring offers and escalation, delivery and review"),
        (name = "admin", description = "Administration: users, security events, audit log, permission templates"),
        (name = "operations", description = "Liveness, readiness and metrics"),
    ),
    components(schemas(platform::error::ProblemBody, platform::error::FieldError))
)]
struct ApiDoc;

/// Every documented route with its OpenAPI description. `hub` carries real-time notifications; the
/// document itself does not depend on it.
fn api(
    hub: std::sync::Arc<notify::stream::Hub>,
    ledger_settings: ledger::LedgerSettings,
) -> (Router<AppContext>, OpenApiDoc) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(identity::router(identity::IdentitySettings::default()))
        .merge(notify::router(hub.clone()))
        .merge(ledger::router(ledger_settings.clone()))
        .merge(ticketing::router(ticketing::TicketingSettings::default(), ledger_settings.clone(), hub.clone()))
        .merge(booking::router(booking::BookingSettings::default(), ledger_settings.clone()))
        .merge(tasks::router(tasks::TaskSettings::default(), ledger_settings.clone()))
        .merge(catalog::router())
        .merge(royalties::router())
        .merge(collab::router(collab::CollabSettings::default(), ledger_settings, subjects(), takers(), hub))
        .split_for_parts();
    (router, openapi::finish(doc))
}

/// The business objects a conversation can be attached to, each answered by the domain that owns it.
pub fn subjects() -> collab::Subjects {
    collab::Subjects::default()
        .with("booking", |conn, principal, id| Box::pin(booking::discussion(conn, principal, id)))
        .with("event", |conn, principal, id| Box::pin(ticketing::discussion(conn, principal, id)))
        .with("release", |conn, principal, id| Box::pin(catalog::discussion(conn, principal, id)))
        .with("task", |conn, principal, id| Box::pin(tasks::discussion(conn, principal, id)))
        .with(collab::files::service::VERSION_SUBJECT, |conn, principal, id| {
            Box::pin(collab::files::service::discussion(conn, principal, id))
        })
        .with(collab::support::service::TICKET_SUBJECT, |conn, principal, id| {
            Box::pin(collab::support::service::discussion(conn, principal, id))
        })
        .with(collab::support::service::NOTES_SUBJECT, |conn, principal, id| {
            Box::pin(collab::support::service::notes_discussion(conn, principal, id))
        })
}

/// The objects that take a project file's approved version, each through its own domain's upload (so
/// that domain's rules decide): a release's cover art, a track's audio, a task's deliverable, an annex
/// of a booking's contract.
pub fn takers() -> collab::Takers {
    fn answer<T: serde::Serialize>(taken: T) -> Result<serde_json::Value, platform::ApiError> {
        serde_json::to_value(taken).map_err(|e| platform::ApiError::internal(anyhow::anyhow!(e)))
    }
    collab::Takers::default()
        .with("release_artwork", |ctx, principal, id, offered| {
            Box::pin(async move {
                let id = catalog::model::ReleaseId(id);
                answer(catalog::releases::service::upload_artwork(&ctx, &principal, id, offered.body).await?)
            })
        })
        .with("track_audio", |ctx, principal, id, offered| {
            Box::pin(async move {
                let id = catalog::model::TrackId(id);
                let name = Some(offered.name);
                answer(catalog::tracks::service::upload_audio(&ctx, &principal, id, offered.body, name).await?)
            })
        })
        .with("task_deliverable", |ctx, principal, id, offered| {
            Box::pin(async move {
                let id = tasks::model::TaskId(id);
                answer(tasks::delivery::service::upload(&ctx, &principal, id, &offered.name, offered.body).await?)
            })
        })
        .with("contract_annex", |ctx, principal, id, offered| {
            Box::pin(async move {
                let id = booking::model::BookingId(id);
                let (name, media_type) = (offered.name, offered.media_type);
                answer(
                    booking::contracts::service::annex(&ctx, &principal, id, &name, &media_type, offered.body).await?,
                )
            })
        })
}

/// Every problem code a response can carry, domain by domain: the one catalogue (docs/api.md lists it).
pub fn error_catalogue() -> Vec<platform::error::CodeInfo> {
    [
        platform::PlatformCode::catalogue(),
        identity::error::IdentityCode::catalogue(),
        notify::error::NotifyCode::catalogue(),
        ledger::error::LedgerCode::catalogue(),
        ticketing::error::TicketingCode::catalogue(),
        booking::error::BookingCode::catalogue(),
        catalog::error::CatalogCode::catalogue(),
        royalties::error::RoyaltiesCode::catalogue(),
        tasks::error::TasksCode::catalogue(),
        collab::error::CollabCode::catalogue(),
    ]
    .concat()
}

/// The catalogue as the Markdown table docs/api.md holds between its `error-codes` markers.
pub fn error_catalogue_markdown() -> String {
    let mut out = String::from("| domain | status | code | meaning |\n|---|---|---|---|\n");
    for info in error_catalogue() {
        out.push_str(&format!("| {} | {} | `{}` | {} |\n", info.domain, info.status.as_u16(), info.code, info.meaning));
    }
    out
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi_document() -> OpenApiDoc {
    api(notify::stream::Hub::detached(), ledger::LedgerSettings::default()).1
}

/// The whole application, ready to serve. `per_client` is the general rate limit per client address.
pub fn app(ctx: AppContext, limits: EdgeLimits, per_client: Option<Limit>) -> Router {
    app_with(ctx, limits, per_client, ledger::LedgerSettings::default())
}

/// [`app`] with the payment providers' webhook secrets.
pub fn app_with(
    ctx: AppContext,
    limits: EdgeLimits,
    per_client: Option<Limit>,
    ledger_settings: ledger::LedgerSettings,
) -> Router {
    let web_settings = web::WebSettings { ledger: ledger_settings.clone(), ..web::WebSettings::default() };
    app_with_web(ctx, limits, per_client, ledger_settings, web_settings)
}

/// [`app_with`] with the web app's settings.
pub fn app_with_web(
    ctx: AppContext,
    limits: EdgeLimits,
    per_client: Option<Limit>,
    ledger_settings: ledger::LedgerSettings,
    web_settings: web::WebSettings,
) -> Router {
    ctx.metrics.add_collector("jobs", platform::jobs::metrics_collector());
    ctx.metrics.add_collector("webhooks", notify::webhooks::service::metrics_collector());
    ctx.metrics.add_collector("tickets", ticketing::orders::service::metrics_collector());
    ctx.metrics.add_collector("payments", ledger::payments::service::metrics_collector());
    let hub = notify::stream::Hub::new(ctx.db.clone());
    let (routes, doc) = api(hub.clone(), ledger_settings);
    // The pages open the same threads as the API.
    let web_settings = web::WebSettings { subjects: subjects(), takers: takers(), ..web_settings };
    let doc = std::sync::Arc::new(doc);
    let mut routes = routes
        .merge(web::router(ctx.clone(), web_settings, hub))
        .merge(openapi::docs_router())
        .route("/openapi.json", axum::routing::get(move || async move { axum::Json(doc.as_ref().clone()) }));
    // Callers arriving at once are recognised together (see `identity::auth::Authenticator`).
    let authenticator = std::sync::Arc::new(identity::auth::Authenticator::new(&ctx.db, ctx.clock.clone()));
    routes = routes.layer(axum::Extension(authenticator));
    // The node's memory of sold-out tiers, for the API and the web app's order form alike.
    let sold_out = std::sync::Arc::new(ticketing::orders::service::SoldOutTiers::new(ctx.clock.clone()));
    // Purchases paid at once that arrive together are bought together (see `ticketing::orders::together`).
    let purchases = ticketing::orders::together::purchases(&ctx, sold_out.clone());
    routes = routes.layer(axum::Extension(sold_out)).layer(axum::Extension(std::sync::Arc::new(purchases)));
    if let Some(limit) = per_client {
        let state = ratelimit::PerClient::new(&ctx.db, ctx.clock.clone(), limit);
        routes = routes.layer(axum::middleware::from_fn_with_state(state, ratelimit::per_client));
    }
    edge(routes, limits, ctx.metrics.clone()).layer(axum::middleware::from_fn(web::browser_not_found)).with_state(ctx)
}

/// Every job kind a worker runs, with its handler, and the recurring schedules.
pub fn job_registry(
    mail: platform::mail::Transport,
    webhooks: notify::webhooks::DeliveryPolicy,
    stripe: Option<ledger::stripe::Client>,
) -> platform::jobs::Registry {
    let mut registry = platform::jobs::Registry::new();
    platform::jobs::register_system(&mut registry);
    platform::mail::register(&mut registry, mail);
    identity::register(&mut registry);
    notify::register(&mut registry, webhooks);
    ledger::register(&mut registry, stripe.clone());
    ticketing::register(&mut registry);
    booking::register(&mut registry);
    catalog::register(&mut registry);
    royalties::register(&mut registry);
    tasks::register(&mut registry, tasks::TaskSettings::default());
    collab::register(&mut registry, ledger::LedgerSettings { stripe, ..ledger::LedgerSettings::default() });
    registry
}

/// Every domain's demo dataset, in dependency order.
pub fn demo_datasets() -> Vec<demo::Dataset> {
    vec![
        identity::demo::dataset(),
        ledger::demo::dataset(),
        ticketing::demo::dataset(),
        booking::demo::dataset(),
        catalog::demo::dataset(),
        royalties::demo::dataset(),
        tasks::demo::dataset(),
        tasks::demo::briefs_dataset(),
        collab::demo::dataset(),
        collab::demo::support_dataset(),
        collab::demo::plans_dataset(),
        demo_threads::threads_dataset(),
    ]
}
