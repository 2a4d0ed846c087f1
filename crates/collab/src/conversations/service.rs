//! Who may read and write a conversation, channels, threads, and read positions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use platform::{ApiError, AppContext};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Conversation, NewChannel, ReadMark, ReadPosition};
use super::repo::{self, ConversationRow};
use crate::Subjects;
use crate::error::{CollabCode, CollabError};
use crate::model::{ConversationId, ConversationKind, ProjectId};
use crate::projects::service::{managed_project, visible_project};

/// What the caller may do in a conversation, and who hears of its new messages.
#[derive(Debug, Clone)]
pub struct Access {
    pub conversation: ConversationRow,
    pub title: String,
    /// The caller may post.
    pub may_post: bool,
    /// The caller may remove others' messages (a project's managers; platform admins in threads).
    pub moderator: bool,
    /// Told of each new message (a thread's parties); empty for channels, whose readers see unread counts.
    pub people: Vec<Uuid>,
}

/// The conversation, if the caller may read it: a channel by their role in its project, a thread by
/// the rule of the domain that owns its object. Anyone else gets 404, as if it did not exist.
pub async fn access(
    conn: &mut PgConnection,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
) -> Result<Access, ApiError> {
    let conversation = repo::conversation(conn, id).await?.ok_or(CollabError::NotFound("conversation"))?;
    access_to(conn, subjects, principal, conversation).await
}

async fn access_to(
    conn: &mut PgConnection,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationRow,
) -> Result<Access, ApiError> {
    match conversation.kind {
        ConversationKind::Channel => {
            let project = conversation.project_id.ok_or(CollabError::NotFound("conversation"))?;
            let (project, role) = visible_project(conn, principal, project, false).await.map_err(|err| {
                if err.status() == axum::http::StatusCode::NOT_FOUND {
                    CollabError::NotFound("conversation").into()
                } else {
                    err
                }
            })?;
            let title = format!("#{} · {}", conversation.name.as_deref().unwrap_or_default(), project.name);
            Ok(Access {
                conversation,
                title,
                may_post: role.may_post(),
                moderator: role.may_manage(),
                people: Vec::new(),
            })
        }
        ConversationKind::Thread => {
            let (Some(kind), Some(subject)) = (conversation.subject_kind.as_deref(), conversation.subject_id) else {
                return Err(CollabError::NotFound("conversation").into());
            };
            let discussion =
                subjects.check(conn, principal, kind, subject).await?.ok_or(CollabError::NotFound("conversation"))?;
            Ok(Access {
                conversation,
                title: discussion.title,
                may_post: true,
                moderator: principal.has_role("admin"),
                people: discussion.people,
            })
        }
    }
}

/// Opens a channel in a project, in the caller's transaction.
pub(crate) async fn open_channel(
    conn: &mut PgConnection,
    project: ProjectId,
    name: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<ConversationRow, ApiError> {
    Ok(repo::insert_channel(conn, project, name, by, now).await.map_err(CollabError::from)?)
}

pub async fn new_channel(
    ctx: &AppContext,
    principal: &Principal,
    project: ProjectId,
    req: NewChannel,
) -> Result<Conversation, ApiError> {
    let name = req.name.trim().trim_start_matches('#').to_lowercase();
    if !crate::projects::service::valid_slug(&name) {
        return Err(ApiError::invalid_field(
            "name",
            "invalid_format",
            "must be lower-case letters and digits in words joined by single dashes, at most 64",
        ));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, _) = managed_project(&mut tx, principal, project).await?;
    let channel = open_channel(&mut tx, project, &name, principal.user_id.0, now).await?;
    platform::audit::Entry::new(principal.actor(), "project.channel", "project", project)
        .organization(row.organization_id)
        .after(serde_json::json!({"channel": name}))
        .record(&mut tx, now)
        .await?;
    tx.commit().await?;
    let title = format!("#{name} · {}", row.name);
    Ok(Conversation::of(channel, title, true, (0, 0)))
}

pub async fn channels(
    ctx: &AppContext,
    principal: &Principal,
    project: ProjectId,
) -> Result<Vec<Conversation>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, role) = visible_project(&mut conn, principal, project, false).await?;
    let channels = repo::channels(&mut conn, project).await?;
    let ids: Vec<Uuid> = channels.iter().map(|c| c.id.0).collect();
    let counts = counts(&mut conn, principal, &ids).await?;
    Ok(channels
        .into_iter()
        .map(|c| {
            let title = format!("#{} · {}", c.name.as_deref().unwrap_or_default(), row.name);
            let counted = counts.get(&c.id.0).copied().unwrap_or_default();
            Conversation::of(c, title, role.may_post(), counted)
        })
        .collect())
}

/// The thread of one object (made on first use), if the object's domain lets the caller take part.
pub async fn thread(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    kind: &str,
    subject: Uuid,
) -> Result<Conversation, ApiError> {
    let Some(kind) = subjects.kind(kind) else {
        return Err(ApiError::new(
            CollabCode::UnknownSubject,
            format!("Threads attach to: {}.", subjects.kinds().join(", ")),
        ));
    };
    let mut tx = ctx.db.begin().await?;
    let discussion = subjects.check(&mut tx, principal, kind, subject).await?.ok_or(CollabError::NotFound(kind))?;
    let row = repo::thread_of(&mut tx, kind, subject, principal.user_id.0, ctx.clock.now()).await?;
    let counted = counts_of(&mut tx, principal, row.id).await?;
    tx.commit().await?;
    Ok(Conversation::of(row, discussion.title, true, counted))
}

/// Per conversation: the caller's unread messages, and how many of them mention the caller.
async fn counts(
    conn: &mut PgConnection,
    principal: &Principal,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, (i64, i64)>> {
    let mut out: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for (id, n) in repo::unread_counts(conn, principal.user_id.0, ids).await? {
        out.entry(id).or_default().0 = n;
    }
    for (id, n) in repo::mention_counts(conn, principal.user_id.0, ids).await? {
        out.entry(id).or_default().1 = n;
    }
    Ok(out)
}

async fn counts_of(conn: &mut PgConnection, principal: &Principal, id: ConversationId) -> sqlx::Result<(i64, i64)> {
    Ok(counts(conn, principal, &[id.0]).await?.get(&id.0).copied().unwrap_or_default())
}

pub async fn get(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let access = access(&mut conn, subjects, principal, id).await?;
    let counted = counts_of(&mut conn, principal, id).await?;
    Ok(Conversation::of(access.conversation, access.title, access.may_post, counted))
}

/// The conversations the caller follows (their projects' channels, the threads they have read or
/// written in) that they may still read, most recently active first, with unread counts.
pub async fn mine(ctx: &AppContext, subjects: &Subjects, principal: &Principal) -> Result<Vec<Conversation>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let rows = repo::followed(&mut conn, principal.user_id.0, 200).await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id.0).collect();
    let counts = counts(&mut conn, principal, &ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        // A thread whose object the caller can no longer see (they left the booking's side) drops out.
        let access = match access_to(&mut conn, subjects, principal, row).await {
            Ok(access) => access,
            Err(err) if err.status() == axum::http::StatusCode::NOT_FOUND => continue,
            Err(err) => return Err(err),
        };
        let counted = counts.get(&access.conversation.id.0).copied().unwrap_or_default();
        out.push(Conversation::of(access.conversation, access.title, access.may_post, counted));
    }
    Ok(out)
}

pub async fn mark_read(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
    mark: ReadMark,
) -> Result<ReadPosition, ApiError> {
    let now = ctx.clock.now();
    let until = mark.until.unwrap_or(now).min(now);
    let mut tx = ctx.db.begin().await?;
    access(&mut tx, subjects, principal, id).await?;
    let read_until = repo::mark_read(&mut tx, id, principal.user_id.0, until).await?;
    let (unread, mentions) = counts_of(&mut tx, principal, id).await?;
    tx.commit().await?;
    Ok(ReadPosition { conversation_id: id, read_until, unread, mentions })
}
