//! Demo data that spans domains, which only the binary knows together: threads on a release (Lumen
//! Records' first), a booking (Nova's) and an event (Pete Presents' tour date), where the people of
//! each talk about it (collaboration asks the owning domain who may take part; the demo writes as them).

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
        let owner = user(conn, "lumen_records").await?;
        let mo = user(conn, "midnight_manager").await?;
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

        // Nova writes for the artist's side of her latest booking; the promoter's side answers as its
        // first person.
        let nova = user(conn, "nova").await?;
        if let Some(booking) = booking::bookings_of_user(conn, nova, 1).await?.first().copied()
            && let Some((artists, promoters)) = booking::sides(conn, booking).await?
            && artists.contains(&nova)
            && let Some(promoter) = promoters.first().copied()
        {
            let thread = collab::demo::thread(conn, "booking", booking, promoter, now - Duration::days(2)).await?;
            let asked = collab::demo::post(
                conn,
                thread,
                promoter,
                "Can you do a 75-minute set?",
                None,
                now - Duration::days(2),
            )
            .await?;
            let answer = "75 works; we bring our own in-ear mixes.";
            collab::demo::post(conn, thread, nova, answer, Some(asked), now - Duration::days(2) + Duration::hours(1))
                .await?;
        }

        // Pete Presents' tour date: Pete and Olga (an admin of Pete Presents) plan the door.
        let pete = user(conn, "promo_pete").await?;
        let events = ticketing::events_of_user(conn, pete).await?;
        if let Some((event, _)) = events.into_iter().find(|(_, title)| title == "Nova Rae: Midnight Tour") {
            let olga = user(conn, "olga_events").await?;
            let thread = collab::demo::thread(conn, "event", event, pete, now - Duration::days(1)).await?;
            collab::demo::post(conn, thread, pete, "Door staff briefing at 18:00.", None, now - Duration::days(1))
                .await?;
            collab::demo::post(conn, thread, olga, "I'll bring the scanners.", None, now - Duration::hours(20)).await?;
        }
        Ok(())
    })
}

async fn user(conn: &mut PgConnection, name: &str) -> anyhow::Result<uuid::Uuid> {
    identity::service::user_id_by_username(conn, name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo user {name} is missing"))
}
