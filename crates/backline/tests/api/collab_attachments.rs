//! Files attached to messages: uploads that wait for their uploader's message, then are read by whoever
//! reads the conversation and nobody else (through every route: the download, the message lists,
//! search); a project's channel attaching the project's files; a support ticket's internal notes whose
//! files the customer never reaches; one upload taken by one message however many race for it.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::collab::{Team, project, put_member, team};
use crate::support::{drain_jobs, signed_in_with_roles};
use crate::tasks::key;

async fn upload(app: &TestApp, token: &str, conversation: &str, name: &str, bytes: &[u8]) -> testkit::TestResponse {
    app.post(&format!("/v1/conversations/{conversation}/attachments?name={name}"))
        .bearer(token)
        .body(bytes.to_vec())
        .send()
        .await
}

async fn post(app: &TestApp, token: &str, conversation: &str, body: Value) -> testkit::TestResponse {
    app.post(&format!("/v1/conversations/{conversation}/messages")).bearer(token).json(&body).send().await
}

async fn group(app: &TestApp, t: &Team) -> String {
    let res = app
        .post("/v1/conversations")
        .bearer(&t.alice)
        .json(&json!({"kind": "group", "title": "Tour crew", "members": [t.bob_id]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    res.value()["id"].as_str().unwrap().to_owned()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_upload_is_attached_once_and_read_by_whoever_reads_the_conversation() {
    let app = crate::support::app().await;
    let t = team(&app, "att").await;
    let crew = group(&app, &t).await;
    let bytes = b"%PDF-1.4 stage plot, version 3".to_vec();
    let res = upload(&app, &t.alice, &crew, "stage-plot.pdf", &bytes).await;
    res.assert_status(StatusCode::CREATED);
    let waiting = res.value();
    assert_eq!(
        (waiting["name"].as_str(), waiting["size"].as_i64()),
        (Some("stage-plot.pdf"), Some(bytes.len() as i64))
    );
    assert_eq!(waiting["media_type"], "application/pdf");
    let url = waiting["url"].as_str().unwrap().to_owned();
    // Waiting: its uploader reads it, nobody else (not even the group).
    app.get(&url).bearer(&t.alice).send().await.assert_status(StatusCode::OK);
    app.get(&url).bearer(&t.bob).send().await.assert_status(StatusCode::NOT_FOUND);
    // Only the uploader's own message takes it.
    let res = post(&app, &t.bob, &crew, json!({"body": "mine now", "attachments": [id(&waiting)]})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "attachments", "{}", res.value());

    let res = post(&app, &t.alice, &crew, json!({"body": "The stage plot", "attachments": [id(&waiting)]})).await;
    res.assert_status(StatusCode::CREATED);
    let message = res.value();
    assert_eq!(message["attachments"][0]["id"], waiting["id"], "{message}");
    // The group reads it, with byte ranges; anyone else gets 404.
    let got = app.get(&url).bearer(&t.bob).send().await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.body.as_ref(), bytes.as_slice());
    let part = app.get(&url).bearer(&t.bob).header("range", "bytes=0-7").send().await;
    part.assert_status(StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body.as_ref(), b"%PDF-1.4");
    app.get(&url).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    // Attached once: a second message cannot take it again, and nothing of that message is kept.
    let res = post(&app, &t.alice, &crew, json!({"body": "again", "attachments": [id(&waiting)]})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let listed = app.get(&format!("/v1/conversations/{crew}/messages")).bearer(&t.bob).send().await.value();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["attachments"][0]["name"], "stage-plot.pdf");
    // has:file finds it, for the group only.
    let found = app.get("/v1/search?q=has:file").bearer(&t.bob).send().await.value();
    assert_eq!(found["messages"][0]["message"]["id"], message["id"], "{found}");
    assert_eq!(found["messages"][0]["message"]["attachments"][0]["name"], "stage-plot.pdf");
    let found = app.get("/v1/search?q=has:file").bearer(&t.outsider).send().await.value();
    assert_eq!(found["messages"], json!([]));

    // Limits and names: at most ten files a message, a name without a path, a channel takes project files.
    let mut many = Vec::new();
    for i in 0..11 {
        many.push(id(&upload(&app, &t.alice, &crew, &format!("f{i}.txt"), b"x").await.value()));
    }
    let res = post(&app, &t.alice, &crew, json!({"body": "lots", "attachments": many})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["code"], "too_many");
    let res = post(&app, &t.alice, &crew, json!({"body": "ten", "attachments": many[..10]})).await;
    res.assert_status(StatusCode::CREATED);
    let names: Vec<String> =
        res.value()["attachments"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, (0..10).map(|i| format!("f{i}.txt")).collect::<Vec<_>>());
    let res = upload(&app, &t.alice, &crew, "..", b"x").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "name");

    // Deleting the message takes its files with it.
    app.delete(&format!("/v1/messages/{}", id(&message)))
        .bearer(&t.alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&url).bearer(&t.bob).send().await.assert_status(StatusCode::NOT_FOUND);
    let listed = app.get(&format!("/v1/conversations/{crew}/messages")).bearer(&t.bob).send().await.value();
    let deleted = listed["items"].as_array().unwrap().iter().find(|m| m["id"] == message["id"]).unwrap().clone();
    assert_eq!(deleted["attachments"], json!([]));
}

#[tokio::test]
async fn a_channel_attaches_its_projects_files_and_nothing_else() {
    let app = crate::support::app().await;
    let t = team(&app, "chan").await;
    let p = id(&project(&app, &t, "Video").await);
    let other = id(&project(&app, &t, "Other").await);
    for project in [&p, &other] {
        put_member(&app, &t.owner, project, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    }
    put_member(&app, &t.owner, &p, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let general = app.get(&format!("/v1/projects/{p}/channels")).bearer(&t.alice).send().await.value()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = |project: String, name: &'static str, bytes: &'static [u8]| {
        let app = &app;
        let token = t.alice.clone();
        async move {
            let res = app
                .post(&format!("/v1/projects/{project}/files?name={name}"))
                .bearer(&token)
                .body(bytes.to_vec())
                .send()
                .await;
            res.assert_status(StatusCode::CREATED);
            res.value()
        }
    };
    let cut = file(p.clone(), "cut.txt", b"first cut").await;
    file(p.clone(), "cut.txt", b"second cut").await;
    let elsewhere = file(other.clone(), "else.txt", b"elsewhere").await;

    // Uploads are refused in a channel: its files are the project's.
    let res = upload(&app, &t.alice, &general, "x.txt", b"x").await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "use_project_files");
    // The latest version unless one is named.
    let res = post(
        &app,
        &t.alice,
        &general,
        json!({"body": "Cuts", "files": [{"file_id": id(&cut)}, {"file_id": id(&cut), "version": 1}]}),
    )
    .await;
    res.assert_status(StatusCode::CREATED);
    let message = res.value();
    let versions: Vec<i64> =
        message["attachments"].as_array().unwrap().iter().map(|a| a["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [2, 1]);
    let first = message["attachments"][1]["url"].as_str().unwrap().to_owned();
    // A viewer of the project reads it; someone outside does not.
    let got = app.get(&first).bearer(&t.bob).send().await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.body.as_ref(), b"first cut");
    app.get(&first).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    // Another project's file is not attached here, nor a project file anywhere but its channels.
    let res = post(&app, &t.alice, &general, json!({"body": "x", "files": [{"file_id": id(&elsewhere)}]})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "files");
    let crew = group(&app, &t).await;
    let res = post(&app, &t.alice, &crew, json!({"body": "x", "files": [{"file_id": id(&cut)}]})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["code"], "not_applicable");
    // The file's deletion takes it out of the message.
    app.delete(&format!("/v1/project-files/{}", id(&cut)))
        .bearer(&t.alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get(&first).bearer(&t.bob).send().await.assert_status(StatusCode::NOT_FOUND);
    let listed = app.get(&format!("/v1/conversations/{general}/messages")).bearer(&t.bob).send().await.value();
    assert_eq!(listed["items"][0]["attachments"], json!([]), "{listed}");
}

#[tokio::test]
async fn a_tickets_internal_note_keeps_its_files_from_the_customer() {
    let app = crate::support::app().await;
    let (customer, _, _) = crate::support::signed_in(&app, "attc_cust").await;
    let customer = key(&app, &customer).await;
    let (agent, _) = signed_in_with_roles(&app, "attc_agent", "Agent", &["staff"]).await;
    let agent = key(&app, &agent).await;
    let ticket = app
        .post("/v1/support/tickets")
        .bearer(&customer)
        .json(&json!({"subject": "Payout missing", "description": "Where is it?", "category": "payouts", "priority": "high"}))
        .send()
        .await
        .value();
    let (tid, conversation) = (id(&ticket), ticket["conversation_id"].as_str().unwrap().to_owned());
    // The customer sends a screenshot; the agent reads it.
    let shot = upload(&app, &customer, &conversation, "screenshot.png", b"not really a png").await.value();
    let res = app
        .post(&format!("/v1/support/tickets/{tid}/messages"))
        .bearer(&customer)
        .json(&json!({"body": "See the screenshot", "attachments": [id(&shot)]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    app.get(shot["url"].as_str().unwrap()).bearer(&agent).send().await.assert_status(StatusCode::OK);
    // The agent's internal note with a file: never the customer's.
    let memo = upload(&app, &agent, &conversation, "bank-memo.txt", b"internal: bank reference 99").await.value();
    let res = app
        .post(&format!("/v1/support/tickets/{tid}/messages"))
        .bearer(&agent)
        .json(&json!({"body": "Bank says it bounced", "internal": true, "attachments": [id(&memo)]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let memo_url = memo["url"].as_str().unwrap();
    app.get(memo_url).bearer(&agent).send().await.assert_status(StatusCode::OK);
    app.get(memo_url).bearer(&customer).send().await.assert_status(StatusCode::NOT_FOUND);
    for path in [
        format!("/v1/support/tickets/{tid}/messages"),
        format!("/v1/conversations/{conversation}/messages"),
        "/v1/search?q=has:file".to_owned(),
    ] {
        let seen = app.get(&path).bearer(&customer).send().await.text();
        assert!(!seen.contains("bank-memo") && seen.contains("screenshot.png"), "{path}: {seen}");
    }
}

/// One upload, many messages naming it at once: exactly one takes it, the others are refused whole.
#[tokio::test]
async fn an_upload_is_taken_by_one_message_however_many_race_for_it() {
    let app = Arc::new(crate::support::app().await);
    let t = team(&app, "race").await;
    let crew = group(&app, &t).await;
    for round in 0..3 {
        let mut uploads = Vec::new();
        for i in 0..5 {
            uploads.push(id(&upload(
                &app,
                &t.alice,
                &crew,
                &format!("r{round}-{i}.txt"),
                format!("{round}{i}").as_bytes(),
            )
            .await
            .value()));
        }
        let mut racers = Vec::new();
        for upload in &uploads {
            for n in 0..4 {
                let (app, token, crew, upload) = (app.clone(), t.alice.clone(), crew.clone(), upload.clone());
                racers.push(tokio::spawn(async move {
                    post(&app, &token, &crew, json!({"body": format!("take {n}"), "attachments": [upload]}))
                        .await
                        .status
                }));
            }
        }
        let mut created = 0;
        for racer in racers {
            match racer.await.unwrap() {
                StatusCode::CREATED => created += 1,
                StatusCode::UNPROCESSABLE_ENTITY => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(created, 5, "round {round}");
    }
    // Every message that was kept holds one file; none was kept without.
    let listed = app.get(&format!("/v1/conversations/{crew}/messages?limit=100")).bearer(&t.bob).send().await.value();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 15);
    assert!(items.iter().all(|m| m["attachments"].as_array().unwrap().len() == 1), "{listed}");
}

#[tokio::test]
async fn an_attachment_waits_for_its_scan() {
    let dir = tempfile::tempdir().unwrap();
    let app = crate::collab_files::scanning_app(dir.path()).await;
    let t = team(&app, "atts").await;
    let crew = group(&app, &t).await;
    let up = upload(&app, &t.alice, &crew, "notes.txt", b"clean notes").await.value();
    assert_eq!(up["scan"], "pending");
    post(&app, &t.alice, &crew, json!({"body": "notes", "attachments": [id(&up)]}))
        .await
        .assert_status(StatusCode::CREATED);
    let res = app.get(up["url"].as_str().unwrap()).bearer(&t.bob).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "file_quarantined");
    drain_jobs(&app).await;
    app.get(up["url"].as_str().unwrap()).bearer(&t.bob).send().await.assert_status(StatusCode::OK);
    // Bytes found infected are refused at once.
    let bad = upload(&app, &t.alice, &crew, "eicar.txt", crate::collab_files::EICAR.as_bytes()).await.value();
    drain_jobs(&app).await;
    post(&app, &t.alice, &crew, json!({"body": "bad", "attachments": [id(&bad)]}))
        .await
        .assert_status(StatusCode::CREATED);
    let res = app.get(bad["url"].as_str().unwrap()).bearer(&t.bob).send().await;
    assert_eq!(res.value()["code"], "file_quarantined");
    let res = upload(&app, &t.alice, &crew, "again.txt", crate::collab_files::EICAR.as_bytes()).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "file_infected");
}

/// An upload no message took is removed by the daily sweep once a day has passed, to the second; an
/// attached one, and a younger one, stay.
#[tokio::test]
async fn uploads_no_message_took_are_swept_after_a_day() {
    let app = crate::support::app().await;
    let t = team(&app, "swp").await;
    let crew = group(&app, &t).await;
    let old = upload(&app, &t.alice, &crew, "old.txt", b"old").await.value();
    let kept = upload(&app, &t.alice, &crew, "kept.txt", b"kept").await.value();
    post(&app, &t.alice, &crew, json!({"body": "kept", "attachments": [id(&kept)]}))
        .await
        .assert_status(StatusCode::CREATED);
    app.clock.advance(chrono::Duration::hours(1));
    let young = upload(&app, &t.alice, &crew, "young.txt", b"young").await.value();
    let sweep = async || {
        let mut conn = app.db.pool.acquire().await.unwrap();
        let job = platform::jobs::NewJob::new(collab::attachments::service::SWEEP, json!({}));
        platform::jobs::enqueue(&mut conn, job, app.clock_now()).await.unwrap();
        drop(conn);
        drain_jobs(&app).await;
    };
    // Exactly a day after the first upload: it is not older than a day yet.
    app.clock.advance(chrono::Duration::hours(23));
    sweep().await;
    app.get(old["url"].as_str().unwrap()).bearer(&t.alice).send().await.assert_status(StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(1));
    sweep().await;
    app.get(old["url"].as_str().unwrap()).bearer(&t.alice).send().await.assert_status(StatusCode::NOT_FOUND);
    let res = post(&app, &t.alice, &crew, json!({"body": "late", "attachments": [id(&old)]})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    app.get(young["url"].as_str().unwrap()).bearer(&t.alice).send().await.assert_status(StatusCode::OK);
    app.get(kept["url"].as_str().unwrap()).bearer(&t.bob).send().await.assert_status(StatusCode::OK);
}
