//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use identity::model::UserId;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::EventId;

/// A wallet address as stored.
pub struct WalletRow {
    pub id: Uuid,
    pub network: String,
    pub address: String,
    pub label: String,
    pub is_primary: bool,
    pub created_at: DateTime<Utc>,
}

/// Serializes changes to a user's addresses of one network until the transaction ends.
pub async fn lock_network(conn: &mut PgConnection, user: UserId, network: &str) -> sqlx::Result<()> {
    sqlx::query!(r#"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"#, format!("wallets:{user}:{network}"))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn has_primary(conn: &mut PgConnection, user: UserId, network: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM wallet_addresses WHERE user_id = $1 AND network = $2 AND is_primary) AS "exists!""#,
        user as _,
        network
    )
    .fetch_one(conn)
    .await
}

/// Makes `primary` the only primary address of the user's network (none when `None`).
pub async fn set_primary(
    conn: &mut PgConnection,
    user: UserId,
    network: &str,
    primary: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE wallet_addresses SET is_primary = (id IS NOT DISTINCT FROM $3)
           WHERE user_id = $1 AND network = $2 AND (is_primary OR id IS NOT DISTINCT FROM $3)"#,
        user as _,
        network,
        primary
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts an address; `None` when the user has it already.
pub async fn insert_wallet(conn: &mut PgConnection, user: UserId, row: &WalletRow) -> sqlx::Result<Option<WalletRow>> {
    sqlx::query_as!(
        WalletRow,
        r#"INSERT INTO wallet_addresses (id, user_id, network, address, label, is_primary, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, network, address) DO NOTHING
           RETURNING id, network, address, label, is_primary, created_at"#,
        row.id,
        user as _,
        row.network,
        row.address,
        row.label,
        row.is_primary,
        row.created_at
    )
    .fetch_optional(conn)
    .await
}

pub async fn wallets_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<WalletRow>> {
    sqlx::query_as!(
        WalletRow,
        r#"SELECT id, network, address, label, is_primary, created_at FROM wallet_addresses
           WHERE user_id = $1 ORDER BY network, is_primary DESC, id"#,
        user as _
    )
    .fetch_all(conn)
    .await
}

pub async fn wallet(conn: &mut PgConnection, user: UserId, id: Uuid) -> sqlx::Result<Option<WalletRow>> {
    sqlx::query_as!(
        WalletRow,
        r#"SELECT id, network, address, label, is_primary, created_at FROM wallet_addresses
           WHERE id = $1 AND user_id = $2"#,
        id,
        user as _
    )
    .fetch_optional(conn)
    .await
}

/// Deletes an address; its network and whether it was primary.
pub async fn delete_wallet(conn: &mut PgConnection, user: UserId, id: Uuid) -> sqlx::Result<Option<(String, bool)>> {
    let row = sqlx::query!(
        "DELETE FROM wallet_addresses WHERE id = $1 AND user_id = $2 RETURNING network, is_primary",
        id,
        user as _
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.network, r.is_primary)))
}

/// Makes the oldest address of the user's network primary.
pub async fn promote_oldest(conn: &mut PgConnection, user: UserId, network: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE wallet_addresses SET is_primary = true WHERE id = (SELECT id FROM wallet_addresses
           WHERE user_id = $1 AND network = $2 ORDER BY id LIMIT 1)"#,
        user as _,
        network
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a fan's points for an event, once.
pub async fn award_points(
    conn: &mut PgConnection,
    user: Uuid,
    event: EventId,
    points: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO loyalty_points (user_id, event_id, points, earned_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING"#,
        user,
        event as _,
        points,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A fan's points and the number of events they earned them at.
pub async fn points_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(points), 0)::int8 AS "points!", count(*) AS "events!" FROM loyalty_points
           WHERE user_id = $1"#,
        user as _
    )
    .fetch_one(conn)
    .await?;
    Ok((row.points, row.events))
}

/// A persona's stored profile document.
pub async fn persona(conn: &mut PgConnection, user: UserId, persona: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(r#"SELECT data FROM persona_profiles WHERE user_id = $1 AND persona = $2"#, user as _, persona)
        .fetch_optional(conn)
        .await
}

pub async fn upsert_persona(
    conn: &mut PgConnection,
    user: UserId,
    persona: &str,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO persona_profiles (user_id, persona, data, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id, persona) DO UPDATE SET data = $3, updated_at = $4"#,
        user as _,
        persona,
        data,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
