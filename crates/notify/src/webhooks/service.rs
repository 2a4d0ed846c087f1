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
use platform::events::StoredEvent;
use platform::events::{self, Event};
use platform::jobs::{self, Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Delivery, DeliveryList, Endpoint, EndpointList, EndpointRequest, EndpointUpdate, EndpointWithSecret};
use super::repo::{self, DeliveryState, EndpointRow};

/// Where a delivery may go: by default only to public addresses, so that an endpoint cannot make
/// Backline reach into its own network (SSRF).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryPolicy {
    /// Allow loopback, private, link-local and other internal addresses (development, tests).
    pub allow_private_targets: bool,
}

/// Why a request reached no answer, in words an endpoint's owner can act on (reqwest's own message
/// names only the URL; its causes say what happened).
fn unreachable_reason(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return format!("the receiver did not answer within {} s (timed out)", DELIVERY_TIMEOUT.as_secs());
    }
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    match (err.is_connect(), causes.last()) {
        (true, Some(cause)) => format!("cannot connect to the receiver: {cause}"),
        (_, Some(cause)) => format!("cannot reach the receiver: {cause}"),
        _ => format!("cannot reach the receiver: {err}"),
    }
}

/// How long a receiver has to answer a delivery.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

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
    let new = repo::NewEndpoint {
        id: platform::ids::new_id(),
        organization_id: org,
        url: req.url.trim(),
        description: req.description.trim(),
        event_kinds: &req.event_kinds,
        secrets: &secrets,
        created_by: principal.user_id.0,
    };
    let row = repo::insert_endpoint(&mut tx, &new, now).await?;
    platform::audit::Entry::new(principal.actor(), "webhook.create", "webhook_endpoint", row.id)
        .organization(org)
        .after(json!({"url": row.url, "event_kinds": row.event_kinds}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(EndpointWithSecret { endpoint: row.into(), secret })
}

async fn endpoint(conn: &mut PgConnection, org: Uuid, id: Uuid) -> Result<EndpointRow, ApiError> {
    repo::endpoint_for_update(conn, org, id).await?.ok_or_else(|| IdentityError::NotFound("webhook endpoint").into())
}

pub async fn list(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<EndpointList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    require_manager(&mut conn, principal, org).await?;
    let rows = repo::endpoints_of(&mut conn, org).await?;
    Ok(EndpointList { items: rows.into_iter().map(Endpoint::from).collect() })
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
    let change = repo::EndpointChange {
        url: req.url.as_deref().map_or(current.url.as_str(), str::trim),
        description: req.description.as_deref().map_or(current.description.as_str(), str::trim),
        event_kinds: req.event_kinds.as_deref().unwrap_or(&current.event_kinds),
        enabled,
    };
    let row = repo::update_endpoint(&mut tx, id, &change, now).await?;
    platform::audit::Entry::new(principal.actor(), "webhook.update", "webhook_endpoint", id)
        .organization(org)
        .before(json!({"url": current.url, "event_kinds": current.event_kinds, "enabled": current.enabled}))
        .after(json!({"url": row.url, "event_kinds": row.event_kinds, "enabled": row.enabled}))
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(row.into())
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
    repo::delete_endpoint(&mut tx, id).await?;
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
    let row = repo::set_secrets(&mut tx, id, &json!(secrets), now).await?;
    platform::audit::Entry::new(principal.actor(), "webhook.rotate_secret", "webhook_endpoint", id)
        .organization(org)
        .ip(meta.ip.as_deref())
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(EndpointWithSecret { endpoint: row.into(), secret })
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
    let items = repo::deliveries(&mut tx, id).await?.into_iter().map(Delivery::from).collect();
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
    let inserted = repo::insert_delivery(conn, delivery, endpoint, event, now).await?;
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
pub async fn fan_out(conn: &mut PgConnection, event: &StoredEvent, org: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    let endpoints = repo::subscribed(conn, org, &event.kind).await?;
    for endpoint in endpoints {
        queue_delivery(conn, endpoint, event.id, now).await?;
    }
    Ok(())
}

/// The body receivers get. Its `organization_id` is the receiving endpoint's organization: an event is
/// only delivered to endpoints of the organization it concerns, and an event sent to one endpoint on
/// purpose (`webhook.test`) concerns that endpoint's organization.
pub fn payload(event: &StoredEvent, organization: Uuid) -> Value {
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
    let Some(target) = repo::delivery_target(&ctx.db, delivery).await? else {
        return Err(JobFailure::permanent("no such delivery"));
    };
    if target.state == DeliveryState::Delivered {
        return Ok(());
    }
    let event_id = target.event_id;
    let Some(endpoint) = repo::endpoint(&ctx.db, target.endpoint_id).await?.filter(|e| e.enabled) else {
        repo::fail_delivery(&ctx.db, delivery, Some("the endpoint is disabled")).await?;
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
        .timeout(DELIVERY_TIMEOUT)
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
        Err(err) => (None, Some(unreachable_reason(&err))),
    };
    let Some(error) = error else {
        let mut tx = ctx.db.begin().await?;
        repo::delivered(&mut tx, delivery, status, response_ms, now).await?;
        repo::reset_endpoint_failures(&mut tx, endpoint.id).await?;
        tx.commit().await?;
        return Ok(());
    };
    repo::record_response(&ctx.db, delivery, status, response_ms).await?;
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
    let attempts = repo::count_attempt(&mut tx, delivery, status, &error).await?;
    let failures = repo::count_endpoint_failure(&mut tx, endpoint.id).await?;
    if failures >= DISABLE_AFTER {
        let reason = format!("disabled after {failures} failed deliveries in a row");
        repo::disable_endpoint(&mut tx, endpoint.id, &reason).await?;
        repo::fail_delivery(&mut *tx, delivery, None).await?;
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
        repo::fail_delivery(&mut *tx, delivery, None).await?;
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

/// Webhook deliveries for `/metrics`: those being retried after a failure, and those given up.
pub fn metrics_collector() -> platform::metrics::Collector {
    std::sync::Arc::new(|pool: sqlx::PgPool| {
        Box::pin(async move {
            let counts = super::repo::failing_counts(&pool).await?;
            let help = "Webhook deliveries that failed: retrying (will be tried again) or failed (given up).";
            Ok(vec![
                platform::metrics::Sample::new("backline_webhook_deliveries_failing", help, counts.0 as f64)
                    .label("state", "retrying"),
                platform::metrics::Sample::new("backline_webhook_deliveries_failing", help, counts.1 as f64)
                    .label("state", "failed"),
            ])
        })
    })
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
