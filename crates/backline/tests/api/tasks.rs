//! Creative tasks over HTTP: credits through the ledger, offers swept at their exact second, the
//! escalation ladder to claims and staff, concurrent claims and acceptances, the lifecycle with its
//! revision limit and auto-approval, and who may see and do what.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use testkit::TestApp;
use uuid::Uuid;

use crate::ledger::audit;
use crate::support::{app, drain_jobs, signed_in, signed_in_admin};

/// A client company with credits, and staff.
pub(crate) struct World {
    pub(crate) app: Arc<TestApp>,
    pub(crate) admin: String,
    pub(crate) client: String,
    pub(crate) org: String,
}

/// An API key (all scopes) for the holder of `token`: it outlives the 15-minute access tokens while
/// the tests move the clock by hours and days.
pub(crate) async fn key(app: &TestApp, token: &str) -> String {
    let res = app.post("/v1/me/api-keys").bearer(token).json(&json!({"name": "tasks", "scopes": ["*"]})).send().await;
    res.assert_status(StatusCode::CREATED);
    res.value()["key"].as_str().unwrap().to_owned()
}

pub(crate) async fn world(prefix: &str, pack: i64) -> World {
    let app = Arc::new(app().await);
    let admin = key(&app, &signed_in_admin(&app).await).await;
    let client = key(&app, &signed_in(&app, &format!("{prefix}_client")).await.0).await;
    let res = app
        .post("/v1/orgs")
        .bearer(&client)
        .json(&json!({"slug": format!("{prefix}-co"), "name": "Acme Coffee", "kind": "company"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let org = res.value()["id"].as_str().unwrap().to_owned();
    let w = World { app, admin, client, org };
    if pack > 0 {
        buy(&w, pack).await.assert_status(StatusCode::CREATED);
    }
    w
}

async fn buy(w: &World, credits: i64) -> testkit::TestResponse {
    w.app
        .post(&format!("/v1/orgs/{}/credits", w.org))
        .bearer(&w.client)
        .header("idempotency-key", &Uuid::now_v7().to_string())
        .json(&json!({"credits": credits, "source": "card", "card_number": "4242424242424242"}))
        .send()
        .await
}

pub(crate) async fn credits(w: &World) -> (i64, i64) {
    let v = w.app.get(&format!("/v1/orgs/{}/credits", w.org)).bearer(&w.client).send().await.value();
    (v["available"].as_i64().unwrap(), v["held"].as_i64().unwrap())
}

/// `n` approved freelancers with `skills`, signed in: (token, id).
pub(crate) async fn freelancers(
    w: &World,
    prefix: &str,
    n: usize,
    skills: &[(&str, i64)],
    tz: Option<&str>,
) -> Vec<(String, String)> {
    let people = crate::ticketing::buyers(&w.app, prefix, n).await;
    let mut out = Vec::new();
    for (token, id) in people {
        let token = key(&w.app, &token).await;
        let skills: Vec<Value> = skills.iter().map(|(s, p)| json!({"skill": s, "proficiency": p})).collect();
        let res = w
            .app
            .put("/v1/me/freelancer")
            .bearer(&token)
            .json(&json!({"experience": "senior", "time_zone": tz, "skills": skills}))
            .send()
            .await;
        res.assert_status(StatusCode::OK);
        assert_eq!(res.value()["status"], "pending");
        approve_freelancer(w, &id.to_string()).await;
        out.push((token, id.to_string()));
    }
    out
}

async fn approve_freelancer(w: &World, id: &str) {
    w.app
        .post(&format!("/v1/freelancers/{id}/decision"))
        .bearer(&w.admin)
        .json(&json!({"status": "approved"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
}

/// A static-ad task due in `hours`, needing `skills` (graphic design by default).
async fn task(w: &World, hours: i64, skills: &[&str]) -> testkit::TestResponse {
    let deadline = w.app.clock_now() + Duration::hours(hours);
    let mut body = json!({
        "org_id": w.org, "category": "static_ads", "title": "Autumn launch ad",
        "deadline_at": deadline, "brief": {"summary": "Three coffee ads", "deliverables": ["ad"], "formats": ["1080x1080 PNG"]},
    });
    if !skills.is_empty() {
        body["required_skills"] = json!(skills);
    }
    w.app
        .post("/v1/tasks")
        .bearer(&w.client)
        .header("idempotency-key", &Uuid::now_v7().to_string())
        .json(&body)
        .send()
        .await
}

pub(crate) async fn created(w: &World, hours: i64, skills: &[&str]) -> String {
    let res = task(w, hours, skills).await;
    res.assert_status(StatusCode::CREATED);
    res.value()["id"].as_str().unwrap().to_owned()
}

async fn get(w: &World, id: &str) -> Value {
    let res = w.app.get(&format!("/v1/tasks/{id}")).bearer(&w.admin).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

/// The caller's live offers.
pub(crate) async fn open_offers(w: &World, token: &str) -> Vec<Value> {
    let res = w.app.get("/v1/me/task-offers?open=true").bearer(token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()["items"].as_array().unwrap().clone()
}

async fn live_offer_of(w: &World, people: &[(String, String)], task: &str) -> Option<(usize, Value)> {
    for (i, (token, _)) in people.iter().enumerate() {
        if let Some(o) = open_offers(w, token).await.into_iter().find(|o| o["task_id"] == task) {
            return Some((i, o));
        }
    }
    None
}

async fn post(w: &World, token: &str, path: String, body: Value) -> testkit::TestResponse {
    w.app.post(&path).bearer(token).json(&body).send().await
}

/// The freelancer uploads a file they deliver.
pub(crate) async fn upload_file(w: &World, token: &str, id: &str, name: &str, bytes: &[u8]) -> testkit::TestResponse {
    w.app
        .post(&format!("/v1/tasks/{id}/files?name={name}"))
        .bearer(token)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
}

/// Takes a task from acceptance to a delivery in the client's review.
async fn to_client_review(w: &World, token: &str, id: &str) {
    post(w, token, format!("/v1/tasks/{id}/start"), json!({})).await.assert_status(StatusCode::OK);
    upload_file(w, token, id, "ads.zip", b"PK\x03\x04 three versions").await.assert_status(StatusCode::CREATED);
    post(w, token, format!("/v1/tasks/{id}/deliver"), json!({"note": "Three versions"}))
        .await
        .assert_status(StatusCode::OK);
    post(w, &w.admin, format!("/v1/tasks/{id}/review"), json!({"decision": "pass"}))
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn credits_are_bought_held_spent_and_given_back_with_the_books_balanced() {
    let w = world("cred", 0).await;
    // Packs: 50 and 100 at list price, 250 at 5% off, 500 at 10% off.
    let v = w.app.get(&format!("/v1/orgs/{}/credits", w.org)).bearer(&w.client).send().await.value();
    let prices: Vec<(i64, i64)> = v["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["credits"].as_i64().unwrap(), p["price"].as_i64().unwrap()))
        .collect();
    assert_eq!(prices, vec![(50, 24_500), (100, 49_000), (250, 116_375), (500, 220_500)]);
    // A size not sold is refused by name; nothing is charged.
    buy(&w, 60).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Without credits a task is refused, and nothing of it is kept.
    task(&w, 48, &[]).await.assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    let kept = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM tasks"#).fetch_one(&w.app.db.pool).await.unwrap();
    assert_eq!(kept, 0);

    buy(&w, 50).await.assert_status(StatusCode::CREATED);
    assert_eq!(credits(&w).await, (50, 0));
    let people = freelancers(&w, "cred_f", 1, &[("graphic_design", 90)], None).await;
    let cancelled = created(&w, 48, &[]).await;
    assert_eq!(credits(&w).await, (40, 10));
    post(&w, &w.client, format!("/v1/tasks/{cancelled}/cancel"), json!({"note": "Changed plans"}))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(credits(&w).await, (50, 0), "a cancellation gives the credits back at once");

    let id = created(&w, 48, &[]).await;
    drain_jobs(&w.app).await;
    let offer = open_offers(&w, &people[0].0).await.pop().expect("the only freelancer is offered the task");
    post(&w, &people[0].0, format!("/v1/task-offers/{}/accept", offer["id"].as_str().unwrap()), json!({}))
        .await
        .assert_status(StatusCode::OK);
    to_client_review(&w, &people[0].0, &id).await;
    let done = post(&w, &w.client, format!("/v1/tasks/{id}/approve"), json!({"rating": 5})).await;
    done.assert_status(StatusCode::OK);
    assert_eq!(done.value()["status"], "completed");
    assert_eq!(credits(&w).await, (40, 0), "the approved task's credits are spent");
    // The freelancer earned 70% of 10 credits at 4.90 USD: 34.30 USD, pending for 7 days.
    let wallet = w.app.get("/v1/me/wallet").bearer(&people[0].0).send().await.value();
    let balance = |kind: &str| {
        wallet["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["currency"] == "USD" && a["kind"] == kind)
            .map(|a| a["balance"].as_i64().unwrap())
    };
    assert_eq!((balance("pending"), balance("available").unwrap_or(0)), (Some(3430), 0), "{wallet}");
    let me = w.app.get("/v1/me/freelancer").bearer(&people[0].0).send().await.value();
    assert_eq!(me["performance"]["rating"], 5.0);
    assert_eq!(me["performance"]["on_time_rate"], 100.0);

    // After the holding period the earnings are withdrawn like any income, from 10 credits' worth
    // (34.30 USD) up; another currency keeps the platform's minimum.
    w.app.clock.advance(Duration::days(7) + Duration::minutes(1));
    drain_jobs(&w.app).await;
    let token = &people[0].0;
    let method = crate::ledger::bank_account(&w.app, token, crate::ledger::GOOD_IBAN).await;
    let withdraw = |amount: i64, currency: &'static str| {
        let (app, token, method) = (w.app.clone(), token.clone(), method.clone());
        async move {
            app.post("/v1/me/withdrawals")
                .bearer(&token)
                .json(&json!({"amount": amount, "currency": currency, "payout_method_id": method}))
                .send()
                .await
        }
    };
    let below = withdraw(3429, "USD").await;
    let problem = below.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(
        (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
        (Some("amount"), Some("below_minimum"))
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at least 3430 (minor units): freelance earnings are paid out from 10 credits' worth"),
        "{problem}"
    );
    // At the minimum the rule passes; the 1.00 fee is what 34.30 does not cover.
    withdraw(3430, "USD").await.assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    crate::ledger::funded(&w.app.db.pool, people[0].1.parse().unwrap(), 5_000).await;
    withdraw(2000, "EUR").await.assert_status(StatusCode::CREATED);
    audit(&w.app.db.pool).await;
}

#[tokio::test]
async fn an_offer_expires_at_its_exact_second_and_the_next_candidate_is_offered() {
    let w = world("exp", 50).await;
    let best = freelancers(&w, "exp_a", 1, &[("graphic_design", 95)], None).await;
    let next = freelancers(&w, "exp_b", 1, &[("graphic_design", 75)], None).await;
    let id = created(&w, 48, &[]).await; // standard: a 120-minute window
    drain_jobs(&w.app).await;
    let offer = open_offers(&w, &best[0].0).await.pop().expect("the best candidate is offered it first");
    let expires: DateTime<Utc> = offer["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - w.app.clock_now(), Duration::minutes(120));
    assert_eq!(offer["config_version"], 1);
    assert!(offer["breakdown"]["score"]["total"].as_u64().unwrap() > 0);

    w.app.clock.advance(Duration::minutes(120) - Duration::seconds(1));
    drain_jobs(&w.app).await;
    assert_eq!(open_offers(&w, &best[0].0).await.len(), 1, "one second before its expiry the offer stands");
    assert!(open_offers(&w, &next[0].0).await.is_empty());
    w.app.clock.advance(Duration::seconds(1));
    drain_jobs(&w.app).await;
    assert!(open_offers(&w, &best[0].0).await.is_empty(), "at its second the offer is swept");
    let second = open_offers(&w, &next[0].0).await.pop().expect("and the next candidate offered");
    // Accepting an expired offer is refused.
    post(&w, &best[0].0, format!("/v1/task-offers/{}/accept", offer["id"].as_str().unwrap()), json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "offer_not_open");
    let t = get(&w, &id).await;
    assert_eq!((t["status"].as_str(), t["offers_at_level"].as_i64()), (Some("offered"), Some(2)));
    let actions: Vec<&str> = t["activity"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "offered", "offer_expired", "offered"]);
    assert_eq!(second["level"], 1);
}

/// Offers that expire in the same second are swept by one job, all at that second, each task offered
/// to its next candidate.
#[tokio::test]
async fn offers_expiring_in_one_second_are_swept_together_at_that_second() {
    let w = world("storm", 50).await;
    let people = freelancers(&w, "storm_f", 4, &[("graphic_design", 90)], None).await;
    let ids = [created(&w, 48, &[]).await, created(&w, 48, &[]).await, created(&w, 48, &[]).await];
    drain_jobs(&w.app).await;
    let sweeps = || async {
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM jobs WHERE kind = 'tasks.offer_expire' AND state = 'queued'"#
        )
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap()
    };
    assert_eq!(sweeps().await, 1, "three offers due in one second, one sweep");
    w.app.clock.advance(Duration::minutes(120) - Duration::seconds(1));
    drain_jobs(&w.app).await;
    for id in &ids {
        assert_eq!(get(&w, id).await["offers_at_level"], 1, "one second early nothing is swept");
    }
    w.app.clock.advance(Duration::seconds(1));
    drain_jobs(&w.app).await;
    for id in &ids {
        let t = get(&w, id).await;
        assert_eq!((t["status"].as_str(), t["offers_at_level"].as_i64()), (Some("offered"), Some(2)), "{t}");
    }
    let mut live = 0;
    for (token, _) in &people {
        live += open_offers(&w, token).await.len();
    }
    assert_eq!(live, 3, "each task has one live offer again");
}

#[tokio::test]
async fn the_ladder_offers_three_times_a_level_then_opens_claims_then_calls_staff() {
    let w = world("lad", 50).await;
    // Four strong freelancers (level 1) and one at 60 (level 2 only).
    let strong = freelancers(&w, "lad_s", 4, &[("graphic_design", 90)], None).await;
    let weak = freelancers(&w, "lad_w", 1, &[("graphic_design", 60)], None).await;
    let id = created(&w, 48, &[]).await;
    drain_jobs(&w.app).await;
    let mut levels = Vec::new();
    let everyone: Vec<(String, String)> = strong.iter().chain(weak.iter()).cloned().collect();
    for _ in 0..5 {
        let (_, offer) = live_offer_of(&w, &everyone, &id).await.expect("an offer is out");
        levels.push(offer["level"].as_i64().unwrap());
        w.app.clock.advance(Duration::minutes(120));
        drain_jobs(&w.app).await;
    }
    // Three offers at level 1; the fourth strong one and then the weak one at level 2.
    assert_eq!(levels, [1, 1, 1, 2, 2]);
    // Level 2 has no one left: the task is open to claims for 30 minutes.
    let t = get(&w, &id).await;
    assert_eq!((t["status"].as_str(), t["level"].as_i64()), (Some("pending"), Some(3)));
    let until: DateTime<Utc> = t["claims_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(until - w.app.clock_now(), Duration::minutes(30));
    // A freelancer under the skill threshold may not claim; the window closes unclaimed.
    let (low, _) = &freelancers(&w, "lad_low", 1, &[("graphic_design", 40)], None).await[0];
    post(&w, low, format!("/v1/tasks/{id}/claim"), json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "not_qualified");
    w.app.clock.advance(Duration::minutes(30) - Duration::seconds(1));
    drain_jobs(&w.app).await;
    assert_eq!(get(&w, &id).await["status"], "pending");
    w.app.clock.advance(Duration::seconds(1));
    drain_jobs(&w.app).await;
    let t = get(&w, &id).await;
    assert_eq!((t["status"].as_str(), t["level"].as_i64()), (Some("unassignable"), Some(4)));
    post(&w, &strong[0].0, format!("/v1/tasks/{id}/claim"), json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "not_open_for_claims");
    // Staff are told and find it in their queue; they assign it by hand.
    let told = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM notifications WHERE kind = 'task.unassignable'"#)
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap();
    assert_eq!(told, 1);
    let queue = w.app.get("/v1/admin/tasks").bearer(&w.admin).send().await.value();
    assert!(queue.as_array().unwrap().iter().any(|t| t["id"] == id.as_str()));
    let assigned = post(&w, &w.admin, format!("/v1/tasks/{id}/assign"), json!({"freelancer_id": strong[1].1})).await;
    assigned.assert_status(StatusCode::OK);
    assert_eq!(
        (assigned.value()["status"].as_str(), assigned.value()["assignee"].as_str()),
        (Some("assigned"), Some(strong[1].1.as_str()))
    );
}

#[tokio::test]
async fn a_decline_offers_the_next_candidate_at_once_and_is_never_offered_again() {
    let w = world("dec", 50).await;
    let people = freelancers(&w, "dec_f", 2, &[("graphic_design", 90)], None).await;
    let id = created(&w, 48, &[]).await;
    drain_jobs(&w.app).await;
    let (first, offer) = live_offer_of(&w, &people, &id).await.unwrap();
    let path = format!("/v1/task-offers/{}/decline", offer["id"].as_str().unwrap());
    post(&w, &people[first].0, path.clone(), json!({"reason": "on_holiday"}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let declined = post(&w, &people[first].0, path, json!({"reason": "too_busy", "note": "Full this week"})).await;
    declined.assert_status(StatusCode::OK);
    assert_eq!(declined.value()["decline_reason"], "too_busy");
    drain_jobs(&w.app).await;
    let (second, _) = live_offer_of(&w, &people, &id).await.expect("the other freelancer is offered it at once");
    assert_ne!(first, second);
    // Someone else's offer is not theirs to answer.
    let (_, live) = live_offer_of(&w, &people, &id).await.unwrap();
    post(&w, &people[first].0, format!("/v1/task-offers/{}/accept", live["id"].as_str().unwrap()), json!({}))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn concurrent_claims_at_level_three_have_one_winner_each() {
    const TASKS: usize = 4;
    const CLAIMERS: usize = 8;
    let w = world("clm", 50).await;
    let people = freelancers(&w, "clm_f", CLAIMERS, &[("graphic_design", 90)], None).await;
    let mut ids = Vec::new();
    for _ in 0..TASKS {
        ids.push(created(&w, 48, &[]).await);
    }
    drain_jobs(&w.app).await;
    // Six offers each expire unanswered: every task reaches level 3, open to claims.
    for _ in 0..6 {
        w.app.clock.advance(Duration::minutes(120));
        drain_jobs(&w.app).await;
    }
    for id in &ids {
        assert_eq!(get(&w, id).await["level"], 3);
    }
    let mut racing = Vec::new();
    for id in &ids {
        for (token, user) in &people {
            let app = w.app.clone();
            let (token, user, id) = (token.clone(), user.clone(), id.clone());
            racing.push(tokio::spawn(async move {
                let res = app.post(&format!("/v1/tasks/{id}/claim")).bearer(&token).send().await;
                (id, user, res.status, res.value())
            }));
        }
    }
    let mut winners: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for r in racing {
        let (id, user, status, body) = r.await.unwrap();
        match status {
            StatusCode::OK => winners.entry(id).or_default().push(user),
            StatusCode::CONFLICT => {
                assert!(["task_taken", "at_workload_cap"].contains(&body["code"].as_str().unwrap()), "{body}");
            }
            other => panic!("a claim answered {other}: {body}"),
        }
    }
    for id in &ids {
        let won = winners.get(id).map_or(0, Vec::len);
        assert_eq!(won, 1, "task {id} had {won} winners");
        let t = get(&w, id).await;
        assert_eq!(t["status"], "assigned");
        assert_eq!(t["assignee"].as_str(), winners[id].first().map(String::as_str));
        let claims = t["activity"].as_array().unwrap().iter().filter(|a| a["action"] == "claimed").count();
        assert_eq!(claims, 1);
    }
}

#[tokio::test]
async fn concurrent_acceptances_never_take_a_freelancer_over_the_workload_cap() {
    const PEOPLE: usize = 4;
    let w = world("cap", 500).await;
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        // Each freelancer is the only one with their skill, so every task needing it is offered to them.
        let skill = format!("craft_{i}");
        people.push(freelancers(&w, &format!("cap_{i}_"), 1, &[(skill.as_str(), 90)], None).await.remove(0));
    }
    // Three active tasks each (assigned by staff), two more offered (3 + 2 offers held: the most one may
    // hold), then a fourth task assigned by staff: two acceptances at once would make six.
    let assign = async |skill: &str, user: &str| {
        let id = created(&w, 200, &[skill]).await;
        post(&w, &w.admin, format!("/v1/tasks/{id}/assign"), json!({"freelancer_id": user}))
            .await
            .assert_status(StatusCode::OK);
    };
    for (i, (_, user)) in people.iter().enumerate() {
        for _ in 0..3 {
            assign(&format!("craft_{i}"), user).await;
        }
    }
    for i in 0..PEOPLE {
        let skill = format!("craft_{i}");
        created(&w, 200, &[skill.as_str()]).await;
        created(&w, 200, &[skill.as_str()]).await;
    }
    drain_jobs(&w.app).await;
    for (i, (_, user)) in people.iter().enumerate() {
        assign(&format!("craft_{i}"), user).await;
    }
    let mut racing = Vec::new();
    for (token, _) in &people {
        let offers = open_offers(&w, token).await;
        assert_eq!(offers.len(), 2, "each freelancer holds two offers");
        for o in offers {
            let app = w.app.clone();
            let token = token.clone();
            racing.push(tokio::spawn(async move {
                let res = app
                    .post(&format!("/v1/task-offers/{}/accept", o["id"].as_str().unwrap()))
                    .bearer(&token)
                    .send()
                    .await;
                (res.status, res.value())
            }));
        }
    }
    let mut accepted = 0;
    for r in racing {
        let (status, body) = r.await.unwrap();
        match status {
            StatusCode::OK => accepted += 1,
            StatusCode::CONFLICT => assert_eq!(body["code"], "at_workload_cap", "{body}"),
            other => panic!("an acceptance answered {other}: {body}"),
        }
    }
    assert_eq!(accepted, PEOPLE, "one acceptance each: the fifth task");
    for (_, user) in &people {
        let active = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM tasks WHERE assignee = $1::uuid
                 AND status IN ('assigned', 'in_progress', 'pending_admin_review', 'in_review', 'revision_requested')"#,
            user.parse::<Uuid>().unwrap()
        )
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap();
        assert_eq!(active, 5, "freelancer {user} is at the cap, not over it");
    }
}

#[tokio::test]
async fn two_revisions_at_most_and_a_delivery_not_reviewed_in_14_days_is_approved() {
    let w = world("rev", 50).await;
    let people = freelancers(&w, "rev_f", 1, &[("graphic_design", 90)], None).await;
    let token = &people[0].0;
    let id = created(&w, 72, &[]).await;
    drain_jobs(&w.app).await;
    let offer = open_offers(&w, token).await.pop().unwrap();
    post(&w, token, format!("/v1/task-offers/{}/accept", offer["id"].as_str().unwrap()), json!({}))
        .await
        .assert_status(StatusCode::OK);
    // The client may not start the work, nor the freelancer approve it.
    post(&w, &w.client, format!("/v1/tasks/{id}/start"), json!({}))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "transition_not_permitted");
    to_client_review(&w, token, &id).await;
    post(&w, token, format!("/v1/tasks/{id}/approve"), json!({}))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "transition_not_permitted");
    for n in 1..=2 {
        post(&w, &w.client, format!("/v1/tasks/{id}/revisions"), json!({}))
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let r = post(&w, &w.client, format!("/v1/tasks/{id}/revisions"), json!({"note": "Warmer colours"})).await;
        r.assert_status(StatusCode::OK);
        assert_eq!(
            (r.value()["status"].as_str(), r.value()["revisions"].as_i64()),
            (Some("revision_requested"), Some(n))
        );
        to_client_review(&w, token, &id).await;
    }
    post(&w, &w.client, format!("/v1/tasks/{id}/revisions"), json!({"note": "Once more"}))
        .await
        .assert_problem(StatusCode::CONFLICT, "revision_limit");
    // Not reviewed: approved by the timer 14 days after it reached the client, to the second.
    w.app.clock.advance(Duration::days(14) - Duration::seconds(1));
    drain_jobs(&w.app).await;
    assert_eq!(get(&w, &id).await["status"], "in_review");
    w.app.clock.advance(Duration::seconds(1));
    drain_jobs(&w.app).await;
    let t = get(&w, &id).await;
    assert_eq!(t["status"], "completed");
    assert_eq!(t["activity"].as_array().unwrap().last().unwrap()["action"], "auto_approved");
    assert_eq!(credits(&w).await, (40, 0));
    audit(&w.app.db.pool).await;
}

#[tokio::test]
async fn only_the_parties_see_a_task_and_only_approved_freelancers_take_work() {
    let w = world("who", 50).await;
    let people = freelancers(&w, "who_f", 1, &[("graphic_design", 90)], None).await;
    let stranger = key(&w.app, &signed_in(&w.app, "who_stranger").await.0).await;
    let id = created(&w, 48, &[]).await;
    drain_jobs(&w.app).await;
    w.app.get(&format!("/v1/tasks/{id}")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    w.app.get(&format!("/v1/tasks/{id}")).bearer(&people[0].0).send().await.assert_status(StatusCode::OK);
    w.app.get(&format!("/v1/tasks/{id}")).bearer(&w.client).send().await.assert_status(StatusCode::OK);
    w.app.get(&format!("/v1/orgs/{}/tasks", w.org)).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    w.app
        .get(&format!("/v1/orgs/{}/credits", w.org))
        .bearer(&stranger)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // A stranger cannot commission work for the company.
    let body = json!({"org_id": w.org, "category": "static_ads", "title": "x", "deadline_at": w.app.clock_now() + Duration::hours(48),
                      "brief": {"summary": "x"}});
    w.app
        .post("/v1/tasks")
        .bearer(&stranger)
        .json(&body)
        .send()
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // A suspended freelancer cannot accept the offer they hold.
    let offer = open_offers(&w, &people[0].0).await.pop().unwrap();
    w.app
        .post(&format!("/v1/freelancers/{}/decision", people[0].1))
        .bearer(&w.admin)
        .json(&json!({"status": "suspended", "note": "Paused"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    post(&w, &people[0].0, format!("/v1/task-offers/{}/accept", offer["id"].as_str().unwrap()), json!({}))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "not_a_freelancer");
    // Staff's tools are staff's.
    w.app
        .get(&format!("/v1/tasks/{id}/candidates"))
        .bearer(&w.client)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    w.app.get("/v1/admin/freelancers").bearer(&people[0].0).send().await.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn staff_version_the_weights_and_ask_who_would_get_a_task_and_why() {
    let w = world("cfg", 50).await;
    let people = freelancers(&w, "cfg_f", 2, &[("graphic_design", 90)], None).await;
    let away = &people[1];
    w.app
        .post("/v1/me/freelancer/vacations")
        .bearer(&away.0)
        .json(&json!({"starts_at": w.app.clock_now() - Duration::days(1), "ends_at": w.app.clock_now() + Duration::days(7)}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let bad = w
        .app
        .post("/v1/admin/task-assignment-configs")
        .bearer(&w.admin)
        .json(&json!({"weights": {"skill": 35, "timezone": 20, "experience": 20, "workload": 15, "performance": 9}}))
        .send()
        .await;
    let problem = bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "weights");
    let draft = w
        .app
        .post("/v1/admin/task-assignment-configs")
        .bearer(&w.admin)
        .json(&json!({"weights": {"skill": 50, "timezone": 10, "experience": 20, "workload": 10, "performance": 10}, "note": "Skill first"}))
        .send()
        .await;
    draft.assert_status(StatusCode::CREATED);
    assert_eq!((draft.value()["version"].as_i64(), draft.value()["status"].as_str()), (Some(2), Some("draft")));
    post(&w, &w.admin, "/v1/admin/task-assignment-configs/2/publish".into(), json!({}))
        .await
        .assert_status(StatusCode::OK);
    post(&w, &w.admin, "/v1/admin/task-assignment-configs/2/publish".into(), json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "config_published");
    let all = w.app.get("/v1/admin/task-assignment-configs").bearer(&w.admin).send().await.value();
    let statuses: Vec<&str> = all.as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["published", "retired"]);

    let id = created(&w, 48, &[]).await;
    let preview = w.app.get(&format!("/v1/tasks/{id}/candidates")).bearer(&w.admin).send().await;
    preview.assert_status(StatusCode::OK);
    let preview = preview.value();
    assert_eq!(preview["config_version"], 2);
    assert_eq!(preview["ranked"].as_array().unwrap().len(), 1);
    assert_eq!(preview["ranked"][0]["freelancer"].as_str(), Some(people[0].1.as_str()));
    assert_eq!(preview["excluded"][0]["reason"], "on_vacation");
    // The preview made no offer; the assignment job does, with version 2.
    assert!(open_offers(&w, &people[0].0).await.is_empty());
    drain_jobs(&w.app).await;
    let offer = open_offers(&w, &people[0].0).await.pop().unwrap();
    assert_eq!(offer["config_version"], 2);
}

/// The pages: a company buys credits and commissions a task, the freelancer accepts the offer and
/// delivers from their page, staff pass it, the company approves it with a rating; a stranger cannot
/// see it.
#[tokio::test]
async fn a_company_commissions_a_task_and_a_freelancer_delivers_it_through_the_pages() {
    use crate::web::{cookie_header, post_form, web_session};
    let w = world("webt", 0).await;
    freelancers(&w, "webt_f", 1, &[("graphic_design", 90)], None).await;
    let client = web_session(&w.app, "webt_client").await;
    let page = |jar: Vec<(String, String)>, path: String| {
        let app = w.app.clone();
        async move { app.get(&path).header("cookie", &cookie_header(&jar)).send().await }
    };
    let board = page(client.clone(), "/tasks".into()).await;
    board.assert_status(StatusCode::OK);
    assert!(board.text().contains("Commission a task"), "{}", board.text());
    let key = board.text().split("name=\"key\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let bought = post_form(
        &w.app,
        &client,
        "/tasks/credits",
        &[
            ("org_id", &w.org),
            ("credits", "50"),
            ("source", "card"),
            ("card_number", "4242424242424242"),
            ("key", &key),
        ],
    )
    .await;
    bought.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(credits(&w).await, (50, 0));
    // A brief without a summary is refused beside its field, and nothing is held.
    let due = (w.app.clock_now() + Duration::days(3)).format("%Y-%m-%dT%H:%M").to_string();
    let brief = |summary: &str| -> Vec<(&'static str, String)> {
        vec![
            ("org_id", w.org.clone()),
            ("category", "static_ads".into()),
            ("title", "Window poster".into()),
            ("deadline", due.clone()),
            ("summary", summary.into()),
            ("deliverables", "poster\nflyer".into()),
            ("formats", "A2 PDF".into()),
        ]
    };
    let bad = brief("");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = post_form(&w.app, &client, "/tasks/new", &bad).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("role=\"alert\""));
    assert_eq!(credits(&w).await, (50, 0));
    let good = brief("A poster for the shop window");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let made = post_form(&w.app, &client, "/tasks/new", &good).await;
    made.assert_status(StatusCode::SEE_OTHER);
    let path = made.header("location").unwrap().to_owned();
    let id = path.trim_start_matches("/tasks/").to_owned();
    drain_jobs(&w.app).await;

    let freelancer = web_session(&w.app, "webt_f0").await;
    let mine = page(freelancer.clone(), "/tasks".into()).await.text();
    assert!(mine.contains("Window poster") && mine.contains("min left"), "{mine}");
    let offer = mine.split("action=\"/task-offers/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    post_form(&w.app, &freelancer, &format!("/task-offers/{offer}/accept"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    post_form(&w.app, &freelancer, &format!("{path}/start"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    // Delivering needs a file; the file form uploads it.
    let refused = post_form(&w.app, &freelancer, &format!("{path}/deliver"), &[("note", "Nothing yet")]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    let web = crate::catalog_web::Web::of(&w.app, "webt_f0").await;
    let res = web
        .upload(
            &w.app,
            &format!("{path}/files"),
            &web.csrf,
            ("poster.pdf", "application/pdf", b"%PDF-1.4 poster"),
            false,
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    post_form(&w.app, &freelancer, &format!("{path}/messages"), &[("body", "Poster attached; flyer follows")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    post_form(&w.app, &freelancer, &format!("{path}/deliver"), &[("note", "Poster and flyer attached")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // The client cannot pass their own task's review: staff do.
    let wrong = post_form(&w.app, &client, &format!("{path}/review"), &[("decision", "pass")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text());
    let staff = web_session(&w.app, "root_admin").await;
    let queue = page(staff.clone(), "/admin/tasks".into()).await.text();
    assert!(queue.contains("Window poster"), "{queue}");
    post_form(&w.app, &staff, &format!("{path}/review"), &[("decision", "pass")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let review = page(client.clone(), path.clone()).await.text();
    assert!(review.contains("poster.pdf") && review.contains("Poster attached; flyer follows"), "{review}");
    assert!(
        review.contains("Poster and flyer attached") && review.contains("A poster for the shop window"),
        "{review}"
    );
    post_form(&w.app, &client, &format!("{path}/approve"), &[("rating", "5")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(page(client.clone(), path.clone()).await.text().contains("completed"));
    assert_eq!(get(&w, &id).await["status"], "completed");
    // The freelancer's page shows what the task earned: 70% of 10 credits at 4.90 USD.
    let earned = page(freelancer.clone(), "/tasks".into()).await.text();
    let total = earned.split("class=\"task-earnings\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(total.contains("34.30"), "{total}");

    crate::support::signed_in(&w.app, "webt_stranger").await;
    let stranger = web_session(&w.app, "webt_stranger").await;
    page(stranger, path).await.assert_status(StatusCode::NOT_FOUND);
}

/// Credits at their boundary: fifty credits make exactly five 10-credit tasks; the sixth is refused and
/// holds nothing.
#[tokio::test]
async fn the_last_credit_is_spent_and_one_more_task_is_refused() {
    let w = world("edge", 50).await;
    for n in 1..=5 {
        created(&w, 48, &[]).await;
        assert_eq!(credits(&w).await, (50 - 10 * n, 10 * n));
    }
    task(&w, 48, &[]).await.assert_problem(StatusCode::CONFLICT, "insufficient_funds");
    assert_eq!(credits(&w).await, (0, 50));
    audit(&w.app.db.pool).await;
}

/// Deliverables are versioned by name (uploaded at once, each still gets its own version), read only by
/// the task's parties and never deleted; a delivery needs a file; messages reach the other parties; an
/// approval builds the company's affinity with the freelancer.
#[tokio::test]
async fn deliverables_are_versioned_messages_reach_the_parties_and_approval_builds_affinity() {
    let w = world("dlv", 50).await;
    let people = freelancers(&w, "dlv_f", 1, &[("graphic_design", 90)], None).await;
    let token = people[0].0.clone();
    let (stranger, _, _) = signed_in(&w.app, "dlv_stranger").await;
    let id = created(&w, 72, &[]).await;
    drain_jobs(&w.app).await;
    let offer = open_offers(&w, &token).await.pop().unwrap();
    post(&w, &token, format!("/v1/task-offers/{}/accept", offer["id"].as_str().unwrap()), json!({}))
        .await
        .assert_status(StatusCode::OK);
    upload_file(&w, &token, &id, "poster.png", b"early").await.assert_problem(StatusCode::CONFLICT, "not_in_progress");
    post(&w, &token, format!("/v1/tasks/{id}/start"), json!({})).await.assert_status(StatusCode::OK);
    post(&w, &token, format!("/v1/tasks/{id}/deliver"), json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "no_deliverable");
    upload_file(&w, &w.client, &id, "poster.png", b"x").await.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    upload_file(&w, &stranger, &id, "poster.png", b"x").await.assert_status(StatusCode::NOT_FOUND);

    // The same name twice: two versions, the first kept.
    let first = upload_file(&w, &token, &id, "poster.png", b"first draft").await;
    first.assert_status(StatusCode::CREATED);
    let first = first.value();
    let second = upload_file(&w, &token, &id, "poster.png", b"second draft").await.value();
    assert_eq!((first["version"].as_i64(), second["version"].as_i64()), (Some(1), Some(2)));
    assert_eq!((first["round"].as_i64(), first["purpose"].as_str()), (Some(0), Some("deliverable")));
    // Uploads of one name at once still get one version each.
    let w = Arc::new(w);
    let uploads: Vec<_> = (0..6)
        .map(|n| {
            let (w, token, id) = (Arc::clone(&w), token.clone(), id.clone());
            tokio::spawn(async move {
                let res = upload_file(&w, &token, &id, "banner.png", format!("banner {n}").as_bytes()).await;
                (res.status, res.value()["version"].as_i64())
            })
        })
        .collect();
    let mut versions = Vec::new();
    for u in uploads {
        let (status, version) = u.await.unwrap();
        assert_eq!(status, StatusCode::CREATED);
        versions.push(version.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let files = w.app.get(&format!("/v1/tasks/{id}/files")).bearer(&w.client).send().await.value();
    let listed: Vec<(String, i64, bool)> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (f["name"].as_str().unwrap().to_owned(), f["version"].as_i64().unwrap(), f["latest"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(listed.len(), 8);
    assert_eq!(listed[0], ("banner.png".to_owned(), 6, true));
    assert_eq!(listed[6..], [("poster.png".to_owned(), 2, true), ("poster.png".to_owned(), 1, false)]);
    let url = first["url"].as_str().unwrap();
    assert_eq!(w.app.get(url).bearer(&w.client).send().await.body.as_ref(), b"first draft");
    w.app.get(url).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    w.app.get(&format!("/v1/tasks/{id}/files")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    w.app.delete(url).bearer(&w.client).send().await.assert_problem(StatusCode::CONFLICT, "file_kept");
    w.app.delete(url).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);

    // Messages between the parties; the freelancer is told.
    let path = format!("/v1/tasks/{id}/messages");
    post(&w, &w.client, path.clone(), json!({"body": "  "}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    post(&w, &stranger, path.clone(), json!({"body": "hello"})).await.assert_status(StatusCode::NOT_FOUND);
    post(&w, &w.client, path.clone(), json!({"body": "Can the logo be larger?"}))
        .await
        .assert_status(StatusCode::CREATED);
    post(&w, &token, path.clone(), json!({"body": "Yes, in the next version."}))
        .await
        .assert_status(StatusCode::CREATED);
    let thread = w.app.get(&path).bearer(&token).send().await.value();
    let said: Vec<&str> = thread["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(said, ["Can the logo be larger?", "Yes, in the next version."]);
    assert_eq!(thread["items"][0]["author_name"], "dlv_client display");
    drain_jobs(&w.app).await;
    let told = w.app.get("/v1/me/notifications").bearer(&token).send().await.value();
    assert!(told.to_string().contains("task.message"), "{told}");
    w.app.get(&path).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);

    // Delivered, passed, approved with a rating: the company's affinity with the freelancer.
    post(&w, &token, format!("/v1/tasks/{id}/deliver"), json!({"note": "Done"})).await.assert_status(StatusCode::OK);
    post(&w, &w.admin, format!("/v1/tasks/{id}/review"), json!({"decision": "pass"}))
        .await
        .assert_status(StatusCode::OK);
    post(&w, &w.client, format!("/v1/tasks/{id}/approve"), json!({"rating": 5})).await.assert_status(StatusCode::OK);
    let affinity = w.app.get(&format!("/v1/orgs/{}/affinity", w.org)).bearer(&w.client).send().await.value();
    assert_eq!(affinity[0]["freelancer"], people[0].1.as_str());
    assert_eq!((affinity[0]["approved"].as_i64(), affinity[0]["rating"].as_f64()), (Some(1), Some(5.0)));
    w.app
        .get(&format!("/v1/orgs/{}/affinity", w.org))
        .bearer(&stranger)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// A freelancer's offer counts down on the tasks page, second by second, in a real browser.
#[tokio::test]
async fn an_offer_counts_down_on_the_page_in_a_browser() {
    use crate::browser::{Browser, serve};
    let w = world("tick", 50).await;
    freelancers(&w, "tick_f", 1, &[("graphic_design", 90)], None).await;
    created(&w, 2, &[]).await; // critical: a 10-minute window
    drain_jobs(&w.app).await;
    let served = serve(&w.app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "tick_f0", "/tasks").await;
    let read = || async { browser.script("return document.querySelector('.countdown').textContent").await };
    let first = read().await;
    let mut later = first.clone();
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        later = read().await;
        if later != first {
            break;
        }
    }
    browser.close().await;
    let (first, later) = (first.as_str().unwrap().to_owned(), later.as_str().unwrap().to_owned());
    assert_ne!(first, later, "the countdown moves");
    let shape = |t: &str| t.ends_with(" s left") && t.contains(" min ");
    assert!(shape(&later), "{later}");
    let minutes: i64 = later.split(" min").next().unwrap().trim().parse().unwrap();
    assert!((0..=10).contains(&minutes), "{later}");
}
