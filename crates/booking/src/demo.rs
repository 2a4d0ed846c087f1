//! Booking's demo data: artists (a solo artist and a band), a venue, two promoters, and a booking in
//! every status. Agreements use the same commission rules and contract texts as the API; the money of
//! the paid ones moves through the ledger.

use chrono::{DateTime, Duration, Utc};
use ledger::model::{Currency, Owner as LedgerOwner, kinds};
use platform::demo::{Dataset, DemoEnv, LoadFuture};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::bookings::dto::{Agreement, Proposal};
use crate::bookings::repo::{BookingRow, ProposalRow};
use crate::commission::{self, TrustTier};
use crate::contract::{self, Document};
use crate::model::{ArtistId, BookingId, PromoterId, VenueId};
use crate::profiles::repo::{ArtistRow, PromoterRow, VenueRow};
use crate::state::{Actor, BookingStatus, Origin, Side};

pub fn dataset() -> Dataset {
    Dataset { name: "booking", version: 1, load }
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

fn artist(
    owner: Uuid,
    name: &str,
    genres: &[&str],
    city: (&str, f64, f64),
    price: (i64, i64),
    category: &str,
    now: DateTime<Utc>,
) -> ArtistRow {
    ArtistRow {
        id: ArtistId::new(),
        user_id: Some(owner),
        org_id: None,
        stage_name: name.into(),
        bio: format!("{name}: demo artist profile."),
        genres: genres.iter().map(|g| (*g).to_owned()).collect(),
        city: Some(city.0.into()),
        country: Some("DE".into()),
        latitude: Some(city.1),
        longitude: Some(city.2),
        price_min: Some(price.0),
        price_max: Some(price.1),
        currency: "EUR".into(),
        social_links: json!({"instagram": format!("https://instagram.com/{}", name.to_lowercase().replace(' ', ""))}),
        media: json!([]),
        category: category.into(),
        category_locked: false,
        custom_policy: None,
        created_at: now,
        updated_at: now,
    }
}

/// (artist, promoter, status, days ahead, fee)
type Plan = (usize, usize, BookingStatus, i64, i64);

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let eur = Currency::parse("EUR").ok_or_else(|| anyhow::anyhow!("EUR"))?;
        let nova = user(conn, "nova").await?;
        let manager = user(conn, "midnight_manager").await?;
        let olga = user(conn, "olga_events").await?;
        let artists = [
            artist(
                nova,
                "Nova Rae",
                &["electronic", "soul"],
                ("Berlin", 52.52, 13.405),
                (30_000, 90_000),
                "budding",
                now,
            ),
            artist(
                manager,
                "The Midnight Quartet",
                &["jazz"],
                ("Hamburg", 53.551, 9.993),
                (150_000, 400_000),
                "mid_scale",
                now,
            ),
        ];
        for a in &artists {
            crate::profiles::repo::save_artist(conn, a).await?;
        }
        let venue = VenueRow {
            id: VenueId::new(),
            user_id: None,
            org_id: Some(org(conn, "velvet-room").await?),
            name: "The Velvet Room".into(),
            address: "Köpenicker Str. 70".into(),
            city: "Berlin".into(),
            country: "DE".into(),
            latitude: Some(52.51),
            longitude: Some(13.42),
            capacity: 400,
            amenities: vec!["pa".into(), "backstage".into(), "bar".into()],
        };
        crate::profiles::repo::save_venue(conn, &venue, now).await?;
        let promoters = [
            PromoterRow {
                id: PromoterId::new(),
                user_id: None,
                org_id: Some(org(conn, "pete-presents").await?),
                name: "Pete Presents".into(),
                contact_name: "Pete Promoter".into(),
                contact_email: "promo_pete@demo.backline.test".into(),
                verified: true,
                trust_score: 85,
            },
            PromoterRow {
                id: PromoterId::new(),
                user_id: Some(olga),
                org_id: None,
                name: "Olga Events".into(),
                contact_name: "Olga Organizer".into(),
                contact_email: "olga_events@demo.backline.test".into(),
                verified: false,
                trust_score: 50,
            },
        ];
        for p in &promoters {
            crate::profiles::repo::save_promoter(conn, p, now).await?;
        }
        // The promoters have money for deposits and balances.
        let clearing = ledger::service::account(conn, LedgerOwner::Platform, kinds::CLEARING, &eur, now).await?;
        for p in &promoters {
            let wallet =
                ledger::service::account(conn, ledger::model::Owner::from(p.owner()), kinds::AVAILABLE, &eur, now)
                    .await?;
            ledger::service::transfer(
                conn,
                clearing.id,
                wallet.id,
                2_000_000,
                "payment.captured",
                "demo: promoter top-up",
                now,
            )
            .await?;
        }
        let plans: [Plan; 11] = [
            (0, 1, BookingStatus::Inquiry, 40, 0),
            (0, 0, BookingStatus::Offered, 45, 60_000),
            (1, 0, BookingStatus::Negotiating, 50, 200_000),
            (1, 1, BookingStatus::Contracting, 55, 180_000),
            (0, 0, BookingStatus::Confirmed, 60, 70_000),
            (0, 1, BookingStatus::PaidDeposit, 30, 80_000),
            (1, 0, BookingStatus::Scheduled, 3, 250_000),
            (0, 0, BookingStatus::Completed, -10, 75_000),
            (1, 1, BookingStatus::Cancelled, 70, 160_000),
            (0, 1, BookingStatus::Disputed, -1, 65_000),
            (1, 0, BookingStatus::Refunded, -20, 220_000),
        ];
        for (a, p, status, days, fee) in plans {
            let (a, p) = (&artists[a], &promoters[p]);
            let starts_at = now + Duration::days(days) + Duration::hours(20);
            let ends_at = starts_at + Duration::hours(2);
            let id = BookingId::new();
            let mut row = BookingRow {
                id,
                artist_id: a.id,
                promoter_id: p.id,
                venue_id: Some(venue.id),
                event_id: None,
                status,
                origin: if status == BookingStatus::Inquiry { Origin::Application } else { Origin::Offer },
                starts_at,
                ends_at,
                step: 0,
                turn: None,
                deadline_at: None,
                message: String::new(),
                agreed: None,
                cancelled_by: None,
                cancel_reason: None,
                created_by: p.user_id.unwrap_or(olga),
                created_at: now,
                updated_at: now,
            };
            if status.negotiating() {
                row.turn = Some(if status == BookingStatus::Negotiating || status == BookingStatus::Inquiry {
                    Side::Organizer
                } else {
                    Side::Artist
                });
                row.deadline_at = Some(now + Duration::hours(72));
            }
            crate::bookings::repo::insert_booking(conn, &row).await?;
            let proposal = |step: i32, side: Side, fee: i64| ProposalRow {
                step,
                side,
                fee,
                currency: "EUR".into(),
                deposit_bps: 3_000,
                starts_at,
                ends_at,
                deal_type: "flat".into(),
                door_bps: 0,
                rider: json!({"technical": "2 DI boxes", "hospitality": "dinner for the band"}),
                message: String::new(),
                created_at: now,
            };
            let mut last = None;
            if status != BookingStatus::Inquiry {
                let first = proposal(1, Side::Organizer, fee);
                crate::bookings::repo::insert_proposal(conn, id, &first, row.created_by).await?;
                last = Some(first);
                row.step = 1;
                if status == BookingStatus::Negotiating {
                    let counter = proposal(2, Side::Artist, fee + 20_000);
                    crate::bookings::repo::insert_proposal(conn, id, &counter, a.user_id.unwrap_or(nova)).await?;
                    last = Some(counter);
                    row.step = 2;
                }
            }
            if !status.negotiating() {
                let terms = last.clone().ok_or_else(|| anyhow::anyhow!("an agreed booking needs a proposal"))?;
                let policy = commission::policy(&a.category).ok_or_else(|| anyhow::anyhow!("policy"))?;
                let figures = commission::figures(terms.fee, policy, TrustTier::of(p.trust_score));
                let agreement = Agreement {
                    terms: Proposal::from(terms.clone()),
                    category: a.category.clone(),
                    figures,
                    agreed_at: now,
                };
                row.agreed = Some(serde_json::to_value(&agreement)?);
                let doc = Document {
                    booking_id: id.0,
                    version: 1,
                    organizer: p.name.clone(),
                    artist: a.stage_name.clone(),
                    starts_at,
                    ends_at,
                    venue: Some("The Velvet Room, Berlin".into()),
                    schedule: contract::schedule(&figures, 3_000, starts_at),
                    terms: terms.into(),
                    category: a.category.clone(),
                    figures,
                    clauses: Vec::new(),
                    annexes: Vec::new(),
                };
                let text = contract::text(&doc);
                let hash = contract::sha256(&text);
                let version = crate::contracts::repo::NewVersion {
                    booking: id,
                    version: 1,
                    document: serde_json::to_value(&doc)?,
                    text: &text,
                    sha256: hash.as_slice(),
                    edited_by: None,
                    now,
                };
                crate::contracts::repo::insert_version(conn, &version, now + Duration::hours(48)).await?;
                let signed = !matches!(status, BookingStatus::Contracting);
                for side in [Side::Organizer, Side::Artist].into_iter().take(if signed { 2 } else { 1 }) {
                    let signature = crate::contracts::repo::SignatureRow {
                        version: 1,
                        side,
                        user_id: if side == Side::Organizer { row.created_by } else { a.user_id.unwrap_or(nova) },
                        sha256: hash.to_vec(),
                        ip: Some("127.0.0.1".into()),
                        user_agent: Some("demo".into()),
                        signed_at: now,
                    };
                    crate::contracts::repo::insert_signature(conn, id, &signature).await?;
                }
                // Money for the statuses past confirmation, through the ledger like the API.
                let (deposit, balance) = crate::money::service::amounts(&agreement);
                let paid = match status {
                    BookingStatus::PaidDeposit | BookingStatus::Disputed => {
                        deposit + if status == BookingStatus::Disputed { balance } else { 0 }
                    }
                    BookingStatus::Scheduled | BookingStatus::Completed | BookingStatus::Refunded => deposit + balance,
                    _ => 0,
                };
                if paid > 0 {
                    let wallet = ledger::service::account(
                        conn,
                        ledger::model::Owner::from(p.owner()),
                        kinds::AVAILABLE,
                        &eur,
                        now,
                    )
                    .await?;
                    let escrow =
                        ledger::service::account(conn, LedgerOwner::Booking(id.0), kinds::ESCROW, &eur, now).await?;
                    ledger::service::transfer(conn, wallet.id, escrow.id, paid, "booking.deposit", "demo", now).await?;
                    match status {
                        BookingStatus::Completed => {
                            ledger::earnings::credit(
                                conn,
                                ledger::model::Owner::from(a.owner()),
                                &eur,
                                figures.artist_receives,
                                escrow.id,
                                "gig_fee",
                                now,
                            )
                            .await?;
                            let revenue =
                                ledger::service::account(conn, LedgerOwner::Platform, kinds::REVENUE, &eur, now)
                                    .await?;
                            ledger::service::transfer(
                                conn,
                                escrow.id,
                                revenue.id,
                                paid - figures.artist_receives,
                                "booking.commission",
                                "demo",
                                now,
                            )
                            .await?;
                        }
                        BookingStatus::Refunded => {
                            ledger::service::transfer(
                                conn,
                                escrow.id,
                                wallet.id,
                                paid,
                                "booking.refund",
                                "demo: dispute refunded",
                                now,
                            )
                            .await?;
                        }
                        _ => {}
                    }
                    crate::money::repo::deposit_paid(conn, id, now).await?;
                    if paid > deposit {
                        crate::money::repo::balance_paid(conn, id, now).await?;
                    }
                }
                match status {
                    BookingStatus::Cancelled => {
                        row.cancelled_by = Some(Actor::Organizer);
                        row.cancel_reason = Some("demo: the festival moved".into());
                    }
                    BookingStatus::Disputed | BookingStatus::Refunded => {
                        crate::money::repo::mark_disputed(conn, id, "demo: the set was cut short", Side::Organizer)
                            .await?;
                    }
                    _ => {}
                }
            }
            // The statuses that hold the date are written last, one booking at a time (no overlaps here).
            crate::bookings::repo::update_booking(conn, &row).await?;
        }
        Ok(())
    })
}
