//! The catalog's pages: a label's catalog, a release (tracks with their codes and audio measures, the
//! validation report, deliveries per store, rights and conflicts) with its label's and staff's actions,
//! and staff's review queue. Every check is the API's own (the catalog's service functions).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use catalog::model::ReleaseId;
use catalog::releases::dto::ReleaseReviewRequest;
use platform::pagination::PageParams;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use uuid::Uuid;

use super::{Layout, page, to_signin};
use crate::format;
use crate::session::{Form, Session};

pub struct ReleaseLine {
    pub id: String,
    pub title: String,
    pub artist: String,
    pub kind: String,
    pub status: String,
    pub date: String,
    pub upc: String,
    /// Where the release stands at each store of the board (empty: not sent there).
    pub stores: Vec<String>,
}

impl From<catalog::releases::dto::ReleaseSummary> for ReleaseLine {
    fn from(r: catalog::releases::dto::ReleaseSummary) -> Self {
        Self {
            id: r.id.0.to_string(),
            title: r.title,
            artist: r.display_artist,
            kind: r.release_type,
            status: r.status.replace('_', " "),
            date: r.release_date.map(|d| d.to_string()).unwrap_or_default(),
            upc: r.upc.unwrap_or_default(),
            stores: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct Catalog {
    layout: Layout,
    org: String,
    /// The stores any release of the label was sent to: the board's columns.
    stores: Vec<String>,
    releases: Vec<ReleaseLine>,
}

pub async fn catalog(State(ctx): State<AppContext>, session: Session, Path(org): Path<Uuid>) -> Response {
    let here = format!("/labels/{org}/catalog");
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let query = catalog::releases::dto::ReleaseQuery { limit: Some(200), ..Default::default() };
    let board = async {
        let list = catalog::releases::service::list(&ctx, principal, org, query).await?;
        let deliveries = catalog::distribution::service::of_label(&ctx, principal, org).await?;
        Ok::<_, ApiError>((list, deliveries))
    };
    match board.await {
        Ok((list, deliveries)) => {
            let mut stores: Vec<(catalog::model::StoreId, String)> = Vec::new();
            for d in &deliveries.items {
                if !stores.iter().any(|(id, _)| *id == d.store_id) {
                    stores.push((d.store_id, d.store_name.clone()));
                }
            }
            stores.sort_by_key(|(_, name)| name.to_lowercase());
            let releases = list
                .items
                .into_iter()
                .map(|r| {
                    let cells = stores
                        .iter()
                        .map(|(store, _)| {
                            deliveries.items.iter().find(|d| d.release_id == r.id && d.store_id == *store).map_or_else(
                                String::new,
                                |d| {
                                    if d.action == "takedown" {
                                        format!("takedown {}", d.state)
                                    } else {
                                        d.state.clone()
                                    }
                                },
                            )
                        })
                        .collect();
                    ReleaseLine { stores: cells, ..ReleaseLine::from(r) }
                })
                .collect();
            page(
                StatusCode::OK,
                &Catalog {
                    layout: Layout::new("Catalog", &session),
                    org: org.to_string(),
                    stores: stores.into_iter().map(|(_, name)| name).collect(),
                    releases,
                },
            )
        }
        Err(err) => super::error(&session, &err),
    }
}

pub struct TrackLine {
    pub number: String,
    pub title: String,
    pub isrc: String,
    pub audio: String,
    pub loudness: String,
}

pub struct ProblemLine {
    pub field: String,
    pub message: String,
}

pub struct DeliveryLine {
    pub store: String,
    pub state: String,
    pub action: String,
    pub when: String,
    pub error: String,
}

pub struct ClaimLine {
    pub id: String,
    /// Where its documents are uploaded, and the upload input's id.
    pub upload: String,
    pub upload_id: String,
    pub track: String,
    pub period: String,
    pub documents: Vec<(String, String)>,
    pub pending: bool,
    pub right: String,
    pub holder: String,
    pub share: String,
    pub territories: String,
    pub status: String,
    pub conflicted: bool,
}

#[derive(Template)]
#[template(path = "release.html")]
struct ReleasePage {
    layout: Layout,
    id: String,
    title: String,
    artist: String,
    label: String,
    status: String,
    upc: String,
    date: String,
    has_artwork: bool,
    tracks: Vec<TrackLine>,
    problems: Vec<ProblemLine>,
    warnings: Vec<ProblemLine>,
    notes: Vec<ProblemLine>,
    deliveries: Vec<DeliveryLine>,
    claims: Vec<ClaimLine>,
    conflicts: Vec<String>,
    can_submit: bool,
    can_review: bool,
    /// Stores the release may be scheduled to, as (id, name), when it may be.
    stores: Vec<(String, String)>,
    can_takedown: bool,
    /// The label's staff may change it now: the editor is offered.
    can_edit: bool,
    /// The label's staff: rights may be claimed and documented.
    manager: bool,
    /// Review staff: claims may be verified or rejected.
    staff: bool,
    /// The release's tracks, as (id, title), for a claim on one of them.
    track_choices: Vec<(String, String)>,
    claim: ClaimForm,
    claim_errors: super::FieldErrors,
    error: Option<String>,
}

async fn release_page(
    ctx: &AppContext,
    session: &Session,
    id: ReleaseId,
    error: Option<String>,
    claim: Option<(ClaimForm, super::FieldErrors)>,
) -> Result<ReleasePage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such release."))?;
    let r = catalog::releases::service::get(ctx, principal, id).await?;
    let report = catalog::releases::service::validate(ctx, principal, id).await?;
    let deliveries = catalog::distribution::service::list(ctx, principal, id).await?;
    let rights = catalog::rights::service::list(ctx, principal, id).await?;
    let staff = principal.has_role("admin") || principal.has_role("staff");
    let manager = catalog::labels::service::is_manager(ctx, principal, r.label_id).await?;
    let can_edit = catalog::releases::service::may_edit(ctx, principal, &r).await?;
    let titles: std::collections::HashMap<Uuid, String> =
        r.tracks.iter().map(|t| (t.track.id.0, t.track.title.clone())).collect();
    let track_choices = r.tracks.iter().map(|t| (t.track.id.0.to_string(), t.track.title.clone())).collect();
    let (claim, claim_errors) = claim.unwrap_or_else(|| {
        (ClaimForm { starts_on: ctx.clock.now().date_naive().to_string(), ..Default::default() }, Default::default())
    });
    let schedulable = matches!(r.status.as_str(), "approved" | "scheduled");
    let stores = if schedulable {
        catalog::stores::service::choices(ctx).await?.items.into_iter().map(|s| (s.id.0.to_string(), s.name)).collect()
    } else {
        Vec::new()
    };
    let line = |p: catalog::releases::validation::ReleaseProblem| ProblemLine { field: p.field, message: p.message };
    let notes: Vec<ProblemLine> =
        serde_json::from_value::<Vec<catalog::releases::dto::ReviewNote>>(r.review_notes.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|n| ProblemLine { field: n.field, message: n.message })
            .collect();
    Ok(ReleasePage {
        layout: Layout::new(r.title.clone(), session),
        id: r.id.0.to_string(),
        can_submit: matches!(r.status.as_str(), "draft" | "changes_requested"),
        can_review: staff && r.status == "submitted",
        can_takedown: matches!(r.status.as_str(), "scheduled" | "delivered" | "live"),
        stores,
        status: r.status.replace('_', " "),
        title: r.title,
        artist: r.display_artist,
        label: r.label_name,
        upc: r.upc.unwrap_or_default(),
        date: r.release_date.map(|d| d.to_string()).unwrap_or_default(),
        has_artwork: r.artwork.is_some(),
        tracks: r
            .tracks
            .into_iter()
            .map(|t| TrackLine {
                number: format!("{}.{}", t.disc, t.position),
                title: t.track.title,
                isrc: t.track.isrc_display.unwrap_or_default(),
                audio: t.track.audio.as_ref().map_or_else(String::new, |a| {
                    format!(
                        "{} · {} Hz · {} bit · {:.1} s",
                        a.format.to_uppercase(),
                        a.sample_rate,
                        a.bits_per_sample,
                        f64::from(a.duration_ms) / 1000.0
                    )
                }),
                loudness: t.track.audio.as_ref().map_or_else(String::new, |a| {
                    format!(
                        "{} LUFS, {} dBTP",
                        a.loudness_lufs.map_or("–".into(), |l| format!("{l:.1}")),
                        a.true_peak_dbtp.map_or("–".into(), |p| format!("{p:.1}"))
                    )
                }),
            })
            .collect(),
        problems: report.problems.into_iter().map(line).collect(),
        warnings: report.warnings.into_iter().map(line).collect(),
        notes,
        deliveries: deliveries
            .items
            .into_iter()
            .map(|d| DeliveryLine {
                store: d.store_name,
                state: d.state,
                action: d.action,
                when: format::when(d.acknowledged_at.or(d.delivered_at).unwrap_or(d.deliver_at)),
                error: d.last_error.unwrap_or_default(),
            })
            .collect(),
        claims: rights
            .claims
            .into_iter()
            .enumerate()
            .map(|(i, c)| ClaimLine {
                id: c.id.to_string(),
                upload: format!("/releases/{}/rights/{}/documents", r.id.0, c.id),
                upload_id: format!("document-{}", i + 1),
                track: c.track_id.and_then(|t| titles.get(&t.0).cloned()).unwrap_or_else(|| "the release".into()),
                period: match c.ends_on {
                    Some(end) => format!("{} to {end}", c.starts_on),
                    None => format!("from {}", c.starts_on),
                },
                documents: c
                    .documents
                    .iter()
                    .map(|d| {
                        (
                            format!("/releases/{}/rights/{}/documents/{}", r.id.0, c.id, d.sha256),
                            d.file_name.clone().unwrap_or_else(|| d.media_type.clone()),
                        )
                    })
                    .collect(),
                pending: c.status == "pending",
                right: c.right_type,
                holder: c.holder,
                share: format!("{:.2}%", f64::from(c.share_bp) / 100.0),
                territories: if c.territories.is_empty() { "worldwide".into() } else { c.territories.join(", ") },
                status: c.status,
                conflicted: c.conflicted,
            })
            .collect(),
        conflicts: rights
            .conflicts
            .into_iter()
            .map(|c| {
                format!(
                    "{} rights at {:.2}% in {} from {}",
                    c.right_type,
                    f64::from(c.total_bp) / 100.0,
                    c.territory.unwrap_or_else(|| "every other territory".into()),
                    c.from
                )
            })
            .collect(),
        can_edit,
        manager,
        staff,
        track_choices,
        claim,
        claim_errors,
        error,
    })
}

pub async fn release(State(ctx): State<AppContext>, session: Session, Path(id): Path<ReleaseId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/releases/{}", id.0));
    }
    match release_page(&ctx, &session, id, None, None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// An action's outcome: back to the release with a toast, or the release again with what went wrong.
async fn answer<T>(
    ctx: &AppContext,
    session: &Session,
    id: ReleaseId,
    result: Result<T, ApiError>,
    message: &str,
) -> Response {
    match result {
        Ok(_) => super::done(&format!("/releases/{}", id.0), message),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            let mut text = err.detail().to_owned();
            for e in err.field_errors() {
                text.push_str(&format!(" {}: {}.", e.field, e.message));
            }
            match release_page(ctx, session, id, Some(text), None).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(session, &other),
            }
        }
        Err(err) => super::error(session, &err),
    }
}

pub async fn submit(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(_): Form<Empty>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let result = catalog::releases::service::submit(&ctx, principal, id).await;
    answer(&ctx, &session, id, result, "The release is submitted for review.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Empty {}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    decision: String,
    field: String,
    note: String,
}

pub async fn review(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(form): Form<ReviewForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let notes = if form.note.trim().is_empty() {
        vec![]
    } else {
        let field = if form.field.trim().is_empty() { "release".to_owned() } else { form.field.trim().to_owned() };
        vec![catalog::releases::dto::ReviewNote { field, message: form.note.trim().to_owned() }]
    };
    let request = ReleaseReviewRequest { decision: form.decision, notes };
    let result = catalog::releases::service::review(&ctx, principal, id, request).await;
    answer(&ctx, &session, id, result, "Your decision is recorded.").await
}

#[derive(Template)]
#[template(path = "admin_releases.html")]
struct Queue {
    layout: Layout,
    releases: Vec<ReleaseLine>,
}

pub async fn queue(State(ctx): State<AppContext>, session: Session) -> Response {
    let Some(principal) = &session.principal else { return to_signin("/admin/releases") };
    let page_params = PageParams { limit: Some(200), cursor: None };
    match catalog::releases::service::queue(&ctx, principal, page_params).await {
        Ok(list) => page(
            StatusCode::OK,
            &Queue {
                layout: Layout::new("Releases to review", &session),
                releases: list.items.into_iter().map(ReleaseLine::from).collect(),
            },
        ),
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScheduleForm {
    store: String,
}

/// The label (or staff) schedules delivery to a store, at its lead time before the release date.
pub async fn schedule(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(form): Form<ScheduleForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let result = match form.store.parse::<Uuid>() {
        Ok(store) => {
            let request = catalog::distribution::dto::ScheduleRequest {
                store_ids: vec![catalog::model::StoreId(store)],
                deliver_at: None,
            };
            catalog::distribution::service::schedule(&ctx, principal, id, request).await
        }
        Err(_) => Err(ApiError::invalid_field("store", "not_found", "choose a store")),
    };
    answer(&ctx, &session, id, result, "The delivery is scheduled.").await
}

/// The label (or staff) takes the release down from every store.
pub async fn takedown(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(_): Form<Empty>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let result = catalog::distribution::service::takedown(&ctx, principal, id).await;
    answer(&ctx, &session, id, result, "Every store will be told to take the release down.").await
}

/// A rights claim as its form sends it: the share in percent (up to two decimals).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ClaimForm {
    pub track: String,
    pub right_type: String,
    pub holder: String,
    pub share: String,
    pub territories: String,
    pub starts_on: String,
    pub ends_on: String,
}

/// A percentage with at most two decimals, in basis points: "33.33" is 3,333.
pub fn basis_points(text: &str) -> Option<i32> {
    let text = text.trim().trim_end_matches('%').trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 2
        || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i32 = whole.parse().ok()?;
    let fraction: i32 = format!("{fraction:0<2}").parse().ok()?;
    Some(whole * 100 + fraction)
}

impl ClaimForm {
    fn request(&self) -> Result<catalog::rights::dto::ClaimRequest, Vec<platform::error::FieldError>> {
        use platform::error::FieldError;
        let mut errors = Vec::new();
        let share_bp = basis_points(&self.share);
        if share_bp.is_none() {
            errors.push(FieldError::new("share", "invalid_format", "must be a percentage such as 50 or 33.33"));
        }
        let starts_on = self.starts_on.trim().parse().ok();
        if starts_on.is_none() {
            errors.push(FieldError::new("starts_on", "invalid_format", "must be a date"));
        }
        let ends_on = match self.ends_on.trim() {
            "" => None,
            day => match day.parse() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new("ends_on", "invalid_format", "must be a date"));
                    None
                }
            },
        };
        let track_id = match self.track.trim() {
            "" => None,
            t => match t.parse::<Uuid>() {
                Ok(t) => Some(catalog::model::TrackId(t)),
                Err(_) => {
                    errors.push(FieldError::new("track", "not_found", "choose a track of the release"));
                    None
                }
            },
        };
        match (share_bp, starts_on, errors.is_empty()) {
            (Some(share_bp), Some(starts_on), true) => Ok(catalog::rights::dto::ClaimRequest {
                track_id,
                right_type: self.right_type.clone(),
                holder: self.holder.clone(),
                holder_party_id: None,
                share_bp,
                territories: self
                    .territories
                    .split([',', ' ', ';'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                starts_on,
                ends_on,
            }),
            _ => Err(errors),
        }
    }
}

/// The label claims a share of a right on the release or one of its tracks.
pub async fn claim(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    Form(form): Form<ClaimForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let result = match form.request() {
        Ok(req) => catalog::rights::service::create(&ctx, principal, id, req).await,
        Err(errors) => Err(ApiError::validation(errors)),
    };
    match result {
        Ok(c) if c.conflicted => super::done(
            &format!("/releases/{}#rights", id.0),
            "The claim is recorded, and it conflicts: together the claims exceed 100%.",
        ),
        Ok(_) => super::done(&format!("/releases/{}#rights", id.0), "The claim is recorded."),
        Err(err) if err.status().is_client_error() && err.status() != StatusCode::NOT_FOUND => {
            let errors = super::FieldErrors::from_pairs(err.field_errors().iter().map(|e| {
                let field = match e.field.as_str() {
                    "share_bp" => "share".to_owned(),
                    "track_id" => "track".to_owned(),
                    f if f.starts_with("territories") => "territories".to_owned(),
                    f => f.to_owned(),
                };
                (field, e.message.clone())
            }));
            let text = if err.field_errors().is_empty() {
                err.detail().to_owned()
            } else {
                "The claim needs attention.".into()
            };
            match release_page(&ctx, &session, id, Some(text), Some((form, errors))).await {
                Ok(view) => page(err.status(), &view),
                Err(other) => super::error(&session, &other),
            }
        }
        Err(err) => super::error(&session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClaimReviewForm {
    decision: String,
    note: String,
}

/// Staff verify or reject a claim.
pub async fn review_claim(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, claim)): Path<(ReleaseId, Uuid)>,
    Form(form): Form<ClaimReviewForm>,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let req = catalog::rights::dto::ClaimReview {
        decision: form.decision,
        note: Some(form.note).filter(|n| !n.trim().is_empty()),
    };
    let result = catalog::rights::service::review(&ctx, principal, claim, req).await;
    answer(&ctx, &session, id, result, "The claim is reviewed.").await
}

/// The label attaches a document to its claim (a PDF, JPEG or PNG).
pub async fn claim_document(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, claim)): Path<(ReleaseId, Uuid)>,
    request: axum::extract::Request,
) -> Response {
    let Some(principal) = session.principal.clone() else { return to_signin(&format!("/releases/{}", id.0)) };
    let next = format!("/releases/{}#rights", id.0);
    let keep = async |form: crate::upload::FileForm| {
        catalog::rights::service::upload_document(&ctx, &principal, claim, form.body, form.file_name).await.map(|_| ())
    };
    let refused = async |err| answer(&ctx, &session, id, Err::<(), _>(err), "").await;
    crate::upload::keep_file(&session, request, (&next, "The document is attached."), keep, refused).await
}

/// A claim's document, for its label's staff and review staff.
pub async fn document(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, claim, sha256)): Path<(ReleaseId, Uuid, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let range = headers.get(axum::http::header::RANGE);
    match catalog::rights::service::download_document(&ctx, principal, claim, &sha256, range).await {
        Ok(response) => response,
        Err(err) => super::error(&session, &err),
    }
}

/// The release's cover art, for its label's staff and review staff.
pub async fn artwork(
    State(ctx): State<AppContext>,
    session: Session,
    Path(id): Path<ReleaseId>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(principal) = &session.principal else { return to_signin(&format!("/releases/{}", id.0)) };
    let range = headers.get(axum::http::header::RANGE);
    match catalog::releases::service::download_artwork(&ctx, principal, id, range).await {
        Ok(response) => response,
        Err(err) => super::error(&session, &err),
    }
}

#[cfg(test)]
mod tests {
    use super::basis_points;

    #[test]
    fn shares_read_as_basis_points() {
        assert_eq!(basis_points("100"), Some(10_000));
        assert_eq!(basis_points("33.33"), Some(3_333));
        assert_eq!(basis_points("12.5%"), Some(1_250));
        assert_eq!(basis_points("0.01"), Some(1));
        assert_eq!(basis_points("100.01"), Some(10_001));
        assert_eq!(basis_points("33.333"), None);
        assert_eq!(basis_points("-5"), None);
        assert_eq!(basis_points(""), None);
        assert_eq!(basis_points("1000"), None);
    }
}
