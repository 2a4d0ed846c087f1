//! The SQL of payout methods and withdrawals, checked at compile time.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::model::{PayoutKind, Provider, Verification, WithdrawalState};

/// A payout method as the owner sees it (its details stay sealed).
#[derive(Debug, Clone)]
pub struct PayoutMethodRow {
    pub id: Uuid,
    pub kind: PayoutKind,
    pub provider: Provider,
    pub display: String,
    pub is_default: bool,
    pub verification: Verification,
    pub created_at: DateTime<Utc>,
}

/// A withdrawal as its owner sees it.
#[derive(Debug, Clone)]
pub struct WithdrawalRow {
    pub id: Uuid,
    pub payout_method_id: Uuid,
    pub amount: i64,
    pub fee: i64,
    pub currency: String,
    pub state: WithdrawalState,
    pub needs_approval: bool,
    pub approved_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    pub provider_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn has_default_method(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM payout_methods WHERE user_id = $1 AND is_default AND removed_at IS NULL) AS "exists!""#,
        user
    )
    .fetch_one(conn)
    .await
}

pub async fn clear_default_method(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE payout_methods SET is_default = false WHERE user_id = $1 AND is_default", user)
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NewMethod<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: PayoutKind,
    pub details_sealed: &'a str,
    pub display: &'a str,
    pub is_default: bool,
    pub verification: Verification,
    pub provider: Provider,
}

pub async fn insert_method(
    conn: &mut PgConnection,
    new: &NewMethod<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<PayoutMethodRow> {
    sqlx::query_as!(
        PayoutMethodRow,
        r#"INSERT INTO payout_methods (id, user_id, kind, details_sealed, display, is_default, verification, created_at, provider)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING id, kind AS "kind: PayoutKind", provider AS "provider: Provider", display, is_default, verification AS "verification: Verification", created_at"#,
        new.id,
        new.user_id,
        new.kind as _,
        new.details_sealed,
        new.display,
        new.is_default,
        new.verification as _,
        now,
        new.provider as _
    )
    .fetch_one(conn)
    .await
}

pub async fn methods_of(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<Vec<PayoutMethodRow>> {
    sqlx::query_as!(
        PayoutMethodRow,
        r#"SELECT id, kind AS "kind: PayoutKind", provider AS "provider: Provider", display, is_default, verification AS "verification: Verification", created_at
         FROM payout_methods WHERE user_id = $1 AND removed_at IS NULL ORDER BY created_at, id"#,
        user
    )
    .fetch_all(db)
    .await
}

/// Removes one of the user's methods; answers whether there was one.
pub async fn remove_method(conn: &mut PgConnection, id: Uuid, user: Uuid, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE payout_methods SET removed_at = $3, is_default = false WHERE id = $1 AND user_id = $2 AND removed_at IS NULL",
        id,
        user,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A method of the user that is not removed: its verification.
pub async fn method_verification(conn: &mut PgConnection, id: Uuid, user: Uuid) -> sqlx::Result<Option<Verification>> {
    sqlx::query_scalar!(
        r#"SELECT verification AS "verification: Verification" FROM payout_methods WHERE id = $1 AND user_id = $2 AND removed_at IS NULL"#,
        id,
        user
    )
    .fetch_optional(conn)
    .await
}

pub async fn method_display(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar!("SELECT display FROM payout_methods WHERE id = $1", id).fetch_one(conn).await
}

/// How a method is paid: its sealed details and its provider.
pub async fn method_details(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<(String, Provider)> {
    let row = sqlx::query!(
        r#"SELECT details_sealed, provider AS "provider: Provider" FROM payout_methods WHERE id = $1"#,
        id
    )
    .fetch_one(conn)
    .await?;
    Ok((row.details_sealed, row.provider))
}

pub struct NewWithdrawal<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub payout_method_id: Uuid,
    pub amount: i64,
    pub fee: i64,
    pub currency: &'a str,
    pub hold_entry: Uuid,
    pub needs_approval: bool,
}

pub async fn insert_withdrawal(
    conn: &mut PgConnection,
    new: &NewWithdrawal<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<WithdrawalRow> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"INSERT INTO withdrawals (id, user_id, payout_method_id, amount, fee, currency, state, hold_entry, needs_approval, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $9)
         RETURNING id, payout_method_id, amount, fee, currency, state AS "state: WithdrawalState", needs_approval, approved_at, failure_reason, provider_ref,
                   created_at, updated_at"#,
        new.id,
        new.user_id,
        new.payout_method_id,
        new.amount,
        new.fee,
        new.currency,
        new.hold_entry,
        new.needs_approval,
        now
    )
    .fetch_one(conn)
    .await
}

pub async fn withdrawal(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<WithdrawalRow> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"SELECT id, payout_method_id, amount, fee, currency, state AS "state: WithdrawalState", needs_approval, approved_at, failure_reason, provider_ref,
                created_at, updated_at
         FROM withdrawals WHERE id = $1"#,
        id
    )
    .fetch_one(conn)
    .await
}

pub async fn withdrawals_of(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<Vec<WithdrawalRow>> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"SELECT id, payout_method_id, amount, fee, currency, state AS "state: WithdrawalState", needs_approval, approved_at, failure_reason, provider_ref,
                created_at, updated_at
         FROM withdrawals WHERE user_id = $1 ORDER BY id DESC LIMIT 200"#,
        user
    )
    .fetch_all(db)
    .await
}

pub async fn awaiting_approval(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<WithdrawalRow>> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"SELECT id, payout_method_id, amount, fee, currency, state AS "state: WithdrawalState", needs_approval, approved_at, failure_reason, provider_ref,
                created_at, updated_at
         FROM withdrawals WHERE needs_approval AND approved_at IS NULL AND state = 'queued' ORDER BY id LIMIT 200"#
    )
    .fetch_all(db)
    .await
}

/// What a change of a withdrawal needs, read under its lock.
pub struct Locked {
    pub id: Uuid,
    pub user_id: Uuid,
    pub payout_method_id: Uuid,
    pub amount: i64,
    pub fee: i64,
    pub currency: String,
    pub state: WithdrawalState,
    /// It waits for an admin's approval (asked for and not given yet).
    pub unapproved: bool,
}

pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Locked>> {
    sqlx::query_as!(
        Locked,
        r#"SELECT id, user_id, payout_method_id, amount, fee, currency, state AS "state: WithdrawalState",
                  needs_approval AND approved_at IS NULL AS "unapproved!"
           FROM withdrawals WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn approve(conn: &mut PgConnection, id: Uuid, by: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE withdrawals SET approved_by = $2, approved_at = $3, updated_at = $3 WHERE id = $1",
        id,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_processing(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE withdrawals SET state = 'processing', updated_at = $2 WHERE id = $1", id, now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_provider_ref(conn: &mut PgConnection, id: Uuid, reference: Option<&str>) -> sqlx::Result<()> {
    sqlx::query!("UPDATE withdrawals SET provider_ref = $2 WHERE id = $1", id, reference).execute(conn).await?;
    Ok(())
}

pub async fn settle(
    conn: &mut PgConnection,
    id: Uuid,
    state: WithdrawalState,
    entry: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE withdrawals SET state = $2, settle_entry = $3, failure_reason = $4, updated_at = $5 WHERE id = $1",
        id,
        state as _,
        entry,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's own smallest withdrawal in `currency`, if a domain raised it, with its reason.
pub async fn minimum_of(conn: &mut PgConnection, user: Uuid, currency: &str) -> sqlx::Result<Option<(i64, String)>> {
    let row = sqlx::query!(
        "SELECT minimum, reason FROM withdrawal_minimums WHERE user_id = $1 AND currency = $2",
        user,
        currency
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.minimum, r.reason)))
}

/// For other domains: raises a user's smallest withdrawal in `currency` to at least `minimum` (minor
/// units), with the reason a request below it is told (never lowers it; the platform's minimum still
/// applies).
pub async fn raise_minimum(
    conn: &mut PgConnection,
    user: Uuid,
    currency: &str,
    minimum: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO withdrawal_minimums (user_id, currency, minimum, reason, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (user_id, currency) DO UPDATE SET minimum = EXCLUDED.minimum, reason = EXCLUDED.reason,
                                                         updated_at = EXCLUDED.updated_at
           WHERE withdrawal_minimums.minimum < EXCLUDED.minimum"#,
        user,
        currency,
        minimum,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
