//! Running the checks, keeping the run, telling the admins.

use chrono::Utc;
use platform::jobs::{Job, JobFailure, JobKind, Registry};
use platform::{ApiError, AppContext};

use super::dto::{Check, CheckRun, CheckRunList};
use super::repo::{self, RoleFacts};
use crate::auth::Principal;
use crate::error::IdentityError;

/// The daily run.
pub const RUN: JobKind = JobKind::new("identity.security_check").max_attempts(3);

/// Whether the public address is this machine itself (a developer's or a test's installation).
fn is_local(public_url: &str) -> bool {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.find(']') {
        Some(end) if authority.starts_with('[') => &authority[..=end],
        _ => authority.split(':').next().unwrap_or(""),
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]") || host.ends_with(".localhost") || host.ends_with(".test")
}

fn check(name: &str, passed: bool, detail: impl Into<String>) -> Check {
    Check { name: name.to_owned(), passed, detail: detail.into() }
}

/// The checks, from what the installation says of itself and what the database shows.
pub fn judge(ctx: &AppContext, role: RoleFacts, unverified_admins: &[String], demo_accounts: i64) -> Vec<Check> {
    let posture = &ctx.posture;
    let local = is_local(&ctx.public_url);
    let mut checks = Vec::with_capacity(6);
    checks.push(match (posture.secret_key_configured, local) {
        (true, _) => check("secret_key", true, "the secret key is configured (BACKLINE_SECRET_KEY)"),
        (false, true) => check("secret_key", true, "the key created in the data directory is in use, acceptable for a local installation"),
        (false, false) => check(
            "secret_key",
            false,
            "the key created in the data directory is in use on a public installation: set BACKLINE_SECRET_KEY from your secret store (and keep it with the backups)",
        ),
    });
    checks.push(if ctx.public_url.starts_with("https://") {
        check("tls", true, format!("the public URL {} is served over TLS", ctx.public_url))
    } else if local {
        check("tls", true, format!("the public URL {} is this machine", ctx.public_url))
    } else {
        check(
            "tls",
            false,
            format!("the public URL {} is not https: put TLS in front (a reverse proxy) and set BACKLINE_PUBLIC_URL to the https address", ctx.public_url),
        )
    });
    let mut too_much = Vec::new();
    if role.superuser {
        too_much.push("is a superuser");
    }
    if role.may_create {
        too_much.push("may create objects in the schema");
    }
    if role.owned_tables > 0 {
        too_much.push("owns tables (may alter them and disable their triggers)");
    }
    if role.may_change_audit {
        too_much.push("may change or remove audit rows");
    }
    if role.may_change_postings {
        too_much.push("may change or remove ledger postings");
    }
    checks.push(if too_much.is_empty() {
        check("database_role", true, "the service's database role reads and writes rows only; the append-only tables take inserts only")
    } else {
        check(
            "database_role",
            false,
            format!("the service's database role {}: connect as an application role and migrate with BACKLINE_DATABASE_OWNER_URL (docs/operations.md)", too_much.join(", ")),
        )
    });
    checks.push(if posture.webhooks_to_private_addresses {
        check(
            "webhook_private_targets",
            false,
            "webhooks may be sent to private and loopback addresses (BACKLINE_WEBHOOK_ALLOW_PRIVATE): anyone who may register a webhook can reach your internal network",
        )
    } else {
        check("webhook_private_targets", true, "webhooks to private and loopback addresses are refused")
    });
    checks.push(if unverified_admins.is_empty() {
        check("admin_email_verified", true, "every admin account has a verified email")
    } else {
        check(
            "admin_email_verified",
            false,
            format!("admin accounts without a verified email: {}", unverified_admins.join(", ")),
        )
    });
    checks.push(match (demo_accounts, posture.demo) {
        (0, _) => check("demo_accounts", true, "no demo account"),
        (n, true) => check("demo_accounts", true, format!("{n} demo accounts, in demo mode")),
        (n, false) => check(
            "demo_accounts",
            false,
            format!("{n} demo accounts (with the published demo password) exist outside demo mode: delete them"),
        ),
    });
    checks
}

/// Runs every check, keeps the run, and tells the admins when one failed.
pub async fn run(ctx: &AppContext, trigger: &str) -> Result<CheckRun, ApiError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let role = repo::role_facts(&mut tx).await?;
    let unverified = repo::unverified_admins(&mut tx).await?;
    let demo = repo::demo_accounts(&mut tx).await?;
    let checks = judge(ctx, role, &unverified, demo);
    let run = CheckRun {
        id: platform::ids::new_id(),
        trigger: trigger.to_owned(),
        passed: checks.iter().all(|c| c.passed),
        checks,
        created_at: now,
    };
    repo::insert_run(&mut tx, &run).await?;
    if !run.passed {
        let failed: Vec<&str> = run.checks.iter().filter(|c| !c.passed).map(|c| c.name.as_str()).collect();
        let event = platform::events::Event {
            kind: "security.check_failed",
            recipients: repo::admin_ids(&mut tx).await?,
            organization: None,
            data: serde_json::json!({"failed": failed.join(", "), "count": failed.len(), "run_id": run.id}),
        };
        platform::events::emit(&mut tx, event, now).await?;
    }
    tx.commit().await?;
    if !run.passed {
        tracing::warn!(run = %run.id, "a security self-check failed");
    }
    Ok(run)
}

fn admin_only(principal: &Principal) -> Result<(), ApiError> {
    if principal.has_role("admin") { Ok(()) } else { Err(IdentityError::Forbidden("security_checks".into()).into()) }
}

/// Runs the checks now (admins).
pub async fn run_now(ctx: &AppContext, principal: &Principal) -> Result<CheckRun, ApiError> {
    admin_only(principal)?;
    run(ctx, "admin").await
}

/// The latest runs (admins).
pub async fn runs(ctx: &AppContext, principal: &Principal) -> Result<CheckRunList, ApiError> {
    admin_only(principal)?;
    let mut conn = ctx.db.acquire().await?;
    Ok(CheckRunList { items: repo::runs(&mut conn).await? })
}

pub fn register(registry: &mut Registry) {
    registry.register(RUN, |ctx: AppContext, _job: Job| async move {
        run(&ctx, "schedule").await.map_err(|e| JobFailure::from(anyhow::anyhow!("{e}")))?;
        let mut conn = ctx.db.acquire().await?;
        repo::forget_old(&mut conn, Utc::now().min(ctx.clock.now())).await?;
        Ok::<(), JobFailure>(())
    });
    if let Err(err) = registry.schedule("identity.security_check", "41 3 * * *", RUN, serde_json::json!({})) {
        tracing::error!(%err, "the security self-check schedule is invalid");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_addresses_are_this_machine() {
        for url in [
            "http://localhost:8080",
            "http://127.0.0.1",
            "http://[::1]:3000/x",
            "http://backline.test",
            "http://app.localhost",
        ] {
            assert!(super::is_local(url), "{url}");
        }
        for url in [
            "http://backline.example",
            "https://tickets.example.com",
            "http://10.0.0.5:8080",
            "http://localhost.example",
        ] {
            assert!(!super::is_local(url), "{url}");
        }
    }
}
