//! The notification center's rules: dispatching an event to each recipient's chosen channels (in-app,
//! email; webhooks for organization events), the notification center itself, and its templates.

use identity::auth::Principal;
use identity::authz::{self, Target};
use identity::error::IdentityError;
use platform::jobs::JobFailure;
use platform::mail::{self, Message};
use platform::pagination::{Page, PageParams};
use platform::ratelimit::{self, Limit};
use platform::{ApiError, AppContext, FieldError};
use serde_json::{Value, json};
use uuid::Uuid;

use super::dto;
use super::repo::{self, NewNotification};
use super::template::{self, Escape};

/// Emails one user may receive per hour; notifications beyond it stay in-app only.
pub const EMAIL_LIMIT: Limit = Limit::new(20, std::time::Duration::from_secs(3600));

/// Whether `user` wants `kind` on `channel`: their preference if set, else the default.
fn wants(prefs: &Value, kind: &str, channel: &str, default: bool) -> bool {
    prefs.get(kind).and_then(|c| c.get(channel)).and_then(Value::as_bool).unwrap_or(default)
}

/// The `events.dispatch` job: one event to every recipient's channels and the organization's webhooks.
/// Idempotent: an event is dispatched once, and its notifications are unique per user.
pub async fn dispatch(ctx: &AppContext, event_id: Uuid) -> Result<(), JobFailure> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let Some(event) = platform::events::get(&mut tx, event_id, true).await? else {
        return Err(JobFailure::permanent(format!("no event {event_id}")));
    };
    if event.dispatched_at.is_some() {
        return Ok(());
    }
    let template = repo::template(&mut *tx, &event.kind).await?;
    for user in identity::service::recipients(&mut tx, &event.recipients).await? {
        if matches!(user.status, identity::model::UserStatus::Deleted | identity::model::UserStatus::Suspended) {
            continue;
        }
        let mut vars = event.data.clone();
        if let Some(map) = vars.as_object_mut() {
            map.entry("display_name").or_insert_with(|| json!(user.display_name));
            map.entry("username").or_insert_with(|| json!(user.username));
        }
        let (title, body, body_html, email_default) = match &template {
            Some(t) => (
                template::render(&t.title, &vars, Escape::Text),
                template::render(&t.body, &vars, Escape::Text),
                template::render(&t.body, &vars, Escape::Html),
                t.email,
            ),
            None => (event.kind.clone(), String::new(), String::new(), false),
        };
        if wants(&user.notification_prefs, &event.kind, "in_app", true) {
            let notification = NewNotification {
                id: platform::ids::new_id(),
                user: user.id,
                event: event.id,
                kind: &event.kind,
                title: &title,
                body: &body,
                data: &event.data,
                now,
            };
            repo::insert_notification(&mut tx, &notification).await?;
        }
        if wants(&user.notification_prefs, &event.kind, "email", email_default) {
            match ratelimit::hit(&mut *tx, &format!("email:{}", user.id), EMAIL_LIMIT, now).await {
                Ok(()) => {
                    let body_text = format!(
                        "{body}\n\n-- \nYou receive this because of your Backline notification settings ({}).\n",
                        event.kind
                    );
                    let body_html = Some(format!(
                        "<!doctype html><html><body><h1>{}</h1><p>{}</p><hr><p><small>You receive this because of \
                         your Backline notification settings ({}).</small></p></body></html>",
                        template::html_escape(&title),
                        body_html.replace('\n', "<br>"),
                        template::html_escape(&event.kind),
                    ));
                    let message = Message { to: user.email.clone(), subject: title.clone(), body_text, body_html };
                    mail::enqueue(&mut tx, &message, now).await?;
                }
                Err(_) => tracing::info!(user = %user.id, kind = %event.kind, "email limit reached; in-app only"),
            }
        }
    }
    if let Some(org) = event.organization_id {
        crate::webhooks::service::fan_out(&mut tx, &event, org, now).await?;
    }
    platform::events::mark_dispatched(&mut tx, event.id, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn notifications(
    ctx: &AppContext,
    principal: &Principal,
    q: dto::NotificationQuery,
) -> Result<dto::NotificationList, ApiError> {
    authz::authorize(principal, "notifications.read", Target::OwnedBy(principal.user_id))?;
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = page.limit()?;
    let before: Option<Uuid> = page.cursor()?;
    let rows = repo::notifications(&ctx.db, principal.user_id.0, q.unread_only, before, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |n| n.id);
    Ok(dto::NotificationList {
        items: page.items.into_iter().map(dto::Notification::from).collect(),
        next_cursor: page.next_cursor,
    })
}

pub async fn unread_count(ctx: &AppContext, principal: &Principal) -> Result<dto::UnreadCount, ApiError> {
    authz::authorize(principal, "notifications.read", Target::OwnedBy(principal.user_id))?;
    Ok(dto::UnreadCount { unread: repo::unread_count(&ctx.db, principal.user_id.0).await? })
}

pub async fn mark_read(ctx: &AppContext, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    authz::authorize(principal, "notifications.read", Target::OwnedBy(principal.user_id))?;
    // Another user's notification is not found: ids are never confirmed to strangers.
    if !repo::mark_read(&ctx.db, principal.user_id.0, id, ctx.clock.now()).await? {
        return Err(IdentityError::NotFound("notification").into());
    }
    Ok(())
}

pub async fn mark_all_read(ctx: &AppContext, principal: &Principal) -> Result<dto::Updated, ApiError> {
    authz::authorize(principal, "notifications.read", Target::OwnedBy(principal.user_id))?;
    Ok(dto::Updated { updated: repo::mark_all_read(&ctx.db, principal.user_id.0, ctx.clock.now()).await? })
}

pub async fn templates(ctx: &AppContext, principal: &Principal) -> Result<dto::NotificationTemplateList, ApiError> {
    authz::authorize(principal, "notification_templates.manage", Target::Platform)?;
    let items = repo::templates(&ctx.db).await?.into_iter().map(dto::NotificationTemplate::from).collect();
    Ok(dto::NotificationTemplateList { items })
}

pub async fn save_template(
    ctx: &AppContext,
    principal: &Principal,
    kind: &str,
    req: dto::NotificationTemplateRequest,
    meta: &platform::http::ClientMeta,
) -> Result<dto::NotificationTemplate, ApiError> {
    authz::authorize(principal, "notification_templates.manage", Target::Platform)?;
    let mut errors = Vec::new();
    let kind_ok = kind.contains('.')
        && kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !kind_ok {
        errors.push(FieldError::new("kind", "invalid_format", "must be an event kind such as account.verified"));
    }
    let title = req.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new("title", "invalid_length", "must be 1 to 200 characters"));
    }
    if req.body.trim().is_empty() || req.body.chars().count() > 10_000 {
        errors.push(FieldError::new("body", "invalid_length", "must be 1 to 10000 characters"));
    }
    for (field, text) in [("title", &title), ("body", &req.body)] {
        if template::variables(text)
            .iter()
            .any(|v| v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            errors.push(FieldError::new(
                field,
                "invalid_variable",
                "variables are {{name}} with letters, digits and _",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = ctx.clock.now();
    let template =
        repo::TemplateRow { kind: kind.to_owned(), title, body: req.body, email: req.email, updated_at: now };
    let mut tx = ctx.db.begin().await?;
    let before = repo::template(&mut *tx, kind).await?;
    repo::upsert_template(&mut tx, &template).await?;
    let mut entry =
        platform::audit::Entry::new(principal.actor(), "notification_template.save", "notification_template", kind)
            .after(json!({"title": template.title, "body": template.body, "email": template.email}))
            .ip(meta.ip.as_deref());
    if let Some(b) = before {
        entry = entry.before(json!({"title": b.title, "body": b.body, "email": b.email}));
    }
    entry.record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(template.into())
}
