//! Creative tasks' assignment benchmark: 5,000 approved freelancers (skills, experience, time zones,
//! some on vacation, some busy) and 10,000 waiting tasks. It measures, in one run on one PostgreSQL:
//! the bare SQL read of one task's candidate set beside the time to score the task (that read and the
//! ranking); the offers the assignment job makes per second working the 10,000 tasks down; and an
//! expiry storm, 1,000 offers expiring in the same second, swept with none lost or offered twice.
//! Run with `cargo bench -p backline --bench tasks`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use platform::AppContext;
use platform::clock::ManualClock;
use platform::jobs::{self, NewJob, Registry, WorkerConfig};
use serde_json::json;
use tasks::TaskSettings;
use tasks::model::{Complexity, TaskId, Urgency};
use uuid::Uuid;

const FREELANCERS: usize = 5_000;
const TASKS: usize = 10_000;
const STORM: i64 = 1_000;
const SAMPLES: usize = 300;

const ZONES: &[&str] = &[
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Africa/Lagos",
];
const SKILLS: &[&str] =
    &["graphic_design", "copywriting", "motion_design", "video_editing", "ui_design", "ux_research"];

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The freelancers, their skills and some vacations, written with set-based SQL (as a restore would).
async fn people(owner: &mut sqlx::PgConnection, now: DateTime<Utc>) {
    let zones: Vec<String> = ZONES.iter().map(|z| (*z).to_owned()).collect();
    let skills: Vec<String> = SKILLS.iter().map(|s| (*s).to_owned()).collect();
    let n = FREELANCERS as i32;
    sqlx::query!(
        "INSERT INTO users (id, email, username, display_name, password_hash, status, email_verified_at, created_at, updated_at)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'f' || i || '@bench.test', 'freelancer_' || i,
                'Freelancer ' || i, 'x', 'active', $2, $2, $2
         FROM generate_series(1, $1::int) i",
        n,
        now
    )
    .execute(&mut *owner)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO freelancers (user_id, status, experience, time_zone, specialties, ratings_count, ratings_sum, deliveries, on_time, created_at, updated_at)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'approved',
                (ARRAY['junior','mid','senior','expert'])[1 + i % 4], ($2::text[])[1 + i % cardinality($2::text[])],
                CASE WHEN i % 7 = 0 THEN ARRAY['static_ads'] ELSE '{}' END,
                i % 10, (i % 10) * (3 + i % 3), i % 12, (i % 12) * 3 / 4, $3, $3
         FROM generate_series(1, $1::int) i",
        n,
        &zones,
        now
    )
    .execute(&mut *owner)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO freelancer_skills (user_id, skill, proficiency)
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, s, 40 + (i * 37 + length(s) * 11) % 61
         FROM generate_series(1, $1::int) i, unnest($2::text[]) s
         WHERE (i + length(s)) % 3 <> 0 OR s = 'graphic_design'",
        n,
        &skills
    )
    .execute(&mut *owner)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO freelancer_vacations (id, user_id, starts_at, ends_at)
         SELECT gen_random_uuid(), ('00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
                $2::timestamptz - interval '1 day', $2::timestamptz + interval '6 days'
         FROM generate_series(1, $1::int, 20) i",
        n,
        now
    )
    .execute(&mut *owner)
    .await
    .unwrap();
}

/// The client company and the waiting tasks (static ads, standard urgency).
async fn waiting(owner: &mut sqlx::PgConnection, now: DateTime<Utc>) -> Uuid {
    let client = sqlx::query_scalar!(
        "INSERT INTO users (id, email, username, display_name, password_hash, status, email_verified_at, created_at, updated_at)
         VALUES (gen_random_uuid(), 'client@bench.test', 'client', 'Client', 'x', 'active', $1, $1, $1) RETURNING id",
        now
    )
    .fetch_one(&mut *owner)
    .await
    .unwrap();
    let org = sqlx::query_scalar!(
        "INSERT INTO organizations (id, slug, name, kind, created_by, created_at, updated_at)
         VALUES (gen_random_uuid(), 'bench-co', 'Bench Co', 'company', $2, $1, $1) RETURNING id",
        now,
        client
    )
    .fetch_one(&mut *owner)
    .await
    .unwrap();
    let brief = json!({"summary": "An ad", "deliverables": ["ad"], "formats": ["1080x1080 PNG"]});
    sqlx::query!(
        "INSERT INTO tasks (id, org_id, created_by, category_id, title, brief, deadline_at, urgency, complexity, credits,
                            required_skills, status, created_at, updated_at)
         SELECT gen_random_uuid(), $2, $3, c.id, 'Ad ' || i, $4, $5::timestamptz + interval '48 hours', $6, $7, c.base_credits,
                c.required_skills, 'pending', $5::timestamptz + i * interval '1 millisecond', $5
         FROM generate_series(1, $1::int) i, task_categories c WHERE c.slug = 'static_ads'",
        TASKS as i32,
        org,
        client,
        brief,
        now,
        Urgency::Standard.as_str(),
        Complexity::Simple.as_str()
    )
    .execute(&mut *owner)
    .await
    .unwrap();
    org
}

/// What the offers and tasks look like now, in one statement.
struct Counts {
    offers: i64,
    expired: i64,
    live: i64,
    spread: i64,
    most: i64,
    twice: i64,
    lost: i64,
}

async fn counts(pool: &sqlx::PgPool) -> Counts {
    sqlx::query_as!(
        Counts,
        r#"SELECT (SELECT count(*) FROM task_offers) AS "offers!",
                  (SELECT count(*) FROM task_offers WHERE status = 'expired') AS "expired!",
                  (SELECT count(*) FROM task_offers WHERE status = 'offered') AS "live!",
                  (SELECT count(DISTINCT user_id) FROM task_offers) AS "spread!",
                  (SELECT COALESCE(max(n), 0) FROM (SELECT count(*) AS n FROM task_offers GROUP BY user_id) x) AS "most!",
                  (SELECT count(*) FROM (SELECT task_id, user_id FROM task_offers GROUP BY 1, 2 HAVING count(*) > 1) x) AS "twice!",
                  (SELECT count(*) FROM tasks t WHERE status = 'pending'
                     AND NOT EXISTS (SELECT 1 FROM task_offers o WHERE o.task_id = t.id AND o.status = 'offered')) AS "lost!""#
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Runs a worker with creative tasks' jobs until `done` says so; returns the time it took.
async fn work_until(ctx: &AppContext, done: impl Fn(&Counts) -> bool) -> Duration {
    let mut registry = Registry::new();
    jobs::register_system(&mut registry);
    tasks::register(&mut registry, TaskSettings::default());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config =
        WorkerConfig { concurrency: 8, poll_interval: Duration::from_millis(5), id: "bench".into(), passes: None };
    let started = Instant::now();
    let worker = tokio::spawn(platform::jobs::run(ctx.clone(), Arc::new(registry), config, async move {
        let _ = stop_rx.await;
    }));
    while !done(&counts(&ctx.db).await) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    let _ = stop_tx.send(());
    worker.await.unwrap().unwrap();
    took
}

#[tokio::main]
async fn main() {
    let db = testkit::TestDb::new().await;
    let start: DateTime<Utc> = "2026-12-02T12:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::at(start));
    let ctx = AppContext::new(db.pool.clone(), "http://bench.invalid").with_clock(clock.clone());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("creative tasks benchmark: {cores} cores, PostgreSQL on the same machine");
    let mut owner = db.owner().await;
    let started = Instant::now();
    people(&mut owner, start).await;
    let org = waiting(&mut owner, start).await;
    sqlx::raw_sql("ANALYZE").execute(&mut owner).await.unwrap();
    println!("{FREELANCERS} freelancers and {TASKS} waiting tasks written in {:.1} s", started.elapsed().as_secs_f64());

    // 1. One task's candidates: the bare read, and the read with the ranking.
    let settings = TaskSettings::default();
    let ids: Vec<Uuid> = sqlx::query_scalar!("SELECT id FROM tasks ORDER BY created_at LIMIT $1", SAMPLES as i64)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let required = vec!["graphic_design".to_owned()];
    let mut bare = Vec::new();
    let mut scored = Vec::new();
    let mut candidates = 0;
    for id in &ids {
        let t = Instant::now();
        let rows =
            tasks::assignment::repo::candidates(&mut conn, TaskId(*id), org, "static_ads", &required, None, start)
                .await
                .unwrap();
        bare.push(t.elapsed());
        candidates = rows.len();
        let t = Instant::now();
        let task = tasks::tasks::repo::task(&mut conn, TaskId(*id), false).await.unwrap().unwrap();
        let (_, _, _, ranking) =
            tasks::assignment::service::ranking(&mut conn, &settings, &task, 1, None, start).await.unwrap();
        scored.push(t.elapsed());
        assert!(!ranking.ranked.is_empty());
    }
    drop(conn);
    let (bare50, score50) = (percentile(&mut bare, 0.5), percentile(&mut scored, 0.5));
    println!();
    println!("| one task's candidates ({candidates} read) | p50 | p99 |");
    println!("|---|---|---|");
    println!("| bare SQL read of the candidate set | {} | {} |", ms(bare50), ms(percentile(&mut bare, 0.99)));
    println!(
        "| score the task (read the task and its candidates, rank them) | {} | {} |",
        ms(score50),
        ms(percentile(&mut scored, 0.99))
    );
    println!("Scoring costs {:.2}× the bare read.", score50.as_secs_f64() / bare50.as_secs_f64());

    // 2. The assignment job works the waiting tasks down: one offer per task.
    let mut enqueue = db.pool.begin().await.unwrap();
    let all: Vec<Uuid> = sqlx::query_scalar!("SELECT id FROM tasks").fetch_all(&mut *enqueue).await.unwrap();
    for id in &all {
        jobs::enqueue(&mut enqueue, NewJob::new(tasks::assignment::service::ASSIGN, json!({"task_id": id})), start)
            .await
            .unwrap();
    }
    enqueue.commit().await.unwrap();
    let took = work_until(&ctx, |c| c.offers >= TASKS as i64).await;
    let Counts { offers, spread, most, .. } = counts(&db.pool).await;
    println!();
    println!(
        "Assignment job: {offers} offers in {:.1} s, {:.0} offers/s (8 jobs at once), to {spread} freelancers (at most {most} live offers each).",
        took.as_secs_f64(),
        offers as f64 / took.as_secs_f64()
    );

    // 3. An expiry storm: 1,000 of those offers expire in the same second.
    let at = start + chrono::Duration::minutes(5);
    sqlx::query!(
        "UPDATE task_offers SET expires_at = $2 WHERE id IN (SELECT id FROM task_offers ORDER BY id LIMIT $1)",
        STORM,
        at
    )
    .execute(&mut owner)
    .await
    .unwrap();
    // Their sweep: one job for the second they expire in, as offering them would have queued it.
    let sweep = NewJob::new(tasks::assignment::service::EXPIRE, json!({"due": at}))
        .at(at)
        .unique(format!("offers:{}", at.timestamp()))
        .priority(10);
    jobs::enqueue(&mut owner, sweep, start).await.unwrap();
    clock.set(start + chrono::Duration::minutes(5));
    let swept = work_until(&ctx, |c| c.expired >= STORM).await;
    let offered_again = work_until(&ctx, |c| c.offers >= TASKS as i64 + STORM).await;
    let Counts { live, twice, lost, .. } = counts(&db.pool).await;
    println!(
        "Expiry storm: {STORM} offers expiring in the same second swept in {:.2} s, and their tasks offered again within {:.2} s; \
         {live} live offers for {TASKS} tasks, {twice} offered twice to one freelancer, {lost} tasks left without an offer.",
        swept.as_secs_f64(),
        swept.as_secs_f64() + offered_again.as_secs_f64()
    );
    assert_eq!((live, twice, lost), (TASKS as i64, 0, 0));
}
