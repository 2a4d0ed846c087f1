//! The self-check's SQL, checked at compile time.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{Check, CheckRun};

/// What the database role the service connects as may do.
#[derive(Debug, Clone, Copy)]
pub struct RoleFacts {
    pub superuser: bool,
    pub may_create: bool,
    pub owned_tables: i64,
    pub may_change_audit: bool,
    pub may_change_postings: bool,
}

pub async fn role_facts(conn: &mut PgConnection) -> sqlx::Result<RoleFacts> {
    sqlx::query_as!(
        RoleFacts,
        r#"SELECT r.rolsuper AS "superuser!",
                  has_schema_privilege('public', 'CREATE') AS "may_create!",
                  (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user) AS "owned_tables!",
                  (has_table_privilege('audit_log', 'UPDATE') OR has_table_privilege('audit_log', 'DELETE')) AS "may_change_audit!",
                  (has_table_privilege('postings', 'UPDATE') OR has_table_privilege('postings', 'DELETE')) AS "may_change_postings!"
           FROM pg_roles r WHERE r.rolname = current_user"#
    )
    .fetch_one(conn)
    .await
}

/// Admin accounts (active) whose email is not verified, by username.
pub async fn unverified_admins(conn: &mut PgConnection) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT u.username FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'admin'
           WHERE u.email_verified_at IS NULL AND u.status <> 'deleted' ORDER BY u.username LIMIT 20"#
    )
    .fetch_all(conn)
    .await
}

/// Accounts of the demo data.
pub async fn demo_accounts(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM users WHERE email LIKE '%@demo.backline.test'"#)
        .fetch_one(conn)
        .await
}

/// Active admins, to tell of a failed check.
pub async fn admin_ids(conn: &mut PgConnection) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'admin'
           WHERE u.status = 'active' ORDER BY u.id"#
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_run(conn: &mut PgConnection, run: &CheckRun) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO security_check_runs (id, trigger, passed, checks, created_at) VALUES ($1, $2, $3, $4, $5)",
        run.id,
        run.trigger,
        run.passed,
        serde_json::to_value(&run.checks).unwrap_or_default(),
        run.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn runs(conn: &mut PgConnection) -> sqlx::Result<Vec<CheckRun>> {
    let rows = sqlx::query!(
        "SELECT id, trigger, passed, checks, created_at FROM security_check_runs ORDER BY created_at DESC, id DESC LIMIT 50"
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CheckRun {
            id: r.id,
            trigger: r.trigger,
            passed: r.passed,
            checks: serde_json::from_value::<Vec<Check>>(r.checks).unwrap_or_default(),
            created_at: r.created_at,
        })
        .collect())
}

/// Runs older than a year are forgotten.
pub async fn forget_old(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM security_check_runs WHERE created_at < $1", now - chrono::Duration::days(365))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
