//! Releases: creation and edits by the label, the validation report, submission (which assigns the
//! missing UPC and ISRCs), review by staff, and the lifecycle's audit trail and notices.

use chrono::{DateTime, NaiveDate, Utc};
use identity::auth::Principal;
use identity::party::Party;
use platform::error::FieldError;
use platform::pagination::{Page, PageParams};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{
    Artwork, Discography, PublicRelease, Release, ReleaseList, ReleaseQuery, ReleaseRequest, ReleaseReviewRequest,
    ReleaseSummary, TerritoryDate, ValidationReport,
};
use super::ern;
use super::repo::{self, ReleaseRow};
use super::validation::{self, ReleaseProblem, Snapshot};
use crate::error::{CatalogCode, CatalogError};
use crate::fields;
use crate::identifiers::Upc;
use crate::labels::service::{Lineage, assign_upc, manages, require_manager, reviews};
use crate::model::{PriceTier, ReleaseId, ReleaseType, StoreId, TerritoryMode, territory_code};
use crate::state::{self, Actor, ReleaseStatus};
use crate::tracks::dto::Credit;
use crate::tracks::repo as tracks;
use crate::tracks::service::{assign_missing, audio_by_track, listing, release_tracks, set_credits};

/// Tells the label's managers about a step of the release.
pub(crate) async fn notify(
    conn: &mut PgConnection,
    row: &ReleaseRow,
    kind: &'static str,
    mut data: serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let recipients = identity::party::people_to_notify(conn, Party::Organization(row.org_id)).await?;
    if let Some(map) = data.as_object_mut() {
        map.insert("release_id".into(), json!(row.id));
        map.insert("title".into(), json!(row.title));
        map.insert("artist".into(), json!(row.display_artist));
        map.insert("label".into(), json!(row.label_name));
    }
    if !recipients.is_empty() {
        platform::events::emit(
            conn,
            platform::events::Event { kind, recipients, organization: Some(row.org_id), data },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Who the caller is to this release: its label's staff, Backline's review staff, or nobody (404).
pub(crate) async fn actor_for(
    conn: &mut PgConnection,
    principal: &Principal,
    row: &ReleaseRow,
) -> Result<Actor, ApiError> {
    if reviews(principal) {
        Ok(Actor::Staff)
    } else if manages(conn, principal, row.org_id).await? {
        Ok(Actor::Label)
    } else {
        Err(CatalogError::NotFound("release").into())
    }
}

/// Moves the release to `to` for `actor`, checked against the lifecycle, with its audit row.
pub(crate) async fn transition(
    conn: &mut PgConnection,
    principal: Option<&Principal>,
    row: &mut ReleaseRow,
    to: ReleaseStatus,
    actor: Actor,
    notes: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    // Review notes stay until a review or a new submission replaces them.
    let notes = notes.unwrap_or_else(|| row.review_notes.clone());
    state::check(row.status, to, actor).map_err(CatalogError::from)?;
    let submitted = (to == ReleaseStatus::Submitted).then_some(now);
    let reviewed = match (to, principal) {
        (ReleaseStatus::Approved | ReleaseStatus::ChangesRequested, Some(p)) => Some((now, p.user_id.0)),
        _ => None,
    };
    repo::set_status(conn, row.id, to, submitted, reviewed, &notes, now).await?;
    let audit_actor = principal.map_or(platform::audit::Actor { user_id: None, api_key_id: None }, Principal::actor);
    platform::audit::Entry::new(audit_actor, "release.transition", "release", row.id.0)
        .organization(row.org_id)
        .before(json!({"status": row.status}))
        .after(json!({"status": to, "by": actor, "notes": notes}))
        .record(conn, now)
        .await?;
    platform::lifecycle::log_change("release", row.id.0, row.status, to);
    row.status = to;
    row.review_notes = notes;
    Ok(())
}

fn parse_enum<T: Copy>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
    current: &mut T,
    errors: &mut Vec<FieldError>,
) {
    if let Some(v) = value {
        match parse(v.trim()) {
            Some(t) => *current = t,
            None => errors.push(FieldError::new(field, "invalid_value", format!("must be one of {allowed}"))),
        }
    }
}

fn year(field: &str, value: Option<i32>, current: &mut Option<i32>, errors: &mut Vec<FieldError>) {
    if let Some(y) = value {
        if !(1900..=2200).contains(&y) {
            errors.push(FieldError::new(field, "out_of_range", "must be a year from 1900 to 2200"));
        }
        *current = Some(y);
    }
}

/// Applies the request's fields to the release; returns the new territory dates when given.
fn apply(r: &mut ReleaseRow, req: &ReleaseRequest, errors: &mut Vec<FieldError>) -> Option<Vec<(String, NaiveDate)>> {
    parse_enum(
        "release_type",
        req.release_type.as_deref(),
        ReleaseType::parse,
        "single, ep, album, compilation, remix, live",
        &mut r.release_type,
        errors,
    );
    fields::required("title", req.title.as_deref(), &mut r.title, 300, errors);
    fields::optional("version", req.version.as_deref(), &mut r.version, 200, errors);
    fields::required("display_artist", req.display_artist.as_deref(), &mut r.display_artist, 300, errors);
    fields::required("label_name", req.label_name.as_deref(), &mut r.label_name, 200, errors);
    fields::optional("genre", req.genre.as_deref(), &mut r.genre, 100, errors);
    fields::optional("subgenre", req.subgenre.as_deref(), &mut r.subgenre, 100, errors);
    fields::language("language", req.language.as_deref(), &mut r.language, errors);
    if let Some(explicit) = req.explicit {
        r.explicit = explicit;
    }
    year("p_line_year", req.p_line_year, &mut r.p_line_year, errors);
    fields::optional("p_line", req.p_line.as_deref(), &mut r.p_line, 300, errors);
    year("c_line_year", req.c_line_year, &mut r.c_line_year, errors);
    fields::optional("c_line", req.c_line.as_deref(), &mut r.c_line, 300, errors);
    if req.original_release_date.is_some() {
        r.original_release_date = req.original_release_date;
    }
    if req.release_date.is_some() {
        r.release_date = req.release_date;
    }
    parse_enum(
        "territory_mode",
        req.territory_mode.as_deref(),
        TerritoryMode::parse,
        "worldwide, only",
        &mut r.territory_mode,
        errors,
    );
    if let Some(list) = &req.territories {
        r.territories = fields::territories("territories", list, errors);
    }
    let dates = req.territory_dates.as_ref().map(|list| {
        let mut out: Vec<(String, NaiveDate)> = Vec::new();
        for (i, d) in list.iter().enumerate() {
            let t = d.territory.trim().to_ascii_uppercase();
            if !territory_code(&t) {
                errors.push(FieldError::new(
                    format!("territory_dates[{i}].territory"),
                    "invalid_format",
                    "must be an ISO 3166-1 alpha-2 code",
                ));
            } else if out.iter().any(|(o, _)| *o == t) {
                errors.push(FieldError::new(format!("territory_dates[{i}].territory"), "taken", "appears twice"));
            } else {
                out.push((t, d.release_date));
            }
        }
        out
    });
    if let Some(tier) = req.price_tier.as_deref() {
        if tier.trim().is_empty() {
            r.price_tier = None;
        } else {
            let mut current = r.price_tier.unwrap_or(PriceTier::Front);
            parse_enum("price_tier", Some(tier), PriceTier::parse, "budget, mid, front, premium", &mut current, errors);
            r.price_tier = Some(current);
        }
    }
    if let Some(upc) = req.upc.as_deref().map(str::trim) {
        r.upc = if upc.is_empty() {
            None
        } else {
            match Upc::parse(upc) {
                Ok(code) => Some(code.as_str().to_owned()),
                Err(why) => {
                    errors.push(FieldError::new("upc", "invalid_format", why));
                    None
                }
            }
        };
    }
    fields::optional("catalog_number", req.catalog_number.as_deref(), &mut r.catalog_number, 50, errors);
    dates
}

/// The whole release as the API shows it.
pub(crate) async fn release_dto(conn: &mut PgConnection, r: ReleaseRow) -> Result<Release, ApiError> {
    let credits = tracks::release_credits(conn, r.id).await?.into_iter().map(Credit::from).collect();
    let list = release_tracks(conn, r.id).await?;
    let artwork = repo::artwork(conn, r.id).await?.map(Artwork::from);
    let dates = repo::territory_dates(conn, r.id).await?;
    Ok(Release {
        id: r.id,
        label_id: r.org_id,
        status: r.status.as_str().into(),
        release_type: r.release_type.as_str().into(),
        title: r.title,
        version: r.version,
        display_artist: r.display_artist,
        label_name: r.label_name,
        genre: r.genre,
        subgenre: r.subgenre,
        language: r.language,
        explicit: r.explicit,
        p_line_year: r.p_line_year,
        p_line: r.p_line,
        c_line_year: r.c_line_year,
        c_line: r.c_line,
        original_release_date: r.original_release_date,
        release_date: r.release_date,
        territory_mode: r.territory_mode.as_str().into(),
        territories: r.territories,
        territory_dates: dates
            .into_iter()
            .map(|(territory, release_date)| TerritoryDate { territory, release_date })
            .collect(),
        price_tier: r.price_tier.map(|p| p.as_str().into()),
        upc: r.upc,
        catalog_number: r.catalog_number,
        credits,
        tracks: list,
        artwork,
        review_notes: r.review_notes,
        submitted_at: r.submitted_at,
        reviewed_at: r.reviewed_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn create(ctx: &AppContext, principal: &Principal, req: ReleaseRequest) -> Result<Release, ApiError> {
    let now = ctx.clock.now();
    let Some(org) = req.label_id else {
        return Err(ApiError::invalid_field("label_id", "required", "is required"));
    };
    let mut tx = ctx.db.begin().await?;
    let lineage = require_manager(&mut tx, principal, org).await?;
    let mut row = ReleaseRow {
        id: ReleaseId::new(),
        org_id: org,
        status: ReleaseStatus::Draft,
        release_type: ReleaseType::Single,
        title: String::new(),
        version: None,
        display_artist: String::new(),
        label_name: lineage.name.clone(),
        genre: None,
        subgenre: None,
        language: None,
        explicit: false,
        p_line_year: None,
        p_line: None,
        c_line_year: None,
        c_line: None,
        original_release_date: None,
        release_date: None,
        territory_mode: TerritoryMode::Worldwide,
        territories: Vec::new(),
        price_tier: None,
        upc: None,
        catalog_number: None,
        review_notes: json!([]),
        created_by: principal.user_id.0,
        submitted_at: None,
        reviewed_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut errors = Vec::new();
    for (given, field) in [
        (req.release_type.is_some(), "release_type"),
        (req.title.is_some(), "title"),
        (req.display_artist.is_some(), "display_artist"),
    ] {
        if !given {
            errors.push(FieldError::new(field, "required", "is required"));
        }
    }
    let dates = apply(&mut row, &req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    repo::insert(&mut tx, &row).await.map_err(CatalogError::from)?;
    save_parts(&mut tx, &lineage, &row, &req, dates).await?;
    platform::audit::Entry::new(principal.actor(), "release.create", "release", row.id.0)
        .organization(org)
        .after(json!({"title": row.title, "type": row.release_type, "upc": row.upc}))
        .record(&mut tx, now)
        .await?;
    let answer = release_dto(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

async fn save_parts(
    conn: &mut PgConnection,
    lineage: &Lineage,
    row: &ReleaseRow,
    req: &ReleaseRequest,
    dates: Option<Vec<(String, NaiveDate)>>,
) -> Result<(), ApiError> {
    if let Some(dates) = dates {
        let (territories, days): (Vec<String>, Vec<NaiveDate>) = dates.into_iter().unzip();
        repo::replace_territory_dates(conn, row.id, &territories, &days).await?;
    }
    if let Some(list) = &req.credits {
        set_credits(conn, lineage, Some(row.id), None, list).await?;
    }
    Ok(())
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: ReleaseId) -> Result<Release, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::release(&mut conn, id).await?.ok_or(CatalogError::NotFound("release"))?;
    actor_for(&mut conn, principal, &row).await?;
    release_dto(&mut conn, row).await
}

/// Whether `principal` may change the release now (its label's staff, while it is a draft or has
/// changes requested): what the pages offer. Every change checks again.
pub async fn may_edit(ctx: &AppContext, principal: &Principal, release: &Release) -> Result<bool, ApiError> {
    if !ReleaseStatus::parse(&release.status).is_some_and(ReleaseStatus::editable) {
        return Ok(false);
    }
    manages(&mut *ctx.db.acquire().await?, principal, release.label_id).await
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: ReleaseId,
    req: ReleaseRequest,
) -> Result<Release, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut row, lineage) = crate::tracks::service::lock_editable(&mut tx, principal, id).await?;
    let mut errors = Vec::new();
    if req.label_id.is_some_and(|l| l != row.org_id) {
        errors.push(FieldError::new("label_id", "immutable", "a release stays with its label"));
    }
    let before = json!({"title": row.title, "upc": row.upc, "release_date": row.release_date});
    let dates = apply(&mut row, &req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    row.updated_at = now;
    repo::update(&mut tx, &row).await.map_err(CatalogError::from)?;
    save_parts(&mut tx, &lineage, &row, &req, dates).await?;
    platform::audit::Entry::new(principal.actor(), "release.update", "release", id.0)
        .organization(row.org_id)
        .before(before)
        .after(json!({"title": row.title, "upc": row.upc, "release_date": row.release_date}))
        .record(&mut tx, now)
        .await?;
    let answer = release_dto(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

type Cursor = (DateTime<Utc>, Uuid);

pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    org: Uuid,
    query: ReleaseQuery,
) -> Result<ReleaseList, ApiError> {
    let page = PageParams { limit: query.limit, cursor: query.cursor };
    let limit = page.limit()?;
    let before: Option<Cursor> = page.cursor()?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            ReleaseStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_field("status", "invalid_value", "is not a release status"))?,
        ),
    };
    let mut conn = ctx.db.acquire().await?;
    if !reviews(principal) {
        require_manager(&mut conn, principal, org).await?;
    }
    let rows = repo::releases_of(&mut conn, org, status, before, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    Ok(ReleaseList { items: page.items.into_iter().map(ReleaseSummary::from).collect(), next_cursor: page.next_cursor })
}

/// The most releases a discography lists.
const DISCOGRAPHY_LIMIT: i64 = 200;

/// An artist's discography: the releases that credit the artist profile (through the label artist
/// linked to it) as a main or featured artist. Anyone may read those out in stores or scheduled for
/// them; `every` adds drafts and releases under review, for the artist's own view (the caller checks
/// that the viewer is the artist).
pub async fn discography(ctx: &AppContext, artist_profile: Uuid, every: bool) -> Result<Discography, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::by_artist(&mut conn, artist_profile, every, DISCOGRAPHY_LIMIT).await?;
    Ok(Discography { items: rows.into_iter().map(PublicRelease::from).collect() })
}

/// Staff's queue: submitted releases, the oldest submission first.
pub async fn queue(ctx: &AppContext, principal: &Principal, page: PageParams) -> Result<ReleaseList, ApiError> {
    identity::authz::authorize(principal, crate::labels::service::CATALOG_REVIEW, identity::authz::Target::Platform)?;
    let limit = page.limit()?;
    let after: Option<Cursor> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::review_queue(&mut conn, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.submitted_at.unwrap_or(r.created_at), r.id.0));
    Ok(ReleaseList { items: page.items.into_iter().map(ReleaseSummary::from).collect(), next_cursor: page.next_cursor })
}

/// The release's problems (which stop it) and warnings (which do not) as of `today`.
pub(crate) async fn report(
    conn: &mut PgConnection,
    row: &ReleaseRow,
    orgs: &[Uuid],
    today: NaiveDate,
) -> Result<(Vec<ReleaseProblem>, Vec<ReleaseProblem>), ApiError> {
    let credits = tracks::release_credits(conn, row.id).await?;
    let list = listing(conn, row.id).await?;
    let ids: Vec<Uuid> = list.iter().map(|(l, _)| l.track.id.0).collect();
    let audio = audio_by_track(conn, &ids).await?;
    let has_artwork = repo::artwork(conn, row.id).await?.is_some();
    let dates = repo::territory_dates(conn, row.id).await?;
    let (upc_source, isrc_source) = crate::labels::repo::code_sources(conn, orgs).await?;
    let first_release = !matches!(
        row.status,
        ReleaseStatus::Delivered | ReleaseStatus::Live | ReleaseStatus::TakedownRequested | ReleaseStatus::TakenDown
    );
    let snapshot = Snapshot {
        release: row,
        credits: &credits,
        tracks: &list,
        territory_dates: &dates,
        today,
        first_release,
        upc_source,
        isrc_source,
        audio: &audio,
        has_artwork,
    };
    Ok((validation::check(&snapshot), validation::warnings(&snapshot)))
}

pub async fn validate(ctx: &AppContext, principal: &Principal, id: ReleaseId) -> Result<ValidationReport, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::release(&mut conn, id).await?.ok_or(CatalogError::NotFound("release"))?;
    actor_for(&mut conn, principal, &row).await?;
    let lineage = identity::service::organizations::lineage(&mut conn, identity::model::OrgId(row.org_id)).await?;
    let orgs: Vec<Uuid> = lineage.iter().map(|o| o.id.0).collect();
    let (problems, warnings) = report(&mut conn, &row, &orgs, ctx.clock.now().date_naive()).await?;
    Ok(ValidationReport { ready: problems.is_empty(), problems, warnings })
}

/// The label submits the release for review: every problem is answered at once (422), else the
/// missing UPC and ISRCs are assigned and the release waits in staff's queue.
pub async fn submit(ctx: &AppContext, principal: &Principal, id: ReleaseId) -> Result<Release, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::lock(&mut tx, id).await?.ok_or(CatalogError::NotFound("release"))?;
    if !manages(&mut tx, principal, row.org_id).await? {
        return Err(CatalogError::NotFound("release").into());
    }
    let lineage = require_manager(&mut tx, principal, row.org_id).await?;
    state::check(row.status, ReleaseStatus::Submitted, Actor::Label).map_err(CatalogError::from)?;
    let (problems, _) = report(&mut tx, &row, &lineage.orgs, now.date_naive()).await?;
    if !problems.is_empty() {
        let detail = match problems.len() {
            1 => "The release has 1 problem to fix before it is submitted.".to_owned(),
            n => format!("The release has {n} problems to fix before it is submitted."),
        };
        let errors = problems.into_iter().map(|p| FieldError::new(p.field, p.rule, p.message)).collect();
        return Err(ApiError::new(CatalogCode::ReleaseNotReady, detail).with_errors(errors));
    }
    if row.upc.is_none() {
        let upc = assign_upc(&mut tx, &lineage, now).await?;
        row.upc = Some(upc.as_str().to_owned());
        row.updated_at = now;
        repo::update(&mut tx, &row).await.map_err(CatalogError::from)?;
    }
    let mut list = listing(&mut tx, id).await?;
    assign_missing(&mut tx, &lineage, &mut list, now).await?;
    transition(&mut tx, Some(principal), &mut row, ReleaseStatus::Submitted, Actor::Label, Some(json!([])), now)
        .await?;
    notify(&mut tx, &row, "catalog.release_submitted", json!({}), now).await?;
    let answer = release_dto(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The label takes back a submission that is not reviewed yet (→ draft).
pub async fn withdraw(ctx: &AppContext, principal: &Principal, id: ReleaseId) -> Result<Release, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::lock(&mut tx, id).await?.ok_or(CatalogError::NotFound("release"))?;
    let actor = if manages(&mut tx, principal, row.org_id).await? {
        Actor::Label
    } else {
        actor_for(&mut tx, principal, &row).await?
    };
    transition(&mut tx, Some(principal), &mut row, ReleaseStatus::Draft, actor, Some(json!([])), now).await?;
    let answer = release_dto(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Staff approve a submitted release or ask for changes with notes per field.
pub async fn review(
    ctx: &AppContext,
    principal: &Principal,
    id: ReleaseId,
    req: ReleaseReviewRequest,
) -> Result<Release, ApiError> {
    let now = ctx.clock.now();
    let (to, kind) = match req.decision.as_str() {
        "approve" => (ReleaseStatus::Approved, "catalog.release_approved"),
        "request_changes" => (ReleaseStatus::ChangesRequested, "catalog.release_changes_requested"),
        _ => return Err(ApiError::invalid_field("decision", "invalid_value", "must be approve or request_changes")),
    };
    let mut errors = Vec::new();
    if to == ReleaseStatus::ChangesRequested && req.notes.is_empty() {
        errors.push(FieldError::new("notes", "too_few", "say what to change, field by field"));
    }
    if req.notes.len() > 100 {
        errors.push(FieldError::new("notes", "too_many", "at most 100 notes"));
    }
    for (i, n) in req.notes.iter().enumerate() {
        if n.field.trim().is_empty() || n.field.len() > 100 {
            errors.push(FieldError::new(format!("notes[{i}].field"), "invalid_length", "must be 1 to 100 characters"));
        }
        if n.message.trim().is_empty() || n.message.chars().count() > 2000 {
            errors.push(FieldError::new(
                format!("notes[{i}].message"),
                "invalid_length",
                "must be 1 to 2000 characters",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = ctx.db.begin().await?;
    let mut row = repo::lock(&mut tx, id).await?.ok_or(CatalogError::NotFound("release"))?;
    let actor = actor_for(&mut tx, principal, &row).await?;
    let notes = json!(req.notes);
    transition(&mut tx, Some(principal), &mut row, to, actor, Some(notes), now).await?;
    let summary = req.notes.iter().map(|n| format!("{}: {}", n.field, n.message)).collect::<Vec<_>>().join("; ");
    notify(&mut tx, &row, kind, json!({"notes": summary}), now).await?;
    let answer = release_dto(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Assigns the release a UPC from the label's pool or prefix now (one it has stays).
pub async fn assign(ctx: &AppContext, principal: &Principal, id: ReleaseId) -> Result<Release, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut row, lineage) = crate::tracks::service::lock_editable(&mut tx, principal, id).await?;
    if row.upc.is_none() {
        let upc = assign_upc(&mut tx, &lineage, now).await?;
        row.upc = Some(upc.as_str().to_owned());
        row.updated_at = now;
        repo::update(&mut tx, &row).await.map_err(CatalogError::from)?;
        platform::audit::Entry::new(principal.actor(), "release.upc_assign", "release", id.0)
            .organization(row.org_id)
            .after(json!({"upc": row.upc}))
            .record(&mut tx, now)
            .await?;
    }
    let answer = release_dto(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

/// A store's message for a release, with the files the message names.
pub struct Built {
    pub xml: String,
    /// `(path in the batch, SHA-256 of the kept file)`.
    pub files: Vec<(String, String)>,
}

/// Builds the DDEX ERN 4.3 message of the release for `store` (a takedown when `action` says so): the
/// release must pass its validation report and hold its codes, and a label at or above it a DPID.
pub(crate) async fn build_message(
    conn: &mut PgConnection,
    row: &ReleaseRow,
    store: &crate::stores::repo::StoreRow,
    message_id: &str,
    action: ern::Action,
    now: DateTime<Utc>,
) -> Result<Built, ApiError> {
    let lineage = identity::service::organizations::lineage(conn, identity::model::OrgId(row.org_id)).await?;
    let orgs: Vec<Uuid> = lineage.iter().map(|o| o.id.0).collect();
    let mut errors: Vec<FieldError> = report(conn, row, &orgs, now.date_naive())
        .await?
        .0
        .into_iter()
        .filter(|p| row.status.editable() || p.rule != "in_the_past")
        .map(|p| FieldError::new(p.field, p.rule, p.message))
        .collect();
    let list = listing(conn, row.id).await?;
    if row.upc.is_none() {
        errors.push(FieldError::new("upc", "required", "is assigned at submission"));
    }
    for (i, (listed, _)) in list.iter().enumerate() {
        if listed.track.isrc.is_none() {
            errors.push(FieldError::new(format!("tracks[{i}].isrc"), "required", "is assigned at submission"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::new(CatalogCode::ReleaseNotReady, "The release is not ready for a store's message.")
            .with_errors(errors));
    }
    let mut sender = None;
    for org in &lineage {
        if let Some(dpid) = crate::labels::repo::settings(conn, org.id.0).await?.and_then(|s| s.dpid) {
            sender = Some(ern::Messenger { dpid, name: org.name.clone() });
            break;
        }
    }
    let sender = sender.ok_or_else(|| {
        ApiError::new(CatalogCode::NoDpid, "Set the label's DDEX party id (DPID) in its settings to send messages.")
    })?;
    let recipient = ern::Messenger { dpid: store.dpid.clone(), name: store.name.clone() };
    let (everywhere, blocked) = crate::rights::service::blocked(conn, row.id, now.date_naive()).await?;
    if everywhere && action == ern::Action::Release {
        return Err(ApiError::new(
            CatalogCode::RightsConflict,
            "Rights claims on the release exceed the whole in every territory; staff must resolve them first.",
        ));
    }
    let credits = tracks::release_credits(conn, row.id).await?;
    let dates = repo::territory_dates(conn, row.id).await?;
    let ids: Vec<Uuid> = list.iter().map(|(l, _)| l.track.id.0).collect();
    let mut audio = audio_by_track(conn, &ids).await?;
    let mut files = Vec::new();
    let tracks: Vec<_> = list
        .into_iter()
        .map(|(l, c)| {
            let file = audio.remove(&l.track.id.0).map(|a| {
                let uri = format!("resources/{}.{}", l.track.isrc.as_deref().unwrap_or_default(), a.format);
                files.push((uri.clone(), a.sha256));
                ern::AudioFile { uri, md5: a.md5 }
            });
            (l, c, file)
        })
        .collect();
    let artwork = repo::artwork(conn, row.id).await?.map(|a| {
        let (codec, extension) = if a.format == "png" { ("PNG", "png") } else { ("JPEG", "jpg") };
        let uri = format!("resources/{}_cover.{extension}", row.upc.as_deref().unwrap_or_default());
        files.push((uri.clone(), a.sha256));
        ern::ImageFile { uri, md5: a.md5, codec, width: a.width, height: a.height }
    });
    let thread_id = format!("{}{}", row.id.0.simple(), store.id.0.simple());
    let xml = ern::render(&ern::Message {
        message_id,
        thread_id: &thread_id,
        created: now,
        sender: &sender,
        recipient: &recipient,
        release: row,
        credits: &credits,
        tracks: &tracks,
        territory_dates: &dates,
        artwork: artwork.as_ref(),
        blocked: &blocked,
        action,
        test: false,
    });
    Ok(Built { xml, files })
}

/// The DDEX ERN 4.3 message that delivering the release to `store` would send now: a complete release
/// with its deals, or (for a release being taken down) the release without any deal.
pub async fn ern(ctx: &AppContext, principal: &Principal, id: ReleaseId, store: StoreId) -> Result<String, ApiError> {
    let now = ctx.clock.now();
    let mut conn = ctx.db.acquire().await?;
    let row = repo::release(&mut conn, id).await?.ok_or(CatalogError::NotFound("release"))?;
    actor_for(&mut conn, principal, &row).await?;
    let store = crate::stores::repo::store(&mut conn, store)
        .await?
        .ok_or_else(|| ApiError::invalid_field("store", "not_found", "is not a store"))?;
    let action = if matches!(row.status, ReleaseStatus::TakedownRequested | ReleaseStatus::TakenDown) {
        ern::Action::Takedown
    } else {
        ern::Action::Release
    };
    let message_id = platform::ids::new_id().simple().to_string();
    Ok(build_message(&mut conn, &row, &store, &message_id, action, now).await?.xml)
}

/// Uploads the release's cover art: streamed into staging, decoded and checked there (no database
/// connection held meanwhile), kept in object storage by content. A refused image leaves nothing behind.
pub async fn upload_artwork(
    ctx: &AppContext,
    principal: &Principal,
    id: ReleaseId,
    body: axum::body::Body,
) -> Result<Release, ApiError> {
    {
        let mut tx = ctx.db.begin().await?;
        crate::tracks::service::lock_editable(&mut tx, principal, id).await?;
        tx.rollback().await?;
    }
    let (kept, info) = crate::files::receive_checked(
        ctx,
        principal,
        body,
        "artwork",
        crate::files::MAX_FILE_BYTES,
        crate::artwork::check,
    )
    .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, _) = crate::tracks::service::lock_editable(&mut tx, principal, id).await?;
    let media_type = if info.format == "png" { "image/png" } else { "image/jpeg" };
    platform::storage::record(&mut tx, &kept, media_type, now).await?;
    repo::put_artwork(
        &mut tx,
        &repo::ArtworkRow {
            release_id: id,
            sha256: kept.sha256.clone(),
            md5: kept.md5().map_err(ApiError::internal)?.to_owned(),
            size: kept.size as i64,
            format: info.format.to_owned(),
            width: info.width as i32,
            height: info.height as i32,
            uploaded_by: principal.user_id.0,
            uploaded_at: now,
        },
    )
    .await?;
    repo::touch(&mut tx, id, now).await?;
    platform::audit::Entry::new(principal.actor(), "release.artwork_upload", "release", id.0)
        .organization(row.org_id)
        .after(json!({"sha256": kept.sha256, "size": kept.size, "format": info.format, "width": info.width}))
        .record(&mut tx, now)
        .await?;
    let row = repo::release(&mut tx, id).await?.ok_or(CatalogError::NotFound("release"))?;
    let answer = release_dto(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The release's cover art, for its label's staff and review staff.
pub async fn download_artwork(
    ctx: &AppContext,
    principal: &Principal,
    id: ReleaseId,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let row = repo::release(&mut conn, id).await?.ok_or(CatalogError::NotFound("release"))?;
    actor_for(&mut conn, principal, &row).await?;
    let art = repo::artwork(&mut conn, id).await?.ok_or(CatalogError::NotFound("artwork"))?;
    drop(conn);
    let media_type = if art.format == "png" { "image/png" } else { "image/jpeg" };
    let name = format!("{}.{}", row.upc.as_deref().unwrap_or("cover"), if art.format == "png" { "png" } else { "jpg" });
    platform::storage::file_response(ctx, &art.sha256, media_type, art.size, &name, range).await
}
