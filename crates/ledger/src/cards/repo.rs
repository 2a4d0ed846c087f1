//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::Provider;

#[derive(Debug, Clone)]
pub struct CardRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: Provider,
    /// Sealed: the sandbox card's number, or Stripe's customer and PaymentMethod (`cus_…/pm_…`).
    pub secret: String,
    pub display: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, c: &CardRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO saved_cards (id, user_id, provider, secret, display, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        c.id,
        c.user_id,
        c.provider as _,
        c.secret,
        c.display,
        c.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A card on file (not removed).
pub async fn card(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<CardRow>> {
    sqlx::query_as!(
        CardRow,
        r#"SELECT id, user_id, provider AS "provider: Provider", secret, display, created_at
           FROM saved_cards WHERE id = $1 AND removed_at IS NULL"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// A user's cards on file, newest first.
pub async fn of_user(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<CardRow>> {
    sqlx::query_as!(
        CardRow,
        r#"SELECT id, user_id, provider AS "provider: Provider", secret, display, created_at
           FROM saved_cards WHERE user_id = $1 AND removed_at IS NULL ORDER BY created_at DESC, id"#,
        user
    )
    .fetch_all(conn)
    .await
}

/// Removes a user's card; false when they have no such card.
pub async fn remove(conn: &mut PgConnection, id: Uuid, user: Uuid, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE saved_cards SET removed_at = $3, secret = '' WHERE id = $1 AND user_id = $2 AND removed_at IS NULL",
        id,
        user,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
