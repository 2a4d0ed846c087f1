//! The review view of a project file's version: the picture with its comments pinned where they point
//! (or a PDF's pages, audio or video with its moments), the comments beside it to resolve or open
//! again, a form to comment (a click on the picture picks the point, where script runs), and the steps
//! of its review (in review, approved, changes requested) for those who may take them. Collaboration's
//! services decide who may see and do what.

use askama::Template;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use collab::files::dto::{CommentResolution, NewReviewComment, ReviewComment, VersionStatusChange};
use collab::files::review::Anchor;
use collab::model::FileId;
use platform::{ApiError, AppContext};
use serde::Deserialize;
use uuid::Uuid;

use super::{FieldErrors, Layout, beside_form, done, page, to_signin};
use crate::WebSettings;
use crate::format;
use crate::session::{Form, Session};

/// A comment on the page, numbered as its pin on the picture.
pub struct CommentLine {
    pub id: String,
    pub number: usize,
    pub author: String,
    pub at: String,
    pub body: String,
    /// Where it points, in words ("the whole version", "page 2", "at 1:05", "a point").
    pub place: String,
    /// Its pin on the picture, as CSS percentages (left, top), for a point or a region's corner.
    pub pin: Option<(String, String)>,
    /// A region's size, as CSS percentages (width, height).
    pub area: Option<(String, String)>,
    pub resolved: bool,
}

/// Where the version went, on the page.
pub struct HandoverLine {
    /// "the cover art of a release", ...
    pub what: &'static str,
    /// The object's page, when it has one.
    pub link: Option<String>,
    pub target: String,
    pub by: String,
    pub at: String,
}

/// The kinds a version is handed to, as the form offers them (value, words).
const TAKERS: [(&str, &str); 4] = [
    ("release_artwork", "a release, as its cover art"),
    ("track_audio", "a track, as its audio"),
    ("task_deliverable", "a task you work on, as a file you deliver"),
    ("contract_annex", "a booking's contract, as an annex"),
];

fn handover_line(h: collab::handovers::dto::Handover) -> HandoverLine {
    let (what, link) = match h.to.as_str() {
        "release_artwork" => ("the cover art of release", Some(format!("/releases/{}", h.target_id))),
        "track_audio" => ("the audio of track", None),
        "task_deliverable" => ("a deliverable of task", Some(format!("/tasks/{}", h.target_id))),
        "contract_annex" => ("an annex of the contract of booking", Some(format!("/bookings/{}", h.target_id))),
        _ => ("an object", None),
    };
    HandoverLine { what, link, target: h.target_id.to_string(), by: h.handed_by_name, at: format::when(h.created_at) }
}

/// The last id in what was typed: an id, or the address of the object's page.
fn id_in(text: &str) -> Option<Uuid> {
    let text = text.trim();
    (0..text.len().saturating_sub(35)).rev().filter_map(|i| text.get(i..i + 36)).find_map(|s| Uuid::parse_str(s).ok())
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Layout,
    base: String,
    /// `/project-files/{id}/versions`, for the other versions' pages.
    versions_base: String,
    project: String,
    name: String,
    version: i32,
    versions: Vec<i32>,
    status: String,
    details: String,
    media_type: String,
    /// `image`, `pdf`, `audio`, `video` or `other`: how the version is shown.
    shown_as: &'static str,
    clean: bool,
    comments: Vec<CommentLine>,
    open: usize,
    /// Whether the version is approved (and so may be handed over), where it went, and the kinds offered.
    approved: bool,
    handovers: Vec<HandoverLine>,
    takers: Vec<(&'static str, &'static str)>,
    body: String,
    errors: FieldErrors,
    error: Option<String>,
}

fn percent(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

fn comment_line(number: usize, c: ReviewComment) -> CommentLine {
    let (place, pin, area) = match c.anchor {
        Anchor::Version => ("the whole version".to_owned(), None, None),
        Anchor::Point { x, y } => (
            format!("a point ({:.0}% across, {:.0}% down)", x * 100.0, y * 100.0),
            Some((percent(x), percent(y))),
            None,
        ),
        Anchor::Region { x, y, w, h } => (
            format!("an area ({:.0}% × {:.0}%)", w * 100.0, h * 100.0),
            Some((percent(x), percent(y))),
            Some((percent(w), percent(h))),
        ),
        Anchor::Time { at_ms } => (format!("at {}:{:02}", at_ms / 60_000, at_ms / 1000 % 60), None, None),
        Anchor::Page { page } => (format!("page {page}"), None, None),
    };
    CommentLine {
        id: c.id.to_string(),
        number,
        author: c.author_name,
        at: format::when(c.created_at),
        body: c.body,
        place,
        pin,
        area,
        resolved: c.resolved,
    }
}

async fn review_page(
    ctx: &AppContext,
    session: &Session,
    (id, version): (FileId, i32),
    body: String,
    errors: FieldErrors,
    error: Option<String>,
) -> Result<ReviewPage, ApiError> {
    let Some(principal) = &session.principal else { return Err(ApiError::not_found("No such file.")) };
    let file = collab::files::service::get(ctx, principal, id).await?;
    let v =
        file.versions.iter().find(|v| v.version == version).ok_or_else(|| ApiError::not_found("No such version."))?;
    let comments = collab::files::service::comments(ctx, principal, id, version).await?;
    let media = v.media.as_ref();
    let format = media.and_then(|m| m.format.as_deref()).unwrap_or_default();
    let shown_as = match format {
        "png" | "jpeg" | "webp" | "gif" => "image",
        "pdf" => "pdf",
        "wav" | "flac" | "mp3" | "ogg" => "audio",
        "mp4" if media.is_some_and(|m| m.width.is_some()) => "video",
        "mp4" => "audio",
        _ if v.media_type.starts_with("image/") && v.media_type != "image/svg+xml" => "image",
        _ => "other",
    };
    let open = comments.iter().filter(|c| !c.resolved).count();
    let handovers = collab::handovers::service::list(ctx, principal, id, version).await?;
    Ok(ReviewPage {
        layout: Layout::new(format!("Review: {} v{version}", file.name), session),
        base: format!("/project-files/{id}/versions/{version}"),
        versions_base: format!("/project-files/{id}/versions"),
        project: file.project_id.to_string(),
        name: if file.folder.is_empty() { file.name.clone() } else { format!("{}/{}", file.folder, file.name) },
        version,
        versions: file.versions.iter().map(|v| v.version).collect(),
        status: v.status.replace('_', " "),
        details: media.map(super::projects::media_details).unwrap_or_default(),
        media_type: v.media_type.clone(),
        shown_as,
        clean: v.scan == "clean",
        comments: comments.into_iter().enumerate().map(|(i, c)| comment_line(i + 1, c)).collect(),
        open,
        approved: v.status == "approved" && v.scan == "clean",
        handovers: handovers.into_iter().map(handover_line).collect(),
        takers: TAKERS.to_vec(),
        body,
        errors,
        error,
    })
}

/// The review view of one version.
pub async fn show(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, version)): Path<(FileId, i32)>,
) -> Response {
    if session.principal.is_none() {
        return to_signin(&format!("/project-files/{id}/versions/{version}/review"));
    }
    match review_page(&ctx, &session, (id, version), String::new(), FieldErrors::default(), None).await {
        Ok(view) => page(StatusCode::OK, &view),
        Err(err) => super::error(&session, &err),
    }
}

/// Shows a refusal beside the page's forms, keeping what was typed.
async fn refused(ctx: &AppContext, session: &Session, at: (FileId, i32), body: String, err: ApiError) -> Response {
    if !beside_form(&err) {
        return super::error(session, &err);
    }
    beside(ctx, session, at, body, err).await
}

/// The page again with the refusal beside its forms.
async fn beside(ctx: &AppContext, session: &Session, at: (FileId, i32), body: String, err: ApiError) -> Response {
    let errors = FieldErrors::from_error(&err);
    let error = err.field_errors().is_empty().then(|| err.detail().to_owned());
    match review_page(ctx, session, at, body, errors, error).await {
        Ok(view) => page(err.status(), &view),
        Err(err) => super::error(session, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommentForm {
    body: String,
    /// `version`, `point`, `region`, `page` or `time`.
    anchor: String,
    /// A point, or an area's top left corner, in percent of the picture's width and height.
    x: String,
    y: String,
    /// An area's width and height, in percent of the picture's.
    w: String,
    h: String,
    page: String,
    /// `m:ss` or seconds.
    time: String,
}

fn anchor_of(form: &CommentForm) -> Result<Anchor, ApiError> {
    let number = |field: &'static str, v: &str| {
        v.trim().parse::<f64>().map_err(|_| ApiError::invalid_field(field, "invalid_value", "must be a number"))
    };
    match form.anchor.as_str() {
        "" | "version" => Ok(Anchor::Version),
        "point" => Ok(Anchor::Point { x: number("x", &form.x)? / 100.0, y: number("y", &form.y)? / 100.0 }),
        "region" => Ok(Anchor::Region {
            x: number("x", &form.x)? / 100.0,
            y: number("y", &form.y)? / 100.0,
            w: number("w", &form.w)? / 100.0,
            h: number("h", &form.h)? / 100.0,
        }),
        "page" => Ok(Anchor::Page {
            page: form
                .page
                .trim()
                .parse()
                .map_err(|_| ApiError::invalid_field("page", "invalid_value", "must be a page number"))?,
        }),
        "time" => {
            let t = form.time.trim();
            let seconds = match t.split_once(':') {
                Some((m, s)) => m.parse::<i64>().ok().zip(s.parse::<i64>().ok()).map(|(m, s)| m * 60 + s),
                None => t.parse::<i64>().ok(),
            };
            let seconds =
                seconds.ok_or_else(|| ApiError::invalid_field("time", "invalid_value", "must be m:ss or seconds"))?;
            Ok(Anchor::Time { at_ms: seconds * 1000 })
        }
        _ => Err(ApiError::invalid_field("anchor", "invalid_value", "must be version, point, region, page or time")),
    }
}

/// Adds a comment.
pub async fn comment(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, version)): Path<(FileId, i32)>,
    Form(form): Form<CommentForm>,
) -> Response {
    let Some(principal) = &session.principal else {
        return to_signin(&format!("/project-files/{id}/versions/{version}/review"));
    };
    let result = match anchor_of(&form) {
        Ok(anchor) => {
            let req = NewReviewComment { body: form.body.clone(), anchor: Some(anchor) };
            collab::files::service::comment(&ctx, principal, id, version, req).await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(_) => done(&format!("/project-files/{id}/versions/{version}/review#comments"), "Comment added."),
        Err(err) => refused(&ctx, &session, (id, version), form.body, err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResolutionForm {
    resolved: String,
}

/// Resolves a comment, or opens it again.
pub async fn resolution(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, version, comment)): Path<(FileId, i32, Uuid)>,
    Form(form): Form<ResolutionForm>,
) -> Response {
    let Some(principal) = &session.principal else {
        return to_signin(&format!("/project-files/{id}/versions/{version}/review"));
    };
    let resolved = form.resolved == "true";
    match collab::files::service::resolve(&ctx, principal, comment, CommentResolution { resolved }).await {
        Ok(c) if c.file_id == id && c.version == version => done(
            &format!("/project-files/{id}/versions/{version}/review#comments"),
            if resolved { "Resolved." } else { "Opened again." },
        ),
        Ok(_) => super::error(&session, &ApiError::not_found("No such comment.")),
        Err(err) => refused(&ctx, &session, (id, version), String::new(), err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    status: String,
    note: String,
}

/// Takes a step of the version's review.
pub async fn status(
    State(ctx): State<AppContext>,
    session: Session,
    Path((id, version)): Path<(FileId, i32)>,
    Form(form): Form<StatusForm>,
) -> Response {
    let Some(principal) = &session.principal else {
        return to_signin(&format!("/project-files/{id}/versions/{version}/review"));
    };
    let note = Some(form.note.trim().to_owned()).filter(|n| !n.is_empty());
    let req = VersionStatusChange { status: form.status.clone(), note };
    match collab::files::service::set_status(&ctx, principal, id, version, req).await {
        Ok(_) => done(
            &format!("/project-files/{id}/versions/{version}/review"),
            &format!("The version is {} now.", form.status.replace('_', " ")),
        ),
        Err(err) => refused(&ctx, &session, (id, version), String::new(), err).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HandoverForm {
    to: String,
    /// The object's id, or its page's address.
    id: String,
}

/// Hands the approved version to a release, a track, a task or a booking's contract. A refusal (the
/// object not found or not the caller's included) is shown beside the form: the caller typed it.
pub async fn hand_over(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<WebSettings>>,
    session: Session,
    Path((id, version)): Path<(FileId, i32)>,
    Form(form): Form<HandoverForm>,
) -> Response {
    let Some(principal) = &session.principal else {
        return to_signin(&format!("/project-files/{id}/versions/{version}/review"));
    };
    let result = match id_in(&form.id) {
        Some(target) => {
            let req = collab::handovers::dto::NewHandover { to: form.to.clone(), id: target };
            collab::handovers::service::hand_over(&ctx, &settings.takers, principal, id, version, req).await
        }
        None => Err(ApiError::invalid_field("id", "invalid_format", "must be the object's id or its page's address")),
    };
    match result {
        Ok(h) => done(
            &format!("/project-files/{id}/versions/{version}/review#handovers"),
            &format!("Handed over as {} {}.", handover_line(h).what, form.id.trim()),
        ),
        Err(err) if err.status().is_client_error() => beside(&ctx, &session, (id, version), String::new(), err).await,
        Err(err) => super::error(&session, &err),
    }
}

#[cfg(test)]
mod tests {
    use super::id_in;

    #[test]
    fn the_id_is_found_in_an_address_or_alone() {
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(id_in(id).unwrap().to_string(), id);
        assert_eq!(id_in(&format!("https://backline.example/releases/{id}/edit")).unwrap().to_string(), id);
        assert_eq!(id_in(&format!("  /bookings/{id}  ")).unwrap().to_string(), id);
        assert!(id_in("release 42").is_none());
        assert!(id_in("").is_none());
        assert!(id_in("/tasks/é-not-an-id-at-all-but-long-enough-to-scan").is_none());
    }
}
