//! Tracks on releases: adding, changing, ordering and removing them, their credits and ISRCs. A track
//! is changed only while every release it is on may be edited.

use std::collections::HashMap;

use identity::auth::Principal;
use platform::error::FieldError;
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{ReleaseTrack, Track, TrackOrder, TrackRequest, parse_isrc, parse_iswc};
use super::repo::{self, TrackRow};
use crate::error::{CatalogCode, CatalogError};
use crate::fields;
use crate::labels::service::{Lineage, assign_isrc, manages, require_manager};
use crate::model::{ReleaseId, TrackId};
use crate::releases::repo::{self as releases, ReleaseRow};

/// Loads the track's credits for the given tracks, by track.
pub(crate) async fn credits_by_track(
    conn: &mut PgConnection,
    tracks: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, Vec<repo::CreditRow>>> {
    let mut map: HashMap<Uuid, Vec<repo::CreditRow>> = HashMap::new();
    for (track, credit) in repo::track_credits(conn, tracks).await? {
        map.entry(track).or_default().push(credit);
    }
    Ok(map)
}

/// The audio of the given tracks, by track.
pub(crate) async fn audio_by_track(
    conn: &mut PgConnection,
    tracks: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, repo::AudioRow>> {
    Ok(repo::audio_of(conn, tracks).await?.into_iter().map(|a| (a.track_id.0, a)).collect())
}

/// The release's tracks as the API shows them: in order, with credits and audio.
pub(crate) async fn release_tracks(conn: &mut PgConnection, release: ReleaseId) -> sqlx::Result<Vec<ReleaseTrack>> {
    let list = listing(conn, release).await?;
    let ids: Vec<Uuid> = list.iter().map(|(l, _)| l.track.id.0).collect();
    let mut audio = audio_by_track(conn, &ids).await?;
    Ok(list
        .into_iter()
        .map(|(l, c)| {
            let a = audio.remove(&l.track.id.0);
            ReleaseTrack::new(l, c, a)
        })
        .collect())
}

/// The release's track list with credits.
pub(crate) async fn listing(
    conn: &mut PgConnection,
    release: ReleaseId,
) -> sqlx::Result<Vec<(repo::ListedTrack, Vec<repo::CreditRow>)>> {
    let list = repo::track_list(conn, release).await?;
    let ids: Vec<Uuid> = list.iter().map(|l| l.track.id.0).collect();
    let mut credits = credits_by_track(conn, &ids).await?;
    Ok(list
        .into_iter()
        .map(|l| {
            let c = credits.remove(&l.track.id.0).unwrap_or_default();
            (l, c)
        })
        .collect())
}

/// Locks the release for a change of its track list: the caller manages it and it is editable.
pub(crate) async fn lock_editable(
    conn: &mut PgConnection,
    principal: &Principal,
    id: ReleaseId,
) -> Result<(ReleaseRow, Lineage), ApiError> {
    let row = releases::lock(conn, id).await?.ok_or(CatalogError::NotFound("release"))?;
    if !manages(conn, principal, row.org_id).await? {
        return Err(CatalogError::NotFound("release").into());
    }
    let lineage = require_manager(conn, principal, row.org_id).await?;
    if !row.status.editable() {
        return Err(ApiError::new(
            CatalogCode::NotEditable,
            format!("The release is {}; only a draft or a release with changes requested is edited.", row.status),
        ));
    }
    Ok((row, lineage))
}

/// Applies the request's fields to a track; `errors` collects every invalid one.
fn apply(t: &mut TrackRow, req: &TrackRequest, errors: &mut Vec<FieldError>) {
    fields::required("title", req.title.as_deref(), &mut t.title, 300, errors);
    fields::optional("version", req.version.as_deref(), &mut t.version, 200, errors);
    fields::required("display_artist", req.display_artist.as_deref(), &mut t.display_artist, 300, errors);
    if let Some(isrc) = req.isrc.as_deref().map(str::trim) {
        t.isrc = if isrc.is_empty() {
            None
        } else {
            match parse_isrc(isrc) {
                Ok(code) => Some(code),
                Err(why) => {
                    errors.push(FieldError::new("isrc", "invalid_format", why));
                    None
                }
            }
        };
    }
    if let Some(iswc) = req.iswc.as_deref().map(str::trim) {
        t.iswc = if iswc.is_empty() {
            None
        } else {
            match parse_iswc(iswc) {
                Ok(code) => Some(code),
                Err(why) => {
                    errors.push(FieldError::new("iswc", "invalid_format", why));
                    None
                }
            }
        };
    }
    if let Some(explicit) = req.explicit {
        t.explicit = explicit;
    }
    fields::language("language", req.language.as_deref(), &mut t.language, errors);
    fields::optional("lyrics", req.lyrics.as_deref(), &mut t.lyrics, 20_000, errors);
    fields::optional("musical_key", req.musical_key.as_deref(), &mut t.musical_key, 20, errors);
    if let Some(bpm) = req.bpm {
        if !(bpm > 0.0 && bpm < 400.0) {
            errors.push(FieldError::new("bpm", "out_of_range", "must be above 0 and below 400"));
        }
        t.bpm = Some((bpm * 100.0).round() / 100.0);
    }
    if let Some(ms) = req.preview_start_ms {
        if ms < 0 {
            errors.push(FieldError::new("preview_start_ms", "out_of_range", "must be 0 or more"));
        }
        t.preview_start_ms = Some(ms);
    }
    if let (Some(start), Some(duration)) = (t.preview_start_ms, t.duration_ms)
        && start >= duration
    {
        errors.push(FieldError::new("preview_start_ms", "out_of_range", "must lie within the track"));
    }
}

/// Checks and replaces credits: every party must be the label's (or a label's above it).
pub(crate) async fn set_credits(
    conn: &mut PgConnection,
    lineage: &Lineage,
    release: Option<ReleaseId>,
    track: Option<TrackId>,
    list: &[fields::CreditInput],
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let (parties, roles) = fields::credits("credits", list, &mut errors);
    let known = repo::parties_of_labels(conn, &parties, &lineage.orgs).await?;
    for (i, p) in parties.iter().enumerate() {
        if !known.contains(p) {
            errors.push(FieldError::new(
                format!("credits[{i}].party_id"),
                "not_found",
                "is not an artist or contributor of the label",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    repo::replace_credits(conn, release, track, &parties, &roles).await?;
    Ok(())
}

async fn track_dto(conn: &mut PgConnection, row: TrackRow) -> Result<Track, ApiError> {
    let credits = credits_by_track(conn, &[row.id.0]).await?.remove(&row.id.0).unwrap_or_default();
    let audio = audio_by_track(conn, &[row.id.0]).await?.remove(&row.id.0);
    Ok(Track::new(row, credits, audio))
}

pub async fn add(
    ctx: &AppContext,
    principal: &Principal,
    release: ReleaseId,
    req: TrackRequest,
) -> Result<ReleaseTrack, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, lineage) = lock_editable(&mut tx, principal, release).await?;
    let disc = req.disc.unwrap_or(1);
    let mut errors = Vec::new();
    if !(1..=99).contains(&disc) {
        errors.push(FieldError::new("disc", "out_of_range", "must be 1 to 99"));
    }
    if req.position.is_some_and(|p| !(1..=999).contains(&p)) {
        errors.push(FieldError::new("position", "out_of_range", "must be 1 to 999"));
    }
    let track = match req.track_id {
        Some(id) => {
            let existing = repo::track(&mut tx, id).await?.filter(|t| t.org_id == row.org_id);
            let Some(existing) = existing else {
                return Err(ApiError::invalid_field("track_id", "not_found", "is not a track of the release's label"));
            };
            if req.title.is_some() || req.isrc.is_some() || req.credits.is_some() {
                errors.push(FieldError::new(
                    "track_id",
                    "not_applicable",
                    "an existing track is changed on its own (PATCH /v1/tracks/{id})",
                ));
            }
            existing
        }
        None => {
            let mut t = TrackRow {
                id: TrackId::new(),
                org_id: row.org_id,
                title: String::new(),
                version: None,
                display_artist: row.display_artist.clone(),
                isrc: None,
                iswc: None,
                explicit: false,
                language: None,
                lyrics: None,
                bpm: None,
                musical_key: None,
                preview_start_ms: None,
                duration_ms: None,
                created_at: now,
                updated_at: now,
            };
            if req.title.is_none() {
                errors.push(FieldError::new("title", "required", "is required"));
            }
            apply(&mut t, &req, &mut errors);
            if errors.is_empty() {
                repo::insert(&mut tx, &t).await.map_err(CatalogError::from)?;
            }
            t
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if let Some(list) = &req.credits {
        set_credits(&mut tx, &lineage, None, Some(track.id), list).await?;
    }
    repo::place(&mut tx, release, track.id, disc, req.position).await.map_err(|e| place_conflict(e, "position"))?;
    releases::touch(&mut tx, release, now).await?;
    platform::audit::Entry::new(principal.actor(), "release.track_add", "release", release.0)
        .organization(row.org_id)
        .after(json!({"track_id": track.id, "title": track.title, "isrc": track.isrc}))
        .record(&mut tx, now)
        .await?;
    let placed = release_tracks(&mut tx, release).await?.into_iter().find(|l| l.track.id == track.id);
    let placed = placed.ok_or(CatalogError::NotFound("track"))?;
    tx.commit().await?;
    Ok(placed)
}

fn place_conflict(err: sqlx::Error, field: &'static str) -> ApiError {
    match err.as_database_error().and_then(|d| d.constraint()) {
        Some("release_tracks_pkey") => {
            ApiError::invalid_field(field, "taken", "another track has that disc and position")
        }
        Some("release_tracks_release_id_track_id_key") => {
            ApiError::invalid_field("track_id", "taken", "the track is on the release already")
        }
        _ => CatalogError::from(err).into(),
    }
}

/// Locks a track for a change: the caller manages its label, and every release it is on is editable.
async fn lock_track(
    conn: &mut PgConnection,
    principal: &Principal,
    id: TrackId,
) -> Result<(TrackRow, Lineage), ApiError> {
    let track = repo::track(conn, id).await?.ok_or(CatalogError::NotFound("track"))?;
    if !manages(conn, principal, track.org_id).await? {
        return Err(CatalogError::NotFound("track").into());
    }
    let lineage = require_manager(conn, principal, track.org_id).await?;
    let statuses = repo::lock_releases_of(conn, id).await?;
    repo::lock(conn, id).await?;
    // Read again under the lock: a concurrent change may have committed since the first read.
    let track = repo::track(conn, id).await?.ok_or(CatalogError::NotFound("track"))?;
    if statuses.iter().any(|s| !s.editable()) {
        return Err(ApiError::new(
            CatalogCode::TrackInUse,
            "The track is on a release under review or released; it can no longer change.",
        ));
    }
    Ok((track, lineage))
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: TrackId) -> Result<Track, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let track = repo::track(&mut conn, id).await?.ok_or(CatalogError::NotFound("track"))?;
    if !manages(&mut conn, principal, track.org_id).await? && !crate::labels::service::reviews(principal) {
        return Err(CatalogError::NotFound("track").into());
    }
    track_dto(&mut conn, track).await
}

pub async fn update(
    ctx: &AppContext,
    principal: &Principal,
    id: TrackId,
    req: TrackRequest,
) -> Result<Track, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut track, lineage) = lock_track(&mut tx, principal, id).await?;
    let mut errors = Vec::new();
    for (given, field) in
        [(req.track_id.is_some(), "track_id"), (req.disc.is_some(), "disc"), (req.position.is_some(), "position")]
    {
        if given {
            errors.push(FieldError::new(field, "not_applicable", "only when adding a track to a release"));
        }
    }
    apply(&mut track, &req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    track.updated_at = now;
    repo::update(&mut tx, &track).await.map_err(CatalogError::from)?;
    if let Some(list) = &req.credits {
        set_credits(&mut tx, &lineage, None, Some(id), list).await?;
    }
    platform::audit::Entry::new(principal.actor(), "track.update", "track", id.0)
        .organization(track.org_id)
        .after(json!({"title": track.title, "isrc": track.isrc, "iswc": track.iswc}))
        .record(&mut tx, now)
        .await?;
    let answer = track_dto(&mut tx, track).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Assigns the track an ISRC from its label's registrant code now (a track with one keeps it).
pub async fn assign(ctx: &AppContext, principal: &Principal, id: TrackId) -> Result<Track, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut track, lineage) = lock_track(&mut tx, principal, id).await?;
    if track.isrc.is_none() {
        let isrc = assign_isrc(&mut tx, &lineage, now).await?;
        track.isrc = Some(isrc.as_str().to_owned());
        track.updated_at = now;
        repo::update(&mut tx, &track).await.map_err(CatalogError::from)?;
        platform::audit::Entry::new(principal.actor(), "track.isrc_assign", "track", id.0)
            .organization(track.org_id)
            .after(json!({"isrc": isrc.as_str()}))
            .record(&mut tx, now)
            .await?;
    }
    let answer = track_dto(&mut tx, track).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Assigns ISRCs to every track of the list that has none (at submission).
pub(crate) async fn assign_missing(
    conn: &mut PgConnection,
    lineage: &Lineage,
    list: &mut [(repo::ListedTrack, Vec<repo::CreditRow>)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    for (listed, _) in list.iter_mut().filter(|(l, _)| l.track.isrc.is_none()) {
        let isrc = assign_isrc(conn, lineage, now).await?;
        listed.track.isrc = Some(isrc.as_str().to_owned());
        listed.track.updated_at = now;
        repo::update(conn, &listed.track).await.map_err(CatalogError::from)?;
    }
    Ok(())
}

/// Adds (or, when `add` is false, removes) one credit on the release or on one of its tracks, under the
/// release's lock: two people crediting at once both keep their credit (the whole list is read and
/// written inside the lock, never from a page's stale copy).
pub async fn change_credit(
    ctx: &AppContext,
    principal: &Principal,
    release: ReleaseId,
    track: Option<TrackId>,
    credit: fields::CreditInput,
    add: bool,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, lineage) = lock_editable(&mut tx, principal, release).await?;
    let current = match track {
        Some(t) => {
            if !repo::track_list(&mut tx, release).await?.iter().any(|l| l.track.id == t) {
                return Err(CatalogError::NotFound("track on the release").into());
            }
            credits_by_track(&mut tx, &[t.0]).await?.remove(&t.0).unwrap_or_default()
        }
        None => repo::release_credits(&mut tx, release).await?,
    };
    let mut list: Vec<fields::CreditInput> = current
        .into_iter()
        .map(|c| fields::CreditInput { party_id: c.party_id.0, role: c.role.as_str().to_owned() })
        .collect();
    let same = |c: &fields::CreditInput| c.party_id == credit.party_id && c.role == credit.role;
    if add {
        if !list.iter().any(same) {
            list.push(credit.clone());
        }
    } else {
        list.retain(|c| !same(c));
    }
    set_credits(&mut tx, &lineage, track.is_none().then_some(release), track, &list).await?;
    releases::touch(&mut tx, release, now).await?;
    platform::audit::Entry::new(
        principal.actor(),
        if add { "release.credit_add" } else { "release.credit_remove" },
        "release",
        release.0,
    )
    .organization(row.org_id)
    .after(json!({"track_id": track, "party_id": credit.party_id, "role": credit.role}))
    .record(&mut tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove(
    ctx: &AppContext,
    principal: &Principal,
    release: ReleaseId,
    track: TrackId,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, _) = lock_editable(&mut tx, principal, release).await?;
    if !repo::unplace(&mut tx, release, track).await? {
        return Err(CatalogError::NotFound("track on the release").into());
    }
    releases::touch(&mut tx, release, now).await?;
    platform::audit::Entry::new(principal.actor(), "release.track_remove", "release", release.0)
        .organization(row.org_id)
        .after(json!({"track_id": track}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reorder(
    ctx: &AppContext,
    principal: &Principal,
    release: ReleaseId,
    req: TrackOrder,
) -> Result<Vec<ReleaseTrack>, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, _) = lock_editable(&mut tx, principal, release).await?;
    let current: Vec<TrackId> = repo::track_list(&mut tx, release).await?.into_iter().map(|l| l.track.id).collect();
    let mut errors = Vec::new();
    let mut seen_tracks = std::collections::HashSet::new();
    let mut seen_places = std::collections::HashSet::new();
    for (i, p) in req.tracks.iter().enumerate() {
        if !current.contains(&p.track_id) {
            errors.push(FieldError::new(format!("tracks[{i}].track_id"), "not_found", "is not on the release"));
        } else if !seen_tracks.insert(p.track_id) {
            errors.push(FieldError::new(format!("tracks[{i}].track_id"), "taken", "appears twice"));
        }
        if !(1..=99).contains(&p.disc) || !(1..=999).contains(&p.position) {
            errors.push(FieldError::new(
                format!("tracks[{i}].position"),
                "out_of_range",
                "disc 1 to 99, position 1 to 999",
            ));
        } else if !seen_places.insert((p.disc, p.position)) {
            errors.push(FieldError::new(
                format!("tracks[{i}].position"),
                "taken",
                "another track has that disc and position",
            ));
        }
    }
    if errors.is_empty() && seen_tracks.len() != current.len() {
        errors.push(FieldError::new("tracks", "too_few", "list every track of the release once"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let ids: Vec<Uuid> = req.tracks.iter().map(|p| p.track_id.0).collect();
    let discs: Vec<i16> = req.tracks.iter().map(|p| p.disc).collect();
    let positions: Vec<i16> = req.tracks.iter().map(|p| p.position).collect();
    repo::reorder(&mut tx, release, &ids, &discs, &positions).await?;
    releases::touch(&mut tx, release, now).await?;
    platform::audit::Entry::new(principal.actor(), "release.track_order", "release", release.0)
        .organization(row.org_id)
        .after(json!({"tracks": req.tracks}))
        .record(&mut tx, now)
        .await?;
    let answer = release_tracks(&mut tx, release).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Uploads the track's audio: streamed into staging, decoded and measured there (no database connection
/// held meanwhile), kept in object storage by content, then recorded with the track's new duration. A
/// refused file leaves nothing behind.
pub async fn upload_audio(
    ctx: &AppContext,
    principal: &Principal,
    id: TrackId,
    body: axum::body::Body,
    file_name: Option<String>,
) -> Result<Track, ApiError> {
    {
        // Refuse early (before receiving gigabytes) what would be refused at the end.
        let mut tx = ctx.db.begin().await?;
        lock_track(&mut tx, principal, id).await?;
        tx.rollback().await?;
    }
    let file_name = file_name.map(|n| n.trim().chars().take(255).collect::<String>()).filter(|n| !n.is_empty());
    let (kept, info) =
        crate::files::receive_checked(ctx, principal, body, "audio", crate::files::MAX_FILE_BYTES, crate::audio::check)
            .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (track, _) = lock_track(&mut tx, principal, id).await?;
    let media_type = if info.format == "flac" { "audio/flac" } else { "audio/wav" };
    platform::storage::record(&mut tx, &kept, media_type, now).await?;
    let row = repo::AudioRow {
        track_id: id,
        sha256: kept.sha256.clone(),
        md5: kept.md5().map_err(ApiError::internal)?.to_owned(),
        size: kept.size as i64,
        format: info.format.to_owned(),
        sample_rate: info.sample_rate as i32,
        bits_per_sample: info.bits_per_sample as i16,
        channels: info.channels as i16,
        duration_ms: i32::try_from(info.duration_ms).unwrap_or(i32::MAX),
        loudness_lufs: info.loudness_lufs,
        true_peak_dbtp: info.true_peak_dbtp,
        clipped_samples: info.clipped_samples as i64,
        file_name,
        uploaded_by: principal.user_id.0,
        uploaded_at: now,
    };
    repo::put_audio(&mut tx, &row).await?;
    platform::audit::Entry::new(principal.actor(), "track.audio_upload", "track", id.0)
        .organization(track.org_id)
        .after(json!({"sha256": kept.sha256, "size": kept.size, "format": info.format, "duration_ms": info.duration_ms,
                      "loudness_lufs": info.loudness_lufs, "true_peak_dbtp": info.true_peak_dbtp}))
        .record(&mut tx, now)
        .await?;
    let track = repo::track(&mut tx, id).await?.ok_or(CatalogError::NotFound("track"))?;
    let answer = track_dto(&mut tx, track).await?;
    tx.commit().await?;
    Ok(answer)
}

/// The track's audio file, for its label's staff and review staff.
pub async fn download_audio(
    ctx: &AppContext,
    principal: &Principal,
    id: TrackId,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let track = repo::track(&mut conn, id).await?.ok_or(CatalogError::NotFound("track"))?;
    if !manages(&mut conn, principal, track.org_id).await? && !crate::labels::service::reviews(principal) {
        return Err(CatalogError::NotFound("track").into());
    }
    let audio = audio_by_track(&mut conn, &[id.0]).await?.remove(&id.0).ok_or(CatalogError::NotFound("audio file"))?;
    drop(conn);
    let media_type = if audio.format == "flac" { "audio/flac" } else { "audio/wav" };
    let name = format!("{}.{}", track.isrc.as_deref().unwrap_or(&track.title), audio.format);
    platform::storage::file_response(ctx, &audio.sha256, media_type, audio.size, &name, range).await
}
