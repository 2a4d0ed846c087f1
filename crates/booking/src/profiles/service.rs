//! The directory: artist profiles (solo artists and bands), venues and promoters; artist search; artist
//! categories (suggested from the price range, set and locked by an admin, every change kept).

use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::error::IdentityError;
use identity::model::OrgId;
use identity::party::Party;
use platform::pagination::{Page, PageParams, decode_cursor};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{ArtistRequest, PromoterRequest, VenueRequest};
use super::repo::{ArtistFilter, ArtistRow, PromoterRow, VenueRow};
use super::{dto, repo};
use crate::commission;
use crate::error::{BookingCode, BookingError};
use crate::model::{ArtistId, PromoterId, VenueId};

/// The owner of a new profile: an organization where the caller holds `bookings.manage`, or the caller.
async fn new_owner(conn: &mut PgConnection, principal: &Principal, org: Option<uuid::Uuid>) -> Result<Party, ApiError> {
    match org {
        Some(org) => {
            identity::service::organizations::require_permission(conn, principal, OrgId(org), "bookings.manage")
                .await?;
            Ok(Party::Organization(org))
        }
        None => {
            authz::authorize(principal, "bookings.manage", Target::OwnedBy(principal.user_id))?;
            Ok(Party::User(principal.user_id.0))
        }
    }
}

/// The profiles an owner has at most one of.
#[derive(Debug, Clone, Copy)]
enum ProfileTable {
    Artist,
    Promoter,
}

/// One artist and one promoter profile per user or organization.
async fn profile_free(
    conn: &mut PgConnection,
    kind: ProfileTable,
    user: Option<uuid::Uuid>,
    org: Option<uuid::Uuid>,
) -> Result<(), ApiError> {
    let taken = match kind {
        ProfileTable::Artist => repo::has_artist_profile(conn, user, org).await?,
        ProfileTable::Promoter => repo::has_promoter_profile(conn, user, org).await?,
    };
    if taken {
        return Err(ApiError::new(
            BookingCode::ProfileExists,
            "This owner has such a profile already; change it instead.",
        ));
    }
    Ok(())
}

fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn check_place(country: Option<&str>, lat: Option<f64>, lng: Option<f64>, errors: &mut Vec<FieldError>) {
    if country.is_some_and(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase())) {
        errors.push(FieldError::new("country", "invalid_format", "must be an ISO 3166-1 alpha-2 code (DE)"));
    }
    if lat.is_some() != lng.is_some() {
        errors.push(FieldError::new("longitude", "required", "latitude and longitude go together"));
    }
    if lat.is_some_and(|v| !(-90.0..=90.0).contains(&v) || !v.is_finite()) {
        errors.push(FieldError::new("latitude", "out_of_range", "must be between -90 and 90"));
    }
    if lng.is_some_and(|v| !(-180.0..=180.0).contains(&v) || !v.is_finite()) {
        errors.push(FieldError::new("longitude", "out_of_range", "must be between -180 and 180"));
    }
}

/// Creates the caller's artist profile (or a band's), or changes one.
pub async fn save_artist(
    ctx: &AppContext,
    principal: &Principal,
    id: Option<ArtistId>,
    req: ArtistRequest,
) -> Result<dto::Artist, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = match id {
        Some(id) => {
            let row = repo::artist(&mut tx, id, true).await?.ok_or(BookingError::NotFound("artist"))?;
            if !identity::party::may_act_for(&mut tx, principal, row.owner(), BOOKINGS_MANAGE).await? {
                return Err(IdentityError::Forbidden("bookings.manage".into()).into());
            }
            if req.organization_id.is_some() {
                return Err(ApiError::invalid_field("organization_id", "immutable", "cannot change"));
            }
            row
        }
        None => {
            let owner = new_owner(&mut tx, principal, req.organization_id).await?;
            let (user_id, org_id) = owner.columns();
            profile_free(&mut tx, ProfileTable::Artist, user_id, org_id).await?;
            ArtistRow {
                id: ArtistId::new(),
                user_id,
                org_id,
                stage_name: String::new(),
                bio: String::new(),
                genres: Vec::new(),
                city: None,
                country: None,
                latitude: None,
                longitude: None,
                price_min: None,
                price_max: None,
                currency: "EUR".into(),
                social_links: json!({}),
                media: json!([]),
                category: "budding".into(),
                category_locked: false,
                custom_policy: None,
                created_at: now,
                updated_at: now,
            }
        }
    };
    let mut errors = Vec::new();
    if let Some(name) = req.stage_name {
        row.stage_name = name.trim().to_owned();
    }
    if row.stage_name.is_empty() || row.stage_name.chars().count() > 120 {
        errors.push(FieldError::new("stage_name", "invalid_length", "must be 1 to 120 characters"));
    }
    if let Some(bio) = req.bio {
        row.bio = bio;
    }
    if row.bio.chars().count() > 10_000 {
        errors.push(FieldError::new("bio", "too_long", "must be at most 10,000 characters"));
    }
    if let Some(genres) = req.genres {
        let mut clean: Vec<String> = Vec::new();
        for (i, g) in genres.iter().enumerate() {
            let g = g.trim().to_lowercase();
            if g.is_empty() || g.chars().count() > 40 {
                errors.push(FieldError::new(format!("genres[{i}]"), "invalid_length", "must be 1 to 40 characters"));
            } else if !clean.contains(&g) {
                clean.push(g);
            }
        }
        if clean.len() > 20 {
            errors.push(FieldError::new("genres", "too_many", "at most 20 genres"));
        }
        row.genres = clean;
    }
    if req.city.is_some() {
        row.city = text(req.city);
    }
    if req.country.is_some() {
        row.country = text(req.country);
    }
    if req.latitude.is_some() || req.longitude.is_some() {
        row.latitude = req.latitude;
        row.longitude = req.longitude;
    }
    check_place(row.country.as_deref(), row.latitude, row.longitude, &mut errors);
    if req.price_min.is_some() {
        row.price_min = req.price_min;
    }
    if req.price_max.is_some() {
        row.price_max = req.price_max;
    }
    if row.price_min.is_some_and(|p| p < 0) || row.price_max.is_some_and(|p| p < 0) {
        errors.push(FieldError::new("price_min", "out_of_range", "prices are 0 or more (minor units)"));
    }
    if let (Some(min), Some(max)) = (row.price_min, row.price_max)
        && max < min
    {
        errors.push(FieldError::new("price_max", "below_minimum", "must be at least price_min"));
    }
    if let Some(currency) = req.currency {
        row.currency = currency.trim().to_uppercase();
    }
    if ledger::model::Currency::parse(&row.currency).is_none_or(|c| c.as_str() == "CREDIT") {
        errors.push(FieldError::new("currency", "invalid_value", "must be an ISO 4217 currency"));
    }
    if let Some(links) = req.social_links {
        if links.len() > 20
            || links.values().any(|v| !v.as_str().is_some_and(|u| u.starts_with("https://") && u.len() <= 500))
        {
            errors.push(FieldError::new("social_links", "invalid_url", "at most 20 https links"));
        }
        row.social_links = serde_json::Value::Object(links);
    }
    if let Some(media) = req.media {
        if media.len() > 50 || media.iter().any(|u| !u.starts_with("https://") || u.len() > 2000) {
            errors.push(FieldError::new("media", "invalid_url", "at most 50 https links"));
        }
        row.media = json!(media);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // The price range suggests the category unless an admin locked it.
    let before = row.category.clone();
    if !row.category_locked {
        row.category = commission::suggest_category(row.price_max, &row.currency).to_owned();
    }
    if id.is_some() && before != row.category {
        let change = repo::CategoryChange {
            artist: row.id,
            from: &before,
            to: &row.category,
            locked: false,
            by: None,
            reason: "suggested by the price range",
        };
        repo::record_category_change(&mut tx, change, now).await?;
    }
    row.updated_at = now;
    repo::save_artist(&mut tx, &row).await?;
    platform::audit::Entry::new(
        principal.actor(),
        if id.is_some() { "artist.update" } else { "artist.create" },
        "artist_profile",
        row.id.0,
    )
    .after(json!({"stage_name": row.stage_name, "category": row.category}))
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(row.dto())
}

pub async fn artist(ctx: &AppContext, id: ArtistId) -> Result<dto::Artist, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::artist(&mut conn, id, false).await?.ok_or(BookingError::NotFound("artist"))?.dto())
}

/// An admin sets an artist's category (locking it against the price range's suggestion by default).
pub async fn set_category(
    ctx: &AppContext,
    principal: &Principal,
    id: ArtistId,
    req: dto::CategoryChange,
) -> Result<dto::Artist, ApiError> {
    if !is_admin(principal) {
        return Err(IdentityError::Forbidden("bookings.admin".into()).into());
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::artist(&mut tx, id, true).await?.ok_or(BookingError::NotFound("artist"))?;
    let custom = match (req.category.as_str(), req.policy) {
        ("custom", Some(p)) => {
            let whole = p.artist_bps + p.platform_bps;
            if p.artist_bps < 0 || p.platform_bps < 0 || p.organizer_fee_bps < 0 || p.min_fee < 0 || whole > 10_000 {
                return Err(ApiError::invalid_field(
                    "policy",
                    "invalid_value",
                    "shares are 0 or more; artist + platform at most 10,000 bps",
                ));
            }
            Some(json!(p))
        }
        ("custom", None) => {
            return Err(ApiError::invalid_field("policy", "required", "a custom category needs its policy"));
        }
        (c, _) if commission::policy(c).is_some() => None,
        _ => {
            return Err(ApiError::invalid_field(
                "category",
                "invalid_value",
                "must be budding, mid_scale, international or custom",
            ));
        }
    };
    let before = row.category.clone();
    row.category = req.category.clone();
    row.category_locked = req.locked.unwrap_or(true);
    row.custom_policy = custom;
    if !row.category_locked {
        row.category = commission::suggest_category(row.price_max, &row.currency).to_owned();
    }
    row.updated_at = now;
    repo::save_artist(&mut tx, &row).await?;
    let change = repo::CategoryChange {
        artist: id,
        from: &before,
        to: &row.category,
        locked: row.category_locked,
        by: Some(principal.user_id.0),
        reason: req.reason.trim(),
    };
    repo::record_category_change(&mut tx, change, now).await?;
    platform::audit::Entry::new(principal.actor(), "artist.category", "artist_profile", id.0)
        .before(json!({"category": before}))
        .after(json!({"category": row.category, "locked": row.category_locked}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(row.dto())
}

pub async fn category_history(
    ctx: &AppContext,
    principal: &Principal,
    id: ArtistId,
) -> Result<Vec<dto::CategoryHistoryItem>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::artist(&mut conn, id, false).await?.ok_or(BookingError::NotFound("artist"))?;
    if !is_admin(principal) && !identity::party::may_act_for(&mut conn, principal, row.owner(), BOOKINGS_MANAGE).await?
    {
        return Err(BookingError::NotFound("artist").into());
    }
    Ok(repo::category_history(&mut conn, id).await?.into_iter().map(Into::into).collect())
}

/// The public directory of artists.
pub async fn search_artists(ctx: &AppContext, q: dto::ArtistSearch) -> Result<Page<dto::Artist>, ApiError> {
    let limit = PageParams { limit: q.limit, cursor: None }.limit()?;
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let query = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let near = match (q.lat, q.lng, q.radius_km) {
        (None, None, None) => None,
        (Some(lat), Some(lng), Some(radius))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) && radius > 0.0 =>
        {
            Some((lat, lng, radius))
        }
        _ => {
            return Err(ApiError::invalid_field(
                "radius_km",
                "invalid_value",
                "lat (-90..90), lng (-180..180) and a positive radius_km go together",
            ));
        }
    };
    let budget = match (q.budget_min, q.budget_max) {
        (None, None) => None,
        (min, max) => {
            let (min, max) = (min.unwrap_or(0), max.unwrap_or(i64::MAX));
            if min < 0 || max < min {
                return Err(ApiError::invalid_field(
                    "budget_max",
                    "invalid_range",
                    "must be at least budget_min, both 0 or more",
                ));
            }
            Some((min, max))
        }
    };
    let free_on = q.available_on.map(|day| {
        let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default();
        (start, start + chrono::Duration::days(1))
    });
    let genre = q.genre.as_deref().map(|g| g.trim().to_lowercase());
    let mut filter = ArtistFilter {
        query,
        genre: genre.as_deref(),
        near,
        budget,
        free_on,
        after: None,
        limit: i64::from(limit) + 1,
    };
    let mut conn = ctx.reader().acquire().await?;
    // Near a place with no words to rank by: nearest first (cursor: chord and id); else by rank, then
    // stage name (cursor: rank, stage name and id).
    match (near, query) {
        (Some(place), None) => {
            let after: Option<(f64, uuid::Uuid)> = cursor.map(decode_cursor).transpose()?;
            let hits = repo::search_artists_near(&mut conn, &filter, place, after).await?;
            let items: Vec<(f64, dto::Artist)> = hits
                .into_iter()
                .map(|hit| (hit.chord.unwrap_or(0.0), dto::Artist { distance_km: hit.distance_km, ..hit.row.dto() }))
                .collect();
            let page = Page::from_overfetch(items, limit, |(chord, a)| (*chord, a.id.0));
            Ok(Page { items: page.items.into_iter().map(|(_, a)| a).collect(), next_cursor: page.next_cursor })
        }
        _ => {
            filter.after = cursor.map(decode_cursor).transpose()?;
            let hits = repo::search_artists(&mut conn, &filter).await?;
            let items: Vec<dto::Artist> = hits
                .into_iter()
                .map(|hit| dto::Artist { distance_km: hit.distance_km, rank: query.map(|_| hit.rank), ..hit.row.dto() })
                .collect();
            Ok(Page::from_overfetch(items, limit, |a| (a.rank.unwrap_or(0.0), a.stage_name.clone(), a.id.0)))
        }
    }
}

pub async fn save_venue(
    ctx: &AppContext,
    principal: &Principal,
    id: Option<VenueId>,
    req: VenueRequest,
) -> Result<dto::Venue, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = match id {
        Some(id) => {
            let row = repo::venue(&mut tx, id).await?.ok_or(BookingError::NotFound("venue"))?;
            let owner = Party::from_columns(row.user_id, row.org_id).unwrap_or(Party::User(uuid::Uuid::nil()));
            if !identity::party::may_act_for(&mut tx, principal, owner, BOOKINGS_MANAGE).await? {
                return Err(IdentityError::Forbidden(BOOKINGS_MANAGE.into()).into());
            }
            row
        }
        None => {
            let (user_id, org_id) = new_owner(&mut tx, principal, req.organization_id).await?.columns();
            VenueRow {
                id: VenueId::new(),
                user_id,
                org_id,
                name: String::new(),
                address: String::new(),
                city: String::new(),
                country: String::new(),
                latitude: None,
                longitude: None,
                capacity: 0,
                amenities: Vec::new(),
            }
        }
    };
    if let Some(v) = req.name {
        row.name = v.trim().to_owned();
    }
    if let Some(v) = req.address {
        row.address = v.trim().to_owned();
    }
    if let Some(v) = req.city {
        row.city = v.trim().to_owned();
    }
    if let Some(v) = req.country {
        row.country = v.trim().to_owned();
    }
    if req.latitude.is_some() || req.longitude.is_some() {
        row.latitude = req.latitude;
        row.longitude = req.longitude;
    }
    if let Some(v) = req.capacity {
        row.capacity = v;
    }
    if let Some(v) = req.amenities {
        row.amenities = v.into_iter().map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty()).collect();
    }
    let mut errors = Vec::new();
    if row.name.is_empty() || row.name.chars().count() > 200 {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 200 characters"));
    }
    if row.city.is_empty() || row.city.chars().count() > 100 {
        errors.push(FieldError::new("city", "invalid_length", "must be 1 to 100 characters"));
    }
    if row.country.is_empty() {
        errors.push(FieldError::new("country", "required", "is required (ISO 3166-1 alpha-2)"));
    }
    check_place(
        Some(&row.country).filter(|c| !c.is_empty()).map(String::as_str),
        row.latitude,
        row.longitude,
        &mut errors,
    );
    if row.capacity < 1 {
        errors.push(FieldError::new("capacity", "out_of_range", "must be at least 1"));
    }
    if row.amenities.len() > 50 {
        errors.push(FieldError::new("amenities", "too_many", "at most 50"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    repo::save_venue(&mut tx, &row, now).await?;
    platform::audit::Entry::new(
        principal.actor(),
        if id.is_some() { "venue.update" } else { "venue.create" },
        "venue_profile",
        row.id.0,
    )
    .after(json!({"name": row.name, "city": row.city, "capacity": row.capacity}))
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(row.dto())
}

pub async fn venue(ctx: &AppContext, id: VenueId) -> Result<dto::Venue, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::venue(&mut conn, id).await?.ok_or(BookingError::NotFound("venue"))?.dto())
}

pub async fn search_venues(ctx: &AppContext, q: dto::VenueSearch) -> Result<Page<dto::Venue>, ApiError> {
    let limit = PageParams { limit: q.limit, cursor: None }.limit()?;
    let after: Option<(String, uuid::Uuid)> =
        q.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
    let mut conn = ctx.reader().acquire().await?;
    let rows = repo::search_venues(
        &mut conn,
        q.city.as_deref().map(str::trim),
        (q.min_capacity, q.max_capacity),
        after,
        i64::from(limit) + 1,
    )
    .await?;
    let items: Vec<dto::Venue> = rows.iter().map(VenueRow::dto).collect();
    Ok(Page::from_overfetch(items, limit, |v| (v.name.clone(), v.id.0)))
}

pub async fn save_promoter(
    ctx: &AppContext,
    principal: &Principal,
    id: Option<PromoterId>,
    req: PromoterRequest,
) -> Result<dto::Promoter, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = match id {
        Some(id) => {
            let row = repo::promoter(&mut tx, id).await?.ok_or(BookingError::NotFound("promoter"))?;
            if !identity::party::may_act_for(&mut tx, principal, row.owner(), BOOKINGS_MANAGE).await? {
                return Err(IdentityError::Forbidden("bookings.manage".into()).into());
            }
            row
        }
        None => {
            let (user_id, org_id) = new_owner(&mut tx, principal, req.organization_id).await?.columns();
            profile_free(&mut tx, ProfileTable::Promoter, user_id, org_id).await?;
            PromoterRow {
                id: PromoterId::new(),
                user_id,
                org_id,
                name: String::new(),
                contact_name: String::new(),
                contact_email: String::new(),
                verified: false,
                trust_score: 50,
            }
        }
    };
    if let Some(v) = req.name {
        row.name = v.trim().to_owned();
    }
    if let Some(v) = req.contact_name {
        row.contact_name = v.trim().to_owned();
    }
    if let Some(v) = req.contact_email {
        row.contact_email = if v.trim().is_empty() {
            String::new()
        } else {
            identity::model::Email::parse("contact_email", &v)
                .map_err(|e| ApiError::validation(vec![e]))?
                .as_str()
                .to_owned()
        };
    }
    if row.name.is_empty() || row.name.chars().count() > 200 {
        return Err(ApiError::invalid_field("name", "invalid_length", "must be 1 to 200 characters"));
    }
    repo::save_promoter(&mut tx, &row, now).await?;
    platform::audit::Entry::new(
        principal.actor(),
        if id.is_some() { "promoter.update" } else { "promoter.create" },
        "promoter_profile",
        row.id.0,
    )
    .after(json!({"name": row.name}))
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(row.dto())
}

pub async fn promoter(ctx: &AppContext, id: PromoterId) -> Result<dto::Promoter, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(repo::promoter(&mut conn, id).await?.ok_or(BookingError::NotFound("promoter"))?.dto())
}

/// An admin verifies a promoter or sets its trust score (0–100).
pub async fn review_promoter(
    ctx: &AppContext,
    principal: &Principal,
    id: PromoterId,
    req: dto::PromoterReview,
) -> Result<dto::Promoter, ApiError> {
    if !is_admin(principal) {
        return Err(IdentityError::Forbidden("bookings.admin".into()).into());
    }
    if req.trust_score.is_some_and(|s| !(0..=100).contains(&s)) {
        return Err(ApiError::invalid_field("trust_score", "out_of_range", "must be between 0 and 100"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::promoter(&mut tx, id).await?.ok_or(BookingError::NotFound("promoter"))?;
    let before = json!({"verified": row.verified, "trust_score": row.trust_score});
    row.verified = req.verified.unwrap_or(row.verified);
    row.trust_score = req.trust_score.unwrap_or(row.trust_score);
    repo::save_promoter(&mut tx, &row, now).await?;
    platform::audit::Entry::new(principal.actor(), "promoter.review", "promoter_profile", id.0)
        .before(before)
        .after(json!({"verified": row.verified, "trust_score": row.trust_score}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(row.dto())
}

/// The permission with which a caller acts for a profile's owner (the user, or a member of the
/// organization whose role grants it): `identity::party::may_act_for(.., BOOKINGS_MANAGE)`.
pub const BOOKINGS_MANAGE: &str = "bookings.manage";

/// Whether the caller is a platform admin for booking matters.
pub fn is_admin(principal: &Principal) -> bool {
    principal.has_role("admin") && authz::authorize(principal, "bookings.admin", Target::Platform).is_ok()
}

/// The artist and promoter profiles the caller acts for.
pub async fn my_profiles(conn: &mut PgConnection, principal: &Principal) -> Result<(Vec<Uuid>, Vec<Uuid>), ApiError> {
    let orgs: Vec<Uuid> = identity::service::organizations::orgs_granting(conn, principal, "bookings.manage")
        .await?
        .into_iter()
        .map(|o| o.0)
        .collect();
    let me = principal.user_id.0;
    Ok(repo::profiles_of(conn, me, &orgs).await?)
}
