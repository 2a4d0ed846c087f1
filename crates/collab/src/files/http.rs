//! The area's HTTP handlers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use identity::auth::AuthUser;
use platform::error::ProblemBody;
use platform::{ApiError, AppContext, Json};
use uuid::Uuid;

use super::dto::{
    CommentResolution, DeletedFile, FileChange, FileLink, Folder, NewFileLink, NewFolder, NewReviewComment,
    ProjectFile, ReviewComment, StorageQuota, StorageUse, UploadTarget, VersionStatusChange,
};
use super::service;
use crate::CollabSettings;
use crate::model::{FileId, ProjectId};

/// Upload a file into the project as the raw request body (streamed, up to 2 GB): a new file, or the
/// next version of the file of that name in that folder. The project's managers and editors upload; the
/// organization's allowance is charged for content it does not hold yet.
#[utoipa::path(post, path = "/v1/projects/{id}/files", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path), UploadTarget),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, body = ProjectFile),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`quota_exceeded`, `file_exists`; `file_infected`: the same bytes failed the virus scan before", body = ProblemBody, content_type = "application/problem+json"),
              (status = 413, description = "`payload_too_large`: over 2 GB", body = ProblemBody, content_type = "application/problem+json"),
              (status = 429, description = "`rate_limited`: too many uploads", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn upload_project_file(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<CollabSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
    Query(target): Query<UploadTarget>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<ProjectFile>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::upload(&ctx, &settings, &principal, id, target, body).await?)))
}

/// The project's files, by folder and name, each with its versions.
#[utoipa::path(get, path = "/v1/projects/{id}/files", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)), responses((status = 200, body = Vec<ProjectFile>)))]
pub async fn project_files(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<ProjectFile>>, ApiError> {
    Ok(Json(service::list(&ctx, &principal, id).await?))
}

/// A file with its versions, newest first.
#[utoipa::path(get, path = "/v1/project-files/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path)),
    responses((status = 200, body = ProjectFile),
              (status = 404, description = "no such file, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn get_project_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<FileId>,
) -> Result<Json<ProjectFile>, ApiError> {
    Ok(Json(service::get(&ctx, &principal, id).await?))
}

/// A version's bytes: whole, or the one byte range a `Range` header asks for (206).
#[utoipa::path(get, path = "/v1/project-files/{id}/versions/{version}/content", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, description = "no such file or version, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_quarantined`: waiting for its virus scan, or infected", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn project_file_content(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::download(&ctx, &principal, id, version, headers.get(axum::http::header::RANGE)).await
}

/// A version's thumbnail: a PNG at most 320 pixels on its longest side, made from a PNG, JPEG or WebP
/// image once its content has been inspected.
#[utoipa::path(get, path = "/v1/project-files/{id}/versions/{version}/thumbnail", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)),
    responses((status = 200, description = "The thumbnail", content_type = "image/png", body = Vec<u8>),
              (status = 404, description = "no such file or version, not yours, or no thumbnail (not an image, or not inspected yet)", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_quarantined`: waiting for its virus scan, or infected", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn project_file_thumbnail(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
) -> Result<axum::response::Response, ApiError> {
    service::thumbnail(&ctx, &principal, id, version).await
}

/// Move a file to another folder, rename it or change its category (the project's managers and
/// editors). Its versions, review, threads and links go with it.
#[utoipa::path(patch, path = "/v1/project-files/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path)), request_body = FileChange,
    responses((status = 200, body = ProjectFile),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such file, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_exists`: the folder has a file of that name", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed` (folder, name, category)", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn change_project_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<FileId>,
    Json(req): Json<FileChange>,
) -> Result<Json<ProjectFile>, ApiError> {
    Ok(Json(service::change(&ctx, &principal, id, req).await?))
}

/// Delete a file (the project's managers and editors): it leaves the project; its versions are kept for
/// the record, and the organization's storage gives back what no other file of it holds.
#[utoipa::path(delete, path = "/v1/project-files/{id}", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path)),
    responses((status = 204),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such file (or deleted already), or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn delete_project_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<FileId>,
) -> Result<StatusCode, ApiError> {
    service::delete(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A signed download link to a version that works without signing in until it expires (an hour by
/// default, at most seven days). Whoever may download the version may make one.
#[utoipa::path(post, path = "/v1/project-files/{id}/versions/{version}/links", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)), request_body = NewFileLink,
    responses((status = 201, body = FileLink),
              (status = 404, description = "no such file or version, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_quarantined`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: expires_in_seconds out of range", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn link_file_version(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
    Json(req): Json<NewFileLink>,
) -> Result<(StatusCode, Json<FileLink>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::link(&ctx, &principal, id, version, req).await?)))
}

/// The bytes a signed link names (no sign-in; `Range` answered), until the link expires.
#[utoipa::path(get, path = "/v1/file-links/{token}", tag = "collab",
    params(("token" = String, Path, description = "The link's token, as `POST …/links` gave it")),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, description = "not a link made here, or its file was deleted", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_quarantined`", body = ProblemBody, content_type = "application/problem+json"),
              (status = 410, description = "`link_expired`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn linked_file(
    State(ctx): State<AppContext>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service::linked(&ctx, &token, headers.get(axum::http::header::RANGE)).await
}

/// Revoke every download link made so far to the file's versions (the project's managers and
/// editors): they stop working at once (`404`); links made afterwards work.
#[utoipa::path(delete, path = "/v1/project-files/{id}/links", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path)),
    responses((status = 204, description = "Revoked"),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such file, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn revoke_file_links(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<FileId>,
) -> Result<StatusCode, ApiError> {
    service::revoke_links(&ctx, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's deleted files, the latest first, with when and by whom (its managers and editors).
#[utoipa::path(get, path = "/v1/projects/{id}/deleted-files", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)),
    responses((status = 200, body = Vec<DeletedFile>),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such project, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn deleted_project_files(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<DeletedFile>>, ApiError> {
    Ok(Json(service::deleted(&ctx, &principal, id).await?))
}

/// Bring a deleted file back with every version, into its folder under its name (the project's
/// managers and editors); its content counts toward the storage allowance again.
#[utoipa::path(post, path = "/v1/project-files/{id}/undelete", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path)),
    responses((status = 200, body = ProjectFile),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such deleted file, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_exists`: its folder has a file of its name again; `quota_exceeded`", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn undelete_project_file(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<CollabSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<FileId>,
) -> Result<Json<ProjectFile>, ApiError> {
    Ok(Json(service::undelete(&ctx, &settings, &principal, id).await?))
}

/// Restore a version: its content becomes the file's next version (the chain is kept).
#[utoipa::path(post, path = "/v1/project-files/{id}/versions/{version}/restore", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)),
    responses((status = 200, body = ProjectFile),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`file_quarantined`: the version failed its virus scan", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn restore_project_file(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
) -> Result<Json<ProjectFile>, ApiError> {
    Ok(Json(service::restore(&ctx, &principal, id, version).await?))
}

/// An organization's storage: bytes of distinct content its projects hold, and its allowance.
#[utoipa::path(get, path = "/v1/orgs/{id}/storage", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = StorageUse)))]
pub async fn org_storage(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<CollabSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<StorageUse>, ApiError> {
    Ok(Json(service::storage(&ctx, &settings, &principal, id).await?))
}

/// Set an organization's storage allowance (platform admins). Lowered below what is used, every file
/// stays readable and uploads are refused until it is under again.
#[utoipa::path(put, path = "/v1/orgs/{id}/storage", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = StorageQuota,
    responses((status = 200, body = StorageUse),
              (status = 403, description = "`forbidden`: not a platform admin", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_org_storage(
    State(ctx): State<AppContext>,
    Extension(settings): Extension<Arc<CollabSettings>>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<StorageQuota>,
) -> Result<Json<StorageUse>, ApiError> {
    Ok(Json(service::set_quota(&ctx, &settings, &principal, id, req).await?))
}

/// Move a version's review status: managers and editors put it `in_review` (or back to `draft`, or
/// again after `changes_requested`); managers and the client set `approved` or `changes_requested`.
#[utoipa::path(post, path = "/v1/project-files/{id}/versions/{version}/status", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)), request_body = VersionStatusChange,
    responses((status = 200, body = ProjectFile),
              (status = 403, description = "`transition_not_permitted`: the step is not the caller's", body = ProblemBody, content_type = "application/problem+json"),
              (status = 409, description = "`invalid_transition`: no such step from the version's status", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn set_file_version_status(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
    Json(req): Json<VersionStatusChange>,
) -> Result<Json<ProjectFile>, ApiError> {
    Ok(Json(service::set_status(&ctx, &principal, id, version, req).await?))
}

/// Comment on a version, anchored to a point or region of an image, a time of audio or video, a page of
/// a PDF, or the whole version (all the project's members but viewers).
#[utoipa::path(post, path = "/v1/project-files/{id}/versions/{version}/comments", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)), request_body = NewReviewComment,
    responses((status = 201, body = ReviewComment),
              (status = 403, description = "`read_only`: a viewer", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: an anchor outside the version", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn comment_file_version(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
    Json(req): Json<NewReviewComment>,
) -> Result<(StatusCode, Json<ReviewComment>), ApiError> {
    Ok((StatusCode::CREATED, Json(service::comment(&ctx, &principal, id, version, req).await?)))
}

/// A version's comments, oldest first.
#[utoipa::path(get, path = "/v1/project-files/{id}/versions/{version}/comments", tag = "collab", security(("bearer" = [])),
    params(("id" = FileId, Path), ("version" = i32, Path)), responses((status = 200, body = Vec<ReviewComment>)))]
pub async fn file_version_comments(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path((id, version)): Path<(FileId, i32)>,
) -> Result<Json<Vec<ReviewComment>>, ApiError> {
    Ok(Json(service::comments(&ctx, &principal, id, version).await?))
}

/// Resolve a review comment, or open it again.
#[utoipa::path(put, path = "/v1/review-comments/{id}/resolution", tag = "collab", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CommentResolution,
    responses((status = 200, body = ReviewComment),
              (status = 403, description = "`read_only`: a viewer", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn resolve_review_comment(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<Uuid>,
    Json(req): Json<CommentResolution>,
) -> Result<Json<ReviewComment>, ApiError> {
    Ok(Json(service::resolve(&ctx, &principal, id, req).await?))
}

/// Make a folder in a project (managers and editors): `201` when new, `200` when the project has it.
#[utoipa::path(post, path = "/v1/projects/{id}/folders", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)),
    request_body = NewFolder,
    responses((status = 201, body = Folder), (status = 200, description = "The folder was there", body = Folder),
              (status = 403, description = "`forbidden`: not a manager or editor of the project", body = ProblemBody, content_type = "application/problem+json"),
              (status = 404, description = "no such project, or not yours", body = ProblemBody, content_type = "application/problem+json"),
              (status = 422, description = "`validation_failed`: a bad path", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn new_project_folder(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
    Json(req): Json<NewFolder>,
) -> Result<(StatusCode, Json<Folder>), ApiError> {
    let (folder, created) = service::add_folder(&ctx, &principal, id, req).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(folder)))
}

/// A project's folders: those made, and those its files are in, each with how many files it holds.
#[utoipa::path(get, path = "/v1/projects/{id}/folders", tag = "collab", security(("bearer" = [])),
    params(("id" = ProjectId, Path)),
    responses((status = 200, body = Vec<Folder>),
              (status = 404, description = "no such project, or not yours", body = ProblemBody, content_type = "application/problem+json")))]
pub async fn project_folders(
    State(ctx): State<AppContext>,
    AuthUser(principal): AuthUser,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<Folder>>, ApiError> {
    Ok(Json(service::folders(&ctx, &principal, id).await?))
}
