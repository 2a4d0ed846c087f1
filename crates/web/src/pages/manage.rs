//! The organizer's side of events: their events, a new event and its changes, its tiers (added and
//! changed), and its status (publish, postpone, cancel: cancelling refunds every ticket by a job, as
//! through the API). Sales, splits and attribution are in [`super::sales`].

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use platform::{ApiError, AppContext, FieldError};
use serde::Deserialize;
use ticketing::events::dto::{EventPatch, NewEvent, StatusChange, Venue};
use ticketing::model::{EventId, TierId};
use ticketing::state::EventStatus;
use ticketing::tiers::dto::TierRequest;

use super::events::EventCard;
use super::{FieldErrors, Layout, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

#[derive(Template)]
#[template(path = "manage_list.html")]
struct MyEvents {
    layout: Layout,
    events: Vec<EventCard>,
}

pub async fn list(State(ctx): State<AppContext>, session: Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/manage/events") };
    match ticketing::events::service::mine(&ctx, principal).await {
        Ok(events) => {
            let view = MyEvents {
                layout: Layout::new("My events", &session),
                events: events.into_iter().map(EventCard::from).collect(),
            };
            page(StatusCode::OK, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

/// What the new-event form holds, to show it again with its errors.
#[derive(Deserialize, Default)]
pub struct EventForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    /// `YYYY-MM-DDTHH:MM`, UTC.
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: String,
}

/// One input of a form: its name, label, type and value.
pub struct Input {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub value: String,
}

impl Input {
    pub fn new(name: &'static str, label: &'static str, kind: &'static str, value: &str) -> Self {
        Self { name, label, kind, value: value.to_owned() }
    }
}

#[derive(Template)]
#[template(path = "manage_new.html")]
struct NewEventPage {
    layout: Layout,
    form: EventForm,
    errors: FieldErrors,
    /// The event being changed; none for a new one.
    editing: Option<String>,
}

impl NewEventPage {
    fn inputs(&self) -> Vec<Input> {
        let f = &self.form;
        vec![
            Input::new("title", "Title", "text", &f.title),
            Input::new("starts_at", "Starts (your time zone)", "datetime-local", &f.starts_at),
            Input::new("ends_at", "Ends (your time zone)", "datetime-local", &f.ends_at),
            Input::new("timezone", "Time zone of the venue", "text", &f.timezone),
            Input::new("venue", "Venue", "text", &f.venue),
            Input::new("city", "City", "text", &f.city),
            Input::new("country", "Country (two letters)", "text", &f.country),
            Input::new("category", "Category (a slug, such as jazz)", "text", &f.category),
            Input::new("tags", "Tags, separated by commas", "text", &f.tags),
        ]
    }
}

pub async fn new_form(session: Session) -> Response {
    if session.principal.is_none() {
        return to_signin("/manage/events/new");
    }
    let form = EventForm { timezone: "Europe/Berlin".into(), ..EventForm::default() };
    page(
        StatusCode::OK,
        &NewEventPage {
            layout: Layout::new("New event", &session),
            form,
            errors: FieldErrors::default(),
            editing: None,
        },
    )
}

/// A `datetime-local` value, read in the viewer's time zone.
pub fn moment(field: &str, text: &str) -> Result<DateTime<Utc>, FieldError> {
    crate::format::parse_local(text).ok_or_else(|| {
        FieldError::new(field, "invalid_format", "must be a date and time (that exists in your time zone)")
    })
}

pub async fn create(State(ctx): State<AppContext>, session: Session, Form(form): Form<EventForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/manage/events/new") };
    let (starts, ends) = (moment("starts_at", &form.starts_at), moment("ends_at", &form.ends_at));
    let (starts_at, ends_at) = match (starts, ends) {
        (Ok(s), Ok(e)) => (s, e),
        (s, e) => {
            let errors = [s.err(), e.err()].into_iter().flatten().collect();
            let err = ApiError::validation(errors);
            let view = NewEventPage {
                layout: Layout::new("New event", &session),
                errors: FieldErrors::from_error(&err),
                form,
                editing: None,
            };
            return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let request = NewEvent {
        organization_id: None,
        title: form.title.clone(),
        description: form.description.clone(),
        starts_at,
        ends_at,
        timezone: form.timezone.trim().to_owned(),
        capacity: None,
        venue: Venue {
            name: non_empty(&form.venue),
            address: None,
            city: non_empty(&form.city),
            country: non_empty(&form.country).map(|c| c.to_uppercase()),
        },
        cover_url: None,
        category: non_empty(&form.category),
        tags: form.tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        resale_cap_bps: None,
    };
    match ticketing::events::service::create(&ctx, principal, request).await {
        Ok(event) => Redirect::to(&format!("/manage/events/{}", event.id)).into_response(),
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FieldErrors::from_error(&err);
            let view = NewEventPage { layout: Layout::new("New event", &session), form, errors, editing: None };
            page(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A tier as its organizer sees it.
pub struct TierRow {
    pub id: String,
    pub name: String,
    /// The price as the change form holds it.
    pub amount: String,
    pub price: String,
    pub quantity: i32,
    pub sold: i32,
    pub held: i32,
    pub visibility: String,
}

#[derive(Template)]
#[template(path = "manage_event.html")]
struct ManageEvent {
    layout: Layout,
    id: String,
    title: String,
    when: String,
    status: String,
    tiers: Vec<TierRow>,
    /// The status changes this page offers: (status, button label).
    moves: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    error: Option<String>,
    /// The on-sale's waiting room, if it has one.
    room: Option<RoomView>,
    /// The opening the room form offers (the room's, or an hour from now), as a `datetime-local`.
    room_opens_input: String,
    /// Whether the room form shows: the event sells, and its room (if any) has not closed.
    room_changeable: bool,
}

/// A waiting room as its organizer sees it.
struct RoomView {
    state: String,
    opens: String,
    rate: i32,
    window: i32,
    per_address: i32,
    places: i64,
    admitted: i64,
    waiting: i64,
    live: i64,
    orders: i64,
    last_minute: i64,
    closed_reason: String,
}

impl ManageEvent {
    fn tier_inputs(&self) -> Vec<Input> {
        vec![
            Input::new("name", "Name", "text", ""),
            Input::new("price", "Price", "text", "0"),
            Input::new("currency", "Currency", "text", "EUR"),
            Input::new("quantity", "How many", "number", "100"),
        ]
    }
}

async fn manage_page(
    ctx: &AppContext,
    session: &Session,
    id: EventId,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<ManageEvent, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such event."))?;
    let event = ticketing::events::service::get(ctx, Some(principal), id).await?;
    // The same refusal as the API's for someone who may see the event but not change it.
    if !identity::party::may_act_for(&mut *ctx.db.acquire().await?, principal, event.organizer, "events.manage").await?
    {
        return Err(identity::error::IdentityError::Forbidden("events.manage".into()).into());
    }
    let moves = match event.status {
        EventStatus::Draft => vec![("published", "Publish")],
        EventStatus::Published => vec![("postponed", "Postpone"), ("cancelled", "Cancel the event")],
        EventStatus::Postponed => vec![("published", "Publish again"), ("cancelled", "Cancel the event")],
        EventStatus::Cancelled | EventStatus::Completed => vec![],
    };
    let room = ticketing::rooms::service::get(ctx, Some(principal), id).await.ok();
    let room_opens_input =
        format::local_input(room.as_ref().map_or_else(|| ctx.clock.now() + chrono::Duration::hours(1), |r| r.opens_at));
    let room = room.map(|r| {
        let stats = r.stats.unwrap_or(ticketing::rooms::dto::RoomStats {
            waiting: 0,
            live_passes: 0,
            orders: 0,
            orders_last_minute: 0,
        });
        RoomView {
            state: r.state,
            opens: format::when(r.opens_at),
            rate: r.rate_per_minute,
            window: r.window_minutes,
            per_address: r.per_address,
            places: r.places,
            admitted: r.admitted_through,
            waiting: stats.waiting,
            live: stats.live_passes,
            orders: stats.orders,
            last_minute: stats.orders_last_minute,
            closed_reason: r.closed_reason.unwrap_or_default(),
        }
    });
    let room_changeable = matches!(event.status, EventStatus::Draft | EventStatus::Published)
        && room.as_ref().is_none_or(|r| r.state != "closed");
    Ok(ManageEvent {
        room,
        room_opens_input,
        room_changeable,
        layout: Layout::new(format!("Manage {}", event.title), session),
        id: event.id.to_string(),
        title: event.title,
        when: format::when(event.starts_at),
        status: event.status.to_string(),
        tiers: event
            .tiers
            .into_iter()
            .map(|t| TierRow {
                id: t.id.to_string(),
                amount: format::plain(t.price, &t.currency),
                price: format::money(t.price, &t.currency),
                name: t.name,
                quantity: t.quantity,
                sold: t.sold,
                held: t.held,
                visibility: t.visibility,
            })
            .collect(),
        moves,
        errors,
        error,
    })
}

pub async fn event(State(ctx): State<AppContext>, session: Session, Path(id): Path<EventId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/manage/events/{id}"));
    }
    match manage_page(&ctx, &session, id, FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct TierForm {
    name: String,
    price: String,
    currency: String,
    quantity: String,
}

pub async fn add_tier(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    Form(form): Form<TierForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}")) };
    let currency = form.currency.trim().to_uppercase();
    let mut errors = Vec::new();
    let price = format::parse_money(&form.price, &currency);
    if price.is_none() {
        errors.push(FieldError::new("price", "invalid_format", "must be an amount such as 25 or 25.50"));
    }
    let quantity = form.quantity.trim().parse::<i32>().ok();
    if quantity.is_none() {
        errors.push(FieldError::new("quantity", "invalid_format", "must be a whole number"));
    }
    let result = match (price, quantity) {
        (Some(price), Some(quantity)) if errors.is_empty() => {
            let request = TierRequest {
                name: Some(form.name.clone()),
                price: Some(price),
                currency: Some(currency),
                quantity: Some(quantity),
                ..TierRequest::default()
            };
            ticketing::tiers::service::save(&ctx, principal, id, None, request).await.map(|_| ())
        }
        _ => Err(ApiError::validation(errors)),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/manage/events/{id}")).into_response(),
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            match manage_page(&ctx, &session, id, FieldErrors::from_error(&err), None).await {
                Ok(view) => page(StatusCode::UNPROCESSABLE_ENTITY, &view),
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    reason: String,
}

pub async fn change_status(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    Form(form): Form<StatusForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}")) };
    let status = match form.status.as_str() {
        "published" => EventStatus::Published,
        "postponed" => EventStatus::Postponed,
        "cancelled" => EventStatus::Cancelled,
        _ => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    let reason = Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty());
    match ticketing::events::service::change_status(&ctx, principal, id, StatusChange { status, reason }).await {
        Ok(_) => Redirect::to(&format!("/manage/events/{id}")).into_response(),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            match manage_page(&ctx, &session, id, FieldErrors::default(), Some(err.detail().to_owned())).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

/// The event's details in the form, to change them.
pub async fn edit_form(State(ctx): State<AppContext>, session: Session, Path(id): Path<EventId>) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}/edit")) };
    let result = async {
        let event = ticketing::events::service::get(&ctx, Some(principal), id).await?;
        if !identity::party::may_act_for(&mut *ctx.db.acquire().await?, principal, event.organizer, "events.manage")
            .await?
        {
            return Err(identity::error::IdentityError::Forbidden("events.manage".into()).into());
        }
        Ok::<_, ApiError>(event)
    }
    .await;
    match result {
        Ok(e) => {
            let form = EventForm {
                title: e.title.clone(),
                description: e.description.clone(),
                starts_at: format::local_input(e.starts_at),
                ends_at: format::local_input(e.ends_at),
                timezone: e.timezone.clone(),
                venue: e.venue.name.clone().unwrap_or_default(),
                city: e.venue.city.clone().unwrap_or_default(),
                country: e.venue.country.clone().unwrap_or_default(),
                category: e.category.as_ref().map(|c| c.slug.clone()).unwrap_or_default(),
                tags: e.tags.join(", "),
            };
            let view = NewEventPage {
                layout: Layout::new(format!("Change {}", e.title), &session),
                form,
                errors: FieldErrors::default(),
                editing: Some(id.to_string()),
            };
            page(StatusCode::OK, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

/// Saves the event's changed details (the API's `PATCH /v1/events/{id}`: ticket holders are told when
/// the time changes).
pub async fn update(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    Form(form): Form<EventForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}/edit")) };
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let result = match (moment("starts_at", &form.starts_at), moment("ends_at", &form.ends_at)) {
        (Ok(starts_at), Ok(ends_at)) => {
            let patch = EventPatch {
                title: Some(form.title.clone()),
                description: Some(form.description.clone()),
                starts_at: Some(starts_at),
                ends_at: Some(ends_at),
                timezone: Some(form.timezone.trim().to_owned()),
                venue: Some(Venue {
                    name: non_empty(&form.venue),
                    address: None,
                    city: non_empty(&form.city),
                    country: non_empty(&form.country).map(|c| c.to_uppercase()),
                }),
                category: non_empty(&form.category),
                tags: Some(form.tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()),
                ..EventPatch::default()
            };
            ticketing::events::service::update(&ctx, principal, id, patch).await.map(|_| ())
        }
        (s, e) => Err(ApiError::validation([s.err(), e.err()].into_iter().flatten().collect())),
    };
    match result {
        Ok(()) => super::done(&format!("/manage/events/{id}"), "The event is saved."),
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let view = NewEventPage {
                layout: Layout::new("Change the event", &session),
                form,
                errors: FieldErrors::from_error(&err),
                editing: Some(id.to_string()),
            };
            page(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TierChange {
    price: String,
    quantity: String,
    visibility: String,
}

/// Changes a tier's price, quantity or visibility (the API refuses a quantity below what is sold).
pub async fn update_tier(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, tier)): Path<(EventId, TierId)>,
    Form(form): Form<TierChange>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}")) };
    let result = async {
        let event = ticketing::events::service::get(&ctx, Some(principal), id).await?;
        let current = event.tiers.iter().find(|t| t.id == tier).ok_or_else(|| ApiError::not_found("No such tier."))?;
        let price = format::parse_money(&form.price, &current.currency).ok_or_else(|| {
            ApiError::invalid_field("tier_price", "invalid_format", "must be an amount such as 25 or 25.50")
        })?;
        let quantity = form
            .quantity
            .trim()
            .parse::<i32>()
            .map_err(|_| ApiError::invalid_field("tier_quantity", "invalid_format", "must be a whole number"))?;
        let request = TierRequest {
            price: Some(price),
            quantity: Some(quantity),
            visibility: Some(form.visibility.clone()).filter(|v| !v.is_empty()),
            ..TierRequest::default()
        };
        ticketing::tiers::service::save(&ctx, principal, id, Some(tier), request).await
    }
    .await;
    match result {
        Ok(_) => super::done(&format!("/manage/events/{id}"), "The tier is saved."),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            let message = err.field_errors().first().map_or_else(|| err.detail().to_owned(), |e| e.message.clone());
            match manage_page(
                &ctx,
                &session,
                id,
                FieldErrors::default(),
                Some(format!("The tier was not changed: {message}")),
            )
            .await
            {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize)]
pub struct RoomForm {
    opens_at: String,
    rate_per_minute: String,
    window_minutes: String,
    per_address: String,
}

/// Puts the on-sale behind a waiting room, or changes it.
pub async fn save_room(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<EventId>,
    Form(form): Form<RoomForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/manage/events/{id}")) };
    let number = |field: &str, text: &str| {
        text.trim()
            .parse::<i32>()
            .map_err(|_| ApiError::invalid_field(field, "invalid_format", "must be a whole number"))
    };
    let result = async {
        let opens_at = format::parse_local(&form.opens_at)
            .ok_or_else(|| ApiError::invalid_field("opens_at", "invalid_format", "must be a date and time"))?;
        let request = ticketing::rooms::dto::RoomSettings {
            opens_at,
            rate_per_minute: Some(number("rate_per_minute", &form.rate_per_minute)?),
            window_minutes: Some(number("window_minutes", &form.window_minutes)?),
            per_address: Some(number("per_address", &form.per_address)?),
        };
        ticketing::rooms::service::configure(&ctx, principal, id, request).await
    }
    .await;
    match result {
        Ok(_) => super::done(&format!("/manage/events/{id}"), "The waiting room is saved."),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            let message = err
                .field_errors()
                .first()
                .map_or_else(|| err.detail().to_owned(), |e| format!("{} {}", e.field.replace('_', " "), e.message));
            match manage_page(
                &ctx,
                &session,
                id,
                FieldErrors::default(),
                Some(format!("The waiting room was not saved: {message}")),
            )
            .await
            {
                Ok(view) => page(err.status(), &view),
                Err(err) => super::error(&session, &err),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}
