//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{FileCategory, FileId, ProjectId, ScanStatus, VersionStatus};

#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: FileId,
    pub project_id: ProjectId,
    pub folder: String,
    pub name: String,
    pub category: FileCategory,
    pub latest_version: i32,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn file(conn: &mut PgConnection, id: FileId, lock: bool) -> sqlx::Result<Option<FileRow>> {
    if lock {
        sqlx::query_as!(
            FileRow,
            r#"SELECT id AS "id: FileId", project_id AS "project_id: ProjectId", folder, name,
                      category AS "category: FileCategory", latest_version, created_by, created_at, updated_at
               FROM project_files WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            FileRow,
            r#"SELECT id AS "id: FileId", project_id AS "project_id: ProjectId", folder, name,
                      category AS "category: FileCategory", latest_version, created_by, created_at, updated_at
               FROM project_files WHERE id = $1 AND deleted_at IS NULL"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    }
}

/// The project's file of this name in this folder, locked.
pub async fn file_named(
    conn: &mut PgConnection,
    project: ProjectId,
    folder: &str,
    name: &str,
) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: FileId", project_id AS "project_id: ProjectId", folder, name,
                  category AS "category: FileCategory", latest_version, created_by, created_at, updated_at
           FROM project_files WHERE project_id = $1 AND folder = $2 AND name = $3 AND deleted_at IS NULL FOR UPDATE"#,
        project as _,
        folder,
        name
    )
    .fetch_optional(conn)
    .await
}

pub async fn files(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: FileId", project_id AS "project_id: ProjectId", folder, name,
                  category AS "category: FileCategory", latest_version, created_by, created_at, updated_at
           FROM project_files WHERE project_id = $1 AND deleted_at IS NULL ORDER BY folder, name"#,
        project as _
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_file(conn: &mut PgConnection, f: &FileRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO project_files (id, project_id, folder, name, category, latest_version, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        f.id as _,
        f.project_id as _,
        f.folder,
        f.name,
        f.category as _,
        f.latest_version,
        f.created_by,
        f.created_at,
        f.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_latest(conn: &mut PgConnection, file: FileId, version: i32, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE project_files SET latest_version = $2, updated_at = $3 WHERE id = $1",
        file as _,
        version,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct VersionRow {
    /// The version's own id (a thread attaches to it).
    pub id: Uuid,
    pub file_id: FileId,
    pub version: i32,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub label: Option<String>,
    pub status: VersionStatus,
    pub restored_from: Option<i32>,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub scan: ScanStatus,
    /// What the scanner found, when it found something.
    pub scan_note: Option<String>,
    /// What was read of its content, once the inspection job has run.
    pub media: Option<Media>,
}

/// What the inspection job read of a content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub format: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i64>,
    pub pages: Option<i32>,
    /// The content of its thumbnail, if it has one.
    pub thumbnail: Option<String>,
    pub note: Option<String>,
}

pub async fn insert_version(conn: &mut PgConnection, v: &VersionRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO project_file_versions (file_id, version, sha256, size, media_type, label, status, restored_from,
                                            uploaded_by, created_at, scan, scan_note, scanned_at, id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                 CASE WHEN $11::text = 'pending' THEN NULL ELSE $10::timestamptz END, $13)",
        v.file_id as _,
        v.version,
        v.sha256,
        v.size,
        v.media_type,
        v.label,
        v.status as _,
        v.restored_from,
        v.uploaded_by,
        v.created_at,
        v.scan as _,
        v.scan_note,
        v.id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A file's versions, newest first.
pub async fn versions(conn: &mut PgConnection, file: FileId) -> sqlx::Result<Vec<VersionRow>> {
    versions_of(conn, &[file.0]).await
}

/// The versions of these files, each file's newest first, in one read.
pub async fn versions_of(conn: &mut PgConnection, files: &[Uuid]) -> sqlx::Result<Vec<VersionRow>> {
    let rows = sqlx::query!(
        r#"SELECT v.id, v.file_id AS "file_id: FileId", v.version, v.sha256, v.size, v.media_type, v.label,
                  v.status AS "status: VersionStatus", v.restored_from, v.uploaded_by, v.created_at,
                  v.scan AS "scan: ScanStatus", v.scan_note, c.inspected_at AS "inspected_at?", c.format AS "format?",
                  c.width AS "width?", c.height AS "height?", c.duration_ms AS "duration_ms?", c.pages AS "pages?",
                  c.thumbnail AS "thumbnail?", c.note AS "note?"
           FROM project_file_versions v LEFT JOIN project_file_contents c ON c.sha256 = v.sha256
           WHERE v.file_id = ANY($1) ORDER BY v.file_id, v.version DESC"#,
        files
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| VersionRow {
            id: r.id,
            file_id: r.file_id,
            version: r.version,
            sha256: r.sha256,
            size: r.size,
            media_type: r.media_type,
            label: r.label,
            status: r.status,
            restored_from: r.restored_from,
            uploaded_by: r.uploaded_by,
            created_at: r.created_at,
            scan: r.scan,
            scan_note: r.scan_note,
            media: r.inspected_at.map(|_| Media {
                format: r.format,
                width: r.width,
                height: r.height,
                duration_ms: r.duration_ms,
                pages: r.pages,
                thumbnail: r.thumbnail,
                note: r.note,
            }),
        })
        .collect())
}

/// The file and number of the version with this id.
pub async fn version_by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<(FileId, i32)>> {
    let row =
        sqlx::query!(r#"SELECT file_id AS "file_id: FileId", version FROM project_file_versions WHERE id = $1"#, id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|r| (r.file_id, r.version)))
}

/// Whether this content has been inspected.
pub async fn inspected(conn: &mut PgConnection, sha256: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM project_file_contents WHERE sha256 = $1) AS "x!""#, sha256)
        .fetch_one(conn)
        .await
}

/// Records what was read of a content (the first reading stands).
pub async fn record_media(
    conn: &mut PgConnection,
    sha256: &str,
    found: &super::media::Inspection,
    thumbnail: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let int = |v: Option<u32>| v.and_then(|v| i32::try_from(v).ok()).filter(|v| *v > 0);
    let note: Option<String> = found.note.as_ref().map(|n| n.chars().take(300).collect());
    sqlx::query!(
        "INSERT INTO project_file_contents (sha256, format, width, height, duration_ms, pages, body, thumbnail, note,
                                            inspected_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (sha256) DO NOTHING",
        sha256,
        found.format,
        int(found.width),
        int(found.height),
        found.duration_ms.filter(|d| *d >= 0),
        found.pages,
        found.text,
        thumbnail,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The organization's storage row, made with `quota` when it has none, and locked.
pub async fn lock_storage(
    conn: &mut PgConnection,
    org: Uuid,
    quota: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query!(
        "INSERT INTO org_storage (organization_id, used_bytes, quota_bytes, updated_at) VALUES ($1, 0, $2, $3)
         ON CONFLICT (organization_id) DO NOTHING",
        org,
        quota,
        now
    )
    .execute(&mut *conn)
    .await?;
    let row =
        sqlx::query!("SELECT used_bytes, quota_bytes FROM org_storage WHERE organization_id = $1 FOR UPDATE", org)
            .fetch_one(conn)
            .await?;
    Ok((row.used_bytes, row.quota_bytes))
}

/// The organization's storage (used, allowance), if it has a row.
pub async fn storage(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<(i64, i64)>> {
    let row = sqlx::query!("SELECT used_bytes, quota_bytes FROM org_storage WHERE organization_id = $1", org)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| (r.used_bytes, r.quota_bytes)))
}

pub async fn charge(conn: &mut PgConnection, org: Uuid, bytes: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE org_storage SET used_bytes = used_bytes + $2, updated_at = $3 WHERE organization_id = $1",
        org,
        bytes,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_quota(conn: &mut PgConnection, org: Uuid, quota: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE org_storage SET quota_bytes = $2, updated_at = $3 WHERE organization_id = $1",
        org,
        quota,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether any of the organization's projects holds this content already.
pub async fn org_holds(conn: &mut PgConnection, org: Uuid, sha256: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM project_file_versions v JOIN project_files f ON f.id = v.file_id
                          JOIN projects p ON p.id = f.project_id
                          WHERE p.organization_id = $1 AND v.sha256 = $2 AND f.deleted_at IS NULL) AS "held!""#,
        org,
        sha256
    )
    .fetch_one(conn)
    .await
}

/// One version, locked.
pub async fn version_locked(conn: &mut PgConnection, file: FileId, version: i32) -> sqlx::Result<Option<VersionRow>> {
    let locked = sqlx::query_scalar!(
        "SELECT version FROM project_file_versions WHERE file_id = $1 AND version = $2 FOR UPDATE",
        file as _,
        version
    )
    .fetch_optional(&mut *conn)
    .await?;
    if locked.is_none() {
        return Ok(None);
    }
    Ok(versions(conn, file).await?.into_iter().find(|v| v.version == version))
}

/// Moves a version's status and keeps the step.
#[allow(clippy::too_many_arguments)]
pub async fn set_status(
    conn: &mut PgConnection,
    file: FileId,
    version: i32,
    from: VersionStatus,
    to: VersionStatus,
    by: Uuid,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH kept AS (INSERT INTO file_version_reviews (id, file_id, version, from_status, to_status, by_user, note, created_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8))
         UPDATE project_file_versions SET status = $5 WHERE file_id = $2 AND version = $3",
        platform::ids::new_id(),
        file as _,
        version,
        from as _,
        to as _,
        by,
        note,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct CommentRow {
    pub id: Uuid,
    pub file_id: FileId,
    pub version: i32,
    pub author_id: Uuid,
    pub body: String,
    pub anchor: serde_json::Value,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_comment(conn: &mut PgConnection, c: &CommentRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO review_comments (id, file_id, version, author_id, body, anchor, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        c.id,
        c.file_id as _,
        c.version,
        c.author_id,
        c.body,
        c.anchor,
        c.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A version's comments, oldest first.
pub async fn comments(conn: &mut PgConnection, file: FileId, version: i32) -> sqlx::Result<Vec<CommentRow>> {
    sqlx::query_as!(
        CommentRow,
        r#"SELECT id, file_id AS "file_id: FileId", version, author_id, body, anchor, resolved_at, resolved_by, created_at
           FROM review_comments WHERE file_id = $1 AND version = $2 ORDER BY created_at, id"#,
        file as _,
        version
    )
    .fetch_all(conn)
    .await
}

pub async fn comment(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<CommentRow>> {
    sqlx::query_as!(
        CommentRow,
        r#"SELECT id, file_id AS "file_id: FileId", version, author_id, body, anchor, resolved_at, resolved_by, created_at
           FROM review_comments WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Resolves a comment (`by`), or opens it again (`None`).
pub async fn resolve(conn: &mut PgConnection, id: Uuid, by: Option<Uuid>, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE review_comments SET resolved_by = $2, resolved_at = CASE WHEN $2::uuid IS NULL THEN NULL ELSE $3::timestamptz END
         WHERE id = $1",
        id,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The verdict the organization's files already have for this content, if any version was scanned:
/// the same bytes need no second scan.
pub async fn known_verdict(
    conn: &mut PgConnection,
    sha256: &str,
) -> sqlx::Result<Option<(ScanStatus, Option<String>)>> {
    let row = sqlx::query!(
        r#"SELECT scan AS "scan!: ScanStatus", scan_note FROM (
               SELECT scan, scan_note, scanned_at FROM project_file_versions WHERE sha256 = $1 AND scan <> 'pending'
               UNION ALL
               SELECT scan, scan_note, scanned_at FROM message_attachments WHERE sha256 = $1 AND scan <> 'pending'
           ) AS known ORDER BY scanned_at DESC NULLS LAST LIMIT 1"#,
        sha256
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.scan, r.scan_note)))
}

/// Records a scan's verdict on every version still waiting with this content; answers the versions it
/// decided.
pub async fn record_scan(
    conn: &mut PgConnection,
    sha256: &str,
    scan: ScanStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(FileId, i32)>> {
    let rows = sqlx::query!(
        r#"UPDATE project_file_versions SET scan = $2, scan_note = $3, scanned_at = $4
           WHERE sha256 = $1 AND scan = 'pending'
           RETURNING file_id AS "file_id: FileId", version"#,
        sha256,
        scan as _,
        note,
        now
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.file_id, r.version)).collect())
}

/// Moves, renames or recategorizes a file (the unique index answers a name the target folder has).
pub async fn place_file(
    conn: &mut PgConnection,
    file: FileId,
    (folder, name, category): (&str, &str, FileCategory),
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE project_files SET folder = $2, name = $3, category = $4, updated_at = $5 WHERE id = $1",
        file as _,
        folder,
        name,
        category as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The epoch a file's download links are signed with; none for a deleted or unknown file.
pub async fn link_epoch(conn: &mut PgConnection, file: FileId) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar!("SELECT link_epoch FROM project_files WHERE id = $1 AND deleted_at IS NULL", file as _)
        .fetch_optional(conn)
        .await
}

/// Moves a file's link epoch on: every link signed before stops working.
pub async fn revoke_links(conn: &mut PgConnection, file: FileId, now: DateTime<Utc>) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "UPDATE project_files SET link_epoch = link_epoch + 1, updated_at = $2 WHERE id = $1 RETURNING link_epoch",
        file as _,
        now
    )
    .fetch_one(conn)
    .await
}

/// A deleted file, locked (to restore it).
pub async fn deleted_file(conn: &mut PgConnection, id: FileId) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: FileId", project_id AS "project_id: ProjectId", folder, name,
                  category AS "category: FileCategory", latest_version, created_by, created_at, updated_at
           FROM project_files WHERE id = $1 AND deleted_at IS NOT NULL FOR UPDATE"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// A project's deleted files, the latest deleted first, with when and by whom.
pub async fn deleted_files(
    conn: &mut PgConnection,
    project: ProjectId,
) -> sqlx::Result<Vec<(FileRow, DateTime<Utc>, Uuid)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: FileId", project_id AS "project_id: ProjectId", folder, name,
                  category AS "category: FileCategory", latest_version, created_by, created_at, updated_at,
                  deleted_at AS "deleted_at!", deleted_by AS "deleted_by!"
           FROM project_files WHERE project_id = $1 AND deleted_at IS NOT NULL
           ORDER BY deleted_at DESC, id LIMIT 500"#,
        project as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let file = FileRow {
                id: r.id,
                project_id: r.project_id,
                folder: r.folder,
                name: r.name,
                category: r.category,
                latest_version: r.latest_version,
                created_by: r.created_by,
                created_at: r.created_at,
                updated_at: r.updated_at,
            };
            (file, r.deleted_at, r.deleted_by)
        })
        .collect())
}

/// Brings a deleted file back (the unique index answers a name its folder has again).
pub async fn undelete_file(conn: &mut PgConnection, file: FileId, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE project_files SET deleted_at = NULL, deleted_by = NULL, updated_at = $2 WHERE id = $1",
        file as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a file deleted (its versions stay, for the record).
pub async fn delete_file(conn: &mut PgConnection, file: FileId, by: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE project_files SET deleted_at = $3, deleted_by = $2, updated_at = $3 WHERE id = $1",
        file as _,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The project and file a version belongs to, with its project's organization (for a job).
pub async fn owner_of(conn: &mut PgConnection, file: FileId) -> sqlx::Result<Option<(ProjectId, Uuid, String)>> {
    let row = sqlx::query!(
        r#"SELECT p.id AS "project: ProjectId", p.organization_id, p.name FROM project_files f
           JOIN projects p ON p.id = f.project_id WHERE f.id = $1"#,
        file as _
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.project, r.organization_id, r.name)))
}

/// A file, deleted or not (for naming it in a job's message).
pub async fn file_any(conn: &mut PgConnection, id: FileId) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as!(
        FileRow,
        r#"SELECT id AS "id: FileId", project_id AS "project_id: ProjectId", folder, name,
                  category AS "category: FileCategory", latest_version, created_by, created_at, updated_at
           FROM project_files WHERE id = $1"#,
        id as _
    )
    .fetch_optional(conn)
    .await
}

/// Makes a folder; answers whether it is new.
pub async fn add_folder(
    conn: &mut PgConnection,
    project: ProjectId,
    path: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO project_folders (project_id, path, created_by, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id, path) DO NOTHING",
        project as _,
        path,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The project's folders (made, or holding files), with how many files each holds, by path.
pub async fn folders(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT p.path AS "path!", count(f.id) AS "files!"
           FROM (SELECT path FROM project_folders WHERE project_id = $1
                 UNION SELECT folder FROM project_files WHERE project_id = $1 AND deleted_at IS NULL AND folder <> '') AS p
           LEFT JOIN project_files f ON f.project_id = $1 AND f.folder = p.path AND f.deleted_at IS NULL
           GROUP BY p.path ORDER BY p.path"#,
        project as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.path, r.files)).collect())
}
