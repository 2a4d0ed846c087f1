//! An approved version of a project's file handed to a release (cover art), a track (audio), a booking's
//! contract (an annex) and a task (a deliverable): only when approved, only by the project's makers and
//! client, and only where the owning domain's own rule lets the caller change the object.

use axum::http::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::support::{app, create_org, drain_jobs, signed_in};

/// A project of the organization `org` made by `token` (its manager), with `name` uploaded as `bytes`;
/// answers the project's and the file's ids.
async fn project_with_file(app: &TestApp, token: &str, org: &str, name: &str, bytes: &[u8]) -> (String, String) {
    let res = app
        .post("/v1/projects")
        .bearer(token)
        .json(&json!({"organization_id": org, "name": format!("Work on {name}")}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let project = res.value()["id"].as_str().unwrap().to_owned();
    let res =
        app.post(&format!("/v1/projects/{project}/files?name={name}")).bearer(token).body(bytes.to_vec()).send().await;
    res.assert_status(StatusCode::CREATED);
    let file = res.value()["id"].as_str().unwrap().to_owned();
    drain_jobs(app).await;
    (project, file)
}

/// Uploads `bytes` as the file's next version; answers its number.
async fn next_version(app: &TestApp, token: &str, project: &str, name: &str, bytes: &[u8]) -> i64 {
    let res =
        app.post(&format!("/v1/projects/{project}/files?name={name}")).bearer(token).body(bytes.to_vec()).send().await;
    res.assert_status(StatusCode::CREATED);
    drain_jobs(app).await;
    res.value()["latest_version"].as_i64().unwrap()
}

async fn status(app: &TestApp, token: &str, file: &str, version: i64, to: &str) -> testkit::TestResponse {
    app.post(&format!("/v1/project-files/{file}/versions/{version}/status"))
        .bearer(token)
        .json(&json!({"status": to}))
        .send()
        .await
}

/// The manager puts the version up for review and approves it.
async fn approve(app: &TestApp, token: &str, file: &str, version: i64) {
    status(app, token, file, version, "in_review").await.assert_status(StatusCode::OK);
    status(app, token, file, version, "approved").await.assert_status(StatusCode::OK);
}

async fn hand(app: &TestApp, token: &str, file: &str, version: i64, to: &str, id: &str) -> testkit::TestResponse {
    app.post(&format!("/v1/project-files/{file}/versions/{version}/handovers"))
        .bearer(token)
        .json(&json!({"to": to, "id": id}))
        .send()
        .await
}

async fn handovers(app: &TestApp, token: &str, file: &str, version: i64) -> Vec<Value> {
    let res = app.get(&format!("/v1/project-files/{file}/versions/{version}/handovers")).bearer(token).send().await;
    res.assert_status(StatusCode::OK);
    res.value().as_array().unwrap().clone()
}

#[tokio::test]
async fn an_approved_version_becomes_a_releases_cover_a_tracks_audio_and_a_contracts_annex() {
    let app = app().await;
    let l = crate::catalog::label(&app, "handover-records", "DEH11").await;
    let release = crate::catalog::release(&app, &l, "Handed Over").await;
    let rid = release["id"].as_str().unwrap().to_owned();
    let track = crate::catalog::add_track(&app, &l, &rid, "Handed Track").await;
    let tid = track["track"]["id"].as_str().unwrap().to_owned();
    let cover = crate::catalog::cover();
    let (project, file) = project_with_file(&app, &l.token, &l.id, "cover.png", cover).await;

    // Not before it is approved: a draft, then in review.
    hand(&app, &l.token, &file, 1, "release_artwork", &rid).await.assert_problem(StatusCode::CONFLICT, "not_approved");
    status(&app, &l.token, &file, 1, "in_review").await.assert_status(StatusCode::OK);
    hand(&app, &l.token, &file, 1, "release_artwork", &rid).await.assert_problem(StatusCode::CONFLICT, "not_approved");
    status(&app, &l.token, &file, 1, "approved").await.assert_status(StatusCode::OK);

    // A kind nobody takes is named as the bad field.
    let res = hand(&app, &l.token, &file, 1, "poster_wall", &rid).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::collab::field_codes(&res), vec![("to".to_owned(), "invalid_value".to_owned())]);

    // A stranger to the project sees no file; a stranger to the release is refused by the catalog.
    let (stranger, _, _) = signed_in(&app, "handover_stranger").await;
    hand(&app, &stranger, &file, 1, "release_artwork", &rid).await.assert_status(StatusCode::NOT_FOUND);
    let other = crate::catalog::label(&app, "other-handover", "DEH12").await;
    let theirs = crate::catalog::release(&app, &other, "Not Yours").await;
    let theirs = theirs["id"].as_str().unwrap();
    hand(&app, &l.token, &file, 1, "release_artwork", theirs).await.assert_status(StatusCode::NOT_FOUND);
    assert!(handovers(&app, &l.token, &file, 1).await.is_empty(), "a refusal records nothing");

    // The approved cover becomes the release's artwork, by the catalog's own checks.
    let res = hand(&app, &l.token, &file, 1, "release_artwork", &rid).await;
    res.assert_status(StatusCode::CREATED);
    let handover = res.value();
    assert_eq!((handover["to"].as_str(), handover["version"].as_i64()), (Some("release_artwork"), Some(1)));
    assert_eq!(handover["taken"]["artwork"]["width"], 3000, "{handover}");
    let art = app.get(&format!("/v1/releases/{rid}/artwork")).bearer(&l.token).send().await;
    art.assert_status(StatusCode::OK);
    assert!(art.body.as_ref() == cover, "the release holds the approved bytes");
    let listed = handovers(&app, &l.token, &file, 1).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["target_id"], rid.as_str());
    assert!(listed[0].get("taken").is_none());

    // What the catalog refuses (a picture that is not square) is answered as the catalog answers it.
    let wide = testkit::media::png(3000, 2999, png::ColorType::Rgb);
    let v2 = next_version(&app, &l.token, &project, "cover.png", &wide).await;
    approve(&app, &l.token, &file, v2).await;
    let res = hand(&app, &l.token, &file, v2, "release_artwork", &rid).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        crate::collab::field_codes(&res).contains(&("artwork".to_owned(), "not_square".to_owned())),
        "{:?}",
        res.value()
    );
    assert!(handovers(&app, &l.token, &file, v2).await.is_empty());
    let art = app.get(&format!("/v1/releases/{rid}/artwork")).bearer(&l.token).send().await;
    assert!(art.body.as_ref() == cover, "the refused picture replaced nothing");

    // The approved master becomes the track's audio.
    let (_, master) = project_with_file(&app, &l.token, &l.id, "master.wav", crate::catalog::wav()).await;
    approve(&app, &l.token, &master, 1).await;
    let res = hand(&app, &l.token, &master, 1, "track_audio", &tid).await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.value()["taken"]["audio"]["channels"], 2, "{}", res.value());
    let audio = app.get(&format!("/v1/tracks/{tid}/audio")).bearer(&l.token).send().await;
    assert!(audio.body.as_ref() == crate::catalog::wav());

    // In a project of their own organization: a viewer reads where a version went and hands nothing
    // over; an editor may, and the catalog refuses them a release that is not theirs.
    let t = crate::collab::team(&app, "hview").await;
    let (project, _) = crate::collab::staffed(&app, &t, "Viewed", ("viewer", "editor")).await;
    let res = app
        .post(&format!("/v1/projects/{project}/files?name=cover.png"))
        .bearer(&t.owner)
        .body(cover.to_vec())
        .send()
        .await;
    let theirs_file = res.value()["id"].as_str().unwrap().to_owned();
    drain_jobs(&app).await;
    approve(&app, &t.owner, &theirs_file, 1).await;
    hand(&app, &t.alice, &theirs_file, 1, "release_artwork", &rid)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(handovers(&app, &t.alice, &theirs_file, 1).await.is_empty());
    hand(&app, &t.bob, &theirs_file, 1, "release_artwork", &rid).await.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_approved_rider_is_annexed_to_the_contract_and_both_sides_sign_again() {
    let app = app().await;
    let p = crate::booking::parties(&app, "hnd").await;
    let booking = crate::booking::agreed(&app, &p, 40).await;
    let org = create_org(&app, &p.organizer, "hnd-presents-office").await;
    let rider = b"%PDF-1.4 stage plot: two risers, four wedges".to_vec();
    let (project, file) = project_with_file(&app, &p.organizer, &org, "stage-plot.pdf", &rider).await;
    approve(&app, &p.organizer, &file, 1).await;
    // A name with a line break never reaches a contract's text: a project refuses it already.
    let res = app
        .post(&format!("/v1/projects/{project}/files?name=plot%0A8.%20Annexes"))
        .bearer(&p.organizer)
        .body(b"x".to_vec())
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::collab::field_codes(&res), vec![("name".to_owned(), "invalid_format".to_owned())]);

    // The artist is not in the organizer's project; the organizer is a party to the booking.
    hand(&app, &p.artist, &file, 1, "contract_annex", &booking).await.assert_status(StatusCode::NOT_FOUND);
    let before = app.get(&format!("/v1/bookings/{booking}/contract")).bearer(&p.organizer).send().await.value();
    let res = hand(&app, &p.organizer, &file, 1, "contract_annex", &booking).await;
    res.assert_status(StatusCode::CREATED);
    let contract = &res.value()["taken"];
    assert_eq!(contract["version"].as_i64(), Some(before["version"].as_i64().unwrap() + 1));
    let annex = &contract["document"]["annexes"][0];
    let sha = platform::hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&rider));
    assert_eq!((annex["number"].as_i64(), annex["name"].as_str()), (Some(1), Some("stage-plot.pdf")));
    assert_eq!(annex["sha256"], sha.as_str());
    let text = contract["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("Annex 1: stage-plot.pdf (application/pdf, {} bytes), SHA-256 {sha}", rider.len())),
        "{text}"
    );

    // Both sides read it; a stranger does not; the same bytes are not annexed twice.
    let got = app.get(&format!("/v1/bookings/{booking}/contract/annexes/1")).bearer(&p.artist).send().await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.body.as_ref(), rider.as_slice());
    let (stranger, _, _) = signed_in(&app, "hnd_stranger").await;
    app.get(&format!("/v1/bookings/{booking}/contract/annexes/1"))
        .bearer(&stranger)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/bookings/{booking}/contract/annexes/2"))
        .bearer(&p.artist)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    hand(&app, &p.organizer, &file, 1, "contract_annex", &booking)
        .await
        .assert_problem(StatusCode::CONFLICT, "annex_exists");

    // The artist annexes a file of their own directly; the version moves on and both sign it.
    let res = app
        .post(&format!("/v1/bookings/{booking}/contract/annexes?name=hospitality.txt"))
        .bearer(&p.artist)
        .header("content-type", "text/plain")
        .body(b"Water, no glass on stage.".to_vec())
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let v = res.value();
    assert_eq!(v["document"]["annexes"].as_array().unwrap().len(), 2);
    assert_eq!(v["document"]["annexes"][1]["media_type"], "text/plain");
    let res = app
        .post(&format!("/v1/bookings/{booking}/contract/annexes?name=x.txt"))
        .bearer(&stranger)
        .body(b"x".to_vec())
        .send()
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
    let res = app
        .post(&format!("/v1/bookings/{booking}/contract/annexes?name=rider%0ASignatures"))
        .bearer(&p.artist)
        .body(b"x".to_vec())
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::collab::field_codes(&res), vec![("name".to_owned(), "invalid_format".to_owned())]);
    let res = app
        .post(&format!("/v1/bookings/{booking}/contract/annexes?name=a/b"))
        .bearer(&p.artist)
        .body(b"x".to_vec())
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::collab::field_codes(&res), vec![("name".to_owned(), "invalid_format".to_owned())]);
    let sha = v["sha256"].as_str().unwrap();
    crate::booking::sign(&app, &p.organizer, &booking, sha).await.assert_status(StatusCode::OK);
    let signed = crate::booking::sign(&app, &p.artist, &booking, sha).await;
    signed.assert_status(StatusCode::OK);
    assert!(signed.value()["signed"].as_bool().unwrap(), "{}", signed.value());
    // Signed: nothing more is annexed.
    let res = hand(&app, &p.organizer, &file, 1, "contract_annex", &booking).await;
    assert!(res.status == StatusCode::CONFLICT, "{:?}", res.value());
}

#[tokio::test]
async fn an_approved_version_becomes_a_deliverable_of_the_task_its_freelancer_works_on() {
    let w = crate::tasks::world("hnd", 50).await;
    let people = crate::tasks::freelancers(&w, "hnd_f", 1, &[("graphic_design", 90)], None).await;
    let token = people[0].0.clone();
    let id = crate::tasks::created(&w, 72, &[]).await;
    drain_jobs(&w.app).await;
    let offer = crate::tasks::open_offers(&w, &token).await.pop().unwrap();
    let accept = format!("/v1/task-offers/{}/accept", offer["id"].as_str().unwrap());
    w.app.post(&accept).bearer(&token).json(&json!({})).send().await.assert_status(StatusCode::OK);

    // The freelancer's own studio, where the ad was drafted and approved.
    let studio = create_org(&w.app, &token, "hnd-freelance-studio").await;
    let ad = testkit::media::png(1080, 1080, png::ColorType::Rgb);
    let (_, file) = project_with_file(&w.app, &token, &studio, "ad.png", &ad).await;
    approve(&w.app, &token, &file, 1).await;

    // Not before the task is in progress (the task's rule), then as its file.
    hand(&w.app, &token, &file, 1, "task_deliverable", &id)
        .await
        .assert_problem(StatusCode::CONFLICT, "not_in_progress");
    w.app
        .post(&format!("/v1/tasks/{id}/start"))
        .bearer(&token)
        .json(&json!({}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let res = hand(&w.app, &token, &file, 1, "task_deliverable", &id).await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(
        (res.value()["taken"]["name"].as_str(), res.value()["taken"]["version"].as_i64()),
        (Some("ad.png"), Some(1))
    );
    let files = w.app.get(&format!("/v1/tasks/{id}/files")).bearer(&w.client).send().await.value();
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files[0]["name"], "ad.png");
    // The client is a party to the task but not in the freelancer's studio.
    hand(&w.app, &w.client, &file, 1, "task_deliverable", &id).await.assert_status(StatusCode::NOT_FOUND);
}

/// From the review page: an approved version is handed to a release by pasting the release page's
/// address; where it went is listed with a link; a bad address and someone else's release are answered
/// beside the form.
#[tokio::test]
async fn a_version_is_handed_over_from_its_review_page() {
    use crate::catalog_web::{Web, location};
    let app = app().await;
    let l = crate::catalog::label(&app, "handweb-records", "DEH21").await;
    let rid = crate::catalog::release(&app, &l, "From The Page").await["id"].as_str().unwrap().to_owned();
    let other = crate::catalog::label(&app, "handweb-other", "DEH22").await;
    let theirs = crate::catalog::release(&app, &other, "Theirs").await["id"].as_str().unwrap().to_owned();
    let (_, file) = project_with_file(&app, &l.token, &l.id, "cover.png", crate::catalog::cover()).await;
    let review = format!("/project-files/{file}/versions/1/review");
    let mut web = Web::of(&app, &l.user).await;
    let page = web.get(&app, &review).await;
    assert!(
        page.text().contains("Not handed over yet") && !page.text().contains("Hand over</button>"),
        "a draft offers no handover"
    );

    approve(&app, &l.token, &file, 1).await;
    let form = format!("/project-files/{file}/versions/1/handovers");
    let res = web.post(&app, &form, &[("to", "release_artwork"), ("id", "the new single")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"handover-id-error\""), "the field's error is beside it: {}", res.text());
    let res = web
        .post(&app, &form, &[("to", "release_artwork"), ("id", &format!("http://localhost/releases/{theirs}"))])
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
    assert!(res.text().contains("Hand it to"), "the refusal is shown beside the form");
    let res =
        web.post(&app, &form, &[("to", "release_artwork"), ("id", &format!("http://localhost/releases/{rid}"))]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("{review}#handovers"));
    let page = web.get(&app, &review).await.text();
    assert!(page.contains(&format!("href=\"/releases/{rid}\"")), "{page}");
    let release = app.get(&format!("/v1/releases/{rid}")).bearer(&l.token).send().await.value();
    assert_eq!(release["artwork"]["width"], 3000);
}
