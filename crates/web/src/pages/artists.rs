//! The artist directory (words, genre, distance from a venue, budget, a free date), an artist's page
//! (with the offer form for promoters), and the artist's own calendar: a month of confirmed bookings
//! and holds, with the secret iCalendar link.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use booking::calendars::repo::ProfileKind;
use booking::model::{ArtistId, VenueId};
use booking::profiles::dto::{Artist, ArtistRequest, ArtistSearch, VenueSearch};
use chrono::{Datelike, Duration, NaiveDate};
use platform::{ApiError, AppContext};
use serde::Deserialize;

use super::manage::Input;
use super::{FieldErrors, Layout, page, to_signin, urlencode};
use crate::format;
use crate::session::{Form, Session};

/// An artist as the directory lists them.
pub struct ArtistCard {
    pub id: String,
    pub name: String,
    pub genres: String,
    pub place: String,
    pub price: String,
    pub distance: String,
}

impl From<Artist> for ArtistCard {
    fn from(a: Artist) -> Self {
        let place = [a.city.clone(), a.country.clone()].into_iter().flatten().collect::<Vec<_>>().join(", ");
        Self {
            id: a.id.to_string(),
            name: a.stage_name.clone(),
            genres: a.genres.join(", "),
            place,
            price: price_range(&a),
            distance: a.distance_km.map(|d| format!("{d:.0} km away")).unwrap_or_default(),
        }
    }
}

fn price_range(a: &Artist) -> String {
    match (a.price_min, a.price_max) {
        (Some(min), Some(max)) if min == max => format::money(min, &a.currency),
        (Some(min), Some(max)) => format!("{} – {}", format::money(min, &a.currency), format::money(max, &a.currency)),
        (Some(min), None) => format!("from {}", format::money(min, &a.currency)),
        (None, Some(max)) => format!("up to {}", format::money(max, &a.currency)),
        (None, None) => "on request".into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    genre: String,
    near: String,
    radius_km: String,
    budget_min: String,
    budget_max: String,
    date: String,
    cursor: Option<String>,
}

/// A venue offered as the point a distance is measured from.
pub struct Place {
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "artists.html")]
struct Directory {
    layout: Layout,
    q: SearchQuery,
    venues: Vec<Place>,
    artists: Vec<ArtistCard>,
    next: Option<String>,
    errors: FieldErrors,
}

pub async fn search(State(ctx): State<AppContext>, session: Session, Query(q): Query<SearchQuery>) -> Response {
    let venues = match booking::profiles::service::search_venues(
        &ctx,
        VenueSearch { limit: Some(100), ..VenueSearch::default() },
    )
    .await
    {
        Ok(found) => found.items,
        Err(err) => return super::error(&session, &err),
    };
    let mut problems = Vec::new();
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut money = |field: &'static str, text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = format::parse_money(text, "EUR");
        if parsed.is_none() {
            problems.push(platform::error::FieldError::new(field, "invalid_format", "must be an amount, such as 1500"));
        }
        parsed
    };
    let (budget_min, budget_max) = (money("budget_min", &q.budget_min), money("budget_max", &q.budget_max));
    let available_on = non_empty(&q.date).and_then(|d| {
        let parsed = NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok();
        if parsed.is_none() {
            problems.push(platform::error::FieldError::new("date", "invalid_format", "must be a date"));
        }
        parsed
    });
    let (mut lat, mut lng, mut radius) = (None, None, None);
    if let Some(near) = non_empty(&q.near) {
        match venues.iter().find(|v| v.id.to_string() == near) {
            Some(v) if v.latitude.is_some() && v.longitude.is_some() => {
                lat = v.latitude;
                lng = v.longitude;
                radius = Some(q.radius_km.trim().parse::<f64>().ok().filter(|r| *r > 0.0).unwrap_or(50.0));
            }
            _ => problems.push(platform::error::FieldError::new(
                "near",
                "unknown_venue",
                "is not a venue with a location",
            )),
        }
    }
    let places =
        venues.iter().map(|v| Place { id: v.id.to_string(), name: format!("{}, {}", v.name, v.city) }).collect();
    let mut view = Directory {
        layout: Layout::new("Artists", &session),
        q,
        venues: places,
        artists: Vec::new(),
        next: None,
        errors: FieldErrors::default(),
    };
    if !problems.is_empty() {
        view.errors = FieldErrors::from_error(&ApiError::validation(problems));
        return page(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    let search = ArtistSearch {
        q: non_empty(&view.q.q),
        genre: non_empty(&view.q.genre),
        lat,
        lng,
        radius_km: radius,
        budget_min,
        budget_max,
        available_on,
        limit: Some(20),
        cursor: view.q.cursor.clone(),
    };
    match booking::profiles::service::search_artists(&ctx, search).await {
        Ok(found) => {
            view.artists = found.items.into_iter().map(ArtistCard::from).collect();
            let q = &view.q;
            view.next = found.next_cursor.map(|cursor| {
                format!(
                    "/artists?q={}&genre={}&near={}&radius_km={}&budget_min={}&budget_max={}&date={}&cursor={}",
                    urlencode(&q.q),
                    urlencode(&q.genre),
                    urlencode(&q.near),
                    urlencode(&q.radius_km),
                    urlencode(&q.budget_min),
                    urlencode(&q.budget_max),
                    urlencode(&q.date),
                    urlencode(&cursor)
                )
            });
            page(StatusCode::OK, &view)
        }
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            view.errors = FieldErrors::from_error(&err);
            page(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

/// A promoter profile the signed-in person may make offers for.
pub struct Promoter {
    pub id: String,
    pub name: String,
}

/// The promoter profiles `principal` acts for.
pub async fn promoters_of(ctx: &AppContext, principal: &identity::auth::Principal) -> Result<Vec<Promoter>, ApiError> {
    let (_, ids) = booking::profiles::service::my_profiles(&mut *ctx.db.acquire().await?, principal).await?;
    let mut promoters = Vec::with_capacity(ids.len());
    for id in ids {
        let p = booking::profiles::service::promoter(ctx, booking::model::PromoterId(id)).await?;
        promoters.push(Promoter { id: p.id.to_string(), name: p.name });
    }
    Ok(promoters)
}

/// The artist's public page, the offer form for those who may make one, and (for the artist's own
/// side) links to the calendar and the profile form.
#[derive(Template)]
#[template(path = "artist.html")]
pub struct ArtistPage {
    pub layout: Layout,
    pub id: String,
    pub name: String,
    pub bio: String,
    pub genres: Vec<String>,
    pub place: String,
    pub price: String,
    pub links: Vec<(String, String)>,
    pub media: Vec<String>,
    pub own: bool,
    /// Releases crediting the artist: (id, title, detail); for the artist, with their status.
    pub releases: Vec<(String, String, String)>,
    pub promoters: Vec<Promoter>,
    pub terms: super::bookings::TermsForm,
    pub promoter_id: String,
    pub errors: FieldErrors,
    pub error: Option<String>,
}

impl ArtistPage {
    fn terms_inputs(&self) -> Vec<Input> {
        self.terms.inputs()
    }
}

/// The artist's page, with an offer form filled with `offer`.
pub async fn artist_page(
    ctx: &AppContext,
    session: &Session,
    id: ArtistId,
    offer: super::bookings::TermsForm,
) -> Result<ArtistPage, ApiError> {
    let a = booking::profiles::service::artist(ctx, id).await?;
    let (own, promoters) = match &session.principal {
        Some(principal) => {
            let (artists, _) =
                booking::profiles::service::my_profiles(&mut *ctx.db.acquire().await?, principal).await?;
            (artists.contains(&id.0), promoters_of(ctx, principal).await?)
        }
        None => (false, Vec::new()),
    };
    let links = a
        .social_links
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|u| (k.clone(), u.to_owned()))).collect())
        .unwrap_or_default();
    let media = a
        .media
        .as_array()
        .map(|m| m.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let place = [a.city.clone(), a.country.clone()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let releases = catalog::releases::service::discography(ctx, id.0, own)
        .await?
        .items
        .into_iter()
        .map(|r| {
            let title = match r.version {
                Some(v) => format!("{} ({v})", r.title),
                None => r.title,
            };
            let when = match (r.status.as_str(), r.release_date) {
                ("scheduled", Some(d)) => format!("out {d}"),
                ("delivered" | "live", Some(d)) => d.to_string(),
                (status, _) => status.replace('_', " "),
            };
            (r.id.0.to_string(), title, format!("{} · {} · {when}", r.release_type, r.label_name))
        })
        .collect();
    Ok(ArtistPage {
        layout: Layout::new(a.stage_name.clone(), session),
        id: a.id.to_string(),
        name: a.stage_name.clone(),
        bio: a.bio.clone(),
        genres: a.genres.clone(),
        place,
        price: price_range(&a),
        links,
        media,
        own,
        releases,
        promoter_id: promoters.first().map(|p| p.id.clone()).unwrap_or_default(),
        promoters,
        terms: offer,
        errors: FieldErrors::default(),
        error: None,
    })
}

pub async fn artist(State(ctx): State<AppContext>, session: Session, Path(id): Path<ArtistId>) -> Response {
    match artist_page(&ctx, &session, id, super::bookings::TermsForm::new_offer(ctx.clock.now())).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// The artist's own profile form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    stage_name: String,
    bio: String,
    genres: String,
    city: String,
    country: String,
    price_min: String,
    price_max: String,
    currency: String,
    media: String,
}

#[derive(Template)]
#[template(path = "artist_edit.html")]
struct EditPage {
    layout: Layout,
    id: String,
    form: ProfileForm,
    errors: FieldErrors,
}

impl EditPage {
    fn inputs(&self) -> Vec<Input> {
        let f = &self.form;
        vec![
            Input::new("stage_name", "Stage name", "text", &f.stage_name),
            Input::new("genres", "Genres, separated by commas", "text", &f.genres),
            Input::new("city", "City", "text", &f.city),
            Input::new("country", "Country (two letters)", "text", &f.country),
            Input::new("price_min", "Lowest fee", "text", &f.price_min),
            Input::new("price_max", "Highest fee", "text", &f.price_max),
            Input::new("currency", "Currency", "text", &f.currency),
        ]
    }
}

async fn own_artist(ctx: &AppContext, session: &Session, id: ArtistId) -> Result<Artist, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such artist."))?;
    let (artists, _) = booking::profiles::service::my_profiles(&mut *ctx.db.acquire().await?, principal).await?;
    if !artists.contains(&id.0) {
        return Err(ApiError::not_found("No such artist."));
    }
    booking::profiles::service::artist(ctx, id).await
}

pub async fn edit_form(State(ctx): State<AppContext>, session: Session, Path(id): Path<ArtistId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/artists/{id}/edit"));
    }
    match own_artist(&ctx, &session, id).await {
        Ok(a) => {
            let minor =
                |v: Option<i64>| v.map(|m| format::money(m, &a.currency).split(' ').next().unwrap_or("").to_owned());
            let form = ProfileForm {
                stage_name: a.stage_name.clone(),
                bio: a.bio.clone(),
                genres: a.genres.join(", "),
                city: a.city.clone().unwrap_or_default(),
                country: a.country.clone().unwrap_or_default(),
                price_min: minor(a.price_min).unwrap_or_default(),
                price_max: minor(a.price_max).unwrap_or_default(),
                currency: a.currency.clone(),
                media: a
                    .media
                    .as_array()
                    .map(|m| m.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default(),
            };
            let view = EditPage {
                layout: Layout::new("Your artist profile", &session),
                id: id.to_string(),
                form,
                errors: FieldErrors::default(),
            };
            page(StatusCode::OK, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

pub async fn save(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ArtistId>,
    Form(form): Form<ProfileForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/artists/{id}/edit")) };
    let currency = form.currency.trim().to_uppercase();
    let mut problems = Vec::new();
    let mut amount = |field: &'static str, text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = format::parse_money(text, &currency);
        if parsed.is_none() {
            problems.push(platform::error::FieldError::new(field, "invalid_format", "must be an amount, such as 1500"));
        }
        parsed
    };
    let (price_min, price_max) = (amount("price_min", &form.price_min), amount("price_max", &form.price_max));
    let list = |text: &str, sep: char| -> Vec<String> {
        text.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    let request = ArtistRequest {
        stage_name: Some(form.stage_name.trim().to_owned()),
        bio: Some(form.bio.trim().to_owned()),
        genres: Some(list(&form.genres, ',')),
        city: Some(form.city.trim().to_owned()).filter(|s| !s.is_empty()),
        country: Some(form.country.trim().to_uppercase()).filter(|s| !s.is_empty()),
        price_min,
        price_max,
        currency: Some(currency.clone()),
        media: Some(list(&form.media.replace('\r', ""), '\n')),
        ..ArtistRequest::default()
    };
    let result = if problems.is_empty() {
        booking::profiles::service::save_artist(&ctx, principal, Some(id), request).await
    } else {
        Err(ApiError::validation(problems))
    };
    match result {
        Ok(_) => super::done(&format!("/artists/{id}"), "Your profile is saved."),
        Err(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let view = EditPage {
                layout: Layout::new("Your artist profile", &session),
                id: id.to_string(),
                form,
                errors: FieldErrors::from_error(&err),
            };
            page(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

/// One day of the month view.
pub struct Day {
    pub date: String,
    pub number: u32,
    pub in_month: bool,
    pub today: bool,
    pub entries: Vec<Entry>,
}

/// A booking or a hold on a day.
pub struct Entry {
    pub label: String,
    pub href: Option<String>,
    /// `confirmed`, `pending` or `hold`: how it is drawn.
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct Calendar {
    layout: Layout,
    /// `/artists/{id}` or `/venues/{id}`.
    base: String,
    name: String,
    month: String,
    previous: String,
    next: String,
    weeks: Vec<Vec<Day>>,
    feed: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
}

/// The first day of `YYYY-MM`, or of this month.
fn first_of(month: &str, today: NaiveDate) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d")
        .unwrap_or_else(|_| today.with_day(1).unwrap_or(today))
}

/// The weeks (Monday first) that show the month starting at `first`.
fn weeks_of(first: NaiveDate) -> Vec<Vec<NaiveDate>> {
    let start = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
    let next_month = (first + Duration::days(32)).with_day(1).unwrap_or(first);
    let mut weeks = Vec::new();
    let mut day = start;
    while day < next_month {
        weeks.push((0..7).map(|i| day + Duration::days(i)).collect());
        day += Duration::days(7);
    }
    weeks
}

/// Whose calendar: an artist's or a venue's, and its address.
fn profile(kind: ProfileKind, id: uuid::Uuid) -> String {
    match kind {
        ProfileKind::Artist => format!("/artists/{id}"),
        ProfileKind::Venue => format!("/venues/{id}"),
    }
}

/// The month view of a profile's calendar for those who keep it, in their time zone: agreed bookings on
/// their day (confirmed ones solid, those still contracting dashed) and active holds on every day they
/// cover.
async fn calendar_page(
    ctx: &AppContext,
    session: &Session,
    kind: ProfileKind,
    id: uuid::Uuid,
    month: &str,
    feed: Option<String>,
) -> Result<Calendar, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such calendar."))?;
    let agenda = booking::calendars::service::agenda(ctx, principal, kind, id).await?;
    let today = format::day(ctx.clock.now());
    let first = first_of(month, today);
    let entries_on = |date: NaiveDate| -> Vec<Entry> {
        agenda
            .items
            .iter()
            .filter(|i| match i.kind.as_str() {
                "hold" => format::day(i.starts_at) <= date && format::day(i.ends_at) >= date,
                _ => format::day(i.starts_at) == date,
            })
            .map(|i| Entry {
                label: match i.kind.as_str() {
                    "hold" => i.title.clone(),
                    _ => format!("{} {}", format::time(i.starts_at).split(' ').next().unwrap_or_default(), i.title),
                },
                href: i.booking_id.map(|b| format!("/bookings/{b}")),
                kind: match (i.kind.as_str(), i.status.as_str()) {
                    ("hold", _) => "hold",
                    (_, "contracting") => "pending",
                    _ => "confirmed",
                },
            })
            .collect()
    };
    let weeks = weeks_of(first)
        .into_iter()
        .map(|week| {
            week.into_iter()
                .map(|date| Day {
                    date: date.to_string(),
                    number: date.day(),
                    in_month: date.month() == first.month(),
                    today: date == today,
                    entries: entries_on(date),
                })
                .collect()
        })
        .collect();
    Ok(Calendar {
        layout: Layout::new(format!("{}: calendar", agenda.name), session),
        base: profile(kind, id),
        name: agenda.name.clone(),
        month: first.format("%B %Y").to_string(),
        previous: (first - Duration::days(1)).format("%Y-%m").to_string(),
        next: (first + Duration::days(32)).format("%Y-%m").to_string(),
        weeks,
        feed,
    })
}

async fn show_calendar(
    ctx: &AppContext,
    session: &Session,
    kind: ProfileKind,
    id: uuid::Uuid,
    month: &str,
) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("{}/calendar", profile(kind, id)));
    }
    match calendar_page(ctx, session, kind, id, month, None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(session, &err),
    }
}

pub async fn calendar(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ArtistId>,
    Query(q): Query<MonthQuery>,
) -> Response {
    show_calendar(&ctx, &session, ProfileKind::Artist, id.0, &q.month).await
}

pub async fn venue_calendar(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<VenueId>,
    Query(q): Query<MonthQuery>,
) -> Response {
    show_calendar(&ctx, &session, ProfileKind::Venue, id.0, &q.month).await
}

#[derive(Deserialize)]
pub struct FeedForm {}

/// Makes (or replaces) the profile's secret calendar link and shows it once, above the month.
async fn make_feed(ctx: &AppContext, session: &Session, kind: ProfileKind, id: uuid::Uuid) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("{}/calendar", profile(kind, id))) };
    let result = async {
        let feed = booking::calendars::service::rotate(ctx, principal, kind, id).await?;
        calendar_page(ctx, session, kind, id, "", Some(feed.url)).await
    }
    .await;
    match result {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(session, &err),
    }
}

pub async fn rotate_feed(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ArtistId>,
    Form(_): Form<FeedForm>,
) -> Response {
    make_feed(&ctx, &session, ProfileKind::Artist, id.0).await
}

pub async fn rotate_venue_feed(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<VenueId>,
    Form(_): Form<FeedForm>,
) -> Response {
    make_feed(&ctx, &session, ProfileKind::Venue, id.0).await
}

#[derive(Template)]
#[template(path = "venue.html")]
struct VenuePage {
    layout: Layout,
    id: String,
    name: String,
    address: String,
    capacity: i32,
    amenities: Vec<String>,
    own: bool,
}

/// A venue's public page; those who keep it get the way to its calendar.
pub async fn venue(State(ctx): State<AppContext>, session: Session, Path(id): Path<VenueId>) -> Response {
    let result = async {
        let v = booking::profiles::service::venue(&ctx, id).await?;
        let own = match &session.principal {
            Some(p) => {
                identity::party::may_act_for(&mut *ctx.db.acquire().await?, p, v.owner, "bookings.manage").await?
            }
            None => false,
        };
        Ok::<_, ApiError>((v, own))
    }
    .await;
    match result {
        Ok((v, own)) => {
            let address = [v.address.clone(), v.city.clone(), v.country.clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            let view = VenuePage {
                layout: Layout::new(v.name.clone(), &session),
                id: v.id.to_string(),
                name: v.name,
                address,
                capacity: v.capacity,
                amenities: v.amenities,
                own,
            };
            page(StatusCode::OK, &view)
        }
        Err(err) => super::error(&session, &err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_whole_weeks_from_monday() {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let weeks = weeks_of(first);
        assert_eq!(weeks.len(), 5);
        assert_eq!(weeks[0][0], NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(weeks[4][6], NaiveDate::from_ymd_opt(2027, 1, 3).unwrap());
        // February 2027 starts on a Monday and has exactly four weeks.
        assert_eq!(weeks_of(NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()).len(), 4);
        assert_eq!(first_of("2027-03", first), NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
        assert_eq!(first_of("nonsense", NaiveDate::from_ymd_opt(2026, 12, 15).unwrap()), first);
    }
}
