//! Posting, reading, editing and deleting messages; every route asks `conversations::service::access`
//! first, so a message is read or changed only by those who may read its conversation.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use identity::auth::Principal;
use platform::pagination::{Page, PageParams};
use platform::stream::{Hub, Signal};
use platform::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::dto::{Edit, Message, MessageEdit, NewMessage, NotificationLevel, Reaction};
use super::fanout::{self, Shared};
use super::mentions::{self, MAX_REACTIONS};
use super::repo::{self, MessageRow};
use crate::conversations::service::{Access, access};
use crate::error::{CollabCode, CollabError};
use crate::model::{ConversationId, MessageId};
use crate::{CollabSettings, Subjects};

/// The most characters a message holds.
pub const MAX_BODY: usize = 16_000;

pub(crate) fn check_body(body: &str) -> Result<(), ApiError> {
    if body.trim().is_empty() || body.chars().count() > MAX_BODY {
        return Err(ApiError::invalid_field("body", "invalid_length", "must be 1 to 16,000 characters"));
    }
    if body.contains('\0') {
        return Err(ApiError::invalid_field("body", "invalid_character", "must not contain NUL"));
    }
    Ok(())
}

async fn names_of(conn: &mut PgConnection, rows: &[MessageRow]) -> sqlx::Result<HashMap<Uuid, String>> {
    let mut authors: Vec<Uuid> = rows.iter().map(|m| m.author_id).collect();
    authors.sort();
    authors.dedup();
    identity::service::display_names(conn, &authors).await
}

/// The message and the caller's access to its conversation; not found when they may not read it.
async fn visible_message(
    conn: &mut PgConnection,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    lock: bool,
) -> Result<(MessageRow, Access), ApiError> {
    let message = repo::message(conn, id, lock).await?.ok_or(CollabError::NotFound("message"))?;
    let access = access(conn, subjects, principal, message.conversation_id).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::NOT_FOUND { CollabError::NotFound("message").into() } else { e }
    })?;
    Ok((message, access))
}

pub async fn post(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
    req: NewMessage,
) -> Result<Message, ApiError> {
    check_body(&req.body)?;
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let mut access = access(&mut tx, subjects, principal, conversation).await?;
    if req.internal {
        let notes = crate::support::service::notes_of(&mut tx, principal, &access.conversation).await?;
        access = crate::conversations::service::access(&mut tx, subjects, principal, notes).await?;
    }
    let sent_to = conversation;
    let conversation = access.conversation.id;
    if !access.may_post {
        return Err(ApiError::new(CollabCode::ReadOnly, "You may read this conversation but not write in it."));
    }
    if let Some(ticket) = crate::support::service::ticket_of_thread(&access.conversation) {
        crate::support::service::on_message(&mut tx, principal, ticket, now).await?;
    }
    let root = match req.reply_to {
        Some(id) => {
            let replied =
                repo::message(&mut tx, id, false).await?.filter(|m| m.conversation_id == conversation).ok_or_else(
                    || ApiError::invalid_field("reply_to", "not_found", "names no message of this conversation"),
                )?;
            let root = match replied.reply_to {
                Some(root) => repo::message(&mut tx, root, false).await?.ok_or(CollabError::NotFound("message"))?,
                None => replied,
            };
            if root.deleted_at.is_some() {
                return Err(ApiError::new(CollabCode::MessageDeleted, "The thread's first message was deleted."));
            }
            Some(root)
        }
        None => None,
    };
    let row = MessageRow {
        id: MessageId::new(),
        conversation_id: conversation,
        author_id: me,
        body: req.body,
        reply_to: root.as_ref().map(|r| r.id),
        reply_count: 0,
        created_at: now,
        edited_at: None,
        deleted_at: None,
    };
    let mentioned = mentioned(&mut tx, &access, &row.body, me).await?;
    repo::insert(&mut tx, &row).await?;
    crate::attachments::service::attach(
        &mut tx,
        principal,
        sent_to,
        &access,
        row.id,
        &req.attachments,
        &req.files,
        now,
    )
    .await?;
    repo::insert_mentions(&mut tx, row.id, conversation, &mentioned, now).await?;
    crate::conversations::repo::mark_read(&mut tx, conversation, me, now).await?;
    let names = identity::service::display_names(&mut tx, &[me]).await?;
    let author = names.get(&me).cloned().unwrap_or_default();
    tell(&mut tx, &access, &row, root.as_ref(), &mentioned, author, now).await?;
    announce(&mut tx, conversation, "posted", Some(row.id), Some(me)).await?;
    let mut posted = complete(&mut tx, vec![row], me).await?;
    tx.commit().await?;
    posted.pop().ok_or_else(|| CollabError::NotFound("message").into())
}

/// The people a message mentions who may read its conversation: a channel's project members, a
/// thread's parties. `@username` names one person; in a project's channel, `@team-handle` (a team of
/// the project's organization, its name in lower case with other characters as dashes: "Door staff" is
/// `@door-staff`) names each of its members who is on the project. A mention of anyone else tells
/// nobody and is not recorded (it reveals nothing).
async fn mentioned(conn: &mut PgConnection, access: &Access, body: &str, author: Uuid) -> sqlx::Result<Vec<Uuid>> {
    let mut out = Vec::new();
    let project = match access.conversation.project_id {
        Some(id) => crate::projects::repo::project(conn, id, false).await?,
        None => None,
    };
    for name in mentions::usernames(body) {
        let named = match identity::service::user_id_by_username(conn, &name).await? {
            Some(user) => vec![user],
            None => match &project {
                Some(project) => identity::service::organizations::team_by_handle(
                    conn,
                    identity::model::OrgId(project.organization_id),
                    &name,
                )
                .await?
                .unwrap_or_default(),
                None => Vec::new(),
            },
        };
        for user in named {
            if user == author || out.contains(&user) || out.len() >= mentions::MAX_MENTIONS {
                continue;
            }
            let reads = match &project {
                Some(project) => crate::projects::repo::member_role(conn, project.id, user).await?.is_some(),
                None => access.people.contains(&user),
            };
            if reads {
                out.push(user);
            }
        }
    }
    Ok(out)
}

/// Adds the mentions and reactions of a page's messages.
pub(crate) async fn complete(
    conn: &mut PgConnection,
    rows: Vec<MessageRow>,
    reader: Uuid,
) -> sqlx::Result<Vec<Message>> {
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id.0).collect();
    let names = names_of(conn, &rows).await?;
    let mentions = repo::mentions_of(conn, &ids).await?;
    let reactions = repo::reactions_of(conn, &ids, reader).await?;
    let pins = repo::pins_of(conn, &ids).await?;
    let mut files = crate::attachments::service::of_messages(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| Message::of(r, &names).with(&mentions, &reactions).pinned(&pins).attached(&mut files))
        .collect())
}

/// Tells the thread's parties of a new message, and the author of the message replied to of the
/// reply (once each; never the writer).
async fn tell(
    conn: &mut PgConnection,
    access: &Access,
    row: &MessageRow,
    root: Option<&MessageRow>,
    mentioned: &[Uuid],
    author: String,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let excerpt: String = row.body.chars().take(140).collect();
    // Each person's level in this conversation: `none` hears nothing, `mentions` only mentions and
    // replies, `all` every message (following: in a channel, a member who chose it).
    let levels = repo::levels(conn, row.conversation_id).await?;
    let level = |user: Uuid| levels.iter().find(|(u, _)| *u == user).map(|(_, l)| l.as_str());
    let mut followers = Vec::new();
    for (user, l) in &levels {
        if l == "all" && !access.people.contains(user) {
            let reads = match access.conversation.project_id {
                Some(project) => crate::projects::repo::member_role(conn, project, *user).await?.is_some(),
                None => false,
            };
            if reads {
                followers.push(*user);
            }
        }
    }
    let mentioned: Vec<Uuid> = mentioned.iter().copied().filter(|u| level(*u) != Some("none")).collect();
    let replied_to = root
        .map(|r| r.author_id)
        .filter(|a| *a != row.author_id && !mentioned.contains(a) && level(*a) != Some("none"));
    let mut others: Vec<Uuid> = access
        .people
        .iter()
        .chain(&followers)
        .copied()
        .filter(|p| *p != row.author_id && Some(*p) != replied_to && !mentioned.contains(p))
        .filter(|p| !matches!(level(*p), Some("none" | "mentions")))
        .collect();
    others.sort();
    others.dedup();
    let data = json!({"subject": access.title, "conversation_id": row.conversation_id, "message_id": row.id,
                      "author": author, "excerpt": excerpt});
    crate::notify_users(conn, mentioned, "conversation.mention", data.clone(), now).await?;
    crate::notify_users(conn, others, "conversation.message", data.clone(), now).await?;
    if let Some(user) = replied_to {
        crate::notify_users(conn, vec![user], "conversation.reply", data, now).await?;
    }
    Ok(())
}

/// The conversation's first messages (replies are under each), newest first.
pub async fn list(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
    page: &PageParams,
) -> Result<Page<Message>, ApiError> {
    let limit = page.limit()?;
    let before: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    access(&mut conn, subjects, principal, conversation).await?;
    let rows = repo::top_level(&mut conn, conversation, before, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    let items = complete(&mut conn, page.items, principal.user_id.0).await?;
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// The replies to a message, oldest first.
pub async fn replies(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    page: &PageParams,
) -> Result<Page<Message>, ApiError> {
    let limit = page.limit()?;
    let after: Option<(DateTime<Utc>, Uuid)> = page.cursor()?;
    let mut conn = ctx.db.acquire().await?;
    visible_message(&mut conn, subjects, principal, id, false).await?;
    let rows = repo::replies(&mut conn, id, after, i64::from(limit) + 1).await?;
    let page = Page::from_overfetch(rows, limit, |r| (r.created_at, r.id.0));
    let items = complete(&mut conn, page.items, principal.user_id.0).await?;
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// Replaces a message's text: its author only, until `edit_window` has passed since it was posted
/// (at exactly 15 minutes it is closed). The text replaced is kept.
pub async fn edit(
    ctx: &AppContext,
    settings: &CollabSettings,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    req: MessageEdit,
) -> Result<Message, ApiError> {
    check_body(&req.body)?;
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let (mut row, access) = visible_message(&mut tx, subjects, principal, id, true).await?;
    if row.author_id != me {
        return Err(ApiError::new(CollabCode::NotTheAuthor, "Only the message's author edits it."));
    }
    if row.deleted_at.is_some() {
        return Err(ApiError::new(CollabCode::MessageDeleted, "The message was deleted."));
    }
    if now >= row.created_at + settings.edit_window {
        return Err(ApiError::new(
            CollabCode::EditWindowClosed,
            format!("A message is edited within {} minutes of posting it.", settings.edit_window.num_minutes()),
        ));
    }
    if row.body != req.body {
        repo::edit(&mut tx, id, &row.body, &req.body, me, now).await?;
        row.body = req.body;
        row.edited_at = Some(now);
        // Someone the new text mentions for the first time is told, as on posting.
        let before: Vec<Uuid> = repo::mentions_of(&mut tx, &[id.0]).await?.into_iter().map(|(_, u)| u).collect();
        let added: Vec<Uuid> =
            mentioned(&mut tx, &access, &row.body, me).await?.into_iter().filter(|u| !before.contains(u)).collect();
        if !added.is_empty() {
            repo::insert_mentions(&mut tx, id, row.conversation_id, &added, now).await?;
            let names = identity::service::display_names(&mut tx, &[me]).await?;
            let excerpt: String = row.body.chars().take(140).collect();
            let data = json!({"subject": access.title, "conversation_id": row.conversation_id, "message_id": id,
                              "author": names.get(&me).cloned().unwrap_or_default(), "excerpt": excerpt});
            crate::notify_users(&mut tx, added, "conversation.mention", data, now).await?;
        }
        announce(&mut tx, row.conversation_id, "edited", Some(id), Some(me)).await?;
    }
    let mut page = complete(&mut tx, vec![row], me).await?;
    tx.commit().await?;
    Ok(page.remove(0))
}

/// A message's earlier texts, oldest first (none once it is deleted).
pub async fn edits(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
) -> Result<Vec<Edit>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, _) = visible_message(&mut conn, subjects, principal, id, false).await?;
    if row.deleted_at.is_some() {
        return Ok(Vec::new());
    }
    Ok(repo::edits(&mut conn, id).await?.into_iter().map(Edit::from).collect())
}

/// Deletes a message (its author, or a moderator of the conversation): it keeps its place, without
/// its text. Deleting it again changes nothing.
pub async fn delete(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let (row, access) = visible_message(&mut tx, subjects, principal, id, true).await?;
    if row.author_id != me && !access.moderator {
        return Err(ApiError::new(
            platform::PlatformCode::Forbidden,
            "Only the message's author or a moderator of the conversation deletes it.",
        ));
    }
    if row.deleted_at.is_none() {
        repo::delete(&mut tx, id, me, now).await?;
        announce(&mut tx, row.conversation_id, "deleted", Some(id), Some(me)).await?;
        if row.author_id != me {
            platform::audit::Entry::new(principal.actor(), "message.delete", "message", id)
                .before(json!({"author": row.author_id, "conversation": row.conversation_id}))
                .record(&mut tx, now)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Reacts to a message with an emoji (or a shortcode): one reaction per person per emoji, so reacting
/// again changes nothing; a message holds at most 50 distinct emoji. Those who may post may react.
pub async fn react(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    emoji: &str,
) -> Result<Vec<Reaction>, ApiError> {
    if !mentions::is_emoji(emoji) {
        return Err(ApiError::invalid_field(
            "emoji",
            "invalid_value",
            "must be one emoji (up to 8 code points) or a shortcode such as :thumbsup:",
        ));
    }
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    // The message's lock makes "at most 50 distinct" hold when many react with new emoji at once.
    let (row, access) = visible_message(&mut tx, subjects, principal, id, true).await?;
    if row.deleted_at.is_some() {
        return Err(ApiError::new(CollabCode::MessageDeleted, "The message was deleted."));
    }
    if !access.may_post {
        return Err(ApiError::new(CollabCode::ReadOnly, "You may read this conversation but not react in it."));
    }
    let (kinds, present) = repo::reaction_kinds(&mut tx, id, emoji).await?;
    if !present && kinds >= MAX_REACTIONS {
        return Err(ApiError::new(
            CollabCode::TooManyReactions,
            format!("The message has {kinds} distinct reactions, the most it holds; add to one of them."),
        ));
    }
    repo::add_reaction(&mut tx, id, emoji, me, now).await?;
    announce(&mut tx, row.conversation_id, "reacted", Some(id), Some(me)).await?;
    let reactions = repo::reactions_of(&mut tx, &[id.0], me).await?;
    tx.commit().await?;
    Ok(reactions.into_iter().map(|r| Reaction { emoji: r.emoji, count: r.count, mine: r.mine }).collect())
}

/// Takes back the caller's reaction (there being none changes nothing).
pub async fn unreact(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
    emoji: &str,
) -> Result<(), ApiError> {
    let mut tx = ctx.db.begin().await?;
    let (row, _) = visible_message(&mut tx, subjects, principal, id, true).await?;
    repo::remove_reaction(&mut tx, id, emoji, principal.user_id.0).await?;
    announce(&mut tx, row.conversation_id, "reacted", Some(id), Some(principal.user_id.0)).await?;
    tx.commit().await?;
    Ok(())
}

/// One message, for those who may read its conversation.
pub async fn one(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
) -> Result<Message, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let (row, _) = visible_message(&mut conn, subjects, principal, id, false).await?;
    let mut page = complete(&mut conn, vec![row], principal.user_id.0).await?;
    Ok(page.remove(0))
}

/// The topic a conversation's changes are announced on, to every node's streams.
fn topic(id: ConversationId) -> String {
    format!("conversation:{id}")
}

/// What is announced: a kind of change and whom or what it concerns (ids only: a notification's payload
/// is small, and each follower reads the message as they may see it).
#[derive(Debug, Serialize, Deserialize)]
struct Note {
    /// The announcement's own id: a node's followers share what is read for it (`fanout`).
    #[serde(default)]
    id: Option<Uuid>,
    /// `posted`, `edited`, `deleted`, `reacted`, `typing`, `arrived` or `left`.
    kind: String,
    message_id: Option<MessageId>,
    user: Option<Uuid>,
}

async fn announce(
    conn: &mut PgConnection,
    conversation: ConversationId,
    kind: &str,
    message_id: Option<MessageId>,
    user: Option<Uuid>,
) -> sqlx::Result<()> {
    let note = Note { id: Some(Uuid::now_v7()), kind: kind.to_owned(), message_id, user };
    platform::stream::announce(conn, &topic(conversation), &json!(note)).await
}

/// A change a follower of a conversation is sent.
#[derive(Debug, Clone)]
pub enum Change {
    /// A new message, or one edited or reacted to, as the follower sees it.
    Message { message: Message, new: bool },
    /// A message deleted.
    Deleted(MessageId),
    /// Someone is writing.
    Typing { user: Uuid, name: String },
    /// Someone opened the conversation (their first connection to it), or closed it (their last).
    Presence { user: Uuid, name: String, here: bool },
    /// Changes may have been missed (the node's listener reconnected, or the follower fell behind):
    /// read the conversation again.
    Resync,
}

/// How often one person may say they are writing in one conversation: clients send it every few
/// seconds; more is refused with `429` and `Retry-After`, across nodes.
pub const TYPING_LIMIT: platform::ratelimit::Limit =
    platform::ratelimit::Limit::new(10, std::time::Duration::from_secs(10));

/// Tells the conversation's followers that the caller is writing (clients send it every few seconds
/// while the writer types). Nothing is stored.
pub async fn typing(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
) -> Result<(), ApiError> {
    let mut tx = ctx.db.begin().await?;
    let access = access(&mut tx, subjects, principal, id).await?;
    if !access.may_post {
        return Err(ApiError::new(CollabCode::ReadOnly, "You may read this conversation but not write in it."));
    }
    let key = format!("typing:{}:{id}", principal.user_id);
    platform::ratelimit::hit(&mut *tx, &key, TYPING_LIMIT, ctx.clock.now()).await?;
    announce(&mut tx, id, "typing", None, Some(principal.user_id.0)).await?;
    tx.commit().await?;
    Ok(())
}

/// Server-Sent Events of a conversation's changes for one follower, each made into its event by
/// `render`; the stream ends when the follower may no longer read the conversation.
pub async fn follow_with<R>(
    ctx: &AppContext,
    hub: &Arc<Hub>,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
    render: R,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<R>>, ApiError>
where
    R: Fn(Change) -> Event + Send + Sync + 'static,
{
    // Subscribe before checking, so nothing announced in between is missed.
    let rx = hub.subscribe();
    access(&mut *ctx.db.acquire().await?, subjects, principal, id).await?;
    let presence = Presence::arrive(ctx, id, principal.user_id.0).await?;
    let state = Follower {
        _presence: presence,
        ctx: ctx.clone(),
        subjects: subjects.clone(),
        principal: principal.clone(),
        conversation: id,
        topic: topic(id),
        rx,
    };
    let render = Arc::new(render);
    let events = futures_util::stream::unfold(state, move |mut s| {
        let render = render.clone();
        async move {
            loop {
                let change = match s.rx.recv().await {
                    Ok(Signal::Topic(topic, data)) if *topic == *s.topic => {
                        let Ok(note) = serde_json::from_value::<Note>((*data).clone()) else { continue };
                        s.change(note).await
                    }
                    Ok(Signal::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        s.still_reads().await.then_some(Some(Change::Resync))
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Closed) => None,
                };
                match change {
                    Some(Some(change)) => return Some((Ok(render(change)), s)),
                    Some(None) => {}
                    None => return None,
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}

/// How often an open stream says its follower is still here.
const STILL_HERE: std::time::Duration = std::time::Duration::from_secs(30);

/// A follower's presence in a conversation for as long as their stream is open: counted when it opens
/// (the others told when they arrive), refreshed every 30 seconds, and given up when the stream is
/// dropped (the others told when it was their last connection).
struct Presence {
    ctx: AppContext,
    conversation: ConversationId,
    user: Uuid,
    refresh: tokio::task::JoinHandle<()>,
}

impl Presence {
    async fn arrive(ctx: &AppContext, conversation: ConversationId, user: Uuid) -> Result<Self, ApiError> {
        let mut tx = ctx.db.begin().await?;
        if crate::conversations::repo::arrive(&mut tx, conversation, user, ctx.clock.now()).await? {
            announce(&mut tx, conversation, "arrived", None, Some(user)).await?;
        }
        tx.commit().await?;
        let refreshing = ctx.clone();
        let refresh = tokio::spawn(async move {
            let mut tick = tokio::time::interval(STILL_HERE);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Ok(mut conn) = refreshing.db.acquire().await {
                    let now = refreshing.clock.now();
                    if let Err(e) = crate::conversations::repo::still_here(&mut conn, conversation, user, now).await {
                        tracing::warn!(error = %e, "presence not refreshed");
                    }
                }
            }
        });
        Ok(Self { ctx: ctx.clone(), conversation, user, refresh })
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        self.refresh.abort();
        let (ctx, conversation, user) = (self.ctx.clone(), self.conversation, self.user);
        tokio::spawn(async move {
            let left = async {
                let mut tx = ctx.db.begin().await?;
                if crate::conversations::repo::depart(&mut tx, conversation, user).await? {
                    announce(&mut tx, conversation, "left", None, Some(user)).await?;
                }
                tx.commit().await
            };
            if let Err(e) = left.await {
                tracing::warn!(error = %e, "presence not given up; it lapses in 90 seconds");
            }
        });
    }
}

struct Follower {
    /// Held for the stream's life: dropped with it.
    _presence: Presence,
    ctx: AppContext,
    subjects: Subjects,
    principal: Principal,
    conversation: ConversationId,
    topic: String,
    rx: broadcast::Receiver<Signal>,
}

impl Follower {
    /// Whether the follower may still read the conversation by the full rule. Only a refusal ends their
    /// stream: a moment without the database (a connection not to be had, a restart) keeps it open, or
    /// a follower would miss what comes next while their page reconnects.
    async fn still_reads(&self) -> bool {
        let Ok(mut conn) = self.ctx.db.acquire().await else { return true };
        match access(&mut conn, &self.subjects, &self.principal, self.conversation).await {
            Ok(_) => true,
            Err(err) => !matches!(err.status(), axum::http::StatusCode::NOT_FOUND | axum::http::StatusCode::FORBIDDEN),
        }
    }

    /// Whether the follower may still read the conversation: by plain membership (read once a node for
    /// the announcement, else in one statement), else by the full rule (an organization's project
    /// manager, a thread's party).
    async fn reads(&self, announcement: Option<Uuid>) -> bool {
        let me = self.principal.user_id.0;
        if let Some(announcement) = announcement
            && let Some(shared) = fanout::readers(&self.ctx, announcement, self.conversation).await
            && let Shared::Readers(readers) = &*shared
            && readers.contains(&me)
        {
            return true;
        }
        if let Ok(mut conn) = self.ctx.db.acquire().await
            && let Ok(true) = crate::conversations::repo::member_reads(&mut conn, self.conversation, me).await
        {
            return true;
        }
        self.still_reads().await
    }

    /// The change to send for an announcement: `None` ends the stream (the follower may no longer read
    /// the conversation), `Some(None)` sends nothing (their own typing). What the announcement is about
    /// is read once on this node and shared by its followers (`fanout`); whether each may still read the
    /// conversation is asked for each.
    async fn change(&self, note: Note) -> Option<Option<Change>> {
        match (note.kind.as_str(), note.message_id, note.user) {
            (kind @ ("typing" | "arrived" | "left"), _, Some(user)) => {
                if user == self.principal.user_id.0 {
                    return Some(None);
                }
                if !self.reads(note.id).await {
                    return None;
                }
                let shared = match note.id {
                    Some(announcement) => fanout::name(&self.ctx, announcement, user).await,
                    None => None,
                };
                let name = match shared.as_deref() {
                    Some(Shared::Name(name)) => name.clone(),
                    _ => {
                        let mut conn = self.ctx.db.acquire().await.ok()?;
                        let mut names = identity::service::display_names(&mut conn, &[user]).await.ok()?;
                        names.remove(&user).unwrap_or_default()
                    }
                };
                Some(Some(match kind {
                    "typing" => Change::Typing { user, name },
                    _ => Change::Presence { user, name, here: kind == "arrived" },
                }))
            }
            (kind, Some(message), _) => {
                let shared = match note.id {
                    Some(announcement) => fanout::message(&self.ctx, announcement, message).await,
                    None => None,
                };
                let m = match shared.as_deref() {
                    Some(Shared::Message(read)) if read.message().conversation_id == self.conversation => {
                        if !self.reads(note.id).await {
                            return None;
                        }
                        read.for_reader(self.principal.user_id.0)
                    }
                    _ => match one(&self.ctx, &self.subjects, &self.principal, message).await {
                        Ok(m) => m,
                        Err(err) if err.status() == axum::http::StatusCode::NOT_FOUND => return None,
                        Err(_) => return Some(Some(Change::Resync)),
                    },
                };
                Some(Some(if m.deleted {
                    Change::Deleted(m.id)
                } else {
                    Change::Message { message: m, new: kind == "posted" }
                }))
            }
            _ => Some(None),
        }
    }
}

/// The most messages one conversation keeps pinned.
pub const MAX_PINS: i64 = 50;

/// Pins a message to its conversation (those who may post may; pinning again changes nothing). A
/// conversation keeps at most 50 pinned.
pub async fn pin(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
) -> Result<Message, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (row, access) = visible_message(&mut tx, subjects, principal, id, false).await?;
    if !access.may_post {
        return Err(ApiError::new(CollabCode::ReadOnly, "You may read this conversation but not pin in it."));
    }
    if row.deleted_at.is_some() {
        return Err(ApiError::new(CollabCode::MessageDeleted, "The message was deleted."));
    }
    // The conversation's row is the lock that keeps the count.
    crate::conversations::repo::lock(&mut tx, row.conversation_id).await?;
    if repo::pins_of(&mut tx, &[id.0]).await?.is_empty() {
        let pinned = repo::pin_count(&mut tx, row.conversation_id).await?;
        if pinned >= MAX_PINS {
            return Err(ApiError::new(
                CollabCode::TooManyPins,
                format!("The conversation has {pinned} pinned messages, the most it keeps; unpin one first."),
            ));
        }
        repo::pin(&mut tx, id, row.conversation_id, principal.user_id.0, now).await?;
        announce(&mut tx, row.conversation_id, "edited", Some(id), Some(principal.user_id.0)).await?;
    }
    let mut page = complete(&mut tx, vec![row], principal.user_id.0).await?;
    tx.commit().await?;
    Ok(page.remove(0))
}

/// Unpins a message (those who may post may).
pub async fn unpin(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: MessageId,
) -> Result<(), ApiError> {
    let mut tx = ctx.db.begin().await?;
    let (row, access) = visible_message(&mut tx, subjects, principal, id, false).await?;
    if !access.may_post {
        return Err(ApiError::new(CollabCode::ReadOnly, "You may read this conversation but not unpin in it."));
    }
    if repo::unpin(&mut tx, id).await? {
        announce(&mut tx, row.conversation_id, "edited", Some(id), Some(principal.user_id.0)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A conversation's pinned messages, most recently pinned first.
pub async fn pins(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
) -> Result<Vec<Message>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    access(&mut conn, subjects, principal, conversation).await?;
    let rows = repo::pinned(&mut conn, conversation).await?;
    Ok(complete(&mut conn, rows, principal.user_id.0).await?)
}

/// The caller's level in a conversation: what they chose, else `mentions` in a channel and `all`
/// elsewhere.
pub async fn level(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
) -> Result<NotificationLevel, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let access = access(&mut conn, subjects, principal, conversation).await?;
    let chosen = repo::levels(&mut conn, conversation).await?.into_iter().find(|(u, _)| *u == principal.user_id.0);
    let default = if access.conversation.project_id.is_some() { "mentions" } else { "all" };
    Ok(NotificationLevel { level: chosen.map_or_else(|| default.to_owned(), |(_, l)| l) })
}

/// Sets the caller's level in a conversation: `all` follows it, `mentions`, `none` mutes it.
pub async fn set_level(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    conversation: ConversationId,
    req: NotificationLevel,
) -> Result<NotificationLevel, ApiError> {
    let level = req.level.trim();
    if !["all", "mentions", "none"].contains(&level) {
        return Err(ApiError::invalid_field("level", "invalid_value", "must be all, mentions or none"));
    }
    let mut tx = ctx.db.begin().await?;
    access(&mut tx, subjects, principal, conversation).await?;
    repo::set_level(&mut tx, conversation, principal.user_id.0, level, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(NotificationLevel { level: level.to_owned() })
}
