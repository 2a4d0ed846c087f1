//! Purchases paid at once from the wallet that arrive together, bought together: in an on-sale's
//! crowd, the purchases of one event waiting at the same moment on a node are one transaction (a
//! group commit), so that the database's cost (per statement and per transaction, hardly per row)
//! is shared. A batch of any size runs about a dozen statements: the buyers' locks (in key order),
//! the event, its tiers, the buyers' places and wallets, one audit insert, one ledger statement
//! writing one entry per order (so that a refund reverses one order alone), one write of every
//! order, item, ticket and code, one catch-up job for the chain, and the tiers' sold counts with the
//! commit.
//!
//! Each buyer is answered as if alone: what the shared reads show refuses that buyer only (a tier
//! with too few tickets left for them after the buyers before them in the batch, too little in the
//! wallet, a pass refused). What only the database can find out refuses the whole transaction,
//! which then leaves nothing: tickets that another batch (in another lane, or on another node) sold
//! meanwhile make the batch read again and try again, up to [`TRIES`] times; anything else (a wallet
//! spent elsewhere meanwhile, say) makes each purchase of the batch again alone, as
//! [`super::service::buy_now`] makes it. Requests that need what a batch does
//! not keep go alone from the start: one with an `Idempotency-Key` (its answer is stored with its own
//! transaction) or an attribution code (never batched by the handler), a tier with a per-buyer limit,
//! a buyer's second purchase in the same batch, and an event no longer on sale (whose answers depend
//! on who asks).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use identity::authz::{self, Target};
use ledger::model::{Currency, Owner, kinds};
use platform::batch::{Batcher, Work};
use platform::jobs::{self, NewJob};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{NewOrder, Order, OrderItemRequest};
use super::repo::{self, OrderItemRow};
use super::service::{self, Priced, Seller, SoldOutTiers};
use crate::error::{TicketingCode, TicketingError};
use crate::model::{EventId, OrderId, TierId};
use crate::state::EventStatus;
use crate::tiers::repo::TierRow;

/// Most purchases in one transaction.
pub const MOST: usize = 200;

/// Batches of purchases in flight at once on a node: while one waits for a round trip, another runs.
pub const LANES: usize = 4;

/// How often a batch is tried when the tickets it counted on were sold meanwhile (by a batch in
/// another lane or on another node), before its purchases are made alone.
const TRIES: u32 = 3;

/// A purchase paid at once from the wallet, waiting for its batch: made by [`Ask::new`], once the
/// caller may buy and the order's items are well formed.
#[derive(Debug, Clone)]
pub struct Ask {
    principal: Principal,
    event: EventId,
    req: NewOrder,
    /// The order's items, in tier id order.
    items: Vec<OrderItemRequest>,
    /// The request it was sent in (the audit entry names it).
    request_id: Option<String>,
}

impl Ask {
    /// The purchase `req` of `event` by `principal`, made in the current request; refused at once when
    /// the caller may not buy from a wallet or the items are malformed.
    pub fn new(principal: Principal, event: EventId, req: NewOrder) -> Result<Self, ApiError> {
        authz::authorize(&principal, "tickets.manage", Target::OwnedBy(principal.user_id))?;
        principal.require_verified()?;
        let items = service::ordered_items(&req)?;
        Ok(Self { principal, event, req, items, request_id: platform::http::current_request_id() })
    }
}

/// A node's purchases paid at once, bought together ([`Batcher`] of [`Together`]).
pub type Purchases = Batcher<Together>;

/// The node's batcher of purchases, using the node's memory of sold-out tiers.
pub fn purchases(ctx: &AppContext, sold_out: Arc<SoldOutTiers>) -> Purchases {
    Batcher::with_lanes(Together { ctx: ctx.clone(), sold_out }, MOST, LANES)
}

/// Buys a batch's purchases: see the module's documentation.
pub struct Together {
    ctx: AppContext,
    sold_out: Arc<SoldOutTiers>,
}

type Answer = (usize, Result<Order, ApiError>);

impl Work for Together {
    type Ask = Ask;
    type Answer = Order;

    async fn answer(&self, batch: &[Ask]) -> Result<Vec<Result<Order, ApiError>>, ApiError> {
        let mut events: BTreeMap<EventId, Vec<usize>> = BTreeMap::new();
        for (i, ask) in batch.iter().enumerate() {
            events.entry(ask.event).or_default().push(i);
        }
        let groups = events.into_values().map(|group| self.event(batch, group));
        let mut answers: Vec<Option<Result<Order, ApiError>>> = batch.iter().map(|_| None).collect();
        for (i, answer) in futures_util::future::join_all(groups).await.into_iter().flatten() {
            answers[i] = Some(answer);
        }
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(ApiError::internal(anyhow::anyhow!("a purchase was not answered")))))
            .collect())
    }
}

impl Together {
    /// The node's memory of sold-out tiers, which the batches note in and check.
    pub fn memory(&self) -> &SoldOutTiers {
        &self.sold_out
    }

    fn seller(&self) -> Seller<'_> {
        Seller { secrets: &self.ctx.secrets, sold_out: &self.sold_out }
    }

    /// The purchases of one event: together, then alone those that must be.
    async fn event(&self, batch: &[Ask], group: Vec<usize>) -> Vec<Answer> {
        let mut buyers = HashSet::new();
        let (together, mut alone): (Vec<usize>, Vec<usize>) =
            group.into_iter().partition(|i| buyers.insert(batch[*i].principal.user_id.0));
        let mut answers = Vec::new();
        let mut tries = 0;
        while together.len() > 1 {
            tries += 1;
            match self.together(batch, &together).await {
                Ok(done) => {
                    answers = done.answers;
                    alone.extend(done.alone);
                    break;
                }
                // Another batch (this node's, or another node's) sold some of the tickets this one
                // counted on: read again, and the buyers beyond what is left are told so.
                Err(refused) if refused.code() == "sold_out" && tries < TRIES => {}
                Err(refused) => {
                    tracing::info!(purchases = together.len(), error = %refused, "a batch of purchases was refused whole; each is made alone");
                    alone.extend(together.iter().copied());
                    break;
                }
            }
        }
        if together.len() == 1 {
            alone.extend(together);
        }
        // Alone, at once (a buyer's purchases queue on that buyer's lock, in the order they came).
        alone.sort_unstable();
        let alone =
            futures_util::future::join_all(alone.into_iter().map(|i| async move { (i, self.alone(&batch[i]).await) }));
        answers.extend(alone.await);
        answers
    }

    /// A purchase as [`service::buy_now`] makes it, in its own transaction.
    async fn alone(&self, ask: &Ask) -> Result<Order, ApiError> {
        platform::http::in_request(ask.request_id.clone(), async {
            let mut tx = self.ctx.db.begin().await?;
            if let Some(refused) = self.sold_out.refusal(ask.event, &ask.req.items, self.sold_out.now()) {
                return Err(refused);
            }
            let now = self.ctx.clock.now();
            let (order, sold) =
                service::buy_now(&mut tx, self.seller(), &ask.principal, ask.event, &ask.req, now).await?;
            platform::db::commit_with(tx, sold).await?;
            Ok(order)
        })
        .await
    }

    /// The purchases `group` of one event (two or more, by different buyers) in one transaction. An
    /// error refuses the transaction whole and nothing of it stays: the caller tries the batch again
    /// (tickets sold meanwhile) or makes each purchase alone (anything else).
    async fn together(&self, batch: &[Ask], group: &[usize]) -> Result<Done, ApiError> {
        let event = batch[group[0]].event;
        let mut tx = self.ctx.db.begin().await?;
        let now = self.ctx.clock.now();
        let mut done = Done::default();
        // Refused from memory once the batch has its connection (it may have waited for it).
        let mut live = Vec::new();
        for &i in group {
            let ask = &batch[i];
            if let Some(refused) = self.sold_out.refusal(event, &ask.req.items, self.sold_out.now()) {
                done.answers.push((i, Err(refused)));
            } else if ask.req.attribution.is_some() {
                done.alone.push(i);
            } else {
                live.push((i, &ask.items));
            }
        }
        if live.is_empty() {
            return Ok(done);
        }
        let buyers: Vec<Uuid> = live.iter().map(|(i, _)| batch[*i].principal.user_id.0).collect();
        repo::lock_buyers(&mut tx, event, &buyers).await?;
        let sale = repo::sale_event(&mut tx, event).await?;
        let Some(sale) = sale.filter(|s| s.status == EventStatus::Published && s.ends_at > now) else {
            // Not on sale: each is told what it may know (not found, to those who may not see it).
            done.alone.extend(live.into_iter().map(|(i, _)| i));
            return Ok(done);
        };
        let mut tier_ids: Vec<Uuid> = live.iter().flat_map(|(_, items)| items.iter().map(|i| i.tier_id.0)).collect();
        tier_ids.sort_unstable();
        tier_ids.dedup();
        let tiers = crate::tiers::repo::tiers_among(&mut tx, event, &tier_ids).await?;
        // A per-buyer limit is counted alone (under the buyer's lock, over every path).
        let limited: HashSet<TierId> = tiers.iter().filter(|t| t.max_per_buyer.is_some()).map(|t| t.id).collect();
        let (live, limits): (Vec<_>, Vec<_>) =
            live.into_iter().partition(|(_, items)| items.iter().all(|i| !limited.contains(&i.tier_id)));
        done.alone.extend(limits.into_iter().map(|(i, _)| i));
        let places = match sale.room {
            Some(_) => crate::rooms::repo::places(&mut tx, event, &buyers).await?,
            None => Vec::new(),
        };
        let mut wallets = HashMap::new();
        let mut currencies: Vec<&str> = tiers.iter().map(|t| t.currency.as_str()).collect();
        currencies.sort_unstable();
        currencies.dedup();
        for code in currencies {
            let currency = currency(code)?;
            let balances =
                ledger::accounts::service::balances_of_users(&mut tx, &buyers, kinds::AVAILABLE, &currency).await?;
            wallets.extend(balances.into_iter().map(|(buyer, balance)| ((buyer, code.to_owned()), balance)));
        }

        // Each buyer in the order they came, against what the buyers before them in the batch took.
        let pass = crate::rooms::service::PassCheck { event, public_key: &sale.signing_public_key, room: sale.room };
        let mut stock = Stock { left: tiers.iter().map(|t| (t.id, t.available)).collect(), noted: Vec::new() };
        let mut bought = Vec::new();
        for (i, items) in live {
            let ask = &batch[i];
            let buyer = ask.principal.user_id.0;
            let place = places.iter().find(|p| p.user_id == buyer);
            let sale = stock.take(&tiers, items).and_then(|()| {
                let spends_pass = pass.check(place, &ask.principal, ask.req.pass.as_deref(), now)?;
                let tier_of = |id| tiers.iter().find(|t| t.id == id).cloned();
                let priced = service::price(items, tier_of, &HashMap::new(), None, now)?;
                let wallet = wallets.get(&(buyer, priced.currency.clone())).copied().unwrap_or(0);
                if priced.amount > wallet {
                    return Err(ledger::error::LedgerError::InsufficientFunds.into());
                }
                Ok((spends_pass, priced))
            });
            match sale {
                Ok((spends_pass, priced)) => {
                    stock.commit(items);
                    if let Some(wallet) = wallets.get_mut(&(buyer, priced.currency.clone())) {
                        *wallet -= priced.amount;
                    }
                    bought.push(Bought { ask: i, order: OrderId::new(), spends_pass, priced, entry: None });
                }
                Err(refused) => done.answers.push((i, Err(refused))),
            }
        }
        if bought.is_empty() {
            tx.rollback().await?;
            stock.remember(&self.sold_out, event);
            return Ok(done);
        }

        record(&mut tx, batch, &bought, event, now).await?;
        pay(&mut tx, batch, &mut bought, event, now).await?;
        let written = write(&mut tx, batch, &bought, event, now).await?;
        if !sale.splits_frozen {
            // The event's first sale: its splits freeze.
            let row =
                crate::events::repo::event(&mut tx, event, false).await?.ok_or(TicketingError::NotFound("event"))?;
            crate::settlement::service::freeze(&mut tx, &row, now).await?;
        }
        // The chain learns of these tickets after the commit, in a batch with the others sold meanwhile.
        // Its job is one per event, so a batch enqueueing it waits for another batch that has just
        // enqueued it to commit: enqueued last, that is one round trip, not a whole batch.
        let catch_up =
            NewJob::new(crate::chain::service::CATCH_UP, json!({"event_id": event})).unique(format!("chain:{event}"));
        jobs::enqueue(&mut tx, catch_up, now).await?;
        let mut sold: BTreeMap<Uuid, i32> = BTreeMap::new();
        for b in &bought {
            for line in &b.priced.lines {
                *sold.entry(line.tier_id.0).or_default() += line.quantity;
            }
        }
        let (tiers_sold, quantities): (Vec<Uuid>, Vec<i32>) = sold.into_iter().unzip();
        let refused = ApiError::new(TicketingCode::SoldOut, "The tickets bought together outnumber those left.");
        let counts = repo::sold_counts(event, &tiers_sold, &quantities)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("purchases without tiers")))?
            .refused_by(repo::NO_OVERSELL, refused);
        platform::db::commit_with(tx, counts).await?;
        stock.remember(&self.sold_out, event);

        let key = crate::events::service::open_signing_key(&self.ctx.secrets, &sale.signing_key_sealed)?;
        for (b, tickets) in bought.iter().zip(&written) {
            let buyer = batch[b.ask].principal.user_id.0;
            let order = service::paid_order(&key, event, b.order, buyer, &b.priced, tickets, &tiers, now);
            done.answers.push((b.ask, Ok(order)));
        }
        Ok(done)
    }
}

/// What a batch answered, and which of its purchases are to be made alone.
#[derive(Default)]
struct Done {
    answers: Vec<Answer>,
    alone: Vec<usize>,
}

/// A purchase of the batch that its checks let through.
struct Bought {
    ask: usize,
    order: OrderId,
    spends_pass: bool,
    priced: Priced,
    /// The ledger's entry, once paid (none for a free order).
    entry: Option<Uuid>,
}

fn currency(code: &str) -> Result<Currency, ApiError> {
    Currency::parse(code).ok_or_else(|| ApiError::internal(anyhow::anyhow!("a tier's currency {code}")))
}

/// The tickets left of each tier as the batch's buyers take them, and the tiers found with fewer
/// left than a buyer asked (remembered by the node once the batch has committed).
struct Stock {
    left: HashMap<TierId, i32>,
    noted: Vec<TierRow>,
}

impl Stock {
    /// Whether every item's tier has that many left; a tier that has not refuses the purchase
    /// `sold_out`, saying how many are left.
    fn take(&mut self, tiers: &[TierRow], items: &[OrderItemRequest]) -> Result<(), ApiError> {
        for item in items {
            let (Some(tier), Some(left)) = (tiers.iter().find(|t| t.id == item.tier_id), self.left.get(&item.tier_id))
            else {
                continue; // not a tier of the event: the pricing names the field
            };
            if item.quantity > 0 && *left < item.quantity {
                let seen = TierRow { available: *left, ..tier.clone() };
                self.noted.push(seen);
                return Err(TicketingError::SoldOut { tier: tier.name.clone(), left: i64::from((*left).max(0)) }.into());
            }
        }
        Ok(())
    }

    /// Takes the items' tickets (after [`Stock::take`] let them through).
    fn commit(&mut self, items: &[OrderItemRequest]) {
        for item in items {
            if let Some(left) = self.left.get_mut(&item.tier_id) {
                *left -= item.quantity;
            }
        }
    }

    /// Notes the tiers found sold out in the node's memory.
    fn remember(&self, memory: &SoldOutTiers, event: EventId) {
        for tier in &self.noted {
            memory.note(event, tier, memory.now());
        }
    }
}

/// One audit entry per order, in one statement, each naming its request.
async fn record(
    conn: &mut PgConnection,
    batch: &[Ask],
    bought: &[Bought],
    event: EventId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let entries = bought
        .iter()
        .map(|b| {
            let ask = &batch[b.ask];
            let items: Vec<_> =
                b.priced.lines.iter().map(|l| json!({"tier": l.tier_id, "quantity": l.quantity})).collect();
            platform::audit::Entry::new(ask.principal.actor(), "order.buy", "order", b.order.0)
                .after(json!({"event": event, "amount": b.priced.amount, "source": "wallet", "items": items}))
                .in_request(ask.request_id.clone())
        })
        .collect();
    platform::audit::record_all(conn, entries, now).await?;
    Ok(())
}

/// The money of every order that costs any, from the buyer's wallet to the event's escrow: one entry
/// per order, in one statement.
async fn pay(
    conn: &mut PgConnection,
    batch: &[Ask],
    bought: &mut [Bought],
    event: EventId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let paying: Vec<usize> = (0..bought.len()).filter(|n| bought[*n].priced.amount > 0).collect();
    let currencies = paying.iter().map(|n| currency(&bought[*n].priced.currency)).collect::<Result<Vec<_>, _>>()?;
    let movements: Vec<_> = paying
        .iter()
        .zip(&currencies)
        .map(|(n, currency)| {
            let b = &bought[*n];
            ledger::accounts::service::Movement {
                from: (Owner::User(batch[b.ask].principal.user_id.0), kinds::AVAILABLE),
                to: (Owner::Event(event.0), kinds::ESCROW),
                currency,
                amount: b.priced.amount,
                kind: crate::entry_kinds::SALE,
                memo: format!("order {}", b.order),
            }
        })
        .collect();
    let entries = ledger::accounts::service::transfers_between(conn, &movements, now).await.map_err(ApiError::from)?;
    for (n, entry) in paying.into_iter().zip(entries) {
        bought[n].entry = Some(entry.0);
    }
    Ok(())
}

/// A ticket written: its id, its order's line, its code (as [`service::new_tickets`] makes them).
type Written<'a> = (crate::model::TicketId, &'a OrderItemRow, String);

/// Every order, item, ticket and code of the batch, and the passes spent, in one statement. Answers
/// each order's tickets. A pass found spent meanwhile refuses the batch (each is then made alone).
async fn write<'a>(
    conn: &mut PgConnection,
    batch: &[Ask],
    bought: &'a [Bought],
    event: EventId,
    now: DateTime<Utc>,
) -> Result<Vec<Vec<Written<'a>>>, ApiError> {
    let mut p = repo::Purchases::default();
    let mut written = Vec::with_capacity(bought.len());
    for b in bought {
        let buyer = batch[b.ask].principal.user_id.0;
        p.orders.push(b.order.0);
        p.buyers.push(buyer);
        p.amounts.push(b.priced.amount);
        p.currencies.push(b.priced.currency.clone());
        p.entries.push(b.entry);
        for line in &b.priced.lines {
            p.item_orders.push(b.order.0);
            p.item_tiers.push(line.tier_id.0);
            p.item_quantities.push(line.quantity);
            p.item_prices.push(line.unit_price);
        }
        let tickets = service::new_tickets(&b.priced.lines);
        for (id, line, code) in &tickets {
            p.tickets.push(id.0);
            p.ticket_orders.push(b.order.0);
            p.ticket_tiers.push(line.tier_id.0);
            p.ticket_prices.push(line.unit_price);
            p.ticket_holders.push(buyer);
            p.codes.push(code.clone());
        }
        if b.spends_pass {
            p.pass_buyers.push(buyer);
            p.pass_orders.push(b.order.0);
        }
        written.push(tickets);
    }
    let spent = repo::write_purchases(conn, event, &p, now).await?;
    if spent != i64::try_from(p.pass_buyers.len()).unwrap_or(i64::MAX) {
        return Err(ApiError::new(TicketingCode::PassUsed, "A pass of the batch was spent meanwhile."));
    }
    Ok(written)
}
