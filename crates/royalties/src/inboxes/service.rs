//! Setting up inboxes and polling them. The poll never holds a transaction while it talks to the store:
//! it lists the folder, and for each file it has not seen streams it into [`accept_report`] (which keeps
//! it and queues its reading) and records the outcome. A file turned down (a duplicate, not a report) is
//! remembered and not taken again; a failure to reach the store or the database is retried at the next
//! poll. Files are left where they are: the store's folder is the store's.

use std::collections::HashSet;

use identity::auth::Principal;
use platform::jobs::{Job, JobFailure, JobKind, Registry};
use platform::{ApiError, AppContext};
use serde_json::json;
use uuid::Uuid;

use super::dto::{Inbox, InboxFile, InboxList, InboxRequest};
use super::repo::{self, InboxRow};
use crate::error::RoyaltiesError;
use crate::reports::dto::UploadQuery;
use crate::reports::service::{Sender, accept_report, may_manage};

/// Polls every enabled inbox.
pub const POLL: JobKind = JobKind::new("royalties.poll_inboxes").max_attempts(1);

/// The files an inbox's answer lists.
const FILES: i64 = 20;

pub fn register(registry: &mut Registry) {
    registry.register(POLL, |ctx: AppContext, _job: Job| async move { poll_all(ctx).await });
    registry.schedule("royalties.poll_inboxes", "*/5 * * * *", POLL, json!({})).expect("a valid schedule");
}

async fn answer(conn: &mut sqlx::PgConnection, row: InboxRow) -> Result<Inbox, ApiError> {
    let files = repo::files(conn, row.id, FILES).await.map_err(RoyaltiesError::from)?;
    Ok(Inbox::new(row, files.into_iter().map(InboxFile::from).collect()))
}

/// Staff set up a label's inbox (which folder of a store is the label's is the platform's to say: the
/// store's credentials are the platform's); the label's staff read and poll it.
pub async fn create(ctx: &AppContext, principal: &Principal, org: Uuid, req: InboxRequest) -> Result<Inbox, ApiError> {
    if !(principal.has_role("admin") || principal.has_role("staff")) {
        return Err(identity::error::IdentityError::Forbidden("royalties.inboxes".into()).into());
    }
    let format = req.format.as_deref().unwrap_or("dsr").to_owned();
    if !matches!(format.as_str(), "dsr" | "csv") {
        return Err(ApiError::invalid_field("format", "invalid_value", "must be dsr or csv"));
    }
    let mut conn = ctx.db.acquire().await?;
    let store = catalog::store_endpoint(&mut conn, ctx, req.store_id)
        .await
        .map_err(|e| ApiError::internal(e.context("open a store's endpoint")))?;
    let Some((_, _, base)) = store else {
        return Err(ApiError::invalid_field("store_id", "not_found", "is not a store of the registry"));
    };
    let csv_store = req.csv_store.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mapping_saved = match &csv_store {
        Some(name) => {
            crate::reports::repo::csv_mapping(&mut conn, org, name).await.map_err(RoyaltiesError::from)?.is_some()
        }
        None => false,
    };
    match (&format[..], &csv_store) {
        ("csv", None) => return Err(ApiError::invalid_field("csv_store", "required", "name the saved CSV mapping")),
        ("csv", Some(_)) if !mapping_saved => {
            return Err(ApiError::invalid_field("csv_store", "not_found", "no CSV mapping is saved under this name"));
        }
        ("dsr", Some(_)) => {
            return Err(ApiError::invalid_field("csv_store", "not_applicable", "only a CSV inbox has a mapping"));
        }
        _ => {}
    }
    let folder = match req.folder.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(folder) if folder.len() <= 500 && !folder.split('/').any(|p| p == "..") => folder.to_owned(),
        Some(_) => return Err(ApiError::invalid_field("folder", "invalid_value", "must be a folder path without ..")),
        None => catalog::transfer::join(&[&base, "sales-reports"]),
    };
    let now = ctx.clock.now();
    let row = InboxRow {
        id: platform::ids::new_id(),
        org_id: org,
        store_id: req.store_id,
        folder,
        format,
        csv_store,
        enabled: true,
        created_by: principal.user_id.0,
        created_at: now,
        last_polled_at: None,
        last_error: None,
    };
    let mut tx = ctx.db.begin().await?;
    repo::insert(&mut tx, &row).await.map_err(|e| match e.as_database_error().and_then(|d| d.constraint()) {
        Some("royalty_inboxes_org_id_store_id_folder_key") => {
            ApiError::invalid_field("folder", "taken", "the label has an inbox at this store's folder already")
        }
        _ => RoyaltiesError::from(e).into(),
    })?;
    platform::audit::Entry::new(principal.actor(), "royalties.inbox_create", "royalty_inbox", row.id)
        .organization(org)
        .after(json!({"store_id": row.store_id, "folder": row.folder, "format": row.format}))
        .record(&mut tx, now)
        .await?;
    let answer = answer(&mut tx, row).await?;
    tx.commit().await?;
    Ok(answer)
}

pub async fn list(ctx: &AppContext, principal: &Principal, org: Uuid) -> Result<InboxList, ApiError> {
    may_manage(ctx, principal, org).await?;
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::inboxes(&mut conn, None, Some(org), false).await.map_err(RoyaltiesError::from)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(answer(&mut conn, row).await?);
    }
    Ok(InboxList { items })
}

/// Polls one inbox now (the label's staff), and answers it with its files and, when the store could not
/// be read, why.
pub async fn poll_now(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<Inbox, ApiError> {
    let row = {
        let mut conn = ctx.db.acquire().await?;
        repo::inboxes(&mut conn, Some(id), None, false).await.map_err(RoyaltiesError::from)?.pop()
    };
    let row = row.ok_or(RoyaltiesError::NotFound("inbox"))?;
    may_manage(ctx, principal, row.org_id).await?;
    // A store that cannot be reached is said on the inbox (`last_error`), not as a failed request.
    if let Err(err) = poll_recorded(ctx, &row).await {
        tracing::warn!(inbox = %row.id, error = %format!("{err:#}"), "polling a royalty inbox failed");
    }
    let mut conn = ctx.db.acquire().await?;
    let row = repo::inboxes(&mut conn, Some(id), None, false).await.map_err(RoyaltiesError::from)?.pop();
    answer(&mut conn, row.ok_or(RoyaltiesError::NotFound("inbox"))?).await
}

async fn poll_all(ctx: AppContext) -> Result<(), JobFailure> {
    let rows = {
        let mut conn = ctx.db.acquire().await?;
        repo::inboxes(&mut conn, None, None, true).await?
    };
    for row in rows {
        if let Err(err) = poll_recorded(&ctx, &row).await {
            tracing::warn!(inbox = %row.id, error = %format!("{err:#}"), "polling a royalty inbox failed");
        }
    }
    Ok(())
}

/// Polls and records the outcome on the inbox: when it was polled, and why it could not be read.
async fn poll_recorded(ctx: &AppContext, row: &InboxRow) -> anyhow::Result<usize> {
    let result = poll(ctx, row).await;
    let error = result.as_ref().err().map(|e| format!("{e:#}").chars().take(500).collect::<String>());
    let mut conn = ctx.db.acquire().await?;
    repo::polled(&mut conn, row.id, error.as_deref(), ctx.clock.now()).await?;
    result
}

/// The month a CSV file's name gives (`shopco_2026-11.csv`).
pub fn month_in(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(6)).find_map(|i| {
        let candidate = &name[i..i + 7];
        let ok =
            candidate.as_bytes().iter().enumerate().all(|(k, b)| if k == 4 { *b == b'-' } else { b.is_ascii_digit() })
                && (i + 7 == bytes.len() || !bytes[i + 7].is_ascii_digit())
                && (i == 0 || !bytes[i - 1].is_ascii_digit());
        (ok && crate::model::parse_period(candidate).is_some()).then(|| candidate.to_owned())
    })
}

async fn poll(ctx: &AppContext, row: &InboxRow) -> anyhow::Result<usize> {
    let (endpoint, seen) = {
        let mut conn = ctx.db.acquire().await?;
        let store = catalog::store_endpoint(&mut conn, ctx, row.store_id).await?;
        let (_, endpoint, _) = store.ok_or_else(|| anyhow::anyhow!("the store is no longer in the registry"))?;
        (endpoint, repo::seen(&mut conn, row.id).await?.into_iter().collect::<HashSet<_>>())
    };
    let mut store = endpoint.connect().await?;
    let names: Vec<String> =
        store.list(&row.folder).await?.into_iter().filter(|n| !n.starts_with('.') && !seen.contains(n)).collect();
    let sender = Sender { org: row.org_id, by: row.created_by, actor: platform::audit::Actor::default() };
    let mut taken = 0;
    for name in names {
        let path = catalog::transfer::join(&[&row.folder, &name]);
        let period = if row.format == "csv" { month_in(&name) } else { None };
        if row.format == "csv" && period.is_none() {
            let mut conn = ctx.db.acquire().await?;
            let why = "not taken: a CSV file's name must hold its month (YYYY-MM)";
            repo::record(&mut conn, row.id, &name, 0, None, why, ctx.clock.now()).await?;
            continue;
        }
        let (size, stream) = store.read_stream(&path).await?;
        let query = UploadQuery {
            label_id: Some(row.org_id),
            filename: Some(name.clone()),
            format: Some(row.format.clone()),
            store: row.csv_store.clone(),
            period,
            ..Default::default()
        };
        let outcome = accept_report(ctx, &sender, query, axum::body::Body::from_stream(stream)).await;
        let (report, text) = match outcome {
            Ok(report) => (Some(report.id.0), "received".to_owned()),
            Err(err) if err.status().is_client_error() => (None, format!("{}: {}", err.code(), err.detail())),
            Err(err) => anyhow::bail!("taking {name}: {}", err.detail()),
        };
        let mut conn = ctx.db.acquire().await?;
        repo::record(&mut conn, row.id, &name, size as i64, report, &text, ctx.clock.now()).await?;
        taken += usize::from(report.is_some());
        tracing::info!(inbox = %row.id, file = %name, outcome = %text, "a file of a royalty inbox");
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::month_in;

    #[test]
    fn a_file_names_its_month() {
        assert_eq!(month_in("shopco_2026-11.csv").as_deref(), Some("2026-11"));
        assert_eq!(month_in("2026-02 report.csv").as_deref(), Some("2026-02"));
        assert_eq!(month_in("report-2026-13.csv"), None);
        assert_eq!(month_in("x12026-11.csv"), None, "part of a longer number");
        assert_eq!(month_in("sales.csv"), None);
    }
}
