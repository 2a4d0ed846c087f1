//! Creative tasks' demo data: Acme Brand Studio with 250 credits bought and Fiona (Berlin) as its
//! favourite; two approved freelancers in different time zones (Fiona Freelance in Berlin, Cara Creator
//! in New York); tasks at several steps: one completed and paid, one in the client's review, one in
//! progress, one cancelled (its credits back), and one new, which the assignment job offers when a
//! worker runs.

use chrono::{DateTime, Duration, Utc};
use ledger::model::{Currency, Owner, kinds};
use platform::demo::{Dataset, DemoEnv, LoadFuture};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::TaskSettings;
use crate::freelancers::repo::{self as freelancers, ProfileFields};
use crate::model::{Complexity, Experience, FreelancerStatus, TaskId, Urgency};
use crate::state::TaskStatus;
use crate::tasks::repo::{self as tasks, NewTask};

pub fn dataset() -> Dataset {
    Dataset { name: "tasks", version: 1, load }
}

async fn user(conn: &mut PgConnection, username: &str) -> anyhow::Result<Uuid> {
    identity::service::user_id_by_username(conn, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo user {username} is missing"))
}

async fn freelancer(
    conn: &mut PgConnection,
    id: Uuid,
    admin: Uuid,
    fields: ProfileFields<'_>,
    skills: &[(&str, i16)],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    freelancers::insert_freelancer(conn, id, &fields, now).await?;
    let names: Vec<String> = skills.iter().map(|(s, _)| (*s).to_owned()).collect();
    let levels: Vec<i16> = skills.iter().map(|(_, l)| *l).collect();
    freelancers::set_skills(conn, id, &names, &levels).await?;
    freelancers::decide(conn, id, FreelancerStatus::Approved, admin, "Portfolio checked", now).await?;
    Ok(())
}

/// A task of the demo at `status`, its credits held (and spent or released where the status says so).
#[allow(clippy::too_many_arguments)]
async fn task(
    conn: &mut PgConnection,
    settings: &TaskSettings,
    org: Uuid,
    by: Uuid,
    (category, title, summary): (&str, &str, &str),
    status: TaskStatus,
    assignee: Option<Uuid>,
    now: DateTime<Utc>,
) -> anyhow::Result<TaskId> {
    let cat = tasks::category_by_slug(conn, category).await?.ok_or_else(|| anyhow::anyhow!("category {category}"))?;
    let id = TaskId::new();
    let created = now - Duration::days(6);
    let deadline = now + Duration::days(3);
    let brief = json!({"summary": summary, "platform": "instagram", "deliverables": ["main visual"],
                       "formats": ["1080x1080 PNG"], "motion": category == "video_motion",
                       "custom_illustration": false, "confirmed": ["summary"]});
    let new = NewTask {
        id,
        org_id: org,
        created_by: by,
        category_id: cat.id,
        title,
        brief: &brief,
        deadline_at: deadline,
        urgency: Urgency::of(deadline, created),
        complexity: if category == "video_motion" { Complexity::Intermediate } else { Complexity::Simple },
        credits: cat.base_credits,
        required_skills: &cat.required_skills,
    };
    tasks::insert_task(conn, &new, created).await?;
    tasks::log(conn, id, Some(by), "created", json!({"credits": cat.base_credits}), created).await?;
    crate::credits::service::hold(conn, org, cat.base_credits, id, created)
        .await
        .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;
    if status == TaskStatus::Pending {
        crate::assignment::service::start(conn, id, now).await?;
        return Ok(id);
    }
    let mut row = tasks::task(conn, id, true).await?.ok_or_else(|| anyhow::anyhow!("demo task"))?;
    row.assignee = assignee;
    if let Some(a) = assignee {
        tasks::log(
            conn,
            id,
            Some(a),
            "assigned",
            json!({"freelancer": a, "how": "offer"}),
            created + Duration::hours(1),
        )
        .await?;
    }
    if matches!(status, TaskStatus::InReview | TaskStatus::Completed) {
        row.delivered_at = Some(now - Duration::days(2));
        row.delivery_note = Some("Two variants, as asked".into());
        tasks::log(conn, id, assignee, "delivered", json!({"on_time": true}), now - Duration::days(2)).await?;
        tasks::log(conn, id, None, "passed_to_client", json!({}), now - Duration::days(1)).await?;
        if let Some(a) = assignee {
            freelancers::count_delivery(conn, a, true).await?;
        }
    }
    match status {
        TaskStatus::Completed => {
            row.rating = Some(5);
            row.completed_at = Some(now - Duration::hours(20));
            let a = assignee.ok_or_else(|| anyhow::anyhow!("a completed task has a freelancer"))?;
            crate::credits::service::spend(conn, settings, org, cat.base_credits, id, a, now - Duration::hours(20))
                .await
                .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;
            freelancers::count_rating(conn, a, 5).await?;
            tasks::log(conn, id, Some(by), "approved", json!({"rating": 5}), now - Duration::hours(20)).await?;
        }
        TaskStatus::Cancelled => {
            crate::credits::service::release(conn, org, cat.base_credits, id, now - Duration::days(5))
                .await
                .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;
            row.cancelled_at = Some(now - Duration::days(5));
            tasks::log(
                conn,
                id,
                Some(by),
                "cancelled",
                json!({"credits_returned": cat.base_credits}),
                now - Duration::days(5),
            )
            .await?;
        }
        TaskStatus::InProgress => {
            tasks::log(conn, id, assignee, "started", json!({}), now - Duration::days(1)).await?;
        }
        _ => {}
    }
    row.status = status;
    tasks::save(conn, &row, now).await?;
    Ok(id)
}

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let settings = TaskSettings::default();
        let admin = user(conn, "admin").await?;
        let acme_owner = user(conn, "acme_brand").await?;
        let fiona = user(conn, "fiona_design").await?;
        let cara = user(conn, "cara_creates").await?;
        let acme = identity::service::org_id_by_slug(conn, "acme-brand-studio")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo organization acme-brand-studio is missing"))?;

        // 250 credits, paid from the company's wallet after a card payment topped it up.
        let usd = Currency::parse("USD").ok_or_else(|| anyhow::anyhow!("USD"))?;
        let price = crate::credits::service::price(&settings, 250).ok_or_else(|| anyhow::anyhow!("pack"))?;
        let clearing = ledger::service::account(conn, Owner::Platform, kinds::CLEARING, &usd, now).await?;
        let wallet = ledger::service::account(conn, Owner::Organization(acme), kinds::AVAILABLE, &usd, now).await?;
        ledger::service::transfer(conn, clearing.id, wallet.id, price, "payment.captured", "Card payment", now).await?;
        crate::credits::service::record_purchase(
            conn,
            Owner::Organization(acme),
            acme,
            250,
            price,
            &usd,
            acme_owner,
            now - Duration::days(7),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.detail().to_owned()))?;

        let specialties = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let fiona_specialties = specialties(&["static_ads", "social_media"]);
        let portfolio = vec!["https://example.com/fiona".to_owned()];
        let fields = ProfileFields {
            headline: "Brand and social design",
            experience: Experience::Senior,
            time_zone: Some("Europe/Berlin"),
            work_starts: 9,
            work_ends: 18,
            specialties: &fiona_specialties,
            portfolio: &portfolio,
        };
        freelancer(conn, fiona, admin, fields, &[("graphic_design", 92), ("copywriting", 75), ("ui_design", 60)], now)
            .await?;
        let cara_specialties = specialties(&["video_motion"]);
        let fields = ProfileFields {
            headline: "Motion and video",
            experience: Experience::Mid,
            time_zone: Some("America/New_York"),
            work_starts: 10,
            work_ends: 19,
            specialties: &cara_specialties,
            portfolio: &[],
        };
        freelancer(
            conn,
            cara,
            admin,
            fields,
            &[("motion_design", 88), ("video_editing", 80), ("graphic_design", 70)],
            now,
        )
        .await?;
        freelancers::add_favourite(conn, acme, fiona, now).await?;

        let s = &settings;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("static_ads", "Summer sale banner", "A banner for the summer sale"),
            TaskStatus::Completed,
            Some(fiona),
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("social_media", "Newsletter header", "A header for the monthly newsletter"),
            TaskStatus::InReview,
            Some(fiona),
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("video_motion", "Product teaser", "A 15-second teaser of the new roast"),
            TaskStatus::InProgress,
            Some(cara),
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("static_ads", "Spring campaign", "Cancelled when the campaign moved"),
            TaskStatus::Cancelled,
            None,
            now,
        )
        .await?;
        task(
            conn,
            s,
            acme,
            acme_owner,
            ("static_ads", "Autumn launch ad", "Three ads for the autumn roast"),
            TaskStatus::Pending,
            None,
            now,
        )
        .await?;
        Ok(())
    })
}
