//! Handing over an approved version, and the handovers a version has had.

use identity::auth::Principal;
use platform::storage::Storage;
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Handover, NewHandover};
use super::repo::{self, HandoverRow};
use crate::error::{CollabCode, CollabError};
use crate::files::repo::VersionRow;
use crate::files::service::{usable, visible_file};
use crate::model::{FileId, ProjectRole, VersionStatus};
use crate::takers::{Offered, Takers};

/// Who hands a version over: the project's makers (managers, editors) and its client, the people who
/// take its work elsewhere. The object that takes it asks its own rule of the caller as well.
fn may_hand_over(role: ProjectRole) -> bool {
    matches!(role, ProjectRole::Manager | ProjectRole::Editor | ProjectRole::Client)
}

async fn version_of(conn: &mut PgConnection, file: FileId, version: i32) -> Result<VersionRow, ApiError> {
    let found = crate::files::repo::versions(conn, file).await?.into_iter().find(|v| v.version == version);
    Ok(found.ok_or(CollabError::NotFound("version"))?)
}

fn view(
    row: HandoverRow,
    names: &std::collections::HashMap<Uuid, String>,
    taken: Option<serde_json::Value>,
) -> Handover {
    Handover {
        handed_by_name: names.get(&row.handed_by).cloned().unwrap_or_default(),
        id: row.id,
        file_id: row.file_id,
        version: row.version,
        to: row.taker,
        target_id: row.target_id,
        handed_by: row.handed_by,
        created_at: row.created_at,
        taken,
    }
}

/// Hands version `version` of a file to the object `req.id` of kind `req.to`. Only an approved,
/// scanned version goes; the object's domain takes the bytes by its own rules (who may change the
/// object, in which state, which files it accepts) and a refusal there is answered as it is, with
/// nothing recorded here.
pub async fn hand_over(
    ctx: &AppContext,
    takers: &Takers,
    principal: &Principal,
    id: FileId,
    version: i32,
    req: NewHandover,
) -> Result<Handover, ApiError> {
    let Some((taker, take)) = takers.get(req.to.trim()) else {
        return Err(ApiError::invalid_field(
            "to",
            "invalid_value",
            format!("must be one of {}", takers.kinds().join(", ")),
        ));
    };
    let (file, v, org) = {
        let mut conn = ctx.db.acquire().await?;
        let (file, role, org) = visible_file(&mut conn, principal, id, false).await?;
        if !may_hand_over(role) {
            return Err(ApiError::new(
                platform::PlatformCode::Forbidden,
                "The project's managers, editors and client hand its approved files over.",
            ));
        }
        let v = version_of(&mut conn, id, version).await?;
        (file, v, org)
    };
    if v.status != VersionStatus::Approved {
        return Err(ApiError::new(
            CollabCode::NotApproved,
            format!("Version {} is {}; only an approved version is handed over.", v.version, v.status.as_str()),
        ));
    }
    usable(&v)?;
    let stream = ctx.storage.read(&Storage::key_of(&v.sha256)).await.map_err(platform::storage::unavailable)?;
    let offered = Offered {
        name: file.name.clone(),
        media_type: v.media_type.clone(),
        body: axum::body::Body::from_stream(stream),
    };
    let taken = take(ctx.clone(), principal.clone(), req.id, offered).await?;
    let now = ctx.clock.now();
    let row = HandoverRow {
        id: Uuid::now_v7(),
        file_id: id,
        version,
        taker: taker.to_owned(),
        target_id: req.id,
        handed_by: principal.user_id.0,
        created_at: now,
    };
    let mut tx = ctx.db.begin().await?;
    repo::insert(&mut tx, &row).await?;
    platform::audit::Entry::new(principal.actor(), "project.file_handover", "project_file", id)
        .organization(org)
        .after(json!({"version": version, "to": taker, "target_id": req.id, "sha256": v.sha256}))
        .record(&mut tx, now)
        .await?;
    let names = identity::service::display_names(&mut tx, &[row.handed_by]).await?;
    tx.commit().await?;
    Ok(view(row, &names, Some(taken)))
}

/// Where a version went, oldest first: for everyone who may see the file.
pub async fn list(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    version: i32,
) -> Result<Vec<Handover>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    visible_file(&mut conn, principal, id, false).await?;
    version_of(&mut conn, id, version).await?;
    let rows = repo::of_version(&mut conn, id, version).await?;
    let people: Vec<Uuid> = rows.iter().map(|r| r.handed_by).collect();
    let names = identity::service::display_names(&mut conn, &people).await?;
    Ok(rows.into_iter().map(|r| view(r, &names, None)).collect())
}
