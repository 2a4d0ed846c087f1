//! The audit log: every change made through the API writes one row in the transaction of the change.
//! Rows are append-only; the database refuses to update, delete or truncate them.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// Who made a change.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: Actor,
    pub organization_id: Option<Uuid>,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<String>,
    /// The changed fields before and after (never secrets).
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub ip: Option<&'a str>,
    /// The request it was made in, when that is not the task's own (work done for a batch of
    /// requests: see [`record_all`]); otherwise the current request's.
    pub request_id: Option<String>,
}

impl<'a> Entry<'a> {
    pub fn new(actor: Actor, action: &'a str, resource_type: &'a str, resource_id: impl std::fmt::Display) -> Self {
        Self {
            actor,
            organization_id: None,
            action,
            resource_type,
            resource_id: Some(resource_id.to_string()),
            before: None,
            after: None,
            ip: None,
            request_id: None,
        }
    }

    /// Names the request the entry belongs to (work done for several requests at once).
    #[must_use]
    pub fn in_request(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }

    #[must_use]
    pub fn before(mut self, value: Value) -> Self {
        self.before = Some(value);
        self
    }

    #[must_use]
    pub fn after(mut self, value: Value) -> Self {
        self.after = Some(value);
        self
    }

    #[must_use]
    pub fn organization(mut self, id: Uuid) -> Self {
        self.organization_id = Some(id);
        self
    }

    #[must_use]
    pub fn ip(mut self, ip: Option<&'a str>) -> Self {
        self.ip = ip;
        self
    }

    /// Writes the row in the caller's transaction.
    pub async fn record(self, conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<()> {
        record(conn, self, now).await
    }
}

pub async fn record(conn: &mut PgConnection, entry: Entry<'_>, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO audit_log (id, actor_user_id, actor_api_key, organization_id, action, resource_type,
                                resource_id, before, after, request_id, ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"#,
        crate::ids::new_id(),
        entry.actor.user_id,
        entry.actor.api_key_id,
        entry.organization_id,
        entry.action,
        entry.resource_type,
        entry.resource_id,
        entry.before,
        entry.after,
        entry.request_id.or_else(crate::http::current_request_id),
        entry.ip,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records several entries in one statement (the work of a batch of requests, each entry naming its
/// own with [`Entry::in_request`]).
pub async fn record_all(conn: &mut PgConnection, entries: Vec<Entry<'_>>, now: DateTime<Utc>) -> sqlx::Result<()> {
    let mut columns = AuditColumns::default();
    for entry in entries {
        columns.ids.push(crate::ids::new_id());
        columns.users.push(entry.actor.user_id);
        columns.keys.push(entry.actor.api_key_id);
        columns.organizations.push(entry.organization_id);
        columns.actions.push(entry.action.to_owned());
        columns.types.push(entry.resource_type.to_owned());
        columns.resources.push(entry.resource_id);
        columns.befores.push(entry.before);
        columns.afters.push(entry.after);
        columns.requests.push(entry.request_id.or_else(crate::http::current_request_id));
        columns.ips.push(entry.ip.map(str::to_owned));
    }
    sqlx::query!(
        r#"INSERT INTO audit_log (id, actor_user_id, actor_api_key, organization_id, action, resource_type,
                                resource_id, before, after, request_id, ip, created_at)
           SELECT *, $12::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[],
                                                 $7::text[], $8::jsonb[], $9::jsonb[], $10::text[], $11::text[])"#,
        &columns.ids,
        &columns.users as &[Option<Uuid>],
        &columns.keys as &[Option<Uuid>],
        &columns.organizations as &[Option<Uuid>],
        &columns.actions,
        &columns.types,
        &columns.resources as &[Option<String>],
        &columns.befores as &[Option<Value>],
        &columns.afters as &[Option<Value>],
        &columns.requests as &[Option<String>],
        &columns.ips as &[Option<String>],
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// [`record_all`]'s entries, a column each.
#[derive(Default)]
struct AuditColumns {
    ids: Vec<Uuid>,
    users: Vec<Option<Uuid>>,
    keys: Vec<Option<Uuid>>,
    organizations: Vec<Option<Uuid>>,
    actions: Vec<String>,
    types: Vec<String>,
    resources: Vec<Option<String>>,
    befores: Vec<Option<Value>>,
    afters: Vec<Option<Value>>,
    requests: Vec<Option<String>>,
    ips: Vec<Option<String>>,
}

/// The fields that differ between two JSON objects, as `(before, after)` holding only those fields.
pub fn changed_fields(before: &Value, after: &Value) -> (Value, Value) {
    let mut b = serde_json::Map::new();
    let mut a = serde_json::Map::new();
    if let (Some(bo), Some(ao)) = (before.as_object(), after.as_object()) {
        for (key, new) in ao {
            let old = bo.get(key).unwrap_or(&Value::Null);
            if old != new {
                b.insert(key.clone(), old.clone());
                a.insert(key.clone(), new.clone());
            }
        }
    }
    (Value::Object(b), Value::Object(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_kept() {
        let before = serde_json::json!({"name": "a", "city": "Berlin", "x": 1});
        let after = serde_json::json!({"name": "b", "city": "Berlin", "x": 1});
        let (b, a) = changed_fields(&before, &after);
        assert_eq!(b, serde_json::json!({"name": "a"}));
        assert_eq!(a, serde_json::json!({"name": "b"}));
    }
}

/// Which audit rows to list (every filter optional), newest first, before the row `before`.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    pub organization_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    pub before: Option<Uuid>,
    pub limit: i64,
}

/// A row of the audit log.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Audit rows, newest first.
pub async fn list(conn: &mut PgConnection, filter: &Filter<'_>) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, actor_user_id, actor_api_key, organization_id, action, resource_type, resource_id, before, after,
                request_id, ip, created_at
         FROM audit_log
         WHERE ($1::uuid IS NULL OR organization_id = $1) AND ($2::uuid IS NULL OR actor_user_id = $2)
           AND ($3::text IS NULL OR resource_type = $3) AND ($4::text IS NULL OR resource_id = $4)
           AND ($5::uuid IS NULL OR id < $5)
         ORDER BY id DESC LIMIT $6"#,
        filter.organization_id,
        filter.actor_user_id,
        filter.resource_type,
        filter.resource_id,
        filter.before,
        filter.limit
    )
    .fetch_all(conn)
    .await
}
