//! Pinned messages (at most 50, under concurrent pins), notification levels (following a channel,
//! keeping to mentions, muting a thread) and mentions of a team in a channel.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::collab::{staffed, tally, team};
use crate::support::drain_jobs;

async fn say(app: &TestApp, token: &str, conversation: &str, body: &str) -> Value {
    let res = app
        .post(&format!("/v1/conversations/{conversation}/messages"))
        .bearer(token)
        .json(&json!({"body": body}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    res.value()
}

async fn set_level(app: &TestApp, token: &str, conversation: &str, level: &str) -> testkit::TestResponse {
    app.put(&format!("/v1/conversations/{conversation}/notifications"))
        .bearer(token)
        .json(&json!({"level": level}))
        .send()
        .await
}

async fn told(app: &TestApp, token: &str) -> String {
    drain_jobs(app).await;
    app.get("/v1/me/notifications").bearer(token).send().await.text()
}

#[tokio::test]
async fn messages_are_pinned_by_those_who_post_at_most_fifty_at_once() {
    let app = Arc::new(crate::support::app().await);
    let t = team(&app, "pin").await;
    let (_, general) = staffed(&app, &t, "Pins", ("editor", "viewer")).await;
    let first = say(&app, &t.alice, &general, "Setlist v3 is final").await;
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["pinned_at"], Value::Null);

    let res = app.put(&format!("/v1/messages/{id}/pin")).bearer(&t.alice).send().await;
    res.assert_status(StatusCode::OK);
    assert!(res.value()["pinned_at"].is_string());
    app.put(&format!("/v1/messages/{id}/pin")).bearer(&t.alice).send().await.assert_status(StatusCode::OK);
    // A viewer reads the pins but does not pin; a stranger sees nothing.
    let res = app.put(&format!("/v1/messages/{id}/pin")).bearer(&t.bob).send().await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.value()["code"], "read_only");
    app.put(&format!("/v1/messages/{id}/pin")).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/conversations/{general}/pins"))
        .bearer(&t.outsider)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let pins = app.get(&format!("/v1/conversations/{general}/pins")).bearer(&t.bob).send().await.value();
    assert_eq!(pins.as_array().unwrap().len(), 1);
    assert_eq!(pins[0]["body"], "Setlist v3 is final");
    let listed = app.get(&format!("/v1/conversations/{general}/messages")).bearer(&t.bob).send().await.value();
    assert!(listed["items"][0]["pinned_at"].is_string());
    app.delete(&format!("/v1/messages/{id}/pin")).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
    let pins = app.get(&format!("/v1/conversations/{general}/pins")).bearer(&t.bob).send().await.value();
    assert_eq!(pins, json!([]));

    // 45 pinned; ten more pinned at once: five are, the rest refused. Three rounds, a channel each.
    for round in 0..3 {
        let channel = app
            .post(&format!("/v1/projects/{}/channels", listed_project(&app, &t, &general).await))
            .bearer(&t.owner)
            .json(&json!({"name": format!("round-{round}")}))
            .send()
            .await
            .value()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut ids = Vec::new();
        for i in 0..55 {
            ids.push(say(&app, &t.alice, &channel, &format!("note {i}")).await["id"].as_str().unwrap().to_owned());
        }
        for id in &ids[..45] {
            app.put(&format!("/v1/messages/{id}/pin")).bearer(&t.alice).send().await.assert_status(StatusCode::OK);
        }
        let requests: Vec<_> = ids[45..]
            .iter()
            .map(|id| {
                let (app, token, id) = (app.clone(), t.alice.clone(), id.clone());
                tokio::spawn(async move { app.put(&format!("/v1/messages/{id}/pin")).bearer(&token).send().await })
            })
            .collect();
        assert_eq!(tally(requests, StatusCode::OK, "too_many_pins").await, (5, 5), "round {round}");
        let pins = app.get(&format!("/v1/conversations/{channel}/pins")).bearer(&t.alice).send().await.value();
        assert_eq!(pins.as_array().unwrap().len(), 50);
    }
}

/// The project a channel belongs to.
async fn listed_project(app: &TestApp, t: &crate::collab::Team, channel: &str) -> String {
    app.get(&format!("/v1/conversations/{channel}")).bearer(&t.owner).send().await.value()["project_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn levels_follow_keep_to_mentions_or_mute_and_a_team_is_mentioned_by_its_handle() {
    let app = crate::support::app().await;
    let t = team(&app, "lvl").await;
    let (_, general) = staffed(&app, &t, "Levels", ("editor", "commenter")).await;

    // A channel tells by default only whom it mentions; Bob follows it and hears every message.
    let res = app.get(&format!("/v1/conversations/{general}/notifications")).bearer(&t.bob).send().await.value();
    assert_eq!(res["level"], "mentions");
    say(&app, &t.alice, &general, "quiet-one before following").await;
    assert!(!told(&app, &t.bob).await.contains("quiet-one"));
    let res = set_level(&app, &t.bob, &general, "all").await;
    assert_eq!(res.value()["level"], "all");
    say(&app, &t.alice, &general, "loud-one after following").await;
    assert!(told(&app, &t.bob).await.contains("loud-one"));
    let res = set_level(&app, &t.bob, &general, "sometimes").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    set_level(&app, &t.outsider, &general, "all").await.assert_status(StatusCode::NOT_FOUND);

    // Muted, even a mention tells Bob nothing (it is still recorded and counted unread).
    set_level(&app, &t.bob, &general, "none").await.assert_status(StatusCode::OK);
    let mention = say(&app, &t.alice, &general, "muted-one @lvl_bob").await;
    assert_eq!(mention["mentions"], json!([t.bob_id]));
    assert!(!told(&app, &t.bob).await.contains("muted-one"));

    // A team by its handle: its members on the project are mentioned and told (Bob is muted; the
    // outsider on the team is not on the project).
    let team_id = app
        .post(&format!("/v1/orgs/{}/teams", t.org))
        .bearer(&t.owner)
        .json(&json!({"name": "Door staff"}))
        .send()
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for user in [&t.alice_id, &t.bob_id] {
        app.put(&format!("/v1/orgs/{}/teams/{team_id}/members/{user}", t.org))
            .bearer(&t.owner)
            .send()
            .await
            .assert_status(StatusCode::NO_CONTENT);
    }
    let (owner_id, owner_name) = {
        let me = app.get("/v1/me").bearer(&t.owner).send().await.value();
        (me["id"].as_str().unwrap().to_owned(), me["username"].as_str().unwrap().to_owned())
    };
    assert_eq!(owner_name, "lvl_owner");
    let sent = say(&app, &t.owner, &general, "team-call @door-staff please check the doors").await;
    let mut mentioned: Vec<String> =
        sent["mentions"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_owned()).collect();
    mentioned.sort();
    let mut expected = vec![t.alice_id.clone(), t.bob_id.clone()];
    expected.sort();
    assert_eq!(mentioned, expected);
    assert_ne!(owner_id, t.alice_id);
    assert!(told(&app, &t.alice).await.contains("team-call"));
    assert!(!told(&app, &t.bob).await.contains("team-call"));
    // An unknown handle mentions nobody.
    assert_eq!(say(&app, &t.owner, &general, "@nobody-here hello").await["mentions"], json!([]));
}
