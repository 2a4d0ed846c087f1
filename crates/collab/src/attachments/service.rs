//! Uploading into a conversation, attaching to a message, and downloading.

use axum::http::HeaderValue;
use identity::auth::Principal;
use platform::jobs::{Job, JobFailure, JobKind, Registry};
use platform::{ApiError, AppContext};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{AttachedFile, Attachment, AttachmentTarget};
use super::repo::{self, AttachmentRow};
use crate::Subjects;
use crate::conversations::service::{Access, access};
use crate::error::{CollabCode, CollabError};
use crate::model::{ConversationId, ConversationKind, MessageId, ScanStatus};

/// The largest file a message takes by upload.
pub const MAX_ATTACHMENT: u64 = 100_000_000;
/// The most files one message holds (uploads and project files together).
pub const MAX_PER_MESSAGE: usize = 10;

/// An upload no message took within a day is removed by the daily sweep.
pub const WAITING: chrono::Duration = chrono::Duration::hours(24);

/// The daily sweep of uploads no message took.
pub const SWEEP: JobKind = JobKind::new("collab.attachments.sweep");

fn is_channel(access: &Access) -> bool {
    access.conversation.kind == ConversationKind::Channel
}

/// Uploads a file (streamed, up to 100 MB) into a conversation the caller may write in; it waits,
/// unattached and seen by nobody else, until the caller's message takes it. A project's channel takes
/// the project's files instead (`409 use_project_files`).
pub async fn upload(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
    target: AttachmentTarget,
    body: axum::body::Body,
) -> Result<Attachment, ApiError> {
    let name = crate::files::service::check_name(&target.name)?;
    let writable = |access: &Access| -> Result<(), ApiError> {
        if !access.may_post {
            return Err(ApiError::new(CollabCode::ReadOnly, "You may read this conversation but not write in it."));
        }
        if is_channel(access) {
            return Err(ApiError::new(
                CollabCode::UseProjectFiles,
                "A project's channel takes the project's files: upload the file to the project, then attach it with `files`.",
            ));
        }
        Ok(())
    };
    writable(&access(&mut *ctx.db.acquire().await?, subjects, principal, conversation).await?)?;
    let (kept, ()) = platform::storage::receive_checked(
        ctx,
        principal.user_id.0,
        principal.client_ip.as_deref(),
        body,
        MAX_ATTACHMENT,
        platform::storage::Digests::Sha256,
        |_| Ok(()),
    )
    .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    writable(&access(&mut tx, subjects, principal, conversation).await?)?;
    let (scan, _) = crate::files::service::verdict(ctx, &mut tx, &kept.sha256, now).await?;
    let media_type = crate::files::service::media_type(&name);
    platform::storage::record(&mut tx, &kept, media_type, now).await?;
    let row = AttachmentRow {
        id: Uuid::now_v7(),
        conversation_id: conversation,
        uploaded_by: principal.user_id.0,
        message_id: None,
        position: None,
        name,
        media_type: media_type.to_owned(),
        size: i64::try_from(kept.size).unwrap_or(i64::MAX),
        sha256: kept.sha256,
        file_id: None,
        file_version: None,
        scan,
        created_at: now,
    };
    repo::insert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// Gives a new message its files, in the message's transaction: the writer's uploads waiting in the
/// conversation the message was sent to (`uploads`), then project file versions (`files`; only in a
/// channel of the file's project, by someone who may read the file, once it passed its scan).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn attach(
    conn: &mut PgConnection,
    principal: &Principal,
    sent_to: ConversationId,
    access: &Access,
    message: MessageId,
    uploads: &[Uuid],
    files: &[AttachedFile],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    if uploads.len() + files.len() > MAX_PER_MESSAGE {
        return Err(ApiError::invalid_field("attachments", "too_many", "a message holds at most 10 files"));
    }
    let mut distinct = uploads.to_vec();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < uploads.len() {
        return Err(ApiError::invalid_field("attachments", "duplicate", "names the same upload twice"));
    }
    if !uploads.is_empty() {
        let taken = repo::attach(conn, uploads, principal.user_id.0, sent_to, message, access.conversation.id).await?;
        if taken < uploads.len() as u64 {
            return Err(ApiError::invalid_field(
                "attachments",
                "not_found",
                "names no upload of yours waiting in this conversation (each is attached once)",
            ));
        }
    }
    for (i, wanted) in files.iter().enumerate() {
        let not_here =
            || ApiError::invalid_field("files", "not_applicable", "a project's files are attached in its own channels");
        let project = access.conversation.project_id.filter(|_| is_channel(access)).ok_or_else(not_here)?;
        let (file, _, _) = crate::files::service::visible_file(conn, principal, wanted.file_id, false)
            .await
            .map_err(|e| if e.status() == axum::http::StatusCode::NOT_FOUND { unknown_file() } else { e })?;
        if file.project_id != project {
            return Err(not_here());
        }
        let number = wanted.version.unwrap_or(file.latest_version);
        let version = crate::files::repo::versions(conn, file.id)
            .await?
            .into_iter()
            .find(|v| v.version == number)
            .ok_or_else(unknown_file)?;
        crate::files::service::usable(&version)?;
        let position = i16::try_from(uploads.len() + i).unwrap_or(i16::MAX);
        let row = AttachmentRow {
            id: Uuid::now_v7(),
            conversation_id: access.conversation.id,
            uploaded_by: principal.user_id.0,
            message_id: Some(message),
            position: Some(position),
            name: file.name.clone(),
            media_type: version.media_type,
            size: version.size,
            sha256: version.sha256,
            file_id: Some(file.id),
            file_version: Some(number),
            scan: ScanStatus::Clean,
            created_at: now,
        };
        repo::insert(conn, &row).await?;
    }
    Ok(())
}

fn unknown_file() -> ApiError {
    ApiError::invalid_field("files", "not_found", "names no file version you may read")
}

/// An attachment's bytes (whole, or the range asked for): for whoever may read its message's
/// conversation, or its uploader while it waits; `404` for anyone else and once the message is deleted.
pub async fn download(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: Uuid,
    range: Option<&HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    let row = {
        let mut conn = ctx.db.acquire().await?;
        let row = repo::attachment(&mut conn, id).await?.ok_or(CollabError::NotFound("attachment"))?;
        match row.message_id {
            None if row.uploaded_by == principal.user_id.0 => {}
            None => return Err(CollabError::NotFound("attachment").into()),
            Some(message) => {
                let message = crate::messages::repo::message(&mut conn, message, false)
                    .await?
                    .filter(|m| m.deleted_at.is_none())
                    .ok_or(CollabError::NotFound("attachment"))?;
                access(&mut conn, subjects, principal, message.conversation_id).await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::NOT_FOUND {
                        CollabError::NotFound("attachment").into()
                    } else {
                        e
                    }
                })?;
            }
        }
        row
    };
    match row.scan {
        ScanStatus::Clean => {}
        ScanStatus::Pending => {
            return Err(ApiError::new(CollabCode::FileQuarantined, "The file waits for its virus scan."));
        }
        ScanStatus::Infected => {
            return Err(ApiError::new(CollabCode::FileQuarantined, "The file failed the virus scan."));
        }
    }
    platform::storage::file_response(ctx, &row.sha256, &row.media_type, row.size, &row.name, range).await
}

/// The attachments of a page of messages, by message.
pub(crate) async fn of_messages(
    conn: &mut PgConnection,
    messages: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, Vec<Attachment>>> {
    let mut out: std::collections::HashMap<Uuid, Vec<Attachment>> = std::collections::HashMap::new();
    for row in repo::of_messages(conn, messages).await? {
        if let Some(message) = row.message_id {
            out.entry(message.0).or_default().push(row.into());
        }
    }
    Ok(out)
}

/// Removes the uploads that waited for a message longer than [`WAITING`]; their bytes stay in the
/// object store, where other files may hold the same content.
async fn sweep(ctx: AppContext) -> Result<(), JobFailure> {
    let mut conn = ctx.db.acquire().await?;
    let removed = repo::sweep(&mut conn, ctx.clock.now() - WAITING).await?;
    if removed > 0 {
        tracing::info!(removed, "uploads no message took were removed");
    }
    Ok(())
}

pub fn register(registry: &mut Registry) {
    registry.register(SWEEP, |ctx: AppContext, _job: Job| async move { sweep(ctx).await });
    registry
        .schedule("collab.attachments.sweep", "37 4 * * *", SWEEP, serde_json::json!({}))
        .expect("a valid schedule");
}
