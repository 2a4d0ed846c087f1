//! The area's SQL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{ConversationId, Priority, TicketCategory, TicketId, TicketStatus};

#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: TicketId,
    pub number: i64,
    pub requester_id: Uuid,
    pub subject: String,
    pub description: String,
    pub category: TicketCategory,
    pub priority: Priority,
    pub status: TicketStatus,
    pub assignee_id: Option<Uuid>,
    pub conversation_id: ConversationId,
    pub notes_conversation_id: ConversationId,
    pub first_response_due: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    pub first_responded_at: Option<DateTime<Utc>>,
    pub first_response_breached_at: Option<DateTime<Utc>>,
    pub resolution_breached_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reopened_count: i32,
    pub satisfaction: Option<i16>,
    pub satisfaction_comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TicketRow {
    /// A ticket just opened at `at` (status `open`, nobody holding it), its targets due by `target`; its
    /// `number` is drawn when it is stored.
    #[allow(clippy::too_many_arguments)]
    pub fn opened(
        id: TicketId,
        requester: Uuid,
        (subject, description): (String, String),
        category: TicketCategory,
        priority: Priority,
        (conversation, notes): (ConversationId, ConversationId),
        target: &TargetRow,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            number: 0,
            requester_id: requester,
            subject,
            description,
            category,
            priority,
            status: TicketStatus::Open,
            assignee_id: None,
            conversation_id: conversation,
            notes_conversation_id: notes,
            first_response_due: super::sla::after(at, target.first_response_minutes),
            resolution_due: super::sla::after(at, target.resolution_minutes),
            first_responded_at: None,
            first_response_breached_at: None,
            resolution_breached_at: None,
            escalated_at: None,
            resolution: None,
            resolved_at: None,
            closed_at: None,
            reopened_count: 0,
            satisfaction: None,
            satisfaction_comment: None,
            rated_at: None,
            last_activity_at: at,
            created_at: at,
            updated_at: at,
        }
    }
}

/// Stores a new ticket; its number is drawn from the sequence.
pub async fn insert(conn: &mut PgConnection, t: &TicketRow) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO support_tickets (id, requester_id, subject, description, category, priority, status,
             conversation_id, notes_conversation_id, first_response_due, resolution_due, last_activity_at,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12) RETURNING number",
        t.id as _,
        t.requester_id,
        t.subject,
        t.description,
        t.category as _,
        t.priority as _,
        t.status as _,
        t.conversation_id as _,
        t.notes_conversation_id as _,
        t.first_response_due,
        t.resolution_due,
        t.created_at
    )
    .fetch_one(conn)
    .await
}

pub async fn ticket(conn: &mut PgConnection, id: TicketId, lock: bool) -> sqlx::Result<Option<TicketRow>> {
    if lock {
        sqlx::query_as!(
            TicketRow,
            r#"SELECT id AS "id: TicketId", number, requester_id, subject, description, category AS "category: TicketCategory",
           priority AS "priority: Priority", status AS "status: TicketStatus", assignee_id,
           conversation_id AS "conversation_id: ConversationId",
           notes_conversation_id AS "notes_conversation_id: ConversationId", first_response_due, resolution_due,
           first_responded_at, first_response_breached_at, resolution_breached_at, escalated_at, resolution,
           resolved_at, closed_at, reopened_count, satisfaction, satisfaction_comment, rated_at, last_activity_at,
           created_at, updated_at
               FROM support_tickets WHERE id = $1 FOR UPDATE"#,
            id as _
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(TicketRow, r#"SELECT id AS "id: TicketId", number, requester_id, subject, description, category AS "category: TicketCategory",
           priority AS "priority: Priority", status AS "status: TicketStatus", assignee_id,
           conversation_id AS "conversation_id: ConversationId",
           notes_conversation_id AS "notes_conversation_id: ConversationId", first_response_due, resolution_due,
           first_responded_at, first_response_breached_at, resolution_breached_at, escalated_at, resolution,
           resolved_at, closed_at, reopened_count, satisfaction, satisfaction_comment, rated_at, last_activity_at,
           created_at, updated_at
               FROM support_tickets WHERE id = $1"#, id as _)
            .fetch_optional(conn)
            .await
    }
}

/// Writes back what a step changed.
pub async fn save(conn: &mut PgConnection, t: &TicketRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE support_tickets SET subject = $2, category = $3, priority = $4, status = $5, assignee_id = $6,
             first_response_due = $7, resolution_due = $8, first_responded_at = $9, first_response_breached_at = $10,
             resolution_breached_at = $11, escalated_at = $12, resolution = $13, resolved_at = $14, closed_at = $15,
             reopened_count = $16, satisfaction = $17, satisfaction_comment = $18, rated_at = $19,
             last_activity_at = $20, updated_at = $21
         WHERE id = $1",
        t.id as _,
        t.subject,
        t.category as _,
        t.priority as _,
        t.status as _,
        t.assignee_id,
        t.first_response_due,
        t.resolution_due,
        t.first_responded_at,
        t.first_response_breached_at,
        t.resolution_breached_at,
        t.escalated_at,
        t.resolution,
        t.resolved_at,
        t.closed_at,
        t.reopened_count,
        t.satisfaction,
        t.satisfaction_comment,
        t.rated_at,
        t.last_activity_at,
        t.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The tickets a filter selects, newest first, before the cursor. `requester` limits them to one
/// person's; `unassigned` to those nobody holds; `breached` to those that missed a target.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    conn: &mut PgConnection,
    requester: Option<Uuid>,
    statuses: &[String],
    assignee: Option<Uuid>,
    unassigned: bool,
    priority: Option<Priority>,
    category: Option<TicketCategory>,
    breached: bool,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<TicketRow>> {
    sqlx::query_as!(
        TicketRow,
        r#"SELECT id AS "id: TicketId", number, requester_id, subject, description, category AS "category: TicketCategory",
           priority AS "priority: Priority", status AS "status: TicketStatus", assignee_id,
           conversation_id AS "conversation_id: ConversationId",
           notes_conversation_id AS "notes_conversation_id: ConversationId", first_response_due, resolution_due,
           first_responded_at, first_response_breached_at, resolution_breached_at, escalated_at, resolution,
           resolved_at, closed_at, reopened_count, satisfaction, satisfaction_comment, rated_at, last_activity_at,
           created_at, updated_at
         FROM support_tickets
         WHERE ($1::uuid IS NULL OR requester_id = $1)
           AND (cardinality($2::text[]) = 0 OR status = ANY($2))
           AND ($3::uuid IS NULL OR assignee_id = $3)
           AND (NOT $4 OR assignee_id IS NULL)
           AND ($5::text IS NULL OR priority = $5)
           AND ($6::text IS NULL OR category = $6)
           AND (NOT $7 OR first_response_breached_at IS NOT NULL OR resolution_breached_at IS NOT NULL)
           AND ($8::timestamptz IS NULL OR (created_at, id) < ($8, $9::uuid))
         ORDER BY created_at DESC, id DESC
         LIMIT $10"#,
        requester,
        statuses,
        assignee,
        unassigned,
        priority.map(Priority::as_str),
        category.map(TicketCategory::as_str),
        breached,
        before.map(|b| b.0),
        before.map(|b| b.1),
        limit
    )
    .fetch_all(conn)
    .await
}

/// The tickets still waiting on the desk (neither resolved nor closed), the one whose next target
/// falls first at the top: the agents' queue.
pub async fn queue(
    conn: &mut PgConnection,
    assignee: Option<Uuid>,
    unassigned: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<TicketRow>> {
    sqlx::query_as!(
        TicketRow,
        r#"SELECT id AS "id: TicketId", number, requester_id, subject, description, category AS "category: TicketCategory",
           priority AS "priority: Priority", status AS "status: TicketStatus", assignee_id,
           conversation_id AS "conversation_id: ConversationId",
           notes_conversation_id AS "notes_conversation_id: ConversationId", first_response_due, resolution_due,
           first_responded_at, first_response_breached_at, resolution_breached_at, escalated_at, resolution,
           resolved_at, closed_at, reopened_count, satisfaction, satisfaction_comment, rated_at, last_activity_at,
           created_at, updated_at
         FROM support_tickets
         WHERE status NOT IN ('resolved', 'closed')
           AND ($1::uuid IS NULL OR assignee_id = $1)
           AND (NOT $2 OR assignee_id IS NULL)
           AND ($3::timestamptz IS NULL
                OR (CASE WHEN first_responded_at IS NULL THEN first_response_due ELSE resolution_due END, id)
                   > ($3, $4::uuid))
         ORDER BY CASE WHEN first_responded_at IS NULL THEN first_response_due ELSE resolution_due END, id
         LIMIT $5"#,
        assignee,
        unassigned,
        after.map(|a| a.0),
        after.map(|a| a.1),
        limit
    )
    .fetch_all(conn)
    .await
}

/// The ticket a conversation belongs to, and whether it is the ticket's notes.
pub async fn of_conversation(conn: &mut PgConnection, conversation: ConversationId) -> sqlx::Result<Option<TicketId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: TicketId" FROM support_tickets WHERE conversation_id = $1 OR notes_conversation_id = $1"#,
        conversation as _
    )
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: Uuid,
    pub ticket_id: TicketId,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub by_user: Option<Uuid>,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_event(conn: &mut PgConnection, e: &EventRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO support_ticket_events (id, ticket_id, kind, from_status, to_status, by_user, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        e.id,
        e.ticket_id as _,
        e.kind,
        e.from_status,
        e.to_status,
        e.by_user,
        e.detail,
        e.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn events(conn: &mut PgConnection, ticket: TicketId) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as!(
        EventRow,
        r#"SELECT id, ticket_id AS "ticket_id: TicketId", kind, from_status, to_status, by_user, detail, created_at
           FROM support_ticket_events WHERE ticket_id = $1 ORDER BY created_at, id"#,
        ticket as _
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct TargetRow {
    pub priority: Priority,
    pub first_response_minutes: i32,
    pub resolution_minutes: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn targets(conn: &mut PgConnection) -> sqlx::Result<Vec<TargetRow>> {
    sqlx::query_as!(
        TargetRow,
        r#"SELECT priority AS "priority: Priority", first_response_minutes, resolution_minutes, updated_at
           FROM support_targets
           ORDER BY array_position(ARRAY['urgent', 'high', 'medium', 'low'], priority)"#
    )
    .fetch_all(conn)
    .await
}

pub async fn target(conn: &mut PgConnection, priority: Priority) -> sqlx::Result<TargetRow> {
    sqlx::query_as!(
        TargetRow,
        r#"SELECT priority AS "priority: Priority", first_response_minutes, resolution_minutes, updated_at
           FROM support_targets WHERE priority = $1"#,
        priority as _
    )
    .fetch_one(conn)
    .await
}

pub async fn set_target(conn: &mut PgConnection, t: &TargetRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE support_targets SET first_response_minutes = $2, resolution_minutes = $3, updated_at = $4
         WHERE priority = $1",
        t.priority as _,
        t.first_response_minutes,
        t.resolution_minutes,
        t.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct CannedRow {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub created_by: Uuid,
    pub used_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn canned_replies(conn: &mut PgConnection) -> sqlx::Result<Vec<CannedRow>> {
    sqlx::query_as!(
        CannedRow,
        "SELECT id, title, body, created_by, used_count, created_at, updated_at
         FROM support_canned_replies ORDER BY used_count DESC, title"
    )
    .fetch_all(conn)
    .await
}

pub async fn canned_reply(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<CannedRow>> {
    sqlx::query_as!(
        CannedRow,
        "SELECT id, title, body, created_by, used_count, created_at, updated_at
         FROM support_canned_replies WHERE id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert_canned(conn: &mut PgConnection, c: &CannedRow) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO support_canned_replies (id, title, body, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
        c.id,
        c.title,
        c.body,
        c.created_by,
        c.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_canned(conn: &mut PgConnection, c: &CannedRow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE support_canned_replies SET title = $2, body = $3, updated_at = $4 WHERE id = $1",
        c.id,
        c.title,
        c.body,
        c.updated_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_canned(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query!("DELETE FROM support_canned_replies WHERE id = $1", id).execute(conn).await?.rows_affected() > 0)
}

pub async fn canned_used(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE support_canned_replies SET used_count = used_count + 1 WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}
