//! Demo data that spans domains, which only the binary knows together: the thread on Lumen Records'
//! first release, where the label's people talk about it (collaboration asks the catalog who may take
//! part; the demo writes as two of them).

use chrono::Duration;
use platform::demo::{Dataset, DemoEnv, LoadFuture};
use sqlx::PgConnection;

pub fn threads_dataset() -> Dataset {
    Dataset { name: "collab_threads", version: 1, load }
}

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let label = identity::service::org_id_by_slug(conn, "lumen-records")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo organization lumen-records is missing"))?;
        let Some(release) = catalog::recordings_of(conn, &[label]).await?.into_iter().find_map(|r| r.3) else {
            anyhow::bail!("the demo label has no release");
        };
        let owner = identity::service::user_id_by_username(conn, "lumen_records")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo user lumen_records is missing"))?;
        let mo = identity::service::user_id_by_username(conn, "midnight_manager")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo user midnight_manager is missing"))?;
        let thread = collab::demo::thread(conn, "release", release.0, owner, now - Duration::days(3)).await?;
        let first = collab::demo::post(
            conn,
            thread,
            owner,
            "Stores want the final cover by Friday; is the 3000 × 3000 version ready?",
            None,
            now - Duration::days(3),
        )
        .await?;
        collab::demo::post(
            conn,
            thread,
            mo,
            "Uploading it tonight.",
            Some(first),
            now - Duration::days(3) + Duration::hours(2),
        )
        .await?;
        Ok(())
    })
}
