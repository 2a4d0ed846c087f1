//! Who may read and write a conversation, channels, threads, and read positions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use identity::auth::Principal;
use platform::{ApiError, AppContext};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Conversation, ConversationMember, NewChannel, NewConversation, ReadMark, ReadPosition};
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
    /// Told of each new message (a thread's parties, a direct conversation's or a group's other people);
    /// empty for channels, whose readers see unread counts.
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
        ConversationKind::Direct | ConversationKind::Group => {
            let me = principal.user_id.0;
            let members = repo::members(conn, conversation.id).await?;
            if !members.contains(&me) {
                return Err(CollabError::NotFound("conversation").into());
            }
            let people: Vec<Uuid> = members.into_iter().filter(|m| *m != me).collect();
            let names = match &conversation.title {
                Some(_) => HashMap::new(),
                None => identity::service::display_names(conn, &people).await?,
            };
            let title = people_title(conversation.title.as_deref(), &people, &names);
            Ok(Access { conversation, title, may_post: true, moderator: false, people })
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

/// A direct conversation's or a group's title: the one it was given, else its other members' names.
pub(crate) fn people_title(title: Option<&str>, people: &[Uuid], names: &HashMap<Uuid, String>) -> String {
    match title {
        Some(title) => title.to_owned(),
        None => people.iter().filter_map(|p| names.get(p).cloned()).collect::<Vec<_>>().join(", "),
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

/// Who is in the conversation now (whose live stream of it is open, on any node), for those who may
/// read it.
pub async fn presence(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
) -> Result<Vec<super::dto::Present>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    access(&mut conn, subjects, principal, id).await?;
    let here = repo::present(&mut conn, id, ctx.clock.now()).await?;
    let users: Vec<Uuid> = here.iter().map(|(u, _)| *u).collect();
    let names = identity::service::display_names(&mut conn, &users).await?;
    Ok(here
        .into_iter()
        .map(|(user_id, since)| super::dto::Present {
            name: names.get(&user_id).cloned().unwrap_or_default(),
            user_id,
            since,
        })
        .collect())
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

/// The most people a group holds.
pub const MAX_GROUP: usize = 50;

/// Checks that each of `users` is an active user other than the caller; answers them without repeats.
async fn others(conn: &mut PgConnection, field: &str, me: Uuid, users: &[Uuid]) -> Result<Vec<Uuid>, ApiError> {
    let mut out: Vec<Uuid> = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let field = if users.len() == 1 && field == "user_id" { field.to_owned() } else { format!("{field}[{i}]") };
        if *user == me {
            return Err(ApiError::invalid_field(field, "is_self", "is you; name the others"));
        }
        if !identity::service::is_active_user(conn, identity::model::UserId(*user)).await? {
            return Err(ApiError::invalid_field(field, "unknown_user", "names no active user"));
        }
        if !out.contains(user) {
            out.push(*user);
        }
    }
    Ok(out)
}

/// Opens a direct conversation with someone (the one there is, if the two have one), or a group with a
/// title and up to 49 others.
pub async fn start(
    ctx: &AppContext,
    principal: &Principal,
    req: NewConversation,
) -> Result<(bool, Conversation), ApiError> {
    let now = ctx.clock.now();
    let me = principal.user_id.0;
    let mut tx = ctx.db.begin().await?;
    let (made, row) = match req.kind.as_str() {
        "direct" => {
            let Some(user) = req.user_id else {
                return Err(ApiError::invalid_field("user_id", "required", "names whom to write to"));
            };
            others(&mut tx, "user_id", me, &[user]).await?;
            repo::direct_between(&mut tx, me, user, now).await?
        }
        "group" => {
            let title = req.title.as_deref().map(str::trim).unwrap_or_default().to_owned();
            if title.is_empty() || title.chars().count() > 100 {
                return Err(ApiError::invalid_field("title", "invalid_length", "must be 1 to 100 characters"));
            }
            if req.members.is_empty() || req.members.len() >= MAX_GROUP {
                return Err(ApiError::invalid_field(
                    "members",
                    "invalid_length",
                    "must name 1 to 49 others (50 with you)",
                ));
            }
            let members = others(&mut tx, "members", me, &req.members).await?;
            let row = repo::insert_group(&mut tx, &title, me, now).await?;
            let mut all = vec![me];
            all.extend(members);
            repo::add_members(&mut tx, row.id, &all, me, now).await?;
            (true, row)
        }
        _ => return Err(ApiError::invalid_field("kind", "invalid_value", "must be direct or group")),
    };
    let id = row.id;
    let access = access_to(&mut tx, &Subjects::default(), principal, row).await?;
    let counted = counts_of(&mut tx, principal, id).await?;
    tx.commit().await?;
    Ok((made, Conversation::of(access.conversation, access.title, true, counted)))
}

/// A direct conversation's or a group's members.
pub async fn members(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
) -> Result<Vec<ConversationMember>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let access = access(&mut conn, subjects, principal, id).await?;
    if !matches!(access.conversation.kind, ConversationKind::Direct | ConversationKind::Group) {
        return Err(ApiError::new(
            CollabCode::NotAGroup,
            "A channel's people are its project's members; a thread's, its object's.",
        ));
    }
    drop(conn);
    members_of(ctx, id).await
}

/// Adds someone to a group (any of its members may), up to 50.
pub async fn add_member(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
    user: Uuid,
) -> Result<Vec<ConversationMember>, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    repo::lock(&mut tx, id).await?;
    let access = access(&mut tx, subjects, principal, id).await?;
    if access.conversation.kind != ConversationKind::Group {
        return Err(ApiError::new(
            CollabCode::NotAGroup,
            "People are added to a group; a direct conversation stays between two.",
        ));
    }
    others(&mut tx, "user_id", principal.user_id.0, &[user]).await?;
    let members = repo::members(&mut tx, id).await?;
    if !members.contains(&user) && members.len() >= MAX_GROUP {
        return Err(ApiError::new(
            CollabCode::GroupFull,
            format!("The group has {} people, the most it holds.", members.len()),
        ));
    }
    repo::add_members(&mut tx, id, &[user], principal.user_id.0, now).await?;
    tx.commit().await?;
    members_of(ctx, id).await
}

async fn members_of(ctx: &AppContext, id: ConversationId) -> Result<Vec<ConversationMember>, ApiError> {
    let mut conn = ctx.db.acquire().await?;
    let ids = repo::members(&mut conn, id).await?;
    let names = identity::service::display_names(&mut conn, &ids).await?;
    Ok(ids
        .into_iter()
        .map(|user| ConversationMember { user_id: user, display_name: names.get(&user).cloned().unwrap_or_default() })
        .collect())
}

/// Leaves a group (a direct conversation is not left: it stays between its two people).
pub async fn leave(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    id: ConversationId,
) -> Result<(), ApiError> {
    let mut tx = ctx.db.begin().await?;
    repo::lock(&mut tx, id).await?;
    let access = access(&mut tx, subjects, principal, id).await?;
    if access.conversation.kind != ConversationKind::Group {
        return Err(ApiError::new(
            CollabCode::NotAGroup,
            "Only a group is left; a direct conversation stays between two.",
        ));
    }
    repo::remove_member(&mut tx, id, principal.user_id.0).await?;
    tx.commit().await?;
    Ok(())
}
