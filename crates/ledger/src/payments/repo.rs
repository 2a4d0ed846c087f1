//! The SQL of payment intents and provider events, checked at compile time.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{CaptureMethod, PaymentState, Provider};

/// A row of `payment_intents`.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: Provider,
    pub provider_ref: String,
    pub amount: i64,
    pub currency: String,
    pub state: PaymentState,
    pub capture_method: CaptureMethod,
    pub refunded_amount: i64,
    pub refund_pending: i64,
    pub description: String,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewPayment<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: Provider,
    pub provider_ref: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub state: PaymentState,
    pub capture_method: CaptureMethod,
    pub description: &'a str,
    pub failure_reason: Option<&'a str>,
}

pub async fn insert(conn: &mut PgConnection, new: &NewPayment<'_>, now: DateTime<Utc>) -> sqlx::Result<PaymentRow> {
    sqlx::query_as!(
        PaymentRow,
        r#"INSERT INTO payment_intents (id, user_id, provider, provider_ref, amount, currency, state, capture_method, description, failure_reason, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         RETURNING id, user_id, provider AS "provider: Provider", provider_ref, amount, currency, state AS "state: PaymentState", capture_method AS "capture_method: CaptureMethod", refunded_amount, refund_pending,
                   description, failure_reason, created_at, updated_at"#,
        new.id,
        new.user_id,
        new.provider as _,
        new.provider_ref,
        new.amount,
        new.currency,
        new.state as _,
        new.capture_method as _,
        new.description,
        new.failure_reason,
        now
    )
    .fetch_one(conn)
    .await
}

/// The payment, locked for a change when `lock`.
pub async fn get(conn: &mut PgConnection, id: Uuid, lock: bool) -> sqlx::Result<Option<PaymentRow>> {
    if lock {
        sqlx::query_as!(
            PaymentRow,
            r#"SELECT id, user_id, provider AS "provider: Provider", provider_ref, amount, currency, state AS "state: PaymentState", capture_method AS "capture_method: CaptureMethod", refunded_amount, refund_pending,
                    description, failure_reason, created_at, updated_at
             FROM payment_intents WHERE id = $1 FOR UPDATE"#,
            id
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            PaymentRow,
            r#"SELECT id, user_id, provider AS "provider: Provider", provider_ref, amount, currency, state AS "state: PaymentState", capture_method AS "capture_method: CaptureMethod", refunded_amount, refund_pending,
                    description, failure_reason, created_at, updated_at
             FROM payment_intents WHERE id = $1"#,
            id
        )
        .fetch_optional(conn)
        .await
    }
}

/// The payment a provider's object (`pi_...`) is, locked for a change.
pub async fn by_provider_ref(
    conn: &mut PgConnection,
    provider: &str,
    reference: &str,
) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as!(
        PaymentRow,
        r#"SELECT id, user_id, provider AS "provider: Provider", provider_ref, amount, currency, state AS "state: PaymentState", capture_method AS "capture_method: CaptureMethod", refunded_amount, refund_pending,
                description, failure_reason, created_at, updated_at
         FROM payment_intents WHERE provider = $1 AND provider_ref = $2 FOR UPDATE"#,
        provider,
        reference
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: PaymentState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<PaymentRow> {
    sqlx::query_as!(
        PaymentRow,
        r#"UPDATE payment_intents SET state = $2, failure_reason = coalesce($3, failure_reason), updated_at = $4 WHERE id = $1
         RETURNING id, user_id, provider AS "provider: Provider", provider_ref, amount, currency, state AS "state: PaymentState", capture_method AS "capture_method: CaptureMethod", refunded_amount, refund_pending,
                   description, failure_reason, created_at, updated_at"#,
        id,
        state as _,
        reason,
        now
    )
    .fetch_one(conn)
    .await
}

/// Marks `amount` of the payment as being refunded (or, with 0, no longer).
pub async fn set_refund_pending(
    conn: &mut PgConnection,
    id: Uuid,
    amount: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!("UPDATE payment_intents SET refund_pending = $2, updated_at = $3 WHERE id = $1", id, amount, now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The part of the payment being refunded, locked for recording the provider's answer.
pub async fn lock_refund_pending(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!("SELECT refund_pending FROM payment_intents WHERE id = $1 FOR UPDATE", id).fetch_one(conn).await
}

/// Records a refund the provider made: the pending part becomes refunded.
pub async fn record_refund(
    conn: &mut PgConnection,
    id: Uuid,
    amount: i64,
    state: PaymentState,
    now: DateTime<Utc>,
) -> sqlx::Result<PaymentRow> {
    sqlx::query_as!(
        PaymentRow,
        r#"UPDATE payment_intents SET refunded_amount = refunded_amount + $2, refund_pending = 0, state = $3, updated_at = $4
         WHERE id = $1
         RETURNING id, user_id, provider AS "provider: Provider", provider_ref, amount, currency, state AS "state: PaymentState", capture_method AS "capture_method: CaptureMethod", refunded_amount, refund_pending,
                   description, failure_reason, created_at, updated_at"#,
        id,
        amount,
        state as _,
        now
    )
    .fetch_one(conn)
    .await
}

/// Stores a provider's event once; answers whether this is its first delivery.
pub async fn insert_provider_event(
    conn: &mut PgConnection,
    provider: &str,
    event_id: &str,
    kind: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO provider_events (provider, event_id, type, payload, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        provider,
        event_id,
        kind,
        payload,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn provider_event_processed(
    conn: &mut PgConnection,
    provider: &str,
    event_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE provider_events SET processed_at = $3 WHERE provider = $1 AND event_id = $2",
        provider,
        event_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Payments (intents) by state, every state named even when none is in it, for `/metrics`.
pub async fn state_counts(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT s.state AS "state!", count(p.id) AS "n!"
           FROM unnest(ARRAY['initiated', 'authorized', 'captured', 'failed', 'cancelled', 'refunded']) AS s(state)
           LEFT JOIN payment_intents p ON p.state = s.state
           GROUP BY s.state ORDER BY s.state"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.state, r.n)).collect())
}
