//! Search: what the searcher may read is decided first (their projects' channels; their direct
//! conversations and groups; the threads they take part in, each asked of its object's domain), and
//! only those conversations are searched.

use std::collections::HashMap;

use identity::auth::Principal;
use platform::{ApiError, AppContext};
use uuid::Uuid;

use super::dto::{MessageHit, SearchQuery, SearchResults};
use super::query;
use super::repo;
use crate::Subjects;
use crate::model::ConversationId;

/// Of a query matching more messages, the newest this many are ranked.
pub const RANKED: i64 = 2_000;

pub async fn search(
    ctx: &AppContext,
    subjects: &Subjects,
    principal: &Principal,
    q: SearchQuery,
) -> Result<SearchResults, ApiError> {
    let limit = match q.limit {
        None => 20,
        Some(n @ 1..=100) => i64::from(n),
        Some(_) => return Err(ApiError::invalid_field("limit", "out_of_range", "must be between 1 and 100")),
    };
    let search = query::parse(&q.q).map_err(|why| ApiError::invalid_field("q", "invalid_value", why))?;
    if search.words.trim().is_empty()
        && search.from.is_empty()
        && search.within.is_none()
        && search.before.is_none()
        && search.after.is_none()
        && !search.thread
        && !search.file
    {
        return Err(ApiError::invalid_field("q", "required", "must hold words or a filter"));
    }
    let me = principal.user_id.0;
    let mut conn = ctx.db.acquire().await?;

    // What the searcher may read, with each conversation's title.
    let orgs: Vec<Uuid> = identity::service::organizations::orgs_granting(&mut conn, principal, crate::PROJECTS_MANAGE)
        .await?
        .into_iter()
        .map(|o| o.0)
        .collect();
    let channels = repo::channels_readable(&mut conn, me, &orgs).await?;
    let mut titles: HashMap<Uuid, String> = HashMap::new();
    let mut project_names: HashMap<Uuid, String> = HashMap::new();
    let mut project_ids: Vec<Uuid> = channels.iter().map(|(_, p, _)| p.0).collect();
    project_ids.sort();
    project_ids.dedup();
    project_names.extend(crate::projects::repo::names(&mut conn, &project_ids).await?);
    let mut readable: Vec<(ConversationId, Option<String>)> = Vec::new();
    for (id, project, name) in &channels {
        let project_name = project_names.get(&project.0).cloned().unwrap_or_default();
        titles.insert(id.0, format!("#{name} · {project_name}"));
        readable.push((*id, Some(name.clone())));
    }
    for (id, kind, subject) in repo::threads_followed(&mut conn, me).await? {
        if let Some(discussion) = subjects.check(&mut conn, principal, &kind, subject).await? {
            titles.insert(id.0, discussion.title);
            readable.push((id, None));
        }
    }
    // Direct conversations and groups: membership is their rule; their titles in one read of names.
    let joined = repo::joined(&mut conn, me).await?;
    let people: Vec<Uuid> = joined.iter().flat_map(|(_, _, others)| others.iter().copied()).collect();
    let names = identity::service::display_names(&mut conn, &people).await?;
    for (id, title, others) in joined {
        titles.insert(id.0, crate::conversations::service::people_title(title.as_deref(), &others, &names));
        readable.push((id, None));
    }
    // `in:` narrows to one of them: a channel by name, or a conversation by id.
    let mut ids: Vec<Uuid> = match &search.within {
        Some(place) => readable
            .iter()
            .filter(|(id, name)| name.as_deref() == Some(place.as_str()) || id.0.to_string() == *place)
            .map(|(id, _)| id.0)
            .collect(),
        None => readable.iter().map(|(id, _)| id.0).collect(),
    };
    let mut authors = Vec::new();
    for name in &search.from {
        match identity::service::user_id_by_username(&mut conn, name).await? {
            Some(user) => authors.push(user),
            // Nobody of that name wrote anything.
            None => ids.clear(),
        }
    }
    let day = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let hits = if ids.is_empty() {
        Vec::new()
    } else {
        repo::messages(
            &mut conn,
            &ids,
            search.words.trim(),
            &authors,
            search.before.and_then(day),
            search.after.and_then(day),
            (search.thread, search.file),
            (RANKED, limit),
        )
        .await?
    };
    let ranks: Vec<(f32, Uuid)> = hits.iter().map(|h| (h.rank, h.message.conversation_id.0)).collect();
    let found =
        crate::messages::service::complete(&mut conn, hits.into_iter().map(|h| h.message).collect(), me).await?;
    let messages = found
        .into_iter()
        .zip(ranks)
        .map(|(message, (rank, conversation))| MessageHit {
            conversation_title: titles.get(&conversation).cloned().unwrap_or_default(),
            rank,
            message,
        })
        .collect();

    let mut projects = Vec::new();
    if !search.words.trim().is_empty() && search.within.is_none() {
        for id in repo::projects(&mut conn, &project_ids, search.words.trim(), 20).await? {
            let id = crate::model::ProjectId(id);
            if let Some(row) = crate::projects::repo::project(&mut conn, id, false).await?
                && let Some(role) = crate::projects::service::standing(&mut conn, principal, &row).await?
            {
                projects.push(crate::projects::dto::Project::of(row, role));
            }
        }
    }
    // Files: by words, in the searcher's projects; `in:`, `is:thread` and `has:file` are messages' own.
    // A `from:` naming nobody finds nothing.
    let files = if search.words.trim().is_empty()
        || search.within.is_some()
        || search.thread
        || search.file
        || authors.len() < search.from.len()
    {
        Vec::new()
    } else {
        let (before, after) = (search.before.and_then(day), search.after.and_then(day));
        repo::files(&mut conn, &project_ids, search.words.trim(), &authors, before, after, limit).await?
    };
    Ok(SearchResults { messages, projects, files })
}
