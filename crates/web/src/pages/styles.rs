//! Staff's style library in the web app: the cards clients choose from in their briefs. Staff add a
//! card (its traits), give it its picture (which makes a draft active; a picture the library already
//! has is refused), filter the library by status and trait, and retire cards.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use tasks::model::StyleCardId;
use tasks::styles::dto::{DELIVERABLE_TYPES, NewStyleCard, STYLE_AXES, StyleCard, StyleQuery, TEMPERATURES};

use super::{FieldErrors, Layout, beside_form, done, items, page, to_signin};
use crate::session::{Form, Session};

#[derive(Template)]
#[template(path = "admin_styles.html")]
struct LibraryPage {
    layout: Layout,
    cards: Vec<StyleCard>,
    filter: Filter,
    deliverable_types: &'static [&'static str],
    axes: &'static [&'static str],
    temperatures: &'static [&'static str],
    /// The new card's form as sent, when it was refused.
    sent: CardForm,
    /// Its three levels: field, label, value.
    levels: Vec<(&'static str, &'static str, String)>,
    /// The card whose picture was refused, with why.
    refused_image: Option<(String, String)>,
    errors: FieldErrors,
    error: Option<String>,
}

/// The library's filter (a GET form).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct Filter {
    status: String,
    deliverable_type: String,
    style_axis: String,
}

impl Filter {
    fn query(&self) -> StyleQuery {
        let some = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
        StyleQuery {
            status: some(&self.status),
            deliverable_type: some(&self.deliverable_type),
            style_axis: some(&self.style_axis),
            limit: Some(200),
            ..StyleQuery::default()
        }
    }
}

/// What went wrong, to draw the page again around it.
#[derive(Default)]
struct Trouble {
    sent: CardForm,
    refused_image: Option<(String, String)>,
    err: Option<ApiError>,
}

async fn library_page(
    ctx: &AppContext,
    session: &Session,
    filter: Filter,
    trouble: Trouble,
) -> Result<LibraryPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("Sign in first."))?;
    tasks::require_staff(principal)?;
    let cards = tasks::styles::service::list(ctx, principal, &filter.query()).await?;
    // A refused picture is said beside its card and at the top of the page.
    let error = match (&trouble.err, &trouble.refused_image) {
        (Some(e), _) => Some(e.detail().to_owned()),
        (None, Some((_, why))) => Some(why.clone()),
        (None, None) => None,
    };
    let sent = if trouble.err.is_some() || trouble.refused_image.is_some() {
        trouble.sent
    } else {
        CardForm { energy: "3".into(), density: "3".into(), formality: "3".into(), ..CardForm::default() }
    };
    Ok(LibraryPage {
        layout: Layout::new("Style library", session),
        cards,
        filter,
        deliverable_types: DELIVERABLE_TYPES,
        axes: STYLE_AXES,
        temperatures: TEMPERATURES,
        levels: vec![
            ("energy", "Energy", sent.energy.clone()),
            ("density", "Density", sent.density.clone()),
            ("formality", "Formality", sent.formality.clone()),
        ],
        sent,
        refused_image: trouble.refused_image,
        errors: trouble.err.as_ref().map(FieldErrors::from_error).unwrap_or_default(),
        error,
    })
}

/// The page again around a refusal, listing the cards of `status` (a new card is a draft; a refused
/// picture's card is listed with its own status).
async fn answer(ctx: &AppContext, session: &Session, trouble: Trouble, status: StatusCode, cards: &str) -> Response {
    let filter =
        Filter { status: if cards == "active" { String::new() } else { cards.to_owned() }, ..Filter::default() };
    match library_page(ctx, session, filter, trouble).await {
        Ok(view) => page(status, &view),
        Err(e) => super::error(session, &e),
    }
}

pub async fn show(State(ctx): State<AppContext>, session: Session, Query(filter): Query<Filter>) -> Response {
    if session.principal.is_none() {
        return to_signin("/admin/style-cards");
    }
    match library_page(&ctx, &session, filter, Trouble::default()).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// The new card's form. Lists are one item a line (or separated by commas).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CardForm {
    pub title: String,
    pub deliverable_type: String,
    pub style_axis: String,
    pub colour_temperature: String,
    pub energy: String,
    pub density: String,
    pub formality: String,
    pub colour_samples: String,
    pub industries: String,
    pub mood_keywords: String,
}

/// Adds a card (a draft until its picture is given).
pub async fn create(State(ctx): State<AppContext>, session: Session, Form(form): Form<CardForm>) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/style-cards") };
    // A level that is not a number is sent as 0, which the service refuses by the field's name.
    let level = |v: &str| v.trim().parse::<i16>().unwrap_or(0);
    let req = NewStyleCard {
        title: form.title.clone(),
        deliverable_type: form.deliverable_type.clone(),
        style_axis: form.style_axis.clone(),
        colour_temperature: form.colour_temperature.clone(),
        energy: level(&form.energy),
        density: level(&form.density),
        formality: level(&form.formality),
        colour_samples: items(&form.colour_samples),
        industries: items(&form.industries),
        mood_keywords: items(&form.mood_keywords),
    };
    match tasks::styles::service::create(&ctx, principal, &req).await {
        Ok(card) => done(
            &format!("/admin/style-cards?status=draft#card-{}", card.id.0),
            "Card added as a draft: give it its picture to make it active.",
        ),
        Err(err) if beside_form(&err) => {
            let status = err.status();
            answer(&ctx, &session, Trouble { sent: form, refused_image: None, err: Some(err) }, status, "draft").await
        }
        Err(err) => super::error(&session, &err),
    }
}

/// Gives a card its picture (a file form): a draft becomes active.
pub async fn upload(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<StyleCardId>,
    request: axum::extract::Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin("/admin/style-cards") };
    let next = format!("/admin/style-cards#card-{}", id.0);
    let keep = async |form: crate::upload::FileForm| {
        tasks::styles::service::upload_image(&ctx, &principal, id, form.body).await.map(|_| ())
    };
    let refused = async |err: ApiError| {
        if !beside_form(&err) {
            return super::error(&session, &err);
        }
        let status = err.status();
        let cards = match tasks::styles::service::get(&ctx, &principal, id).await {
            Ok(card) => card.status,
            Err(e) => return super::error(&session, &e),
        };
        let trouble = Trouble {
            sent: CardForm::default(),
            refused_image: Some((id.0.to_string(), err.detail().to_owned())),
            err: None,
        };
        answer(&ctx, &session, trouble, status, &cards).await
    };
    crate::upload::keep_file(&session, request, (&next, "Picture kept: the card is in the library."), keep, refused)
        .await
}

/// Retires a card: it leaves the library and the suggestions, and stays on the briefs that chose it.
pub async fn retire(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<StyleCardId>,
    Form(_): Form<super::NoFields>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/style-cards") };
    match tasks::styles::service::retire(&ctx, principal, id).await {
        Ok(card) => done("/admin/style-cards?status=retired", &format!("“{}” is retired.", card.title)),
        Err(err) => super::error(&session, &err),
    }
}
