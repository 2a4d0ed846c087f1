//! The stores registry: admins add and change stores; labels list the enabled ones to choose from.
//! Credentials are checked for their shape, sealed, and never returned.

use identity::auth::Principal;
use identity::authz::{Target, authorize};
use platform::error::FieldError;
use platform::{ApiError, AppContext};
use serde_json::json;

use super::dto::{Store, StoreChoices, StoreList, StoreRequest};
use super::repo::{self, Protocol, StoreRow};
use crate::error::CatalogError;
use crate::fields;
use crate::labels::service::dpid_valid;
use crate::model::StoreId;

pub const STORES_MANAGE: &str = "stores.manage";

/// The credential fields each protocol takes.
fn credential_fields(protocol: Protocol) -> &'static [&'static str] {
    match protocol {
        Protocol::Sftp => &["password", "private_key"],
        Protocol::S3 => &["access_key_id", "secret_access_key"],
        Protocol::Directory => &[],
    }
}

fn apply(ctx: &AppContext, s: &mut StoreRow, req: &StoreRequest, errors: &mut Vec<FieldError>) {
    fields::required("name", req.name.as_deref(), &mut s.name, 100, errors);
    if let Some(dpid) = &req.dpid {
        if !dpid_valid(dpid.trim()) {
            errors.push(FieldError::new(
                "dpid",
                "invalid_format",
                "must be a DDEX party id: PADPIDA and letters or digits",
            ));
        }
        s.dpid = dpid.trim().to_owned();
    }
    if let Some(p) = &req.protocol {
        match Protocol::parse(p.trim()) {
            Some(p) => s.protocol = p,
            None => errors.push(FieldError::new("protocol", "invalid_value", "must be sftp, s3 or directory")),
        }
    }
    fields::optional("host", req.host.as_deref(), &mut s.host, 255, errors);
    if let Some(port) = req.port {
        if !(1..=65535).contains(&port) {
            errors.push(FieldError::new("port", "out_of_range", "must be 1 to 65535"));
        }
        s.port = Some(port);
    }
    fields::optional("username", req.username.as_deref(), &mut s.username, 100, errors);
    fields::optional("bucket", req.bucket.as_deref(), &mut s.bucket, 63, errors);
    fields::optional("region", req.region.as_deref(), &mut s.region, 50, errors);
    fields::optional("endpoint", req.endpoint.as_deref(), &mut s.endpoint, 500, errors);
    if let Some(endpoint) = &s.endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        errors.push(FieldError::new("endpoint", "invalid_url", "must be an http(s) URL"));
    }
    if let Some(path) = &req.path {
        // A leading `/` is an absolute folder on an SFTP server; without it, one in the login's home.
        let path = path.trim().trim_end_matches('/');
        if path.len() > 500 || path.split('/').any(|part| part == "..") {
            errors.push(FieldError::new(
                "path",
                "invalid_format",
                "must be a folder path of at most 500 characters, without ..",
            ));
        }
        s.path = path.to_owned();
    }
    if let Some(list) = &req.territories {
        s.territories = fields::territories("territories", list, errors);
    }
    if let Some(days) = req.lead_days {
        if !(0..=90).contains(&days) {
            errors.push(FieldError::new("lead_days", "out_of_range", "must be 0 to 90"));
        }
        s.lead_days = days;
    }
    if let Some(enabled) = req.enabled {
        s.enabled = enabled;
    }
    fields::optional("host_key", req.host_key.as_deref(), &mut s.host_key, 4096, errors);
    if let Some(key) = &s.host_key
        && crate::transfer::parse_host_key(key).is_err()
    {
        errors.push(FieldError::new(
            "host_key",
            "invalid_format",
            "must be an OpenSSH public key: ssh-ed25519 AAAA...",
        ));
    }
    match s.protocol {
        Protocol::Sftp if s.host.is_none() || s.username.is_none() => {
            errors.push(FieldError::new("host", "required", "an SFTP store needs a host and a username"));
        }
        Protocol::Sftp if s.host_key.is_none() => {
            errors.push(FieldError::new("host_key", "required", "an SFTP store needs its server's public key"));
        }
        Protocol::S3 if s.bucket.is_none() => {
            errors.push(FieldError::new("bucket", "required", "an S3 store needs a bucket"));
        }
        Protocol::Directory if s.path.is_empty() => {
            errors.push(FieldError::new("path", "required", "a directory store needs its own folder"));
        }
        _ => {}
    }
    if let Some(creds) = &req.credentials {
        let allowed = credential_fields(s.protocol);
        for (key, value) in creds {
            if !allowed.contains(&key.as_str()) {
                let takes =
                    if allowed.is_empty() { "takes none".to_owned() } else { format!("takes {}", allowed.join(", ")) };
                errors.push(FieldError::new(format!("credentials.{key}"), "unknown_field", takes));
            } else if !value.as_str().is_some_and(|v| !v.is_empty() && v.len() <= 16_384) {
                errors.push(FieldError::new(
                    format!("credentials.{key}"),
                    "invalid_type",
                    "must be a text of 1 to 16,384 characters",
                ));
            }
        }
        if s.protocol == Protocol::S3 && !creds.is_empty() && creds.len() != 2 {
            errors.push(FieldError::new(
                "credentials",
                "required",
                "an S3 store takes access_key_id and secret_access_key together",
            ));
        }
        s.credentials = (!creds.is_empty()).then(|| ctx.secrets.seal(&serde_json::to_vec(creds).unwrap_or_default()));
    }
    if s.protocol == Protocol::Directory {
        // Whatever another protocol kept is of no use to a folder, and is not kept.
        s.credentials = None;
    }
}

fn audit_view(s: &StoreRow) -> serde_json::Value {
    json!({"name": s.name, "dpid": s.dpid, "protocol": s.protocol, "host": s.host, "bucket": s.bucket,
           "path": s.path, "territories": s.territories, "enabled": s.enabled, "has_credentials": s.credentials.is_some()})
}

fn name_taken(err: sqlx::Error) -> ApiError {
    if err.as_database_error().and_then(|d| d.constraint()) == Some("stores_name_key") {
        return ApiError::invalid_field("name", "taken", "another store has this name");
    }
    CatalogError::from(err).into()
}

pub async fn create(ctx: &AppContext, principal: &Principal, req: StoreRequest) -> Result<Store, ApiError> {
    authorize(principal, STORES_MANAGE, Target::Platform)?;
    let now = ctx.clock.now();
    let mut s = StoreRow {
        id: StoreId::new(),
        name: String::new(),
        dpid: String::new(),
        protocol: Protocol::Sftp,
        host: None,
        port: None,
        username: None,
        bucket: None,
        region: None,
        endpoint: None,
        path: String::new(),
        credentials: None,
        host_key: None,
        territories: Vec::new(),
        lead_days: 14,
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    let mut errors = Vec::new();
    for (given, field) in
        [(req.name.is_some(), "name"), (req.dpid.is_some(), "dpid"), (req.protocol.is_some(), "protocol")]
    {
        if !given {
            errors.push(FieldError::new(field, "required", "is required"));
        }
    }
    apply(ctx, &mut s, &req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = ctx.db.begin().await?;
    repo::insert(&mut tx, &s).await.map_err(name_taken)?;
    platform::audit::Entry::new(principal.actor(), "store.create", "store", s.id.0)
        .after(audit_view(&s))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(s.into())
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: StoreId,
    req: StoreRequest,
) -> Result<Store, ApiError> {
    authorize(principal, STORES_MANAGE, Target::Platform)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut s = repo::store(&mut tx, id).await?.ok_or(CatalogError::NotFound("store"))?;
    let before = audit_view(&s);
    let protocol_changed = req.protocol.as_deref().is_some_and(|p| p.trim() != s.protocol.as_str());
    let mut errors = Vec::new();
    let needs_credentials =
        req.protocol.as_deref().and_then(|p| Protocol::parse(p.trim())) != Some(Protocol::Directory);
    if protocol_changed && needs_credentials && req.credentials.is_none() {
        errors.push(FieldError::new("credentials", "required", "a new protocol needs its own credentials"));
    }
    apply(ctx, &mut s, &req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    s.updated_at = now;
    repo::update(&mut tx, &s).await.map_err(name_taken)?;
    platform::audit::Entry::new(principal.actor(), "store.update", "store", id.0)
        .before(before)
        .after(audit_view(&s))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(s.into())
}

pub async fn list(ctx: &AppContext, principal: &Principal) -> Result<StoreList, ApiError> {
    authorize(principal, STORES_MANAGE, Target::Platform)?;
    let mut conn = ctx.db.acquire().await?;
    Ok(StoreList { items: repo::stores(&mut conn, false).await?.into_iter().map(Store::from).collect() })
}

/// The enabled stores, for a label choosing where a release goes.
pub async fn choices(ctx: &AppContext) -> Result<StoreChoices, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(StoreChoices { items: repo::stores(&mut conn, true).await?.into_iter().map(Into::into).collect() })
}
