//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::model::StoreId;

platform::text_enum! {
    /// How messages reach a store.
    pub enum Protocol { Sftp = "sftp", S3 = "s3" }
}

#[derive(Debug, Clone)]
pub struct StoreRow {
    pub id: StoreId,
    pub name: String,
    pub dpid: String,
    pub protocol: Protocol,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub username: Option<String>,
    pub bucket: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub path: String,
    /// Sealed (see `platform::crypto`).
    pub credentials: Option<String>,
    pub territories: Vec<String>,
    pub lead_days: i32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, s: &StoreRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO stores (id, name, dpid, protocol, host, port, username, bucket, region, endpoint, path, credentials,
                             territories, lead_days, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        s.id as _,
        s.name,
        s.dpid,
        s.protocol as _,
        s.host,
        s.port,
        s.username,
        s.bucket,
        s.region,
        s.endpoint,
        s.path,
        s.credentials,
        &s.territories,
        s.lead_days,
        s.enabled,
        s.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut PgConnection, s: &StoreRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE stores SET name = $2, dpid = $3, protocol = $4, host = $5, port = $6, username = $7, bucket = $8,
                region = $9, endpoint = $10, path = $11, credentials = $12, territories = $13, lead_days = $14,
                enabled = $15, updated_at = $16
         WHERE id = $1",
        s.id as _,
        s.name,
        s.dpid,
        s.protocol as _,
        s.host,
        s.port,
        s.username,
        s.bucket,
        s.region,
        s.endpoint,
        s.path,
        s.credentials,
        &s.territories,
        s.lead_days,
        s.enabled,
        s.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn store(conn: &mut PgConnection, id: StoreId) -> sqlx::Result<Option<StoreRow>> {
    sqlx::query_as!(
        StoreRow,
        r#"SELECT id AS "id: StoreId", name, dpid, protocol AS "protocol: Protocol", host, port, username, bucket, region,
                  endpoint, path, credentials, territories, lead_days, enabled, created_at, updated_at
           FROM stores WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// Every store by name (`enabled_only` for the list labels choose from).
pub async fn stores(conn: &mut PgConnection, enabled_only: bool) -> sqlx::Result<Vec<StoreRow>> {
    sqlx::query_as!(
        StoreRow,
        r#"SELECT id AS "id: StoreId", name, dpid, protocol AS "protocol: Protocol", host, port, username, bucket, region,
                  endpoint, path, credentials, territories, lead_days, enabled, created_at, updated_at
           FROM stores WHERE enabled OR NOT $1 ORDER BY lower(name) LIMIT 500"#,
        enabled_only
    )
    .fetch_all(conn)
    .await
}
