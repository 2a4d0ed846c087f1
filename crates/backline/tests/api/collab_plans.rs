//! Plans over HTTP: Free's limits (two open projects, one person besides the owners) at their
//! boundaries and under concurrent requests; an upgrade paid from the organization's wallet through the
//! ledger; renewals by timer three days before a period ends, retried daily, and the fall back to Free
//! of a period that ends unpaid; a downgrade at the period's end.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use testkit::TestApp;

use crate::collab::{put_member, tally};
use crate::support::{app, create_org, drain_jobs, join, signed_in};
use crate::tasks::key;

/// Puts `minor` US cents into the organization's wallet (as its sales would).
async fn fund(app: &TestApp, org: &str, minor: i64) {
    use ledger::model::{Currency, Owner, kinds};
    let mut conn = app.db.pool.acquire().await.unwrap();
    let org = uuid::Uuid::parse_str(org).unwrap();
    ledger::service::transfer_between(
        &mut conn,
        (Owner::Platform, kinds::CLEARING),
        (Owner::Organization(org), kinds::AVAILABLE),
        &Currency::parse("USD").unwrap(),
        minor,
        "test.fund",
        "sales",
        json!({}),
        app.clock_now(),
    )
    .await
    .unwrap();
}

async fn wallet(app: &TestApp, org: &str) -> i64 {
    use ledger::model::{Currency, Owner, kinds};
    let mut conn = app.db.pool.acquire().await.unwrap();
    let org = uuid::Uuid::parse_str(org).unwrap();
    let usd = Currency::parse("USD").unwrap();
    ledger::service::account(&mut conn, Owner::Organization(org), kinds::AVAILABLE, &usd, app.clock_now())
        .await
        .unwrap()
        .balance
}

async fn choose(app: &TestApp, token: &str, org: &str, plan: &str) -> testkit::TestResponse {
    app.put(&format!("/v1/orgs/{org}/plan")).bearer(token).json(&json!({"plan": plan})).send().await
}

async fn plan(app: &TestApp, token: &str, org: &str) -> Value {
    let res = app.get(&format!("/v1/orgs/{org}/plan")).bearer(token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

async fn new_project(app: &TestApp, token: &str, org: &str, name: &str) -> testkit::TestResponse {
    app.post("/v1/projects").bearer(token).json(&json!({"organization_id": org, "name": name})).send().await
}

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

/// Moves the clock to `when` (forward only).
fn move_to(app: &TestApp, when: DateTime<Utc>) {
    let now = app.clock_now();
    assert!(when >= now, "the clock only moves forward");
    app.clock.advance(when - now);
}

#[tokio::test]
async fn free_allows_two_open_projects_and_one_person_besides_the_owners() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "free_owner").await;
    let org = create_org(&app, &owner, "free-studio").await;
    let offers = app.get("/v1/plans").send().await.value();
    assert_eq!(
        offers[0],
        json!({"name": "free", "price_minor": 0, "currency": "USD", "open_projects": 2,
                                 "collaborators": 1, "storage_bytes": 250_000_000})
    );
    assert_eq!((offers[1]["price_minor"].as_i64(), offers[2]["price_minor"].as_i64()), (Some(1900), Some(4900)));

    let first = new_project(&app, &owner, &org, "One").await.value()["id"].as_str().unwrap().to_owned();
    new_project(&app, &owner, &org, "Two").await.assert_status(StatusCode::CREATED);
    let res = new_project(&app, &owner, &org, "Three").await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "plan_limit");
    // A completed project no longer counts; reopening it needs room again.
    app.patch(&format!("/v1/projects/{first}"))
        .bearer(&owner)
        .json(&json!({"status": "completed"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let third = new_project(&app, &owner, &org, "Three").await;
    third.assert_status(StatusCode::CREATED);
    let third = third.value()["id"].as_str().unwrap().to_owned();
    let res =
        app.patch(&format!("/v1/projects/{first}")).bearer(&owner).json(&json!({"status": "active"})).send().await;
    assert_eq!(res.value()["code"], "plan_limit");

    // One person besides the owners, on any number of the projects.
    let mut people = Vec::new();
    for name in ["free_alice", "free_bob"] {
        let (token, id, _) = signed_in(&app, name).await;
        join(&app, &owner, &org, &token, &format!("{name}@example.com"), "member").await;
        people.push(id);
    }
    put_member(&app, &owner, &third, &people[0], "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &owner, &first, &people[0], "viewer").await.assert_status(StatusCode::OK);
    let res = put_member(&app, &owner, &third, &people[1], "editor").await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "plan_limit");
    let shown = plan(&app, &owner, &org).await;
    assert_eq!(shown["plan"]["name"], "free");
    assert_eq!(shown["usage"]["open_projects"], 2);
    assert_eq!(shown["usage"]["collaborators"], 1);

    // A member does not change the plan; a stranger does not see it; only admins grant one.
    let (stranger, _, _) = signed_in(&app, "free_stranger").await;
    let alice = crate::support::login(&app, "free_alice", crate::support::PASSWORD).await.value()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    choose(&app, &alice, &org, "pro").await.assert_status(StatusCode::FORBIDDEN);
    choose(&app, &stranger, &org, "pro").await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/orgs/{org}/plan")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    let res = app
        .put(&format!("/v1/orgs/{org}/plan"))
        .bearer(&owner)
        .json(&json!({"plan": "team", "complimentary": true}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let res = choose(&app, &owner, &org, "gold").await;
    assert_eq!(res.value()["errors"][0]["field"], "plan");
}

#[tokio::test]
async fn an_upgrade_is_paid_from_the_wallet_renewed_by_timer_and_falls_back_to_free_unpaid() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "pay_owner").await;
    let owner = key(&app, &owner).await; // the clock moves by months
    let org = create_org(&app, &owner, "pay-studio").await;

    // An empty wallet: refused, nothing changed or recorded.
    let res = choose(&app, &owner, &org, "pro").await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "insufficient_funds");
    let shown = plan(&app, &owner, &org).await;
    assert_eq!((shown["plan"]["name"].as_str(), shown["charges"].as_array().unwrap().len()), (Some("free"), 0));

    // Funded, the upgrade is charged at once and lifts the limits.
    fund(&app, &org, 5000).await;
    let res = choose(&app, &owner, &org, "pro").await;
    res.assert_status(StatusCode::OK);
    let pro = res.value();
    assert_eq!(pro["plan"]["name"], "pro");
    assert_eq!(wallet(&app, &org).await, 3100);
    let (start, end) = (at(&pro["period_start"]), at(&pro["period_end"]));
    assert_eq!(start, app.clock_now());
    assert_eq!(end, start.checked_add_months(chrono::Months::new(1)).unwrap());
    assert_eq!(pro["charges"][0]["outcome"], "paid");
    assert!(pro["charges"][0]["entry_id"].is_string());
    let storage = app.get(&format!("/v1/orgs/{org}/storage")).bearer(&owner).send().await.value();
    assert_eq!(storage["quota_bytes"], 10_000_000_000_i64);
    for name in ["A", "B", "C"] {
        new_project(&app, &owner, &org, name).await.assert_status(StatusCode::CREATED);
    }
    // Choosing it again charges nothing.
    choose(&app, &owner, &org, "pro").await.assert_status(StatusCode::OK);
    assert_eq!(wallet(&app, &org).await, 3100);
    // The charge is on the organization's statement, as a ledger entry.
    let account = {
        use ledger::model::{Currency, Owner, kinds};
        let mut conn = app.db.pool.acquire().await.unwrap();
        let org = uuid::Uuid::parse_str(&org).unwrap();
        let usd = Currency::parse("USD").unwrap();
        ledger::service::account(&mut conn, Owner::Organization(org), kinds::AVAILABLE, &usd, app.clock_now())
            .await
            .unwrap()
            .id
    };
    let statement = app.get(&format!("/v1/ledger/accounts/{}/statement", account.0)).bearer(&owner).send().await;
    statement.assert_status(StatusCode::OK);
    let statement = statement.text();
    assert!(
        statement.contains("plan.charge") && statement.contains(pro["charges"][0]["entry_id"].as_str().unwrap()),
        "{statement}"
    );

    // The renewal is charged three days before the end, not a second earlier.
    move_to(&app, end - Duration::days(3) - Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(wallet(&app, &org).await, 3100);
    move_to(&app, end - Duration::days(3));
    drain_jobs(&app).await;
    assert_eq!(wallet(&app, &org).await, 1200);
    assert_eq!(plan(&app, &owner, &org).await["renewed"], true);
    move_to(&app, end);
    drain_jobs(&app).await;
    let second = plan(&app, &owner, &org).await;
    assert_eq!((second["plan"]["name"].as_str(), at(&second["period_start"])), (Some("pro"), end));
    let end = at(&second["period_end"]);

    // 12.00 cannot pay 19.00: three daily tries fail, the owner is told, and at the end the
    // organization is on Free, its projects all kept.
    for attempt in 1..=3 {
        move_to(&app, end - Duration::days(4 - attempt));
        drain_jobs(&app).await;
        assert_eq!(plan(&app, &owner, &org).await["renewal_failures"], attempt, "try {attempt}");
    }
    let told = app.get("/v1/me/notifications").bearer(&owner).send().await.value();
    assert!(told.to_string().contains("could not be renewed"), "{told}");
    move_to(&app, end);
    drain_jobs(&app).await;
    let free = plan(&app, &owner, &org).await;
    assert_eq!(free["plan"]["name"], "free");
    assert_eq!(free["period_end"], Value::Null);
    assert_eq!(free["usage"]["open_projects"], 3);
    let outcomes: Vec<&str> =
        free["charges"].as_array().unwrap().iter().map(|c| c["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["failed", "failed", "failed", "paid", "paid"]);
    assert_eq!(wallet(&app, &org).await, 1200);
    let projects = app.get(&format!("/v1/projects?organization_id={org}")).bearer(&owner).send().await.value();
    assert_eq!(projects["items"].as_array().unwrap().len(), 3);
    let storage = app.get(&format!("/v1/orgs/{org}/storage")).bearer(&owner).send().await.value();
    assert_eq!(storage["quota_bytes"], 250_000_000);
    // Over Free's limits, nothing new is opened.
    assert_eq!(new_project(&app, &owner, &org, "D").await.value()["code"], "plan_limit");
}

#[tokio::test]
async fn a_downgrade_waits_for_the_period_end() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "down_owner").await;
    let owner = key(&app, &owner).await;
    let org = create_org(&app, &owner, "down-studio").await;
    fund(&app, &org, 10_000).await;
    let team = choose(&app, &owner, &org, "team").await.value();
    assert_eq!(wallet(&app, &org).await, 5100);
    let end = at(&team["period_end"]);
    // Down to Pro: still Team until the end; called off by choosing Team again; chosen again.
    let res = choose(&app, &owner, &org, "pro").await.value();
    assert_eq!((res["plan"]["name"].as_str(), res["next_plan"].as_str()), (Some("team"), Some("pro")));
    assert_eq!(choose(&app, &owner, &org, "team").await.value()["next_plan"], Value::Null);
    choose(&app, &owner, &org, "pro").await.assert_status(StatusCode::OK);
    // The renewal charges Pro's price; at the end the organization is on Pro.
    move_to(&app, end - Duration::days(3));
    drain_jobs(&app).await;
    assert_eq!(wallet(&app, &org).await, 3200);
    move_to(&app, end);
    drain_jobs(&app).await;
    let pro = plan(&app, &owner, &org).await;
    assert_eq!((pro["plan"]["name"].as_str(), pro["next_plan"].as_str()), (Some("pro"), None));
    // Cancelled (down to Free): no renewal is charged, and at the end it is Free.
    let end = at(&pro["period_end"]);
    choose(&app, &owner, &org, "free").await.assert_status(StatusCode::OK);
    move_to(&app, end - Duration::days(1));
    drain_jobs(&app).await;
    assert_eq!(wallet(&app, &org).await, 3200);
    move_to(&app, end);
    drain_jobs(&app).await;
    assert_eq!(plan(&app, &owner, &org).await["plan"]["name"], "free");
}

#[tokio::test]
async fn free_limits_hold_under_concurrent_requests() {
    let app = Arc::new(app().await);
    let (owner, _, _) = signed_in(&app, "race_owner").await;
    for round in 0..3 {
        // Six projects opened at once on Free: two are.
        let org = create_org(&app, &owner, &format!("race-{round}")).await;
        let requests: Vec<_> = (0..6)
            .map(|i| {
                let (app, owner, org) = (app.clone(), owner.clone(), org.clone());
                tokio::spawn(async move { new_project(&app, &owner, &org, &format!("P{i}")).await })
            })
            .collect();
        assert_eq!(tally(requests, StatusCode::CREATED, "plan_limit").await, (2, 4), "round {round}");
        // Four people added at once, two to each project: one gets in.
        let projects = app.get(&format!("/v1/projects?organization_id={org}")).bearer(&owner).send().await.value();
        let ids: Vec<String> =
            projects["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect();
        let mut people = Vec::new();
        for i in 0..4 {
            let name = format!("race{round}_p{i}");
            let (token, id, _) = signed_in(&app, &name).await;
            join(&app, &owner, &org, &token, &format!("{name}@example.com"), "member").await;
            people.push(id);
        }
        let requests: Vec<_> = people
            .into_iter()
            .enumerate()
            .map(|(i, user)| {
                let (app, owner, project) = (app.clone(), owner.clone(), ids[i % 2].clone());
                tokio::spawn(async move { put_member(&app, &owner, &project, &user, "editor").await })
            })
            .collect();
        assert_eq!(tally(requests, StatusCode::OK, "plan_limit").await, (1, 3), "round {round}");
    }
}

#[tokio::test]
async fn an_upgrade_may_be_paid_by_card() {
    let app = app().await;
    let (owner, owner_id, _) = signed_in(&app, "card_owner").await;
    let org = create_org(&app, &owner, "card-studio").await;
    let pay = |card: &'static str, key: &'static str| {
        let (app, owner, org) = (&app, owner.clone(), org.clone());
        async move {
            app.put(&format!("/v1/orgs/{org}/plan"))
                .bearer(&owner)
                .header("idempotency-key", key)
                .json(&json!({"plan": "team", "source": "card", "card_number": card}))
                .send()
                .await
        }
    };
    // Declined: nothing changes.
    let res = pay("4000000000000002", "card-1").await;
    res.assert_status(StatusCode::PAYMENT_REQUIRED);
    assert_eq!(res.value()["code"], "payment_failed");
    assert_eq!(plan(&app, &owner, &org).await["plan"]["name"], "free");
    // Accepted: the month is charged to the card, through the owner's wallet; the organization's wallet
    // is not touched. Sent again with the same key, nothing more is charged.
    let res = pay("4242424242424242", "card-2").await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["plan"]["name"], "team");
    pay("4242424242424242", "card-2").await.assert_status(StatusCode::OK);
    assert_eq!(wallet(&app, &org).await, 0);
    let charges = plan(&app, &owner, &org).await["charges"].as_array().unwrap().len();
    assert_eq!(charges, 1);
    // The card's 49.00 came into the owner's wallet and went on to the plan: it holds nothing now, and
    // the platform's clearing account shows the card's money came in once.
    let (balance, card_in) = {
        use ledger::model::{Currency, Owner, kinds};
        let mut conn = app.db.pool.acquire().await.unwrap();
        let usd = Currency::parse("USD").unwrap();
        let owner = uuid::Uuid::parse_str(&owner_id).unwrap();
        let mine = ledger::service::account(&mut conn, Owner::User(owner), kinds::AVAILABLE, &usd, app.clock_now())
            .await
            .unwrap();
        let clearing =
            ledger::service::account(&mut conn, Owner::Platform, kinds::CLEARING, &usd, app.clock_now()).await.unwrap();
        (mine.balance, clearing.balance)
    };
    assert_eq!((balance, card_in), (0, -4900));
    let res = app
        .put(&format!("/v1/orgs/{org}/plan"))
        .bearer(&owner)
        .json(&json!({"plan": "team", "source": "cheque"}))
        .send()
        .await;
    assert_eq!(res.value()["errors"][0]["field"], "source");
}

/// The platform's clearing account in US dollars: what came in by card, negated.
async fn card_money_in(app: &TestApp) -> i64 {
    use ledger::model::{Currency, Owner, kinds};
    let mut conn = app.db.pool.acquire().await.unwrap();
    let usd = Currency::parse("USD").unwrap();
    -ledger::service::account(&mut conn, Owner::Platform, kinds::CLEARING, &usd, app.clock_now()).await.unwrap().balance
}

async fn save_card(app: &TestApp, token: &str, number: &str) -> Value {
    let res = app.post("/v1/me/cards").bearer(token).json(&json!({"card_number": number})).send().await;
    res.assert_status(StatusCode::CREATED);
    res.value()
}

/// A card on file renews the plan each month through the payment provider: charged into its holder's
/// wallet and paid from there; a declined card is a failed renewal, retried; a removed card leaves the
/// organization's wallet to pay. Only the organization's owners and admins set it, with a card of
/// their own.
#[tokio::test]
async fn renewals_charge_the_plans_card_on_file() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "cof_owner").await;
    let owner = key(&app, &owner).await; // the clock moves by months
    let (other, _, _) = signed_in(&app, "cof_other").await;
    let other = key(&app, &other).await;
    let org = create_org(&app, &owner, "cof-studio").await;
    fund(&app, &org, 1900).await;
    choose(&app, &owner, &org, "pro").await.assert_status(StatusCode::OK);
    let end = at(&plan(&app, &owner, &org).await["period_end"]);

    // Cards on file are their holder's, sealed and shown masked; the sandbox keeps only cards that settle.
    let good = save_card(&app, &owner, "4242 4242 4242 4242").await;
    assert_eq!((good["provider"].as_str(), good["display"].as_str()), (Some("sandbox"), Some("•••• 4242")));
    let res = app.post("/v1/me/cards").bearer(&owner).json(&json!({"card_number": "4000000000003220"})).send().await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "card_number");
    let theirs = save_card(&app, &other, "4242424242424242").await;
    let good_id = uuid::Uuid::parse_str(good["id"].as_str().unwrap()).unwrap();
    let sealed = sqlx::query_scalar!("SELECT secret FROM saved_cards WHERE id = $1", good_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(!sealed.contains("4242"), "the number is sealed at rest");
    let mine = app.get("/v1/me/cards").bearer(&owner).send().await.value();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let path = format!("/v1/orgs/{org}/plan/card");
    let set = |token: &str, card: &Value| app.put(&path).bearer(token).json(&json!({"card_id": card["id"]})).send();
    set(&other, &theirs).await.assert_status(StatusCode::NOT_FOUND);
    let res = set(&owner, &theirs).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::collab::field_codes(&res), vec![("card_id".to_owned(), "not_found".to_owned())]);
    let res = set(&owner, &good).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(
        (res.value()["renews_by"].as_str(), res.value()["card"]["display"].as_str()),
        (Some("card"), Some("•••• 4242"))
    );

    // Three days before the end the card is charged 19.00; the organization's wallet is not touched.
    let before = card_money_in(&app).await;
    move_to(&app, end - Duration::days(3));
    drain_jobs(&app).await;
    let renewed = plan(&app, &owner, &org).await;
    assert_eq!(renewed["renewed"], true, "{renewed}");
    assert_eq!(card_money_in(&app).await - before, 1900);
    assert_eq!(wallet(&app, &org).await, 0);
    assert_eq!(renewed["charges"][0]["outcome"], "paid");
    move_to(&app, end);
    drain_jobs(&app).await;
    let end = at(&plan(&app, &owner, &org).await["period_end"]);

    // A declined card: a failed renewal with why, the owners told, tried again the next day.
    let declined = save_card(&app, &owner, "4000000000000002").await;
    set(&owner, &declined).await.assert_status(StatusCode::OK);
    move_to(&app, end - Duration::days(3));
    drain_jobs(&app).await;
    let failed = plan(&app, &owner, &org).await;
    assert_eq!(failed["renewal_failures"], 1);
    assert!(failed["charges"][0]["reason"].as_str().unwrap().contains("•••• 0002 was declined"), "{failed}");
    // The card removed, the wallet pays the next try.
    let res = app.delete(&format!("/v1/me/cards/{}", declined["id"].as_str().unwrap())).bearer(&other).send().await;
    res.assert_status(StatusCode::NOT_FOUND);
    app.delete(&format!("/v1/me/cards/{}", declined["id"].as_str().unwrap()))
        .bearer(&owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(plan(&app, &owner, &org).await["renews_by"], "wallet");
    fund(&app, &org, 1900).await;
    let before = card_money_in(&app).await;
    move_to(&app, end - Duration::days(2));
    drain_jobs(&app).await;
    let paid = plan(&app, &owner, &org).await;
    assert_eq!((paid["renewed"].as_bool(), paid["renewal_failures"].as_i64()), (Some(true), Some(0)), "{paid}");
    assert_eq!((wallet(&app, &org).await, card_money_in(&app).await - before), (0, 0));
    app.delete(&path).bearer(&owner).send().await.assert_status(StatusCode::OK);

    // An admin's card renews the plan while they are an admin; made a member, their card is not charged.
    join(&app, &owner, &org, &other, "cof_other@example.com", "admin").await;
    assert_eq!(set(&other, &theirs).await.value()["renews_by"], "card");
    let other_id = app.get("/v1/me").bearer(&other).send().await.value()["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/orgs/{org}/members/{other_id}"))
        .bearer(&owner)
        .json(&json!({"role": "member"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let shown = plan(&app, &owner, &org).await;
    assert_eq!((shown["renews_by"].as_str(), &shown["card"]), (Some("wallet"), &Value::Null));

    // A charge of a card on file retried with its key is the first charge, not a second.
    let card = uuid::Uuid::parse_str(good["id"].as_str().unwrap()).unwrap();
    let settings = ledger::LedgerSettings::default();
    let now = app.clock_now();
    let charge = || ledger::cards::service::charge(&app.ctx, &settings, card, 500, "USD", "retried", "key-1", now);
    let before = card_money_in(&app).await;
    let (first, again) = (charge().await.unwrap(), charge().await.unwrap());
    assert_eq!((first.id, first.state.as_str()), (again.id, "captured"));
    assert_eq!(card_money_in(&app).await - before, 500);
}

/// The plan page: the plan, its use and charges for the organization's members; its owners change the
/// plan (by card here) and choose the card renewals charge; a refused card is said beside its field;
/// members see no forms, strangers not the page.
#[tokio::test]
async fn the_plan_page_changes_the_plan_and_the_card_renewals_charge() {
    use crate::catalog_web::{Web, location};
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "planweb_owner").await;
    let org = create_org(&app, &owner, "planweb-studio").await;
    let (member, _, _) = signed_in(&app, "planweb_member").await;
    join(&app, &owner, &org, &member, "planweb_member@example.com", "member").await;
    signed_in(&app, "planweb_stranger").await;
    let path = format!("/orgs/{org}/plan");
    let mut web = Web::of(&app, "planweb_owner").await;
    let shown = web.get(&app, &path).await;
    shown.assert_status(StatusCode::OK);
    assert!(shown.text().contains("Plan: free") && shown.text().contains("Change the plan"), "{}", shown.text());

    // A card the sandbox does not know: said beside the field, nothing changed.
    let res =
        web.post(&app, &path, &[("plan", "team"), ("source", "card"), ("card_number", "1234"), ("key", "k-1")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"choice-card-error\""), "{}", res.text());
    let res = web
        .post(&app, &path, &[("plan", "team"), ("source", "card"), ("card_number", "4242424242424242"), ("key", "k-2")])
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(location(&res), path);
    // Sent twice (the same form's key), the card is charged once.
    web.post(&app, &path, &[("plan", "team"), ("source", "card"), ("card_number", "4242424242424242"), ("key", "k-2")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let shown = plan(&app, &owner, &org).await;
    assert_eq!((shown["plan"]["name"].as_str(), shown["charges"].as_array().unwrap().len()), (Some("team"), 1));

    // A new card kept on file and chosen for renewals; then back to the wallet.
    let renewals = format!("{path}/card");
    web.post(&app, &renewals, &[("card", "new"), ("card_number", "4242 4242 4242 4242")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = web.get(&app, &path).await.text();
    assert!(page.contains("the card •••• 4242"), "{page}");
    assert_eq!(plan(&app, &owner, &org).await["renews_by"], "card");
    web.post(&app, &renewals, &[("card", "wallet")]).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(plan(&app, &owner, &org).await["renews_by"], "wallet");

    let member_page = Web::of(&app, "planweb_member").await.get(&app, &path).await;
    member_page.assert_status(StatusCode::OK);
    assert!(member_page.text().contains("Plan: team") && !member_page.text().contains("Change the plan"));
    Web::of(&app, "planweb_stranger").await.get(&app, &path).await.assert_status(StatusCode::NOT_FOUND);
}

/// An upgrade within a paid period is charged the new plan's month less what is left unused of what
/// was paid: half a month of Pro leaves 9.50 of its 19.00, so Team costs 39.50 that day; a renewal
/// already paid for the next period is credited whole; by card, the card is charged the same.
#[tokio::test]
async fn an_upgrade_within_a_paid_period_is_charged_less_what_is_left_unused() {
    let app = app().await;
    let (owner, owner_id, _) = signed_in(&app, "prorate_owner").await;
    let owner = key(&app, &owner).await; // the clock moves by weeks
    let org = create_org(&app, &owner, "prorate-studio").await;
    fund(&app, &org, 10_000).await;
    let pro = choose(&app, &owner, &org, "pro").await.value();
    let (start, end) = (at(&pro["period_start"]), at(&pro["period_end"]));
    move_to(&app, start + (end - start) / 2);
    let team = choose(&app, &owner, &org, "team").await;
    team.assert_status(StatusCode::OK);
    let team = team.value();
    assert_eq!(team["plan"]["name"], "team");
    assert_eq!(at(&team["period_start"]), app.clock_now());
    assert_eq!((&team["charges"][0]["amount_minor"], &team["charges"][0]["credit_minor"]), (&json!(3950), &json!(950)));
    assert_eq!(team["charges"][1]["credit_minor"], 0);
    assert_eq!(wallet(&app, &org).await, 10_000 - 1900 - 3950);

    // A renewal paid ahead (three days before the end) is unused whole; two days of the period left.
    let org = create_org(&app, &owner, "prorate-ahead").await;
    fund(&app, &org, 10_000).await;
    let pro = choose(&app, &owner, &org, "pro").await.value();
    let (start, end) = (at(&pro["period_start"]), at(&pro["period_end"]));
    move_to(&app, end - Duration::days(2));
    drain_jobs(&app).await;
    assert_eq!(plan(&app, &owner, &org).await["renewed"], true);
    assert_eq!(wallet(&app, &org).await, 10_000 - 2 * 1900);
    let left = 1900 * Duration::days(2).num_milliseconds() / (end - start).num_milliseconds();
    let team = choose(&app, &owner, &org, "team").await.value();
    assert_eq!(team["charges"][0]["credit_minor"], json!(left + 1900), "{team}");
    assert_eq!(team["charges"][0]["amount_minor"], json!(4900 - left - 1900));
    assert_eq!(wallet(&app, &org).await, 10_000 - 2 * 1900 - (4900 - left - 1900));
    // The old period's end passes: the team's period goes on, and nothing more is charged.
    move_to(&app, end + Duration::hours(1));
    drain_jobs(&app).await;
    let after = plan(&app, &owner, &org).await;
    assert_eq!((&after["plan"]["name"], &after["period_start"]), (&json!("team"), &team["period_start"]), "{after}");
    assert_eq!(after["charges"].as_array().unwrap().len(), 3, "{after}");

    // By card, half a month in: the card is charged the same 39.50 (a cent at most stays in the
    // owner's wallet), and the organization's wallet is not touched.
    let org = create_org(&app, &owner, "prorate-card").await;
    fund(&app, &org, 1900).await;
    let pro = choose(&app, &owner, &org, "pro").await.value();
    let (start, end) = (at(&pro["period_start"]), at(&pro["period_end"]));
    move_to(&app, start + (end - start) / 2);
    let before = card_money_in(&app).await;
    let res = app
        .put(&format!("/v1/orgs/{org}/plan"))
        .bearer(&owner)
        .header("idempotency-key", "prorate-card-1")
        .json(&json!({"plan": "team", "source": "card", "card_number": "4242424242424242"}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    let team = res.value();
    assert_eq!((&team["charges"][0]["amount_minor"], &team["charges"][0]["credit_minor"]), (&json!(3950), &json!(950)));
    let charged = card_money_in(&app).await - before;
    assert!((3950..=3951).contains(&charged), "the card was charged {charged}");
    assert_eq!(wallet(&app, &org).await, 0);
    let left_over = {
        use ledger::model::{Currency, Owner, kinds};
        let mut conn = app.db.pool.acquire().await.unwrap();
        let usd = Currency::parse("USD").unwrap();
        let me = uuid::Uuid::parse_str(&owner_id).unwrap();
        ledger::service::account(&mut conn, Owner::User(me), kinds::AVAILABLE, &usd, app.clock_now())
            .await
            .unwrap()
            .balance
    };
    assert_eq!(left_over, charged - 3950);
}
