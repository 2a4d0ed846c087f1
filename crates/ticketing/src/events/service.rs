//! Events: create, edit, find, delete, and move through their lifecycle; categories and tags.

use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::model::OrgId;
use identity::party::Party;
use platform::pagination::{Page, PageParams, decode_cursor};
use platform::{ApiError, AppContext, FieldError};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Event, EventPatch, NewEvent, StatusChange};
use super::repo::{EventRow, SearchFilter, SearchRow};
use super::{dto, repo};
use crate::error::{TicketingCode, TicketingError};
use crate::model::{CategoryId, EventId, Tag};
use crate::signing;
use crate::state::{self, Actor, EventStatus};

const MAX_TAGS: usize = 20;

/// Checks the fields an event has, whether new or changed; collects every problem.
async fn check_fields(conn: &mut PgConnection, row: &EventRow, errors: &mut Vec<FieldError>) -> Result<(), ApiError> {
    let title = row.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new("title", "invalid_length", "must be 1 to 200 characters"));
    }
    if row.description.chars().count() > 20_000 {
        errors.push(FieldError::new("description", "too_long", "must be at most 20,000 characters"));
    }
    if row.ends_at <= row.starts_at {
        errors.push(FieldError::new("ends_at", "before_start", "must be after starts_at"));
    }
    if row.timezone.len() > 64 || !repo::timezone_exists(conn, &row.timezone).await? {
        errors.push(FieldError::new("timezone", "unknown_timezone", "must be an IANA time zone such as Europe/Berlin"));
    }
    if row.capacity.is_some_and(|c| c < 1) {
        errors.push(FieldError::new("capacity", "out_of_range", "must be at least 1"));
    }
    if row.country.as_deref().is_some_and(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase())) {
        errors.push(FieldError::new("venue.country", "invalid_format", "must be an ISO 3166-1 alpha-2 code (DE)"));
    }
    for (field, value) in [("venue.name", &row.venue_name), ("venue.address", &row.address), ("venue.city", &row.city)]
    {
        if value.as_deref().is_some_and(|v| v.chars().count() > 200) {
            errors.push(FieldError::new(field, "too_long", "must be at most 200 characters"));
        }
    }
    if let Some(url) = &row.cover_url {
        let ok = (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2000 && !url.contains(' ');
        if !ok {
            errors.push(FieldError::new(
                "cover_url",
                "invalid_url",
                "must be an http(s) URL of at most 2,000 characters",
            ));
        }
    }
    if !(0..=100_000).contains(&row.resale_cap_bps) {
        errors.push(FieldError::new(
            "resale_cap_bps",
            "out_of_range",
            "must be between 0 and 100,000 basis points of face value",
        ));
    }
    Ok(())
}

fn parse_tags(raw: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if raw.len() > MAX_TAGS {
        errors.push(FieldError::new("tags", "too_many", format!("at most {MAX_TAGS} tags")));
    }
    let mut tags = Vec::new();
    for (i, tag) in raw.iter().enumerate() {
        match Tag::parse(tag) {
            Some(tag) if !tags.contains(&tag.as_str().to_owned()) => tags.push(tag.as_str().to_owned()),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("tags[{i}]"),
                "invalid_tag",
                "must be 1 to 40 letters, digits, spaces or &+.-",
            )),
        }
    }
    tags
}

async fn category_id(
    conn: &mut PgConnection,
    slug: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<CategoryId>, ApiError> {
    let Some(slug) = slug.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    match repo::category_by_slug(conn, slug).await? {
        Some(category) => Ok(Some(category.id)),
        None => {
            errors.push(FieldError::new("category", "unknown_category", "is not a category slug"));
            Ok(None)
        }
    }
}

fn empty_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Creates a draft event organized by the caller, or by an organization where they hold `events.manage`.
pub async fn create(ctx: &AppContext, principal: &Principal, req: NewEvent) -> Result<Event, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (organizer_user_id, organizer_org_id) = match req.organization_id {
        Some(org) => {
            identity::service::organizations::require_permission(&mut tx, principal, OrgId(org), "events.manage")
                .await?;
            (None, Some(org))
        }
        None => {
            identity::authz::authorize(
                principal,
                "events.manage",
                identity::authz::Target::OwnedBy(principal.user_id),
            )?;
            (Some(principal.user_id.0), None)
        }
    };
    let mut errors = Vec::new();
    let category_id = category_id(&mut tx, req.category.as_deref(), &mut errors).await?;
    let tags = parse_tags(&req.tags, &mut errors);
    let (secret, public) = signing::new_key();
    let row = EventRow {
        id: EventId::new(),
        organizer_user_id,
        organizer_org_id,
        created_by: principal.user_id.0,
        title: req.title.trim().to_owned(),
        description: req.description,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        timezone: req.timezone.trim().to_owned(),
        capacity: req.capacity,
        venue_name: empty_to_none(req.venue.name),
        address: empty_to_none(req.venue.address),
        city: empty_to_none(req.venue.city),
        country: empty_to_none(req.venue.country),
        cover_url: empty_to_none(req.cover_url),
        category_id,
        status: EventStatus::Draft,
        resale_cap_bps: req.resale_cap_bps.unwrap_or(10_000),
        signing_key_sealed: ctx.secrets.seal(&secret),
        signing_public_key: public.to_vec(),
        published_at: None,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    check_fields(&mut tx, &row, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    repo::insert_event(&mut tx, &row).await?;
    repo::set_tags(&mut tx, row.id, &tags).await?;
    platform::audit::Entry::new(principal.actor(), "event.create", "event", row.id.0)
        .after(json!({"title": row.title, "organizer": row.organizer()}))
        .record(&mut tx, now)
        .await?;
    let event = to_dto(&mut tx, &row, Standing::Manager).await?;
    tx.commit().await?;
    Ok(event)
}

/// The event as the caller may see it.
pub async fn get(ctx: &AppContext, principal: Option<&Principal>, id: EventId) -> Result<Event, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, standing) = visible_event(&mut conn, principal, id, false).await?;
    to_dto(&mut conn, &row, standing).await
}

pub(crate) async fn to_dto(conn: &mut PgConnection, row: &EventRow, standing: Standing) -> Result<Event, ApiError> {
    let category = match row.category_id {
        Some(id) => repo::category(conn, id).await?.map(|c| dto::CategoryRef { id: c.id, slug: c.slug, name: c.name }),
        None => None,
    };
    Ok(Event {
        id: row.id,
        organizer: row.organizer(),
        title: row.title.clone(),
        description: row.description.clone(),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        timezone: row.timezone.clone(),
        capacity: row.capacity,
        venue: dto::Venue {
            name: row.venue_name.clone(),
            address: row.address.clone(),
            city: row.city.clone(),
            country: row.country.clone(),
        },
        cover_url: row.cover_url.clone(),
        category,
        tags: repo::tags_of(conn, row.id).await?,
        status: row.status,
        resale_cap_bps: row.resale_cap_bps,
        tiers: crate::tiers::repo::tiers(conn, row.id, standing.sees_everything())
            .await?
            .into_iter()
            .map(crate::tiers::dto::Tier::from)
            .collect(),
        published_at: row.published_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Changes an event. A completed event is final; times and capacity stay consistent with its tiers.
pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
    patch: EventPatch,
) -> Result<Event, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut row, standing) = managed_event(&mut tx, principal, id).await?;
    if row.status == EventStatus::Completed {
        return Err(ApiError::new(TicketingCode::EventCompleted, "A completed event cannot be changed."));
    }
    let before = json!({"title": row.title, "starts_at": row.starts_at, "ends_at": row.ends_at});
    let mut errors = Vec::new();
    if let Some(title) = patch.title {
        row.title = title.trim().to_owned();
    }
    if let Some(description) = patch.description {
        row.description = description;
    }
    row.starts_at = patch.starts_at.unwrap_or(row.starts_at);
    row.ends_at = patch.ends_at.unwrap_or(row.ends_at);
    if let Some(timezone) = patch.timezone {
        row.timezone = timezone.trim().to_owned();
    }
    if let Some(capacity) = patch.capacity {
        let tickets: i64 =
            crate::tiers::repo::tiers(&mut tx, id, true).await?.iter().map(|t| i64::from(t.quantity)).sum();
        if i64::from(capacity) < tickets {
            errors.push(FieldError::new(
                "capacity",
                "below_tiers",
                format!("must hold the {tickets} tickets its tiers offer"),
            ));
        }
        row.capacity = Some(capacity);
    }
    if let Some(venue) = patch.venue {
        row.venue_name = empty_to_none(venue.name);
        row.address = empty_to_none(venue.address);
        row.city = empty_to_none(venue.city);
        row.country = empty_to_none(venue.country);
    }
    if let Some(url) = patch.cover_url {
        row.cover_url = empty_to_none(Some(url));
    }
    if let Some(slug) = patch.category {
        row.category_id = category_id(&mut tx, Some(&slug), &mut errors).await?;
    }
    if let Some(cap) = patch.resale_cap_bps {
        row.resale_cap_bps = cap;
    }
    let tags = patch.tags.as_deref().map(|tags| parse_tags(tags, &mut errors));
    check_fields(&mut tx, &row, &mut errors).await?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    row.updated_at = now;
    repo::update_event(&mut tx, &row).await?;
    if let Some(tags) = tags {
        repo::set_tags(&mut tx, id, &tags).await?;
    }
    platform::audit::Entry::new(principal.actor(), "event.update", "event", id.0)
        .before(before)
        .after(json!({"title": row.title, "starts_at": row.starts_at, "ends_at": row.ends_at}))
        .record(&mut tx, now)
        .await?;
    let event = to_dto(&mut tx, &row, standing).await?;
    tx.commit().await?;
    Ok(event)
}

/// Moves an event to another status, if the transition exists, the caller's standing allows it, and the
/// event meets its conditions.
pub async fn change_status(
    ctx: &AppContext,
    principal: &Principal,
    id: EventId,
    req: StatusChange,
) -> Result<Event, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut row, standing) = managed_event(&mut tx, principal, id).await?;
    let from = row.status;
    let to = req.status;
    let actor = standing.actor().unwrap_or(Actor::Organizer);
    state::check(from, to, actor).map_err(TicketingError::from)?;
    match to {
        EventStatus::Published => {
            principal.require_verified()?;
            let mut errors = Vec::new();
            if row.starts_at <= now {
                errors.push(FieldError::new("starts_at", "in_the_past", "must be in the future to publish"));
            }
            if crate::tiers::repo::tiers(&mut tx, id, true).await?.is_empty() {
                errors.push(FieldError::new("tiers", "required", "publishing needs at least one ticket tier"));
            }
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
            row.published_at = row.published_at.or(Some(now));
        }
        EventStatus::Completed if row.ends_at > now && actor != Actor::Admin => {
            return Err(ApiError::new(TicketingCode::EventNotOver, "An event can be completed once it has ended."));
        }
        // Reserved tickets go back: tickets are sold only while the event is published.
        EventStatus::Cancelled | EventStatus::Draft | EventStatus::Completed | EventStatus::Postponed => {
            crate::orders::service::cancel_pending(&mut tx, id, now).await?;
        }
    }
    row.status = to;
    row.updated_at = now;
    repo::update_event(&mut tx, &row).await?;
    match to {
        EventStatus::Cancelled => {
            crate::aftersale::service::on_cancelled(&mut tx, &row, req.reason.as_deref(), now).await?;
        }
        EventStatus::Completed => crate::settlement::service::queue(&mut tx, id, now).await?,
        EventStatus::Published => schedule_completion(&mut tx, &row, now).await?,
        EventStatus::Postponed => {
            crate::aftersale::service::notify_holders(&mut tx, &row, "event.postponed", req.reason.as_deref(), now)
                .await?;
        }
        _ => {}
    }
    platform::audit::Entry::new(principal.actor(), "event.status", "event", id.0)
        .before(json!({"status": from}))
        .after(json!({"status": to, "reason": req.reason}))
        .record(&mut tx, now)
        .await?;
    let event = to_dto(&mut tx, &row, standing).await?;
    tx.commit().await?;
    Ok(event)
}

/// A published event completes by itself this long after its end (its money is then settled): a day
/// after bookings of the event complete by their own timer (48 hours), so that door and versus deals
/// settle from its ticket money first.
pub const COMPLETE_AFTER: chrono::Duration = chrono::Duration::hours(72);

pub const COMPLETE: platform::jobs::JobKind = platform::jobs::JobKind::new("ticketing.event.complete").max_attempts(10);

async fn schedule_completion(
    conn: &mut PgConnection,
    row: &EventRow,
    now: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    let job = platform::jobs::NewJob::new(COMPLETE, json!({"event_id": row.id})).at(row.ends_at + COMPLETE_AFTER);
    // One waiting timer per event; the running one (rescheduling itself) is not waiting.
    platform::jobs::enqueue(conn, job.unique(format!("event:{}:complete", row.id)), now).await?;
    Ok(())
}

/// The `ticketing.event.complete` job: a published event 72 hours past its end completes (the system's
/// transition) and its settlement is queued. If its times moved, the job waits for the new end.
async fn complete_by_timer(ctx: AppContext, id: EventId) -> Result<(), platform::jobs::JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(mut row) = repo::event(&mut tx, id, true).await? else { return Ok(()) };
    if row.status != EventStatus::Published {
        return Ok(());
    }
    if row.ends_at + COMPLETE_AFTER > now {
        // The event moved: wait for its new end (this run still holds the timer's key, so no key here).
        let job = platform::jobs::NewJob::new(COMPLETE, json!({"event_id": row.id})).at(row.ends_at + COMPLETE_AFTER);
        platform::jobs::enqueue(&mut tx, job, now).await?;
        tx.commit().await?;
        return Ok(());
    }
    state::check(EventStatus::Published, EventStatus::Completed, Actor::System)
        .map_err(|e| platform::jobs::JobFailure::permanent(e.to_string()))?;
    row.status = EventStatus::Completed;
    row.updated_at = now;
    repo::update_event(&mut tx, &row).await?;
    crate::orders::service::cancel_pending(&mut tx, id, now)
        .await
        .map_err(|e| platform::jobs::JobFailure::retry(format!("{e:?}")))?;
    crate::settlement::service::queue(&mut tx, id, now).await?;
    platform::audit::Entry::new(platform::audit::Actor::default(), "event.status", "event", id.0)
        .before(json!({"status": "published"}))
        .after(json!({"status": "completed", "by": "timer"}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub fn register(registry: &mut platform::jobs::Registry) {
    registry.register(COMPLETE, |ctx: AppContext, job: platform::jobs::Job| async move {
        complete_by_timer(ctx, job.field("event_id")?).await
    });
}

/// Soft-deletes an event that never sold a ticket.
pub async fn delete(ctx: &AppContext, principal: &Principal, id: EventId) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, _) = managed_event(&mut tx, principal, id).await?;
    let sold: i64 =
        crate::tiers::repo::tiers(&mut tx, id, true).await?.iter().map(|t| i64::from(t.sold + t.held)).sum();
    if sold > 0 {
        return Err(ApiError::new(
            TicketingCode::EventHasTickets,
            "An event with sold or reserved tickets cannot be deleted; cancel it instead (its tickets are refunded).",
        ));
    }
    repo::soft_delete_event(&mut tx, id, now).await?;
    platform::audit::Entry::new(principal.actor(), "event.delete", "event", id.0)
        .before(json!({"title": row.title, "status": row.status}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Public search, ranked by relevance when there are words to look for.
pub async fn search(ctx: &AppContext, q: dto::EventSearch) -> Result<Page<dto::EventSummary>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    let after: Option<(f32, chrono::DateTime<chrono::Utc>, Uuid)> =
        q.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
    let mut conn = ctx.reader().acquire().await?;
    let query = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if query.is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::invalid_field("q", "too_long", "must be at most 200 characters"));
    }
    let category = match q.category.as_deref() {
        Some(slug) => Some(
            repo::category_by_slug(&mut conn, slug)
                .await?
                .ok_or_else(|| ApiError::invalid_field("category", "unknown_category", "is not a category slug"))?
                .id,
        ),
        None => None,
    };
    let tag = match q.tag.as_deref() {
        Some(raw) => {
            Some(Tag::parse(raw).ok_or_else(|| ApiError::invalid_field("tag", "invalid_tag", "is not a tag"))?)
        }
        None => None,
    };
    let from = q.from.unwrap_or_else(|| ctx.clock.now());
    if q.to.is_some_and(|to| to <= from) {
        return Err(ApiError::invalid_field("to", "before_from", "must be after from"));
    }
    let filter = SearchFilter {
        query,
        category,
        tag: tag.as_ref().map(Tag::as_str),
        from,
        to: q.to,
        city: q.city.as_deref().map(str::trim).filter(|c| !c.is_empty()),
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = repo::search(&mut conn, &filter).await?;
    let ranked = query.is_some();
    let items: Vec<dto::EventSummary> = rows.into_iter().map(|row| summary(row, ranked)).collect();
    Ok(Page::from_overfetch(items, limit, |e| (e.rank.unwrap_or(0.0), e.starts_at, e.id.0)))
}

/// The events the caller organizes (drafts included).
pub async fn mine(ctx: &AppContext, principal: &Principal) -> Result<Vec<dto::EventSummary>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::events_of(&mut conn, principal.user_id.0).await?;
    Ok(rows.into_iter().map(|row| summary(row, false)).collect())
}

/// A search row as the API shows it.
fn summary(row: SearchRow, with_rank: bool) -> dto::EventSummary {
    dto::EventSummary {
        id: row.id,
        organizer: Party::from_columns(row.organizer_user_id, row.organizer_org_id)
            .unwrap_or(Party::User(row.created_by)),
        title: row.title,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        timezone: row.timezone,
        city: row.city,
        venue_name: row.venue_name,
        cover_url: row.cover_url,
        category: row.category,
        status: row.status,
        rank: with_rank.then_some(row.rank),
    }
}

/// The event's private signing key.
pub(crate) fn signing_key(secrets: &platform::crypto::SecretBox, row: &EventRow) -> Result<[u8; 32], ApiError> {
    open_signing_key(secrets, &row.signing_key_sealed)
}

/// An event's signing key, from its sealed form (as a purchase reads it with the event).
pub(crate) fn open_signing_key(secrets: &platform::crypto::SecretBox, sealed: &str) -> Result<[u8; 32], ApiError> {
    let bytes = secrets.open(sealed).map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    bytes.try_into().map_err(|_| ApiError::internal(anyhow::anyhow!("an event key is not 32 bytes")))
}

pub async fn categories(ctx: &AppContext) -> Result<dto::CategoryList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(dto::CategoryList { items: repo::categories(&mut conn).await?.into_iter().map(Into::into).collect() })
}

/// Adds a category (admins).
pub async fn add_category(
    ctx: &AppContext,
    principal: &Principal,
    req: dto::NewCategory,
) -> Result<dto::Category, ApiError> {
    identity::authz::authorize(principal, "events.manage", identity::authz::Target::Platform)?;
    if !principal.has_role("admin") {
        return Err(identity::error::IdentityError::Forbidden("events.manage".into()).into());
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut errors = Vec::new();
    let slug = req.slug.trim().to_owned();
    let slug_ok = (1..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !slug_ok {
        errors.push(FieldError::new("slug", "invalid_format", "must be 1 to 64 of a-z, 0-9 and inner hyphens"));
    } else if repo::category_by_slug(&mut tx, &slug).await?.is_some() {
        errors.push(FieldError::new("slug", "taken", "is already a category"));
    }
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "invalid_length", "must be 1 to 100 characters"));
    }
    let color = req.color.unwrap_or_else(|| "#6b7280".into()).to_lowercase();
    if color.len() != 7 || !color.starts_with('#') || !color[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(FieldError::new("color", "invalid_format", "must be #rrggbb"));
    }
    if req.icon.chars().count() > 64 {
        errors.push(FieldError::new("icon", "too_long", "must be at most 64 characters"));
    }
    let parent_id = match req.parent.as_deref() {
        Some(parent) => match repo::category_by_slug(&mut tx, parent).await? {
            Some(p) => Some(p.id),
            None => {
                errors.push(FieldError::new("parent", "unknown_category", "is not a category slug"));
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let category = repo::CategoryRow {
        id: CategoryId::new(),
        parent_id,
        slug,
        name,
        icon: req.icon,
        color,
        position: req.position,
    };
    repo::insert_category(&mut tx, &category, now).await?;
    platform::audit::Entry::new(principal.actor(), "event_category.create", "event_category", category.id.0)
        .after(json!({"slug": category.slug, "parent": req.parent}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(category.into())
}

pub async fn tags(ctx: &AppContext, prefix: Option<&str>) -> Result<dto::TagList, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let prefix = prefix.map(|p| p.trim().to_lowercase()).unwrap_or_default();
    Ok(dto::TagList { items: repo::popular_tags(&mut conn, &prefix, 100).await?.into_iter().map(Into::into).collect() })
}

/// How the caller stands towards an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Manages it: the organizing user, or a member of the organizing organization with `events.manage`.
    Manager,
    /// A platform admin who does not manage it.
    Admin,
    /// Anyone else, signed in or not.
    Public,
}

impl Standing {
    /// The actor of a status change, if the caller may make any.
    pub fn actor(self) -> Option<Actor> {
        match self {
            Self::Manager => Some(Actor::Organizer),
            Self::Admin => Some(Actor::Admin),
            Self::Public => None,
        }
    }

    pub fn sees_everything(self) -> bool {
        self != Self::Public
    }
}

/// The caller's standing towards `event`.
pub async fn standing(
    conn: &mut PgConnection,
    principal: Option<&Principal>,
    event: &EventRow,
) -> Result<Standing, ApiError> {
    let Some(principal) = principal else { return Ok(Standing::Public) };
    if identity::party::may_act_for(conn, principal, event.organizer(), "events.manage").await? {
        return Ok(Standing::Manager);
    }
    if principal.has_role("admin") && authz::authorize(principal, "events.manage", Target::Platform).is_ok() {
        return Ok(Standing::Admin);
    }
    Ok(Standing::Public)
}

/// Whether someone with this standing may see the event at all. Drafts are their organizer's alone;
/// a cancelled event stays visible if it was ever published (its ticket holders look it up).
pub fn visible(standing: Standing, event: &EventRow) -> bool {
    standing.sees_everything()
        || event.status.is_public()
        || (event.status == EventStatus::Cancelled && event.published_at.is_some())
}

/// The event, if the caller may see it (anything else is not found), with the caller's standing.
pub async fn visible_event(
    conn: &mut PgConnection,
    principal: Option<&Principal>,
    id: EventId,
    lock: bool,
) -> Result<(EventRow, Standing), ApiError> {
    let event = repo::event(conn, id, lock).await?.ok_or(TicketingError::NotFound("event"))?;
    let standing = standing(conn, principal, &event).await?;
    if !visible(standing, &event) {
        return Err(TicketingError::NotFound("event").into());
    }
    Ok((event, standing))
}

/// The event, locked, if the caller manages it (or is an admin): 404 when they cannot see it, 403 when
/// they can see it but not change it.
pub async fn managed_event(
    conn: &mut PgConnection,
    principal: &Principal,
    id: EventId,
) -> Result<(EventRow, Standing), ApiError> {
    let (event, standing) = visible_event(conn, Some(principal), id, true).await?;
    if standing == Standing::Public {
        return Err(identity::error::IdentityError::Forbidden("events.manage".into()).into());
    }
    Ok((event, standing))
}
