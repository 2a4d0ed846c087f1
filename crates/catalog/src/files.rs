//! Uploads of files the catalog checks by decoding them (audio, cover art): received into staging,
//! checked there in a blocking thread (no database connection held meanwhile), kept by content, or
//! refused with every problem and nothing left behind; and kept files streamed back.

use std::path::Path;

use platform::error::FieldError;
use platform::storage::Kept;
use platform::{ApiError, AppContext};

use crate::audio::Refusal;

/// The largest file an upload may be.
pub const MAX_FILE_BYTES: u64 = 2_000_000_000;

/// Turns a file check's refusals into a 422 naming the file's field.
pub(crate) fn refused(field: &str, problems: Vec<Refusal>) -> ApiError {
    ApiError::validation(problems.into_iter().map(|r| FieldError::new(field, r.rule, r.message)).collect())
}

/// Receives a body into staging (once the caller's upload is admitted: see
/// [`platform::storage::Storage::admit`]) and checks it with `check`; keeps it when it passes.
pub(crate) async fn receive_checked<T: Send + 'static>(
    ctx: &AppContext,
    principal: &identity::auth::Principal,
    body: axum::body::Body,
    field: &'static str,
    limit: u64,
    check: fn(&Path) -> Result<T, Vec<Refusal>>,
) -> Result<(Kept, T), ApiError> {
    ctx.storage.admit(&ctx.db, principal.user_id.0, principal.client_ip.as_deref(), ctx.clock.now()).await?;
    let staged = ctx.storage.receive(body, limit).await?;
    let path = staged.path().to_owned();
    let checked = tokio::task::spawn_blocking(move || check(&path))
        .await
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("check an upload")))?;
    // A refused file's staging file goes with `staged`.
    let info = checked.map_err(|problems| refused(field, problems))?;
    let kept =
        ctx.storage.keep(staged).await.map_err(|e| platform::storage::unavailable(e.context("keep an upload")))?;
    Ok((kept, info))
}

/// A kept file's bytes as a response body, with its media type: whole (200), or the one byte range a
/// `Range` header asks for (206 with `Content-Range`; 416 when no byte satisfies it), so that players
/// seek and downloads resume. `Accept-Ranges: bytes` says so.
pub(crate) async fn response(
    ctx: &AppContext,
    sha256: &str,
    media_type: &'static str,
    size: i64,
    download_name: &str,
    range: Option<&axum::http::HeaderValue>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{StatusCode, header};
    let size = u64::try_from(size).unwrap_or(0);
    let key = platform::storage::Storage::key_of(sha256);
    let failed = |e: anyhow::Error| ApiError::internal(e.context("read a kept file"));
    let disposition = format!("attachment; filename=\"{}\"", download_name.replace(['"', '\\', '\r', '\n'], "_"));
    let builder = axum::response::Response::builder()
        .header(header::CONTENT_TYPE, media_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, disposition);
    let response = match platform::http::byte_range(range, size) {
        Err(platform::http::Unsatisfiable) => builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{size}"))
            .body(axum::body::Body::empty()),
        Ok(None) => {
            let stream = ctx.storage.read(&key).await.map_err(failed)?;
            builder.header(header::CONTENT_LENGTH, size).body(axum::body::Body::from_stream(stream))
        }
        Ok(Some(range)) => {
            let (first, last, length) = (range.start, range.end - 1, range.end - range.start);
            let stream = ctx.storage.read_range(&key, range).await.map_err(failed)?;
            builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {first}-{last}/{size}"))
                .header(header::CONTENT_LENGTH, length)
                .body(axum::body::Body::from_stream(stream))
        }
    };
    response.map_err(ApiError::internal)
}
