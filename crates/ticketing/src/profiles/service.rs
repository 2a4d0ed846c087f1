//! Wallet addresses (one primary per network) and the profiles of fans, creators and sponsors. Fans earn
//! loyalty points for each event they attend (at its first check-in).

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::model::UserId;
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto;
use super::dto::{CreatorProfile, FanProfile, SponsorProfile, Wallet};
use super::repo::{self, WalletRow};
use crate::error::{TicketingCode, TicketingError};
use crate::model::{EventId, StellarAddress};

/// Points for each attended event.
pub const POINTS_PER_EVENT: i32 = 10;

fn own(principal: &Principal) -> Result<(), ApiError> {
    Ok(authz::authorize(principal, "profile.update", Target::OwnedBy(principal.user_id))?)
}

pub async fn add_wallet(ctx: &AppContext, principal: &Principal, req: dto::NewWallet) -> Result<Wallet, ApiError> {
    own(principal)?;
    let mut errors = Vec::new();
    if req.network != "stellar" && req.network != "stellar_testnet" {
        errors.push(FieldError::new("network", "invalid_value", "must be stellar or stellar_testnet"));
    }
    let address = StellarAddress::parse(&req.address).map_err(|why| FieldError::new("address", "invalid_address", why));
    if let Err(e) = &address {
        errors.push(e.clone());
    }
    if req.label.chars().count() > 100 {
        errors.push(FieldError::new("label", "too_long", "must be at most 100 characters"));
    }
    let (Ok(address), true) = (address, errors.is_empty()) else { return Err(ApiError::validation(errors)) };
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    // One change at a time per user and network, so exactly one address stays primary.
    repo::lock_network(&mut tx, principal.user_id, &req.network).await?;
    let primary = req.primary || !repo::has_primary(&mut tx, principal.user_id, &req.network).await?;
    let id = platform::ids::new_id();
    if primary {
        repo::set_primary(&mut tx, principal.user_id, &req.network, None).await?;
    }
    let row = WalletRow {
        id,
        network: req.network.clone(),
        address: address.as_str().to_owned(),
        label: req.label.trim().to_owned(),
        is_primary: primary,
        created_at: now,
    };
    let wallet = repo::insert_wallet(&mut tx, principal.user_id, &row).await?;
    let wallet =
        wallet.ok_or_else(|| ApiError::new(TicketingCode::WalletExists, "This address is registered already."))?;
    platform::audit::Entry::new(principal.actor(), "wallet.add", "wallet_address", wallet.id)
        .after(json!({"network": wallet.network, "address": wallet.address, "primary": primary}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(wallet.into())
}

pub async fn wallets(ctx: &AppContext, principal: &Principal) -> Result<dto::WalletList, ApiError> {
    own(principal)?;
    let mut conn = ctx.db.acquire().await?;
    let items = repo::wallets_of(&mut conn, principal.user_id).await?.into_iter().map(Wallet::from).collect();
    Ok(dto::WalletList { items })
}

/// Makes an address the primary of its network.
pub async fn make_primary(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Wallet, ApiError> {
    own(principal)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let wallet =
        repo::wallet(&mut tx, principal.user_id, id).await?.ok_or(TicketingError::NotFound("wallet address"))?;
    repo::lock_network(&mut tx, principal.user_id, &wallet.network).await?;
    repo::set_primary(&mut tx, principal.user_id, &wallet.network, Some(id)).await?;
    platform::audit::Entry::new(principal.actor(), "wallet.primary", "wallet_address", id).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(Wallet { is_primary: true, ..wallet.into() })
}

/// Removes an address; if it was primary, the oldest other address of its network becomes primary.
pub async fn remove_wallet(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    own(principal)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (network, was_primary) =
        repo::delete_wallet(&mut tx, principal.user_id, id).await?.ok_or(TicketingError::NotFound("wallet address"))?;
    if was_primary {
        repo::lock_network(&mut tx, principal.user_id, &network).await?;
        repo::promote_oldest(&mut tx, principal.user_id, &network).await?;
    }
    platform::audit::Entry::new(principal.actor(), "wallet.remove", "wallet_address", id).record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Awards a fan the points of an attended event, once.
pub(crate) async fn award_attendance(
    conn: &mut PgConnection,
    user: Uuid,
    event: EventId,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    repo::award_points(conn, user, event, POINTS_PER_EVENT, now).await?;
    Ok(())
}

fn words(field: &str, list: &[String], max: usize, errors: &mut Vec<FieldError>) -> Vec<String> {
    if list.len() > max {
        errors.push(FieldError::new(field, "too_many", format!("at most {max} entries")));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let item = item.trim().to_lowercase();
        if item.is_empty() || item.chars().count() > 50 {
            errors.push(FieldError::new(format!("{field}[{i}]"), "invalid_length", "must be 1 to 50 characters"));
        } else if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

async fn stored<T: serde::de::DeserializeOwned + Default>(
    conn: &mut PgConnection,
    user: Uuid,
    persona: &str,
) -> Result<T, ApiError> {
    let data = repo::persona(conn, UserId(user), persona).await?;
    Ok(data.and_then(|d| serde_json::from_value(d).ok()).unwrap_or_default())
}

async fn store(
    conn: &mut PgConnection,
    principal: &Principal,
    persona: &str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    repo::upsert_persona(conn, principal.user_id, persona, &data, now).await?;
    platform::audit::Entry::new(principal.actor(), "profile.update", "persona_profile", principal.user_id.0)
        .after(json!({"persona": persona}))
        .record(conn, now)
        .await?;
    Ok(())
}

pub async fn fan(ctx: &AppContext, principal: &Principal) -> Result<FanProfile, ApiError> {
    own(principal)?;
    let mut conn = ctx.db.acquire().await?;
    let mut profile: FanProfile = stored(&mut conn, principal.user_id.0, "fan").await?;
    let (points, events) = repo::points_of(&mut conn, principal.user_id).await?;
    profile.loyalty_points = points;
    profile.events_attended = events;
    Ok(profile)
}

pub async fn set_fan(ctx: &AppContext, principal: &Principal, req: FanProfile) -> Result<FanProfile, ApiError> {
    own(principal)?;
    let mut errors = Vec::new();
    let genres = words("favorite_genres", &req.favorite_genres, 20, &mut errors);
    let interests = words("interests", &req.interests, 20, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    store(&mut tx, principal, "fan", json!({"favorite_genres": genres, "interests": interests}), now).await?;
    tx.commit().await?;
    fan(ctx, principal).await
}

pub async fn creator(ctx: &AppContext, principal: &Principal) -> Result<CreatorProfile, ApiError> {
    own(principal)?;
    let mut conn = ctx.db.acquire().await?;
    stored(&mut conn, principal.user_id.0, "creator").await
}

pub async fn set_creator(
    ctx: &AppContext,
    principal: &Principal,
    req: CreatorProfile,
) -> Result<CreatorProfile, ApiError> {
    own(principal)?;
    let mut errors = Vec::new();
    let content_types = words("content_types", &req.content_types, 20, &mut errors);
    if req.rates.len() > 20 {
        errors.push(FieldError::new("rates", "too_many", "at most 20 rates"));
    }
    for (i, rate) in req.rates.iter().enumerate() {
        if rate.service.trim().is_empty() || rate.service.chars().count() > 100 {
            errors.push(FieldError::new(
                format!("rates[{i}].service"),
                "invalid_length",
                "must be 1 to 100 characters",
            ));
        }
        if rate.amount < 0 {
            errors.push(FieldError::new(
                format!("rates[{i}].amount"),
                "out_of_range",
                "must be 0 or more (minor units)",
            ));
        }
        if ledger::model::Currency::parse(&rate.currency).is_none_or(|c| c.as_str() == "CREDIT") {
            errors.push(FieldError::new(
                format!("rates[{i}].currency"),
                "invalid_value",
                "must be an ISO 4217 currency",
            ));
        }
    }
    if req.portfolio.len() > 50 {
        errors.push(FieldError::new("portfolio", "too_many", "at most 50 links"));
    }
    for (i, url) in req.portfolio.iter().enumerate() {
        let ok = (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2000 && !url.contains(' ');
        if !ok {
            errors.push(FieldError::new(format!("portfolio[{i}]"), "invalid_url", "must be an http(s) URL"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let profile = CreatorProfile {
        content_types,
        rates: req
            .rates
            .into_iter()
            .map(|r| dto::Rate { service: r.service.trim().to_owned(), currency: r.currency.to_uppercase(), ..r })
            .collect(),
        portfolio: req.portfolio,
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    store(&mut tx, principal, "creator", serde_json::to_value(&profile).unwrap_or_default(), now).await?;
    tx.commit().await?;
    Ok(profile)
}

pub async fn sponsor(ctx: &AppContext, principal: &Principal) -> Result<SponsorProfile, ApiError> {
    own(principal)?;
    let mut conn = ctx.db.acquire().await?;
    stored(&mut conn, principal.user_id.0, "sponsor").await
}

pub async fn set_sponsor(
    ctx: &AppContext,
    principal: &Principal,
    req: SponsorProfile,
) -> Result<SponsorProfile, ApiError> {
    own(principal)?;
    let mut errors = Vec::new();
    for (field, value, max) in
        [("brand", &req.brand, 100), ("industry", &req.industry, 100), ("target_audience", &req.target_audience, 1000)]
    {
        if value.chars().count() > max {
            errors.push(FieldError::new(field, "too_long", format!("must be at most {max} characters")));
        }
    }
    if req.budget.is_some_and(|b| b < 0) {
        errors.push(FieldError::new("budget", "out_of_range", "must be 0 or more (minor units)"));
    }
    match (&req.budget, &req.budget_currency) {
        (Some(_), None) => errors.push(FieldError::new("budget_currency", "required", "is required with a budget")),
        (_, Some(c)) if ledger::model::Currency::parse(c).is_none_or(|c| c.as_str() == "CREDIT") => {
            errors.push(FieldError::new("budget_currency", "invalid_value", "must be an ISO 4217 currency"));
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let profile = SponsorProfile {
        brand: req.brand.trim().to_owned(),
        industry: req.industry.trim().to_owned(),
        target_audience: req.target_audience.trim().to_owned(),
        budget_currency: req.budget_currency.map(|c| c.to_uppercase()),
        ..req
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    store(&mut tx, principal, "sponsor", serde_json::to_value(&profile).unwrap_or_default(), now).await?;
    tx.commit().await?;
    Ok(profile)
}
