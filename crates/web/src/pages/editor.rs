//! The release editor: a release's fields with the validation report beside them (each problem also
//! under the field it concerns), its credits, its cover art and tracks with their audio (uploaded with
//! a progress bar), and each track's own page. Every change goes through the catalog's service
//! functions, so the rules and permission checks are the API's.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use catalog::fields::CreditInput;
use catalog::model::{ReleaseId, TrackId};
use catalog::releases::dto::{Release, ReleaseRequest, TerritoryDate};
use catalog::tracks::dto::{Credit, Track, TrackRequest};
use chrono::NaiveDate;
use platform::error::FieldError;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use uuid::Uuid;

use super::{FieldErrors, Layout, done, page, to_signin};
use crate::session::{Form, Session};
use crate::upload::{FileForm, Refused, file_form, scripted_done, scripted_error};

type Options = &'static [(&'static str, &'static str)];

const RELEASE_TYPES: Options = &[
    ("single", "Single"),
    ("ep", "EP"),
    ("album", "Album"),
    ("compilation", "Compilation"),
    ("remix", "Remix"),
    ("live", "Live"),
];
const TERRITORY_MODES: Options =
    &[("worldwide", "Worldwide, except the territories below"), ("only", "Only the territories below")];
const PRICE_TIERS: Options =
    &[("", "The store's default"), ("budget", "Budget"), ("mid", "Mid"), ("front", "Front"), ("premium", "Premium")];
pub const ROLES: Options = &[
    ("main_artist", "Main artist"),
    ("featured_artist", "Featured artist"),
    ("remixer", "Remixer"),
    ("producer", "Producer"),
    ("composer", "Composer"),
    ("lyricist", "Lyricist"),
    ("arranger", "Arranger"),
    ("mixer", "Mixer"),
    ("mastering_engineer", "Mastering engineer"),
    ("recording_engineer", "Recording engineer"),
    ("performer", "Performer"),
    ("conductor", "Conductor"),
    ("orchestra", "Orchestra"),
];

/// One input of a form, with what is wrong with it beside it.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `date`, `number`, `select`, `checkbox` or `textarea`.
    pub kind: &'static str,
    pub value: String,
    pub options: Options,
    pub hint: &'static str,
    /// The last save's error for the field, else what the validation report says of it.
    pub problem: String,
}

impl Field {
    fn new(name: &'static str, label: &'static str, kind: &'static str, value: &str) -> Self {
        Self { name, label, kind, value: value.to_owned(), options: &[], hint: "", problem: String::new() }
    }

    fn select(name: &'static str, label: &'static str, options: Options, value: &str) -> Self {
        Self { options, ..Self::new(name, label, "select", value) }
    }

    fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }
}

/// Fills each field's problem: the save's error first, else the report's messages for it.
fn mark(fields: &mut [Field], errors: &FieldErrors, report: &[(String, String)]) {
    for f in fields {
        f.problem = match errors.of(f.name) {
            Some(e) => e.to_owned(),
            None => report
                .iter()
                .filter(|(field, _)| field == f.name)
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        };
    }
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn number<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Reads a number or a date of a form: empty is none, anything else must parse.
fn parsed<T: std::str::FromStr>(field: &str, value: &str, what: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(FieldError::new(field, "invalid_format", format!("must be {what}")));
            None
        }
    }
}

/// A release's fields as the form sends them (and shows them again when a save is refused).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ReleaseForm {
    release_type: String,
    title: String,
    version: String,
    display_artist: String,
    label_name: String,
    genre: String,
    subgenre: String,
    language: String,
    explicit: String,
    p_line_year: String,
    p_line: String,
    c_line_year: String,
    c_line: String,
    original_release_date: String,
    release_date: String,
    territory_mode: String,
    territories: String,
    territory_dates: String,
    price_tier: String,
    upc: String,
    catalog_number: String,
}

impl From<&Release> for ReleaseForm {
    fn from(r: &Release) -> Self {
        Self {
            release_type: r.release_type.clone(),
            title: r.title.clone(),
            version: text(&r.version),
            display_artist: r.display_artist.clone(),
            label_name: r.label_name.clone(),
            genre: text(&r.genre),
            subgenre: text(&r.subgenre),
            language: text(&r.language),
            explicit: if r.explicit { "on".into() } else { String::new() },
            p_line_year: number(r.p_line_year),
            p_line: text(&r.p_line),
            c_line_year: number(r.c_line_year),
            c_line: text(&r.c_line),
            original_release_date: number(r.original_release_date),
            release_date: number(r.release_date),
            territory_mode: r.territory_mode.clone(),
            territories: r.territories.join(", "),
            territory_dates: r
                .territory_dates
                .iter()
                .map(|d| format!("{} {}", d.territory, d.release_date))
                .collect::<Vec<_>>()
                .join("\n"),
            price_tier: text(&r.price_tier),
            upc: text(&r.upc),
            catalog_number: text(&r.catalog_number),
        }
    }
}

impl ReleaseForm {
    fn fields(&self) -> Vec<Field> {
        vec![
            Field::select("release_type", "Type", RELEASE_TYPES, &self.release_type),
            Field::new("title", "Title", "text", &self.title),
            Field::new("version", "Version", "text", &self.version).hint("Such as Deluxe Edition or Remastered 2026."),
            Field::new("display_artist", "Display artist", "text", &self.display_artist),
            Field::new("label_name", "Label name in stores", "text", &self.label_name)
                .hint("The label organization's name when left empty."),
            Field::new("genre", "Genre", "text", &self.genre),
            Field::new("subgenre", "Subgenre", "text", &self.subgenre),
            Field::new("language", "Language of the metadata", "text", &self.language)
                .hint("An ISO 639 code such as en or deu."),
            Field::new("explicit", "Explicit lyrics", "checkbox", &self.explicit),
            Field::new("p_line_year", "℗ year", "number", &self.p_line_year),
            Field::new("p_line", "℗ owner", "text", &self.p_line),
            Field::new("c_line_year", "© year", "number", &self.c_line_year),
            Field::new("c_line", "© owner", "text", &self.c_line),
            Field::new("release_date", "Release date", "date", &self.release_date),
            Field::new("original_release_date", "Original release date", "date", &self.original_release_date)
                .hint("For a reissue: when it first came out."),
            Field::select("territory_mode", "Where", TERRITORY_MODES, &self.territory_mode),
            Field::new("territories", "Territories", "text", &self.territories)
                .hint("Two-letter codes separated by commas, such as GB, IE."),
            Field::new("territory_dates", "Release dates that differ by territory", "textarea", &self.territory_dates)
                .hint("One a line: a territory and its date, such as JP 2027-03-05."),
            Field::select("price_tier", "Price tier", PRICE_TIERS, &self.price_tier),
            Field::new("upc", "UPC or EAN", "text", &self.upc)
                .hint("Left empty, one is assigned from the label's pool or GS1 prefix when submitted."),
            Field::new("catalog_number", "Catalog number", "text", &self.catalog_number),
        ]
    }

    /// The API request the form stands for, or the fields that cannot be read.
    fn request(&self, label: Option<Uuid>) -> Result<ReleaseRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let p_line_year = parsed("p_line_year", &self.p_line_year, "a year", &mut errors);
        let c_line_year = parsed("c_line_year", &self.c_line_year, "a year", &mut errors);
        let release_date = parsed("release_date", &self.release_date, "a date", &mut errors);
        let original = parsed("original_release_date", &self.original_release_date, "a date", &mut errors);
        let mut dates = Vec::new();
        for line in self.territory_dates.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.split_once(char::is_whitespace).map(|(t, d)| (t, d.trim().parse::<NaiveDate>())) {
                Some((territory, Ok(release_date))) => {
                    dates.push(TerritoryDate { territory: territory.to_owned(), release_date });
                }
                _ => errors.push(FieldError::new(
                    "territory_dates",
                    "invalid_format",
                    format!("“{line}” is not a territory and a date (JP 2027-03-05)"),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let given = |v: &str| Some(v.to_owned());
        Ok(ReleaseRequest {
            label_id: label,
            release_type: given(&self.release_type),
            title: given(&self.title),
            version: given(&self.version),
            display_artist: given(&self.display_artist),
            label_name: Some(self.label_name.clone()).filter(|n| !n.trim().is_empty()),
            genre: given(&self.genre),
            subgenre: given(&self.subgenre),
            language: given(&self.language),
            explicit: Some(!self.explicit.is_empty()),
            p_line_year,
            p_line: given(&self.p_line),
            c_line_year,
            c_line: given(&self.c_line),
            original_release_date: original,
            release_date,
            territory_mode: given(&self.territory_mode),
            territories: Some(
                self.territories
                    .split([',', ' ', ';'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            territory_dates: Some(dates),
            price_tier: given(&self.price_tier),
            upc: given(&self.upc),
            catalog_number: given(&self.catalog_number),
            credits: None,
        })
    }
}

/// A line of the report beside the form, linked to the part of the page it concerns.
pub struct ReportLine {
    pub field: String,
    pub message: String,
    pub anchor: String,
}

fn report_line(p: catalog::releases::validation::ReleaseProblem) -> ReportLine {
    let anchor = match p.field.as_str() {
        f if f.starts_with("tracks[") => {
            let i: usize = f[7..].split(']').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            format!("track-{}", i + 1)
        }
        "tracks" => "tracks".into(),
        "artwork" => "artwork".into(),
        "credits" => "credits".into(),
        f => format!("f-{f}"),
    };
    ReportLine { field: p.field, message: p.message, anchor }
}

pub struct CreditLine {
    pub party: String,
    pub name: String,
    pub role: String,
    pub role_label: &'static str,
}

fn credit_lines(credits: &[Credit]) -> Vec<CreditLine> {
    credits
        .iter()
        .map(|c| CreditLine {
            party: c.party_id.0.to_string(),
            name: c.name.clone(),
            role: c.role.clone(),
            role_label: ROLES.iter().find(|(v, _)| *v == c.role).map_or("", |(_, l)| l),
        })
        .collect()
}

pub struct EditTrack {
    pub id: String,
    /// Its place in the list, from 1: what the report's `tracks[i]` points at.
    pub index: usize,
    pub number: String,
    pub title: String,
    pub isrc: String,
    pub audio: String,
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "release_edit.html")]
struct Editor {
    layout: Layout,
    /// The release; none while creating one.
    id: Option<String>,
    action: String,
    fields: Vec<Field>,
    error: Option<String>,
    report: Vec<ReportLine>,
    warnings: Vec<ReportLine>,
    can_submit: bool,
    artwork: String,
    tracks: Vec<EditTrack>,
    credits: Vec<CreditLine>,
    parties: Vec<(String, String)>,
    roles: Options,
    /// The track the credits belong to; none for the release's.
    track: Option<String>,
}

/// The editor of a new release for `org`, or of release `id`, showing `form` (the release's values when
/// none) with `errors` beside the fields.
async fn editor(
    ctx: &AppContext,
    session: &Session,
    target: Result<ReleaseId, Uuid>,
    form: Option<ReleaseForm>,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<Editor, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such release."))?;
    let (release, org) = match target {
        Ok(id) => {
            let r = catalog::releases::service::get(ctx, principal, id).await?;
            if !catalog::releases::service::may_edit(ctx, principal, &r).await? {
                return Err(ApiError::new(
                    catalog::error::CatalogCode::NotEditable,
                    format!(
                        "The release is {}; only a draft or a release with changes requested is edited.",
                        r.status.replace('_', " ")
                    ),
                ));
            }
            let org = r.label_id;
            (Some(r), org)
        }
        Err(org) => {
            if !catalog::labels::service::is_manager(ctx, principal, org).await? {
                return Err(ApiError::not_found("No such label."));
            }
            (None, org)
        }
    };
    let parties = catalog::labels::service::parties(
        ctx,
        principal,
        org,
        catalog::labels::dto::LabelPartyQuery { limit: Some(200), ..Default::default() },
    )
    .await?
    .items
    .into_iter()
    .map(|p| (p.id.0.to_string(), p.name))
    .collect();
    let Some(r) = release else {
        let form = form.unwrap_or_else(|| ReleaseForm {
            release_type: "single".into(),
            territory_mode: "worldwide".into(),
            ..Default::default()
        });
        let mut fields = form.fields();
        mark(&mut fields, &errors, &[]);
        return Ok(Editor {
            layout: Layout::new("New release", session),
            id: None,
            action: format!("/labels/{org}/releases"),
            fields,
            error,
            report: Vec::new(),
            warnings: Vec::new(),
            can_submit: false,
            artwork: String::new(),
            tracks: Vec::new(),
            credits: Vec::new(),
            parties,
            roles: ROLES,
            track: None,
        });
    };
    let report = catalog::releases::service::validate(ctx, principal, r.id).await?;
    let pairs: Vec<(String, String)> = report.problems.iter().map(|p| (p.field.clone(), p.message.clone())).collect();
    let mut fields = form.unwrap_or_else(|| ReleaseForm::from(&r)).fields();
    mark(&mut fields, &errors, &pairs);
    let id = r.id.0.to_string();
    let tracks = r
        .tracks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let prefix = format!("tracks[{i}].");
            EditTrack {
                id: t.track.id.0.to_string(),
                index: i + 1,
                number: format!("{}.{}", t.disc, t.position),
                title: match &t.track.version {
                    Some(v) => format!("{} ({v})", t.track.title),
                    None => t.track.title.clone(),
                },
                isrc: t.track.isrc_display.clone().unwrap_or_else(|| "assigned when submitted".into()),
                audio: audio_summary(&t.track),
                problems: report
                    .problems
                    .iter()
                    .chain(&report.warnings)
                    .filter(|p| p.field.starts_with(&prefix))
                    .map(|p| format!("{}: {}", &p.field[prefix.len()..], p.message))
                    .collect(),
            }
        })
        .collect();
    Ok(Editor {
        layout: Layout::new(format!("Edit {}", r.title), session),
        action: format!("/releases/{id}/edit"),
        can_submit: report.ready,
        artwork: r.artwork.as_ref().map_or_else(String::new, |a| {
            format!("{} · {} × {} · {}", a.format.to_uppercase(), a.width, a.height, crate::format::bytes(a.size))
        }),
        credits: credit_lines(&r.credits),
        id: Some(id),
        fields,
        error,
        report: report.problems.into_iter().map(report_line).collect(),
        warnings: report.warnings.into_iter().map(report_line).collect(),
        tracks,
        parties,
        roles: ROLES,
        track: None,
    })
}

fn audio_summary(t: &Track) -> String {
    t.audio.as_ref().map_or_else(String::new, |a| {
        format!(
            "{} · {} Hz · {} bit · {:.1} s · {} LUFS",
            a.format.to_uppercase(),
            a.sample_rate,
            a.bits_per_sample,
            f64::from(a.duration_ms) / 1000.0,
            a.loudness_lufs.map_or("–".into(), |l| format!("{l:.1}"))
        )
    })
}

/// A page with `status`, or the page of the error that stopped it from being made.
fn shown<T: Template>(session: &Session, status: StatusCode, view: Result<T, ApiError>) -> Response {
    match view {
        Ok(view) => page(status, &view),
        Err(err) => super::error(session, &err),
    }
}

/// Whether an error is the person's to fix (shown on the form) rather than a page of its own.
fn on_form(err: &ApiError) -> bool {
    err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND && err.status() != StatusCode::FORBIDDEN
}

/// What to say on top of the form for an error (its field errors are shown beside the fields).
fn summary(err: &ApiError) -> String {
    if err.field_errors().is_empty() { err.detail().to_owned() } else { "Some fields need attention.".to_owned() }
}

pub async fn new_form(State(ctx): State<AppContext>, session: Session, Path(org): Path<Uuid>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/labels/{org}/releases/new"));
    }
    shown(&session, StatusCode::OK, editor(&ctx, &session, Err(org), None, FieldErrors::default(), None).await)
}

pub async fn create(
    State(ctx): State<AppContext>,
    session: Session,
    Path(org): Path<Uuid>,
    Form(form): Form<ReleaseForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/labels/{org}/releases/new")) };
    let result = match form.request(Some(org)) {
        Ok(req) => catalog::releases::service::create(&ctx, principal, req).await,
        Err(errors) => Err(ApiError::validation(errors)),
    };
    match result {
        Ok(r) => done(&format!("/releases/{}/edit", r.id.0), "The release is created as a draft."),
        Err(err) if on_form(&err) => {
            let view =
                editor(&ctx, &session, Err(org), Some(form), FieldErrors::from_error(&err), Some(summary(&err))).await;
            shown(&session, err.status(), view)
        }
        Err(err) => super::error(&session, &err),
    }
}

pub async fn edit_form(State(ctx): State<AppContext>, session: Session, Path(id): Path<ReleaseId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/releases/{}/edit", id.0));
    }
    shown(&session, StatusCode::OK, editor(&ctx, &session, Ok(id), None, FieldErrors::default(), None).await)
}

pub async fn save(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(form): Form<ReleaseForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}/edit", id.0)) };
    let result = match form.request(None) {
        Ok(req) => catalog::releases::service::update(&ctx, principal, id, req).await,
        Err(errors) => Err(ApiError::validation(errors)),
    };
    edited(&ctx, &session, id, result.map(|_| ()), "Saved.", Some(form)).await
}

/// After a change on the editor: back to it with a toast, or the editor again with what went wrong.
async fn edited(
    ctx: &AppContext,
    session: &Session,
    id: ReleaseId,
    result: Result<(), ApiError>,
    message: &str,
    form: Option<ReleaseForm>,
) -> Response {
    match result {
        Ok(()) => done(&format!("/releases/{}/edit", id.0), message),
        Err(err) if on_form(&err) => {
            let errors = if form.is_some() { FieldErrors::from_error(&err) } else { FieldErrors::default() };
            let mut text = summary(&err);
            if form.is_none() {
                for e in err.field_errors() {
                    text.push_str(&format!(" {}: {}.", e.field, e.message));
                }
            }
            let view = editor(ctx, session, Ok(id), form, errors, Some(text)).await;
            shown(session, err.status(), view)
        }
        Err(err) => super::error(session, &err),
    }
}

/// An upload's outcome: for the page's script a bare answer, else the editor (or the track's page).
async fn uploaded(
    ctx: &AppContext,
    session: &Session,
    id: ReleaseId,
    scripted: bool,
    next: &str,
    result: Result<(), ApiError>,
    message: &str,
) -> Response {
    match (scripted, result) {
        (true, Ok(())) => scripted_done(next, message),
        (true, Err(err)) => scripted_error(&err),
        (false, Ok(())) => done(next, message),
        (false, Err(err)) => edited(ctx, session, id, Err(err), message, None).await,
    }
}

/// Reads a file form, or answers why it cannot be read.
async fn file(ctx: &AppContext, session: &Session, id: ReleaseId, request: Request) -> Result<FileForm, Response> {
    let scripted = request.headers().get("x-upload").is_some_and(|v| v == "progress");
    match file_form(session, request).await {
        Ok(form) => Ok(form),
        Err(Refused::Forbidden) => Err(super::forbidden_form()),
        Err(Refused::NoFile(why)) => {
            let err = ApiError::invalid_field("file", "required", why);
            Err(if scripted { scripted_error(&err) } else { edited(ctx, session, id, Err(err), "", None).await })
        }
    }
}

pub async fn upload_artwork(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    request: Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/releases/{}/edit", id.0)) };
    let form = match file(&ctx, &session, id, request).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let result = catalog::releases::service::upload_artwork(&ctx, &principal, id, form.body).await.map(|_| ());
    let next = format!("/releases/{}/edit", id.0);
    uploaded(&ctx, &session, id, form.scripted, &next, result, "The cover art is uploaded.").await
}

pub async fn upload_audio(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, track)): Path<(ReleaseId, TrackId)>,
    request: Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/releases/{}/edit", id.0)) };
    let form = match file(&ctx, &session, id, request).await {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let result = match on_release(&ctx, &principal, id, track).await {
        Ok(()) => {
            catalog::tracks::service::upload_audio(&ctx, &principal, track, form.body, form.file_name).await.map(|_| ())
        }
        Err(err) => Err(err),
    };
    let next = format!("/releases/{}/edit#tracks", id.0);
    uploaded(&ctx, &session, id, form.scripted, &next, result, "The audio is uploaded and measured.").await
}

/// Refuses a track that is not on the release the page is for.
async fn on_release(
    ctx: &AppContext,
    principal: &identity::auth::Principal,
    id: ReleaseId,
    track: TrackId,
) -> Result<(), ApiError> {
    let r = catalog::releases::service::get(ctx, principal, id).await?;
    if r.tracks.iter().any(|t| t.track.id == track) {
        Ok(())
    } else {
        Err(ApiError::not_found("No such track on the release."))
    }
}

/// A new track: its title, version, ISRC (else assigned when submitted) and explicit flag; the rest on
/// its own page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewTrackForm {
    title: String,
    version: String,
    isrc: String,
    explicit: String,
    disc: String,
    position: String,
}

pub async fn add_track(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(form): Form<NewTrackForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}/edit", id.0)) };
    let mut errors = Vec::new();
    let disc = parsed("disc", &form.disc, "a disc number", &mut errors);
    let position = parsed("position", &form.position, "a track number", &mut errors);
    if !errors.is_empty() {
        return edited(&ctx, &session, id, Err(ApiError::validation(errors)), "", None).await;
    }
    let req = TrackRequest {
        disc,
        position,
        title: Some(form.title),
        version: Some(form.version).filter(|v| !v.trim().is_empty()),
        isrc: Some(form.isrc).filter(|v| !v.trim().is_empty()),
        explicit: Some(!form.explicit.is_empty()),
        ..Default::default()
    };
    let result = catalog::tracks::service::add(&ctx, principal, id, req).await.map(|_| ());
    edited(&ctx, &session, id, result, "The track is added.", None).await
}

pub async fn remove_track(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, track)): Path<(ReleaseId, TrackId)>,
    Form(_): Form<super::catalog::Empty>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}/edit", id.0)) };
    let result = catalog::tracks::service::remove(&ctx, principal, id, track).await;
    edited(&ctx, &session, id, result, "The track is removed from the release.", None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    /// `up` or `down`.
    direction: String,
}

/// Moves a track one place up or down the list: it swaps disc and number with its neighbour.
pub async fn move_track(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, track)): Path<(ReleaseId, TrackId)>,
    Form(form): Form<MoveForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}/edit", id.0)) };
    let result = async {
        let release = catalog::releases::service::get(&ctx, principal, id).await?;
        let mut places: Vec<catalog::tracks::dto::TrackPlace> = release
            .tracks
            .iter()
            .map(|t| catalog::tracks::dto::TrackPlace { track_id: t.track.id, disc: t.disc, position: t.position })
            .collect();
        let at =
            places.iter().position(|p| p.track_id == track).ok_or_else(|| ApiError::not_found("No such track."))?;
        let other = match form.direction.as_str() {
            "up" if at > 0 => at - 1,
            "down" if at + 1 < places.len() => at + 1,
            _ => return Ok(()),
        };
        let (a, b) = (places[at].track_id, places[other].track_id);
        places[at].track_id = b;
        places[other].track_id = a;
        let order = catalog::tracks::dto::TrackOrder { tracks: places };
        catalog::tracks::service::reorder(&ctx, principal, id, order).await.map(|_| ())
    };
    edited(&ctx, &session, id, result.await, "The track list is reordered.", None).await
}

/// A credit to add (a party of the label, or a new one by name) or to remove, on the release or one of
/// its tracks.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreditForm {
    track: String,
    party: String,
    new_name: String,
    role: String,
    /// `remove` to take the credit off; anything else adds it.
    action: String,
}

pub async fn credit(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(form): Form<CreditForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}/edit", id.0)) };
    let track = form.track.parse::<Uuid>().ok().map(TrackId);
    let result = change_credits(&ctx, principal, id, track, &form).await;
    match (track, result) {
        (Some(track), Ok(())) => done(&format!("/releases/{}/tracks/{}", id.0, track.0), "The credits are saved."),
        (Some(track), Err(err)) if on_form(&err) => {
            let view =
                track_page(&ctx, &session, id, track, None, FieldErrors::default(), Some(credit_error(&err))).await;
            shown(&session, err.status(), view)
        }
        (Some(_), Err(err)) => super::error(&session, &err),
        (None, result) => edited(&ctx, &session, id, result, "The credits are saved.", None).await,
    }
}

fn credit_error(err: &ApiError) -> String {
    let mut text = err.detail().to_owned();
    for e in err.field_errors() {
        text.push_str(&format!(" {}: {}.", e.field, e.message));
    }
    text
}

/// Adds or removes one credit (a new name joins the label's parties first), under the release's lock.
async fn change_credits(
    ctx: &AppContext,
    principal: &identity::auth::Principal,
    id: ReleaseId,
    track: Option<TrackId>,
    form: &CreditForm,
) -> Result<(), ApiError> {
    if !ROLES.iter().any(|(v, _)| *v == form.role) {
        return Err(ApiError::invalid_field("role", "invalid_value", "choose a role"));
    }
    let add = form.action != "remove";
    let party = match (form.party.parse::<Uuid>(), form.new_name.trim()) {
        (_, name) if add && !name.is_empty() => {
            let release = catalog::releases::service::get(ctx, principal, id).await?;
            let request = catalog::labels::dto::LabelPartyRequest {
                name: Some(name.to_owned()),
                roster: Some(matches!(form.role.as_str(), "main_artist" | "featured_artist")),
                ..Default::default()
            };
            catalog::labels::service::create_party(ctx, principal, release.label_id, request).await?.id.0
        }
        (Ok(party), _) => party,
        (Err(_), _) if add => {
            return Err(ApiError::invalid_field("party", "required", "choose someone, or type a new name"));
        }
        (Err(_), _) => return Err(ApiError::not_found("No such credit.")),
    };
    let credit = CreditInput { party_id: party, role: form.role.clone() };
    catalog::tracks::service::change_credit(ctx, principal, id, track, credit, add).await
}

/// A track's fields as its form sends them.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct TrackForm {
    title: String,
    version: String,
    display_artist: String,
    isrc: String,
    iswc: String,
    explicit: String,
    language: String,
    lyrics: String,
    bpm: String,
    musical_key: String,
    preview_start: String,
}

impl From<&Track> for TrackForm {
    fn from(t: &Track) -> Self {
        Self {
            title: t.title.clone(),
            version: text(&t.version),
            display_artist: t.display_artist.clone(),
            isrc: text(&t.isrc_display),
            iswc: text(&t.iswc),
            explicit: if t.explicit { "on".into() } else { String::new() },
            language: text(&t.language),
            lyrics: text(&t.lyrics),
            bpm: number(t.bpm),
            musical_key: text(&t.musical_key),
            preview_start: t.preview_start_ms.map(|ms| format!("{}", f64::from(ms) / 1000.0)).unwrap_or_default(),
        }
    }
}

impl TrackForm {
    fn fields(&self) -> Vec<Field> {
        vec![
            Field::new("title", "Title", "text", &self.title),
            Field::new("version", "Version", "text", &self.version).hint("Such as Radio Edit or Live."),
            Field::new("display_artist", "Display artist", "text", &self.display_artist),
            Field::new("isrc", "ISRC", "text", &self.isrc)
                .hint("CC-XXX-YY-NNNNN; left empty, one is assigned when the release is submitted."),
            Field::new("iswc", "ISWC", "text", &self.iswc).hint("The work's code, T-DDD.DDD.DDD-C."),
            Field::new("explicit", "Explicit lyrics", "checkbox", &self.explicit),
            Field::new("language", "Language of the lyrics", "text", &self.language),
            Field::new("lyrics", "Lyrics", "textarea", &self.lyrics),
            Field::new("bpm", "BPM", "number", &self.bpm),
            Field::new("musical_key", "Key", "text", &self.musical_key).hint("Such as A minor."),
            Field::new("preview_start", "Preview starts at (seconds)", "number", &self.preview_start),
        ]
    }

    fn request(&self) -> Result<TrackRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let bpm = parsed("bpm", &self.bpm, "a number", &mut errors);
        let preview: Option<f64> = parsed("preview_start", &self.preview_start, "a number of seconds", &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let given = |v: &str| Some(v.to_owned());
        Ok(TrackRequest {
            title: given(&self.title),
            version: given(&self.version),
            display_artist: given(&self.display_artist),
            isrc: given(&self.isrc),
            iswc: given(&self.iswc),
            explicit: Some(!self.explicit.is_empty()),
            language: given(&self.language),
            lyrics: given(&self.lyrics),
            bpm,
            musical_key: given(&self.musical_key),
            preview_start_ms: preview
                .map(|s| (s * 1000.0).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32),
            ..Default::default()
        })
    }
}

#[derive(Template)]
#[template(path = "track_edit.html")]
struct TrackPage {
    layout: Layout,
    id: String,
    release_title: String,
    track_id: String,
    fields: Vec<Field>,
    error: Option<String>,
    audio: String,
    credits: Vec<CreditLine>,
    parties: Vec<(String, String)>,
    roles: Options,
    track: Option<String>,
}

async fn track_page(
    ctx: &AppContext,
    session: &Session,
    id: ReleaseId,
    track: TrackId,
    form: Option<TrackForm>,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<TrackPage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such track."))?;
    let r = catalog::releases::service::get(ctx, principal, id).await?;
    let (index, t) = r
        .tracks
        .iter()
        .enumerate()
        .find(|(_, t)| t.track.id == track)
        .ok_or_else(|| ApiError::not_found("No such track on the release."))?;
    let report = catalog::releases::service::validate(ctx, principal, id).await?;
    let prefix = format!("tracks[{index}].");
    let pairs: Vec<(String, String)> = report
        .problems
        .iter()
        .filter_map(|p| p.field.strip_prefix(&prefix).map(|f| (f.to_owned(), p.message.clone())))
        .collect();
    let errors = FieldErrors::from_pairs(
        errors
            .pairs()
            .iter()
            .map(|(f, m)| (if f == "preview_start_ms" { "preview_start".into() } else { f.clone() }, m.clone())),
    );
    let mut fields = form.unwrap_or_else(|| TrackForm::from(&t.track)).fields();
    mark(&mut fields, &errors, &pairs);
    let parties = catalog::labels::service::parties(
        ctx,
        principal,
        r.label_id,
        catalog::labels::dto::LabelPartyQuery { limit: Some(200), ..Default::default() },
    )
    .await?
    .items
    .into_iter()
    .map(|p| (p.id.0.to_string(), p.name))
    .collect();
    Ok(TrackPage {
        layout: Layout::new(format!("Track {}", t.track.title), session),
        id: id.0.to_string(),
        release_title: r.title.clone(),
        track_id: track.0.to_string(),
        fields,
        error,
        audio: audio_summary(&t.track),
        credits: credit_lines(&t.track.credits),
        parties,
        roles: ROLES,
        track: Some(track.0.to_string()),
    })
}

pub async fn track_form(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, track)): Path<(ReleaseId, TrackId)>,
) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/releases/{}/tracks/{}", id.0, track.0));
    }
    shown(&session, StatusCode::OK, track_page(&ctx, &session, id, track, None, FieldErrors::default(), None).await)
}

pub async fn save_track(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, track)): Path<(ReleaseId, TrackId)>,
    Form(form): Form<TrackForm>,
) -> Response {
    let here = format!("/releases/{}/tracks/{}", id.0, track.0);
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let result = match form.request() {
        Ok(req) => match on_release(&ctx, principal, id, track).await {
            Ok(()) => catalog::tracks::service::update(&ctx, principal, track, req).await.map(|_| ()),
            Err(err) => Err(err),
        },
        Err(errors) => Err(ApiError::validation(errors)),
    };
    match result {
        Ok(()) => done(&here, "Saved."),
        Err(err) if on_form(&err) => {
            let view =
                track_page(&ctx, &session, id, track, Some(form), FieldErrors::from_error(&err), Some(summary(&err)))
                    .await;
            shown(&session, err.status(), view)
        }
        Err(err) => super::error(&session, &err),
    }
}
