//! Orders: tickets reserved for a buyer (held) until paid or until the hold expires; paying issues the
//! tickets and moves the money into the event's escrow account.
//!
//! Never oversell, never issue twice, never leave a ticket unsold by a race: a reservation is one
//! conditional update of the tier's row (`sold + held + n <= quantity`, also a CHECK constraint), so
//! concurrent buyers queue on that row and each either gets tickets or finds the tier truly sold out.
//! Issuing happens once, when the locked order moves from `pending` to `paid`.

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use ledger::error::LedgerCode;
use ledger::model::{Currency, Owner, kinds};
use platform::crypto::SecretBox;
use platform::db::HotWrite;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{NewOrder, Order, PayOrder, Ticket};
use super::repo::{OrderItemRow, OrderRow, TicketRow};
use super::{dto, repo};
use crate::error::{TicketingCode, TicketingError};
use crate::events::service::visible_event;
use crate::model::{EventId, OrderId, TicketId};
use crate::state::{EventStatus, OrderState};
use crate::{TicketingSettings, chain, signing};

/// Expires an unpaid order when its hold ends.
pub const EXPIRE: JobKind = JobKind::new("ticketing.order.expire").max_attempts(10);

/// Most tiers in one order.
const MAX_ITEMS: usize = 20;

/// Reserves tickets for the caller, in the caller's transaction (so an `Idempotency-Key` covers it).
/// A free order is issued at once.
pub async fn reserve(
    conn: &mut PgConnection,
    seller: Seller<'_>,
    settings: &TicketingSettings,
    principal: &Principal,
    event_id: EventId,
    req: &NewOrder,
    now: DateTime<Utc>,
) -> Result<Order, ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    let (event, _) = visible_event(conn, Some(principal), event_id, false).await?;
    if event.status != EventStatus::Published {
        return Err(ApiError::new(TicketingCode::NotOnSale, "Tickets are sold only while the event is published."));
    }
    if event.ends_at <= now {
        return Err(ApiError::new(TicketingCode::NotOnSale, "The event is over."));
    }
    let items = ordered_items(req)?;
    let ids: Vec<uuid::Uuid> = items.iter().map(|i| i.tier_id.0).collect();
    sold_out_first(seller.sold_out, event_id, &crate::tiers::repo::tiers_among(conn, event_id, &ids).await?, &items)?;
    // One order at a time per buyer and event: the per-buyer limits count pending orders too, and a
    // waiting room's pass buys one order.
    repo::lock_buyer(conn, event_id, principal.user_id.0).await?;
    let spends_pass = crate::rooms::service::check_pass(conn, &event, principal, req.pass.as_deref(), now).await?;
    let tiers = crate::tiers::repo::tiers_among(conn, event_id, &ids).await?;
    let attribution = attribution_link(conn, event_id, req).await?;
    let tier_of = |id| tiers.iter().find(|t| t.id == id).cloned();
    let Priced { lines, amount, currency } =
        price_items(conn, principal, &items, tier_of, attribution.as_ref().err().cloned(), now).await?;
    let attribution_link_id = attribution.ok().flatten();
    for line in &lines {
        if !crate::tiers::repo::hold(conn, line.tier_id, line.quantity).await? {
            let tier = crate::tiers::repo::tier(conn, event_id, line.tier_id)
                .await?
                .ok_or(TicketingError::NotFound("tier"))?;
            seller.sold_out.note(event_id, &tier, seller.sold_out.now());
            return Err(TicketingError::SoldOut { tier: tier.name, left: i64::from(tier.available) }.into());
        }
    }
    let order = OrderRow {
        id: OrderId::new(),
        event_id,
        buyer_id: principal.user_id.0,
        state: OrderState::Pending,
        amount,
        currency,
        expires_at: now + settings.hold,
        payment_id: None,
        paid_at: None,
        created_at: now,
        attribution_link_id,
    };
    repo::insert_order(conn, &order, &lines).await?;
    if spends_pass {
        crate::rooms::service::spend_pass(conn, event_id, principal, order.id.0).await?;
    }
    platform::audit::Entry::new(principal.actor(), "order.reserve", "order", order.id.0)
        .after(json!({"event": event_id, "amount": amount, "items": lines.iter().map(|l| json!({"tier": l.tier_id, "quantity": l.quantity})).collect::<Vec<_>>()}))
        .record(conn, now)
        .await?;
    if amount == 0 {
        let issued = issue(conn, &order, None, now).await?;
        settle_shared(conn, &order, &issued, now).await?;
    } else {
        let job = NewJob::new(EXPIRE, json!({"order_id": order.id}))
            .at(order.expires_at)
            .unique(format!("order:{}", order.id));
        jobs::enqueue(conn, job, now).await?;
    }
    load(conn, seller.secrets, order.id).await
}

/// Before a ticket changes hands (a transfer accepted, a resale bought), in that transaction: the tier's
/// per-buyer limit holds for the recipient as it does for orders, counted under the same lock.
pub(crate) async fn receive_within_limit(
    conn: &mut PgConnection,
    event: EventId,
    tier: crate::model::TierId,
    recipient: uuid::Uuid,
) -> Result<(), ApiError> {
    let Some(limit) = crate::tiers::repo::tier(conn, event, tier).await?.and_then(|t| t.max_per_buyer) else {
        return Ok(());
    };
    repo::lock_buyer(conn, event, recipient).await?;
    let held = crate::tiers::repo::bought_by(conn, recipient, tier).await?;
    if held + 1 > i64::from(limit) {
        return Err(ApiError::new(
            TicketingCode::BuyerLimit,
            format!("This tier allows {limit} tickets per buyer, and the recipient has {held}."),
        ));
    }
    Ok(())
}

/// Buys at once, paying from the caller's wallet, in the caller's transaction: the purchase of a hot
/// on-sale. Six statements of its own: the event and the buyer's lock in one, the tiers in one, the
/// audit entry, the ledger's entry with its postings (which finds the accounts; the event's escrow
/// takes the credit in a slice), one that writes the order, its items, tickets and codes, and the
/// chain's catch-up job; plus the buyer's limit, pass and attribution code when the sale has them. The
/// tiers' sold counts (the one row every buyer needs) are answered as a [`HotWrite`] for the caller
/// to send with the commit ([`platform::db::commit_with`]); a tier sold out meanwhile then refuses the
/// whole purchase with `sold_out`. The tickets' issue records join the event's chain after it (see
/// [`crate::chain::service::catch_up`]).
pub async fn buy_now(
    conn: &mut PgConnection,
    seller: Seller<'_>,
    principal: &Principal,
    event_id: EventId,
    req: &NewOrder,
    now: DateTime<Utc>,
) -> Result<(Order, HotWrite), ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let items = ordered_items(req)?;
    let buyer = principal.user_id.0;
    let ids: Vec<uuid::Uuid> = items.iter().map(|i| i.tier_id.0).collect();
    let repo::Sale { event: sale, place, tiers } =
        repo::sale(conn, event_id, buyer, &ids).await?.ok_or(TicketingError::NotFound("event"))?;
    if sale.status != EventStatus::Published || sale.ends_at <= now {
        // Not on sale: the answer the reservation gives (not found to those who may not see it).
        visible_event(conn, Some(principal), event_id, false).await?;
        return Err(ApiError::new(TicketingCode::NotOnSale, "Tickets are sold only while the event is published."));
    }
    sold_out_first(seller.sold_out, event_id, &tiers, &items)?;
    let pass =
        crate::rooms::service::PassCheck { event: event_id, public_key: &sale.signing_public_key, room: sale.room };
    let spends_pass = pass.check(place.as_ref(), principal, req.pass.as_deref(), now)?;
    let attribution = attribution_link(conn, event_id, req).await?;
    let tier_of = |id| tiers.iter().find(|t| t.id == id).cloned();
    let priced = price_items(conn, principal, &items, tier_of, attribution.as_ref().err().cloned(), now).await?;
    let attribution = attribution.ok().flatten();
    let order_id = OrderId::new();
    platform::audit::Entry::new(principal.actor(), "order.buy", "order", order_id.0)
        .after(json!({"event": event_id, "amount": priced.amount, "source": "wallet", "items": priced.lines.iter().map(|l| json!({"tier": l.tier_id, "quantity": l.quantity})).collect::<Vec<_>>()}))
        .record(conn, now)
        .await?;
    // Last, the money (the event's escrow takes it in a slice: no lock shared with other sales), then
    // the one shared row, the tiers' sold counts, held only until the commit.
    let entry = if priced.amount > 0 {
        let currency =
            Currency::parse(&priced.currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("currency")))?;
        let entry = ledger::service::transfer_between(
            conn,
            (Owner::User(buyer), kinds::AVAILABLE),
            (Owner::Event(event_id.0), kinds::ESCROW),
            &currency,
            priced.amount,
            crate::entry_kinds::SALE,
            &format!("order {order_id}"),
            json!({}),
            now,
        )
        .await
        .map_err(ApiError::from)?;
        Some(entry.0)
    } else {
        None
    };
    let tickets = new_tickets(&priced.lines);
    let purchase = repo::Purchase {
        order: order_id,
        event: event_id,
        buyer,
        amount: priced.amount,
        currency: &priced.currency,
        entry,
        attribution,
        spends_pass,
        tiers: priced.lines.iter().map(|l| l.tier_id.0).collect(),
        quantities: priced.lines.iter().map(|l| l.quantity).collect(),
        prices: priced.lines.iter().map(|l| l.unit_price).collect(),
        tickets: tickets.iter().map(|t| t.0.0).collect(),
        ticket_tiers: tickets.iter().map(|t| t.1.tier_id.0).collect(),
        ticket_prices: tickets.iter().map(|t| t.1.unit_price).collect(),
        codes: tickets.iter().map(|t| t.2.clone()).collect(),
    };
    let pass_spent = repo::write_purchase(conn, &purchase, now).await?;
    if spends_pass && !pass_spent {
        return Err(ApiError::new(TicketingCode::PassUsed, "The pass has bought its order already."));
    }
    if !sale.splits_frozen {
        // The event's first sale: its splits freeze (once; later sales skip this).
        let event =
            crate::events::repo::event(conn, event_id, false).await?.ok_or(TicketingError::NotFound("event"))?;
        crate::settlement::service::freeze(conn, &event, now).await?;
    }
    // The chain learns of these tickets after the commit, in a batch with the others sold meanwhile.
    // The job is one per event: enqueued last, a purchase waits for another that has just enqueued it
    // only for that one's commit.
    let catch_up =
        NewJob::new(crate::chain::service::CATCH_UP, json!({"event_id": event_id})).unique(format!("chain:{event_id}"));
    jobs::enqueue(conn, catch_up, now).await?;
    let sold_out = match &priced.lines[..] {
        [line] => format!("The tier {} has fewer tickets left than asked.", line.tier_name),
        _ => "A tier of this order has fewer tickets left than asked.".to_owned(),
    };
    let sold = repo::sold_counts(event_id, &purchase.tiers, &purchase.quantities)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("an order without tiers")))?
        .refused_by(repo::NO_OVERSELL, ApiError::new(TicketingCode::SoldOut, sold_out));
    let key = crate::events::service::open_signing_key(seller.secrets, &sale.signing_key_sealed)?;
    let order = paid_order(&key, event_id, order_id, buyer, &priced, &tickets, &tiers, now);
    Ok((order, sold))
}

/// New tickets for an order's lines: an id and a code each.
pub(super) fn new_tickets(lines: &[OrderItemRow]) -> Vec<(TicketId, &OrderItemRow, String)> {
    let mut tickets = Vec::new();
    for line in lines {
        for _ in 0..line.quantity {
            tickets.push((TicketId::new(), line, signing::new_code()));
        }
    }
    tickets
}

/// A purchase paid at once, as it is answered: the paid order with its tickets and their signed
/// payloads.
#[allow(clippy::too_many_arguments)]
pub(super) fn paid_order(
    key: &[u8; 32],
    event_id: EventId,
    order_id: OrderId,
    buyer: Uuid,
    priced: &Priced,
    tickets: &[(TicketId, &OrderItemRow, String)],
    tiers: &[crate::tiers::repo::TierRow],
    now: DateTime<Utc>,
) -> Order {
    let tier_of = |id: crate::model::TierId| tiers.iter().find(|t| t.id == id);
    Order {
        id: order_id,
        event_id,
        state: OrderState::Paid.as_str().to_owned(),
        amount: priced.amount,
        currency: priced.currency.clone(),
        items: priced.lines.iter().cloned().map(Into::into).collect(),
        expires_at: now,
        paid_at: Some(now),
        payment_id: None,
        tickets: tickets
            .iter()
            .map(|(id, line, code)| Ticket {
                id: *id,
                event_id,
                tier_id: line.tier_id,
                tier_name: line.tier_name.clone(),
                holder_id: buyer,
                state: "valid".to_owned(),
                qr_payload: signing::payload(key, event_id.0, code),
                code: code.clone(),
                price: line.unit_price,
                currency: priced.currency.clone(),
                checked_in_at: None,
                transferable: tier_of(line.tier_id).is_some_and(|t| t.transferable),
                resaleable: tier_of(line.tier_id).is_some_and(|t| t.resaleable),
            })
            .collect(),
        created_at: now,
    }
}

/// What selling tickets needs besides the database: the key that opens events' signing keys, and this
/// node's memory of sold-out tiers.
#[derive(Debug, Clone, Copy)]
pub struct Seller<'a> {
    pub secrets: &'a SecretBox,
    pub sold_out: &'a SoldOutTiers,
}

/// How long this node answers `sold_out` from memory for a tier that a purchase found sold out.
pub const SOLD_OUT_MEMORY: chrono::Duration = chrono::Duration::seconds(1);

/// The tiers this node found with fewer tickets left than a buyer asked for, and when: for
/// [`SOLD_OUT_MEMORY`] after that, an order for more than was left is refused `sold_out` from memory
/// ([`SoldOutTiers::refusal`]), after authentication and without a transaction, so that when an
/// on-sale sells out, the thousands still asking are answered at once. A ticket coming back (a hold
/// expiring, a refund) is on sale again here at most that long after. Each node keeps its own, for
/// the API and the web app alike. The second counts from when the purchase found the tier sold out,
/// not from when its request arrived (which, in a crowd queueing for connections, may be a second
/// before).
pub struct SoldOutTiers {
    clock: platform::clock::SharedClock,
    seen: std::sync::Mutex<std::collections::HashMap<crate::model::TierId, SeenSoldOut>>,
}

impl std::fmt::Debug for SoldOutTiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoldOutTiers").finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct SeenSoldOut {
    event: EventId,
    name: String,
    left: i32,
    at: DateTime<Utc>,
}

impl SoldOutTiers {
    /// A node's memory, reading the time from `clock`.
    pub fn new(clock: platform::clock::SharedClock) -> Self {
        Self { clock, seen: std::sync::Mutex::default() }
    }

    /// The time now, by the memory's clock: when a tier is found sold out, or an order is checked.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(super) fn note(&self, event: EventId, tier: &crate::tiers::repo::TierRow, now: DateTime<Utc>) {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, s| now - s.at < SOLD_OUT_MEMORY);
        let left = tier.available.max(0);
        seen.insert(tier.id, SeenSoldOut { event, name: tier.name.clone(), left, at: now });
    }

    /// The refusal of an order of `event` for `items`, when one of them asks for more of a tier than
    /// was left when a purchase last found it sold out, less than [`SOLD_OUT_MEMORY`] ago. Not for
    /// requests with an `Idempotency-Key`: a retry must be answered as the request it repeats was.
    pub fn refusal(&self, event: EventId, items: &[dto::OrderItemRequest], now: DateTime<Utc>) -> Option<ApiError> {
        let seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        items.iter().find_map(|item| {
            let s = seen.get(&item.tier_id)?;
            (s.event == event && now >= s.at && now - s.at < SOLD_OUT_MEMORY && s.left < item.quantity)
                .then(|| TicketingError::SoldOut { tier: s.name.clone(), left: i64::from(s.left) }.into())
        })
    }
}

/// The order refused from this node's memory of sold-out tiers ([`SoldOutTiers::refusal`]), before
/// any transaction; who may not order at all is told that instead.
pub fn sold_out_from_memory(
    seller: Seller<'_>,
    principal: &Principal,
    event_id: EventId,
    req: &NewOrder,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    if req.pay.is_some() {
        principal.require_verified()?;
    }
    seller.sold_out.refusal(event_id, &req.items, now).map_or(Ok(()), Err)
}

/// A tier with fewer tickets left than asked answers `sold_out` at once, from a plain read that waits for
/// no lock; the conditional update of the tier's row stays the authority.
fn sold_out_first(
    memory: &SoldOutTiers,
    event: EventId,
    tiers: &[crate::tiers::repo::TierRow],
    items: &[super::dto::OrderItemRequest],
) -> Result<(), ApiError> {
    for item in items {
        if let Some(tier) = tiers.iter().find(|t| t.id == item.tier_id)
            && tier.available < item.quantity
            && item.quantity > 0
        {
            memory.note(event, tier, memory.now());
            return Err(TicketingError::SoldOut { tier: tier.name.clone(), left: i64::from(tier.available) }.into());
        }
    }
    Ok(())
}

/// An order's items, checked for count and duplicates, in tier id order (so that two orders lock tier
/// rows in the same order and never deadlock).
pub(super) fn ordered_items(req: &NewOrder) -> Result<Vec<super::dto::OrderItemRequest>, ApiError> {
    if req.items.is_empty() || req.items.len() > MAX_ITEMS {
        return Err(ApiError::invalid_field("items", "invalid_length", format!("must hold 1 to {MAX_ITEMS} tiers")));
    }
    let mut items = req.items.clone();
    items.sort_by_key(|i| i.tier_id);
    if items.windows(2).any(|w| w[0].tier_id == w[1].tier_id) {
        return Err(ApiError::invalid_field("items", "duplicate_tier", "names a tier twice"));
    }
    Ok(items)
}

/// An order's lines, priced, once each item is checked against its tier: that it is the event's and on
/// sale, the quantity within the tier's bounds and the buyer's limit (under the buyer's lock, which the
/// caller holds), one currency for all.
pub(super) struct Priced {
    pub lines: Vec<OrderItemRow>,
    pub amount: i64,
    pub currency: String,
}

async fn price_items(
    conn: &mut PgConnection,
    principal: &Principal,
    items: &[super::dto::OrderItemRequest],
    tier_of: impl Fn(crate::model::TierId) -> Option<crate::tiers::repo::TierRow>,
    attribution: Option<FieldError>,
    now: DateTime<Utc>,
) -> Result<Priced, ApiError> {
    let mut bought = std::collections::HashMap::new();
    for tier in items.iter().filter_map(|i| tier_of(i.tier_id)).filter(|t| t.max_per_buyer.is_some()) {
        bought.insert(tier.id, crate::tiers::repo::bought_by(conn, principal.user_id.0, tier.id).await?);
    }
    price(items, tier_of, &bought, attribution, now)
}

/// [`price_items`] once what the buyer has bought of each tier with a per-buyer limit is known
/// (`bought`; a tier missing from it counts none).
pub(super) fn price(
    items: &[super::dto::OrderItemRequest],
    tier_of: impl Fn(crate::model::TierId) -> Option<crate::tiers::repo::TierRow>,
    bought: &std::collections::HashMap<crate::model::TierId, i64>,
    attribution: Option<FieldError>,
    now: DateTime<Utc>,
) -> Result<Priced, ApiError> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let mut currency = None;
    let mut amount: i64 = 0;
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let Some(tier) = tier_of(item.tier_id) else {
            errors.push(FieldError::new(field("tier_id"), "unknown_tier", "is not a tier of this event"));
            continue;
        };
        if tier.sales_start.is_some_and(|s| now < s) || tier.sales_end.is_some_and(|e| now >= e) {
            errors.push(FieldError::new(field("tier_id"), "not_on_sale", "is not on sale now"));
        }
        if item.quantity < tier.min_per_order || item.quantity > tier.max_per_order {
            errors.push(FieldError::new(
                field("quantity"),
                "out_of_range",
                format!("must be between {} and {} for {}", tier.min_per_order, tier.max_per_order, tier.name),
            ));
        }
        if let Some(limit) = tier.max_per_buyer {
            let bought = bought.get(&tier.id).copied().unwrap_or(0);
            if bought + i64::from(item.quantity) > i64::from(limit) {
                errors.push(FieldError::new(
                    field("quantity"),
                    "buyer_limit",
                    format!("{} allows {limit} per buyer; you have {bought}", tier.name),
                ));
            }
        }
        if currency.get_or_insert_with(|| tier.currency.clone()) != &tier.currency {
            errors.push(FieldError::new(
                field("tier_id"),
                "mixed_currencies",
                "all tiers of an order share a currency",
            ));
        }
        amount =
            tier.price.checked_mul(i64::from(item.quantity)).and_then(|a| a.checked_add(amount)).unwrap_or(i64::MAX);
        lines.push(OrderItemRow {
            tier_id: tier.id,
            tier_name: tier.name,
            quantity: item.quantity,
            unit_price: tier.price,
        });
    }
    errors.extend(attribution);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Priced { lines, amount, currency: currency.unwrap_or_default() })
}

/// The attribution link an order's code names, if any, or the field error of an unknown code.
async fn attribution_link(
    conn: &mut PgConnection,
    event_id: EventId,
    req: &NewOrder,
) -> Result<Result<Option<uuid::Uuid>, FieldError>, ApiError> {
    let Some(code) = req.attribution.as_deref() else { return Ok(Ok(None)) };
    Ok(match crate::settlement::service::link_for(conn, event_id, code).await? {
        Some(link) => Ok(Some(link)),
        None => Err(FieldError::new("attribution", "unknown_code", "is not an attribution code of this event")),
    })
}

/// Pays a pending order and issues its tickets, in the caller's transaction.
/// A payment of an order: which order, how, and the request's `Idempotency-Key` (which also keys the
/// card payment).
pub struct Payment<'a> {
    pub order: OrderId,
    pub body: &'a PayOrder,
    pub retry_key: Option<&'a str>,
    /// The card payment [`charge_order`] made, before the purchase's transaction.
    pub charged: Option<uuid::Uuid>,
}

/// Whether a pending order can still be paid.
/// Whether an order can be paid now. An unpaid order of an event that is no longer published (its
/// pending orders were cancelled when it left that state) is answered `not_on_sale`, which says why.
async fn payable(conn: &mut PgConnection, order: &OrderRow, now: DateTime<Utc>) -> Result<(), ApiError> {
    if order.state == OrderState::Paid {
        return Err(ApiError::new(TicketingCode::OrderNotPending, "This order is paid."));
    }
    let event =
        crate::events::repo::event(conn, order.event_id, false).await?.ok_or(TicketingError::NotFound("event"))?;
    if event.status != EventStatus::Published {
        return Err(ApiError::new(TicketingCode::NotOnSale, "Tickets are sold only while the event is published."));
    }
    match order.state {
        OrderState::Pending if now < order.expires_at => Ok(()),
        OrderState::Pending | OrderState::Expired => Err(TicketingError::OrderExpired.into()),
        state => Err(ApiError::new(TicketingCode::OrderNotPending, format!("This order is {state}."))),
    }
}

/// Before the purchase's transaction (never inside it, so that a purchase never waits for a second
/// database connection): charges the card, if that is how the buyer pays, into the buyer's wallet.
pub async fn charge_order(
    shop: &Shop<'_>,
    principal: &Principal,
    id: OrderId,
    how: &PayOrder,
    retry_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<uuid::Uuid>, ApiError> {
    if how.source.as_deref().unwrap_or("card") != "card" {
        return Ok(None);
    }
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let pool = shop.pool.ok_or_else(|| ApiError::internal(anyhow::anyhow!("a card payment needs the pool")))?;
    // Only an order that can be paid is charged; anything else (a retry of a paid order, an expired one)
    // is answered by the purchase itself, replayed or refused.
    let order = {
        let mut conn = pool.acquire().await?;
        let order = repo::order(&mut conn, id, false).await?.filter(|o| o.buyer_id == principal.user_id.0);
        match order {
            Some(order) if payable(&mut conn, &order, now).await.is_ok() => order,
            _ => return Ok(None),
        }
    };
    let currency = Currency::parse(&order.currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("currency")))?;
    let charge = Charge {
        amount: order.amount,
        currency: &currency,
        how,
        retry_key,
        description: format!("Tickets, order {}", order.id),
    };
    fund_wallet(shop, principal, charge, now).await
}

pub async fn pay(
    conn: &mut PgConnection,
    shop: &Shop<'_>,
    principal: &Principal,
    payment: Payment<'_>,
    now: DateTime<Utc>,
) -> Result<Order, ApiError> {
    let (id, req, payment_charged) = (payment.order, payment.body, payment.charged);
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    principal.require_verified()?;
    let order = repo::order(conn, id, true)
        .await?
        .filter(|o| o.buyer_id == principal.user_id.0)
        .ok_or(TicketingError::NotFound("order"))?;
    payable(conn, &order, now).await?;
    let currency = Currency::parse(&order.currency).ok_or_else(|| ApiError::internal(anyhow::anyhow!("currency")))?;
    let payment = payment_charged;
    let source = req.source.as_deref().unwrap_or("card");
    let issued = issue(conn, &order, payment, now).await?;
    platform::audit::Entry::new(principal.actor(), "order.pay", "order", order.id.0)
        .after(json!({"amount": order.amount, "currency": order.currency, "source": source, "payment": payment}))
        .record(conn, now)
        .await?;
    let answer = load(conn, shop.secrets, order.id).await?;
    // Last, the shared rows: the buyer's wallet (just credited by the card payment, or their own
    // balance) pays the event's escrow; then the tier's counts and the chain.
    let entry = ledger::service::transfer_between(
        conn,
        (Owner::User(order.buyer_id), kinds::AVAILABLE),
        (Owner::Event(order.event_id.0), kinds::ESCROW),
        &currency,
        order.amount,
        crate::entry_kinds::SALE,
        &format!("order {}", order.id),
        json!({}),
        now,
    )
    .await
    .map_err(ApiError::from)?;
    repo::set_order_state(conn, order.id, OrderState::Paid, None, Some(entry.0), now).await?;
    settle_shared(conn, &order, &issued, now).await?;
    Ok(answer)
}

/// What buying needs besides the transaction: the key that signs ticket payloads, the pool a card
/// payment commits through (none in the demo loader, which pays from wallets), the ledger's providers.
pub struct Shop<'a> {
    pub secrets: &'a SecretBox,
    pub pool: Option<&'a sqlx::PgPool>,
    pub ledger: &'a ledger::LedgerSettings,
}

impl<'a> Shop<'a> {
    pub fn of(ctx: &'a AppContext, ledger: &'a ledger::LedgerSettings) -> Self {
        Self { secrets: &ctx.secrets, pool: Some(&ctx.db), ledger }
    }
}

/// Money a buyer is about to spend, and how they pay it.
pub(crate) struct Charge<'a> {
    pub amount: i64,
    pub currency: &'a Currency,
    pub how: &'a PayOrder,
    pub retry_key: Option<&'a str>,
    pub description: String,
}

/// Makes sure the buyer's wallet holds `amount` for what they buy next: a card payment (through the
/// ledger's providers) credits it, or the wallet's own balance is used (the purchase's transfer then
/// fails with `insufficient_funds` if it is short). Answers the card payment's id.
pub(crate) async fn fund_wallet(
    shop: &Shop<'_>,
    principal: &Principal,
    charge: Charge<'_>,
    now: DateTime<Utc>,
) -> Result<Option<uuid::Uuid>, ApiError> {
    match charge.how.source.as_deref().unwrap_or("card") {
        "wallet" => Ok(None),
        "card" if charge.amount == 0 => Ok(None),
        "card" => {
            let request = ledger::payments::PaymentRequest {
                amount: charge.amount,
                currency: charge.currency.as_str().to_owned(),
                provider: charge.how.provider.clone(),
                card_number: charge.how.card_number.clone(),
                payment_method: charge.how.payment_method.clone(),
                capture: None,
                description: charge.description,
            };
            let pool = shop.pool.ok_or_else(|| ApiError::internal(anyhow::anyhow!("a card payment needs the pool")))?;
            let intent =
                ledger::payments::charge_to_wallet(pool, principal, &request, shop.ledger, charge.retry_key, now)
                    .await?;
            match intent.state.as_str() {
                "captured" => Ok(Some(intent.id)),
                "failed" => Err(ApiError::new(
                    LedgerCode::PaymentFailed,
                    format!(
                        "The payment failed ({}); nothing was bought.",
                        intent.failure_reason.as_deref().unwrap_or("declined")
                    ),
                )),
                _ => Err(ledger::payments::pending(
                    intent.id,
                    "The payment needs the customer's action first; once it has gone through its money is in \
                     your wallet: pay again with \"source\": \"wallet\".",
                )),
            }
        }
        _ => Err(ApiError::invalid_field("source", "invalid_value", "must be card or wallet")),
    }
}

/// Issues the order's tickets and marks it paid: rows of this order only, so no other purchase waits.
async fn issue(
    conn: &mut PgConnection,
    order: &OrderRow,
    payment: Option<uuid::Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<(TicketId, String, i64)>, ApiError> {
    let mut issued = Vec::new();
    for item in repo::order_items(conn, order.id).await? {
        for _ in 0..item.quantity {
            let (id, code) = (TicketId::new(), signing::new_code());
            repo::insert_ticket(conn, id, order, item.tier_id, item.unit_price, &code, now).await?;
            issued.push((id, code, item.unit_price));
        }
    }
    repo::set_order_state(conn, order.id, OrderState::Paid, payment, None, now).await?;
    crate::settlement::service::attribute(conn, order.id, now).await?;
    Ok(issued)
}

/// The rows every purchase of the event shares, touched last so their locks are held only until the
/// commit that follows: the held tickets become sold, the issues join the ticket chain, the splits freeze.
async fn settle_shared(
    conn: &mut PgConnection,
    order: &OrderRow,
    issued: &[(TicketId, String, i64)],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    for item in repo::order_items(conn, order.id).await? {
        crate::tiers::repo::settle_hold(conn, item.tier_id, item.quantity, true).await?;
    }
    for (id, code, price) in issued {
        let data =
            json!({"holder": order.buyer_id, "code_sha256": chain::code_hash(code), "order": order.id, "price": price});
        chain::append(conn, order.event_id, *id, chain::Action::Issue, data, now).await?;
    }
    let event =
        crate::events::repo::event(conn, order.event_id, false).await?.ok_or(TicketingError::NotFound("event"))?;
    crate::settlement::service::freeze(conn, &event, now).await?;
    Ok(())
}

/// Returns the tickets of a pending order to sale.
async fn release(conn: &mut PgConnection, order: &OrderRow, state: OrderState, now: DateTime<Utc>) -> sqlx::Result<()> {
    for item in repo::order_items(conn, order.id).await? {
        crate::tiers::repo::settle_hold(conn, item.tier_id, item.quantity, false).await?;
    }
    repo::set_order_state(conn, order.id, state, None, None, now).await
}

/// The buyer gives up a pending order.
pub async fn cancel(ctx: &AppContext, principal: &Principal, id: OrderId) -> Result<Order, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let order = repo::order(&mut tx, id, true)
        .await?
        .filter(|o| o.buyer_id == principal.user_id.0)
        .ok_or(TicketingError::NotFound("order"))?;
    if order.state != OrderState::Pending {
        return Err(ApiError::new(TicketingCode::OrderNotPending, format!("This order is {}.", order.state)));
    }
    release(&mut tx, &order, OrderState::Cancelled, now).await?;
    jobs::cancel_unique(&mut tx, &format!("order:{id}"), now).await?;
    platform::audit::Entry::new(principal.actor(), "order.cancel", "order", id.0).record(&mut tx, now).await?;
    let order = load(&mut tx, &ctx.secrets, id).await?;
    tx.commit().await?;
    Ok(order)
}

/// Cancels every pending order of an event (it was cancelled or unpublished).
pub(crate) async fn cancel_pending(
    conn: &mut PgConnection,
    event: EventId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let pending = repo::lock_pending_orders(conn, event).await?;
    for id in pending {
        if let Some(order) = repo::order(conn, id, true).await? {
            release(conn, &order, OrderState::Cancelled, now).await?;
            jobs::cancel_unique(conn, &format!("order:{id}"), now).await?;
        }
    }
    Ok(())
}

/// The `ticketing.order.expire` job: an unpaid order's tickets go back on sale.
async fn expire(ctx: AppContext, id: OrderId) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(order) = repo::order(&mut tx, id, true).await? else { return Err(JobFailure::permanent("no such order")) };
    if order.state != OrderState::Pending {
        return Ok(()); // paid or cancelled meanwhile
    }
    if now < order.expires_at {
        return Err(JobFailure::retry("the hold has not ended yet"));
    }
    release(&mut tx, &order, OrderState::Expired, now).await?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "order.expire", "order", id.0)
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(EXPIRE, |ctx: AppContext, job: Job| async move {
        let id: OrderId = job.field("order_id")?;
        expire(ctx, id).await
    });
}

/// An order with its items and tickets.
pub(crate) async fn load(conn: &mut PgConnection, secrets: &SecretBox, id: OrderId) -> Result<Order, ApiError> {
    let order = repo::order(conn, id, false).await?.ok_or(TicketingError::NotFound("order"))?;
    let items = repo::order_items(conn, id).await?;
    let rows = repo::tickets_of_order(conn, id).await?;
    let tickets = tickets_dto(conn, secrets, rows).await?;
    Ok(Order {
        id: order.id,
        event_id: order.event_id,
        state: order.state.as_str().to_owned(),
        amount: order.amount,
        currency: order.currency,
        items: items.into_iter().map(Into::into).collect(),
        expires_at: order.expires_at,
        paid_at: order.paid_at,
        payment_id: order.payment_id,
        tickets,
        created_at: order.created_at,
    })
}

/// Tickets with their signed payloads (each event's key opened once).
pub(crate) async fn tickets_dto(
    conn: &mut PgConnection,
    secrets: &SecretBox,
    rows: Vec<TicketRow>,
) -> Result<Vec<Ticket>, ApiError> {
    let mut keys: std::collections::HashMap<EventId, [u8; 32]> = std::collections::HashMap::new();
    let mut tickets = Vec::with_capacity(rows.len());
    for row in rows {
        let key = match keys.get(&row.event_id) {
            Some(key) => *key,
            None => {
                let event = crate::events::repo::event(conn, row.event_id, false)
                    .await?
                    .ok_or(TicketingError::NotFound("event"))?;
                let key = crate::events::service::signing_key(secrets, &event)?;
                keys.insert(row.event_id, key);
                key
            }
        };
        tickets.push(Ticket {
            id: row.id,
            event_id: row.event_id,
            tier_id: row.tier_id,
            tier_name: row.tier_name,
            holder_id: row.holder_id,
            state: row.state.as_str().to_owned(),
            qr_payload: signing::payload(&key, row.event_id.0, &row.code),
            code: row.code,
            price: row.price,
            currency: row.currency,
            checked_in_at: row.checked_in_at,
            transferable: row.transferable,
            resaleable: row.resaleable,
        });
    }
    Ok(tickets)
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: OrderId) -> Result<Order, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let order = repo::order(&mut conn, id, false).await?.ok_or(TicketingError::NotFound("order"))?;
    if order.buyer_id != principal.user_id.0 && !principal.has_role("admin") {
        return Err(TicketingError::NotFound("order").into());
    }
    load(&mut conn, &ctx.secrets, id).await
}

pub async fn mine(ctx: &AppContext, principal: &Principal) -> Result<Vec<Order>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let mut orders = Vec::new();
    for row in repo::orders_of(&mut conn, principal.user_id.0).await? {
        orders.push(load(&mut conn, &ctx.secrets, row.id).await?);
    }
    Ok(orders)
}

/// The caller's tickets, newest first, a page at a time.
pub async fn my_tickets(
    ctx: &AppContext,
    principal: &Principal,
    page: &PageParams,
) -> Result<Page<dto::Ticket>, ApiError> {
    authz::authorize(principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
    let limit = page.limit()?;
    let before: Option<Uuid> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::tickets_of_holder(&mut conn, principal.user_id.0, before, i64::from(limit) + 1).await?;
    let items = tickets_dto(&mut conn, &ctx.secrets, rows).await?;
    Ok(Page::from_overfetch(items, limit, |t| t.id.0))
}

/// A ticket: to its holder, or to the event's managers.
pub async fn ticket(ctx: &AppContext, principal: &Principal, id: TicketId) -> Result<Ticket, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::ticket(&mut conn, id).await?.ok_or(TicketingError::NotFound("ticket"))?;
    if row.holder_id != principal.user_id.0 {
        let event = crate::events::repo::event(&mut conn, row.event_id, false)
            .await?
            .ok_or(TicketingError::NotFound("ticket"))?;
        if !crate::events::service::standing(&mut conn, Some(principal), &event).await?.sees_everything() {
            return Err(TicketingError::NotFound("ticket").into());
        }
    }
    Ok(tickets_dto(&mut conn, &ctx.secrets, vec![row]).await?.remove(0))
}

/// Tickets sold for `/metrics`: still valid, and refunded since.
pub fn metrics_collector() -> platform::metrics::Collector {
    std::sync::Arc::new(|pool: sqlx::PgPool| {
        Box::pin(async move {
            let (valid, refunded) = super::repo::ticket_counts(&pool).await?;
            let help = "Tickets sold, by state: valid, or refunded since.";
            Ok(vec![
                platform::metrics::Sample::new("backline_tickets_sold", help, valid as f64).label("state", "valid"),
                platform::metrics::Sample::new("backline_tickets_sold", help, refunded as f64)
                    .label("state", "refunded"),
            ])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TierId;
    use crate::tiers::repo::TierRow;

    fn tier(id: TierId, available: i32) -> TierRow {
        TierRow { name: "Floor".into(), quantity: 100, sold: 100 - available, available, ..TierRow::new(id) }
    }

    fn ask(tier: TierId, quantity: i32) -> Vec<dto::OrderItemRequest> {
        vec![dto::OrderItemRequest { tier_id: tier, quantity }]
    }

    #[test]
    fn a_sold_out_tier_is_refused_from_memory_for_one_second_and_only_beyond_what_was_left() {
        let memory = SoldOutTiers::new(std::sync::Arc::new(platform::clock::SystemClock));
        let (event, other_event) = (EventId::new(), EventId::new());
        let (sold_out, one_left, unseen) = (TierId::new(), TierId::new(), TierId::new());
        let at = Utc::now();
        memory.note(event, &tier(sold_out, 0), at);
        memory.note(event, &tier(one_left, 1), at);

        let refused = memory.refusal(event, &ask(sold_out, 1), at).expect("sold out");
        assert_eq!(refused.code(), "sold_out");
        assert!(memory.refusal(event, &ask(sold_out, 1), at + chrono::Duration::milliseconds(999)).is_some());
        assert!(memory.refusal(event, &ask(sold_out, 1), at + SOLD_OUT_MEMORY).is_none(), "remembered one second");
        // One left: one may be asked (the database decides), two are refused.
        assert!(memory.refusal(event, &ask(one_left, 1), at).is_none());
        assert!(memory.refusal(event, &ask(one_left, 2), at).is_some());
        // Another event's order naming the tier, a tier never seen sold out, and a clock behind the note.
        assert!(memory.refusal(other_event, &ask(sold_out, 1), at).is_none());
        assert!(memory.refusal(event, &ask(unseen, 1), at).is_none());
        assert!(memory.refusal(event, &ask(sold_out, 1), at - chrono::Duration::milliseconds(1)).is_none());
        // In an order of several tiers, the sold-out one refuses it all.
        let mut both = ask(unseen, 1);
        both.extend(ask(sold_out, 1));
        assert!(memory.refusal(event, &both, at).is_some());
        // Old notes are dropped when a new one is made.
        memory.note(event, &tier(unseen, 0), at + SOLD_OUT_MEMORY);
        assert_eq!(memory.seen.lock().unwrap().len(), 1);
    }
}
