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
        }
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct Catalog {
    layout: Layout,
    releases: Vec<ReleaseLine>,
}

pub async fn catalog(State(ctx): State<AppContext>, session: Session, Path(org): Path<Uuid>) -> Response {
    let here = format!("/labels/{org}/catalog");
    let Some(principal) = &session.principal else { return to_signin(&here) };
    let query = catalog::releases::dto::ReleaseQuery { limit: Some(200), ..Default::default() };
    match catalog::releases::service::list(&ctx, principal, org, query).await {
        Ok(list) => page(
            StatusCode::OK,
            &Catalog {
                layout: Layout::new("Catalog", &session),
                releases: list.items.into_iter().map(ReleaseLine::from).collect(),
            },
        ),
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
    error: Option<String>,
}

async fn release_page(
    ctx: &AppContext,
    session: &Session,
    id: ReleaseId,
    error: Option<String>,
) -> Result<ReleasePage, ApiError> {
    let principal = session.principal.as_ref().ok_or_else(|| ApiError::not_found("No such release."))?;
    let r = catalog::releases::service::get(ctx, principal, id).await?;
    let report = catalog::releases::service::validate(ctx, principal, id).await?;
    let deliveries = catalog::distribution::service::list(ctx, principal, id).await?;
    let rights = catalog::rights::service::list(ctx, principal, id).await?;
    let staff = principal.has_role("admin") || principal.has_role("staff");
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
            .map(|c| ClaimLine {
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
        error,
    })
}

pub async fn release(State(ctx): State<AppContext>, session: Session, Path(id): Path<ReleaseId>) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/releases/{}", id.0));
    }
    match release_page(&ctx, &session, id, None).await {
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
            match release_page(ctx, session, id, Some(text)).await {
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
