//! Earnings: money a user earned (a gig fee, ticket revenue, royalties, freelance work) lands in their
//! `pending` account and becomes `available` when its holding period ends (7 days by default; a setting
//! per earning kind). The release is a timer job enqueued with the earning, so it happens however many
//! times the service restarts in between, and exactly once in effect.

use chrono::{DateTime, Duration, Utc};
use platform::AppContext;
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use serde_json::json;
use sqlx::PgConnection;

use crate::error::LedgerError;
use crate::model::{AccountId, Currency, EntryId, Owner, kinds};
use crate::service::{self, Leg, NewEntry};

pub const RELEASE: JobKind = JobKind::new("earnings.release").max_attempts(10);

/// Days each earning kind is held before it can be withdrawn (the product default is 7 for every kind;
/// each can be changed on its own).
pub const HOLD_DAYS: &[(&str, i64)] = &[("ticket_revenue", 7), ("gig_fee", 7), ("freelance", 7), ("royalty", 7)];
/// For earning kinds not in [`HOLD_DAYS`].
pub const DEFAULT_HOLD_DAYS: i64 = 7;

/// The holding period of an earning kind.
pub fn holding_period(kind: &str) -> Duration {
    Duration::days(HOLD_DAYS.iter().find(|(k, _)| *k == kind).map_or(DEFAULT_HOLD_DAYS, |(_, days)| *days))
}

/// Credits `amount` from `source` to `owner`'s pending balance and schedules its release.
pub async fn credit(
    conn: &mut PgConnection,
    owner: Owner,
    currency: &Currency,
    amount: i64,
    source: AccountId,
    earning_kind: &str,
    now: DateTime<Utc>,
) -> Result<EntryId, LedgerError> {
    let pending = service::account(conn, owner, kinds::PENDING, currency, now).await?;
    let entry = service::post(
        conn,
        NewEntry {
            kind: "earning.credit",
            memo: earning_kind,
            legs: vec![Leg { account: source, amount: -amount }, Leg { account: pending.id, amount }],
            metadata: json!({"earning_kind": earning_kind}),
        },
        now,
    )
    .await?;
    let release_at = now + holding_period(earning_kind);
    let payload = json!({"entry": entry, "owner": owner, "currency": currency.as_str(), "amount": amount});
    jobs::enqueue(conn, NewJob::new(RELEASE, payload).at(release_at).unique(format!("earning:{entry}")), now).await?;
    Ok(entry)
}

async fn release(ctx: AppContext, job: Job) -> Result<(), JobFailure> {
    let owner: Owner = job.field("owner")?;
    let currency = job.payload["currency"]
        .as_str()
        .and_then(Currency::parse)
        .ok_or_else(|| JobFailure::permanent("no currency"))?;
    let amount = job.payload["amount"].as_i64().ok_or_else(|| JobFailure::permanent("no amount"))?;
    let entry = job.payload["entry"].as_str().unwrap_or_default().to_owned();
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    // Idempotent: one release entry per earning.
    let done = crate::repo::has_entry_for(&mut tx, "earning.release", "earning", &entry).await?;
    if done {
        return Ok(());
    }
    let pending = service::account(&mut tx, owner, kinds::PENDING, &currency, now).await?;
    let available = service::account(&mut tx, owner, kinds::AVAILABLE, &currency, now).await?;
    service::post(
        &mut tx,
        NewEntry {
            kind: "earning.release",
            memo: "",
            legs: vec![Leg { account: pending.id, amount: -amount }, Leg { account: available.id, amount }],
            metadata: json!({"earning": entry}),
        },
        now,
    )
    .await
    .map_err(|e| JobFailure::retry(e.to_string()))?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(RELEASE, release);
}
