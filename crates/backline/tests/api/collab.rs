//! Collaboration over HTTP: projects and their members' roles, the last manager kept under concurrent
//! changes, channels with replies, the edit window at its boundary, deletion, unread counts, and
//! threads on bookings and events that follow their object's own rule through every message route.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::support::{app, create_org, drain_jobs, join, signed_in};
use crate::tasks::key;

/// An organization with its owner, two members and someone from outside it, each with an API key
/// (the tests move the clock past access tokens' 15 minutes).
pub(crate) struct Team {
    pub(crate) owner: String,
    pub(crate) alice: String,
    pub(crate) alice_id: String,
    pub(crate) bob: String,
    pub(crate) bob_id: String,
    pub(crate) outsider: String,
    pub(crate) outsider_id: String,
    pub(crate) org: String,
}

pub(crate) async fn team(app: &TestApp, prefix: &str) -> Team {
    let (owner, _, _) = signed_in(app, &format!("{prefix}_owner")).await;
    let org = create_org(app, &owner, &format!("{prefix}-studio")).await;
    // More people and projects than Free allows (docs/collaboration.md#plans).
    crate::support::grant_plan(app, &org, "team").await;
    let mut people = Vec::new();
    for name in ["alice", "bob", "out"] {
        let username = format!("{prefix}_{name}");
        let (token, id, _) = signed_in(app, &username).await;
        if name != "out" {
            join(app, &owner, &org, &token, &format!("{username}@example.com"), "member").await;
        }
        people.push((key(app, &token).await, id));
    }
    let mut people = people.into_iter();
    let (alice, alice_id) = people.next().unwrap();
    let (bob, bob_id) = people.next().unwrap();
    let (outsider, outsider_id) = people.next().unwrap();
    Team { owner: key(app, &owner).await, alice, alice_id, bob, bob_id, outsider, outsider_id, org }
}

pub(crate) async fn project(app: &TestApp, t: &Team, name: &str) -> Value {
    let res = app
        .post("/v1/projects")
        .bearer(&t.owner)
        .json(&json!({"organization_id": t.org, "name": name, "kind": "album_artwork"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    res.value()
}

/// A project of the team's with Alice and Bob in the given roles; answers its id and its `#general`.
pub(crate) async fn staffed(app: &TestApp, t: &Team, name: &str, (alice, bob): (&str, &str)) -> (String, String) {
    let id = project(app, t, name).await["id"].as_str().unwrap().to_owned();
    put_member(app, &t.owner, &id, &t.alice_id, alice).await.assert_status(StatusCode::OK);
    put_member(app, &t.owner, &id, &t.bob_id, bob).await.assert_status(StatusCode::OK);
    let channels = app.get(&format!("/v1/projects/{id}/channels")).bearer(&t.alice).send().await.value();
    (id, channels[0]["id"].as_str().unwrap().to_owned())
}

pub(crate) async fn put_member(
    app: &TestApp,
    token: &str,
    project: &str,
    user: &str,
    role: &str,
) -> testkit::TestResponse {
    app.put(&format!("/v1/projects/{project}/members/{user}")).bearer(token).json(&json!({"role": role})).send().await
}

pub(crate) fn field_codes(res: &testkit::TestResponse) -> Vec<(String, String)> {
    res.value()["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Requests sent at once, counted: how many answered `ok`, and how many were refused with `409 refusal`;
/// anything else fails the test.
pub(crate) async fn tally(
    requests: Vec<tokio::task::JoinHandle<testkit::TestResponse>>,
    ok: StatusCode,
    refusal: &str,
) -> (usize, usize) {
    let (mut passed, mut refused) = (0, 0);
    for request in requests {
        let res = request.await.unwrap();
        if res.status == ok {
            passed += 1;
        } else if res.status == StatusCode::CONFLICT && res.value()["code"] == refusal {
            refused += 1;
        } else {
            panic!("unexpected {}: {}", res.status, res.text());
        }
    }
    (passed, refused)
}

#[tokio::test]
async fn projects_have_members_in_roles_and_strangers_see_nothing() {
    let app = app().await;
    let t = team(&app, "prj").await;

    // Made with a slug from its name, its manager the creator, and a `general` channel.
    let p = project(&app, &t, "Night Drive — Cover Art").await;
    assert_eq!(p["slug"], "night-drive-cover-art");
    assert_eq!(p["status"], "planning");
    assert_eq!(p["priority"], "medium");
    assert_eq!(p["my_role"], "manager");
    let id = p["id"].as_str().unwrap().to_owned();
    let channels = app.get(&format!("/v1/projects/{id}/channels")).bearer(&t.owner).send().await.value();
    assert_eq!(channels[0]["name"], "general");
    assert_eq!(channels[0]["title"], "#general · Night Drive — Cover Art");

    // The same slug again in the organization is a conflict naming the field.
    let res = app
        .post("/v1/projects")
        .bearer(&t.owner)
        .json(&json!({"organization_id": t.org, "name": "Other", "slug": "night-drive-cover-art"}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "project_slug_taken");

    // Every bad field is named at once; nothing is kept.
    let res = app
        .post("/v1/projects")
        .bearer(&t.owner)
        .json(&json!({"organization_id": t.org, "name": " ", "slug": "Bad Slug", "status": "done",
                      "budget_minor": 50000, "start_date": "2027-03-10", "due_date": "2027-03-09", "tags": ["ok", "Not OK!"]}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let mut codes = field_codes(&res);
    codes.sort();
    assert_eq!(
        codes,
        [
            ("budget_currency", "required"),
            ("due_date", "before_start"),
            ("name", "invalid_length"),
            ("slug", "invalid_format"),
            ("status", "invalid_value"),
            ("tags", "invalid_tag"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let listed = app.get(&format!("/v1/projects?organization_id={}", t.org)).bearer(&t.owner).send().await.value();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // A plain member of the organization may not create projects; someone outside it neither.
    for token in [&t.alice, &t.outsider] {
        let res = app
            .post("/v1/projects")
            .bearer(token)
            .json(&json!({"organization_id": t.org, "name": "Mine"}))
            .send()
            .await;
        res.assert_status(StatusCode::FORBIDDEN);
    }

    // Members: the organization's people in any role but client; outsiders only as clients.
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    let res = put_member(&app, &t.owner, &id, &t.outsider_id, "viewer").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&res), [("user_id".to_owned(), "not_a_member".to_owned())]);
    let res = put_member(&app, &t.owner, &id, &t.bob_id, "client").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&res), [("user_id".to_owned(), "invalid_value".to_owned())]);
    let res = put_member(&app, &t.owner, &id, &t.outsider_id, "owner").await;
    assert_eq!(field_codes(&res), [("role".to_owned(), "invalid_value".to_owned())]);
    put_member(&app, &t.owner, &id, &t.outsider_id, "client").await.assert_status(StatusCode::OK);
    let members = app.get(&format!("/v1/projects/{id}/members")).bearer(&t.outsider).send().await.value();
    let roles: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["manager", "editor", "client"]);

    // The client sees the project as a client; Bob, not a member, does not see it at all.
    let seen = app.get(&format!("/v1/projects/{id}")).bearer(&t.outsider).send().await;
    seen.assert_status(StatusCode::OK);
    assert_eq!(seen.value()["my_role"], "client");
    app.get(&format!("/v1/projects/{id}")).bearer(&t.bob).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/projects/{id}/members")).bearer(&t.bob).send().await.assert_status(StatusCode::NOT_FOUND);
    let mine = app.get("/v1/projects").bearer(&t.bob).send().await.value();
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    let theirs = app.get(&format!("/v1/projects?organization_id={}", t.org)).bearer(&t.bob).send().await.value();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let mine = app.get("/v1/projects").bearer(&t.outsider).send().await.value();
    assert_eq!(mine["items"][0]["id"], id.as_str());

    // Only managers change the project; completion records the day and reopening clears it.
    let change = json!({"status": "completed"});
    let res = app.patch(&format!("/v1/projects/{id}")).bearer(&t.alice).json(&change).send().await;
    res.assert_status(StatusCode::FORBIDDEN);
    app.patch(&format!("/v1/projects/{id}"))
        .bearer(&t.bob)
        .json(&change)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let done = app.patch(&format!("/v1/projects/{id}")).bearer(&t.owner).json(&change).send().await;
    done.assert_status(StatusCode::OK);
    assert_eq!(done.value()["completed_on"], app.clock_now().date_naive().to_string());
    let reopened = app
        .patch(&format!("/v1/projects/{id}"))
        .bearer(&t.owner)
        .json(&json!({"status": "active", "budget_minor": 250000, "budget_currency": "eur", "due_date": "2027-01-31"}))
        .send()
        .await;
    reopened.assert_status(StatusCode::OK);
    let reopened = reopened.value();
    assert_eq!(reopened["completed_on"], Value::Null);
    assert_eq!(reopened["budget_currency"], "EUR");
    let cleared =
        app.patch(&format!("/v1/projects/{id}")).bearer(&t.owner).json(&json!({"due_date": null})).send().await.value();
    assert_eq!(cleared["due_date"], Value::Null);
    assert_eq!(cleared["budget_minor"], 250000);

    // Alice was told she was added.
    drain_jobs(&app).await;
    let told = app.get("/v1/me/notifications").bearer(&t.alice).send().await.value();
    assert!(told.to_string().contains("Night Drive"), "{told}");
}

#[tokio::test]
async fn a_project_keeps_one_manager_whatever_its_managers_do_at_once() {
    let app = app().await;
    let t = team(&app, "mgr").await;
    // Six managers of one organization, each leaving their project at the same moment: five leave,
    // one stays. Three rounds, a new project each.
    let mut managers = vec![(t.alice.clone(), t.alice_id.clone()), (t.bob.clone(), t.bob_id.clone())];
    for i in 0..4 {
        let username = format!("mgr_extra{i}");
        let (token, id, _) = signed_in(&app, &username).await;
        join(&app, &t.owner, &t.org, &token, &format!("{username}@example.com"), "member").await;
        managers.push((key(&app, &token).await, id));
    }
    let app = std::sync::Arc::new(app);
    for round in 0..3 {
        let p = project(&app, &t, &format!("Round {round}")).await;
        let id = p["id"].as_str().unwrap().to_owned();
        for (_, user) in &managers {
            put_member(&app, &t.owner, &id, user, "manager").await.assert_status(StatusCode::OK);
        }
        // The creating owner steps down, so that only the six manage it.
        let owner_id = p["created_by"].as_str().unwrap().to_owned();
        app.delete(&format!("/v1/projects/{id}/members/{owner_id}"))
            .bearer(&t.owner)
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
        let mut leaving = Vec::new();
        for (token, user) in managers.clone() {
            let (app, id) = (app.clone(), id.clone());
            leaving.push(tokio::spawn(async move {
                app.delete(&format!("/v1/projects/{id}/members/{user}")).bearer(&token).send().await
            }));
        }
        let (left, refused) = tally(leaving, StatusCode::NO_CONTENT, "last_manager").await;
        assert_eq!((left, refused), (5, 1), "round {round}");
        let members = app.get(&format!("/v1/projects/{id}/members")).bearer(&t.owner).send().await.value();
        let roles: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["manager"], "round {round}");
    }
}

#[tokio::test]
async fn channel_messages_reply_edit_within_the_window_and_delete() {
    let app = app().await;
    let t = team(&app, "chn").await;
    let (id, general) = staffed(&app, &t, "Tour Poster", ("commenter", "viewer")).await;
    let messages = format!("/v1/conversations/{general}/messages");

    // Posting: members who may, at the length limit and not beyond it.
    let first = app.post(&messages).bearer(&t.owner).json(&json!({"body": "Drafts are **up**."})).send().await;
    first.assert_status(StatusCode::CREATED);
    let first = first.value()["id"].as_str().unwrap().to_owned();
    let longest = "é".repeat(16_000);
    app.post(&messages)
        .bearer(&t.alice)
        .json(&json!({"body": longest}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let res = app.post(&messages).bearer(&t.alice).json(&json!({"body": "é".repeat(16_001)})).send().await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&res), [("body".to_owned(), "invalid_length".to_owned())]);
    let res = app.post(&messages).bearer(&t.bob).json(&json!({"body": "Can I say something?"})).send().await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.value()["code"], "read_only");
    let res = app.post(&messages).bearer(&t.outsider).json(&json!({"body": "Hello?"})).send().await;
    res.assert_status(StatusCode::NOT_FOUND);

    // Bob reads: two unread, none after marking them read.
    let mine = app.get("/v1/me/conversations").bearer(&t.bob).send().await.value();
    assert_eq!(mine[0]["id"], general.as_str());
    assert_eq!(mine[0]["unread"], 2);
    assert_eq!(mine[0]["may_post"], false);
    let read = app.post(&format!("/v1/conversations/{general}/read")).bearer(&t.bob).json(&json!({})).send().await;
    read.assert_status(StatusCode::OK);
    assert_eq!(read.value()["unread"], 0);

    // Replies join the first message's thread, a reply to a reply included.
    let reply = app
        .post(&messages)
        .bearer(&t.alice)
        .json(&json!({"body": "Looks good", "reply_to": first}))
        .send()
        .await
        .value();
    let deeper = app
        .post(&messages)
        .bearer(&t.owner)
        .json(&json!({"body": "Thanks", "reply_to": reply["id"]}))
        .send()
        .await
        .value();
    assert_eq!(deeper["reply_to"], first.as_str());
    let replies = app.get(&format!("/v1/messages/{first}/replies")).bearer(&t.bob).send().await.value();
    let said: Vec<&str> = replies["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(said, ["Looks good", "Thanks"]);
    let listed = app.get(&messages).bearer(&t.bob).send().await.value();
    let top: Vec<i64> =
        listed["items"].as_array().unwrap().iter().map(|m| m["reply_count"].as_i64().unwrap()).collect();
    assert_eq!(top, [0, 2], "newest first, replies counted on their first message");
    drain_jobs(&app).await;
    let told = app.get("/v1/me/notifications").bearer(&t.owner).send().await.value();
    assert!(told.to_string().contains("conversation.reply"), "{told}");

    // The edit window: open a second before 15 minutes, closed at 15 minutes exactly.
    let edit = |body: &str| json!({"body": body});
    let path = format!("/v1/messages/{first}");
    app.patch(&path).bearer(&t.alice).json(&edit("Mine now")).send().await.assert_status(StatusCode::FORBIDDEN);
    app.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    let edited = app.patch(&path).bearer(&t.owner).json(&edit("Drafts are **up** (v2).")).send().await;
    edited.assert_status(StatusCode::OK);
    assert!(edited.value()["edited_at"].is_string());
    app.clock.advance(Duration::seconds(1));
    let late = app.patch(&path).bearer(&t.owner).json(&edit("Too late")).send().await;
    late.assert_status(StatusCode::CONFLICT);
    assert_eq!(late.value()["code"], "edit_window_closed");
    let history = app.get(&format!("{path}/edits")).bearer(&t.bob).send().await.value();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["previous_body"], "Drafts are **up**.");
    let listed = app.get(&messages).bearer(&t.bob).send().await.value();
    assert_eq!(listed["items"][1]["body"], "Drafts are **up** (v2).");

    // Deleting: not someone else's (a commenter), but the author's own and any for a manager.
    let alices = listed["items"][0]["id"].as_str().unwrap().to_owned();
    app.delete(&path).bearer(&t.alice).send().await.assert_status(StatusCode::FORBIDDEN);
    app.delete(&format!("/v1/messages/{alices}")).bearer(&t.owner).send().await.assert_status(StatusCode::NO_CONTENT);
    app.delete(&format!("/v1/messages/{alices}")).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
    let listed = app.get(&messages).bearer(&t.bob).send().await.value();
    assert_eq!(listed["items"][0]["deleted"], true);
    assert_eq!(listed["items"][0]["body"], "");
    let res = app.patch(&format!("/v1/messages/{alices}")).bearer(&t.alice).json(&edit("back")).send().await;
    assert_eq!(res.value()["code"], "message_deleted");

    // A new channel, by managers only, each name once.
    let new = json!({"name": "mixes"});
    app.post(&format!("/v1/projects/{id}/channels"))
        .bearer(&t.alice)
        .json(&new)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post(&format!("/v1/projects/{id}/channels"))
        .bearer(&t.owner)
        .json(&new)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let again = app.post(&format!("/v1/projects/{id}/channels")).bearer(&t.owner).json(&new).send().await;
    again.assert_status(StatusCode::CONFLICT);
    assert_eq!(again.value()["code"], "channel_exists");
    let bad = app
        .post(&format!("/v1/projects/{id}/channels"))
        .bearer(&t.owner)
        .json(&json!({"name": "Big Room"}))
        .send()
        .await;
    assert_eq!(field_codes(&bad), [("name".to_owned(), "invalid_format".to_owned())]);
}

#[tokio::test]
async fn a_bookings_thread_is_its_parties_alone_through_every_route() {
    let app = app().await;
    let p = crate::booking::parties(&app, "thr").await;
    let booking = crate::booking::created(crate::booking::offer(&app, &p, 50_000, 30).await).await;
    let booking = booking["id"].as_str().unwrap().to_owned();
    let (stranger, _, _) = signed_in(&app, "thr_stranger").await;

    // Both sides reach the same thread, made once even when asked for at once.
    let path = format!("/v1/threads/booking/{booking}");
    let app = std::sync::Arc::new(app);
    let mut asks = Vec::new();
    for token in [&p.artist, &p.organizer, &p.artist, &p.organizer, &p.artist, &p.organizer] {
        let (app, path, token) = (app.clone(), path.clone(), token.clone());
        asks.push(tokio::spawn(async move { app.get(&path).bearer(&token).send().await }));
    }
    let mut ids = Vec::new();
    for ask in asks {
        let res = ask.await.unwrap();
        res.assert_status(StatusCode::OK);
        ids.push(res.value()["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let thread = ids.remove(0);
    let seen = app.get(&path).bearer(&p.artist).send().await.value();
    assert!(seen["title"].as_str().unwrap().starts_with("Booking: thr band for thr presents"), "{seen}");

    let messages = format!("/v1/conversations/{thread}/messages");
    let said = app.post(&messages).bearer(&p.organizer).json(&json!({"body": "Load-in at 17:00?"})).send().await;
    said.assert_status(StatusCode::CREATED);
    let message = said.value()["id"].as_str().unwrap().to_owned();
    app.post(&messages)
        .bearer(&p.artist)
        .json(&json!({"body": "Works for us.", "reply_to": message}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    drain_jobs(&app).await;
    let told = app.get("/v1/me/notifications").bearer(&p.artist).send().await.value();
    assert!(told.to_string().contains("conversation.message"), "{told}");

    // A stranger to the booking: not found, through every route that touches the thread.
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", path.clone(), None),
        ("GET", format!("/v1/conversations/{thread}"), None),
        ("GET", messages.clone(), None),
        ("POST", messages.clone(), Some(json!({"body": "Hi"}))),
        ("POST", format!("/v1/conversations/{thread}/read"), Some(json!({}))),
        ("GET", format!("/v1/messages/{message}/replies"), None),
        ("GET", format!("/v1/messages/{message}/edits"), None),
        ("PATCH", format!("/v1/messages/{message}"), Some(json!({"body": "mine"}))),
        ("DELETE", format!("/v1/messages/{message}"), None),
    ];
    for (method, route, body) in routes {
        let req = match method {
            "GET" => app.get(&route),
            "POST" => app.post(&route),
            "PATCH" => app.patch(&route),
            _ => app.delete(&route),
        };
        let req = req.bearer(&stranger);
        let res = match body {
            Some(body) => req.json(&body).send().await,
            None => req.send().await,
        };
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {route}: {}", res.text());
    }
    let theirs = app.get("/v1/me/conversations").bearer(&stranger).send().await.value();
    assert_eq!(theirs.as_array().unwrap().len(), 0);
    let listed = app.get(&messages).bearer(&p.artist).send().await.value();
    assert_eq!(listed["items"][0]["body"], "Load-in at 17:00?");
    assert_eq!(listed["items"][0]["reply_count"], 1);

    // A kind threads do not attach to, and an object that does not exist.
    let res = app.get(&format!("/v1/threads/invoice/{booking}")).bearer(&p.artist).send().await;
    res.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(res.value()["code"], "unknown_subject");
    let res = app.get(&format!("/v1/threads/booking/{}", uuid::Uuid::now_v7())).bearer(&p.artist).send().await;
    res.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_events_thread_is_its_organizers_not_its_ticket_buyers() {
    let app = app().await;
    let (organizer, _, _) = signed_in(&app, "evt_org").await;
    let (fan, _, _) = signed_in(&app, "evt_fan").await;
    let (event, _) = crate::ticketing::on_sale(&app, &organizer, json!({})).await;
    // The fan sees the published event, but not its organizers' thread.
    app.get(&format!("/v1/events/{event}")).bearer(&fan).send().await.assert_status(StatusCode::OK);
    app.get(&format!("/v1/threads/event/{event}")).bearer(&fan).send().await.assert_status(StatusCode::NOT_FOUND);
    let thread = app.get(&format!("/v1/threads/event/{event}")).bearer(&organizer).send().await;
    thread.assert_status(StatusCode::OK);
    let thread = thread.value();
    assert_eq!(thread["subject_kind"], "event");
    assert!(thread["title"].as_str().unwrap().starts_with("Event: Nova Beats live"), "{thread}");
    let messages = format!("/v1/conversations/{}/messages", thread["id"].as_str().unwrap());
    app.post(&messages)
        .bearer(&organizer)
        .json(&json!({"body": "Doors at 19:00"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    app.get(&messages).bearer(&fan).send().await.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_demo_label_has_a_busy_project_channel_its_client_reads_and_strangers_do_not() {
    let app = app().await;
    crate::support::load_demo(&app).await;
    let token = |name: &'static str| crate::support::demo_token(&app, name);
    let (mo, sunny, felix) = (token("midnight_manager").await, token("sunny_sponsor").await, token("fan_felix").await);
    let projects = app.get("/v1/projects").bearer(&sunny).send().await.value();
    assert_eq!(projects["items"][0]["name"], "Night Drive — release campaign");
    assert_eq!(projects["items"][0]["my_role"], "client");
    let id = projects["items"][0]["id"].as_str().unwrap().to_owned();
    let channels = app.get(&format!("/v1/projects/{id}/channels")).bearer(&mo).send().await.value();
    let names: Vec<&str> = channels.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["artwork", "general"]);
    let general = channels[1]["id"].as_str().unwrap();
    let listed = app.get(&format!("/v1/conversations/{general}/messages?limit=50")).bearer(&sunny).send().await.value();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 11, "ten messages and one deleted");
    assert_eq!(items[0]["deleted"], true);
    assert!(items.iter().any(|m| m["reply_count"] == 2));
    assert!(items.last().unwrap()["edited_at"].is_string());
    let mine = app.get("/v1/me/conversations").bearer(&sunny).send().await.value();
    assert!(mine.as_array().unwrap().iter().any(|c| c["unread"].as_i64().unwrap() > 0), "{mine}");
    app.get(&format!("/v1/projects/{id}")).bearer(&felix).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/conversations/{general}/messages"))
        .bearer(&felix)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // A cover sketch in two versions: the client's comment on the first, resolved; the second in review.
    let files = app.get(&format!("/v1/projects/{id}/files")).bearer(&sunny).send().await.value();
    assert_eq!(files[0]["name"], "cover-sketch.svg");
    let statuses: Vec<&str> =
        files[0]["versions"].as_array().unwrap().iter().map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["in_review", "changes_requested"]);
    let file = files[0]["id"].as_str().unwrap();
    let sketch = app.get(&format!("/v1/project-files/{file}/versions/2/content")).bearer(&sunny).send().await;
    assert!(String::from_utf8_lossy(&sketch.body).contains("NIGHT DRIVE"));
    let comments =
        app.get(&format!("/v1/project-files/{file}/versions/1/comments")).bearer(&sunny).send().await.value();
    assert_eq!(
        (comments[0]["anchor"]["kind"].as_str(), comments[0]["resolved"].as_bool()),
        (Some("point"), Some(true))
    );
    let org = identity::service::org_id_by_slug(&mut app.db.pool.acquire().await.unwrap(), "lumen-records")
        .await
        .unwrap()
        .unwrap();
    let storage = app.get(&format!("/v1/orgs/{org}/storage")).bearer(&mo).send().await.value();
    assert!(storage["used_bytes"].as_i64().unwrap() > 0, "{storage}");

    // Threads on a release, a booking and an event, each with its own people.
    let kinds = |v: &Value| -> Vec<String> {
        let mut kinds: Vec<String> =
            v.as_array().unwrap().iter().filter_map(|c| c["subject_kind"].as_str().map(str::to_owned)).collect();
        kinds.sort();
        kinds
    };
    assert_eq!(kinds(&app.get("/v1/me/conversations").bearer(&mo).send().await.value()), ["release"]);
    let nova = token("nova").await;
    // (Nova's support ticket is a thread too: docs/support.md.)
    assert_eq!(
        kinds(&app.get("/v1/me/conversations").bearer(&nova).send().await.value()),
        ["booking", "support_ticket"]
    );
    let olga = token("olga_events").await;
    let olgas = app.get("/v1/me/conversations").bearer(&olga).send().await.value();
    assert_eq!(kinds(&olgas), ["event"]);
    let event_thread = olgas.as_array().unwrap().iter().find(|c| c["subject_kind"] == "event").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get(&format!("/v1/conversations/{event_thread}/messages"))
        .bearer(&felix)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn mentions_tell_those_who_may_read_and_count_until_read() {
    let app = app().await;
    let t = team(&app, "mnt").await;
    let (_, general) = staffed(&app, &t, "Press Kit", ("commenter", "viewer")).await;
    let messages = format!("/v1/conversations/{general}/messages");

    // Alice is a member and is mentioned; the outsider is not a member: not recorded, not told.
    let said = app
        .post(&messages)
        .bearer(&t.owner)
        .json(&json!({"body": "@mnt_alice and @mnt_out, see `@mnt_bob` the draft"}))
        .send()
        .await;
    said.assert_status(StatusCode::CREATED);
    let said = said.value();
    assert_eq!(said["mentions"], json!([t.alice_id]));
    let mine = app.get("/v1/me/conversations").bearer(&t.alice).send().await.value();
    assert_eq!((mine[0]["unread"].as_i64(), mine[0]["mentions"].as_i64()), (Some(1), Some(1)));
    let bobs = app.get("/v1/me/conversations").bearer(&t.bob).send().await.value();
    assert_eq!((bobs[0]["unread"].as_i64(), bobs[0]["mentions"].as_i64()), (Some(1), Some(0)));
    drain_jobs(&app).await;
    let told = app.get("/v1/me/notifications").bearer(&t.alice).send().await.value();
    assert!(told.to_string().contains("conversation.mention"), "{told}");
    let told = app.get("/v1/me/notifications").bearer(&t.outsider).send().await.value();
    assert!(!told.to_string().contains("conversation."), "{told}");

    // Read: no mentions left. An edit that mentions Bob for the first time tells him.
    let read = app.post(&format!("/v1/conversations/{general}/read")).bearer(&t.alice).json(&json!({})).send().await;
    assert_eq!(read.value()["mentions"], 0);
    let edited = app
        .patch(&format!("/v1/messages/{}", said["id"].as_str().unwrap()))
        .bearer(&t.owner)
        .json(&json!({"body": "@mnt_alice and @mnt_bob, see the draft"}))
        .send()
        .await;
    edited.assert_status(StatusCode::OK);
    let mut mentioned: Vec<String> =
        edited.value()["mentions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    mentioned.sort();
    let mut expected = vec![t.alice_id.clone(), t.bob_id.clone()];
    expected.sort();
    assert_eq!(mentioned, expected);
    drain_jobs(&app).await;
    let told = app.get("/v1/me/notifications").bearer(&t.bob).send().await.value();
    assert!(told.to_string().contains("conversation.mention"), "{told}");
}

#[tokio::test]
async fn reactions_are_one_per_person_and_fifty_kinds_at_most_when_many_react_at_once() {
    let app = app().await;
    let t = team(&app, "rct").await;
    let p = project(&app, &t, "Merch").await;
    let id = p["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "commenter").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.outsider_id, "client").await.assert_status(StatusCode::OK);
    let channels = app.get(&format!("/v1/projects/{id}/channels")).bearer(&t.alice).send().await.value();
    let messages = format!("/v1/conversations/{}/messages", channels[0]["id"].as_str().unwrap());
    let app = std::sync::Arc::new(app);
    let reactors = [t.owner.clone(), t.alice.clone(), t.outsider.clone()];

    for round in 0..3 {
        let m =
            app.post(&messages).bearer(&t.owner).json(&json!({"body": format!("Shirt {round}")})).send().await.value();
        let m = m["id"].as_str().unwrap().to_owned();
        // Sixty new kinds at once from three people: fifty are kept, ten refused.
        let mut tasks = Vec::new();
        for i in 0..60 {
            let (app, token, path) =
                (app.clone(), reactors[i % 3].clone(), format!("/v1/messages/{m}/reactions/:e{i}:"));
            tasks.push(tokio::spawn(async move { app.put(&path).bearer(&token).send().await }));
        }
        let (kept, refused) = tally(tasks, StatusCode::OK, "too_many_reactions").await;
        assert_eq!((kept, refused), (50, 10), "round {round}");
        let listed = app.get(&messages).bearer(&t.bob).send().await.value();
        let reactions = listed["items"][0]["reactions"].as_array().unwrap().clone();
        assert_eq!(reactions.len(), 50, "round {round}");

        // At fifty, one more person on a kind it has passes; a new kind does not.
        let first = reactions[0]["emoji"].as_str().unwrap().to_owned();
        let more = app.put(&format!("/v1/messages/{m}/reactions/{first}")).bearer(&t.outsider).send().await;
        more.assert_status(StatusCode::OK);
        let again = app.put(&format!("/v1/messages/{m}/reactions/:new:")).bearer(&t.owner).send().await;
        again.assert_status(StatusCode::CONFLICT);
    }

    // One per person per emoji: reacting twice counts once; taking it back removes it; viewers read.
    let m = app.post(&messages).bearer(&t.owner).json(&json!({"body": "Logo"})).send().await.value();
    let path = format!("/v1/messages/{}/reactions/%F0%9F%91%8D", m["id"].as_str().unwrap());
    app.put(&path).bearer(&t.alice).send().await.assert_status(StatusCode::OK);
    let twice = app.put(&path).bearer(&t.alice).send().await.value();
    assert_eq!(twice, json!([{"emoji": "👍", "count": 1, "mine": true}]));
    let res = app.put(&path).bearer(&t.bob).send().await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.value()["code"], "read_only");
    let bad =
        app.put(&format!("/v1/messages/{}/reactions/hello", m["id"].as_str().unwrap())).bearer(&t.alice).send().await;
    assert_eq!(field_codes(&bad), [("emoji".to_owned(), "invalid_value".to_owned())]);
    app.delete(&path).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
    let listed = app.get(&messages).bearer(&t.bob).send().await.value();
    assert_eq!(listed["items"][0]["reactions"], json!([]));
}

#[tokio::test]
async fn a_releases_and_a_tasks_threads_are_their_teams_alone() {
    // A release: its label's staff take part; anyone else, another label included, does not.
    let app = app().await;
    let label = crate::catalog::label(&app, "thr-label", "DEA26").await;
    let other = crate::catalog::label(&app, "thr-other", "DEB26").await;
    let release = crate::catalog::release(&app, &label, "Streetlights").await;
    let path = format!("/v1/threads/release/{}", release["id"].as_str().unwrap());
    let thread = app.get(&path).bearer(&label.token).send().await;
    thread.assert_status(StatusCode::OK);
    assert_eq!(thread.value()["title"], "Release: Streetlights");
    app.get(&path).bearer(&other.token).send().await.assert_status(StatusCode::NOT_FOUND);

    // A task: the client company's task managers take part; a freelancer not on it does not.
    let w = crate::tasks::world("thrtask", 50).await;
    let task = crate::tasks::created(&w, 48, &[]).await;
    let outsider = crate::tasks::freelancers(&w, "thr_free", 1, &[("graphic_design", 90)], None).await;
    let path = format!("/v1/threads/task/{task}");
    let thread = w.app.get(&path).bearer(&w.client).send().await;
    thread.assert_status(StatusCode::OK);
    assert_eq!(thread.value()["title"], "Task: Autumn launch ad");
    let messages = format!("/v1/conversations/{}/messages", thread.value()["id"].as_str().unwrap());
    w.app
        .post(&messages)
        .bearer(&w.client)
        .json(&json!({"body": "Brief attached"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    w.app.get(&path).bearer(&outsider[0].0).send().await.assert_status(StatusCode::NOT_FOUND);
    w.app.get(&messages).bearer(&outsider[0].0).send().await.assert_status(StatusCode::NOT_FOUND);
    w.app.get(&path).bearer(&w.admin).send().await.assert_status(StatusCode::OK);
}

/// A Server-Sent Events body read event by event (keep-alive comments skipped).
pub(crate) struct Events {
    body: axum::body::Body,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, path: &str, token: &str) -> (StatusCode, Self) {
        Self::open_with(app, path, ("authorization", format!("Bearer {token}"))).await
    }

    /// Opens the stream with one header of the caller's (a bearer token, a browser's cookies).
    pub(crate) async fn open_with(app: &TestApp, path: &str, (name, value): (&str, String)) -> (StatusCode, Self) {
        let req = axum::http::Request::get(path).header(name, value).body(axum::body::Body::empty()).unwrap();
        let router = backline::app(app.ctx.clone(), platform::http::EdgeLimits::default(), None);
        let res = tower::ServiceExt::oneshot(router, req).await.unwrap();
        let status = res.status();
        let mut events = Self { body: res.into_body(), buffer: String::new() };
        // A new node's listener says `resync` once it listens: from then on nothing is missed.
        if status == StatusCode::OK {
            let (first, _) = events.next_event().await.expect("the stream opens");
            assert_eq!(first, "resync");
        }
        (status, events)
    }

    /// The next change's event name and data, or `None` when the stream ended. A `resync` (the
    /// node's listener has just connected: read again) is skipped.
    pub(crate) async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            let event = self.next_event().await?;
            if event.0 != "resync" {
                return Some(event);
            }
        }
    }

    async fn next_event(&mut self) -> Option<(String, Value)> {
        use http_body_util::BodyExt as _;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let name = block.lines().find_map(|l| l.strip_prefix("event:")).map(|n| n.trim().to_owned());
                // An event's data may span lines, each its own `data:` field.
                let lines: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                let data = (!lines.is_empty()).then(|| lines.join("\n"));
                if let (Some(name), Some(data)) = (name, data) {
                    // JSON from the API; the pages' events carry HTML, kept as a string.
                    let value = serde_json::from_str(&data).unwrap_or(Value::String(data));
                    return Some((name, value));
                }
                continue;
            }
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), self.body.frame())
                .await
                .expect("an event in time")?
                .unwrap();
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

#[tokio::test]
async fn a_conversation_streams_its_changes_to_its_readers_until_they_leave() {
    let app = app().await;
    let t = team(&app, "lve").await;
    let (id, general) = staffed(&app, &t, "Live Set", ("commenter", "viewer")).await;
    let stream = format!("/v1/conversations/{general}/stream");

    let (status, _) = Events::open(&app, &stream, &t.outsider).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, mut bob) = Events::open(&app, &stream, &t.bob).await;
    assert_eq!(status, StatusCode::OK);

    // Someone writing, a message, a reaction to it, and its deletion, in order.
    app.post(&format!("/v1/conversations/{general}/typing"))
        .bearer(&t.alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let (event, data) = bob.next().await.unwrap();
    assert_eq!((event.as_str(), data["name"].as_str()), ("typing", Some("lve_alice display")));
    let res = app.post(&format!("/v1/conversations/{general}/typing")).bearer(&t.bob).send().await;
    assert_eq!(res.value()["code"], "read_only");
    let said = app
        .post(&format!("/v1/conversations/{general}/messages"))
        .bearer(&t.owner)
        .json(&json!({"body": "Soundcheck moved to 16:00"}))
        .send()
        .await
        .value();
    let (event, data) = bob.next().await.unwrap();
    assert_eq!((event.as_str(), data["body"].as_str()), ("message", Some("Soundcheck moved to 16:00")));
    let message = said["id"].as_str().unwrap();
    app.put(&format!("/v1/messages/{message}/reactions/:ok:"))
        .bearer(&t.alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let (event, data) = bob.next().await.unwrap();
    assert_eq!((event.as_str(), data["reactions"][0]["count"].as_i64()), ("updated", Some(1)));
    app.delete(&format!("/v1/messages/{message}")).bearer(&t.owner).send().await.assert_status(StatusCode::NO_CONTENT);
    let (event, data) = bob.next().await.unwrap();
    assert_eq!((event.as_str(), data["id"].as_str()), ("deleted", Some(message)));

    // Removed from the project, Bob's stream ends at the next change instead of telling him of it.
    app.delete(&format!("/v1/projects/{id}/members/{}", t.bob_id))
        .bearer(&t.owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.post(&format!("/v1/conversations/{general}/messages"))
        .bearer(&t.owner)
        .json(&json!({"body": "Private now"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    assert!(bob.next().await.is_none(), "the stream ends");
}

/// The next event that is not someone arriving or leaving.
async fn next_change(events: &mut Events) -> Option<(String, Value)> {
    loop {
        let next = events.next().await?;
        if next.0 != "presence" {
            return Some(next);
        }
    }
}

/// Followers of one conversation share one read of each change (docs/collaboration.md#live): each still
/// sees the message as theirs (their own reaction marked, nobody else's), and one who lost access stops
/// hearing while the others go on.
#[tokio::test]
async fn followers_share_a_changes_read_and_each_sees_it_as_their_own() {
    let app = app().await;
    let t = team(&app, "shr").await;
    let (id, general) = staffed(&app, &t, "Shared Read", ("editor", "commenter")).await;
    let stream = format!("/v1/conversations/{general}/stream");
    let mut followers = Vec::new();
    for token in [&t.owner, &t.alice, &t.bob] {
        let (status, events) = Events::open(&app, &stream, token).await;
        assert_eq!(status, StatusCode::OK);
        followers.push(events);
    }
    let said = app
        .post(&format!("/v1/conversations/{general}/messages"))
        .bearer(&t.owner)
        .json(&json!({"body": "Who likes the new mix?"}))
        .send()
        .await
        .value();
    let message = said["id"].as_str().unwrap();
    app.put(&format!("/v1/messages/{message}/reactions/:fire:"))
        .bearer(&t.bob)
        .send()
        .await
        .assert_status(StatusCode::OK);
    for (i, events) in followers.iter_mut().enumerate() {
        let (event, data) = next_change(events).await.unwrap();
        assert_eq!((event.as_str(), data["body"].as_str()), ("message", Some("Who likes the new mix?")));
        let (event, data) = next_change(events).await.unwrap();
        assert_eq!((event.as_str(), data["reactions"][0]["count"].as_i64()), ("updated", Some(1)));
        assert_eq!(data["reactions"][0]["mine"].as_bool(), Some(i == 2), "only Bob's own reaction is his: {data}");
    }
    // Alice leaves the project: her stream ends at the next change; the others still hear it.
    app.delete(&format!("/v1/projects/{id}/members/{}", t.alice_id))
        .bearer(&t.owner)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.post(&format!("/v1/conversations/{general}/messages"))
        .bearer(&t.owner)
        .json(&json!({"body": "Without Alice"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let mut bob = followers.pop().unwrap();
    let mut alice = followers.pop().unwrap();
    assert!(next_change(&mut alice).await.is_none(), "the stream of someone who may no longer read ends");
    let (event, data) = next_change(&mut bob).await.unwrap();
    assert_eq!((event.as_str(), data["body"].as_str()), ("message", Some("Without Alice")));
}

/// Presence: whoever has the conversation's stream open is here (each person once, however many
/// connections), the others hear when someone arrives and when their last connection closes, and a
/// connection nobody refreshed for more than 90 seconds (a node stopped) no longer counts.
#[tokio::test]
async fn presence_follows_who_has_the_conversation_open() {
    let app = app().await;
    let t = team(&app, "prs").await;
    let (_, general) = staffed(&app, &t, "Here", ("commenter", "viewer")).await;
    let stream = format!("/v1/conversations/{general}/stream");
    let presence = format!("/v1/conversations/{general}/presence");
    let names = |v: Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(app.get(&presence).bearer(&t.bob).send().await.value(), json!([]));
    app.get(&presence).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);

    let (_, mut bob) = Events::open(&app, &stream, &t.bob).await;
    // Alice opens it in two tabs: Bob hears of her once, and she is listed once.
    let (_, first_tab) = Events::open(&app, &stream, &t.alice).await;
    let (event, data) = bob.next().await.unwrap();
    assert_eq!(
        (event.as_str(), data["name"].as_str(), data["here"].as_bool()),
        ("presence", Some("prs_alice display"), Some(true))
    );
    let (_, second_tab) = Events::open(&app, &stream, &t.alice).await;
    let mut here = names(app.get(&presence).bearer(&t.owner).send().await.value());
    here.sort();
    assert_eq!(here, ["prs_alice display", "prs_bob display"]);
    // One tab closed: still here. The last closed: Bob hears she left (and nothing before it).
    drop(first_tab);
    drop(second_tab);
    let (event, data) = bob.next().await.unwrap();
    assert_eq!(
        (event.as_str(), data["name"].as_str(), data["here"].as_bool()),
        ("presence", Some("prs_alice display"), Some(false))
    );
    assert_eq!(names(app.get(&presence).bearer(&t.owner).send().await.value()), ["prs_bob display"]);

    // Bob's connection goes unrefreshed past 90 seconds (as when its node stops): no longer here.
    app.clock.advance(Duration::seconds(90));
    assert_eq!(names(app.get(&presence).bearer(&t.owner).send().await.value()), ["prs_bob display"]);
    app.clock.advance(Duration::seconds(1));
    assert_eq!(app.get(&presence).bearer(&t.owner).send().await.value(), json!([]));
    drop(bob);
}

#[tokio::test]
async fn search_finds_only_what_the_searcher_may_read_ranked_and_filtered() {
    let app = app().await;
    let t = team(&app, "srch").await;
    let p = project(&app, &t, "Night Drive Artwork").await;
    let id = p["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "commenter").await.assert_status(StatusCode::OK);
    let channels = app.get(&format!("/v1/projects/{id}/channels")).bearer(&t.alice).send().await.value();
    let general = channels[0]["id"].as_str().unwrap().to_owned();
    let post = |token: String, body: &'static str, reply_to: Option<String>| {
        let (app, general) = (&app, general.clone());
        async move {
            let res = app
                .post(&format!("/v1/conversations/{general}/messages"))
                .bearer(&token)
                .json(&json!({"body": body, "reply_to": reply_to}))
                .send()
                .await;
            res.assert_status(StatusCode::CREATED);
            res.value()["id"].as_str().unwrap().to_owned()
        }
    };
    let cover = post(t.owner.clone(), "The cover cover cover is final", None).await;
    post(t.alice.clone(), "Is the cover in CMYK?", Some(cover.clone())).await;
    app.clock.advance(Duration::days(2));
    post(t.alice.clone(), "Mixing notes for the album", None).await;
    let secret = post(t.owner.clone(), "cover budget is secret", None).await;
    app.delete(&format!("/v1/messages/{secret}")).bearer(&t.owner).send().await.assert_status(StatusCode::NO_CONTENT);

    // A booking thread Bob takes part in, which Alice does not.
    let b = crate::booking::parties(&app, "srchb").await;
    let booking = crate::booking::created(crate::booking::offer(&app, &b, 50_000, 30).await).await;
    let thread = app
        .get(&format!("/v1/threads/booking/{}", booking["id"].as_str().unwrap()))
        .bearer(&b.artist)
        .send()
        .await
        .value();
    app.post(&format!("/v1/conversations/{}/messages", thread["id"].as_str().unwrap()))
        .bearer(&b.artist)
        .json(&json!({"body": "The cover of our rider is attached"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);

    let search = |token: String, q: &'static str| {
        let app = &app;
        async move { app.get(&format!("/v1/search?q={}", crate::web::encode(q))).bearer(&token).send().await }
    };
    let bodies = |v: &Value| -> Vec<String> {
        v["messages"].as_array().unwrap().iter().map(|h| h["message"]["body"].as_str().unwrap().to_owned()).collect()
    };
    // Ranked: the message that says "cover" three times first; deleted ones and others' threads never.
    let found = search(t.alice.clone(), "cover").await.value();
    assert_eq!(bodies(&found), ["The cover cover cover is final", "Is the cover in CMYK?"]);
    assert_eq!(found["messages"][0]["conversation_title"], "#general · Night Drive Artwork");
    let artist = search(b.artist.clone(), "cover").await.value();
    assert_eq!(bodies(&artist), ["The cover of our rider is attached"]);
    assert!(bodies(&search(t.outsider.clone(), "cover").await.value()).is_empty());

    // Filters.
    assert_eq!(bodies(&search(t.alice.clone(), "cover from:srch_alice").await.value()), ["Is the cover in CMYK?"]);
    assert_eq!(
        bodies(&search(t.alice.clone(), "from:srch_alice").await.value()),
        ["Mixing notes for the album", "Is the cover in CMYK?"]
    );
    let today = app.clock_now().date_naive();
    let after = format!("after:{today}");
    let res = app.get(&format!("/v1/search?q={}", crate::web::encode(&after))).bearer(&t.alice).send().await.value();
    assert_eq!(bodies(&res), ["Mixing notes for the album"]);
    let before = format!("cover before:{today}");
    let res = app.get(&format!("/v1/search?q={}", crate::web::encode(&before))).bearer(&t.alice).send().await.value();
    assert_eq!(bodies(&res).len(), 2);
    assert_eq!(bodies(&search(t.alice.clone(), "is:thread").await.value()).len(), 2);
    assert_eq!(bodies(&search(t.alice.clone(), "album in:general").await.value()), ["Mixing notes for the album"]);
    assert!(bodies(&search(t.alice.clone(), "album in:elsewhere").await.value()).is_empty());
    assert!(bodies(&search(t.alice.clone(), "cover has:file").await.value()).is_empty());
    assert!(bodies(&search(t.alice.clone(), "from:nobody_at_all").await.value()).is_empty());

    // Projects by name; bad filters are named.
    let found = search(t.alice.clone(), "artwork").await.value();
    assert_eq!(found["projects"][0]["name"], "Night Drive Artwork");
    assert!(search(t.outsider.clone(), "artwork").await.value()["projects"].as_array().unwrap().is_empty());
    let bad = search(t.alice.clone(), "before:soon").await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_codes(&bad), [("q".to_owned(), "invalid_value".to_owned())]);
    let empty = search(t.alice.clone(), "  ").await;
    assert_eq!(field_codes(&empty), [("q".to_owned(), "required".to_owned())]);
}

#[tokio::test]
async fn direct_conversations_are_one_per_pair_and_groups_hold_fifty() {
    let app = std::sync::Arc::new(app().await);
    let t = team(&app, "dm").await;
    let start = |token: String, body: Value| {
        let app = app.clone();
        async move { app.post("/v1/conversations").bearer(&token).json(&body).send().await }
    };
    // One direct conversation per pair, whoever starts it, even when both start at once.
    let (a, b) = tokio::join!(
        start(t.alice.clone(), json!({"kind": "direct", "user_id": t.bob_id})),
        start(t.bob.clone(), json!({"kind": "direct", "user_id": t.alice_id}))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED]);
    assert_eq!(a.value()["id"], b.value()["id"]);
    assert_eq!((a.value()["kind"].as_str(), a.value()["title"].as_str()), (Some("direct"), Some("dm_bob display")));
    let id = a.value()["id"].as_str().unwrap().to_owned();
    let res = start(t.alice.clone(), json!({"kind": "direct", "user_id": t.alice_id})).await;
    assert_eq!(field_codes(&res), [("user_id".to_owned(), "is_self".to_owned())]);

    // Its two read and write; the other is told; nobody else sees it.
    app.post(&format!("/v1/conversations/{id}/messages"))
        .bearer(&t.alice)
        .json(&json!({"body": "Coffee at ten?"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    drain_jobs(&app).await;
    let told = app.get("/v1/me/notifications").bearer(&t.bob).send().await.value();
    assert!(told.to_string().contains("Coffee at ten?"), "{told}");
    app.get(&format!("/v1/conversations/{id}/messages"))
        .bearer(&t.outsider)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let bobs = app.get("/v1/me/conversations").bearer(&t.bob).send().await.value();
    assert_eq!((bobs[0]["title"].as_str(), bobs[0]["unread"].as_i64()), (Some("dm_alice display"), Some(1)));
    let res = app.put(&format!("/v1/conversations/{id}/members/{}", t.outsider_id)).bearer(&t.alice).send().await;
    assert_eq!(res.value()["code"], "not_a_group");
    let found = app.get("/v1/search?q=coffee").bearer(&t.bob).send().await.value();
    assert_eq!(found["messages"][0]["conversation_title"], "dm_alice display");

    // A group: a title, its people named. At 45 people, ten added at once make 50 and five are refused;
    // three times, a new group each.
    let res = start(t.alice.clone(), json!({"kind": "group", "title": " ", "members": [t.bob_id]})).await;
    assert_eq!(field_codes(&res), [("title".to_owned(), "invalid_length".to_owned())]);
    let people = crate::ticketing::buyers(&app, "dmg", 52).await;
    let mut members: Vec<String> = people.iter().take(43).map(|(_, id)| id.to_string()).collect();
    members.push(t.bob_id.clone());
    let mut group = String::new();
    for round in 0..3 {
        let made = start(t.alice.clone(), json!({"kind": "group", "title": "Tour crew", "members": members})).await;
        made.assert_status(StatusCode::CREATED);
        group = made.value()["id"].as_str().unwrap().to_owned();
        let newcomers = people[43..].iter().map(|(_, id)| id.to_string()).chain([t.outsider_id.clone()]);
        let adds: Vec<_> = newcomers
            .map(|user| {
                let (app, token, path) =
                    (app.clone(), t.bob.clone(), format!("/v1/conversations/{group}/members/{user}"));
                tokio::spawn(async move { app.put(&path).bearer(&token).send().await })
            })
            .collect();
        assert_eq!(tally(adds, StatusCode::OK, "group_full").await, (5, 5), "round {round}");
        let listed = app.get(&format!("/v1/conversations/{group}/members")).bearer(&t.alice).send().await.value();
        assert_eq!(listed.as_array().unwrap().len(), 50, "round {round}");
    }

    // Leaving: yourself only; then the group is no longer yours to read.
    let res = app.delete(&format!("/v1/conversations/{group}/members/{}", t.alice_id)).bearer(&t.bob).send().await;
    res.assert_status(StatusCode::FORBIDDEN);
    app.delete(&format!("/v1/conversations/{group}/members/{}", t.bob_id))
        .bearer(&t.bob)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&format!("/v1/conversations/{group}")).bearer(&t.bob).send().await.assert_status(StatusCode::NOT_FOUND);
    let res = app.delete(&format!("/v1/conversations/{id}/members/{}", t.alice_id)).bearer(&t.alice).send().await;
    assert_eq!(res.value()["code"], "not_a_group");
}

/// `n` bytes that differ with `seed`.
pub(crate) fn bytes_of(seed: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[tokio::test]
async fn files_keep_every_version_take_space_once_and_stay_within_the_allowance_under_concurrency() {
    let app = std::sync::Arc::new(app().await);
    let t = team(&app, "fil").await;
    let admin = crate::tasks::key(&app, &crate::support::signed_in_admin(&app).await).await;
    let p = project(&app, &t, "Album Art").await;
    let id = p["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let upload = {
        let (app, id) = (app.clone(), id.clone());
        move |token: String, query: String, bytes: Vec<u8>| {
            let (app, id) = (app.clone(), id.clone());
            async move { app.post(&format!("/v1/projects/{id}/files?{query}")).bearer(&token).body(bytes).send().await }
        }
    };
    let storage = |token: String| {
        let (app, org) = (app.clone(), t.org.clone());
        async move { app.get(&format!("/v1/orgs/{org}/storage")).bearer(&token).send().await.value() }
    };

    // Versions of one name; a restore makes the next version from old content.
    let (a, b) = (bytes_of(1, 100_000), bytes_of(2, 120_000));
    let first = upload(t.alice.clone(), "name=cover.png&folder=artwork&category=design".into(), a.clone()).await;
    first.assert_status(StatusCode::CREATED);
    let file = first.value()["id"].as_str().unwrap().to_owned();
    let second =
        upload(t.alice.clone(), "name=cover.png&folder=/artwork/&label=brighter".into(), b.clone()).await.value();
    assert_eq!((second["id"].as_str(), second["latest_version"].as_i64()), (Some(file.as_str()), Some(2)));
    assert_eq!(second["versions"][0]["label"], "brighter");
    let restored = app.post(&format!("/v1/project-files/{file}/versions/1/restore")).bearer(&t.alice).send().await;
    restored.assert_status(StatusCode::OK);
    let restored = restored.value();
    assert_eq!(
        (restored["latest_version"].as_i64(), restored["versions"][0]["restored_from"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(restored["versions"][0]["sha256"], restored["versions"][2]["sha256"]);
    let v1 = app.get(&format!("/v1/project-files/{file}/versions/1/content")).bearer(&t.bob).send().await;
    v1.assert_status(StatusCode::OK);
    assert_eq!(v1.body.as_ref(), a.as_slice());
    assert_eq!(v1.header("content-type"), Some("image/png"));
    let part = app
        .get(&format!("/v1/project-files/{file}/versions/2/content"))
        .bearer(&t.bob)
        .header("range", "bytes=10-19")
        .send()
        .await;
    part.assert_status(StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body.as_ref(), &b[10..20]);

    // The same bytes again, under another name, take no new space.
    upload(t.alice.clone(), "name=cover-copy.png".into(), a.clone()).await.assert_status(StatusCode::CREATED);
    assert_eq!(storage(t.owner.clone()).await["used_bytes"], 220_000);

    // Who may: viewers read, not upload; strangers see nothing; bad names are named.
    let res = upload(t.bob.clone(), "name=mine.png".into(), bytes_of(3, 10)).await;
    res.assert_status(StatusCode::FORBIDDEN);
    app.get(&format!("/v1/project-files/{file}")).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/project-files/{file}/versions/1/content"))
        .bearer(&t.outsider)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let res = upload(t.alice.clone(), "name=a%2Fb.png".into(), bytes_of(3, 10)).await;
    assert_eq!(field_codes(&res), [("name".to_owned(), "invalid_format".to_owned())]);
    let res = upload(t.alice.clone(), "name=x.png&folder=..%2Fsecret".into(), bytes_of(3, 10)).await;
    assert_eq!(field_codes(&res), [("folder".to_owned(), "invalid_format".to_owned())]);
    app.put(&format!("/v1/orgs/{}/storage", t.org))
        .bearer(&t.owner)
        .json(&json!({"quota_bytes": 1}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // Eight uploads at once with room for five: five kept, three refused, the allowance never passed.
    for round in 0..3u8 {
        let used = storage(t.owner.clone()).await["used_bytes"].as_i64().unwrap();
        app.put(&format!("/v1/orgs/{}/storage", t.org))
            .bearer(&admin)
            .json(&json!({"quota_bytes": used + 500_000}))
            .send()
            .await
            .assert_status(StatusCode::OK);
        let uploads: Vec<_> = (0..8u8)
            .map(|i| {
                let token = if i % 2 == 0 { t.owner.clone() } else { t.alice.clone() };
                let upload = upload.clone();
                tokio::spawn(async move {
                    upload(token, format!("name=r{round}-{i}.bin"), bytes_of(10 + round * 8 + i, 100_000)).await
                })
            })
            .collect();
        assert_eq!(tally(uploads, StatusCode::CREATED, "quota_exceeded").await, (5, 3), "round {round}");
        let now = storage(t.owner.clone()).await;
        assert_eq!(now["used_bytes"], now["quota_bytes"], "round {round}");
    }
    let files = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.bob).send().await.value();
    assert_eq!(files.as_array().unwrap().len(), 2 + 15);
}

#[tokio::test]
async fn a_version_is_reviewed_with_anchored_comments_by_those_whose_step_it_is() {
    let app = app().await;
    let t = team(&app, "rvw").await;
    let p = project(&app, &t, "Single Cover").await;
    let id = p["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.outsider_id, "client").await.assert_status(StatusCode::OK);
    let file = app
        .post(&format!("/v1/projects/{id}/files?name=cover.png&category=design"))
        .bearer(&t.alice)
        .body(bytes_of(7, 5_000))
        .send()
        .await
        .value();
    let file = file["id"].as_str().unwrap().to_owned();
    let status = |token: String, to: &'static str| {
        let (app, file) = (&app, file.clone());
        async move {
            app.post(&format!("/v1/project-files/{file}/versions/1/status"))
                .bearer(&token)
                .json(&json!({"status": to, "note": "see comments"}))
                .send()
                .await
        }
    };

    // Comments anchored on the version; anchors outside it are named; viewers read only.
    let comments = format!("/v1/project-files/{file}/versions/1/comments");
    let point = app
        .post(&comments)
        .bearer(&t.outsider)
        .json(&json!({"body": "Logo a bit larger", "anchor": {"kind": "point", "x": 0.25, "y": 0.75}}))
        .send()
        .await;
    point.assert_status(StatusCode::CREATED);
    let point = point.value();
    assert_eq!(point["anchor"], json!({"kind": "point", "x": 0.25, "y": 0.75}));
    let bad = app
        .post(&comments)
        .bearer(&t.outsider)
        .json(&json!({"body": "Here", "anchor": {"kind": "region", "x": 0.8, "y": 0.1, "w": 0.3, "h": 0.1}}))
        .send()
        .await;
    assert_eq!(field_codes(&bad), [("anchor".to_owned(), "out_of_range".to_owned())]);
    app.post(&comments)
        .bearer(&t.alice)
        .json(&json!({"body": "Whole thing ok?"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let res = app.post(&comments).bearer(&t.bob).json(&json!({"body": "hm"})).send().await;
    assert_eq!(res.value()["code"], "read_only");
    let listed = app.get(&comments).bearer(&t.bob).send().await.value();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["anchor"], json!({"kind": "version"}));
    app.get(&comments).bearer(&t.outsider).send().await.assert_status(StatusCode::OK);

    // The status moves by whose step it is.
    assert_eq!(status(t.outsider.clone(), "in_review").await.value()["code"], "transition_not_permitted");
    assert_eq!(status(t.alice.clone(), "approved").await.value()["code"], "invalid_transition");
    status(t.alice.clone(), "in_review").await.assert_status(StatusCode::OK);
    assert_eq!(status(t.alice.clone(), "approved").await.value()["code"], "transition_not_permitted");
    let changes = status(t.outsider.clone(), "changes_requested").await;
    changes.assert_status(StatusCode::OK);
    assert_eq!(changes.value()["versions"][0]["status"], "changes_requested");
    let resolved = app
        .put(&format!("/v1/review-comments/{}/resolution", point["id"].as_str().unwrap()))
        .bearer(&t.alice)
        .json(&json!({"resolved": true}))
        .send()
        .await;
    resolved.assert_status(StatusCode::OK);
    assert_eq!(resolved.value()["resolved"], true);
    status(t.alice.clone(), "in_review").await.assert_status(StatusCode::OK);
    let approved = status(t.outsider.clone(), "approved").await.value();
    assert_eq!(approved["versions"][0]["status"], "approved");
    assert_eq!(status(t.owner.clone(), "draft").await.value()["code"], "invalid_transition");

    // Strangers reach none of it.
    let (stranger, _, _) = signed_in(&app, "rvw_stranger").await;
    app.get(&comments).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    let res = app
        .put(&format!("/v1/review-comments/{}/resolution", point["id"].as_str().unwrap()))
        .bearer(&stranger)
        .json(&json!({"resolved": false}))
        .send()
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
}

/// Saying one is writing is limited to ten times in ten seconds per person and conversation (clients
/// send it every few seconds): the eleventh is `429` with `Retry-After`, and the next window allows it.
#[tokio::test]
async fn typing_notices_are_limited_per_person() {
    let app = app().await;
    let t = team(&app, "typ").await;
    let (_, general) = staffed(&app, &t, "Typing", ("editor", "editor")).await;
    let typing = format!("/v1/conversations/{general}/typing");
    for _ in 0..10 {
        app.post(&typing).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
    }
    let refused = app.post(&typing).bearer(&t.alice).send().await;
    refused.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.header("retry-after").is_some());
    // Someone else is not held back by Alice's notices.
    app.post(&typing).bearer(&t.bob).send().await.assert_status(StatusCode::NO_CONTENT);
    app.clock.advance(chrono::Duration::seconds(10));
    app.post(&typing).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
}

/// A query matching more than 2,000 messages ranks the newest 2,000: the best match among older ones
/// is found by narrowing the query (`before:`). At 2,000 matches it is still first; at 2,001 it is not.
#[tokio::test]
async fn a_common_query_ranks_the_newest_two_thousand_matches() {
    let app = app().await;
    let t = team(&app, "rnk").await;
    let group = alices_group_with_bob(&app, &t, "Quasar crew").await;
    let (conversation, alice) = (uuid::Uuid::parse_str(&group).unwrap(), uuid::Uuid::parse_str(&t.alice_id).unwrap());
    let now = app.clock_now();
    let best_at = now - Duration::days(3);
    let mut conn = app.db.pool.acquire().await.unwrap();
    // The best match (the word three times), then 1,999 weaker ones after it, written directly.
    sqlx::query!(
        "INSERT INTO messages (id, conversation_id, author_id, body, created_at)
         VALUES (gen_random_uuid(), $1, $2, 'quasar quasar quasar lullaby', $3)",
        conversation,
        alice,
        best_at
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let weaker_from = now - Duration::days(2);
    let weaker = |from: i32, to: i32| {
        sqlx::query!(
            "INSERT INTO messages (id, conversation_id, author_id, body, created_at)
             SELECT gen_random_uuid(), $1, $2, 'quasar filler ' || i, $3::timestamptz + make_interval(secs => i)
             FROM generate_series($4::int, $5::int) i",
            conversation,
            alice,
            weaker_from,
            from,
            to
        )
    };
    weaker(1, 1999).execute(&mut *conn).await.unwrap();
    let first = async |q: &str| {
        let found = app.get(&format!("/v1/search?q={q}")).bearer(&t.bob).send().await.value();
        found["messages"][0]["message"]["body"].as_str().unwrap_or_else(|| panic!("{found}")).to_owned()
    };
    assert_eq!(first("quasar").await, "quasar quasar quasar lullaby", "2,000 matches: all ranked");
    weaker(2000, 2000).execute(&mut *conn).await.unwrap();
    assert!(first("quasar").await.starts_with("quasar filler"), "2,001 matches: the oldest is not ranked");
    let day_after = best_at.date_naive() + Duration::days(1);
    assert_eq!(first(&format!("quasar+before:{day_after}")).await, "quasar quasar quasar lullaby");
}

/// A group Alice starts with Bob.
pub(crate) async fn alices_group_with_bob(app: &testkit::TestApp, t: &Team, title: &str) -> String {
    let body = serde_json::json!({"kind": "group", "title": title, "members": [t.bob_id]});
    let group = app.post("/v1/conversations").bearer(&t.alice).json(&body).send().await.value();
    group["id"].as_str().unwrap().to_owned()
}
