//! The ledger's demo data: wallets with available and pending balances (pending earnings release after
//! their holding period), a fan's captured top-up, and a paid-out and a failed withdrawal.

use platform::demo::{Dataset, DemoEnv, LoadFuture};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{Currency, Owner, kinds};
use crate::{earnings, payouts, service};

pub fn dataset() -> Dataset {
    Dataset { name: "ledger", version: 1, load }
}

async fn user(conn: &mut PgConnection, username: &str) -> anyhow::Result<Uuid> {
    identity::service::user_id_by_username(conn, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo user {username} is missing"))
}

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let eur = Currency::parse("EUR").ok_or_else(|| anyhow::anyhow!("EUR"))?;
        let clearing = service::account(conn, Owner::Platform, kinds::CLEARING, &eur, now).await?;
        // Money already earned and released, then fresh earnings still in their holding period.
        for (username, available, pending, kind) in [
            ("nova", 225_000, 60_000, "gig_fee"),
            ("fiona_design", 3_000, 7_000, "freelance"),
            ("velvet_room", 48_000, 12_500, "ticket_revenue"),
        ] {
            let owner = Owner::User(user(conn, username).await?);
            let wallet = service::account(conn, owner, kinds::AVAILABLE, &eur, now).await?;
            service::transfer(
                conn,
                clearing.id,
                wallet.id,
                available,
                "earning.release",
                "demo: earlier earnings",
                now,
            )
            .await?;
            earnings::credit(conn, owner, &eur, pending, clearing.id, kind, now).await?;
        }
        // A fan's wallet top-up.
        let fan = Owner::User(user(conn, "fan_felix").await?);
        let fan_wallet = service::account(conn, fan, kinds::AVAILABLE, &eur, now).await?;
        service::transfer(conn, clearing.id, fan_wallet.id, 20_000, "payment.captured", "demo: wallet top-up", now)
            .await?;
        // Nova withdrew 1,000.00 (paid) and tried 200.00 to an account the bank refused (failed).
        let nova = user(conn, "nova").await?;
        payouts::demo_withdrawal(conn, &env.secrets, nova, "DE89 3704 0044 0532 0130 00", 100_000, now).await?;
        payouts::demo_withdrawal(conn, &env.secrets, nova, "DE94370400440532010000", 20_000, now).await?;
        Ok(())
    })
}
