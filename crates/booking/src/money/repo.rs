//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::BookingId;
use crate::state::Side;

platform::text_enum! {
    /// A movement of a booking's money.
    pub enum PaymentKind {
        Deposit = "deposit",
        Balance = "balance",
        Release = "release",
        Refund = "refund",
        Penalty = "penalty",
        Split = "split",
    }
}

/// Records a movement of the booking's money with its ledger entry.
pub async fn record(
    conn: &mut PgConnection,
    booking: BookingId,
    kind: PaymentKind,
    amount: i64,
    entry: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO booking_payments (id, booking_id, kind, amount, entry_id, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)"#,
        platform::ids::new_id(),
        booking as _,
        kind as _,
        amount,
        entry,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets a savepoint, to roll back a movement the ledger refuses without failing the transaction.
pub async fn savepoint(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!(r#"SAVEPOINT booking_money"#).execute(conn).await?;
    Ok(())
}

pub async fn release_savepoint(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!(r#"RELEASE SAVEPOINT booking_money"#).execute(conn).await?;
    Ok(())
}

pub async fn rollback_to_savepoint(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!(r#"ROLLBACK TO SAVEPOINT booking_money"#).execute(conn).await?;
    Ok(())
}

/// Notes when the deposit was paid (and that nothing is overdue).
pub async fn deposit_paid(conn: &mut PgConnection, booking: BookingId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE bookings SET deposit_paid_at = $2, balance_overdue = false WHERE id = $1"#,
        booking as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Notes when the balance was paid (and that nothing is overdue).
pub async fn balance_paid(conn: &mut PgConnection, booking: BookingId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE bookings SET balance_paid_at = $2, balance_overdue = false WHERE id = $1"#,
        booking as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_settled(conn: &mut PgConnection, booking: BookingId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE bookings SET settled_at = $2 WHERE id = $1"#, booking as _, now).execute(conn).await?;
    Ok(())
}

pub async fn mark_disputed(conn: &mut PgConnection, booking: BookingId, reason: &str, by: Side) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE bookings SET dispute_reason = $2, disputed_by = $3 WHERE id = $1"#,
        booking as _,
        reason,
        by as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_overdue(conn: &mut PgConnection, booking: BookingId) -> sqlx::Result<()> {
    sqlx::query!(r#"UPDATE bookings SET balance_overdue = true WHERE id = $1"#, booking as _).execute(conn).await?;
    Ok(())
}
