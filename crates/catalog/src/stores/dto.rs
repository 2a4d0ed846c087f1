//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::repo::StoreRow;
use crate::model::StoreId;

/// A store as admins see it (never its credentials).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Store {
    pub id: StoreId,
    pub name: String,
    /// The store's DDEX party id, the recipient of its messages.
    pub dpid: String,
    /// `sftp` or `s3`.
    pub protocol: String,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub username: Option<String>,
    pub bucket: Option<String>,
    pub region: Option<String>,
    /// An S3-compatible endpoint other than AWS's.
    pub endpoint: Option<String>,
    /// The folder (or key prefix) batches are delivered into.
    pub path: String,
    /// Whether credentials are stored (they are sealed and never shown).
    pub has_credentials: bool,
    /// The SFTP server's public key, pinned: a server showing another key is refused.
    pub host_key: Option<String>,
    pub ern_version: String,
    /// Territories the store serves (ISO 3166-1 alpha-2); empty means worldwide.
    pub territories: Vec<String>,
    /// Days before a release date a delivery is scheduled by default.
    pub lead_days: i32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StoreRow> for Store {
    fn from(s: StoreRow) -> Self {
        Self {
            id: s.id,
            name: s.name,
            dpid: s.dpid,
            protocol: s.protocol.as_str().into(),
            host: s.host,
            port: s.port,
            username: s.username,
            bucket: s.bucket,
            region: s.region,
            endpoint: s.endpoint,
            path: s.path,
            has_credentials: s.credentials.is_some(),
            host_key: s.host_key,
            ern_version: "4.3".into(),
            territories: s.territories,
            lead_days: s.lead_days,
            enabled: s.enabled,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A store as labels choose it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoreChoice {
    pub id: StoreId,
    pub name: String,
    pub dpid: String,
    pub territories: Vec<String>,
    pub lead_days: i32,
}

impl From<StoreRow> for StoreChoice {
    fn from(s: StoreRow) -> Self {
        Self { id: s.id, name: s.name, dpid: s.dpid, territories: s.territories, lead_days: s.lead_days }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreList {
    pub items: Vec<Store>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreChoices {
    pub items: Vec<StoreChoice>,
}

/// Add a store (`name`, `dpid`, `protocol` and the protocol's endpoint required) or change one: a
/// field left out stays as it is, `""` clears an optional text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreRequest {
    pub name: Option<String>,
    pub dpid: Option<String>,
    /// `sftp` (needs `host` and `username`), `s3` (needs `bucket`) or `directory` (a folder on the
    /// server's own disk: `path` under the configured drops directory, no credentials).
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub username: Option<String>,
    pub bucket: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub path: Option<String>,
    /// The SFTP server's public key as OpenSSH writes it (`ssh-ed25519 AAAA...`, as in `known_hosts` or
    /// `ssh-keyscan`); required for SFTP.
    pub host_key: Option<String>,
    /// Sealed at rest and never shown again: for SFTP `{"password": ...}` or `{"private_key": ...}`
    /// (OpenSSH format); for S3 `{"access_key_id": ..., "secret_access_key": ...}`. `{}` clears them.
    #[schema(value_type = Object)]
    pub credentials: Option<serde_json::Map<String, serde_json::Value>>,
    pub territories: Option<Vec<String>>,
    pub lead_days: Option<i32>,
    pub enabled: Option<bool>,
}
