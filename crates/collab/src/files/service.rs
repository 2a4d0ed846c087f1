//! Uploading, listing, downloading and restoring a project's files, and the organizations' storage.

use axum::http::HeaderValue;
use chrono::{DateTime, Duration};
use identity::auth::Principal;
use platform::jobs::{Job, JobFailure, JobKind, NewJob, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{
    CommentResolution, DeletedFile, FileChange, FileLink, Folder, NewFileLink, NewFolder, NewReviewComment,
    ProjectFile, ReviewComment, StorageQuota, StorageUse, UploadTarget, VersionStatusChange,
};
use super::repo::{self, CommentRow, FileRow, VersionRow};
use super::review::{self, Anchor, StepRefused};
use crate::CollabSettings;
use crate::error::{CollabCode, CollabError};
use crate::model::{FileCategory, FileId, ProjectId, ProjectRole, ScanStatus, VersionStatus};
use crate::projects::service::visible_project;

/// The kind of object a file version's thread is attached to (`/v1/threads/file_version/{id}`).
pub const VERSION_SUBJECT: &str = "file_version";

/// The largest file a project takes.
pub const MAX_FILE: u64 = 2_000_000_000;

/// The virus scan of a content kept for a project's file (`BACKLINE_SCAN_COMMAND`); every version
/// waiting with that content gets the verdict.
pub const SCAN: JobKind = JobKind::new("collab.file.scan").max_attempts(8);

/// Reading what a content holds (dimensions, duration, pages, text) and making its thumbnail, once per
/// content, after it passed its scan.
pub const INSPECT: JobKind = JobKind::new("collab.file.inspect").max_attempts(5);

/// A download link works for an hour unless asked otherwise, for a minute at the least and seven days
/// at the most.
pub const LINK_DEFAULT: Duration = Duration::hours(1);
pub const LINK_LONGEST: Duration = Duration::days(7);

/// Refuses a version the scanner has not passed: waiting for its scan, or infected.
pub(crate) fn usable(v: &VersionRow) -> Result<(), ApiError> {
    match v.scan {
        ScanStatus::Clean => Ok(()),
        ScanStatus::Pending => Err(ApiError::new(
            CollabCode::FileQuarantined,
            format!("Version {} waits for its virus scan; try again in a moment.", v.version),
        )),
        ScanStatus::Infected => Err(ApiError::new(
            CollabCode::FileQuarantined,
            format!(
                "Version {} failed the virus scan ({}) and stays in quarantine.",
                v.version,
                v.scan_note.as_deref().unwrap_or("infected")
            ),
        )),
    }
}

fn may_upload(role: ProjectRole) -> bool {
    matches!(role, ProjectRole::Manager | ProjectRole::Editor)
}

/// A name and folder as given, checked: no `/` in a name, folders of plain segments.
/// A file's name: 1 to 255 characters, without a path.
pub(crate) fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 255
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name == "."
        || name == ".."
    {
        return Err(ApiError::invalid_field(
            "name",
            "invalid_format",
            "must be 1 to 255 characters without /, \\ or control characters",
        ));
    }
    Ok(name.to_owned())
}

/// A folder's path: names joined by `/` (leading and trailing ones dropped), never `.` or `..`; empty
/// for the project's top.
pub(crate) fn check_folder(field: &str, folder: &str) -> Result<String, ApiError> {
    let folder = folder.trim().trim_matches('/');
    let segments: Vec<&str> = if folder.is_empty() { Vec::new() } else { folder.split('/').collect() };
    if folder.chars().count() > 500
        || segments.iter().any(|s| s.trim().is_empty() || *s == "." || *s == ".." || s.contains(['\\', '\0']))
    {
        return Err(ApiError::invalid_field(field, "invalid_format", "must be names joined by /, without . or .."));
    }
    Ok(segments.join("/"))
}

fn check_category(category: &str) -> Result<FileCategory, ApiError> {
    FileCategory::parse(category).ok_or_else(|| {
        ApiError::invalid_field("category", "invalid_value", "must be design, reference, final, feedback or other")
    })
}

/// The file, locked, if the caller is one of its project's makers (managers, editors), who `what`:
/// 404 to those who cannot see it, 403 to its other members.
async fn made_file(
    conn: &mut PgConnection,
    principal: &Principal,
    id: FileId,
    what: &str,
) -> Result<(FileRow, Uuid), ApiError> {
    let (file, role, org) = visible_file(conn, principal, id, true).await?;
    if !may_upload(role) {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            format!("The project's managers and editors {what}."),
        ));
    }
    Ok((file, org))
}

fn place(target: &UploadTarget) -> Result<(String, String), ApiError> {
    Ok((check_folder("folder", &target.folder)?, check_name(&target.name)?))
}

/// Makes a folder in a project (managers and editors); one it has already is answered as it is.
/// Answers the folder and whether it is new.
pub async fn add_folder(
    ctx: &AppContext,
    principal: &Principal,
    project: ProjectId,
    req: NewFolder,
) -> Result<(Folder, bool), ApiError> {
    let path = check_folder("path", &req.path)?;
    if path.is_empty() {
        return Err(ApiError::invalid_field("path", "required", "names a folder: the project's top is always there"));
    }
    let mut conn = ctx.db.acquire().await?;
    let (_, role) = visible_project(&mut conn, principal, project, false).await?;
    if !may_upload(role) {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            "The project's managers and editors make folders.",
        ));
    }
    let created = repo::add_folder(&mut conn, project, &path, principal.user_id.0, ctx.clock.now()).await?;
    let files = repo::folders(&mut conn, project).await?.into_iter().find(|(p, _)| *p == path).map_or(0, |(_, n)| n);
    Ok((Folder { path, files }, created))
}

/// The project's folders: those made, and those its files are in, with how many files each holds.
pub async fn folders(ctx: &AppContext, principal: &Principal, project: ProjectId) -> Result<Vec<Folder>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    visible_project(&mut conn, principal, project, false).await?;
    Ok(repo::folders(&mut conn, project).await?.into_iter().map(|(path, files)| Folder { path, files }).collect())
}

/// The media type a file's name suggests (what it is shown and served as).
pub(crate) fn media_type(name: &str) -> &'static str {
    match name.rsplit('.').next().map(str::to_ascii_lowercase).as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("flac") => "audio/flac",
        Some("mp4") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// The file and the caller's role in its project; not found for anyone without one.
pub(crate) async fn visible_file(
    conn: &mut PgConnection,
    principal: &Principal,
    id: FileId,
    lock: bool,
) -> Result<(FileRow, ProjectRole, Uuid), ApiError> {
    let file = repo::file(conn, id, lock).await?.ok_or(CollabError::NotFound("file"))?;
    let (project, role) = visible_project(conn, principal, file.project_id, false).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::NOT_FOUND { CollabError::NotFound("file").into() } else { e }
    })?;
    Ok((file, role, project.organization_id))
}

/// Who takes part in a file version's thread: everyone who may see the file (the project's members, its
/// organization's project managers); its uploader and the project's managers are told of new messages.
pub async fn discussion(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<Option<platform::discussion::Discussion>, ApiError> {
    let Some((file, version)) = repo::version_by_id(conn, id).await? else { return Ok(None) };
    let row = match visible_file(conn, principal, file, false).await {
        Ok((row, _, _)) => row,
        Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(v) = repo::versions(conn, file).await?.into_iter().find(|v| v.version == version) else {
        return Ok(None);
    };
    let project =
        crate::projects::repo::project(conn, row.project_id, false).await?.map(|p| p.name).unwrap_or_default();
    let mut people = crate::projects::repo::managers(conn, row.project_id).await?;
    people.push(v.uploaded_by);
    people.sort();
    people.dedup();
    let path = if row.folder.is_empty() { row.name } else { format!("{}/{}", row.folder, row.name) };
    Ok(Some(platform::discussion::Discussion { title: format!("File: {path} v{version} · {project}"), people }))
}

/// Takes the bytes of a new version: charged to the organization's allowance when they are new to it
/// (the same content again takes no space), refused whole past the allowance.
async fn charge(
    conn: &mut PgConnection,
    settings: &CollabSettings,
    org: Uuid,
    sha256: &str,
    size: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let (used, quota) = repo::lock_storage(conn, org, settings.default_quota_bytes, now).await?;
    if repo::org_holds(conn, org, sha256).await? {
        return Ok(());
    }
    if used + size > quota {
        return Err(ApiError::new(
            CollabCode::QuotaExceeded,
            format!(
                "The organization uses {used} of its {quota} bytes; this file needs {size} more. Nothing was kept."
            ),
        ));
    }
    repo::charge(conn, org, size, now).await?;
    Ok(())
}

/// The scanner's verdict on content just kept: one already given for the same bytes, else it waits in
/// quarantine for the scan job (queued here). Bytes known to be infected are refused outright.
pub(crate) async fn verdict(
    ctx: &AppContext,
    conn: &mut PgConnection,
    sha256: &str,
    now: DateTime<chrono::Utc>,
) -> Result<(ScanStatus, Option<String>), ApiError> {
    if !ctx.storage.scans() {
        return Ok((ScanStatus::Clean, None));
    }
    match repo::known_verdict(&mut *conn, sha256).await? {
        Some((ScanStatus::Infected, note)) => Err(ApiError::new(
            CollabCode::FileInfected,
            format!("The file failed the virus scan ({}); nothing was kept.", note.unwrap_or_default()),
        )),
        Some(known) => Ok(known),
        None => {
            let job = NewJob::new(SCAN, json!({"sha256": sha256})).unique(format!("scan:{sha256}"));
            platform::jobs::enqueue(conn, job, now).await?;
            Ok((ScanStatus::Pending, None))
        }
    }
}

/// Uploads a file (streamed, up to 2 GB) into a project: a new file, or the next version of the file
/// of that name in that folder. Managers and editors upload.
pub async fn upload(
    ctx: &AppContext,
    settings: &CollabSettings,
    principal: &Principal,
    project: ProjectId,
    target: UploadTarget,
    body: axum::body::Body,
) -> Result<ProjectFile, ApiError> {
    let (folder, name) = place(&target)?;
    let category = target.category.as_deref().map(check_category).transpose()?.unwrap_or(FileCategory::Other);
    let label = target.label.as_deref().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned);
    if label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(ApiError::invalid_field("label", "too_long", "must be at most 100 characters"));
    }
    let org = {
        let mut conn = ctx.db.acquire().await?;
        let (row, role) = visible_project(&mut conn, principal, project, false).await?;
        if !may_upload(role) {
            return Err(ApiError::new(
                platform::PlatformCode::Forbidden,
                "The project's managers and editors upload files.",
            ));
        }
        // Refused before the bytes are kept when the allowance is already spent.
        if let Some((used, quota)) = repo::storage(&mut conn, row.organization_id).await?
            && used >= quota
        {
            return Err(ApiError::new(
                CollabCode::QuotaExceeded,
                format!("The organization uses all of its {quota} bytes."),
            ));
        }
        row.organization_id
    };
    let (kept, ()) = platform::storage::receive_checked(
        ctx,
        principal.user_id.0,
        principal.client_ip.as_deref(),
        body,
        MAX_FILE,
        platform::storage::Digests::Sha256,
        |_| Ok(()),
    )
    .await?;
    let now = ctx.clock.now();
    let size = i64::try_from(kept.size).unwrap_or(i64::MAX);
    let media = media_type(&name);
    let mut tx = ctx.db.begin().await?;
    let (_, role) = visible_project(&mut tx, principal, project, false).await?;
    if !may_upload(role) {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            "The project's managers and editors upload files.",
        ));
    }
    let (scan, scan_note) = verdict(ctx, &mut tx, &kept.sha256, now).await?;
    charge(&mut tx, settings, org, &kept.sha256, size, now).await?;
    platform::storage::record(&mut tx, &kept, media, now).await?;
    let me = principal.user_id.0;
    let file = match repo::file_named(&mut tx, project, &folder, &name).await? {
        Some(mut file) => {
            file.latest_version += 1;
            repo::set_latest(&mut tx, file.id, file.latest_version, now).await?;
            file
        }
        None => {
            let file = FileRow {
                id: FileId::new(),
                project_id: project,
                folder,
                name,
                category,
                latest_version: 1,
                created_by: me,
                created_at: now,
                updated_at: now,
            };
            repo::insert_file(&mut tx, &file).await.map_err(CollabError::from)?;
            file
        }
    };
    if scan == ScanStatus::Clean {
        queue_inspection(&mut tx, &kept.sha256, now).await?;
    }
    let version = VersionRow {
        id: Uuid::now_v7(),
        file_id: file.id,
        version: file.latest_version,
        sha256: kept.sha256.clone(),
        size,
        media_type: media.to_owned(),
        label,
        status: VersionStatus::Draft,
        restored_from: None,
        uploaded_by: me,
        created_at: now,
        scan,
        scan_note,
        media: None,
    };
    repo::insert_version(&mut tx, &version).await?;
    platform::audit::Entry::new(principal.actor(), "project.file", "project_file", file.id)
        .organization(org)
        .after(json!({"name": file.name, "version": version.version, "sha256": version.sha256, "size": size}))
        .record(&mut tx, now)
        .await?;
    let versions = repo::versions(&mut tx, file.id).await?;
    tx.commit().await?;
    Ok(ProjectFile::of(file, versions))
}

/// The project's files with their versions.
pub async fn list(ctx: &AppContext, principal: &Principal, project: ProjectId) -> Result<Vec<ProjectFile>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    visible_project(&mut conn, principal, project, false).await?;
    let files = repo::files(&mut conn, project).await?;
    let mut versions = versions_by_file(&mut conn, files.iter().map(|f| f.id)).await?;
    Ok(files
        .into_iter()
        .map(|f| {
            let v = versions.remove(&f.id).unwrap_or_default();
            ProjectFile::of(f, v)
        })
        .collect())
}

/// The versions of these files, each file's newest first, by file, in one read.
async fn versions_by_file(
    conn: &mut PgConnection,
    files: impl Iterator<Item = FileId>,
) -> sqlx::Result<std::collections::HashMap<FileId, Vec<VersionRow>>> {
    let ids: Vec<Uuid> = files.map(|f| f.0).collect();
    let mut by_file = std::collections::HashMap::<FileId, Vec<VersionRow>>::new();
    for v in repo::versions_of(conn, &ids).await? {
        by_file.entry(v.file_id).or_default().push(v);
    }
    Ok(by_file)
}

pub async fn get(ctx: &AppContext, principal: &Principal, id: FileId) -> Result<ProjectFile, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (file, _, _) = visible_file(&mut conn, principal, id, false).await?;
    let versions = repo::versions(&mut conn, id).await?;
    Ok(ProjectFile::of(file, versions))
}

/// A version's bytes (whole, or the byte range asked for).
pub async fn download(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    version: i32,
    range: Option<&HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let (file, v) = {
        let mut conn = ctx.db.acquire().await?;
        let (file, _, _) = visible_file(&mut conn, principal, id, false).await?;
        let v = repo::versions(&mut conn, id).await?.into_iter().find(|v| v.version == version);
        (file, v.ok_or(CollabError::NotFound("version"))?)
    };
    usable(&v)?;
    platform::storage::file_response(ctx, &v.sha256, &v.media_type, v.size, &file.name, range).await
}

/// Restores a version: its content becomes the next version (nothing is lost; no new space).
pub async fn restore(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    version: i32,
) -> Result<ProjectFile, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut file, org) = made_file(&mut tx, principal, id, "restore versions").await?;
    let old = repo::versions(&mut tx, id).await?.into_iter().find(|v| v.version == version);
    let old = old.ok_or(CollabError::NotFound("version"))?;
    if old.scan == ScanStatus::Infected {
        usable(&old)?;
    }
    file.latest_version += 1;
    repo::set_latest(&mut tx, id, file.latest_version, now).await?;
    let restored = VersionRow {
        id: Uuid::now_v7(),
        version: file.latest_version,
        label: None,
        status: VersionStatus::Draft,
        restored_from: Some(old.version),
        uploaded_by: principal.user_id.0,
        created_at: now,
        ..old
    };
    repo::insert_version(&mut tx, &restored).await?;
    platform::audit::Entry::new(principal.actor(), "project.file_restore", "project_file", id)
        .organization(org)
        .after(json!({"version": restored.version, "restored_from": version}))
        .record(&mut tx, now)
        .await?;
    let versions = repo::versions(&mut tx, id).await?;
    tx.commit().await?;
    Ok(ProjectFile::of(file, versions))
}

/// An organization's storage: for its members.
pub async fn storage(
    ctx: &AppContext,
    settings: &CollabSettings,
    principal: &Principal,
    org: Uuid,
) -> Result<StorageUse, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let member = identity::service::org_role_of(&mut conn, org, principal.user_id.0).await?.is_some();
    if !member && !crate::projects::service::is_admin(principal) {
        return Err(CollabError::NotFound("organization").into());
    }
    let (used, quota) = repo::storage(&mut conn, org).await?.unwrap_or((0, settings.default_quota_bytes));
    Ok(StorageUse { organization_id: org, used_bytes: used, quota_bytes: quota })
}

/// Sets an organization's allowance (platform admins; until its plan next changes).
pub async fn set_quota(
    ctx: &AppContext,
    settings: &CollabSettings,
    principal: &Principal,
    org: Uuid,
    req: StorageQuota,
) -> Result<StorageUse, ApiError> {
    if !crate::projects::service::is_admin(principal) {
        return Err(ApiError::new(platform::PlatformCode::Forbidden, "Platform admins set storage allowances."));
    }
    if req.quota_bytes < 0 {
        return Err(ApiError::invalid_field("quota_bytes", "out_of_range", "must not be negative"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if !identity::service::organizations::exists(&mut tx, identity::model::OrgId(org)).await? {
        return Err(CollabError::NotFound("organization").into());
    }
    let (used, before) = repo::lock_storage(&mut tx, org, settings.default_quota_bytes, now).await?;
    repo::set_quota(&mut tx, org, req.quota_bytes, now).await?;
    platform::audit::Entry::new(principal.actor(), "organization.storage_quota", "organization", org)
        .organization(org)
        .before(json!({"quota_bytes": before}))
        .after(json!({"quota_bytes": req.quota_bytes}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(StorageUse { organization_id: org, used_bytes: used, quota_bytes: req.quota_bytes })
}

/// A comment as the API shows it; a stored anchor that no longer reads is a logged 500, never shown as
/// another place.
fn comment_view(row: CommentRow, names: &std::collections::HashMap<Uuid, String>) -> Result<ReviewComment, ApiError> {
    let anchor: Anchor = serde_json::from_value(row.anchor.clone())
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("read a stored review anchor")))?;
    Ok(ReviewComment {
        id: row.id,
        file_id: row.file_id,
        version: row.version,
        author: row.author_id,
        author_name: names.get(&row.author_id).cloned().unwrap_or_default(),
        body: row.body,
        anchor,
        resolved: row.resolved_at.is_some(),
        resolved_at: row.resolved_at,
        resolved_by: row.resolved_by,
        created_at: row.created_at,
    })
}

/// Comments on a version (those who may post in the project may: all but viewers).
pub async fn comment(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    version: i32,
    req: NewReviewComment,
) -> Result<ReviewComment, ApiError> {
    let body = req.body.trim().to_owned();
    if body.is_empty() || body.chars().count() > 4000 {
        return Err(ApiError::invalid_field("body", "invalid_length", "must be 1 to 4,000 characters"));
    }
    let anchor = req.anchor.unwrap_or(Anchor::Version);
    anchor.check().map_err(|why| ApiError::invalid_field("anchor", "out_of_range", why))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (_, role, _) = visible_file(&mut tx, principal, id, false).await?;
    if !role.may_post() {
        return Err(ApiError::new(CollabCode::ReadOnly, "Viewers read the review; they do not comment."));
    }
    repo::version_locked(&mut tx, id, version).await?.ok_or(CollabError::NotFound("version"))?;
    let row = CommentRow {
        id: platform::ids::new_id(),
        file_id: id,
        version,
        author_id: principal.user_id.0,
        body,
        anchor: serde_json::to_value(&anchor).map_err(|e| ApiError::internal(anyhow::Error::new(e)))?,
        resolved_at: None,
        resolved_by: None,
        created_at: now,
    };
    repo::insert_comment(&mut tx, &row).await?;
    let names = identity::service::display_names(&mut tx, &[row.author_id]).await?;
    tx.commit().await?;
    comment_view(row, &names)
}

/// A version's comments, oldest first.
pub async fn comments(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    version: i32,
) -> Result<Vec<ReviewComment>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    visible_file(&mut conn, principal, id, false).await?;
    let rows = repo::comments(&mut conn, id, version).await?;
    let mut authors: Vec<Uuid> = rows.iter().map(|r| r.author_id).collect();
    authors.sort();
    authors.dedup();
    let names = identity::service::display_names(&mut conn, &authors).await?;
    rows.into_iter().map(|r| comment_view(r, &names)).collect()
}

/// Resolves a comment, or opens it again (all but viewers).
pub async fn resolve(
    ctx: &AppContext,
    principal: &Principal,
    comment: Uuid,
    req: CommentResolution,
) -> Result<ReviewComment, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = repo::comment(&mut tx, comment).await?.ok_or(CollabError::NotFound("comment"))?;
    let (_, role, _) = visible_file(&mut tx, principal, row.file_id, false).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::NOT_FOUND { CollabError::NotFound("comment").into() } else { e }
    })?;
    if !role.may_post() {
        return Err(ApiError::new(CollabCode::ReadOnly, "Viewers read the review; they do not resolve comments."));
    }
    let by = req.resolved.then_some(principal.user_id.0);
    repo::resolve(&mut tx, comment, by, now).await?;
    let row = CommentRow { resolved_at: by.map(|_| now), resolved_by: by, ..row };
    let names = identity::service::display_names(&mut tx, &[row.author_id]).await?;
    tx.commit().await?;
    comment_view(row, &names)
}

/// Moves a version's review status: makers (managers, editors) put it up for review, withdraw it, and
/// bring it back after changes; approvers (managers, the client) approve it or ask for changes. Every
/// step is kept with its note.
pub async fn set_status(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    version: i32,
    req: VersionStatusChange,
) -> Result<ProjectFile, ApiError> {
    let to = VersionStatus::parse(&req.status).ok_or_else(|| {
        ApiError::invalid_field("status", "invalid_value", "must be in_review, approved, changes_requested or draft")
    })?;
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::invalid_field("note", "too_long", "must be at most 2,000 characters"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (file, role, org) = visible_file(&mut tx, principal, id, false).await?;
    let current = repo::version_locked(&mut tx, id, version).await?.ok_or(CollabError::NotFound("version"))?;
    if matches!(to, VersionStatus::InReview | VersionStatus::Approved) {
        usable(&current)?;
    }
    match review::step(current.status, to, role) {
        Ok(()) => {}
        Err(StepRefused::NoSuchStep) => {
            return Err(ApiError::new(
                platform::PlatformCode::InvalidTransition,
                format!("A version {} does not become {}.", current.status.as_str(), to.as_str()),
            ));
        }
        Err(StepRefused::NotYours) => {
            return Err(ApiError::new(
                platform::PlatformCode::TransitionNotPermitted,
                format!(
                    "As {} you do not move a version from {} to {}.",
                    role.as_str(),
                    current.status.as_str(),
                    to.as_str()
                ),
            ));
        }
    }
    repo::set_status(&mut tx, id, version, current.status, to, principal.user_id.0, note, now).await?;
    platform::audit::Entry::new(principal.actor(), "project.file_review", "project_file", id)
        .organization(org)
        .before(json!({"version": version, "status": current.status.as_str()}))
        .after(json!({"version": version, "status": to.as_str(), "note": note}))
        .record(&mut tx, now)
        .await?;
    let versions = repo::versions(&mut tx, id).await?;
    tx.commit().await?;
    Ok(ProjectFile::of(file, versions))
}

/// Moves a file to another folder, renames it or changes its category (the project's managers and
/// editors): its versions, review, threads and links go with it. A name the target folder has is
/// `409 file_exists`, nothing changed.
pub async fn change(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    req: FileChange,
) -> Result<ProjectFile, ApiError> {
    let folder = req.folder.as_deref().map(|f| check_folder("folder", f)).transpose()?;
    let name = req.name.as_deref().map(check_name).transpose()?;
    let category = req.category.as_deref().map(check_category).transpose()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut file, org) = made_file(&mut tx, principal, id, "move and rename files").await?;
    let before = json!({"folder": file.folder, "name": file.name, "category": file.category.as_str()});
    file.folder = folder.unwrap_or(file.folder);
    file.name = name.unwrap_or(file.name);
    file.category = category.unwrap_or(file.category);
    file.updated_at = now;
    repo::place_file(&mut tx, id, (&file.folder, &file.name, file.category), now).await.map_err(CollabError::from)?;
    platform::audit::Entry::new(principal.actor(), "project.file_change", "project_file", id)
        .organization(org)
        .before(before)
        .after(json!({"folder": file.folder, "name": file.name, "category": file.category.as_str()}))
        .record(&mut tx, now)
        .await?;
    let versions = repo::versions(&mut tx, id).await?;
    tx.commit().await?;
    Ok(ProjectFile::of(file, versions))
}

/// Deletes a file (its project's managers and editors): it leaves the project's listings and its
/// downloads; its versions are kept for the record. The organization's storage gives back the bytes of
/// content no other file of the organization holds.
pub async fn delete(ctx: &AppContext, principal: &Principal, id: FileId) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (file, org) = made_file(&mut tx, principal, id, "delete files").await?;
    repo::lock_storage(&mut tx, org, crate::CollabSettings::default().default_quota_bytes, now).await?;
    repo::delete_file(&mut tx, id, principal.user_id.0, now).await?;
    let mut contents: Vec<(String, i64)> =
        repo::versions(&mut tx, id).await?.into_iter().map(|v| (v.sha256, v.size)).collect();
    contents.sort();
    contents.dedup();
    let mut freed = 0;
    for (sha256, size) in contents {
        if !repo::org_holds(&mut tx, org, &sha256).await? {
            freed += size;
        }
    }
    repo::charge(&mut tx, org, -freed, now).await?;
    platform::audit::Entry::new(principal.actor(), "project.file_delete", "project_file", id)
        .organization(org)
        .before(json!({"name": file.name, "folder": file.folder, "versions": file.latest_version}))
        .after(json!({"freed_bytes": freed}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A project's deleted files, the latest first (its managers and editors, who may restore them).
pub async fn deleted(
    ctx: &AppContext,
    principal: &Principal,
    project: ProjectId,
) -> Result<Vec<DeletedFile>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (_, role) = visible_project(&mut conn, principal, project, false).await?;
    if !may_upload(role) {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            "The project's managers and editors see and restore its deleted files.",
        ));
    }
    let deleted = repo::deleted_files(&mut conn, project).await?;
    let mut versions = versions_by_file(&mut conn, deleted.iter().map(|(f, _, _)| f.id)).await?;
    Ok(deleted
        .into_iter()
        .map(|(file, deleted_at, deleted_by)| {
            let versions = versions.remove(&file.id).unwrap_or_default();
            DeletedFile { file: ProjectFile::of(file, versions), deleted_at, deleted_by }
        })
        .collect())
}

/// Brings a deleted file back with every version (its project's managers and editors), into its folder
/// under its name: `409 file_exists` when the folder has a file of that name again (move or rename that
/// one first), `409 quota_exceeded` when its content, no longer held by the organization, would pass
/// the storage allowance. Nothing changes on a refusal.
pub async fn undelete(
    ctx: &AppContext,
    settings: &CollabSettings,
    principal: &Principal,
    id: FileId,
) -> Result<ProjectFile, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let file = repo::deleted_file(&mut tx, id).await?.ok_or(CollabError::NotFound("deleted file"))?;
    let (project, role) = visible_project(&mut tx, principal, file.project_id, false).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::NOT_FOUND { CollabError::NotFound("deleted file").into() } else { e }
    })?;
    if !may_upload(role) {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            "The project's managers and editors restore files.",
        ));
    }
    let org = project.organization_id;
    let (used, quota) = repo::lock_storage(&mut tx, org, settings.default_quota_bytes, now).await?;
    let versions = repo::versions(&mut tx, id).await?;
    let mut contents: Vec<(&str, i64)> = versions.iter().map(|v| (v.sha256.as_str(), v.size)).collect();
    contents.sort();
    contents.dedup();
    let mut added = 0;
    for (sha256, size) in contents {
        if !repo::org_holds(&mut tx, org, sha256).await? {
            added += size;
        }
    }
    if added > 0 && used + added > quota {
        return Err(ApiError::new(
            CollabCode::QuotaExceeded,
            format!("Restoring it takes {added} bytes; the organization holds {used} of {quota}."),
        ));
    }
    repo::undelete_file(&mut tx, id, now).await.map_err(CollabError::from)?;
    repo::charge(&mut tx, org, added, now).await?;
    platform::audit::Entry::new(principal.actor(), "project.file_undelete", "project_file", id)
        .organization(org)
        .after(json!({"name": file.name, "folder": file.folder, "charged_bytes": added}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(ProjectFile::of(file, versions))
}

/// What a link signs: the file, version and expiry, and the file's link epoch once its links were
/// revoked (links of epoch 0 sign what they always signed).
fn link_message(file: FileId, version: i32, expires: i64, epoch: i32) -> String {
    let epoch = if epoch == 0 { String::new() } else { format!(".e{epoch}") };
    format!("project-file-link:{}.{version}.{expires}{epoch}", file.0.simple())
}

/// A signed link to a version's bytes that anyone holding it may use until it expires (for a
/// collaborator without an account, a player, a download manager). Whoever may download the version
/// may make one.
pub async fn link(
    ctx: &AppContext,
    principal: &Principal,
    id: FileId,
    version: i32,
    req: NewFileLink,
) -> Result<FileLink, ApiError> {
    let lasts = req.expires_in_seconds.map_or(LINK_DEFAULT, Duration::seconds);
    if lasts < Duration::seconds(60) || lasts > LINK_LONGEST {
        return Err(ApiError::invalid_field("expires_in_seconds", "out_of_range", "must be 60 to 604,800 (7 days)"));
    }
    let mut conn = ctx.db.acquire().await?;
    visible_file(&mut conn, principal, id, false).await?;
    let v = repo::versions(&mut conn, id).await?.into_iter().find(|v| v.version == version);
    usable(&v.ok_or(CollabError::NotFound("version"))?)?;
    let epoch = repo::link_epoch(&mut conn, id).await?.ok_or(CollabError::NotFound("file"))?;
    let expires_at = ctx.clock.now() + lasts;
    let expires = expires_at.timestamp();
    let signature = ctx.secrets.sign(link_message(id, version, expires, epoch).as_bytes());
    Ok(FileLink {
        url: format!("/v1/file-links/{}.{version}.{expires}.{signature}", id.0.simple()),
        expires_at: DateTime::from_timestamp(expires, 0).unwrap_or(expires_at),
    })
}

/// Revokes every download link made so far to the file's versions (its project's makers): they stop
/// working at once; links made afterwards work.
pub async fn revoke_links(ctx: &AppContext, principal: &Principal, id: FileId) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (_, org) = made_file(&mut tx, principal, id, "revoke its links").await?;
    let epoch = repo::revoke_links(&mut tx, id, now).await?;
    platform::audit::Entry::new(principal.actor(), "project.file_links_revoke", "project_file", id)
        .organization(org)
        .after(json!({"link_epoch": epoch}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The bytes a signed link names, while it has not expired, was not revoked, and its file is still
/// there and clean. A link that was not made here, was altered or revoked is not found; an expired one
/// is gone (410).
pub async fn linked(
    ctx: &AppContext,
    token: &str,
    range: Option<&HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let not_found = || ApiError::not_found("No such link.");
    let mut parts = token.split('.');
    let (Some(file), Some(version), Some(expires), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_found());
    };
    let file = Uuid::try_parse(file).map(FileId).map_err(|_| not_found())?;
    let version: i32 = version.parse().map_err(|_| not_found())?;
    let expires: i64 = expires.parse().map_err(|_| not_found())?;
    let epoch = repo::link_epoch(&mut *ctx.db.acquire().await?, file).await?.ok_or_else(not_found)?;
    if !ctx.secrets.verify(link_message(file, version, expires, epoch).as_bytes(), signature) {
        return Err(not_found());
    }
    if ctx.clock.now().timestamp() >= expires {
        return Err(ApiError::new(CollabCode::LinkExpired, "The link has expired; ask for a new one."));
    }
    let (row, v) = {
        let mut conn = ctx.db.acquire().await?;
        let row = repo::file(&mut conn, file, false).await?.ok_or_else(not_found)?;
        let v = repo::versions(&mut conn, file).await?.into_iter().find(|v| v.version == version);
        (row, v.ok_or_else(not_found)?)
    };
    usable(&v)?;
    platform::storage::file_response(ctx, &v.sha256, &v.media_type, v.size, &row.name, range).await
}

/// The scan job: asks the configured scanner about one content and gives every version waiting with
/// it the verdict; an infected one's uploader and project managers are told.
async fn scan(ctx: AppContext, sha256: String) -> Result<(), JobFailure> {
    let verdict = ctx
        .storage
        .scan(&sha256)
        .await
        .map_err(|e| JobFailure::retry(format!("{e:#}")))?
        .ok_or_else(|| JobFailure::retry("no scanner is configured on this worker (BACKLINE_SCAN_COMMAND)"))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (status, note) = match &verdict {
        platform::storage::Verdict::Clean => (ScanStatus::Clean, None),
        platform::storage::Verdict::Infected(finding) => {
            (ScanStatus::Infected, Some(if finding.is_empty() { "infected".to_owned() } else { finding.clone() }))
        }
    };
    let decided = repo::record_scan(&mut tx, &sha256, status, note.as_deref(), now).await?;
    crate::attachments::repo::record_scan(&mut tx, &sha256, status, note.as_deref(), now).await?;
    if status == ScanStatus::Clean {
        queue_inspection(&mut tx, &sha256, now).await.map_err(|e| JobFailure::retry(e.to_string()))?;
    }
    if status == ScanStatus::Infected {
        for (file, version) in decided {
            let Some((project, org, project_name)) = repo::owner_of(&mut tx, file).await? else { continue };
            let name = repo::file_any(&mut tx, file).await?.map(|f| f.name).unwrap_or_default();
            let uploader =
                repo::versions(&mut tx, file).await?.into_iter().find(|v| v.version == version).map(|v| v.uploaded_by);
            let mut told = crate::projects::repo::managers(&mut tx, project).await?;
            told.extend(uploader);
            told.sort();
            told.dedup();
            let data = json!({"project": project_name, "name": name, "version": version,
                              "finding": note.clone().unwrap_or_default(), "file_id": file});
            crate::notify_users(&mut tx, told, "project.file.infected", data, now).await?;
            platform::audit::Entry::new(
                platform::audit::Actor::default(),
                "project.file_quarantine",
                "project_file",
                file,
            )
            .organization(org)
            .after(json!({"version": version, "sha256": sha256, "finding": note}))
            .record(&mut tx, now)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Queues the inspection of a content that passed its scan, unless it was inspected already.
pub(crate) async fn queue_inspection(
    conn: &mut PgConnection,
    sha256: &str,
    now: DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    if !repo::inspected(&mut *conn, sha256).await? {
        let job = NewJob::new(INSPECT, json!({"sha256": sha256})).unique(format!("inspect:{sha256}"));
        platform::jobs::enqueue(conn, job, now).await?;
    }
    Ok(())
}

/// The inspection job: reads the content from the object store into staging, reads it (in a blocking
/// thread: decoding is work), keeps its thumbnail in the object store, and records what it found.
async fn inspect(ctx: AppContext, sha256: String) -> Result<(), JobFailure> {
    if repo::inspected(&mut *ctx.db.acquire().await?, &sha256).await? {
        return Ok(());
    }
    let retry = |e: &dyn std::fmt::Display| JobFailure::retry(format!("{e:#}"));
    let path = ctx.storage.fetch(&sha256).await.map_err(|e| retry(&e))?;
    let found = tokio::task::spawn_blocking(move || super::media::inspect(&path))
        .await
        .map_err(|e| retry(&e))?
        .map_err(|e| retry(&e))?;
    let thumbnail = match &found.thumbnail {
        Some(bytes) => Some(ctx.storage.put_bytes(bytes.clone()).await.map_err(|e| retry(&e))?),
        None => None,
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if let Some(kept) = &thumbnail {
        platform::storage::record(&mut tx, kept, "image/png", now).await?;
    }
    repo::record_media(&mut tx, &sha256, &found, thumbnail.as_ref().map(|k| k.sha256.as_str()), now).await?;
    tx.commit().await?;
    Ok(())
}

/// A version's thumbnail (a PNG at most 320 pixels on its longest side), for whoever may download it.
pub async fn thumbnail(
    ctx: &AppContext,
    principal: &Principal,
    file: FileId,
    version: i32,
) -> Result<axum::response::Response, ApiError> {
    let (row, v, size) = {
        let mut conn = ctx.db.acquire().await?;
        let (row, _, _) = visible_file(&mut conn, principal, file, false).await?;
        let v = repo::versions(&mut conn, file).await?.into_iter().find(|v| v.version == version);
        let v = v.ok_or(CollabError::NotFound("version"))?;
        usable(&v)?;
        let thumb = v.media.as_ref().and_then(|m| m.thumbnail.as_deref()).ok_or(CollabError::NotFound("thumbnail"))?;
        let size = platform::storage::stored_size(&mut conn, thumb).await?.ok_or(CollabError::NotFound("thumbnail"))?;
        (row, v, size)
    };
    let thumb = v.media.and_then(|m| m.thumbnail).unwrap_or_default();
    let name = format!("{}.thumbnail.png", row.name);
    platform::storage::file_response(ctx, &thumb, "image/png", size, &name, None).await
}

pub fn register(registry: &mut Registry) {
    // Only workers with a scanner claim scans; the others leave them queued for one that has.
    registry.register_where(
        SCAN,
        |ctx| ctx.storage.scans(),
        |ctx: AppContext, job: Job| async move {
            let sha256: String = job.field("sha256")?;
            scan(ctx, sha256).await
        },
    );
    registry.register(INSPECT, |ctx: AppContext, job: Job| async move {
        let sha256: String = job.field("sha256")?;
        inspect(ctx, sha256).await
    });
}
