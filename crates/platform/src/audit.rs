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
        }
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
    sqlx::query(
        "INSERT INTO audit_log (id, actor_user_id, actor_api_key, organization_id, action, resource_type,
                                resource_id, before, after, request_id, ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(crate::ids::new_id())
    .bind(entry.actor.user_id)
    .bind(entry.actor.api_key_id)
    .bind(entry.organization_id)
    .bind(entry.action)
    .bind(entry.resource_type)
    .bind(entry.resource_id)
    .bind(entry.before)
    .bind(entry.after)
    .bind(crate::http::current_request_id())
    .bind(entry.ip)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
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

/// Audit rows, newest first, read into the caller's row type (the columns of the `audit_log` table).
pub async fn list<T>(conn: &mut PgConnection, filter: &Filter<'_>) -> sqlx::Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(
        "SELECT id, actor_user_id, actor_api_key, organization_id, action, resource_type, resource_id, before, after,
                request_id, ip, created_at
         FROM audit_log
         WHERE ($1::uuid IS NULL OR organization_id = $1) AND ($2::uuid IS NULL OR actor_user_id = $2)
           AND ($3::text IS NULL OR resource_type = $3) AND ($4::text IS NULL OR resource_id = $4)
           AND ($5::uuid IS NULL OR id < $5)
         ORDER BY id DESC LIMIT $6",
    )
    .bind(filter.organization_id)
    .bind(filter.actor_user_id)
    .bind(filter.resource_type)
    .bind(filter.resource_id)
    .bind(filter.before)
    .bind(filter.limit)
    .fetch_all(conn)
    .await
}
