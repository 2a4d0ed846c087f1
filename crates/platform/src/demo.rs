//! Demo data: each domain contributes a named, versioned dataset; `backline seed --demo` (or
//! `serve --demo`) loads every dataset not loaded yet, each in its own transaction together with the row
//! that records it, so loading is idempotent and never half-done.

use std::future::Future;
use std::pin::Pin;

use sqlx::{PgConnection, PgPool};

pub type LoadFuture<'c> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'c>>;

/// What a dataset may need besides the database: the key that seals secrets, and the time.
pub struct DemoEnv {
    pub secrets: std::sync::Arc<crate::crypto::SecretBox>,
    /// Where demo files (cover art, audio) are kept.
    pub storage: std::sync::Arc<crate::storage::Storage>,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// One domain's demo data.
#[derive(Clone, Copy)]
pub struct Dataset {
    /// snake_case, unique.
    pub name: &'static str,
    /// Raise it when the dataset changes; a database keeps the version it loaded.
    pub version: i32,
    /// Writes the data; runs inside the transaction that records the dataset.
    pub load: for<'c> fn(&'c mut PgConnection, &'c DemoEnv) -> LoadFuture<'c>,
}

/// What a load did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub loaded: Vec<&'static str>,
    pub already_present: Vec<&'static str>,
}

/// Loads every dataset that this database does not have yet, in order.
pub async fn load(pool: &PgPool, datasets: &[Dataset], env: &DemoEnv) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for dataset in datasets {
        let mut tx = pool.begin().await?;
        // Serialises concurrent loaders; the loser finds the row and skips.
        sqlx::query!(r#"SELECT pg_advisory_xact_lock(hashtext('backline.demo'))"#).execute(&mut *tx).await?;
        let present: Option<i32> =
            sqlx::query_scalar!(r#"SELECT version FROM demo_datasets WHERE name = $1"#, dataset.name)
                .fetch_optional(&mut *tx)
                .await?;
        if present.is_some() {
            report.already_present.push(dataset.name);
            continue;
        }
        (dataset.load)(&mut tx, env)
            .await
            .map_err(|err| err.context(format!("loading demo dataset `{}`", dataset.name)))?;
        sqlx::query!(r#"INSERT INTO demo_datasets (name, version) VALUES ($1, $2)"#, dataset.name, dataset.version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        report.loaded.push(dataset.name);
    }
    Ok(report)
}
