//! Outgoing webhooks: an organization registers endpoints with the event kinds it wants. Each delivery is
//! a job: the event as JSON, signed with `Backline-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`
//! (one `v1` per active secret while a secret is being rotated), retried with backoff, and logged with
//! its status and response time. An endpoint that keeps failing is disabled and its organization's
//! owners are told. Secrets are sealed at rest with the server key.

use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use identity::auth::Principal;
use identity::error::IdentityError;
use platform::events::{self, Event};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use platform::events::StoredEvent as EventRow;

/// Where a delivery may go: by default only to public addresses, so that an endpoint cannot make
/// Backline reach into its own network (SSRF).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryPolicy {
    /// Allow loopback, private, link-local and other internal addresses (development, tests).
    pub allow_private_targets: bool,
}

/// Whether an address is internal: loopback, private, link-local, unspecified, multicast, shared or
/// documentation ranges, IPv4-mapped forms of those, and IPv6 unique-local addresses.
pub fn is_internal(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Resolves the endpoint's host and picks an address the policy allows; the request is then pinned to
/// it, so a DNS answer that changes between this check and the connection cannot redirect it.
async fn resolve_target(url: &str, policy: DeliveryPolicy) -> Result<Option<(String, std::net::SocketAddr)>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("the endpoint URL is invalid: {e}"))?;
    let host = parsed.host_str().ok_or("the endpoint URL has no host")?.trim_matches(['[', ']']).to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if policy.allow_private_targets {
        return Ok(addrs.first().map(|a| (host, *a)));
    }
    if addrs.iter().any(|a| is_internal(a.ip())) {
        return Err(format!("{host} resolves to an internal address; deliveries go only to public addresses"));
    }
    Ok(addrs.first().map(|a| (host, *a)))
}

/// The job that delivers one event to one endpoint.
pub const DELIVER: JobKind = JobKind::new("webhook.deliver")
    .max_attempts(8)
    .backoff(Duration::from_secs(30), Duration::from_secs(6 * 3600))
    .lease(Duration::from_secs(60));

/// Consecutive failed deliveries after which an endpoint is disabled.
pub const DISABLE_AFTER: i32 = 15;
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);
/// The event kinds a receiver may subscribe to (`*` is every kind).
pub const EVENT_KINDS: &[&str] = &["organization.member_added", "webhook.test", "*"];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSecret {
    sealed: String,
    created_at: DateTime<Utc>,
    /// Set when rotated out: it still signs until then.
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
struct EndpointRow {
    id: Uuid,
    organization_id: Uuid,
    url: String,
    description: String,
    event_kinds: Vec<String>,
    secrets: Value,
    enabled: bool,
    disabled_reason: Option<String>,
    consecutive_failures: i32,
    created_at: DateTime<Utc>,
}

const ENDPOINT_COLUMNS: &str = "id, organization_id, url, description, event_kinds, secrets, enabled, disabled_reason, consecutive_failures, created_at";

#[derive(Debug, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_kinds: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// The signing secret, shown this once only.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub items: Vec<Endpoint>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// Where to POST events: `https://`, or `http://` for development.
    #[schema(example = "https://example.com/backline/webhooks")]
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Event kinds to send, or `["*"]` for all.
    #[schema(min_items = 1, example = json!(["organization.member_added"]))]
    pub event_kinds: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_kinds: Option<Vec<String>>,
    /// Re-enable an endpoint that was disabled after failures (or disable it).
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delivery {
    pub id: Uuid,
    pub event_id: Uuid,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub response_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
}

fn endpoint_dto(row: EndpointRow) -> Endpoint {
    Endpoint {
        id: row.id,
        organization_id: row.organization_id,
        url: row.url,
        description: row.description,
        event_kinds: row.event_kinds,
        enabled: row.enabled,
        disabled_reason: row.disabled_reason,
        consecutive_failures: row.consecutive_failures,
        created_at: row.created_at,
    }
}

/// `t=<unix>,v1=<hex>[,v1=<hex>...]` over `"{t}.{body}"`.
pub fn signature_header(secrets: &[String], timestamp: i64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { continue };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let digest = mac.finalize().into_bytes();
        header.push_str(",v1=");
        header.push_str(&platform::hex::encode(&digest));
    }
    header
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(16) {
        chunk.copy_from_slice(&Uuid::new_v4().into_bytes());
    }
    format!("whsec_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn check(url: Option<&str>, kinds: Option<&[String]>) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(url) = url {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2048
            && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            errors.push(FieldError::new("url", "invalid_format", "must be an http(s) URL with a host"));
        }
    }
    if let Some(kinds) = kinds {
        if kinds.is_empty() {
            errors.push(FieldError::new("event_kinds", "required", "must name at least one event kind, or *"));
        }
        for (i, kind) in kinds.iter().enumerate() {
            if !EVENT_KINDS.contains(&kind.as_str()) {
                errors.push(FieldError::new(
                    format!("event_kinds[{i}]"),
                    "unknown_event_kind",
                    format!("`{kind}` is not an event kind"),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

async fn require_manager(conn: &mut PgConnection, principal: &Principal, org: Uuid) -> Result<(), ApiError> {
    identity::service::organizations::require_permission(
        conn,
        principal,
        identity::model::OrgId(org),
        "webhooks.manage",
    )
    .await
}

pub async fn create(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    req: EndpointRequest,
    meta: &platform::http::ClientMeta,
) -> Result<EndpointWithSecret, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    check(Some(req.url.trim()), Some(&req.event_kinds))?;
    let secret = new_secret();
    let secrets =
        json!([StoredSecret { sealed: ctx.secrets.seal(secret.as_bytes()), created_at: now, expires_at: None }]);
    let row: EndpointRow = sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoints (id, organization_id, url, description, event_kinds, secrets, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(platform::ids::new_id())
    .bind(org)
    .bind(req.url.trim())
    .bind(req.description.trim())
    .bind(&req.event_kinds)
    .bind(&secrets)
    .bind(principal.user_id.0)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    platform::audit::Entry::new(principal.actor(), "webhook.create", "webhook_endpoint", row.id)
        .organization(org)
        .after(json!({"url": row.url, "event_kinds": row.event_kinds}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(EndpointWithSecret { endpoint: endpoint_dto(row), secret })
}

async fn endpoint(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<EndpointRow, ApiError> {
    sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(org)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| IdentityError::NotFound("webhook endpoint").into())
}

pub async fn list(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<EndpointList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    require_manager(&mut conn, principal, org).await?;
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE organization_id = $1 ORDER BY created_at, id"
    ))
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    Ok(EndpointList { items: rows.into_iter().map(endpoint_dto).collect() })
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    id: Uuid,
    req: EndpointUpdate,
    meta: &platform::http::ClientMeta,
) -> Result<Endpoint, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    let current = endpoint(&mut tx, org, id).await?;
    check(req.url.as_deref().map(str::trim), req.event_kinds.as_deref())?;
    let enabled = req.enabled.unwrap_or(current.enabled);
    let row: EndpointRow = sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET url = $2, description = $3, event_kinds = $4, enabled = $5, updated_at = $6,
                disabled_reason = CASE WHEN $5 THEN NULL ELSE coalesce(disabled_reason, 'disabled by a manager') END,
                consecutive_failures = CASE WHEN $5 AND NOT enabled THEN 0 ELSE consecutive_failures END
         WHERE id = $1 RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(id)
    .bind(req.url.as_deref().map_or(current.url.as_str(), str::trim))
    .bind(req.description.as_deref().map_or(current.description.as_str(), str::trim))
    .bind(req.event_kinds.as_ref().unwrap_or(&current.event_kinds))
    .bind(enabled)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    platform::audit::Entry::new(principal.actor(), "webhook.update", "webhook_endpoint", id)
        .organization(org)
        .before(json!({"url": current.url, "event_kinds": current.event_kinds, "enabled": current.enabled}))
        .after(json!({"url": row.url, "event_kinds": row.event_kinds, "enabled": row.enabled}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(endpoint_dto(row))
}

pub async fn delete(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    id: Uuid,
    meta: &platform::http::ClientMeta,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    let current = endpoint(&mut tx, org, id).await?;
    sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id).execute(&mut *tx).await?;
    platform::audit::Entry::new(principal.actor(), "webhook.delete", "webhook_endpoint", id)
        .organization(org)
        .before(json!({"url": current.url}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a new secret; the previous ones keep signing for [`ROTATION_OVERLAP`], so receivers can switch.
pub async fn rotate_secret(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    id: Uuid,
    meta: &platform::http::ClientMeta,
) -> Result<EndpointWithSecret, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    let current = endpoint(&mut tx, org, id).await?;
    let mut secrets: Vec<StoredSecret> = serde_json::from_value(current.secrets.clone()).unwrap_or_default();
    secrets.retain(|s| s.expires_at.is_none_or(|t| t > now));
    for old in &mut secrets {
        old.expires_at.get_or_insert(now + ROTATION_OVERLAP);
    }
    let secret = new_secret();
    secrets.push(StoredSecret { sealed: ctx.secrets.seal(secret.as_bytes()), created_at: now, expires_at: None });
    let row: EndpointRow = sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET secrets = $2, updated_at = $3 WHERE id = $1 RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(id)
    .bind(json!(secrets))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    platform::audit::Entry::new(principal.actor(), "webhook.rotate_secret", "webhook_endpoint", id)
        .organization(org)
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(EndpointWithSecret { endpoint: endpoint_dto(row), secret })
}

pub async fn deliveries(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    id: Uuid,
) -> Result<DeliveryList, ApiError> {
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    endpoint(&mut tx, org, id).await?;
    let items = sqlx::query_as(
        "SELECT id, event_id, state, attempts, last_status, last_error, response_ms, created_at, delivered_at
         FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT 200",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(DeliveryList { items })
}

/// Sends a `webhook.test` event to one endpoint.
pub async fn send_test(ctx: &AppContext, principal: &Principal, org: Uuid, id: Uuid) -> Result<Uuid, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    require_manager(&mut tx, principal, org).await?;
    endpoint(&mut tx, org, id).await?;
    let event = Event {
        kind: "webhook.test",
        recipients: vec![],
        organization: None,
        data: json!({"message": "A test event from Backline.", "endpoint_id": id}),
    };
    let event_id = events::emit(&mut tx, event, now).await?;
    queue_delivery(&mut tx, id, event_id, now).await?;
    tx.commit().await?;
    Ok(event_id)
}

async fn queue_delivery(conn: &mut PgConnection, endpoint: Uuid, event: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    let delivery = platform::ids::new_id();
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id",
    )
    .bind(delivery)
    .bind(endpoint)
    .bind(event)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(delivery) = inserted {
        jobs::enqueue(
            conn,
            NewJob::new(DELIVER, json!({"delivery_id": delivery})).unique(format!("webhook:{delivery}")),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Queues a delivery of `event` to every enabled endpoint of `org` that wants its kind.
pub async fn fan_out(conn: &mut PgConnection, event: &EventRow, org: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    let endpoints: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE organization_id = $1 AND enabled AND ($2 = ANY(event_kinds) OR '*' = ANY(event_kinds))",
    )
    .bind(org)
    .bind(&event.kind)
    .fetch_all(&mut *conn)
    .await?;
    for endpoint in endpoints {
        queue_delivery(conn, endpoint, event.id, now).await?;
    }
    Ok(())
}

/// The body receivers get. Its `organization_id` is the receiving endpoint's organization: an event is
/// only delivered to endpoints of the organization it concerns, and an event sent to one endpoint on
/// purpose (`webhook.test`) concerns that endpoint's organization.
pub fn payload(event: &EventRow, organization: Uuid) -> Value {
    json!({
        "id": event.id,
        "type": event.kind,
        "created_at": event.created_at,
        "organization_id": organization,
        "data": event.data,
    })
}

/// The `webhook.deliver` job.
async fn deliver(ctx: AppContext, policy: DeliveryPolicy, delivery: Uuid) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let row: Option<(Uuid, Uuid, String)> =
        sqlx::query_as("SELECT endpoint_id, event_id, state FROM webhook_deliveries WHERE id = $1")
            .bind(delivery)
            .fetch_optional(&ctx.db)
            .await?;
    let Some((endpoint_id, event_id, state)) = row else { return Err(JobFailure::permanent("no such delivery")) };
    if state == "delivered" {
        return Ok(());
    }
    let endpoint: Option<EndpointRow> =
        sqlx::query_as(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"))
            .bind(endpoint_id)
            .fetch_optional(&ctx.db)
            .await?;
    let Some(endpoint) = endpoint.filter(|e| e.enabled) else {
        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'failed', last_error = 'the endpoint is disabled' WHERE id = $1",
        )
        .bind(delivery)
        .execute(&ctx.db)
        .await?;
        return Ok(());
    };
    let event = platform::events::get(&mut *ctx.db.acquire().await?, event_id, false)
        .await?
        .ok_or_else(|| JobFailure::permanent("no such event"))?;
    let stored: Vec<StoredSecret> = serde_json::from_value(endpoint.secrets.clone()).unwrap_or_default();
    let secrets: Vec<String> = stored
        .iter()
        .filter(|s| s.expires_at.is_none_or(|t| t > now))
        .filter_map(|s| ctx.secrets.open(&s.sealed).ok())
        .filter_map(|bytes| String::from_utf8(bytes).ok())
        .collect();
    let body = serde_json::to_vec(&payload(&event, endpoint.organization_id)).unwrap_or_default();
    let signature = signature_header(&secrets, now.timestamp(), &body);
    let target = match resolve_target(&endpoint.url, policy).await {
        Ok(Some(target)) => target,
        Ok(None) => {
            return record_failure(&ctx, &endpoint, delivery, None, "the endpoint's host has no address".into(), now)
                .await;
        }
        Err(reason) => return record_failure(&ctx, &endpoint, delivery, None, reason, now).await,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&target.0, target.1)
        .build()
        .map_err(JobFailure::retry)?;
    let started = Instant::now();
    let outcome = client
        .post(&endpoint.url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Backline-Webhooks/1")
        .header("Backline-Signature", signature)
        .header("Backline-Event-Id", event.id.to_string())
        .header("Backline-Delivery-Id", delivery.to_string())
        .body(body)
        .send()
        .await;
    let response_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (status, error) = match outcome {
        Ok(response) if response.status().is_success() => (Some(i32::from(response.status().as_u16())), None),
        Ok(response) => {
            (Some(i32::from(response.status().as_u16())), Some(format!("the receiver answered {}", response.status())))
        }
        Err(err) => (None, Some(format!("cannot reach the receiver: {err}"))),
    };
    let Some(error) = error else {
        let mut tx = ctx.db.begin().await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = NULL, response_ms = $3,
                    state = 'delivered', delivered_at = $4
             WHERE id = $1",
        )
        .bind(delivery)
        .bind(status)
        .bind(response_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1")
            .bind(endpoint.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(());
    };
    sqlx::query("UPDATE webhook_deliveries SET last_status = $2, response_ms = $3 WHERE id = $1")
        .bind(delivery)
        .bind(status)
        .bind(response_ms)
        .execute(&ctx.db)
        .await?;
    record_failure(&ctx, &endpoint, delivery, status, error, now).await
}

/// Counts a failed attempt: the delivery is retried, or failed after its last attempt; the endpoint is
/// disabled (and its owners told) after too many failures in a row.
async fn record_failure(
    ctx: &AppContext,
    endpoint: &EndpointRow,
    delivery: Uuid,
    status: Option<i32>,
    error: String,
    now: DateTime<Utc>,
) -> Result<(), JobFailure> {
    let mut tx = ctx.db.begin().await?;
    let attempts: i32 = sqlx::query_scalar(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3 WHERE id = $1 RETURNING attempts",
    )
    .bind(delivery)
    .bind(status)
    .bind(&error)
    .fetch_one(&mut *tx)
    .await?;
    let failures: i32 = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING consecutive_failures",
    )
    .bind(endpoint.id)
    .fetch_one(&mut *tx)
    .await?;
    if failures >= DISABLE_AFTER {
        sqlx::query("UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2 WHERE id = $1 AND enabled")
            .bind(endpoint.id)
            .bind(format!("disabled after {failures} failed deliveries in a row"))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE webhook_deliveries SET state = 'failed' WHERE id = $1")
            .bind(delivery)
            .execute(&mut *tx)
            .await?;
        let owners = identity::service::org_owners(&mut tx, endpoint.organization_id).await?;
        let event = Event {
            kind: "webhook.endpoint_disabled",
            recipients: owners,
            organization: None,
            data: json!({"endpoint_id": endpoint.id, "url": endpoint.url, "failures": failures}),
        };
        events::emit(&mut tx, event, now).await?;
        tx.commit().await?;
        tracing::warn!(endpoint = %endpoint.id, failures, "webhook endpoint disabled");
        return Ok(());
    }
    if attempts >= DELIVER.max_attempts {
        sqlx::query("UPDATE webhook_deliveries SET state = 'failed' WHERE id = $1")
            .bind(delivery)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Err(JobFailure::retry(error))
}

pub fn register(registry: &mut Registry, policy: DeliveryPolicy) {
    registry.register(DELIVER, move |ctx: AppContext, job: Job| async move {
        let delivery: Uuid = job.field("delivery_id")?;
        deliver(ctx, policy, delivery).await
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "100.128.0.1"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn signatures_follow_the_documented_scheme() {
        // HMAC-SHA256("whsec_test", "1700000000.{}"), computed independently.
        let header = signature_header(&["whsec_test".into()], 1_700_000_000, b"{}");
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
    }
}
