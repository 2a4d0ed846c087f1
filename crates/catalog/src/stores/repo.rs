//! The area's SQL, checked at compile time. Functions take a connection so the service owns the transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::model::StoreId;

platform::text_enum! {
    /// How messages reach a store.
    pub enum Protocol { Sftp = "sftp", S3 = "s3", Directory = "directory" }
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
    /// An SFTP server's public key (`ssh-ed25519 AAAA...`), pinned.
    pub host_key: Option<String>,
    pub territories: Vec<String>,
    pub lead_days: i32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, s: &StoreRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO stores (id, name, dpid, protocol, host, port, username, bucket, region, endpoint, path, credentials,
                             territories, lead_days, enabled, created_at, updated_at, host_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17)",
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
        s.created_at,
        s.host_key
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut PgConnection, s: &StoreRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE stores SET name = $2, dpid = $3, protocol = $4, host = $5, port = $6, username = $7, bucket = $8,
                region = $9, endpoint = $10, path = $11, credentials = $12, territories = $13, lead_days = $14,
                enabled = $15, updated_at = $16, host_key = $17
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
        s.updated_at,
        s.host_key
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn store(conn: &mut PgConnection, id: StoreId) -> sqlx::Result<Option<StoreRow>> {
    sqlx::query_as!(
        StoreRow,
        r#"SELECT id AS "id: StoreId", name, dpid, protocol AS "protocol: Protocol", host, port, username, bucket, region,
                  endpoint, path, credentials, host_key, territories, lead_days, enabled, created_at, updated_at
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
                  endpoint, path, credentials, host_key, territories, lead_days, enabled, created_at, updated_at
           FROM stores WHERE enabled OR NOT $1 ORDER BY lower(name) LIMIT 500"#,
        enabled_only
    )
    .fetch_all(conn)
    .await
}

impl StoreRow {
    /// How to reach the store, its credentials opened with the context's secrets; a directory store's
    /// folder is its path under the context's drops directory.
    pub fn endpoint(&self, ctx: &platform::AppContext) -> anyhow::Result<crate::transfer::Endpoint> {
        let creds: serde_json::Map<String, serde_json::Value> = match &self.credentials {
            Some(sealed) => serde_json::from_slice(&ctx.secrets.open(sealed).map_err(|e| anyhow::anyhow!("{e}"))?)?,
            None => serde_json::Map::new(),
        };
        let text = |k: &str| creds.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(match self.protocol {
            Protocol::Sftp => crate::transfer::Endpoint::Sftp {
                host: self.host.clone().unwrap_or_default(),
                port: self.port.map_or(22, |p| p as u16),
                username: self.username.clone().unwrap_or_default(),
                private_key: text("private_key"),
                password: text("password"),
                host_key: self.host_key.clone().ok_or_else(|| anyhow::anyhow!("the store has no host key"))?,
            },
            Protocol::S3 => crate::transfer::Endpoint::S3 {
                bucket: self.bucket.clone().unwrap_or_default(),
                region: self.region.clone().unwrap_or_else(|| "us-east-1".into()),
                endpoint: self.endpoint.clone(),
                access_key_id: text("access_key_id").unwrap_or_default(),
                secret_access_key: text("secret_access_key").unwrap_or_default(),
            },
            Protocol::Directory => {
                // The service refuses `..` in a path; checked again here, where it would matter.
                anyhow::ensure!(
                    !self.path.split('/').any(|p| p == ".."),
                    "the store's folder leaves the drops directory"
                );
                crate::transfer::Endpoint::Directory { root: ctx.drops.to_path_buf() }
            }
        })
    }
}
