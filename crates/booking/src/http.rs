//! Booking's HTTP handlers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::pagination::Page;
use platform::{ApiError, AppContext, Json};

use crate::dto;
use crate::model::{ArtistId, BookingId, PromoterId, VenueId};
use crate::service::{bookings, calendars, contracts, holds, money, profiles};

/// Create an artist profile: the caller's own, or a band's (`organization_id`).
#[utoipa::path(post, path = "/v1/artists", tag = "booking", security(("bearer" = [])),
    request_body = dto::ArtistRequest, responses((status = 201, body = dto::Artist),
    (status = 409, description = "`profile_exists`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such organization", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_artist(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::ArtistRequest>,
) -> Result<(StatusCode, Json<dto::Artist>), ApiError> {
    Ok((StatusCode::CREATED, Json(profiles::save_artist(&ctx, &principal, None, req).await?)))
}

/// Search the artist directory: words (ranked), genre, distance from a point, a budget overlapping the
/// price range, and availability on a day.
#[utoipa::path(get, path = "/v1/artists", tag = "booking", params(dto::ArtistSearch),
    responses((status = 200, body = Page<dto::Artist>)))]
pub async fn search_artists(
    State(ctx): State<AppContext>,
    Query(q): Query<dto::ArtistSearch>,
) -> Result<Json<Page<dto::Artist>>, ApiError> {
    Ok(Json(profiles::search_artists(&ctx, q).await?))
}

/// An artist profile.
#[utoipa::path(get, path = "/v1/artists/{id}", tag = "booking", params(("id" = ArtistId, Path)),
    responses((status = 200, body = dto::Artist)))]
pub async fn artist(State(ctx): State<AppContext>, Path(id): Path<ArtistId>) -> Result<Json<dto::Artist>, ApiError> {
    Ok(Json(profiles::artist(&ctx, id).await?))
}

/// Change an artist profile (the artist, or the band's managers).
#[utoipa::path(patch, path = "/v1/artists/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), request_body = dto::ArtistRequest, responses((status = 200, body = dto::Artist)))]
pub async fn update_artist(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
    Json(req): Json<dto::ArtistRequest>,
) -> Result<Json<dto::Artist>, ApiError> {
    Ok(Json(profiles::save_artist(&ctx, &principal, Some(id), req).await?))
}

/// Set (and by default lock) an artist's category (admins).
#[utoipa::path(put, path = "/v1/artists/{id}/category", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), request_body = dto::CategoryChange, responses((status = 200, body = dto::Artist)))]
pub async fn set_category(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
    Json(req): Json<dto::CategoryChange>,
) -> Result<Json<dto::Artist>, ApiError> {
    Ok(Json(profiles::set_category(&ctx, &principal, id, req).await?))
}

/// Every change of an artist's category (the artist's side and admins).
#[utoipa::path(get, path = "/v1/artists/{id}/category-history", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), responses((status = 200, body = Vec<dto::CategoryHistoryItem>)))]
pub async fn category_history(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
) -> Result<Json<Vec<dto::CategoryHistoryItem>>, ApiError> {
    Ok(Json(profiles::category_history(&ctx, &principal, id).await?))
}

/// Create a venue profile.
#[utoipa::path(post, path = "/v1/venues", tag = "booking", security(("bearer" = [])),
    request_body = dto::VenueRequest, responses((status = 201, body = dto::Venue),
    (status = 404, description = "No such organization", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_venue(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::VenueRequest>,
) -> Result<(StatusCode, Json<dto::Venue>), ApiError> {
    Ok((StatusCode::CREATED, Json(profiles::save_venue(&ctx, &principal, None, req).await?)))
}

/// Venues by city and capacity.
#[utoipa::path(get, path = "/v1/venues", tag = "booking", params(dto::VenueSearch),
    responses((status = 200, body = Page<dto::Venue>)))]
pub async fn search_venues(
    State(ctx): State<AppContext>,
    Query(q): Query<dto::VenueSearch>,
) -> Result<Json<Page<dto::Venue>>, ApiError> {
    Ok(Json(profiles::search_venues(&ctx, q).await?))
}

/// A venue profile.
#[utoipa::path(get, path = "/v1/venues/{id}", tag = "booking", params(("id" = VenueId, Path)),
    responses((status = 200, body = dto::Venue)))]
pub async fn venue(State(ctx): State<AppContext>, Path(id): Path<VenueId>) -> Result<Json<dto::Venue>, ApiError> {
    Ok(Json(profiles::venue(&ctx, id).await?))
}

/// Change a venue profile.
#[utoipa::path(patch, path = "/v1/venues/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = VenueId, Path)), request_body = dto::VenueRequest, responses((status = 200, body = dto::Venue)))]
pub async fn update_venue(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<VenueId>,
    Json(req): Json<dto::VenueRequest>,
) -> Result<Json<dto::Venue>, ApiError> {
    Ok(Json(profiles::save_venue(&ctx, &principal, Some(id), req).await?))
}

/// Create a promoter profile (trust score 50, unverified).
#[utoipa::path(post, path = "/v1/promoters", tag = "booking", security(("bearer" = [])),
    request_body = dto::PromoterRequest, responses((status = 201, body = dto::Promoter),
    (status = 409, description = "`profile_exists`", body = ProblemBody, content_type = "application/problem+json"),
    (status = 404, description = "No such organization", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn create_promoter(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::PromoterRequest>,
) -> Result<(StatusCode, Json<dto::Promoter>), ApiError> {
    Ok((StatusCode::CREATED, Json(profiles::save_promoter(&ctx, &principal, None, req).await?)))
}

/// A promoter profile.
#[utoipa::path(get, path = "/v1/promoters/{id}", tag = "booking", params(("id" = PromoterId, Path)),
    responses((status = 200, body = dto::Promoter)))]
pub async fn promoter(
    State(ctx): State<AppContext>,
    Path(id): Path<PromoterId>,
) -> Result<Json<dto::Promoter>, ApiError> {
    Ok(Json(profiles::promoter(&ctx, id).await?))
}

/// Change a promoter profile.
#[utoipa::path(patch, path = "/v1/promoters/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = PromoterId, Path)), request_body = dto::PromoterRequest, responses((status = 200, body = dto::Promoter)))]
pub async fn update_promoter(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<PromoterId>,
    Json(req): Json<dto::PromoterRequest>,
) -> Result<Json<dto::Promoter>, ApiError> {
    Ok(Json(profiles::save_promoter(&ctx, &principal, Some(id), req).await?))
}

/// Verify a promoter or set its trust score (admins).
#[utoipa::path(put, path = "/v1/promoters/{id}/review", tag = "booking", security(("bearer" = [])),
    params(("id" = PromoterId, Path)), request_body = dto::PromoterReview, responses((status = 200, body = dto::Promoter)))]
pub async fn review_promoter(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<PromoterId>,
    Json(req): Json<dto::PromoterReview>,
) -> Result<Json<dto::Promoter>, ApiError> {
    Ok(Json(profiles::review_promoter(&ctx, &principal, id, req).await?))
}

/// Offer an artist a booking (→ offered; the artist answers within 72 hours).
#[utoipa::path(post, path = "/v1/bookings", tag = "booking", security(("bearer" = [])),
    request_body = dto::Offer, responses((status = 201, body = dto::Booking)))]
pub async fn offer(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Json(req): Json<dto::Offer>,
) -> Result<(StatusCode, Json<dto::Booking>), ApiError> {
    Ok((StatusCode::CREATED, Json(bookings::offer(&ctx, &principal, req).await?)))
}

/// The caller's bookings, as artist or organizer.
#[utoipa::path(get, path = "/v1/me/bookings", tag = "booking", security(("bearer" = [])),
    responses((status = 200, body = dto::BookingList)))]
pub async fn my_bookings(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
) -> Result<Json<dto::BookingList>, ApiError> {
    Ok(Json(bookings::mine(&ctx, &principal).await?))
}

/// A booking, with its proposals and what the caller may do next.
#[utoipa::path(get, path = "/v1/bookings/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), responses((status = 200, body = dto::Booking)))]
pub async fn booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(bookings::get(&ctx, &principal, id).await?))
}

/// Propose terms (a counter-offer): only the side whose turn it is, at most three proposals.
#[utoipa::path(post, path = "/v1/bookings/{id}/proposals", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = dto::Terms,
    responses((status = 201, body = dto::Booking),
              (status = 409, description = "`not_your_turn`, `no_more_rounds`, `invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn propose(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<dto::Terms>,
) -> Result<(StatusCode, Json<dto::Booking>), ApiError> {
    Ok((StatusCode::CREATED, Json(bookings::propose(&ctx, &principal, id, req).await?)))
}

/// Accept the other side's last proposal (→ contracting); the terms and commission are fixed.
#[utoipa::path(post, path = "/v1/bookings/{id}/accept", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)),
    responses((status = 200, body = dto::Booking),
              (status = 409, description = "`not_your_turn`, `nothing_to_accept`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn accept(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(bookings::accept(&ctx, &principal, id).await?))
}

/// Walk away from a negotiation (either side).
#[utoipa::path(post, path = "/v1/bookings/{id}/decline", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = dto::Reason, responses((status = 200, body = dto::Booking),
    (status = 409, description = "`invalid_transition`, `not_negotiating`, `still_negotiating`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn decline(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<dto::Reason>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(bookings::decline(&ctx, &principal, id, &req.reason).await?))
}

/// Open a ticketed event for artists' applications.
#[utoipa::path(put, path = "/v1/events/{id}/open-call", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = dto::OpenCall, responses((status = 204, description = "Open")))]
pub async fn open_call(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<dto::OpenCall>,
) -> Result<StatusCode, ApiError> {
    bookings::open_call(&ctx, &principal, id, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Apply to play an event open for applications (→ inquiry; the organizer proposes first).
#[utoipa::path(post, path = "/v1/events/{id}/applications", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = dto::Application,
    responses((status = 201, body = dto::Booking),
              (status = 409, description = "`not_open`, `already_applied`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn apply(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
    Json(req): Json<dto::Application>,
) -> Result<(StatusCode, Json<dto::Booking>), ApiError> {
    Ok((StatusCode::CREATED, Json(bookings::apply(&ctx, &principal, id, req).await?)))
}

/// The booking's current contract: its document, canonical text, SHA-256, and every signature.
#[utoipa::path(get, path = "/v1/bookings/{id}/contract", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), responses((status = 200, body = contracts::ContractView)))]
pub async fn contract(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<contracts::ContractView>, ApiError> {
    Ok(Json(contracts::get(&ctx, &principal, id).await?))
}

/// The current contract as a PDF (text extractable, showing its SHA-256).
#[utoipa::path(get, path = "/v1/bookings/{id}/contract.pdf", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)),
    responses((status = 200, description = "The contract", content_type = "application/pdf", body = Vec<u8>)))]
pub async fn contract_pdf(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let bytes = contracts::pdf(&ctx, &principal, id).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf"),
            (axum::http::header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Sign the current version (the organizer first, then the artist), naming its SHA-256.
#[utoipa::path(post, path = "/v1/bookings/{id}/contract/sign", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = contracts::SignRequest,
    responses((status = 200, body = contracts::ContractView),
              (status = 409, description = "`contract_changed`, `organizer_signs_first`, `already_signed`, `double_booking`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn sign(
    State(ctx): State<AppContext>,
    axum::Extension(settings): axum::Extension<std::sync::Arc<crate::BookingSettings>>,
    AuthUser(principal): AuthUser,
    meta: platform::http::ClientMeta,
    Path(id): Path<BookingId>,
    Json(req): Json<contracts::SignRequest>,
) -> Result<Json<contracts::ContractView>, ApiError> {
    Ok(Json(contracts::sign(&ctx, &settings, &principal, &meta, id, req).await?))
}

/// Request the one edit your side has: a clause added in a new version that both sign again.
#[utoipa::path(post, path = "/v1/bookings/{id}/contract/edits", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = contracts::EditRequest,
    responses((status = 201, body = contracts::ContractView),
              (status = 409, description = "`edit_used`, `contract_signed`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn edit_contract(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<contracts::EditRequest>,
) -> Result<(StatusCode, Json<contracts::ContractView>), ApiError> {
    Ok((StatusCode::CREATED, Json(contracts::request_edit(&ctx, &principal, id, req).await?)))
}

/// Approve (→ confirmed) or reject (→ cancelled) a contract both sides signed (admins).
#[utoipa::path(post, path = "/v1/bookings/{id}/contract/review", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = contracts::ReviewRequest,
    responses((status = 200, body = contracts::ContractView),
              (status = 409, description = "`not_signed`, `double_booking`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn review_contract(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<contracts::ReviewRequest>,
) -> Result<Json<contracts::ContractView>, ApiError> {
    Ok(Json(contracts::review(&ctx, &principal, id, req).await?))
}

/// Pay what is due (the deposit of a confirmed booking, the balance after it) from the promoter's wallet
/// or by card. Send an `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/bookings/{id}/pay", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = money::PayRequest,
    responses((status = 201, body = dto::Booking),
              (status = 409, description = "`nothing_due`, `insufficient_funds`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn pay_booking(
    State(ctx): State<AppContext>,
    axum::Extension(ledger_settings): axum::Extension<std::sync::Arc<ledger::LedgerSettings>>,
    AuthUser(principal): AuthUser,
    headers: axum::http::HeaderMap,
    Path(id): Path<BookingId>,
    Json(req): Json<money::PayRequest>,
) -> Result<axum::response::Response, ApiError> {
    let now = ctx.clock.now();
    let key = platform::idempotency::key_from(&headers)?;
    let payment = || money::Payment { booking: id, body: &req, retry_key: key.as_deref() };
    let route = format!("POST /v1/bookings/{id}/pay");
    let scope = principal.user_id.to_string();
    let request = platform::idempotency::Request { scope: &scope, headers: &headers, route: &route, body: &req };
    platform::idempotency::respond_prepared(
        &ctx.db,
        request,
        StatusCode::CREATED,
        now,
        async || money::charge(&ctx, &ledger_settings, &principal, &payment(), now).await,
        async |conn, ()| money::pay(conn, &principal, payment(), now).await,
    )
    .await
}

/// Mark a scheduled booking completed after its show (the organizer); the escrow is released.
#[utoipa::path(post, path = "/v1/bookings/{id}/complete", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), responses((status = 200, body = dto::Booking),
    (status = 409, description = "`show_not_over`, `invalid_transition`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn complete_booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(money::complete(&ctx, &principal, id).await?))
}

/// Cancel a booking past agreement: the cancelling side's penalty applies by the days left; the rest is
/// refunded.
#[utoipa::path(post, path = "/v1/bookings/{id}/cancel", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = dto::Reason, responses((status = 200, body = dto::Booking),
    (status = 409, description = "`invalid_transition`, `not_negotiating`, `still_negotiating`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn cancel_booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<dto::Reason>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(money::cancel_confirmed(&ctx, &principal, id, &req.reason).await?))
}

/// Dispute a booking whose money is in escrow (either side); it is frozen until an admin decides.
#[utoipa::path(post, path = "/v1/bookings/{id}/dispute", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = dto::Reason, responses((status = 200, body = dto::Booking),
    (status = 409, description = "`invalid_transition`, `not_negotiating`, `still_negotiating`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn dispute_booking(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<dto::Reason>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(money::dispute(&ctx, &principal, id, &req.reason).await?))
}

/// Resolve a dispute (admins): release to the artist, refund the organizer, or split.
#[utoipa::path(post, path = "/v1/bookings/{id}/resolution", tag = "booking", security(("bearer" = [])),
    params(("id" = BookingId, Path)), request_body = money::Resolution, responses((status = 200, body = dto::Booking)))]
pub async fn resolve_dispute(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<BookingId>,
    Json(req): Json<money::Resolution>,
) -> Result<Json<dto::Booking>, ApiError> {
    Ok(Json(money::resolve(&ctx, &principal, id, req).await?))
}

/// Create or rotate the artist's secret calendar feed URL (the old one stops working).
#[utoipa::path(post, path = "/v1/artists/{id}/calendar-url", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), responses((status = 201, body = calendars::FeedUrl)))]
pub async fn artist_calendar(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
) -> Result<(StatusCode, Json<calendars::FeedUrl>), ApiError> {
    Ok((StatusCode::CREATED, Json(calendars::rotate(&ctx, &principal, "artist", id.0).await?)))
}

/// Create or rotate the venue's secret calendar feed URL.
#[utoipa::path(post, path = "/v1/venues/{id}/calendar-url", tag = "booking", security(("bearer" = [])),
    params(("id" = VenueId, Path)), responses((status = 201, body = calendars::FeedUrl)))]
pub async fn venue_calendar(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<VenueId>,
) -> Result<(StatusCode, Json<calendars::FeedUrl>), ApiError> {
    Ok((StatusCode::CREATED, Json(calendars::rotate(&ctx, &principal, "venue", id.0).await?)))
}

/// An iCalendar (RFC 5545) feed at its secret URL: the artist's or venue's bookings.
#[utoipa::path(get, path = "/v1/calendars/{token}", tag = "booking", params(("token" = String, Path, description = "The secret token, with .ics")),
    responses((status = 200, description = "The feed", content_type = "text/calendar", body = String),
              (status = 404, description = "Unknown or rotated", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn calendar_feed(
    State(ctx): State<AppContext>,
    Path(token): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let feed = calendars::feed(&ctx, &token).await?.ok_or_else(|| ApiError::not_found("No such calendar."))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "private, max-age=300"),
        ],
        feed,
    )
        .into_response())
}

/// Hold an artist's date before an offer (the earliest active hold on a time is the first hold).
#[utoipa::path(post, path = "/v1/artists/{id}/holds", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), request_body = holds::NewHold,
    responses((status = 201, body = holds::Hold),
              (status = 409, description = "`date_taken`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn place_hold(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
    Json(req): Json<holds::NewHold>,
) -> Result<(StatusCode, Json<holds::Hold>), ApiError> {
    Ok((StatusCode::CREATED, Json(holds::place(&ctx, &principal, id, req).await?)))
}

/// Holds on an artist's dates: all for the artist's side, a promoter's own for a promoter.
#[utoipa::path(get, path = "/v1/artists/{id}/holds", tag = "booking", security(("bearer" = [])),
    params(("id" = ArtistId, Path)), responses((status = 200, body = holds::HoldList)))]
pub async fn holds(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ArtistId>,
) -> Result<Json<holds::HoldList>, ApiError> {
    Ok(Json(holds::list(&ctx, &principal, id).await?))
}

/// Release a hold (its promoter or the artist).
#[utoipa::path(post, path = "/v1/holds/{id}/release", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = holds::Hold),
    (status = 409, description = "`hold_not_active`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn release_hold(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<holds::Hold>, ApiError> {
    Ok(Json(holds::release(&ctx, &principal, id).await?))
}

/// Challenge the first hold from a later one: its holder must offer within 48 hours or lose it.
#[utoipa::path(post, path = "/v1/holds/{id}/challenge", tag = "booking", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = holds::Hold),
    (status = 409, description = "`nothing_to_challenge`, `already_challenged`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn challenge_hold(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<holds::Hold>, ApiError> {
    Ok(Json(holds::challenge(&ctx, &principal, id).await?))
}
