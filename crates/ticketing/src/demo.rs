//! Ticketing's demo data: categories, published events with several tiers (and a draft), tickets sold
//! through the real order and payment paths, some checked in, one transferred and one resold.

use chrono::Duration;
use identity::auth::Principal;
use identity::model::UserId;
use platform::demo::{Dataset, DemoEnv, LoadFuture};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::chain::{self, Action};
use crate::events::repo::EventRow;
use crate::model::{CategoryId, EventId, TierId};
use crate::orders::dto::{NewOrder, OrderItemRequest, PayOrder};
use crate::state::{EventStatus, TransferState};
use crate::tiers::repo::TierRow;
use crate::{TicketingSettings, signing};

pub fn dataset() -> Dataset {
    Dataset { name: "ticketing", version: 1, load }
}

async fn user(conn: &mut PgConnection, username: &str) -> anyhow::Result<Uuid> {
    identity::service::user_id_by_username(conn, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo user {username} is missing"))
}

async fn org(conn: &mut PgConnection, slug: &str) -> anyhow::Result<Uuid> {
    identity::service::org_id_by_slug(conn, slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo organization {slug} is missing"))
}

fn principal(id: Uuid) -> Principal {
    Principal {
        user_id: UserId(id),
        session_id: None,
        api_key_id: None,
        roles: Vec::new(),
        api_key_scopes: None,
        email_verified: true,
        client_ip: None,
    }
}

fn problem(err: &platform::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{err:?}")
}

fn tier(name: &str, price: i64, quantity: i32, position: i32) -> TierRow {
    TierRow {
        id: TierId::new(),
        name: name.into(),
        description: String::new(),
        price,
        currency: "EUR".into(),
        quantity,
        sold: 0,
        held: 0,
        available: quantity,
        sales_start: None,
        sales_end: None,
        min_per_order: 1,
        max_per_order: 10,
        max_per_buyer: None,
        visibility: crate::state::Visibility::Public,
        transferable: true,
        resaleable: true,
        refundable: true,
        position,
    }
}

/// (title, organizer user, organizer org, days ahead, venue, city, category, tags, status)
struct Spec {
    title: &'static str,
    description: &'static str,
    user: Option<&'static str>,
    org: Option<&'static str>,
    days: i64,
    venue: &'static str,
    city: &'static str,
    category: &'static str,
    tags: &'static [&'static str],
    status: EventStatus,
    tiers: Vec<TierRow>,
}

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let mut categories = std::collections::HashMap::new();
        for (slug, name, parent, icon, color, position) in [
            ("music", "Music", None, "music", "#7c3aed", 0),
            ("electronic", "Electronic", Some("music"), "waveform", "#2563eb", 0),
            ("jazz", "Jazz", Some("music"), "saxophone", "#d97706", 1),
            ("comedy", "Comedy", None, "smile", "#db2777", 1),
        ] {
            let category = crate::events::repo::CategoryRow {
                id: CategoryId::new(),
                parent_id: parent.map(|p: &str| categories[p]),
                slug: slug.into(),
                name: name.into(),
                icon: icon.into(),
                color: color.into(),
                position,
            };
            crate::events::repo::insert_category(conn, &category, now).await?;
            categories.insert(slug, category.id);
        }
        let mut vip = tier("VIP", 6_000, 20, 2);
        vip.transferable = false;
        vip.resaleable = false;
        let specs = vec![
            Spec {
                title: "Nova Rae: Midnight Tour",
                description: "Nova Rae and band play the new record, with support from Lumen Jazz.",
                user: None,
                org: Some("pete-presents"),
                days: 20,
                venue: "The Velvet Room",
                city: "Berlin",
                category: "electronic",
                tags: &["live", "electronic", "drum & bass"],
                status: EventStatus::Published,
                tiers: vec![tier("Early bird", 1_500, 100, 0), tier("General admission", 2_500, 300, 1), vip],
            },
            Spec {
                title: "Lumen Jazz Brunch",
                description: "Sunday brunch with the Lumen Jazz trio.",
                user: Some("olga_events"),
                org: None,
                days: 40,
                venue: "Cafe Lumen",
                city: "Hamburg",
                category: "jazz",
                tags: &["jazz", "brunch"],
                status: EventStatus::Published,
                tiers: vec![tier("Brunch and show", 3_500, 40, 0), tier("Standing (free)", 0, 50, 1)],
            },
            Spec {
                title: "Comedy night (draft)",
                description: "Still being planned.",
                user: Some("promo_pete"),
                org: None,
                days: 60,
                venue: "Pete's Basement",
                city: "Berlin",
                category: "comedy",
                tags: &["comedy"],
                status: EventStatus::Draft,
                tiers: vec![tier("Seat", 1_200, 80, 0)],
            },
        ];
        let mut events = Vec::new();
        for spec in specs {
            let creator = user(conn, spec.user.unwrap_or("promo_pete")).await?;
            let (secret, public) = signing::new_key();
            let starts_at = now + Duration::days(spec.days);
            let row = EventRow {
                id: EventId::new(),
                organizer_user_id: spec.user.map(|_| creator),
                organizer_org_id: match spec.org {
                    Some(slug) => Some(org(conn, slug).await?),
                    None => None,
                },
                created_by: creator,
                title: spec.title.into(),
                description: spec.description.into(),
                starts_at,
                ends_at: starts_at + Duration::hours(4),
                timezone: "Europe/Berlin".into(),
                capacity: Some(spec.tiers.iter().map(|t| t.quantity).sum()),
                venue_name: Some(spec.venue.into()),
                address: None,
                city: Some(spec.city.into()),
                country: Some("DE".into()),
                cover_url: None,
                category_id: Some(categories[spec.category]),
                status: spec.status,
                resale_cap_bps: 11_000,
                signing_key_sealed: env.secrets.seal(&secret),
                signing_public_key: public.to_vec(),
                published_at: (spec.status == EventStatus::Published).then_some(now),
                created_at: now,
                updated_at: now,
                deleted_at: None,
            };
            crate::events::repo::insert_event(conn, &row).await?;
            crate::events::repo::set_tags(conn, row.id, &spec.tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>())
                .await?;
            let mut tiers = Vec::new();
            for t in &spec.tiers {
                tiers.push(crate::tiers::repo::upsert_tier(conn, row.id, t, now).await?);
            }
            events.push((row, tiers));
        }
        let settings = TicketingSettings::default();
        let ledger_settings = ledger::LedgerSettings::default();
        let memory = crate::orders::service::SoldOutTiers::new(std::sync::Arc::new(platform::clock::SystemClock));
        let wallet =
            PayOrder { source: Some("wallet".into()), provider: None, card_number: None, payment_method: None };
        let buy =
            async |conn: &mut PgConnection, buyer: Uuid, event: usize, tier: usize, quantity: i32, pay: &PayOrder| {
                let (row, tiers) = &events[event];
                let req = NewOrder {
                    items: vec![OrderItemRequest { tier_id: tiers[tier].id, quantity }],
                    attribution: None,
                    pass: None,
                    pay: None,
                };
                let who = principal(buyer);
                let order = crate::orders::service::reserve(
                    conn,
                    crate::orders::service::Seller { secrets: &env.secrets, sold_out: &memory },
                    &settings,
                    &who,
                    row.id,
                    &req,
                    now,
                )
                .await
                .map_err(|e| problem(&e))?;
                if order.state == "paid" {
                    return Ok::<_, anyhow::Error>(order);
                }
                let payment =
                    crate::orders::service::Payment { order: order.id, body: pay, retry_key: None, charged: None };
                let shop = crate::orders::service::Shop { secrets: &env.secrets, pool: None, ledger: &ledger_settings };
                crate::orders::service::pay(conn, &shop, &who, payment, now).await.map_err(|e| problem(&e))
            };
        let felix = user(conn, "fan_felix").await?;
        let cara = user(conn, "cara_creates").await?;
        let sunny = user(conn, "sunny_sponsor").await?;
        let nova = user(conn, "nova").await?;
        // Cara and Sunny topped up their wallets (by card, in the ledger's demo style); everyone pays from
        // the wallet here, as card charges commit through the server's pool.
        for name in ["cara_creates", "sunny_sponsor"] {
            let owner = ledger::model::Owner::User(user(conn, name).await?);
            let eur = ledger::model::Currency::parse("EUR").ok_or_else(|| anyhow::anyhow!("EUR"))?;
            let clearing = ledger::service::account(
                conn,
                ledger::model::Owner::Platform,
                ledger::model::kinds::CLEARING,
                &eur,
                now,
            )
            .await?;
            let wallet = ledger::service::account(conn, owner, ledger::model::kinds::AVAILABLE, &eur, now).await?;
            ledger::service::transfer(
                conn,
                clearing.id,
                wallet.id,
                10_000,
                "payment.captured",
                "demo: wallet top-up",
                now,
            )
            .await?;
        }
        // Felix pays two general admission tickets; Cara an early bird.
        let felix_order = buy(conn, felix, 0, 1, 2, &wallet).await?;
        buy(conn, cara, 0, 0, 1, &wallet).await?;
        // Free standing tickets for the brunch; Cara's is checked in at the door.
        let cara_free = buy(conn, cara, 1, 1, 1, &wallet).await?;
        buy(conn, sunny, 1, 1, 2, &wallet).await?;
        let brunch = &events[1].0;
        let olga = user(conn, "olga_events").await?;
        crate::checkin::service::scan_one(conn, brunch, olga, &cara_free.tickets[0].code, now)
            .await
            .map_err(|e| problem(&e))?;
        // Felix gave one of his tickets to Sunny (accepted: a new code), and Sunny resold it to Nova.
        let given = &felix_order.tickets[1];
        let code = signing::new_code();
        let transfer = crate::aftersale::repo::NewTransfer {
            id: platform::ids::new_id(),
            ticket: given.id,
            from_user: felix,
            to_user: Some(sunny),
            to_email: "sunny_sponsor@example.com",
            now,
        };
        crate::aftersale::repo::insert_transfer(conn, &transfer).await?;
        crate::aftersale::repo::decide_transfer(conn, transfer.id, TransferState::Accepted, None, now).await?;
        crate::aftersale::repo::reissue(conn, given.id, sunny, &code, "transferred", now).await?;
        let data = json!({"from": felix, "to": sunny, "code_sha256": chain::code_hash(&code)});
        chain::append(conn, given.event_id, given.id, Action::Transfer, data, now).await?;
        let listing = crate::aftersale::repo::NewListing {
            id: platform::ids::new_id(),
            ticket: given.id,
            event: given.event_id,
            seller: sunny,
            price: 2750,
            currency: "EUR",
            now,
        };
        crate::aftersale::repo::insert_listing(conn, &listing).await?;
        let listing = listing.id;
        let purchase = crate::aftersale::service::Purchase { listing, how: &wallet, retry_key: None, charged: None };
        let shop = crate::orders::service::Shop { secrets: &env.secrets, pool: None, ledger: &ledger_settings };
        crate::aftersale::service::buy(conn, &shop, &settings, &principal(nova), purchase, now)
            .await
            .map_err(|e| problem(&e))?;
        Ok(())
    })
}
