//! The support desk over HTTP: a ticket from opening to rating, internal notes kept from the requester
//! through every route that returns messages, targets missed by their timers at their due time exactly,
//! reopening within seven days, canned replies, who may do what, and steps taken at once.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::collab::{Events, field_codes};
use crate::support::{app, drain_jobs, signed_in, signed_in_with_roles};
use crate::tasks::key;

/// A customer, a second customer, two agents (staff) and an admin, each with an API key (the tests move
/// the clock by hours).
struct Desk {
    customer: String,
    customer_id: String,
    stranger: String,
    sam: String,
    sam_id: String,
    kim: String,
    admin: String,
}

async fn staff(app: &TestApp, username: &str, roles: &[&str]) -> (String, String) {
    let (token, id) = signed_in_with_roles(app, username, &format!("{username} display"), roles).await;
    (key(app, &token).await, id)
}

async fn desk(app: &TestApp, prefix: &str) -> Desk {
    let (customer, customer_id, _) = signed_in(app, &format!("{prefix}_cust")).await;
    let (stranger, _, _) = signed_in(app, &format!("{prefix}_other")).await;
    let (sam, sam_id) = staff(app, &format!("{prefix}_sam"), &["staff"]).await;
    let (kim, _) = staff(app, &format!("{prefix}_kim"), &["staff"]).await;
    let (admin, _) = staff(app, &format!("{prefix}_root"), &["admin"]).await;
    Desk {
        customer: key(app, &customer).await,
        customer_id,
        stranger: key(app, &stranger).await,
        sam,
        sam_id,
        kim,
        admin,
    }
}

async fn open(app: &TestApp, token: &str, subject: &str, priority: &str) -> Value {
    let res = app
        .post("/v1/support/tickets")
        .bearer(token)
        .json(&json!({"subject": subject, "description": format!("{subject}: please help."),
                      "category": "payouts", "priority": priority}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    res.value()
}

async fn say(app: &TestApp, token: &str, ticket: &str, body: Value) -> testkit::TestResponse {
    app.post(&format!("/v1/support/tickets/{ticket}/messages")).bearer(token).json(&body).send().await
}

async fn ticket(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app.get(&format!("/v1/support/tickets/{id}")).bearer(token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn notifications(app: &TestApp, token: &str) -> Value {
    drain_jobs(app).await;
    app.get("/v1/me/notifications").bearer(token).send().await.value()
}

#[tokio::test]
async fn a_ticket_goes_from_opening_to_its_rating() {
    let app = app().await;
    let d = desk(&app, "flow").await;
    let t = open(&app, &d.customer, "Payout missing", "high").await;
    let id = id_of(&t);
    assert!(t["number"].as_i64().unwrap() >= 1001, "{t}");
    assert_eq!(t["status"], "open");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["requester"]["id"], d.customer_id.as_str());
    // The requester sees neither the notes nor the targets.
    assert_eq!(t["notes_conversation_id"], Value::Null);
    assert_eq!(t["sla"], Value::Null);
    assert_eq!(t["can"], json!(["reply", "close"]));
    // The description is the conversation's first message.
    let messages = app.get(&format!("/v1/support/tickets/{id}/messages")).bearer(&d.customer).send().await.value();
    assert_eq!(messages["items"].as_array().unwrap().len(), 1);
    assert_eq!(messages["items"][0]["body"], "Payout missing: please help.");
    assert_eq!(messages["items"][0]["internal"], false);

    // The agents are told of it, and see its targets: a high ticket is answered in 4 hours and
    // resolved in a day.
    assert!(notifications(&app, &d.sam).await.to_string().contains("Payout missing"));
    let seen = ticket(&app, &d.sam, &id).await;
    let opened = chrono::DateTime::parse_from_rfc3339(seen["created_at"].as_str().unwrap()).unwrap();
    let due = |field: &str| chrono::DateTime::parse_from_rfc3339(seen["sla"][field].as_str().unwrap()).unwrap();
    assert_eq!(due("first_response_due") - opened, Duration::hours(4));
    assert_eq!(due("resolution_due") - opened, Duration::hours(24));
    assert_eq!(seen["sla"]["next"], "first_response");
    assert!(seen["notes_conversation_id"].is_string());
    assert_eq!(seen["can"], json!(["reply", "note", "assign", "change", "resolve", "close"]));

    // Sam takes it and answers: the first response, waiting on the customer.
    let res = app
        .put(&format!("/v1/support/tickets/{id}/assignee"))
        .bearer(&d.sam)
        .json(&json!({"user_id": d.sam_id}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["assignee"]["id"], d.sam_id.as_str());
    app.clock.advance(Duration::minutes(30));
    say(&app, &d.sam, &id, json!({"body": "Which payout is it?"})).await.assert_status(StatusCode::CREATED);
    let answered = ticket(&app, &d.sam, &id).await;
    assert_eq!(answered["status"], "pending_customer");
    assert!(answered["sla"]["first_responded_at"].is_string());
    assert_eq!(answered["sla"]["next"], "resolution");
    // The customer is told of the answer, and answers through the conversation's own route: the
    // ticket waits on the desk.
    assert!(notifications(&app, &d.customer).await.to_string().contains("Which payout is it?"));
    let conversation = t["conversation_id"].as_str().unwrap();
    let res = app
        .post(&format!("/v1/conversations/{conversation}/messages"))
        .bearer(&d.customer)
        .json(&json!({"body": "The one of 28 November."}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(ticket(&app, &d.customer, &id).await["status"], "pending_staff");

    // Rating an open ticket is refused; Sam resolves it; the customer is told and rates it.
    let res = app
        .put(&format!("/v1/support/tickets/{id}/rating"))
        .bearer(&d.customer)
        .json(&json!({"score": 5}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "ticket_not_resolved");
    let res = app
        .post(&format!("/v1/support/tickets/{id}/resolve"))
        .bearer(&d.sam)
        .json(&json!({"resolution": "The payout was sent again."}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    let resolved = res.value();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["sla"]["next"], Value::Null);
    let at = chrono::DateTime::parse_from_rfc3339(resolved["resolved_at"].as_str().unwrap()).unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(resolved["reopen_until"].as_str().unwrap()).unwrap();
    assert_eq!(until - at, Duration::days(7));
    let res = app.post(&format!("/v1/support/tickets/{id}/resolve")).bearer(&d.kim).json(&json!({})).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "ticket_settled");
    assert!(notifications(&app, &d.customer).await.to_string().contains("The payout was sent again."));
    assert_eq!(ticket(&app, &d.customer, &id).await["can"], json!(["reply", "close", "reopen", "rate"]));

    for (score, code) in [(0, "out_of_range"), (6, "out_of_range")] {
        let res = app
            .put(&format!("/v1/support/tickets/{id}/rating"))
            .bearer(&d.customer)
            .json(&json!({"score": score}))
            .send()
            .await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_codes(&res), vec![("score".to_owned(), code.to_owned())]);
    }
    let res =
        app.put(&format!("/v1/support/tickets/{id}/rating")).bearer(&d.sam).json(&json!({"score": 5})).send().await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.value()["code"], "not_the_requester");
    for score in [1, 5] {
        let res = app
            .put(&format!("/v1/support/tickets/{id}/rating"))
            .bearer(&d.customer)
            .json(&json!({"score": score, "comment": "Quick and kind."}))
            .send()
            .await;
        res.assert_status(StatusCode::OK);
        assert_eq!(res.value()["satisfaction"]["score"], score);
    }
    // The customer closes it; the history has every step.
    let res = app.post(&format!("/v1/support/tickets/{id}/close")).bearer(&d.customer).send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["status"], "closed");
    assert_eq!(res.value()["satisfaction"]["comment"], "Quick and kind.");
    let history = app.get(&format!("/v1/support/tickets/{id}/events")).bearer(&d.kim).send().await.value();
    let steps: Vec<String> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["kind"].as_str().unwrap(), e["to_status"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        steps,
        [
            "opened:",
            "assigned:",
            "status:pending_customer",
            "status:pending_staff",
            "status:resolved",
            "rated:",
            "rated:",
            "status:closed"
        ]
    );
    app.get(&format!("/v1/support/tickets/{id}/events"))
        .bearer(&d.customer)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn internal_notes_never_reach_the_requester_by_any_route() {
    let app = app().await;
    let d = desk(&app, "notes").await;
    let t = open(&app, &d.customer, "Refund question", "medium").await;
    let id = id_of(&t);
    let public = t["conversation_id"].as_str().unwrap().to_owned();
    let notes = ticket(&app, &d.sam, &id).await["notes_conversation_id"].as_str().unwrap().to_owned();

    // Notes written three ways: on the ticket, on its conversation with `internal`, and in the notes
    // themselves; one mentions the customer, who may not read them.
    let res = say(&app, &d.sam, &id, json!({"body": "zebracode one: refund looks like fraud", "internal": true})).await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.value()["internal"], true);
    assert_eq!(res.value()["conversation_id"], notes.as_str());
    let first_note = id_of(&res.value());
    app.clock.advance(Duration::seconds(1));
    let res = app
        .post(&format!("/v1/conversations/{public}/messages"))
        .bearer(&d.kim)
        .json(&json!({"body": "zebracode two, @notes_cust", "internal": true}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.value()["conversation_id"], notes.as_str());
    assert_eq!(res.value()["mentions"], json!([]));
    app.clock.advance(Duration::seconds(1));
    let res = app
        .post(&format!("/v1/conversations/{notes}/messages"))
        .bearer(&d.sam)
        .json(&json!({"body": "zebracode three", "reply_to": first_note}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    // A note is no answer: the ticket still waits for its first response.
    let seen = ticket(&app, &d.sam, &id).await;
    assert_eq!(seen["status"], "open");
    assert_eq!(seen["sla"]["first_responded_at"], Value::Null);
    app.clock.advance(Duration::seconds(1));
    say(&app, &d.sam, &id, json!({"body": "We are looking into it."})).await.assert_status(StatusCode::CREATED);

    // The agents' timeline has all five, the notes marked.
    let timeline = app.get(&format!("/v1/support/tickets/{id}/messages")).bearer(&d.kim).send().await.value();
    let internal: Vec<bool> =
        timeline["items"].as_array().unwrap().iter().map(|m| m["internal"].as_bool().unwrap()).collect();
    assert_eq!(internal, [false, true, true, true, false]);

    // The customer, by every route that returns messages or conversations, never sees one.
    let never = |what: &str, v: &Value| {
        assert!(!v.to_string().contains("zebracode"), "{what} showed a note: {v}");
    };
    let customer_gets = |path: String| {
        let app = &app;
        let token = d.customer.clone();
        async move { app.get(&path).bearer(&token).send().await }
    };
    let mine = customer_gets(format!("/v1/support/tickets/{id}/messages")).await;
    mine.assert_status(StatusCode::OK);
    assert_eq!(mine.value()["items"].as_array().unwrap().len(), 2);
    never("the ticket's timeline", &mine.value());
    never("the ticket", &customer_gets(format!("/v1/support/tickets/{id}")).await.value());
    never("the ticket list", &customer_gets("/v1/support/tickets".into()).await.value());
    never("the conversation", &customer_gets(format!("/v1/conversations/{public}/messages")).await.value());
    never("my conversations", &customer_gets("/v1/me/conversations".into()).await.value());
    never("search", &customer_gets("/v1/search?q=zebracode".into()).await.value());
    for path in [
        format!("/v1/conversations/{notes}"),
        format!("/v1/conversations/{notes}/messages"),
        format!("/v1/messages/{first_note}/replies"),
        format!("/v1/messages/{first_note}/edits"),
        format!("/v1/threads/support_notes/{id}"),
    ] {
        let res = customer_gets(path.clone()).await;
        res.assert_status(StatusCode::NOT_FOUND);
        never(&path, &res.value());
    }
    let (status, _) = Events::open_with(
        &app,
        &format!("/v1/conversations/{notes}/stream"),
        ("authorization", format!("Bearer {}", d.customer)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.put(&format!("/v1/messages/{first_note}/reactions/:eyes:"))
        .bearer(&d.customer)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/v1/conversations/{notes}/typing"))
        .bearer(&d.customer)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.patch(&format!("/v1/messages/{first_note}"))
        .bearer(&d.customer)
        .json(&json!({"body": "mine now"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.delete(&format!("/v1/messages/{first_note}"))
        .bearer(&d.customer)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/v1/conversations/{notes}/messages"))
        .bearer(&d.customer)
        .json(&json!({"body": "let me in"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    never("notifications", &notifications(&app, &d.customer).await);

    // The customer cannot write a note, on the ticket or on its conversation.
    let res = say(&app, &d.customer, &id, json!({"body": "secret?", "internal": true})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&res), vec![("internal".to_owned(), "not_allowed".to_owned())]);
    let res = app
        .post(&format!("/v1/conversations/{public}/messages"))
        .bearer(&d.customer)
        .json(&json!({"body": "secret?", "internal": true}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&res), vec![("internal".to_owned(), "not_allowed".to_owned())]);
    // Elsewhere a note is no thing at all.
    let (token, _, _) = signed_in(&app, "notes_dm").await;
    let res =
        app.post("/v1/conversations").bearer(&token).json(&json!({"kind": "direct", "user_id": d.sam_id})).send().await;
    let direct = id_of(&res.value());
    let res = app
        .post(&format!("/v1/conversations/{direct}/messages"))
        .bearer(&token)
        .json(&json!({"body": "psst", "internal": true}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&res), vec![("internal".to_owned(), "not_allowed".to_owned())]);
    // The agents find the notes by search.
    assert!(app.get("/v1/search?q=zebracode").bearer(&d.kim).send().await.text().contains("zebracode two"));
}

#[tokio::test]
async fn a_missed_target_is_escalated_by_its_timer_at_its_due_time_exactly() {
    let app = app().await;
    let d = desk(&app, "sla").await;
    let late = id_of(&open(&app, &d.customer, "Late one", "high").await);
    let answered = id_of(&open(&app, &d.customer, "Answered one", "high").await);
    app.put(&format!("/v1/support/tickets/{late}/assignee"))
        .bearer(&d.kim)
        .json(&json!({"user_id": d.sam_id}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    // A second before the first answer is due, nothing is missed; the other ticket is answered.
    app.clock.advance(Duration::hours(4) - Duration::seconds(1));
    drain_jobs(&app).await;
    let seen = ticket(&app, &d.kim, &late).await;
    assert_eq!(seen["sla"]["first_response_breached_at"], Value::Null);
    assert_eq!(seen["sla"]["escalated_at"], Value::Null);
    say(&app, &d.kim, &answered, json!({"body": "On it."})).await.assert_status(StatusCode::CREATED);
    // At four hours exactly the timer finds the late one missed: escalated, its holder and the admins
    // told, the miss in its history and the breached filter.
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    let seen = ticket(&app, &d.kim, &late).await;
    assert_eq!(seen["sla"]["first_response_breached_at"], seen["sla"]["first_response_due"]);
    assert_eq!(seen["sla"]["escalated_at"], seen["sla"]["first_response_due"]);
    assert_eq!(seen["sla"]["resolution_breached_at"], Value::Null);
    assert_eq!(ticket(&app, &d.kim, &answered).await["sla"]["first_response_breached_at"], Value::Null);
    for token in [&d.sam, &d.admin] {
        let told = notifications(&app, token).await;
        assert!(told.to_string().contains("missed its first response target"), "{told}");
    }
    assert!(!notifications(&app, &d.kim).await.to_string().contains("missed its"), "Kim holds neither ticket");
    let breached = app.get("/v1/support/tickets?breached=true").bearer(&d.kim).send().await.value();
    let ids: Vec<&str> = breached["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [late.as_str()]);
    let history = app.get(&format!("/v1/support/tickets/{late}/events")).bearer(&d.kim).send().await.value();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "breached" && e["detail"]["target"] == "first_response")
    );

    // Resolution: a day after opening, the answered ticket misses it too (an answer is no resolution).
    app.clock.advance(Duration::hours(20) - Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(ticket(&app, &d.kim, &answered).await["sla"]["resolution_breached_at"], Value::Null);
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    let seen = ticket(&app, &d.kim, &answered).await;
    assert_eq!(seen["sla"]["resolution_breached_at"], seen["sla"]["resolution_due"]);
    assert_eq!(seen["sla"]["next"], Value::Null);

    // A new priority moves the targets from the opening: a medium ticket made urgent an hour and a half
    // in has missed its hour at once; one made low has more time.
    let urgent = id_of(&open(&app, &d.customer, "Gets urgent", "medium").await);
    let low = id_of(&open(&app, &d.customer, "Gets low", "medium").await);
    app.clock.advance(Duration::minutes(90));
    let res = app
        .patch(&format!("/v1/support/tickets/{urgent}"))
        .bearer(&d.kim)
        .json(&json!({"priority": "urgent"}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    let opened = chrono::DateTime::parse_from_rfc3339(res.value()["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(res.value()["sla"]["first_response_due"].as_str().unwrap()).unwrap();
    assert_eq!(due - opened, Duration::hours(1));
    app.patch(&format!("/v1/support/tickets/{low}"))
        .bearer(&d.kim)
        .json(&json!({"priority": "low"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.clock.advance(Duration::hours(7)); // past the medium's 8 hours, not the low's 24
    drain_jobs(&app).await;
    assert!(ticket(&app, &d.kim, &urgent).await["sla"]["first_response_breached_at"].is_string());
    assert_eq!(ticket(&app, &d.kim, &low).await["sla"]["first_response_breached_at"], Value::Null);
}

#[tokio::test]
async fn a_ticket_reopens_within_seven_days_of_its_resolution_and_then_closes() {
    let app = app().await;
    let d = desk(&app, "reopen").await;
    let id = id_of(&open(&app, &d.customer, "Ticket scanner down", "low").await);
    say(&app, &d.sam, &id, json!({"body": "Fixed?"})).await.assert_status(StatusCode::CREATED);
    let resolve = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            let res =
                app.post(&format!("/v1/support/tickets/{id}/resolve")).bearer(&token).json(&json!({})).send().await;
            res.assert_status(StatusCode::OK);
        }
    };
    resolve(d.sam.clone()).await;
    app.put(&format!("/v1/support/tickets/{id}/rating"))
        .bearer(&d.customer)
        .json(&json!({"score": 2}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    // A second before seven days, the customer's reply reopens it: waiting on the desk, its rating
    // gone with the resolution, its resolution target running again.
    app.clock.advance(Duration::days(7) - Duration::seconds(1));
    say(&app, &d.customer, &id, json!({"body": "It broke again."})).await.assert_status(StatusCode::CREATED);
    let seen = ticket(&app, &d.sam, &id).await;
    assert_eq!(seen["status"], "pending_staff");
    assert_eq!(seen["reopened_count"], 1);
    assert_eq!(seen["satisfaction"], Value::Null);
    assert_eq!(seen["resolved_at"], Value::Null);
    assert_eq!(seen["sla"]["next"], "resolution");
    // The closing timer of the first resolution does nothing now.
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(ticket(&app, &d.sam, &id).await["status"], "pending_staff");

    // Resolved again, it closes by itself at seven days exactly, and cannot be reopened any more.
    resolve(d.sam.clone()).await;
    app.clock.advance(Duration::days(7) - Duration::seconds(1));
    drain_jobs(&app).await;
    assert_eq!(ticket(&app, &d.customer, &id).await["status"], "resolved");
    app.clock.advance(Duration::seconds(1));
    drain_jobs(&app).await;
    let closed = ticket(&app, &d.customer, &id).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["can"], json!(["rate"]));
    let before = app.get(&format!("/v1/support/tickets/{id}/messages")).bearer(&d.sam).send().await.value();
    for token in [&d.customer, &d.sam] {
        let res = say(&app, token, &id, json!({"body": "Hello?"})).await;
        res.assert_status(StatusCode::CONFLICT);
        assert_eq!(res.value()["code"], "reopen_window_closed");
        let res = app.post(&format!("/v1/support/tickets/{id}/reopen")).bearer(token).send().await;
        res.assert_status(StatusCode::CONFLICT);
        assert_eq!(res.value()["code"], "reopen_window_closed");
    }
    // The refused messages left nothing behind.
    let after = app.get(&format!("/v1/support/tickets/{id}/messages")).bearer(&d.sam).send().await.value();
    assert_eq!(before, after);
    let res = app.post(&format!("/v1/support/tickets/{id}/close")).bearer(&d.customer).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "ticket_settled");

    // A closed ticket within its window reopens by the route too; an open one is not reopened.
    let other = id_of(&open(&app, &d.customer, "Second ticket", "low").await);
    let res = app.post(&format!("/v1/support/tickets/{other}/reopen")).bearer(&d.customer).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "ticket_not_resolved");
    app.post(&format!("/v1/support/tickets/{other}/close"))
        .bearer(&d.customer)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let res = app.post(&format!("/v1/support/tickets/{other}/reopen")).bearer(&d.customer).send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["status"], "open");
    assert_eq!(res.value()["closed_at"], Value::Null);
}

#[tokio::test]
async fn canned_replies_fill_in_the_ticket_and_belong_to_the_support_team() {
    let app = app().await;
    let d = desk(&app, "canned").await;
    let id = id_of(&open(&app, &d.customer, "Where is my payout", "medium").await);
    let body = "Hi {{requester}}, about #{{number}} ({{subject}}): it is on its way. {{agent}}";
    let res = app
        .post("/v1/support/canned-replies")
        .bearer(&d.sam)
        .json(&json!({"title": "Payout on its way", "body": body}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let canned = id_of(&res.value());
    let res = app
        .post("/v1/support/canned-replies")
        .bearer(&d.kim)
        .json(&json!({"title": "Payout on its way", "body": "again"}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "canned_reply_exists");
    let res = app
        .post("/v1/support/canned-replies")
        .bearer(&d.kim)
        .json(&json!({"title": "", "body": "Dear {{name}}"}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_codes(&res),
        vec![("title".to_owned(), "invalid_length".to_owned()), ("body".to_owned(), "unknown_placeholder".to_owned())]
    );
    // Customers neither read nor use them.
    app.get("/v1/support/canned-replies").bearer(&d.customer).send().await.assert_status(StatusCode::FORBIDDEN);
    let res = say(&app, &d.customer, &id, json!({"canned_reply_id": canned})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&res), vec![("canned_reply_id".to_owned(), "not_allowed".to_owned())]);

    let res = say(&app, &d.sam, &id, json!({"canned_reply_id": canned})).await;
    res.assert_status(StatusCode::CREATED);
    let number = ticket(&app, &d.sam, &id).await["number"].as_i64().unwrap();
    assert_eq!(
        res.value()["body"],
        format!("Hi canned_cust display, about #{number} (Where is my payout): it is on its way. canned_sam display")
    );
    let res = say(&app, &d.sam, &id, json!({"canned_reply_id": canned, "body": "both"})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let res = say(&app, &d.sam, &id, json!({})).await;
    assert_eq!(field_codes(&res), vec![("body".to_owned(), "required".to_owned())]);
    let listed = app.get("/v1/support/canned-replies").bearer(&d.kim).send().await.value();
    assert_eq!(listed[0]["used_count"], 1);

    let res = app
        .put(&format!("/v1/support/canned-replies/{canned}"))
        .bearer(&d.kim)
        .json(&json!({"title": "Payout sent", "body": "Sent, {{requester}}."}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["title"], "Payout sent");
    app.delete(&format!("/v1/support/canned-replies/{canned}"))
        .bearer(&d.kim)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.delete(&format!("/v1/support/canned-replies/{canned}"))
        .bearer(&d.kim)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let res = say(&app, &d.sam, &id, json!({"canned_reply_id": canned})).await;
    assert_eq!(field_codes(&res), vec![("canned_reply_id".to_owned(), "not_found".to_owned())]);
}

#[tokio::test]
async fn each_person_does_only_what_their_side_may() {
    let app = app().await;
    let d = desk(&app, "sides").await;
    let id = id_of(&open(&app, &d.customer, "Account locked", "medium").await);
    app.clock.advance(Duration::seconds(1));
    let conversation = ticket(&app, &d.customer, &id).await["conversation_id"].as_str().unwrap().to_owned();

    // Bad tickets: every field named; urgent is the desk's to set.
    let res = app
        .post("/v1/support/tickets")
        .bearer(&d.customer)
        .json(&json!({"subject": " ", "description": "", "category": "gossip", "priority": "urgent"}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_codes(&res),
        [
            ("subject", "invalid_length"),
            ("description", "invalid_length"),
            ("category", "invalid_value"),
            ("priority", "not_allowed")
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let res = app
        .post("/v1/support/tickets")
        .bearer(&d.customer)
        .json(&json!({"subject": "x".repeat(201), "description": "d".repeat(16_001), "category": "other"}))
        .send()
        .await;
    assert_eq!(
        field_codes(&res),
        [("subject", "invalid_length"), ("description", "invalid_length")].map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let res = app
        .post("/v1/support/tickets")
        .bearer(&d.customer)
        .json(&json!({"subject": "x".repeat(200), "description": "é".repeat(16_000), "category": "other"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.value()["priority"], "medium");
    app.clock.advance(Duration::seconds(1));
    let res = app
        .post("/v1/support/tickets")
        .bearer(&d.sam)
        .json(&json!({"subject": "Urgent from the desk", "description": "d", "category": "technical", "priority": "urgent"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);

    // A stranger gets 404 on every route of the ticket and its thread.
    let s = &d.stranger;
    let gets = [
        format!("/v1/support/tickets/{id}"),
        format!("/v1/support/tickets/{id}/messages"),
        format!("/v1/support/tickets/{id}/events"),
        format!("/v1/threads/support_ticket/{id}"),
        format!("/v1/conversations/{conversation}"),
        format!("/v1/conversations/{conversation}/messages"),
    ];
    for path in gets {
        app.get(&path).bearer(s).send().await.assert_status(StatusCode::NOT_FOUND);
    }
    for (path, body) in [
        (format!("/v1/support/tickets/{id}/messages"), json!({"body": "hi"})),
        (format!("/v1/conversations/{conversation}/messages"), json!({"body": "hi"})),
        (format!("/v1/support/tickets/{id}/close"), json!({})),
        (format!("/v1/support/tickets/{id}/reopen"), json!({})),
        (format!("/v1/support/tickets/{id}/resolve"), json!({})),
    ] {
        app.post(&path).bearer(s).json(&body).send().await.assert_status(StatusCode::NOT_FOUND);
    }
    app.put(&format!("/v1/support/tickets/{id}/rating"))
        .bearer(s)
        .json(&json!({"score": 3}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.patch(&format!("/v1/support/tickets/{id}"))
        .bearer(s)
        .json(&json!({"priority": "low"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let theirs = app.get("/v1/support/tickets").bearer(s).send().await.value();
    assert_eq!(theirs["items"], json!([]));

    // The requester does not run the desk.
    let c = &d.customer;
    app.post(&format!("/v1/support/tickets/{id}/resolve"))
        .bearer(c)
        .json(&json!({}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.put(&format!("/v1/support/tickets/{id}/assignee"))
        .bearer(c)
        .json(&json!({"user_id": d.sam_id}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.patch(&format!("/v1/support/tickets/{id}"))
        .bearer(c)
        .json(&json!({"priority": "high"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let res = app.get("/v1/support/tickets?sort=due").bearer(c).send().await;
    assert_eq!(field_codes(&res), vec![("sort".to_owned(), "not_allowed".to_owned())]);
    let res = app.get("/v1/support/tickets?assignee=me&status=lost").bearer(c).send().await;
    assert_eq!(
        field_codes(&res),
        [("status", "invalid_value"), ("assignee", "not_allowed")].map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    app.get("/v1/support/targets").bearer(c).send().await.assert_status(StatusCode::FORBIDDEN);
    let mine = app.get("/v1/support/tickets").bearer(c).send().await.value();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);

    // A ticket is given to agents only.
    let res = app
        .put(&format!("/v1/support/tickets/{id}/assignee"))
        .bearer(&d.sam)
        .json(&json!({"user_id": d.customer_id}))
        .send()
        .await;
    assert_eq!(field_codes(&res), vec![("user_id".to_owned(), "not_an_agent".to_owned())]);

    // The queue: unsettled tickets, the next target first (the urgent one's hour before the mediums'
    // eight hours).
    let queue = app.get("/v1/support/tickets?sort=due&limit=1").bearer(&d.kim).send().await.value();
    assert_eq!(queue["items"][0]["subject"], "Urgent from the desk");
    let cursor = queue["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/support/tickets?sort=due&cursor={cursor}")).bearer(&d.kim).send().await.value();
    let subjects: Vec<&str> =
        rest["items"].as_array().unwrap().iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Account locked", "x".repeat(200).as_str()]);
    let mine = app.get("/v1/support/tickets?mine=true").bearer(&d.sam).send().await.value();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    // Targets: admins set them; agents read them; a resolution shorter than the first response is refused.
    let targets = app.get("/v1/support/targets").bearer(&d.sam).send().await.value();
    assert_eq!(
        targets[0],
        json!({"priority": "urgent", "first_response_minutes": 60, "resolution_minutes": 240,
                                  "updated_at": targets[0]["updated_at"]})
    );
    let body = json!({"first_response_minutes": 30, "resolution_minutes": 120});
    app.put("/v1/support/targets/urgent").bearer(&d.sam).json(&body).send().await.assert_status(StatusCode::FORBIDDEN);
    app.put("/v1/support/targets/whenever")
        .bearer(&d.admin)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let res = app
        .put("/v1/support/targets/urgent")
        .bearer(&d.admin)
        .json(&json!({"first_response_minutes": 0, "resolution_minutes": 525_601}))
        .send()
        .await;
    assert_eq!(
        field_codes(&res),
        [("first_response_minutes", "out_of_range"), ("resolution_minutes", "out_of_range")]
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let res = app
        .put("/v1/support/targets/urgent")
        .bearer(&d.admin)
        .json(&json!({"first_response_minutes": 60, "resolution_minutes": 59}))
        .send()
        .await;
    assert_eq!(field_codes(&res), vec![("resolution_minutes".to_owned(), "before_first_response".to_owned())]);
    let res = app.put("/v1/support/targets/urgent").bearer(&d.admin).json(&body).send().await;
    res.assert_status(StatusCode::OK);
    let t = open(&app, &d.sam, "Under the new target", "urgent").await;
    let seen = ticket(&app, &d.sam, &id_of(&t)).await;
    let opened = chrono::DateTime::parse_from_rfc3339(seen["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(seen["sla"]["first_response_due"].as_str().unwrap()).unwrap();
    assert_eq!(due - opened, Duration::minutes(30));
}

#[tokio::test]
async fn ten_tickets_an_hour_each() {
    let app = app().await;
    let d = desk(&app, "limit").await;
    for i in 0..10 {
        open(&app, &d.customer, &format!("Ticket {i}"), "low").await;
    }
    let res = app
        .post("/v1/support/tickets")
        .bearer(&d.customer)
        .json(&json!({"subject": "Eleventh", "description": "d", "category": "other"}))
        .send()
        .await;
    res.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(res.header("retry-after").is_some());
    // Another person is not held by it; an hour later, neither is the first.
    open(&app, &d.stranger, "Mine", "low").await;
    app.clock.advance(Duration::hours(1));
    open(&app, &d.customer, "Next hour", "low").await;
    let all = app.get("/v1/support/tickets?limit=50").bearer(&d.customer).send().await.value();
    assert_eq!(all["items"].as_array().unwrap().len(), 11);
}

#[tokio::test]
async fn steps_taken_at_once_happen_once() {
    let app = Arc::new(app().await);
    let d = desk(&app, "race").await;
    let agents = [d.sam.clone(), d.kim.clone(), d.admin.clone()];
    for round in 0..3 {
        // Three agents resolve one ticket at the same moment (twice each): one resolution.
        let id = id_of(&open(&app, &d.customer, &format!("Race {round}"), "medium").await);
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let (app, token, id) = (app.clone(), agents[i % 3].clone(), id.clone());
                tokio::spawn(async move {
                    app.post(&format!("/v1/support/tickets/{id}/resolve"))
                        .bearer(&token)
                        .json(&json!({}))
                        .send()
                        .await
                        .status
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 5, "{statuses:?}");

        // Then the customer sends eight messages at once on the resolved ticket: it reopens once, and
        // every message is kept.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (app, token, id) = (app.clone(), d.customer.clone(), id.clone());
                tokio::spawn(async move {
                    app.post(&format!("/v1/support/tickets/{id}/messages"))
                        .bearer(&token)
                        .json(&json!({"body": format!("still broken {i}")}))
                        .send()
                        .await
                        .status
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::CREATED);
        }
        let seen = ticket(&app, &d.sam, &id).await;
        assert_eq!(seen["reopened_count"], 1, "round {round}");
        assert_eq!(seen["status"], "open");
        let history = app.get(&format!("/v1/support/tickets/{id}/events")).bearer(&d.sam).send().await.value();
        let count = |kind: &str, to: &str| {
            history.as_array().unwrap().iter().filter(|e| e["kind"] == kind && e["to_status"] == to).count()
        };
        assert_eq!(count("status", "resolved"), 1, "round {round}: {history}");
        assert_eq!(count("reopened", "open"), 1, "round {round}: {history}");
        let timeline = app.get(&format!("/v1/support/tickets/{id}/messages")).bearer(&d.customer).send().await.value();
        assert_eq!(timeline["items"].as_array().unwrap().len(), 9);
    }
}

#[tokio::test]
async fn the_demo_desk_has_tickets_in_every_state() {
    let app = app().await;
    crate::support::load_demo(&app).await;
    let token = |name: &'static str| crate::support::demo_token(&app, name);
    let sam = token("staff").await;
    let all = app.get("/v1/support/tickets").bearer(&sam).send().await.value();
    let mut statuses: Vec<&str> =
        all["items"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, ["closed", "open", "open", "pending_customer", "resolved"]);
    // The queue puts the label's first (it missed its first answer hours ago and was escalated), then
    // the urgent one.
    let queue = app.get("/v1/support/tickets?sort=due").bearer(&sam).send().await.value();
    assert!(queue["items"][0]["sla"]["first_response_breached_at"].is_string(), "{queue}");
    assert_eq!(queue["items"][1]["priority"], "urgent");
    let breached = app.get("/v1/support/tickets?breached=true").bearer(&sam).send().await.value();
    assert_eq!(breached["items"].as_array().unwrap().len(), 1);
    assert!(breached["items"][0]["sla"]["escalated_at"].is_string());
    assert_eq!(app.get("/v1/support/canned-replies").bearer(&sam).send().await.value().as_array().unwrap().len(), 2);
    // Nova sees Sam's answer on her ticket, never his note; the closed one carries its rating.
    let nova = token("nova").await;
    let mine = app.get("/v1/support/tickets").bearer(&nova).send().await.value();
    let id = mine["items"][0]["id"].as_str().unwrap().to_owned();
    let timeline = app.get(&format!("/v1/support/tickets/{id}/messages")).bearer(&nova).send().await.value();
    assert_eq!(timeline["items"].as_array().unwrap().len(), 2);
    assert!(!timeline.to_string().contains("IBAN has a typo"));
    let theirs = app.get(&format!("/v1/support/tickets/{id}/messages")).bearer(&sam).send().await.value();
    assert!(theirs.to_string().contains("IBAN has a typo"));
    let sunny = token("sunny_sponsor").await;
    let closed = app.get("/v1/support/tickets").bearer(&sunny).send().await.value();
    assert_eq!(closed["items"][0]["satisfaction"]["score"], 5);
}
