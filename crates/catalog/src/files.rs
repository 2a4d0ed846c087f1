//! Uploads of files the catalog checks by decoding them (audio, cover art): received into staging,
//! checked there in a blocking thread (no database connection held meanwhile), kept by content, or
//! refused with every problem and nothing left behind.

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

/// Receives a body into staging with its MD5 and checks it with `check`; keeps it when it passes (see
/// [`platform::storage::receive_checked`]), else answers 422 naming `field` with every problem.
pub(crate) async fn receive_checked<T: Send + 'static>(
    ctx: &AppContext,
    principal: &identity::auth::Principal,
    body: axum::body::Body,
    field: &'static str,
    limit: u64,
    check: fn(&Path) -> Result<T, Vec<Refusal>>,
) -> Result<(Kept, T), ApiError> {
    let check = move |path: &Path| check(path).map_err(|problems| refused(field, problems));
    // A DDEX delivery names each file by its MD5.
    let digests = platform::storage::Digests::Sha256AndMd5;
    let (user, client) = (principal.user_id.0, principal.client_ip.as_deref());
    platform::storage::receive_checked(ctx, user, client, body, limit, digests, check).await
}
