//! A client company's brand in the web app: the brand references (name, colours, fonts, tone, do and
//! don't, the logo and other assets), its audiences in four facets, and the freelancers it has worked
//! with (affinity), where it marks its favourites. Only the company's task managers see the page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use tasks::brands::dto::{AudienceInput, Behaviour, BrandInput, Demographics, Firmographics, Psychographics};
use tasks::model::{AudienceId, TaskFileId};
use uuid::Uuid;

use super::{FieldErrors, Layout, NoFields, beside_form, done, items, lines, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

/// A stored file on the page.
pub struct FileView {
    pub id: String,
    pub name: String,
    pub media_type: String,
    pub size: String,
}

/// An audience's form, filled (or empty for a new one). Lists are written one item to a line.
#[derive(Default)]
pub struct AudienceView {
    /// Empty for the new audience's form.
    pub id: String,
    pub name: String,
    pub age_min: String,
    pub age_max: String,
    pub genders: String,
    pub locations: String,
    pub languages: String,
    pub income: String,
    pub education: String,
    pub industries: String,
    pub company_sizes: String,
    pub roles: String,
    pub regions: String,
    pub interests: String,
    pub values: String,
    pub lifestyles: String,
    pub pain_points: String,
    pub channels: String,
    pub purchase_habits: String,
    pub devices: String,
    pub brand_loyalty: String,
    /// A line that sums it up, for the audience's heading.
    pub summary: String,
}

/// A freelancer the company has approved work from.
pub struct AffinityView {
    pub freelancer: String,
    pub name: String,
    pub approved: i32,
    pub rating: String,
    pub last: String,
    pub favourite: bool,
}

#[derive(Template)]
#[template(path = "brand.html")]
struct BrandPage {
    layout: Layout,
    org_id: Uuid,
    org_name: String,
    name: String,
    colours: String,
    /// The colours, for the swatches.
    swatches: Vec<String>,
    fonts: String,
    tone: String,
    dos: String,
    donts: String,
    logo: Option<FileView>,
    assets: Vec<FileView>,
    audiences: Vec<AudienceView>,
    new_audience: AudienceView,
    affinity: Vec<AffinityView>,
    /// Which form the errors belong to: `brand`, `new` or an audience's id.
    form: String,
    errors: FieldErrors,
    error: Option<String>,
}

fn joined(items: &[String]) -> String {
    items.join("\n")
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim()).filter(|t| !t.is_empty()).map(str::to_owned)
}

fn file_view(f: tasks::brands::dto::TaskFile) -> FileView {
    FileView { id: f.id.0.to_string(), name: f.name, media_type: f.media_type, size: format::bytes(f.size) }
}

impl From<tasks::brands::dto::Audience> for AudienceView {
    fn from(a: tasks::brands::dto::Audience) -> Self {
        let (d, f, p, b) = (&a.demographics, &a.firmographics, &a.psychographics, &a.behaviour);
        let ages = match (d.age_min, d.age_max) {
            (Some(lo), Some(hi)) => Some(format!("ages {lo}–{hi}")),
            (Some(lo), None) => Some(format!("ages {lo} and over")),
            (None, Some(hi)) => Some(format!("ages up to {hi}")),
            (None, None) => None,
        };
        let summary = ages
            .into_iter()
            .chain(d.locations.first().cloned())
            .chain(f.industries.first().cloned())
            .chain(p.interests.first().cloned())
            .collect::<Vec<_>>()
            .join(" · ");
        Self {
            id: a.id.0.to_string(),
            name: a.name.clone(),
            age_min: d.age_min.map(|v| v.to_string()).unwrap_or_default(),
            age_max: d.age_max.map(|v| v.to_string()).unwrap_or_default(),
            genders: joined(&d.genders),
            locations: joined(&d.locations),
            languages: joined(&d.languages),
            income: d.income.clone().unwrap_or_default(),
            education: d.education.clone().unwrap_or_default(),
            industries: joined(&f.industries),
            company_sizes: joined(&f.company_sizes),
            roles: joined(&f.roles),
            regions: joined(&f.regions),
            interests: joined(&p.interests),
            values: joined(&p.values),
            lifestyles: joined(&p.lifestyles),
            pain_points: joined(&p.pain_points),
            channels: joined(&b.channels),
            purchase_habits: joined(&b.purchase_habits),
            devices: joined(&b.devices),
            brand_loyalty: b.brand_loyalty.clone().unwrap_or_default(),
            summary,
        }
    }
}

/// What went wrong with a form, to draw the page again around it.
struct Trouble {
    form: String,
    errors: FieldErrors,
    error: String,
    /// The refused audience form as it was sent.
    audience: Option<AudienceView>,
    /// The refused brand form as it was sent.
    brand: Option<BrandForm>,
}

async fn brand_page(
    ctx: &AppContext,
    session: &Session,
    org: Uuid,
    trouble: Option<Trouble>,
) -> Result<BrandPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("Sign in first."))?;
    let brand = tasks::brands::service::brand(ctx, principal, org).await?;
    let audiences = tasks::brands::service::audiences(ctx, principal, org).await?;
    let affinity = tasks::delivery::service::affinity(ctx, principal, org).await?;
    let org_name = identity::service::organizations::get(ctx, principal, identity::model::OrgId(org)).await?.name;
    let mut audiences: Vec<AudienceView> = audiences.into_iter().map(AudienceView::from).collect();
    let mut new_audience = AudienceView::default();
    // The brand form shows what is kept, or what was sent when it was refused.
    let mut typed = BrandForm {
        name: brand.name.clone().unwrap_or_else(|| org_name.clone()),
        colours: joined(&brand.colours),
        fonts: joined(&brand.fonts),
        tone: brand.tone.clone().unwrap_or_default(),
        dos: joined(&brand.dos),
        donts: joined(&brand.donts),
    };
    let (form, errors, error) = match trouble {
        Some(t) => {
            if let Some(sent) = t.audience {
                match audiences.iter_mut().find(|a| a.id == t.form) {
                    Some(slot) => *slot = AudienceView { summary: slot.summary.clone(), ..sent },
                    None => new_audience = sent,
                }
            }
            if let Some(sent) = t.brand {
                typed = sent;
            }
            (t.form, t.errors, Some(t.error))
        }
        None => (String::new(), FieldErrors::default(), None),
    };
    Ok(BrandPage {
        layout: Layout::new(format!("Brand: {org_name}"), session),
        org_id: org,
        org_name,
        name: typed.name,
        colours: typed.colours,
        swatches: brand.colours.clone(),
        fonts: typed.fonts,
        tone: typed.tone,
        dos: typed.dos,
        donts: typed.donts,
        logo: brand.logo.map(file_view),
        assets: brand.assets.into_iter().map(file_view).collect(),
        audiences,
        new_audience,
        affinity: affinity
            .into_iter()
            .map(|a| AffinityView {
                freelancer: a.freelancer.to_string(),
                name: a.name,
                approved: a.approved,
                rating: a.rating.map(|r| format!("{r:.1} of 5")).unwrap_or_else(|| "—".into()),
                last: format::day(a.last_approved_at).to_string(),
                favourite: a.favourite,
            })
            .collect(),
        form,
        errors,
        error,
    })
}

/// Draws the page again with a refused form's errors beside it (or the error page, for what is not a
/// form's fault).
async fn refused(ctx: &AppContext, session: &Session, org: Uuid, trouble: Trouble, status: StatusCode) -> Response {
    match brand_page(ctx, session, org, Some(trouble)).await {
        Ok(view) => page(status, &view),
        Err(e) => super::error(session, &e),
    }
}

async fn answer(
    ctx: &AppContext,
    session: &Session,
    org: Uuid,
    (form, audience, brand): (&str, Option<AudienceView>, Option<BrandForm>),
    err: ApiError,
) -> Response {
    if !beside_form(&err) {
        return super::error(session, &err);
    }
    let trouble = Trouble {
        form: form.to_owned(),
        errors: FieldErrors::from_error(&err),
        error: err.detail().to_owned(),
        audience,
        brand,
    };
    refused(ctx, session, org, trouble, err.status()).await
}

pub async fn show(State(ctx): State<AppContext>, session: Session, Path(org): Path<Uuid>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/orgs/{org}/brand"));
    }
    match brand_page(&ctx, &session, org, None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BrandForm {
    name: String,
    colours: String,
    fonts: String,
    tone: String,
    dos: String,
    donts: String,
}

/// Saves the brand references.
pub async fn save(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Form(form): Form<BrandForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{org}/brand")) };
    let input = BrandInput {
        name: form.name.clone(),
        colours: items(&form.colours),
        fonts: items(&form.fonts),
        tone: optional(&form.tone),
        dos: lines(&form.dos),
        donts: lines(&form.donts),
    };
    match tasks::brands::service::put_brand(&ctx, principal, org, &input).await {
        Ok(_) => done(&format!("/orgs/{org}/brand"), "Brand saved."),
        Err(err) => answer(&ctx, &session, org, ("brand", None, Some(form)), err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileKind {
    kind: String,
}

/// Keeps the logo (which replaces the old one) or another asset (a file form).
pub async fn upload(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Query(q): Query<FileKind>,
    request: axum::extract::Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/orgs/{org}/brand")) };
    let next = format!("/orgs/{org}/brand#files");
    let kind = q.kind;
    let keep = async |form: crate::upload::FileForm| {
        let name = form.file_name.unwrap_or_else(|| kind.clone());
        let query = tasks::brands::dto::BrandFileQuery { kind: kind.clone(), name };
        tasks::brands::service::upload_brand_file(&ctx, &principal, org, &query, form.body).await.map(|_| ())
    };
    let refused = async |err| answer(&ctx, &session, org, ("files", None, None), err).await;
    let message = if kind == "logo" { "Logo kept." } else { "Asset kept." };
    crate::upload::keep_file(&session, request, (&next, message), keep, refused).await
}

/// Removes a brand file.
pub async fn delete_file(
    State(ctx): State<AppContext>,
    session: Session,
    Path((org, id)): Path<(Uuid, TaskFileId)>,
    Form(_): Form<NoFields>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{org}/brand")) };
    match tasks::brands::service::delete_file(&ctx, principal, id).await {
        Ok(()) => done(&format!("/orgs/{org}/brand#files"), "File removed."),
        Err(err) => answer(&ctx, &session, org, ("files", None, None), err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AudienceForm {
    name: String,
    age_min: String,
    age_max: String,
    genders: String,
    locations: String,
    languages: String,
    income: String,
    education: String,
    industries: String,
    company_sizes: String,
    roles: String,
    regions: String,
    interests: String,
    values: String,
    lifestyles: String,
    pain_points: String,
    channels: String,
    purchase_habits: String,
    devices: String,
    brand_loyalty: String,
}

impl AudienceForm {
    /// The form as it was sent, to show again beside its errors.
    fn view(&self, id: String) -> AudienceView {
        AudienceView {
            id,
            name: self.name.clone(),
            age_min: self.age_min.clone(),
            age_max: self.age_max.clone(),
            genders: self.genders.clone(),
            locations: self.locations.clone(),
            languages: self.languages.clone(),
            income: self.income.clone(),
            education: self.education.clone(),
            industries: self.industries.clone(),
            company_sizes: self.company_sizes.clone(),
            roles: self.roles.clone(),
            regions: self.regions.clone(),
            interests: self.interests.clone(),
            values: self.values.clone(),
            lifestyles: self.lifestyles.clone(),
            pain_points: self.pain_points.clone(),
            channels: self.channels.clone(),
            purchase_habits: self.purchase_habits.clone(),
            devices: self.devices.clone(),
            brand_loyalty: self.brand_loyalty.clone(),
            summary: String::new(),
        }
    }

    /// The request, or the field whose number could not be read.
    fn input(&self) -> Result<AudienceInput, ApiError> {
        let (age_min, age_max) = match (self.age_min.trim(), self.age_max.trim()) {
            (lo, _) if !lo.is_empty() && lo.parse::<i16>().is_err() => {
                return Err(ApiError::invalid_field(
                    "demographics.age_min",
                    "out_of_range",
                    "must be a whole number of years",
                ));
            }
            (_, hi) if !hi.is_empty() && hi.parse::<i16>().is_err() => {
                return Err(ApiError::invalid_field(
                    "demographics.age_max",
                    "out_of_range",
                    "must be a whole number of years",
                ));
            }
            (lo, hi) => (lo.parse::<i16>().ok(), hi.parse::<i16>().ok()),
        };
        Ok(AudienceInput {
            name: self.name.clone(),
            demographics: Demographics {
                age_min,
                age_max,
                genders: items(&self.genders),
                locations: items(&self.locations),
                languages: items(&self.languages),
                income: optional(&self.income),
                education: optional(&self.education),
            },
            firmographics: Firmographics {
                industries: items(&self.industries),
                company_sizes: items(&self.company_sizes),
                roles: items(&self.roles),
                regions: items(&self.regions),
            },
            psychographics: Psychographics {
                interests: items(&self.interests),
                values: items(&self.values),
                lifestyles: items(&self.lifestyles),
                pain_points: items(&self.pain_points),
            },
            behaviour: Behaviour {
                channels: items(&self.channels),
                purchase_habits: items(&self.purchase_habits),
                devices: items(&self.devices),
                brand_loyalty: optional(&self.brand_loyalty),
            },
        })
    }
}

async fn keep_audience(
    ctx: &AppContext,
    session: &Session,
    org: Uuid,
    id: Option<AudienceId>,
    form: AudienceForm,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{org}/brand")) };
    let key = id.map(|a| a.0.to_string()).unwrap_or_else(|| "new".into());
    let result = match form.input() {
        Ok(input) => tasks::brands::service::save_audience(ctx, principal, org, id, &input).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(a) => done(&format!("/orgs/{org}/brand#audience-{}", a.id.0), &format!("Audience “{}” saved.", a.name)),
        Err(err) => {
            let sent = form.view(id.map(|a| a.0.to_string()).unwrap_or_default());
            answer(ctx, session, org, (&key, Some(sent), None), err).await
        }
    }
}

/// Adds an audience.
pub async fn new_audience(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Form(form): Form<AudienceForm>,
) -> Response {
    keep_audience(&ctx, &session, org, None, form).await
}

/// Saves an audience.
pub async fn save_audience(
    State(ctx): State<AppContext>,
    session: Session,
    Path((org, id)): Path<(Uuid, AudienceId)>,
    Form(form): Form<AudienceForm>,
) -> Response {
    keep_audience(&ctx, &session, org, Some(id), form).await
}

/// Deletes an audience (refused while a brief uses it).
pub async fn delete_audience(
    State(ctx): State<AppContext>,
    session: Session,
    Path((org, id)): Path<(Uuid, AudienceId)>,
    Form(_): Form<NoFields>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{org}/brand")) };
    match tasks::brands::service::delete_audience(&ctx, principal, org, id).await {
        Ok(()) => done(&format!("/orgs/{org}/brand#audiences"), "Audience deleted."),
        Err(err) => answer(&ctx, &session, org, (&id.0.to_string(), None, None), err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FavouriteForm {
    on: String,
}

/// Marks a freelancer the company has worked with as a favourite (offered its tasks first), or unmarks.
pub async fn favourite(
    State(ctx): State<AppContext>,
    session: Session,
    Path((org, user)): Path<(Uuid, Uuid)>,
    Form(form): Form<FavouriteForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/orgs/{org}/brand")) };
    let on = form.on == "true";
    match tasks::freelancers::service::favourite(&ctx, principal, org, user, on).await {
        Ok(_) if on => done(&format!("/orgs/{org}/brand#affinity"), "Marked as a favourite: offered your tasks first."),
        Ok(_) => done(&format!("/orgs/{org}/brand#affinity"), "No longer a favourite."),
        Err(err) => answer(&ctx, &session, org, ("affinity", None, None), err).await,
    }
}
