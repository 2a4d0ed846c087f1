//! Ticket tiers: what an event sells, at what price, how many, when, and with which rights.

use identity::auth::Principal;
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;

use super::dto::{Tier, TierRequest};
use super::repo::{self, TierRow};
use crate::error::{TicketingCode, TicketingError};
use crate::events::service::managed_event;
use crate::model::{EventId, TierId};
use crate::state::{EventStatus, Visibility};

/// Adds a tier (`tier` None) or changes one. Every problem is reported at once.
pub async fn save(
    ctx: &AppContext,
    principal: &Principal,
    event: EventId,
    tier: Option<TierId>,
    req: TierRequest,
) -> Result<Tier, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    // The event's row lock serializes tier changes, so capacity checks see every tier.
    let (row, _) = managed_event(&mut tx, principal, event).await?;
    if row.status == EventStatus::Completed {
        return Err(ApiError::new(TicketingCode::EventCompleted, "A completed event cannot be changed."));
    }
    let existing = match tier {
        Some(id) => Some(repo::tier(&mut tx, event, id).await?.ok_or(TicketingError::NotFound("tier"))?),
        None => None,
    };
    let mut errors = Vec::new();
    let required = |name: &str, errors: &mut Vec<FieldError>| {
        errors.push(FieldError::new(name, "required", "is required for a new tier"));
    };
    let base = existing.clone().unwrap_or_else(|| TierRow::new(TierId::new()));
    if existing.is_none() {
        if req.name.is_none() {
            required("name", &mut errors);
        }
        if req.price.is_none() {
            required("price", &mut errors);
        }
        if req.currency.is_none() {
            required("currency", &mut errors);
        }
        if req.quantity.is_none() {
            required("quantity", &mut errors);
        }
    }
    let committed = base.sold + base.held;
    let name_given = req.name.is_some();
    let visibility = match req.visibility.as_deref().map(Visibility::parse) {
        None => base.visibility,
        Some(Some(visibility)) => visibility,
        Some(None) => {
            errors.push(FieldError::new("visibility", "invalid_value", "must be public or hidden"));
            base.visibility
        }
    };
    let t = TierRow {
        name: req.name.map(|n| n.trim().to_owned()).unwrap_or(base.name.clone()),
        description: req.description.unwrap_or(base.description.clone()),
        price: req.price.unwrap_or(base.price),
        currency: req.currency.map(|c| c.trim().to_uppercase()).unwrap_or(base.currency.clone()),
        quantity: req.quantity.unwrap_or(base.quantity),
        sales_start: req.sales_start.or(base.sales_start),
        sales_end: req.sales_end.or(base.sales_end),
        min_per_order: req.min_per_order.unwrap_or(base.min_per_order),
        max_per_order: req.max_per_order.unwrap_or(base.max_per_order),
        max_per_buyer: req.max_per_buyer.or(base.max_per_buyer),
        visibility,
        transferable: req.transferable.unwrap_or(base.transferable),
        resaleable: req.resaleable.unwrap_or(base.resaleable),
        refundable: req.refundable.unwrap_or(base.refundable),
        position: req.position.unwrap_or(base.position),
        ..base.clone()
    };
    if name_given && (t.name.is_empty() || t.name.chars().count() > 100) {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 100 characters"));
    }
    if t.description.chars().count() > 2000 {
        errors.push(FieldError::new("description", "too_long", "must be at most 2,000 characters"));
    }
    if t.price < 0 {
        errors.push(FieldError::new("price", "out_of_range", "must be 0 (free) or more, in minor units"));
    }
    let currency = ledger::model::Currency::parse(&t.currency).filter(|c| c.as_str() != "CREDIT");
    if currency.is_none() && !t.currency.is_empty() {
        errors.push(FieldError::new("currency", "invalid_value", "must be an ISO 4217 currency"));
    }
    if t.quantity < 1 && (existing.is_none() || req.quantity.is_some()) {
        errors.push(FieldError::new("quantity", "out_of_range", "must be at least 1"));
    } else if t.quantity < committed {
        errors.push(FieldError::new(
            "quantity",
            "below_sold",
            format!("must be at least the {committed} tickets sold or reserved"),
        ));
    }
    if existing.is_some() && t.currency != base.currency && committed > 0 {
        errors.push(FieldError::new("currency", "locked", "cannot change once tickets are sold or reserved"));
    }
    if t.min_per_order < 1 {
        errors.push(FieldError::new("min_per_order", "out_of_range", "must be at least 1"));
    }
    if t.max_per_order < t.min_per_order {
        errors.push(FieldError::new("max_per_order", "below_minimum", "must be at least min_per_order"));
    }
    if t.max_per_buyer.is_some_and(|m| m < 1) {
        errors.push(FieldError::new("max_per_buyer", "out_of_range", "must be at least 1"));
    }
    if let (Some(start), Some(end)) = (t.sales_start, t.sales_end)
        && end <= start
    {
        errors.push(FieldError::new("sales_end", "before_start", "must be after sales_start"));
    }
    let others = repo::tiers(&mut tx, event, true).await?;
    let others: Vec<&TierRow> = others.iter().filter(|o| o.id != t.id).collect();
    if let Some(other) = others.iter().find(|o| o.currency != t.currency)
        && !t.currency.is_empty()
    {
        errors.push(FieldError::new(
            "currency",
            "mixed_currencies",
            format!("must be {}, the currency of the event's other tiers", other.currency),
        ));
    }
    if let Some(capacity) = row.capacity {
        let total: i64 = others.iter().map(|o| i64::from(o.quantity)).sum::<i64>() + i64::from(t.quantity);
        if total > i64::from(capacity) {
            errors.push(FieldError::new(
                "quantity",
                "over_capacity",
                format!("the event's tiers would offer {total} tickets for a capacity of {capacity}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let saved = repo::upsert_tier(&mut tx, event, &t, now).await?;
    platform::audit::Entry::new(
        principal.actor(),
        if existing.is_some() { "tier.update" } else { "tier.create" },
        "ticket_tier",
        saved.id.0,
    )
    .after(json!({"event": event, "name": saved.name, "price": saved.price, "quantity": saved.quantity}))
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(saved.into())
}
