//! Data-volume benchmark: the main reads on the demo data, then a year of a busy platform loaded with
//! `COPY` (1,000,000 users, 100,000 artist profiles, 200,000 events, 5,000,000 tickets with their codes, 20,000,000 ledger
//! postings, 10,000,000 jobs done, 2,000,000 audit rows, 500,000 bookings), then the same reads again,
//! side by side, with each read's query plans (from PostgreSQL's `auto_explain`) and the database's size.
//! Goal: every read's p99 within 2× of its small-data p99 (each p99 the median of three 5-second phases' p99s),
//! and no sequential scan of a large table.
//!
//! Run with `cargo bench -p backline --bench volume` (about 15 minutes and 12 GB of disk on 2 cores);
//! `BACKLINE_BENCH_VOLUME_SCALE=0.1` loads a tenth; `BACKLINE_BENCH_VOLUME_KEEP=1` keeps the cluster and
//! the service up after the report, until interrupted. Results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use platform::AppContext;
use platform::embedded::{EmbeddedConfig, EmbeddedPostgres};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnection, PgPoolOptions};
use support::{Client, Latencies, Work, api_key, load, ms, serve};
use uuid::Uuid;

const CONNECTIONS: usize = 1;
const PHASE: Duration = Duration::from_secs(5);
/// Each read is measured in this many phases; its p99 is the median of the phases' p99s, so that one
/// phase disturbed by the machine (a p99 is the slowest 1% of 5 s) neither fails nor passes a read alone.
const PHASES: usize = 3;
/// Tables that are large after the load: a sequential scan of one of them in a read is a defect.
const LARGE: &[&str] = &[
    "users",
    "user_roles",
    "artist_profiles",
    "events",
    "ticket_tiers",
    "orders",
    "order_items",
    "tickets",
    "ticket_codes",
    "ledger_accounts",
    "journal_entries",
    "postings",
    "jobs",
    "audit_log",
    "bookings",
];

/// How many rows of each kind a year of the busy platform has.
#[derive(Clone, Copy)]
struct Year {
    users: u64,
    artists: u64,
    promoters: u64,
    events: u64,
    orders: u64,
    entries: u64,
    jobs: u64,
    audit: u64,
    bookings: u64,
}

impl Year {
    fn scaled(scale: f64) -> Self {
        let n = |full: f64| ((full * scale).round() as u64).max(10);
        Self {
            users: n(1_000_000.0),
            artists: n(100_000.0),
            promoters: n(10_000.0),
            events: n(200_000.0),
            orders: n(2_500_000.0),
            entries: n(10_000_000.0),
            jobs: n(10_000_000.0),
            audit: n(2_000_000.0),
            bookings: n(500_000.0),
        }
    }
}

/// Table tags inside generated ids.
mod tag {
    pub const USER: u16 = 1;
    pub const ARTIST: u16 = 2;
    pub const PROMOTER: u16 = 3;
    pub const EVENT: u16 = 4;
    pub const TIER: u16 = 5;
    pub const ORDER: u16 = 6;
    pub const TICKET: u16 = 7;
    pub const ACCOUNT: u16 = 8;
    pub const ENTRY: u16 = 9;
    pub const JOB: u16 = 10;
    pub const AUDIT: u16 = 11;
    pub const BOOKING: u16 = 12;
}

/// A version-7 UUID for row `i` of a table, made at `at`: ids of one table follow time, as the service's
/// own `now_v7` ids do, and any table can compute the id of a row it references.
fn id(table: u16, i: u64, at: DateTime<Utc>) -> Uuid {
    let ms = at.timestamp_millis() as u128 & ((1 << 48) - 1);
    let rand_a = u128::from(table & 0x0fff);
    let rand_b = u128::from(i) & ((1 << 62) - 1);
    Uuid::from_u128((ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)
}

/// Spreads row `i` of `n` evenly over the year before `now`.
fn over_year(now: DateTime<Utc>, i: u64, n: u64) -> DateTime<Utc> {
    now - chrono::Duration::days(365)
        + chrono::Duration::milliseconds((i as f64 / n as f64 * 365.0 * 86_400_000.0) as i64)
}

/// A cheap deterministic spread of `i` over `0..n`.
fn spread(i: u64, n: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) % n
}

/// A city and a genre for row `i`, drawn independently: drawing both from `spread(i, n)` made every
/// row of a city share one genre (any `i` with `spread(i, 20) == 0` has `spread(i, 10) == 0`).
fn city_and_genre(i: u64) -> (usize, usize) {
    let (cities, genres) = (CITIES.len() as u64, GENRES.len() as u64);
    let draw = spread(i, cities * genres);
    ((draw % cities) as usize, (draw / cities) as usize)
}

const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Berlin", "DE", 52.52, 13.40),
    ("Hamburg", "DE", 53.55, 9.99),
    ("Munich", "DE", 48.14, 11.58),
    ("Cologne", "DE", 50.94, 6.96),
    ("Vienna", "AT", 48.21, 16.37),
    ("Zurich", "CH", 47.37, 8.54),
    ("Paris", "FR", 48.86, 2.35),
    ("Lyon", "FR", 45.76, 4.84),
    ("Amsterdam", "NL", 52.37, 4.90),
    ("Brussels", "BE", 50.85, 4.35),
    ("London", "GB", 51.51, -0.13),
    ("Manchester", "GB", 53.48, -2.24),
    ("Madrid", "ES", 40.42, -3.70),
    ("Barcelona", "ES", 41.39, 2.17),
    ("Lisbon", "PT", 38.72, -9.14),
    ("Milan", "IT", 45.46, 9.19),
    ("Rome", "IT", 41.90, 12.50),
    ("Copenhagen", "DK", 55.68, 12.57),
    ("Stockholm", "SE", 59.33, 18.07),
    ("Warsaw", "PL", 52.23, 21.01),
];
const GENRES: &[&str] = &["jazz", "soul", "funk", "techno", "house", "indie", "rock", "folk", "hiphop", "classical"];
const JOB_KINDS: &[&str] = &[
    "notify.deliver",
    "mail.send",
    "ticketing.chain.append",
    "withdrawal.process",
    "webhook.deliver",
    "catalog.check",
];

/// Sends rows to `COPY <target> FROM STDIN` in 4 MiB chunks; `row` appends row `i` (tab-separated, one line).
async fn copy(conn: &mut PgConnection, target: &str, rows: u64, mut row: impl FnMut(u64, &mut String)) -> u64 {
    let mut copy = conn.copy_in_raw(&format!("COPY {target} FROM STDIN")).await.unwrap();
    let mut buf = String::with_capacity(5 << 20);
    for i in 0..rows {
        row(i, &mut buf);
        if buf.len() >= 4 << 20 {
            copy.send(buf.as_bytes()).await.unwrap();
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.unwrap();
    }
    copy.finish().await.unwrap()
}

/// A connection for loading: the owner, with triggers and foreign-key checks off for the session as a
/// restore runs (the generated rows are consistent by construction: balances are the sums of postings,
/// tiers count their tickets).
async fn loader(pg: &EmbeddedPostgres) -> PgConnection {
    let mut conn = PgConnection::connect_with(&pg.connect_options("backline")).await.unwrap();
    sqlx::raw_sql("SET session_replication_role = replica; SET synchronous_commit = off")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

fn ts(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.3f+00").to_string()
}

/// Loads the year. Independent tables go in parallel, two at a time (one per core).
async fn load_year(
    pg: &EmbeddedPostgres,
    y: Year,
    now: DateTime<Utc>,
    password_hash: &str,
) -> BTreeMap<&'static str, u64> {
    let user_at = |i: u64| over_year(now, i, y.users);
    let event_start =
        |e: u64| now - chrono::Duration::days(183) + chrono::Duration::minutes((spread(e, 366 * 24 * 12) * 5) as i64);
    let event_at = |e: u64| event_start(e) - chrono::Duration::days(60);
    let order_at = |o: u64| over_year(now, o, y.orders);
    let entry_at = |j: u64| over_year(now, j, y.entries);
    let buyer = |o: u64| spread(o, y.users);
    let event_of_order = |o: u64| o % y.events;
    let promoter_user = |p: u64| y.artists + p;
    // Every 2,000th ledger entry goes to one busy wallet (user 0), the rest round the users.
    let wallet_of = |j: u64| if j.is_multiple_of(2_000) { 0 } else { j % y.users };
    let amount_of = |j: u64| 500 + (spread(j, 20_000) as i64);
    let mut counts = BTreeMap::new();

    let (mut a, mut b) = (loader(pg).await, loader(pg).await);
    let users = async {
        let n = copy(&mut a, "users (id, email, username, display_name, password_hash, status, email_verified_at, created_at, updated_at)", y.users, |i, out| {
            let at = ts(user_at(i));
            let _ = writeln!(out, "{}\tuser{i}@volume.invalid\tuser{i}\tUser {i}\t{password_hash}\tactive\t{at}\t{at}\t{at}", id(tag::USER, i, user_at(i)));
        })
        .await;
        let roles = copy(&mut a, "user_roles (user_id, role, granted_at)", y.users, |i, out| {
            let role = if i < y.artists {
                "artist"
            } else if i < y.artists + y.promoters {
                "promoter"
            } else {
                "fan"
            };
            let _ = writeln!(out, "{}\t{role}\t{}", id(tag::USER, i, user_at(i)), ts(user_at(i)));
        })
        .await;
        let artists = copy(&mut a, "artist_profiles (id, user_id, stage_name, bio, genres, city, country, latitude, longitude, price_min, price_max, created_at, updated_at)", y.artists, |i, out| {
            let (c, g) = city_and_genre(i);
            let (city, country, lat, lng) = CITIES[c];
            let jitter = |k: u64| (spread(i + k, 1_000) as f64 - 500.0) / 1_000.0 * 0.6;
            let (g1, g2) = (GENRES[(i % 10) as usize], GENRES[g]);
            let at = ts(user_at(i));
            let price = 10_000 + spread(i, 200) as i64 * 1_000;
            let _ = writeln!(out, "{}\t{}\tArtist {i}\tPlays {g1} and {g2} on stages across Europe.\t{{{g1},{g2}}}\t{city}\t{country}\t{:.5}\t{:.5}\t{price}\t{}\t{at}\t{at}",
                id(tag::ARTIST, i, user_at(i)), id(tag::USER, i, user_at(i)), lat + jitter(1), lng + jitter(2), price * 3);
        })
        .await;
        let promoters =
            copy(&mut a, "promoter_profiles (id, user_id, name, created_at, updated_at)", y.promoters, |p, out| {
                let u = promoter_user(p);
                let at = ts(user_at(u));
                let _ = writeln!(
                    out,
                    "{}\t{}\tPromoter {p}\t{at}\t{at}",
                    id(tag::PROMOTER, p, user_at(u)),
                    id(tag::USER, u, user_at(u))
                );
            })
            .await;
        (n, roles, artists, promoters)
    };
    let events = async {
        let n = copy(&mut b, "events (id, organizer_user_id, created_by, title, description, starts_at, ends_at, timezone, capacity, venue_name, city, country, status, signing_key_sealed, signing_public_key, published_at, created_at, updated_at)", y.events, |e, out| {
            let organizer = id(tag::USER, promoter_user(e % y.promoters), user_at(promoter_user(e % y.promoters)));
            let (c, g) = city_and_genre(e);
            let (city, country, _, _) = CITIES[c];
            let starts = event_start(e);
            let status = if starts < now { "completed" } else { "published" };
            let genre = GENRES[g];
            let at = ts(event_at(e));
            let _ = writeln!(out, "{}\t{organizer}\t{organizer}\t{} {genre} night {e}\tAn evening of {genre}.\t{}\t{}\tEurope/Berlin\t1000\tHall {}\t{city}\t{country}\t{status}\tvolume-not-sealed\t\\\\x{}\t{at}\t{at}\t{at}",
                id(tag::EVENT, e, event_at(e)), ["Late", "Summer", "Winter", "Open", "Club"][(e % 5) as usize], ts(starts), ts(starts + chrono::Duration::hours(4)), e % 500, "00".repeat(32));
        })
        .await;
        let tiers = copy(
            &mut b,
            "ticket_tiers (id, event_id, name, price, currency, quantity, sold, created_at, updated_at)",
            y.events,
            |e, out| {
                let orders_of_event = y.orders / y.events + u64::from(e < y.orders % y.events);
                let at = ts(event_at(e));
                let _ = writeln!(
                    out,
                    "{}\t{}\tGeneral admission\t2500\tEUR\t1000\t{}\t{at}\t{at}",
                    id(tag::TIER, e, event_at(e)),
                    id(tag::EVENT, e, event_at(e)),
                    orders_of_event * 2
                );
            },
        )
        .await;
        (n, tiers)
    };
    let ((users, roles, artists, promoters), (events_n, tiers)) = tokio::join!(users, events);
    counts.extend([
        ("users", users),
        ("user_roles", roles),
        ("artist_profiles", artists),
        ("promoter_profiles", promoters),
        ("events", events_n),
        ("ticket_tiers", tiers),
    ]);

    let orders = async {
        let n = copy(
            &mut a,
            "orders (id, event_id, buyer_id, state, amount, currency, expires_at, paid_at, created_at, updated_at)",
            y.orders,
            |o, out| {
                let e = event_of_order(o);
                let at = order_at(o);
                let t = ts(at);
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\tpaid\t5000\tEUR\t{}\t{t}\t{t}\t{t}",
                    id(tag::ORDER, o, at),
                    id(tag::EVENT, e, event_at(e)),
                    id(tag::USER, buyer(o), user_at(buyer(o))),
                    ts(at + chrono::Duration::minutes(15))
                );
            },
        )
        .await;
        let items = copy(&mut a, "order_items (order_id, tier_id, quantity, unit_price)", y.orders, |o, out| {
            let e = event_of_order(o);
            let _ = writeln!(out, "{}\t{}\t2\t2500", id(tag::ORDER, o, order_at(o)), id(tag::TIER, e, event_at(e)));
        })
        .await;
        let tickets = copy(
            &mut a,
            "tickets (id, event_id, tier_id, order_id, holder_id, price, state, created_at, updated_at, issue_chained)",
            y.orders * 2,
            |k, out| {
                let o = k / 2;
                let e = event_of_order(o);
                let at = order_at(o);
                let t = ts(at);
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t2500\tvalid\t{t}\t{t}\tt",
                    id(tag::TICKET, k, at),
                    id(tag::EVENT, e, event_at(e)),
                    id(tag::TIER, e, event_at(e)),
                    id(tag::ORDER, o, at),
                    id(tag::USER, buyer(o), user_at(buyer(o)))
                );
            },
        )
        .await;
        let codes = copy(&mut a, "ticket_codes (code, ticket_id, issued_at)", y.orders * 2, |k, out| {
            let at = order_at(k / 2);
            let _ = writeln!(out, "VOL{k:012}\t{}\t{}", id(tag::TICKET, k, at), ts(at));
        })
        .await;
        let bookings = copy(&mut a, "bookings (id, artist_id, promoter_id, status, origin, starts_at, ends_at, turn, message, created_by, created_at, updated_at)", y.bookings, |i, out| {
            let artist = spread(i, y.artists);
            let p = i % y.promoters;
            let at = over_year(now, i, y.bookings);
            let starts = at + chrono::Duration::days(60);
            let (status, turn) = if starts < now { ("completed", "\\N") } else { (["offered", "negotiating"][(i % 2) as usize], "artist") };
            let t = ts(at);
            let _ = writeln!(out, "{}\t{}\t{}\t{status}\toffer\t{}\t{}\t{turn}\tWould you play our stage?\t{}\t{t}\t{t}", id(tag::BOOKING, i, at), id(tag::ARTIST, artist, user_at(artist)), id(tag::PROMOTER, p, user_at(promoter_user(p))), ts(starts), ts(starts + chrono::Duration::hours(2)), id(tag::USER, promoter_user(p), user_at(promoter_user(p))));
        })
        .await;
        let jobs = copy(&mut a, "jobs (id, kind, payload, state, priority, run_at, attempts, max_attempts, created_at, updated_at, finished_at)", y.jobs, |j, out| {
            let at = over_year(now, j, y.jobs);
            let t = ts(at);
            let _ = writeln!(out, "{}\t{}\t{{\"n\": {j}}}\tsucceeded\t0\t{t}\t1\t5\t{t}\t{t}\t{t}", id(tag::JOB, j, at), JOB_KINDS[(j % JOB_KINDS.len() as u64) as usize]);
        })
        .await;
        (n, items, tickets, codes, bookings, jobs)
    };
    let ledger = async {
        let mut balances = vec![0i64; y.users as usize];
        let entries = copy(&mut b, "journal_entries (id, kind, memo, metadata, created_at)", y.entries, |j, out| {
            let kind = if j % 2 == 0 { "payment.captured" } else { "earning.released" };
            let _ = writeln!(out, "{}\t{kind}\t\t{{}}\t{}", id(tag::ENTRY, j, entry_at(j)), ts(entry_at(j)));
        })
        .await;
        // The platform's clearing account is the demo's own.
        let clearing: Uuid = sqlx::query_scalar!(
            "SELECT id FROM ledger_accounts WHERE owner_type = 'platform' AND kind = 'clearing' AND currency = 'EUR'"
        )
        .fetch_one(&mut b)
        .await
        .unwrap();
        let postings =
            copy(&mut b, "postings (entry_id, account_id, amount, currency, created_at)", y.entries * 2, |k, out| {
                let j = k / 2;
                let (entry, at) = (id(tag::ENTRY, j, entry_at(j)), ts(entry_at(j)));
                let w = wallet_of(j);
                let amount = amount_of(j);
                if k % 2 == 0 {
                    let _ = writeln!(out, "{entry}\t{clearing}\t{}\tEUR\t{at}", -amount);
                } else {
                    balances[w as usize] += amount;
                    let _ = writeln!(out, "{entry}\t{}\t{amount}\tEUR\t{at}", id(tag::ACCOUNT, w, user_at(w)));
                }
            })
            .await;
        let accounts = copy(
            &mut b,
            "ledger_accounts (id, owner_type, owner_id, kind, currency, allow_negative, balance, created_at)",
            y.users,
            |i, out| {
                let _ = writeln!(
                    out,
                    "{}\tuser\t{}\tavailable\tEUR\tf\t{}\t{}",
                    id(tag::ACCOUNT, i, user_at(i)),
                    id(tag::USER, i, user_at(i)),
                    balances[i as usize],
                    ts(user_at(i))
                );
            },
        )
        .await;
        let total: i64 = balances.iter().sum();
        sqlx::query!("UPDATE ledger_accounts SET balance = balance - $2 WHERE id = $1", clearing, total)
            .execute(&mut b)
            .await
            .unwrap();
        let audit = copy(
            &mut b,
            "audit_log (id, actor_user_id, action, resource_type, resource_id, after, created_at)",
            y.audit,
            |i, out| {
                let at = over_year(now, i, y.audit);
                let actor = spread(i, y.users);
                let _ = writeln!(
                    out,
                    "{}\t{}\tevent.update\tevent\t{}\t{{\"status\": \"published\"}}\t{}",
                    id(tag::AUDIT, i, at),
                    id(tag::USER, actor, user_at(actor)),
                    id(tag::EVENT, i % y.events, event_at(i % y.events)),
                    ts(at)
                );
            },
        )
        .await;
        (entries, postings, accounts, audit)
    };
    let ((orders_n, items, tickets, codes, bookings, jobs), (entries, postings, accounts, audit)) =
        tokio::join!(orders, ledger);
    counts.extend([
        ("orders", orders_n),
        ("order_items", items),
        ("tickets", tickets),
        ("ticket_codes", codes),
        ("bookings", bookings),
        ("journal_entries", entries),
        ("postings", postings),
        ("ledger_accounts", accounts),
        ("jobs", jobs),
        ("audit_log", audit),
    ]);
    counts
}

/// The reads measured, each one `GET` with its caller's key.
struct Read {
    name: &'static str,
    path: String,
    key: Option<String>,
}

/// A read's latencies in each of its phases.
struct Measured(Vec<Latencies>);

impl Measured {
    /// The median over every phase's requests.
    fn p50(&self) -> Duration {
        Latencies::merge(self.0.iter().map(|l| Latencies(l.0.clone())).collect()).percentile(50.0)
    }

    /// The median of the phases' p99s.
    fn p99(&self) -> Duration {
        let mut each = self.phase_p99s();
        each.sort();
        each[each.len() / 2]
    }

    fn phase_p99s(&self) -> Vec<Duration> {
        self.0.iter().map(|l| l.percentile(99.0)).collect()
    }

    /// The phases' p99s, as `a, b, c ms`.
    fn p99s(&self) -> String {
        let each: Vec<String> = self.phase_p99s().iter().map(|d| format!("{:.2}", d.as_secs_f64() * 1e3)).collect();
        format!("{} ms", each.join(", "))
    }
}

async fn measure(addr: std::net::SocketAddr, read: &Read) -> Measured {
    let (path, key) = (Arc::new(read.path.clone()), Arc::new(read.key.clone()));
    let work: Work = Arc::new(move |client: &mut Client, _| {
        let (path, key) = (path.clone(), key.clone());
        Box::pin(async move {
            let started = Instant::now();
            let (status, body) = client.send("GET", &path, key.as_deref(), None).await;
            assert_eq!(status, 200, "GET {path}: {}", String::from_utf8_lossy(&body));
            started.elapsed()
        })
    });
    // A warm-up, then the phases.
    load(addr, 1, Duration::from_millis(500), work.clone()).await;
    let mut phases = Vec::new();
    for _ in 0..PHASES {
        phases.push(load(addr, CONNECTIONS, PHASE, work.clone()).await);
    }
    Measured(phases)
}

/// Each read's statements' scans, from the plans `auto_explain` logs while the read runs once.
async fn plans(pg: &EmbeddedPostgres, addr: std::net::SocketAddr, reads: &[Read]) -> Vec<(Vec<String>, usize)> {
    let log = pg.data_dir().join("postgresql.log");
    let mut admin = PgConnection::connect_with(&pg.connect_options("backline")).await.unwrap();
    let mut out = Vec::new();
    for read in reads {
        explain_from(&mut admin, 0).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let offset = std::fs::metadata(&log).map_or(0, |m| m.len());
        let mut client = Client::connect(addr).await;
        let (status, _) = client.send("GET", &read.path, read.key.as_deref(), None).await;
        assert_eq!(status, 200);
        explain_from(&mut admin, -1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let text = std::fs::read(&log).unwrap();
        let text = String::from_utf8_lossy(&text[offset as usize..]);
        let statements = text.matches("Query Text:").count();
        let mut scans: Vec<String> = text
            .lines()
            .filter_map(|line| {
                let line = line.trim_start().trim_start_matches("->").trim();
                let scan = [
                    "Seq Scan on ",
                    "Index Scan using ",
                    "Index Scan Backward using ",
                    "Index Only Scan using ",
                    "Index Only Scan Backward using ",
                    "Bitmap Index Scan on ",
                ]
                .iter()
                .find(|p| line.starts_with(**p))?;
                let rest = &line[scan.len()..];
                let name = rest.split("  (").next().unwrap_or(rest).trim();
                Some(format!("{}{name}", if scan.starts_with("Seq") { "**seq** " } else { "" }))
            })
            .collect();
        scans.sort();
        scans.dedup();
        out.push((scans, statements));
    }
    admin.close().await.unwrap();
    out
}

/// Vacuums and analyzes every table (as autovacuum would in time), then writes a checkpoint, so
/// that no background work runs during a measurement.
async fn settle(owner: &mut PgConnection) {
    sqlx::raw_sql("VACUUM (ANALYZE)").execute(&mut *owner).await.unwrap();
    sqlx::raw_sql("CHECKPOINT").execute(&mut *owner).await.unwrap();
}

/// Sets the duration from which `auto_explain` logs a statement's plan (-1: never) and reloads.
async fn explain_from(admin: &mut PgConnection, ms: i32) {
    sqlx::raw_sql(&format!("ALTER SYSTEM SET auto_explain.log_min_duration = {ms}"))
        .execute(&mut *admin)
        .await
        .unwrap();
    sqlx::raw_sql("SELECT pg_reload_conf()").execute(&mut *admin).await.unwrap();
}

fn seq_scans_of_large(scans: &[String]) -> Vec<String> {
    scans
        .iter()
        .filter_map(|s| s.strip_prefix("**seq** "))
        .filter(|t| LARGE.iter().any(|l| t.split_whitespace().next() == Some(*l)))
        .map(str::to_owned)
        .collect()
}

#[tokio::main]
async fn main() {
    let scale: f64 = std::env::var("BACKLINE_BENCH_VOLUME_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let year = Year::scaled(scale);
    let root = tempfile::Builder::new().prefix("backline-volume-").tempdir().unwrap();
    let mut config = EmbeddedConfig::new(root.path());
    config.ephemeral = true;
    // auto_explain's threshold stays unset here (off by default): a command-line setting would override
    // the `ALTER SYSTEM` that turns it on around each read.
    config.settings = vec![
        "shared_preload_libraries=auto_explain".into(),
        "auto_explain.log_nested_statements=on".into(),
        "max_wal_size=4GB".into(),
        "maintenance_work_mem=512MB".into(),
        "shared_buffers=512MB".into(),
    ];
    let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&config)).await.unwrap().unwrap();
    platform::db::ensure_database(&pg.connect_options("postgres"), "backline").await.unwrap();
    let mut admin = PgConnection::connect_with(&pg.connect_options("postgres")).await.unwrap();
    platform::db::ensure_app_role(&mut admin, platform::db::APP_ROLE).await.unwrap();
    admin.close().await.unwrap();
    platform::db::migrate_as_owner(&pg.connect_options("backline"), Some(platform::db::APP_ROLE)).await.unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(pg.connect_options("backline").username(platform::db::APP_ROLE))
        .await
        .unwrap();
    let ctx = AppContext::new(pool.clone(), "http://bench.invalid");
    let env = platform::demo::DemoEnv { secrets: ctx.secrets.clone(), storage: ctx.storage.clone(), now: Utc::now() };
    platform::demo::load(&pool, &backline::demo_datasets(), &env).await.unwrap();
    let addr = serve(ctx).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "volume benchmark: {cores} cores, scale {scale}, {CONNECTIONS} connections, {PHASES} phases of {} s per read",
        PHASE.as_secs()
    );

    // The callers: the demo's fan, promoter and admin, and (after the load) the year's busiest wallet.
    let user = |name: &'static str| {
        let pool = pool.clone();
        async move {
            let id: Uuid =
                sqlx::query_scalar!("SELECT id FROM users WHERE username = $1", name).fetch_one(&pool).await.unwrap();
            (id, api_key(&pool, id).await)
        }
    };
    let (felix, felix_key) = user("fan_felix").await;
    let (_, pete_key) = user("promo_pete").await;
    let (_, admin_key) = user("admin").await;
    let felix_wallet: Uuid = sqlx::query_scalar!(
        "SELECT id FROM ledger_accounts WHERE owner_type = 'user' AND owner_id = $1 AND kind = 'available' AND currency = 'EUR'",
        felix
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let now = Utc::now();
    let month = |days_back: i64| {
        let from = (now - chrono::Duration::days(days_back)).format("%Y-%m-%dT00:00:00Z");
        let to = (now - chrono::Duration::days(days_back - 31)).format("%Y-%m-%dT00:00:00Z");
        format!("from={from}&to={to}")
    };
    let soon = (now + chrono::Duration::days(20)).format("%Y-%m-%dT00:00:00Z").to_string();
    let later = (now + chrono::Duration::days(50)).format("%Y-%m-%dT00:00:00Z").to_string();
    let later_day = (now + chrono::Duration::days(50)).format("%Y-%m-%d").to_string();
    let reads = vec![
        Read {
            name: "event search with filters",
            path: format!("/v1/events?q=jazz&city=Berlin&from={soon}&to={later}&limit=20"),
            key: None,
        },
        Read {
            name: "artist directory by distance and date",
            path: format!("/v1/artists?lat=52.52&lng=13.40&radius_km=50&available_on={later_day}&limit=20"),
            key: None,
        },
        Read { name: "a fan's tickets", path: "/v1/me/tickets".into(), key: Some(felix_key.clone()) },
        Read {
            name: "a wallet statement (a month)",
            path: format!("/v1/ledger/accounts/{felix_wallet}/statement?{}", month(30)),
            key: Some(felix_key.clone()),
        },
        Read { name: "a promoter's bookings", path: "/v1/me/bookings?limit=20".into(), key: Some(pete_key) },
        Read { name: "the admin audit log", path: "/v1/admin/audit?limit=50".into(), key: Some(admin_key) },
    ];

    // Both sizes are measured in the same state: vacuumed, analyzed, checkpointed.
    let mut owner = PgConnection::connect_with(&pg.connect_options("backline")).await.unwrap();
    settle(&mut owner).await;
    let mut small = Vec::new();
    for read in &reads {
        small.push(measure(addr, read).await);
    }
    let small_plans = plans(&pg, addr, &reads).await;

    // The year, loaded with COPY, then vacuumed and analyzed as autovacuum would.
    let hash = identity::password::hash("volume password 2026".to_owned()).await.unwrap();
    let started = Instant::now();
    let counts = load_year(&pg, year, now, &hash).await;
    let loaded = started.elapsed();
    let rows: u64 = counts.values().sum();
    let started = Instant::now();
    settle(&mut owner).await;
    let vacuumed = started.elapsed();
    let size: i64 = sqlx::query_scalar!(r#"SELECT pg_database_size(current_database()) AS "size!""#)
        .fetch_one(&mut owner)
        .await
        .unwrap();

    // The busiest wallet: user 0 of the year, a posting every 2,000 entries.
    let busy_wallet = id(tag::ACCOUNT, 0, over_year(now, 0, year.users));
    let busy_user = id(tag::USER, 0, over_year(now, 0, year.users));
    let busy_key = api_key(&pool, busy_user).await;
    let mut large_reads = reads;
    large_reads.push(Read {
        name: "the busiest wallet's statement (a month)",
        path: format!("/v1/ledger/accounts/{busy_wallet}/statement?{}", month(30)),
        key: Some(busy_key),
    });
    let mut large = Vec::new();
    for read in &large_reads {
        large.push(measure(addr, read).await);
    }
    let large_plans = plans(&pg, addr, &large_reads).await;

    println!();
    println!(
        "Loaded {rows} rows with COPY in {:.0} s ({:.0} rows/s), then VACUUM ANALYZE in {:.0} s; database {:.1} GB.",
        loaded.as_secs_f64(),
        rows as f64 / loaded.as_secs_f64(),
        vacuumed.as_secs_f64(),
        size as f64 / 1e9
    );
    println!();
    println!("| table | rows loaded | size with indexes |");
    println!("|---|---|---|");
    for (table, n) in &counts {
        let bytes: i64 = sqlx::query_scalar!(r#"SELECT pg_total_relation_size($1::text::regclass) AS "size!""#, *table)
            .fetch_one(&mut owner)
            .await
            .unwrap();
        println!("| {table} | {n} | {:.0} MB |", bytes as f64 / 1e6);
    }
    println!();
    println!(
        "| read | demo data p50 / p99 | a year's data p50 / p99 | p99 ratio (goal ≤ 2) | statements | sequential scans of large tables |"
    );
    println!("|---|---|---|---|---|---|");
    let mut failed = Vec::new();
    for (i, read) in large_reads.iter().enumerate() {
        let big = &large[i];
        let (scans, statements) = &large_plans[i];
        let seqs = seq_scans_of_large(scans);
        let (small_cell, ratio_cell) = match small.get(i) {
            Some(s) => {
                let ratio = big.p99().as_secs_f64() / s.p99().as_secs_f64();
                if ratio > 2.0 {
                    failed.push(read.name);
                }
                (format!("{} / {}", ms(s.p50()), ms(s.p99())), format!("**{ratio:.2}**"))
            }
            None => ("—".into(), "—".into()),
        };
        if !seqs.is_empty() {
            failed.push(read.name);
        }
        println!(
            "| {} | {small_cell} | {} / {} | {ratio_cell} | {statements} | {} |",
            read.name,
            ms(big.p50()),
            ms(big.p99()),
            if seqs.is_empty() { "none".to_owned() } else { seqs.join(", ") }
        );
    }
    println!();
    println!("Each phase's p99 (demo data → a year's data):");
    for (i, read) in large_reads.iter().enumerate() {
        let before = small.get(i).map_or_else(|| "—".to_owned(), Measured::p99s);
        println!("- {}: {before} → {}", read.name, large[i].p99s());
    }
    println!();
    println!("Scans in each read's plans (a year's data; demo data in brackets where they differ):");
    for (i, read) in large_reads.iter().enumerate() {
        let (scans, _) = &large_plans[i];
        let before = small_plans.get(i).map(|(s, _)| s.clone()).unwrap_or_default();
        println!(
            "- {}: {}{}",
            read.name,
            scans.join("; "),
            if before.is_empty() || before == *scans { String::new() } else { format!(" [{}]", before.join("; ")) }
        );
    }
    println!();
    if failed.is_empty() {
        println!("Every read within 2× of its demo-data p99, and none scans a large table sequentially.");
    } else {
        println!("Not met: {}", failed.join(", "));
    }
    owner.close().await.unwrap();
    if std::env::var_os("BACKLINE_BENCH_VOLUME_KEEP").is_some() {
        // For studying a read at this size by hand: the cluster and the service stay up until interrupted.
        println!();
        println!("Kept until interrupted: the service at http://{addr}, the database at {}", pg.url("backline"));
        tokio::signal::ctrl_c().await.unwrap();
    }
    drop(pg);
}
