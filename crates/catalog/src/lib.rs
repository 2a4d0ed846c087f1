//! The catalog: labels and their identifier settings, the artists and contributors they credit, tracks
//! and releases with correct identifiers (ISRC, UPC/EAN, ISWC), a validation report, review by staff,
//! and the lifecycle towards the stores. See docs/catalog.md.

pub mod artwork;
pub mod audio;
pub mod demo;
pub mod distribution;
pub mod error;
pub mod fields;
pub mod files;
pub mod identifiers;
pub mod labels;
pub mod model;
pub mod releases;
pub mod rights;
pub mod state;
pub mod stores;
pub mod tracks;
pub mod transfer;

use platform::AppContext;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .routes(routes!(labels::http::label_settings, labels::http::update_label_settings))
        .routes(routes!(labels::http::import_upc_pool))
        .routes(routes!(labels::http::create_party, labels::http::parties))
        .routes(routes!(labels::http::update_party))
        .routes(routes!(releases::http::create_release))
        .routes(routes!(releases::http::release, releases::http::update_release))
        .routes(routes!(releases::http::label_releases))
        .routes(routes!(releases::http::artist_releases))
        .routes(routes!(releases::http::release_review_queue))
        .routes(routes!(releases::http::release_validation))
        .routes(routes!(releases::http::submit_release))
        .routes(routes!(releases::http::withdraw_release))
        .routes(routes!(releases::http::review_release))
        .routes(routes!(releases::http::assign_upc))
        .routes(routes!(releases::http::release_ern))
        .routes(routes!(releases::http::upload_artwork, releases::http::download_artwork))
        .routes(routes!(tracks::http::upload_audio, tracks::http::download_audio))
        .routes(routes!(stores::http::create_store, stores::http::admin_stores))
        .routes(routes!(stores::http::update_store))
        .routes(routes!(stores::http::stores))
        .routes(routes!(distribution::http::schedule, distribution::http::distributions))
        .routes(routes!(distribution::http::takedown))
        .routes(routes!(distribution::http::label_distributions))
        .routes(routes!(rights::http::create_claim, rights::http::rights))
        .routes(routes!(rights::http::review_claim))
        .routes(routes!(rights::http::upload_document))
        .routes(routes!(rights::http::download_document))
        .routes(routes!(tracks::http::add_track, tracks::http::order_tracks))
        .routes(routes!(tracks::http::remove_track))
        .routes(routes!(tracks::http::track, tracks::http::update_track))
        .routes(routes!(tracks::http::assign_isrc))
}

/// For the thread attached to a release: its label's staff (who may manage the catalog, parent labels'
/// included) and Backline's review staff take part; the label's owners and admins are told of its
/// messages. `None` for anyone else.
pub async fn discussion(
    conn: &mut sqlx::PgConnection,
    principal: &identity::auth::Principal,
    id: uuid::Uuid,
) -> Result<Option<platform::discussion::Discussion>, platform::ApiError> {
    let Some(release) = releases::repo::release(conn, model::ReleaseId(id)).await? else { return Ok(None) };
    match releases::service::actor_for(conn, principal, &release).await {
        Ok(_) => {}
        Err(err) if err.status() == axum::http::StatusCode::NOT_FOUND => return Ok(None),
        Err(err) => return Err(err),
    }
    let people = identity::party::people_to_notify(conn, identity::party::Party::Organization(release.org_id)).await?;
    Ok(Some(platform::discussion::Discussion { title: format!("Release: {}", release.title), people }))
}

/// For the royalties: the tracks with these ISRCs (12 characters, no hyphens) as (ISRC, track, label,
/// the release the track first appeared on).
pub async fn tracks_by_isrc(
    conn: &mut sqlx::PgConnection,
    isrcs: &[String],
) -> sqlx::Result<Vec<(String, model::TrackId, uuid::Uuid, Option<model::ReleaseId>)>> {
    tracks::repo::by_isrcs(conn, isrcs).await
}

/// For the royalties: the releases with these UPC/EANs (as 13 digits) as (code, release, label).
pub async fn releases_by_icpn(
    conn: &mut sqlx::PgConnection,
    codes: &[String],
) -> sqlx::Result<Vec<(String, model::ReleaseId, uuid::Uuid)>> {
    releases::repo::by_icpns(conn, codes).await
}

/// For the royalties: the release a recording first appeared on.
pub async fn first_release_of(
    conn: &mut sqlx::PgConnection,
    track: model::TrackId,
) -> sqlx::Result<Option<model::ReleaseId>> {
    tracks::repo::first_release(conn, track).await
}

/// For the royalties' demo: the labels' recordings with an ISRC as (ISRC, title, display artist, the
/// release it first appeared on).
pub async fn recordings_of(
    conn: &mut sqlx::PgConnection,
    orgs: &[uuid::Uuid],
) -> sqlx::Result<Vec<(String, String, String, Option<model::ReleaseId>)>> {
    tracks::repo::recordings_of(conn, orgs).await
}

/// For the royalties' inboxes: a store's name, how to reach it (credentials opened) and its base folder;
/// none for an unknown store.
pub async fn store_endpoint(
    conn: &mut sqlx::PgConnection,
    ctx: &platform::AppContext,
    store: uuid::Uuid,
) -> anyhow::Result<Option<(String, transfer::Endpoint, String)>> {
    let Some(row) = stores::repo::store(conn, model::StoreId(store)).await? else { return Ok(None) };
    Ok(Some((row.name.clone(), row.endpoint(ctx)?, row.path)))
}

/// Registers the catalog's jobs: deliveries and the acknowledgement poll.
pub fn register(registry: &mut platform::jobs::Registry) {
    distribution::service::register(registry);
    rights::service::register(registry);
}
