//! The catalog through the HTTP API: label settings and sub-labels, credited parties, releases and
//! tracks, the validation report, submission with code assignment, review, and concurrent assignment
//! of ISRCs and UPCs that never gives one code twice.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::booking::created;
use crate::support::{app, create_org, signed_in, signed_in_admin};

/// A label with settings, a main artist and a release that passes validation except for its tracks.
pub(crate) struct Label {
    pub token: String,
    pub id: String,
    pub artist: String,
    pub user: String,
}

impl Label {
    /// Signs in again (after the test clock moved past the access token's life).
    pub(crate) async fn refresh(&mut self, app: &TestApp) {
        let res = crate::support::login(app, &self.user, crate::support::PASSWORD).await;
        self.token = res.value()["access_token"].as_str().unwrap().to_owned();
    }
}

pub(crate) async fn label(app: &TestApp, slug: &str, registrant: &str) -> Label {
    let user = format!("{}_owner", slug.replace('-', "_"));
    let (token, _, _) = signed_in(app, &user).await;
    let id = create_org(app, &token, slug).await;
    app.patch(&format!("/v1/labels/{id}/settings"))
        .bearer(&token)
        .json(&json!({"isrc_registrants": [registrant], "gs1_prefix": "4012345", "dpid": "PADPIDA2026120201A"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let artist = created(
        app.post(&format!("/v1/labels/{id}/parties"))
            .bearer(&token)
            .json(&json!({"name": format!("{slug} artist"), "roster": true, "isni": "0000 0001 2103 2683"}))
            .send()
            .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Label { token, id, artist, user }
}

/// A complete release body for the label, to be released `days` from the test clock's today.
pub(crate) fn release_body(app: &TestApp, l: &Label, title: &str, days: i64) -> Value {
    let date = (app.clock_now() + chrono::Duration::days(days)).date_naive();
    json!({"label_id": l.id, "release_type": "single", "title": title, "display_artist": "Nova",
           "genre": "Electronic", "language": "en", "p_line_year": 2026, "p_line": "Backline Records",
           "c_line_year": 2026, "c_line": "Backline Records", "release_date": date,
           "credits": [{"party_id": l.artist, "role": "main_artist"}]})
}

pub(crate) async fn release(app: &TestApp, l: &Label, title: &str) -> Value {
    created(app.post("/v1/releases").bearer(&l.token).json(&release_body(app, l, title, 30)).send().await).await
}

pub(crate) async fn add_track(app: &TestApp, l: &Label, release: &str, title: &str) -> Value {
    created(
        app.post(&format!("/v1/releases/{release}/tracks"))
            .bearer(&l.token)
            .json(&json!({"title": title}))
            .send()
            .await,
    )
    .await
}

/// A short stereo CD-quality WAV (a 1 kHz sine at -6 dBFS).
pub(crate) fn wav() -> &'static [u8] {
    static WAV: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    WAV.get_or_init(|| testkit::media::wav(44_100, 16, 2, 1500, 0.5))
}

/// Cover art that passes: a 3000 × 3000 RGB PNG.
pub(crate) fn cover() -> &'static [u8] {
    static COVER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    COVER.get_or_init(|| testkit::media::png(3000, 3000, png::ColorType::Rgb))
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    media_type: &str,
    bytes: &[u8],
) -> testkit::TestResponse {
    app.put(path).bearer(token).header("content-type", media_type).body(bytes.to_vec()).send().await
}

/// Uploads the WAV to the track and the cover to the release.
pub(crate) async fn with_files(app: &TestApp, l: &Label, release: &str, tracks: &[&Value]) {
    for t in tracks {
        let path = format!("/v1/tracks/{}/audio", t["track"]["id"].as_str().unwrap());
        upload(app, &l.token, &path, "audio/wav", wav()).await.assert_status(StatusCode::OK);
    }
    let path = format!("/v1/releases/{release}/artwork");
    upload(app, &l.token, &path, "image/png", cover()).await.assert_status(StatusCode::OK);
}

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn field_rules(res: &testkit::TestResponse) -> Vec<(String, String)> {
    res.value()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn label_settings_parties_and_sub_labels() {
    let app = app().await;
    let parent = label(&app, "north-records", "DEA12").await;

    // Settings are checked field by field.
    let res = app
        .patch(&format!("/v1/labels/{}/settings", parent.id))
        .bearer(&parent.token)
        .json(&json!({"dpid": "DPID123", "gs1_prefix": "12345", "isrc_registrants": ["DE-A12", "D1A12"]}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_rules(&res),
        [
            ("dpid".into(), "invalid_format".into()),
            ("gs1_prefix".into(), "invalid_format".into()),
            ("isrc_registrants[1]".into(), "invalid_format".into())
        ]
    );
    let settings = app.get(&format!("/v1/labels/{}/settings", parent.id)).bearer(&parent.token).send().await.value();
    assert_eq!(settings["isrc_registrants"], json!(["DEA12"]));
    assert_eq!(settings["gs1_prefix"], "4012345");

    // A registrant code is one label's.
    let other = label(&app, "south-records", "GBXYZ").await;
    let res = app
        .patch(&format!("/v1/labels/{}/settings", other.id))
        .bearer(&other.token)
        .json(&json!({"isrc_registrants": ["GBXYZ", "DEA12"]}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_rules(&res), [("isrc_registrants".into(), "taken".into())]);

    // The pool takes codes with correct check digits only, each once across all labels.
    let res = app
        .post(&format!("/v1/labels/{}/upc-pool", parent.id))
        .bearer(&parent.token)
        .json(&json!({"codes": ["036000291452", "731453000000", "0036000291452"]}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_rules(&res), [("codes[1]".into(), "invalid_format".into()), ("codes[2]".into(), "taken".into())]);
    let res = app
        .post(&format!("/v1/labels/{}/upc-pool", parent.id))
        .bearer(&parent.token)
        .json(&json!({"codes": ["036000291452", "4006381333931"]}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["upc_pool"], json!({"free": 2, "taken": 0}));
    let res = app
        .post(&format!("/v1/labels/{}/upc-pool", other.id))
        .bearer(&other.token)
        .json(&json!({"codes": ["0036000291452"]}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "identifier_taken");

    // Parties: names unique per label (any case), ISNI check character verified.
    let res = app
        .post(&format!("/v1/labels/{}/parties", parent.id))
        .bearer(&parent.token)
        .json(&json!({"name": "NORTH-RECORDS ARTIST"}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_rules(&res), [("name".into(), "taken".into())]);
    let res = app
        .post(&format!("/v1/labels/{}/parties", parent.id))
        .bearer(&parent.token)
        .json(&json!({"name": "Kai", "isni": "0000000121032684", "ipi": "12"}))
        .send()
        .await;
    assert_eq!(field_rules(&res), [("isni".into(), "invalid_format".into()), ("ipi".into(), "invalid_format".into())]);

    // A sub-label: the parent's staff manage its catalog; its own staff never the parent's.
    let (sub_owner, _, _) = signed_in(&app, "sub_label_owner").await;
    let sub = created(
        app.post("/v1/orgs")
            .bearer(&parent.token)
            .json(&json!({"slug": "north-dance", "name": "North Dance", "kind": "sub_label", "parent_id": parent.id}))
            .send()
            .await,
    )
    .await;
    let sub_id = id(&sub);
    crate::support::join(&app, &parent.token, &sub_id, &sub_owner, "sub_label_owner@example.com", "admin").await;
    let r = created(
        app.post("/v1/releases")
            .bearer(&sub_owner)
            .json(&json!({"label_id": sub_id, "release_type": "ep", "title": "Floor", "display_artist": "Nova"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(r["label_name"], "North Dance");
    app.get(&format!("/v1/releases/{}", id(&r))).bearer(&parent.token).send().await.assert_status(StatusCode::OK);
    app.get(&format!("/v1/labels/{}/releases", sub_id))
        .bearer(&parent.token)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let parents = app.get(&format!("/v1/labels/{}/releases", parent.id)).bearer(&sub_owner).send().await;
    parents.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/labels/{}/settings", parent.id))
        .bearer(&sub_owner)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // A sub-label without its own codes assigns from its parent's: the parent's pool first.
    let assigned = app.post(&format!("/v1/releases/{}/upc", id(&r))).bearer(&sub_owner).send().await;
    assigned.assert_status(StatusCode::OK);
    assert_eq!(assigned.value()["upc"], "036000291452");

    // An organization that is no label keeps no catalog; strangers see nothing.
    let (promoter, _, _) = signed_in(&app, "catalog_promoter").await;
    let venue = created(
        app.post("/v1/orgs")
            .bearer(&promoter)
            .json(&json!({"slug": "club-x", "name": "Club X", "kind": "venue"}))
            .send()
            .await,
    )
    .await;
    let res = app
        .post("/v1/releases")
        .bearer(&promoter)
        .json(&json!({"label_id": id(&venue), "release_type": "single", "title": "X", "display_artist": "X"}))
        .send()
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["code"], "not_a_label");
    app.get(&format!("/v1/releases/{}", id(&r))).bearer(&promoter).send().await.assert_status(StatusCode::NOT_FOUND);
    let res = app
        .post("/v1/releases")
        .bearer(&promoter)
        .json(&json!({"label_id": parent.id, "release_type": "single", "title": "X", "display_artist": "X"}))
        .send()
        .await;
    res.assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_release_goes_from_draft_through_review_to_approval() {
    let app = app().await;
    let l = label(&app, "east-records", "DEB34").await;
    let admin = signed_in_admin(&app).await;
    let (stranger, _, _) = signed_in(&app, "release_stranger").await;

    // A bare draft answers every problem at once.
    let draft = created(
        app.post("/v1/releases")
            .bearer(&l.token)
            .json(&json!({"label_id": l.id, "release_type": "single", "title": "Night Drive (feat. Kai)", "display_artist": "Nova"}))
            .send()
            .await,
    )
    .await;
    let rid = id(&draft);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["label_name"], "east-records org");
    let report = app.get(&format!("/v1/releases/{rid}/validation")).bearer(&l.token).send().await.value();
    assert_eq!(report["ready"], false);
    let rules: Vec<(String, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["field"].as_str().unwrap().into(), p["rule"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        rules,
        [
            ("genre".into(), "required".into()),
            ("language".into(), "required".into()),
            ("release_date".into(), "required".into()),
            ("p_line".into(), "required".into()),
            ("c_line".into(), "required".into()),
            ("artwork".into(), "required".into()),
            ("credits".into(), "main_artist_missing".into()),
            ("tracks".into(), "too_few".into()),
        ]
    );
    let res = app.post(&format!("/v1/releases/{rid}/submit")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["code"], "release_not_ready");
    assert_eq!(res.value()["errors"].as_array().unwrap().len(), 8);

    // Filling it in: a featured artist credited makes "feat." in the title a problem.
    let kai = created(
        app.post(&format!("/v1/labels/{}/parties", l.id)).bearer(&l.token).json(&json!({"name": "Kai"})).send().await,
    )
    .await;
    let mut body = release_body(&app, &l, "Night Drive (feat. Kai)", 30);
    body.as_object_mut().unwrap().remove("label_id");
    body["credits"] =
        json!([{"party_id": l.artist, "role": "main_artist"}, {"party_id": id(&kai), "role": "featured_artist"}]);
    body["territory_mode"] = json!("worldwide");
    body["territories"] = json!(["kp", "IR"]);
    body["territory_dates"] = json!([{"territory": "NZ", "release_date": body["release_date"]}]);
    let edited = app.patch(&format!("/v1/releases/{rid}")).bearer(&l.token).json(&body).send().await;
    edited.assert_status(StatusCode::OK);
    let edited = edited.value();
    assert_eq!(edited["territories"], json!(["IR", "KP"]));
    assert_eq!(edited["credits"].as_array().unwrap().len(), 2);
    let track = add_track(&app, &l, &rid, "Night Drive").await;
    assert_eq!(track["disc"], 1);
    assert_eq!(track["position"], 1);
    assert_eq!(track["track"]["display_artist"], "Nova");
    assert_eq!(track["track"]["isrc"], Value::Null);
    with_files(&app, &l, &rid, &[&track]).await;
    let report = app.get(&format!("/v1/releases/{rid}/validation")).bearer(&l.token).send().await.value();
    assert_eq!(
        report["problems"],
        json!([{"field": "title", "rule": "featuring_in_title",
        "message": "names a featured artist: credit them as featured_artist and leave the title without \"feat.\""}])
    );
    app.patch(&format!("/v1/releases/{rid}"))
        .bearer(&l.token)
        .json(&json!({"title": "Night Drive"}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    // Strangers see nothing; the label cannot review its own release.
    app.get(&format!("/v1/releases/{rid}")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/v1/releases/{rid}/submit")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);

    // Submission assigns the UPC from the prefix and the ISRC from the registrant, year and sequence.
    let submitted = app.post(&format!("/v1/releases/{rid}/submit")).bearer(&l.token).send().await;
    submitted.assert_status(StatusCode::OK);
    let submitted = submitted.value();
    assert_eq!(submitted["status"], "submitted");
    let upc = submitted["upc"].as_str().unwrap();
    assert_eq!(upc, "4012345000016", "the prefix's first item reference with its check digit");
    let year = app.clock_now().format("%y").to_string();
    assert_eq!(submitted["tracks"][0]["track"]["isrc"], format!("DEB34{year}00001"));
    assert_eq!(submitted["tracks"][0]["track"]["isrc_display"], format!("DE-B34-{year}-00001"));

    // Under review nothing changes: not the release, not its tracks.
    let res = app.patch(&format!("/v1/releases/{rid}")).bearer(&l.token).json(&json!({"title": "Other"})).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "not_editable");
    let tid = submitted["tracks"][0]["track"]["id"].as_str().unwrap().to_owned();
    let res = app.patch(&format!("/v1/tracks/{tid}")).bearer(&l.token).json(&json!({"bpm": 120})).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "track_in_use");
    let res = app
        .post(&format!("/v1/releases/{rid}/review"))
        .bearer(&l.token)
        .json(&json!({"decision": "approve"}))
        .send()
        .await;
    res.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(res.value()["code"], "transition_not_permitted");

    // Staff's queue holds it; changes are requested with notes per field.
    let queue = app.get("/v1/admin/releases").bearer(&admin).send().await.value();
    assert_eq!(queue["items"][0]["id"], rid.as_str());
    app.get("/v1/admin/releases").bearer(&l.token).send().await.assert_status(StatusCode::FORBIDDEN);
    let res = app
        .post(&format!("/v1/releases/{rid}/review"))
        .bearer(&admin)
        .json(&json!({"decision": "request_changes"}))
        .send()
        .await;
    assert_eq!(field_rules(&res), [("notes".into(), "too_few".into())]);
    let changes = app
        .post(&format!("/v1/releases/{rid}/review"))
        .bearer(&admin)
        .json(
            &json!({"decision": "request_changes", "notes": [{"field": "genre", "message": "Use Dance for this one"}]}),
        )
        .send()
        .await;
    changes.assert_status(StatusCode::OK);
    assert_eq!(changes.value()["status"], "changes_requested");
    assert_eq!(changes.value()["review_notes"], json!([{"field": "genre", "message": "Use Dance for this one"}]));

    // The label changes it and submits again: codes stay as assigned; staff approve.
    app.patch(&format!("/v1/releases/{rid}"))
        .bearer(&l.token)
        .json(&json!({"genre": "Dance"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let again = app.post(&format!("/v1/releases/{rid}/submit")).bearer(&l.token).send().await.value();
    assert_eq!(again["upc"], upc);
    assert_eq!(again["review_notes"], json!([]));
    let approved = app
        .post(&format!("/v1/releases/{rid}/review"))
        .bearer(&admin)
        .json(&json!({"decision": "approve"}))
        .send()
        .await;
    approved.assert_status(StatusCode::OK);
    assert_eq!(approved.value()["status"], "approved");
    let res = app.post(&format!("/v1/releases/{rid}/withdraw")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "invalid_transition");

    // Each step is audited.
    let mut conn = app.db.pool.acquire().await.unwrap();
    let steps: Vec<String> = sqlx::query_scalar!(
        r#"SELECT after->>'status' AS "status!" FROM audit_log WHERE resource_id = $1 AND action = 'release.transition' ORDER BY id"#,
        rid
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(steps, ["submitted", "changes_requested", "submitted", "approved"]);
}

#[tokio::test]
async fn identifiers_are_checked_and_never_given_twice() {
    let app = app().await;
    let l = label(&app, "west-records", "FRC56").await;
    let a = release(&app, &l, "First").await;
    let b = release(&app, &l, "Second").await;

    // A UPC with a wrong check digit is refused; one form of a code equals the other.
    let res = app
        .patch(&format!("/v1/releases/{}", id(&a)))
        .bearer(&l.token)
        .json(&json!({"upc": "036000291453"}))
        .send()
        .await;
    assert_eq!(field_rules(&res), [("upc".into(), "invalid_format".into())]);
    app.patch(&format!("/v1/releases/{}", id(&a)))
        .bearer(&l.token)
        .json(&json!({"upc": "036000291452"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let res = app
        .patch(&format!("/v1/releases/{}", id(&b)))
        .bearer(&l.token)
        .json(&json!({"upc": "0036000291452"}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "identifier_taken");
    assert_eq!(field_rules(&res), [("upc".into(), "taken".into())]);

    // ISRCs and ISWCs: format and check digit; one ISRC names one recording.
    let res = app
        .post(&format!("/v1/releases/{}/tracks", id(&a)))
        .bearer(&l.token)
        .json(&json!({"title": "One", "isrc": "FR-C56-26-0001", "iswc": "T-345.246.800-1"}))
        .send()
        .await;
    assert_eq!(field_rules(&res), [("isrc".into(), "invalid_format".into()), ("iswc".into(), "invalid_format".into())]);
    let one = app
        .post(&format!("/v1/releases/{}/tracks", id(&a)))
        .bearer(&l.token)
        .json(&json!({"title": "One", "isrc": "fr-c56-26-00002", "iswc": "T-345.246.800-3"}))
        .send()
        .await;
    one.assert_status(StatusCode::CREATED);
    assert_eq!(one.value()["track"]["isrc"], "FRC562600002");
    assert_eq!(one.value()["track"]["iswc"], "T3452468003");
    let res = app
        .post(&format!("/v1/releases/{}/tracks", id(&b)))
        .bearer(&l.token)
        .json(&json!({"title": "Copy", "isrc": "FRC562600002"}))
        .send()
        .await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "identifier_taken");
    // The same recording may be on another release of the label (a compilation), by its id.
    let on_b = app
        .post(&format!("/v1/releases/{}/tracks", id(&b)))
        .bearer(&l.token)
        .json(&json!({"track_id": one.value()["track"]["id"]}))
        .send()
        .await;
    on_b.assert_status(StatusCode::CREATED);

    // Assignment skips a number given by hand: the year's sequence gives 1, then 3 (2 is taken).
    let year: i64 = app.clock_now().format("%y").to_string().parse().unwrap();
    let mut assigned = Vec::new();
    for title in ["Two", "Three"] {
        let t = add_track(&app, &l, &id(&a), title).await;
        let tid = t["track"]["id"].as_str().unwrap();
        let res = app.post(&format!("/v1/tracks/{tid}/isrc")).bearer(&l.token).send().await;
        res.assert_status(StatusCode::OK);
        assigned.push(res.value()["isrc"].as_str().unwrap().to_owned());
    }
    if year == 26 {
        assert_eq!(assigned, ["FRC562600001", "FRC562600003"]);
    }
    assert!(assigned.iter().all(|c| c.starts_with(&format!("FRC56{year:02}"))));

    // The year's last number is 99,999: beyond it the registrant is exhausted, never wrapped.
    let mut conn = app.db.pool.acquire().await.unwrap();
    sqlx::query!("UPDATE isrc_sequences SET last_number = 99999 WHERE registrant = 'FRC56'")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let t = add_track(&app, &l, &id(&b), "Four").await;
    let res =
        app.post(&format!("/v1/tracks/{}/isrc", t["track"]["id"].as_str().unwrap())).bearer(&l.token).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "codes_exhausted");
    // Without a registrant code, there is nothing to assign from.
    let bare = {
        let (token, _, _) = signed_in(&app, "bare_label_owner").await;
        let org = create_org(&app, &token, "bare-label").await;
        let party = created(
            app.post(&format!("/v1/labels/{org}/parties")).bearer(&token).json(&json!({"name": "Solo"})).send().await,
        )
        .await;
        Label { token, id: org, artist: id(&party), user: "bare_label_owner".into() }
    };
    let r = release(&app, &bare, "Bare").await;
    let t = add_track(&app, &bare, &id(&r), "Only").await;
    let res =
        app.post(&format!("/v1/tracks/{}/isrc", t["track"]["id"].as_str().unwrap())).bearer(&bare.token).send().await;
    assert_eq!(res.value()["code"], "no_registrant");
    let res = app.post(&format!("/v1/releases/{}/upc", id(&r))).bearer(&bare.token).send().await;
    assert_eq!(res.value()["code"], "no_upc_source");
    let report = app.get(&format!("/v1/releases/{}/validation", id(&r))).bearer(&bare.token).send().await.value();
    let fields: Vec<&str> =
        report["problems"].as_array().unwrap().iter().map(|p| p["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["upc", "artwork", "tracks[0].isrc", "tracks[0].audio"]);
}

/// Many tracks and releases ask for codes at once, on separate connections, round after round: every
/// ISRC and every UPC is distinct, the ISRC numbers run without a gap, and the pool is used up first.
#[tokio::test]
async fn concurrent_assignment_never_gives_a_code_twice() {
    const PER_ROUND: usize = 24;
    let app = std::sync::Arc::new(app().await);
    let l = label(&app, "busy-records", "USQZ9").await;
    let pool: Vec<String> = (0..8u64).map(|i| upc_from(&format!("0{:010}", 87_654_300 + i))).collect();
    app.post(&format!("/v1/labels/{}/upc-pool", l.id))
        .bearer(&l.token)
        .json(&json!({"codes": pool}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let (mut isrcs, mut upcs) = (HashSet::new(), HashSet::new());
    for round in 0..3 {
        let mut releases = Vec::new();
        let mut tracks = Vec::new();
        for i in 0..PER_ROUND {
            let r = release(&app, &l, &format!("R{round}-{i}")).await;
            let t = add_track(&app, &l, &id(&r), "Song").await;
            tracks.push(t["track"]["id"].as_str().unwrap().to_owned());
            releases.push(id(&r));
        }
        // Both kinds of calls interleave, each task on its own connection.
        let mut tasks = Vec::new();
        for (kind, path) in tracks
            .iter()
            .map(|t| ("isrc", format!("/v1/tracks/{t}/isrc")))
            .chain(releases.iter().map(|r| ("upc", format!("/v1/releases/{r}/upc"))))
        {
            let (app, token) = (app.clone(), l.token.clone());
            tasks.push(tokio::spawn(async move { (kind, app.post(&path).bearer(&token).send().await) }));
        }
        let (mut isrc_answers, mut upc_answers) = (Vec::new(), Vec::new());
        for task in tasks {
            match task.await.unwrap() {
                ("isrc", res) => isrc_answers.push(res),
                (_, res) => upc_answers.push(res),
            }
        }
        for res in isrc_answers {
            res.assert_status(StatusCode::OK);
            assert!(isrcs.insert(res.value()["isrc"].as_str().unwrap().to_owned()), "an ISRC given twice");
        }
        for res in upc_answers {
            res.assert_status(StatusCode::OK);
            assert!(upcs.insert(res.value()["upc"].as_str().unwrap().to_owned()), "a UPC given twice");
        }
    }
    let mut numbers: Vec<u32> = isrcs.iter().map(|c| c[7..].parse().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=3 * PER_ROUND as u32).collect::<Vec<_>>(), "one number each, no gap");
    assert!(pool.iter().all(|c| upcs.contains(c)), "the pool's codes are taken before the prefix is used");
    assert_eq!(upcs.len(), 3 * PER_ROUND);
    let settings = app.get(&format!("/v1/labels/{}/settings", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(settings["upc_pool"], json!({"free": 0, "taken": 8}));
}

/// A 12-digit UPC-A from 11 data digits, with its GS1 check digit.
fn upc_from(data: &str) -> String {
    let sum: u32 =
        data.bytes().rev().enumerate().map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{data}{}", (10 - sum % 10) % 10)
}

/// A store's SSH server key (made with ssh-keygen for these tests).
const HOST_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG8azRxCXt7yXk3F4izc4nLHiRdb/kYuCK17VRvk7kRO store";

pub(crate) async fn sftp_store(app: &TestApp, admin: &str, name: &str) -> Value {
    created(
        app.post("/v1/admin/stores")
            .bearer(admin)
            .json(&json!({"name": name, "dpid": "PADPIDA2026120299Z", "protocol": "sftp", "host": "127.0.0.1",
                          "port": 2222, "username": "ddex", "path": "/inbox/", "credentials": {"password": "s3cret-pass"},
                          "host_key": HOST_KEY, "lead_days": 10}))
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn the_stores_registry_is_for_admins_and_keeps_credentials_sealed() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let l = label(&app, "store-label", "DEC78").await;

    let store = sftp_store(&app, &admin, "Streamly").await;
    assert_eq!(store["has_credentials"], true);
    assert_eq!(store["path"], "/inbox");
    assert!(store.get("credentials").is_none());
    let mut conn = app.db.pool.acquire().await.unwrap();
    let stored: Option<String> = sqlx::query_scalar!("SELECT credentials FROM stores WHERE name = 'Streamly'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(!stored.unwrap().contains("s3cret"), "credentials are sealed at rest");
    drop(conn);

    // Field by field: an S3 store needs a bucket; credentials fit the protocol; names are unique.
    let res = app
        .post("/v1/admin/stores")
        .bearer(&admin)
        .json(&json!({"name": "Bucketless", "dpid": "PADPIDA1", "protocol": "s3", "credentials": {"password": "x"}}))
        .send()
        .await;
    assert_eq!(
        field_rules(&res),
        [
            ("bucket".into(), "required".into()),
            ("credentials.password".into(), "unknown_field".into()),
            ("credentials".into(), "required".into())
        ]
    );
    let res = app
        .post("/v1/admin/stores")
        .bearer(&admin)
        .json(&json!({"name": "streamly", "dpid": "PADPIDA1", "protocol": "s3", "bucket": "drops"}))
        .send()
        .await;
    assert_eq!(field_rules(&res), [("name".into(), "taken".into())]);
    // An SFTP store pins its server's key, which must be an OpenSSH public key.
    for (key, rule) in [(None, "required"), (Some("ssh-ed25519 not-base64"), "invalid_format")] {
        let res = app
            .post("/v1/admin/stores")
            .bearer(&admin)
            .json(&json!({"name": "Keyless", "dpid": "PADPIDA1", "protocol": "sftp", "host": "h", "username": "u",
                          "host_key": key}))
            .send()
            .await;
        assert_eq!(field_rules(&res), [("host_key".into(), rule.into())]);
    }
    // A directory store is a folder of its own under the drops directory: never above it, and it takes
    // no credentials.
    for (path, rule) in [(json!(null), ("path", "required")), (json!("drops/../../etc"), ("path", "invalid_format"))] {
        let res = app
            .post("/v1/admin/stores")
            .bearer(&admin)
            .json(&json!({"name": "Folder", "dpid": "PADPIDA1", "protocol": "directory", "path": path}))
            .send()
            .await;
        assert_eq!(field_rules(&res), [(rule.0.into(), rule.1.into())]);
    }
    let res = app
        .post("/v1/admin/stores")
        .bearer(&admin)
        .json(&json!({"name": "Folder", "dpid": "PADPIDA1", "protocol": "directory", "path": "folder",
                      "credentials": {"password": "x"}}))
        .send()
        .await;
    assert_eq!(field_rules(&res), [("credentials.password".into(), "unknown_field".into())]);
    let folder = created(
        app.post("/v1/admin/stores")
            .bearer(&admin)
            .json(&json!({"name": "Folder", "dpid": "PADPIDA1", "protocol": "directory", "path": "/folder/"}))
            .send()
            .await,
    )
    .await;
    assert_eq!((folder["protocol"].as_str(), folder["path"].as_str()), (Some("directory"), Some("/folder")));
    assert_eq!(folder["has_credentials"], false);
    // An SFTP store turned into a folder keeps no credentials of its old protocol.
    let moved = app
        .patch(&format!("/v1/admin/stores/{}", id(&store)))
        .bearer(&admin)
        .json(&json!({"protocol": "directory"}))
        .send()
        .await;
    moved.assert_status(StatusCode::OK);
    assert_eq!(moved.value()["has_credentials"], false);
    let back = app
        .patch(&format!("/v1/admin/stores/{}", id(&store)))
        .bearer(&admin)
        .json(&json!({"protocol": "sftp"}))
        .send()
        .await;
    assert_eq!(field_rules(&back), [("credentials".into(), "required".into())]);
    app.patch(&format!("/v1/admin/stores/{}", id(&store)))
        .bearer(&admin)
        .json(&json!({"protocol": "sftp", "credentials": {"password": "s3cret-pass"}}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.patch(&format!("/v1/admin/stores/{}", id(&folder)))
        .bearer(&admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    // The lead time is 0 to 90 days, at its edges.
    let sid = id(&store);
    for (days, ok) in [(0, true), (90, true), (91, false), (-1, false)] {
        let res =
            app.patch(&format!("/v1/admin/stores/{sid}")).bearer(&admin).json(&json!({"lead_days": days})).send().await;
        if ok {
            res.assert_status(StatusCode::OK);
            assert_eq!(res.value()["lead_days"], days);
        } else {
            assert_eq!(field_rules(&res), [("lead_days".into(), "out_of_range".into())]);
        }
    }

    // Labels list the enabled stores; only admins see or change the registry.
    app.get("/v1/admin/stores").bearer(&l.token).send().await.assert_status(StatusCode::FORBIDDEN);
    app.post("/v1/admin/stores").bearer(&l.token).json(&json!({})).send().await.assert_status(StatusCode::FORBIDDEN);
    let choices = app.get("/v1/stores").bearer(&l.token).send().await.value();
    assert_eq!(choices["items"].as_array().unwrap().len(), 1);
    let off =
        app.patch(&format!("/v1/admin/stores/{sid}")).bearer(&admin).json(&json!({"enabled": false})).send().await;
    off.assert_status(StatusCode::OK);
    assert_eq!(off.value()["has_credentials"], true, "credentials stay when not given");
    assert_eq!(app.get("/v1/stores").bearer(&l.token).send().await.value()["items"], json!([]));
    assert_eq!(app.get("/v1/admin/stores").bearer(&admin).send().await.value()["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_ern_message_of_a_release_validates_against_the_xsd() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let l = label(&app, "ern-records", "GBD90").await;
    let store = id(&sftp_store(&app, &admin, "Streamly").await);
    let r = release(&app, &l, "Night Drive").await;
    let rid = id(&r);
    let t1 = add_track(&app, &l, &rid, "Night Drive").await;
    let t2 = add_track(&app, &l, &rid, "Night Drive").await;
    with_files(&app, &l, &rid, &[&t1, &t2]).await;
    app.patch(&format!("/v1/tracks/{}", t2["track"]["id"].as_str().unwrap()))
        .bearer(&l.token)
        .json(&json!({"version": "Extended Mix"}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    // Before submission the codes are missing: the answer says which.
    let res = app.get(&format!("/v1/releases/{rid}/ern?store={store}")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["code"], "release_not_ready");
    let fields: Vec<String> = field_rules(&res).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["upc", "tracks[0].isrc", "tracks[1].isrc"]);

    app.post(&format!("/v1/releases/{rid}/submit")).bearer(&l.token).send().await.assert_status(StatusCode::OK);
    let res = app.get(&format!("/v1/releases/{rid}/ern?store={store}")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::OK);
    let xml = res.text();
    testkit::ddex::validate_ern43(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let year = app.clock_now().format("%y").to_string();
    for expected in [
        "<PartyId>PADPIDA2026120201A</PartyId>".to_owned(),
        "<PartyId>PADPIDA2026120299Z</PartyId>".to_owned(),
        "<ICPN>4012345000016</ICPN>".to_owned(),
        format!("<ISRC>GBD90{year}00001</ISRC>"),
        format!("<ISRC>GBD90{year}00002</ISRC>"),
        "<DisplayTitleText>Night Drive (Extended Mix)</DisplayTitleText>".to_owned(),
        "<ISNI>0000000121032683</ISNI>".to_owned(),
        "<TerritoryCode>Worldwide</TerritoryCode>".to_owned(),
        format!("<URI>resources/GBD90{year}00001.wav</URI>"),
        format!("<HashSumValue>{}</HashSumValue>", t1_md5(&app, &l, &t1).await),
        "<Duration>PT1.500S</Duration>".to_owned(),
    ] {
        assert!(xml.contains(&expected), "{expected} missing from\n{xml}");
    }
    // Review staff see it too; strangers and unknown stores do not.
    app.get(&format!("/v1/releases/{rid}/ern?store={store}")).bearer(&admin).send().await.assert_status(StatusCode::OK);
    let (stranger, _, _) = signed_in(&app, "ern_stranger").await;
    app.get(&format!("/v1/releases/{rid}/ern?store={store}"))
        .bearer(&stranger)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let res = app.get(&format!("/v1/releases/{rid}/ern?store={}", uuid_nil())).bearer(&l.token).send().await;
    assert_eq!(field_rules(&res), [("store".into(), "not_found".into())]);

    // Without a DPID on the label (or above it), there is no sender.
    app.patch(&format!("/v1/labels/{}/settings", l.id))
        .bearer(&l.token)
        .json(&json!({"dpid": ""}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let res = app.get(&format!("/v1/releases/{rid}/ern?store={store}")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "no_dpid");
}

fn uuid_nil() -> &'static str {
    "00000000-0000-0000-0000-000000000000"
}

async fn t1_md5(app: &TestApp, l: &Label, track: &Value) -> String {
    let t = app
        .get(&format!("/v1/tracks/{}", track["track"]["id"].as_str().unwrap()))
        .bearer(&l.token)
        .send()
        .await
        .value();
    t["audio"]["md5"].as_str().unwrap().to_owned()
}

pub(crate) async fn stored_files(app: &TestApp) -> i64 {
    let mut conn = app.db.pool.acquire().await.unwrap();
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM stored_files"#).fetch_one(&mut *conn).await.unwrap()
}

pub(crate) fn staged_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.ctx.storage.staging()).unwrap().count()
}

#[tokio::test]
async fn audio_and_artwork_are_decoded_measured_and_kept_once() {
    let app = app().await;
    let l = label(&app, "files-records", "DEF12").await;
    let r = release(&app, &l, "Files").await;
    let rid = id(&r);
    let a = add_track(&app, &l, &rid, "A").await;
    let b = add_track(&app, &l, &rid, "B").await;
    let audio_of = |t: &Value| format!("/v1/tracks/{}/audio", t["track"]["id"].as_str().unwrap());

    // A stereo CD-quality WAV: decoded to its end, measured, kept.
    let res = upload(&app, &l.token, &audio_of(&a), "audio/wav", wav()).await;
    res.assert_status(StatusCode::OK);
    let audio = res.value()["audio"].clone();
    assert_eq!(
        (audio["format"].as_str(), audio["sample_rate"].as_i64(), audio["channels"].as_i64()),
        (Some("wav"), Some(44_100), Some(2))
    );
    assert_eq!(res.value()["duration_ms"], 1500);
    let lufs = audio["loudness_lufs"].as_f64().unwrap();
    assert!((lufs + 6.02).abs() < 0.3, "{lufs}");
    assert_eq!(audio["size"], wav().len());
    // It reads back byte for byte, and by ranges (a player seeks, a download resumes).
    let back = app.get(&audio_of(&a)).bearer(&l.token).send().await;
    back.assert_status(StatusCode::OK);
    assert_eq!(back.body.as_ref(), wav());
    assert_eq!(back.header("accept-ranges"), Some("bytes"));
    let size = wav().len();
    let ranged = |spec: String| {
        let (app, token, path) = (&app, l.token.clone(), audio_of(&a));
        async move { app.get(&path).bearer(&token).header("range", &spec).send().await }
    };
    for (spec, want) in [
        ("bytes=0-0".to_owned(), 0..1),
        ("bytes=100-4195".to_owned(), 100..4196),
        (format!("bytes={}-", size - 7), size - 7..size),
        ("bytes=-44".to_owned(), size - 44..size),
        (format!("bytes=10-{}", size + 500), 10..size),
    ] {
        let res = ranged(spec.clone()).await;
        res.assert_status(StatusCode::PARTIAL_CONTENT);
        assert_eq!(res.body.as_ref(), &wav()[want.clone()], "{spec}");
        let content_range = format!("bytes {}-{}/{size}", want.start, want.end - 1);
        assert_eq!(res.header("content-range"), Some(content_range.as_str()), "{spec}");
        assert_eq!(res.header("content-length"), Some(want.len().to_string().as_str()));
    }
    let past = ranged(format!("bytes={size}-")).await;
    past.assert_status(StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(past.header("content-range"), Some(format!("bytes */{size}").as_str()));
    let several = ranged("bytes=0-1,5-6".to_owned()).await;
    several.assert_status(StatusCode::OK);
    assert_eq!(several.body.len(), size, "several ranges are answered with the whole file");

    // The same bytes on another track: stored once.
    let before = stored_files(&app).await;
    upload(&app, &l.token, &audio_of(&b), "application/octet-stream", wav()).await.assert_status(StatusCode::OK);
    assert_eq!(stored_files(&app).await, before);
    // A FLAC from an independent encoder, 24 bit at 48 kHz, replaces it.
    let flac = testkit::media::flac(&testkit::media::wav(48_000, 24, 2, 1000, 0.25));
    let res = upload(&app, &l.token, &audio_of(&b), "audio/flac", &flac).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["audio"]["format"], "flac");
    assert_eq!(res.value()["audio"]["bits_per_sample"], 24);
    assert_eq!(stored_files(&app).await, before + 1);

    // Refused files answer every problem and leave nothing behind.
    let mut cut = testkit::media::wav(44_100, 16, 2, 1000, 0.5);
    cut.truncate(cut.len() - 500);
    for (bytes, rules) in [
        (testkit::media::wav(44_100, 16, 1, 500, 0.5), vec!["not_stereo"]),
        (testkit::media::wav(22_050, 8, 2, 500, 0.5), vec!["sample_rate_too_low", "bit_depth_too_low"]),
        (cut, vec!["corrupt_file"]),
        (b"ID3 not really an mp3".to_vec(), vec!["unsupported_format"]),
    ] {
        let res = upload(&app, &l.token, &audio_of(&a), "audio/wav", &bytes).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let got: Vec<String> = field_rules(&res).into_iter().map(|(f, r)| format!("{f}:{r}")).collect();
        assert_eq!(got, rules.iter().map(|r| format!("audio:{r}")).collect::<Vec<_>>());
    }
    assert_eq!(stored_files(&app).await, before + 1);
    assert_eq!(staged_files(&app), 0, "no staging file is left");

    // Cover art: square RGB, at least 3000 pixels, checked at its edge.
    let art = format!("/v1/releases/{rid}/artwork");
    for (bytes, rules) in [
        (testkit::media::png(2999, 2999, png::ColorType::Rgb), vec!["too_small"]),
        (testkit::media::png(3000, 2999, png::ColorType::Rgb), vec!["not_square", "too_small"]),
        (testkit::media::jpeg(3000, 3000, false), vec!["not_rgb"]),
    ] {
        let res = upload(&app, &l.token, &art, "image/png", &bytes).await;
        let got: Vec<String> = field_rules(&res).into_iter().map(|(f, r)| format!("{f}:{r}")).collect();
        assert_eq!(got, rules.iter().map(|r| format!("artwork:{r}")).collect::<Vec<_>>());
    }
    let res = upload(&app, &l.token, &art, "image/jpeg", &testkit::media::jpeg(3000, 3000, true)).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["artwork"]["format"], "jpeg");
    assert_eq!(res.value()["artwork"]["width"], 3000);
    let back = app.get(&art).bearer(&l.token).send().await;
    assert_eq!(back.headers.get("content-type").unwrap(), "image/jpeg");
    assert_eq!(staged_files(&app), 0);

    // Strangers reach nothing; under review nothing changes.
    let (stranger, _, _) = signed_in(&app, "files_stranger").await;
    upload(&app, &stranger, &audio_of(&a), "audio/wav", wav()).await.assert_status(StatusCode::NOT_FOUND);
    app.get(&art).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/v1/releases/{rid}/submit")).bearer(&l.token).send().await.assert_status(StatusCode::OK);
    let res = upload(&app, &l.token, &audio_of(&a), "audio/wav", wav()).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "track_in_use");
    let res = upload(&app, &l.token, &art, "image/png", cover()).await;
    assert_eq!(res.value()["code"], "not_editable");
}

/// A release through review, with its files, ready to be scheduled; answers its id and tracks.
pub(crate) async fn approved_release(app: &TestApp, l: &Label, admin: &str, title: &str) -> (String, Vec<Value>) {
    let r = release(app, l, title).await;
    let rid = id(&r);
    let t1 = add_track(app, l, &rid, "One").await;
    let t2 = add_track(app, l, &rid, "Two").await;
    with_files(app, l, &rid, &[&t1, &t2]).await;
    app.post(&format!("/v1/releases/{rid}/submit")).bearer(&l.token).send().await.assert_status(StatusCode::OK);
    app.post(&format!("/v1/releases/{rid}/review"))
        .bearer(admin)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    (rid, vec![t1, t2])
}

fn ack(message_id: &str, status: &str, reason: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?><FtpAcknowledgementMessage><MessageHeader><MessageId>ack-{message_id}</MessageId></MessageHeader>\
         <AcknowledgedMessageId>{message_id}</AcknowledgedMessageId><FileStatus>{status}</FileStatus>\
         <ErrorText>{reason}</ErrorText></FtpAcknowledgementMessage>"
    )
    .into_bytes()
}

async fn distributions(app: &TestApp, l: &Label, rid: &str) -> Vec<Value> {
    let res = app.get(&format!("/v1/releases/{rid}/distributions")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()["items"].as_array().unwrap().clone()
}

async fn release_status(app: &TestApp, l: &Label, rid: &str) -> String {
    app.get(&format!("/v1/releases/{rid}")).bearer(&l.token).send().await.value()["status"].as_str().unwrap().to_owned()
}

/// The whole choreography against real servers: an OpenSSH SFTP server and moto's S3 server stand in for
/// two stores. Batches land with their files, the message validates against the XSD, acknowledgements
/// move each delivery to acknowledged or failed, and a takedown travels the same way.
#[tokio::test]
async fn releases_are_delivered_to_sftp_and_s3_stores_and_acknowledged() {
    let sftp = testkit::stores::SftpServer::start();
    let s3 = testkit::stores::S3Server::start("streamly-inbox");
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let mut l = label(&app, "deliver-records", "DEG34").await;
    let inbox = sftp.inbox().display().to_string();
    let sftp_store = created(
        app.post("/v1/admin/stores")
            .bearer(&admin)
            .json(&json!({"name": "Tunes SFTP", "dpid": "PADPIDA2026120211S", "protocol": "sftp", "host": "127.0.0.1",
                          "port": sftp.port, "username": sftp.user, "path": inbox, "host_key": sftp.host_key,
                          "credentials": {"private_key": sftp.client_key}, "lead_days": 10}))
            .send()
            .await,
    )
    .await;
    let s3_store = created(
        app.post("/v1/admin/stores")
            .bearer(&admin)
            .json(&json!({"name": "Streamly S3", "dpid": "PADPIDA2026120222T", "protocol": "s3", "bucket": s3.bucket,
                          "endpoint": s3.endpoint(), "region": "us-east-1", "path": "incoming",
                          "credentials": {"access_key_id": "testing", "secret_access_key": "testing"}}))
            .send()
            .await,
    )
    .await;
    let (rid, tracks) = approved_release(&app, &l, &admin, "Delivered").await;

    // Scheduling fires each store's delivery at its lead time before the release date (in 30 days).
    let res = app
        .post(&format!("/v1/releases/{rid}/distributions"))
        .bearer(&l.token)
        .json(&json!({"store_ids": [id(&sftp_store), id(&s3_store)]}))
        .send()
        .await;
    res.assert_status(StatusCode::OK);
    let items = res.value()["items"].as_array().unwrap().clone();
    assert!(items.iter().all(|d| d["state"] == "pending"));
    let release_day = (app.clock_now() + chrono::Duration::days(30)).date_naive();
    let s3_at =
        items.iter().find(|d| d["store_name"] == "Streamly S3").unwrap()["deliver_at"].as_str().unwrap().to_owned();
    assert_eq!(s3_at, format!("{}T00:00:00Z", release_day - chrono::Duration::days(14)));
    assert_eq!(release_status(&app, &l, &rid).await, "scheduled");
    crate::support::drain_jobs(&app).await;
    assert!(distributions(&app, &l, &rid).await.iter().all(|d| d["state"] == "pending"), "not before its time");

    app.clock.advance(chrono::Duration::days(21));
    crate::support::drain_jobs(&app).await;
    l.refresh(&app).await;
    let delivered = distributions(&app, &l, &rid).await;
    assert!(delivered.iter().all(|d| d["state"] == "delivered"), "{delivered:?}");
    assert_eq!(release_status(&app, &l, &rid).await, "delivered");
    let release = app.get(&format!("/v1/releases/{rid}")).bearer(&l.token).send().await.value();
    let upc = release["upc"].as_str().unwrap().to_owned();
    let isrc = tracks[0]["track"]["isrc"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| release["tracks"][0]["track"]["isrc"].as_str().unwrap().to_owned());

    // The SFTP batch: resources, the message, then the completion marker.
    let sftp_batch =
        delivered.iter().find(|d| d["store_name"] == "Tunes SFTP").unwrap()["batch"].as_str().unwrap().to_owned();
    let folder = sftp.inbox().join(&sftp_batch).join(&upc);
    let xml = std::fs::read_to_string(folder.join(format!("{upc}.xml"))).unwrap();
    testkit::ddex::validate_ern43(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(xml.contains("<PartyId>PADPIDA2026120211S</PartyId>"), "the store is the recipient");
    assert!(xml.contains("<DealList>"));
    assert_eq!(std::fs::read(folder.join(format!("resources/{isrc}.wav"))).unwrap(), wav());
    assert_eq!(std::fs::read(folder.join(format!("resources/{upc}_cover.png"))).unwrap(), cover());
    assert!(sftp.inbox().join(&sftp_batch).join(format!("BatchComplete_{sftp_batch}.xml")).exists());
    // The S3 batch, read back with plain HTTP.
    let s3_batch =
        delivered.iter().find(|d| d["store_name"] == "Streamly S3").unwrap()["batch"].as_str().unwrap().to_owned();
    let s3_xml =
        s3.get(&format!("incoming/{s3_batch}/{upc}/{upc}.xml")).unwrap_or_else(|| panic!("not in {:?}", s3.keys("")));
    testkit::ddex::validate_ern43(&String::from_utf8(s3_xml).unwrap()).unwrap();
    assert_eq!(s3.get(&format!("incoming/{s3_batch}/{upc}/resources/{isrc}.wav")).unwrap(), wav());
    assert!(s3.get(&format!("incoming/{s3_batch}/BatchComplete_{s3_batch}.xml")).is_some());

    // Acknowledgements: the SFTP store takes it, the S3 store refuses it with its reason.
    let message = |store: &str| -> String {
        delivered.iter().find(|d| d["store_name"] == store).unwrap()["message_id"].as_str().unwrap().to_owned()
    };
    let acks = sftp.inbox().join("acknowledgements");
    std::fs::create_dir_all(&acks).unwrap();
    std::fs::write(acks.join("ACK_1.xml"), ack(&message("Tunes SFTP"), "FileOK", "")).unwrap();
    std::fs::write(acks.join("unrelated.xml"), ack("someone-else", "FileOK", "")).unwrap();
    s3.put("incoming/acknowledgements/ACK_2.xml", &ack(&message("Streamly S3"), "FileCorrupt", "Cover art is blurry"));
    for store in [&sftp_store, &s3_store] {
        let store_id = catalog::model::StoreId(id(store).parse().unwrap());
        catalog::distribution::service::poll_store(&app.ctx, store_id).await.unwrap();
    }
    let after = distributions(&app, &l, &rid).await;
    let by = |store: &str| after.iter().find(|d| d["store_name"] == store).unwrap().clone();
    assert_eq!(by("Tunes SFTP")["state"], "acknowledged");
    assert_eq!(by("Streamly S3")["state"], "failed");
    assert_eq!(by("Streamly S3")["last_error"], "Cover art is blurry");
    assert!(!acks.join("ACK_1.xml").exists(), "a read acknowledgement is removed");
    assert!(acks.join("unrelated.xml").exists(), "one that is not ours stays");
    assert!(s3.keys("incoming/acknowledgements/").is_empty());
    assert_eq!(release_status(&app, &l, &rid).await, "delivered", "live once every store took it");

    // A takedown: a message without deals to each store; taken down once both acknowledge it.
    let res = app.post(&format!("/v1/releases/{rid}/takedown")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(release_status(&app, &l, &rid).await, "takedown_requested");
    crate::support::drain_jobs(&app).await;
    let down = distributions(&app, &l, &rid).await;
    assert!(down.iter().all(|d| d["state"] == "delivered" && d["action"] == "takedown"), "{down:?}");
    let batch = down.iter().find(|d| d["store_name"] == "Tunes SFTP").unwrap()["batch"].as_str().unwrap().to_owned();
    let xml = std::fs::read_to_string(sftp.inbox().join(&batch).join(&upc).join(format!("{upc}.xml"))).unwrap();
    testkit::ddex::validate_ern43(&xml).unwrap();
    assert!(!xml.contains("<DealList>"), "a takedown carries no deal");
    for d in &down {
        let id = d["message_id"].as_str().unwrap();
        if d["store_name"] == "Tunes SFTP" {
            std::fs::write(acks.join("ACK_3.xml"), ack(id, "FileOK", "")).unwrap();
        } else {
            s3.put("incoming/acknowledgements/ACK_4.xml", &ack(id, "FileOK", ""));
        }
    }
    for store in [&sftp_store, &s3_store] {
        let store_id = catalog::model::StoreId(id(store).parse().unwrap());
        catalog::distribution::service::poll_store(&app.ctx, store_id).await.unwrap();
    }
    assert_eq!(release_status(&app, &l, &rid).await, "taken_down");
}

/// A store whose server shows another host key is never written to: each attempt fails with the reason,
/// waits for its retry, and the last one marks the delivery failed.
#[tokio::test]
async fn a_store_with_the_wrong_host_key_is_refused_and_the_delivery_fails_after_its_retries() {
    let sftp = testkit::stores::SftpServer::start();
    let other = testkit::stores::SftpServer::start();
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let mut l = label(&app, "mitm-records", "DEH56").await;
    let store = created(
        app.post("/v1/admin/stores")
            .bearer(&admin)
            .json(&json!({"name": "Impostor", "dpid": "PADPIDA2026120233U", "protocol": "sftp", "host": "127.0.0.1",
                          "port": sftp.port, "username": sftp.user, "path": sftp.inbox().display().to_string(),
                          "host_key": other.host_key, "credentials": {"private_key": sftp.client_key}}))
            .send()
            .await,
    )
    .await;
    let (rid, _) = approved_release(&app, &l, &admin, "Guarded").await;
    app.post(&format!("/v1/releases/{rid}/distributions"))
        .bearer(&l.token)
        .json(&json!({"store_ids": [id(&store)], "deliver_at": app.clock_now()}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    // The worker retries with backoff until the kind's last attempt.
    for _ in 0..8 {
        crate::support::drain_jobs(&app).await;
        app.clock.advance(chrono::Duration::hours(12));
    }
    l.refresh(&app).await;
    let d = distributions(&app, &l, &rid).await[0].clone();
    assert!(d["last_error"].as_str().unwrap().contains("host key"), "{d}");
    assert_eq!(d["state"], "failed", "{d}");
    assert_eq!(d["attempts"], 6);
    assert_eq!(std::fs::read_dir(sftp.inbox()).unwrap().count(), 0, "nothing was written");
    assert_eq!(release_status(&app, &l, &rid).await, "scheduled");
}

pub(crate) async fn claim(app: &TestApp, token: &str, rid: &str, body: Value) -> testkit::TestResponse {
    app.post(&format!("/v1/releases/{rid}/rights")).bearer(token).json(&body).send().await
}

pub(crate) async fn rights_of(app: &TestApp, token: &str, rid: &str) -> Value {
    let res = app.get(&format!("/v1/releases/{rid}/rights")).bearer(token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

/// Rights claims at their boundary: exactly the whole is allowed, one basis point more is a conflict
/// that blocks delivery (everywhere, or in its territory) until staff resolve it; expiry ends a claim.
#[tokio::test]
async fn rights_conflicts_are_flagged_at_the_whole_and_block_delivery_until_resolved() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let mut l = label(&app, "rights-records", "DEJ78").await;
    let store = id(&sftp_store(&app, &admin, "Streamly").await);
    let (rid, tracks) = approved_release(&app, &l, &admin, "Owned").await;
    let start = app.clock_now().date_naive();
    let master =
        |share: i32| json!({"right_type": "master", "holder": "North Records", "share_bp": share, "starts_on": start});

    // Two halves make the whole: no conflict.
    for share in [5000, 5000] {
        let res = claim(&app, &l.token, &rid, master(share)).await;
        res.assert_status(StatusCode::CREATED);
        assert_eq!(res.value()["conflicted"], false);
    }
    assert_eq!(rights_of(&app, &l.token, &rid).await["conflicts"], json!([]));
    app.get(&format!("/v1/releases/{rid}/ern?store={store}"))
        .bearer(&l.token)
        .send()
        .await
        .assert_status(StatusCode::OK);

    // One basis point more: every claim involved is flagged, and delivery stops everywhere.
    let extra = claim(&app, &l.token, &rid, master(1)).await.value();
    assert_eq!(extra["conflicted"], true);
    let overview = rights_of(&app, &l.token, &rid).await;
    assert_eq!(overview["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(overview["conflicts"][0]["total_bp"], 10_001);
    assert_eq!(overview["conflicts"][0]["territory"], Value::Null);
    assert!(overview["claims"].as_array().unwrap().iter().all(|c| c["conflicted"] == true));
    let res = app.get(&format!("/v1/releases/{rid}/ern?store={store}")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "rights_conflict");

    // A claim is backed by documents: a PDF is kept and read back; anything else is refused.
    let docs = format!("/v1/rights/{}/documents?filename=agreement.pdf", extra["id"].as_str().unwrap());
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let res = upload(&app, &l.token, &docs, "application/pdf", &pdf).await;
    res.assert_status(StatusCode::OK);
    let doc = res.value()["documents"][0].clone();
    assert_eq!(
        (doc["media_type"].as_str(), doc["file_name"].as_str()),
        (Some("application/pdf"), Some("agreement.pdf"))
    );
    let back = app
        .get(&format!("/v1/rights/{}/documents/{}", extra["id"].as_str().unwrap(), doc["sha256"].as_str().unwrap()))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(back.body.as_ref(), pdf.as_slice());
    let res = upload(&app, &l.token, &docs, "application/pdf", b"PK\x03\x04 not a pdf").await;
    assert_eq!(field_rules(&res), [("document".into(), "unsupported_format".into())]);

    // Only staff resolve it: rejecting the extra claim ends the conflict.
    let path = format!("/v1/rights/{}/review", extra["id"].as_str().unwrap());
    app.post(&path)
        .bearer(&l.token)
        .json(&json!({"decision": "reject"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let resolved =
        app.post(&path).bearer(&admin).json(&json!({"decision": "reject", "note": "Duplicate"})).send().await;
    resolved.assert_status(StatusCode::OK);
    assert_eq!(resolved.value()["conflicts"], json!([]));
    assert!(resolved.value()["claims"].as_array().unwrap().iter().all(|c| c["conflicted"] == false));

    // A conflict in one territory leaves that territory out of the deals, nothing else.
    let track = tracks[0]["track"]["id"].as_str().unwrap();
    let publishing = |share: i32, territories: Value| {
        json!({"right_type": "publishing", "track_id": track, "holder": "Songs Ltd", "share_bp": share,
               "territories": territories, "starts_on": start})
    };
    claim(&app, &l.token, &rid, publishing(8000, json!(["de"]))).await.assert_status(StatusCode::CREATED);
    claim(&app, &l.token, &rid, publishing(3000, json!([]))).await.assert_status(StatusCode::CREATED);
    let overview = rights_of(&app, &l.token, &rid).await;
    assert_eq!(overview["conflicts"][0]["territory"], "DE");
    let xml = app.get(&format!("/v1/releases/{rid}/ern?store={store}")).bearer(&l.token).send().await.text();
    testkit::ddex::validate_ern43(&xml).unwrap();
    assert!(xml.contains("<ExcludedTerritoryCode>DE</ExcludedTerritoryCode>"), "{xml}");

    // Bad claims are refused field by field; strangers see nothing.
    let res = claim(
        &app,
        &l.token,
        &rid,
        json!({"right_type": "moral", "holder": "", "share_bp": 10_001,
        "territories": ["XXX"], "starts_on": start, "ends_on": start}),
    )
    .await;
    assert_eq!(
        field_rules(&res),
        [
            ("right_type".into(), "invalid_value".into()),
            ("holder".into(), "invalid_length".into()),
            ("share_bp".into(), "out_of_range".into()),
            ("territories[0]".into(), "invalid_format".into()),
            ("ends_on".into(), "before_start".into()),
        ]
    );
    let (stranger, _, _) = signed_in(&app, "rights_stranger").await;
    app.get(&format!("/v1/releases/{rid}/rights")).bearer(&stranger).send().await.assert_status(StatusCode::NOT_FOUND);

    // A claim that ends stops counting when its timer fires.
    let ends = start + chrono::Duration::days(5);
    let short =
        json!({"right_type": "sync", "holder": "Film Co", "share_bp": 9000, "starts_on": start, "ends_on": ends});
    claim(&app, &l.token, &rid, short).await.assert_status(StatusCode::CREATED);
    let long = json!({"right_type": "sync", "holder": "Ads Co", "share_bp": 2000, "starts_on": start});
    claim(&app, &l.token, &rid, long).await.assert_status(StatusCode::CREATED);
    assert_eq!(rights_of(&app, &l.token, &rid).await["conflicts"].as_array().unwrap().len(), 2);
    app.clock.advance(chrono::Duration::days(6));
    crate::support::drain_jobs(&app).await;
    l.refresh(&app).await;
    let overview = rights_of(&app, &l.token, &rid).await;
    assert_eq!(overview["conflicts"].as_array().unwrap().len(), 1, "only the publishing conflict is left");
    assert!(
        overview["claims"].as_array().unwrap().iter().any(|c| c["holder"] == "Film Co" && c["status"] == "expired")
    );
}

/// Claims made at the same moment are judged together: twenty claims of 5% each and one of 0.01%, sent
/// at once on separate connections, always end flagged as one conflict, round after round.
#[tokio::test]
async fn concurrent_claims_are_judged_together() {
    let app = std::sync::Arc::new(app().await);
    let admin = signed_in_admin(&app).await;
    let l = label(&app, "busy-rights", "DEK90").await;
    let start = app.clock_now().date_naive();
    for round in 0..3 {
        let (rid, _) = approved_release(&app, &l, &admin, &format!("Round {round}")).await;
        let mut tasks = Vec::new();
        for share in std::iter::repeat_n(500, 20).chain([1]) {
            let (app, token, rid) = (app.clone(), l.token.clone(), rid.clone());
            let body = json!({"right_type": "master", "holder": format!("Holder {share}"), "share_bp": share, "starts_on": start});
            tasks.push(tokio::spawn(async move { claim(&app, &token, &rid, body).await.status }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), StatusCode::CREATED);
        }
        let overview = rights_of(&app, &l.token, &rid).await;
        assert_eq!(overview["conflicts"].as_array().unwrap().len(), 1, "round {round}");
        assert_eq!(overview["conflicts"][0]["total_bp"], 10_001);
        let flagged = overview["claims"].as_array().unwrap().iter().filter(|c| c["conflicted"] == true).count();
        assert_eq!(flagged, 21, "round {round}: every claim of the conflict is flagged");
    }
}

/// The demo catalog: a live album and a scheduled single with real files, whose messages validate.
#[tokio::test]
async fn the_demo_catalog_is_complete_and_its_messages_validate() {
    let app = app().await;
    crate::support::load_demo(&app).await;
    let token =
        crate::support::login(&app, "lumen_records", identity::demo::DEMO_PASSWORD).await.value()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
    let label = identity::service::org_id_by_slug(&mut app.db.pool.acquire().await.unwrap(), "lumen-records")
        .await
        .unwrap()
        .unwrap();
    let jazz = identity::service::org_id_by_slug(&mut app.db.pool.acquire().await.unwrap(), "lumen-jazz")
        .await
        .unwrap()
        .unwrap();
    let albums = app.get(&format!("/v1/labels/{label}/releases")).bearer(&token).send().await.value();
    let album = &albums["items"][0];
    assert_eq!((album["title"].as_str(), album["status"].as_str()), (Some("Night Lines"), Some("live")));
    let singles = app.get(&format!("/v1/labels/{jazz}/releases")).bearer(&token).send().await.value();
    assert_eq!(singles["items"][0]["status"], "scheduled");
    let full = app.get(&format!("/v1/releases/{}", album["id"].as_str().unwrap())).bearer(&token).send().await.value();
    assert_eq!(full["tracks"].as_array().unwrap().len(), 7);
    assert!(full["tracks"].as_array().unwrap().iter().all(|t| t["track"]["audio"]["channels"] == 2));
    assert_eq!(full["artwork"]["width"], 3000);
    let store =
        app.get("/v1/stores").bearer(&token).send().await.value()["items"][0]["id"].as_str().unwrap().to_owned();
    for release in [album, &singles["items"][0]] {
        let rid = release["id"].as_str().unwrap();
        let d = distributions(
            &app,
            &Label { token: token.clone(), id: String::new(), artist: String::new(), user: String::new() },
            rid,
        )
        .await;
        assert_eq!(d.len(), 1);
        let xml = app.get(&format!("/v1/releases/{rid}/ern?store={store}")).bearer(&token).send().await;
        xml.assert_status(StatusCode::OK);
        testkit::ddex::validate_ern43(&xml.text()).unwrap();
    }

    // The demo store is a folder under the drops directory: the single's delivery, at its lead time,
    // really writes the batch there, and an acknowledgement put in the folder is read like a store's.
    let single = singles["items"][0]["id"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::days(17));
    crate::support::drain_jobs(&app).await;
    let token =
        crate::support::login(&app, "lumen_records", identity::demo::DEMO_PASSWORD).await.value()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
    let demo = Label { token: token.clone(), id: String::new(), artist: String::new(), user: String::new() };
    let sent = distributions(&app, &demo, &single).await;
    assert_eq!(sent[0]["state"], "delivered", "{sent:?}");
    let batch = sent[0]["batch"].as_str().unwrap();
    let upc = app.get(&format!("/v1/releases/{single}")).bearer(&token).send().await.value()["upc"]
        .as_str()
        .unwrap()
        .to_owned();
    let folder = app.drops.path().join("demo-store").join(batch);
    let xml = std::fs::read_to_string(folder.join(&upc).join(format!("{upc}.xml"))).unwrap();
    testkit::ddex::validate_ern43(&xml).unwrap();
    assert!(folder.join(format!("BatchComplete_{batch}.xml")).exists());
    let acks = app.drops.path().join("demo-store/acknowledgements");
    std::fs::create_dir_all(&acks).unwrap();
    std::fs::write(acks.join("ACK.xml"), ack(sent[0]["message_id"].as_str().unwrap(), "FileOK", "")).unwrap();
    let store_id = catalog::model::StoreId(store.parse().unwrap());
    assert_eq!(catalog::distribution::service::poll_store(&app.ctx, store_id).await.unwrap(), 1);
    assert_eq!(distributions(&app, &demo, &single).await[0]["state"], "acknowledged");
    assert!(!acks.join("ACK.xml").exists(), "a read acknowledgement is removed");
}

/// In a real browser: the label finds its catalog from its organization, reads the release's report and
/// submits it; staff find it in their queue and ask for changes, which the label's page then shows.
#[tokio::test]
async fn a_label_submits_and_staff_review_a_release_in_a_browser() {
    use crate::browser::{Browser, serve};
    let app = app().await;
    signed_in_admin(&app).await;
    let l = label(&app, "browser-records", "DEL12").await;
    let r = release(&app, &l, "Window Light").await;
    let rid = id(&r);
    let t = add_track(&app, &l, &rid, "Window Light").await;
    with_files(&app, &l, &rid, &[&t]).await;
    let served = serve(&app).await;
    let browser = Browser::start().await;

    browser.sign_in(&served.base, &l.user, &format!("/orgs/{}", l.id)).await;
    browser.click("#catalog-link").await;
    browser.wait_for_text("Window Light").await;
    browser.click(&format!("a[href='/releases/{rid}']")).await;
    browser.wait_for_text("Nothing stops this release.").await;
    assert_eq!(browser.accessibility_violations().await, vec![]);
    browser.click("#submit").await;
    browser.wait_for_text("The release is submitted for review.").await;
    assert_eq!(browser.script("return document.getElementById('status').textContent").await, json!("submitted"));
    let text = browser.text().await;
    assert!(text.contains("DE-L12-"), "the ISRC was assigned: {text}");
    browser.sign_out().await;

    browser.sign_in(&served.base, "root_admin", "/admin/releases").await;
    browser.wait_for_text("Window Light").await;
    browser.click(&format!("#queue a[href='/releases/{rid}']")).await;
    browser.wait_for_text("Request changes").await;
    browser.type_into("#note-field", "genre").await;
    browser.type_into("#note", "Use Dance for this one").await;
    browser.click("#request-changes").await;
    browser.wait_for_text("Your decision is recorded.").await;
    let text = browser.wait_for_text("Use Dance for this one").await;
    assert!(text.contains("changes requested"), "{text}");
    let status = app.get(&format!("/v1/releases/{rid}")).bearer(&l.token).send().await.value()["status"].clone();
    assert_eq!(status, "changes_requested");

    // Submitted again, staff approve it; the label schedules it for a store.
    let admin = crate::support::login(&app, "root_admin", crate::support::PASSWORD).await.value();
    let store = id(&sftp_store(&app, admin["access_token"].as_str().unwrap(), "Streamly").await);
    app.patch(&format!("/v1/releases/{rid}"))
        .bearer(&l.token)
        .json(&json!({"genre": "Dance"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/v1/releases/{rid}/submit")).bearer(&l.token).send().await.assert_status(StatusCode::OK);
    browser.goto(&format!("{}/releases/{rid}", served.base)).await;
    browser.click("#approve").await;
    browser.wait_for_text("Your decision is recorded.").await;
    browser.sign_out().await;
    browser.sign_in(&served.base, &l.user, &format!("/releases/{rid}")).await;
    browser.wait_for_text("Deliver to").await;
    browser.click("#schedule").await;
    browser.wait_for_text("The delivery is scheduled.").await;
    let text = browser.wait_for_text("pending").await;
    assert!(text.contains("Streamly"), "{text}");
    browser.close().await;
    let d = app.get(&format!("/v1/releases/{rid}/distributions")).bearer(&l.token).send().await.value();
    assert_eq!(d["items"][0]["store_id"], store.as_str());
}

/// The object store cannot take files (its folder is gone, a file in its place: refused even to root):
/// an upload is answered 503 `storage_unavailable` with `Retry-After`, and nothing is recorded as
/// stored, staged or attached.
#[tokio::test]
async fn an_object_store_that_cannot_take_files_refuses_uploads_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let objects = dir.path().join("objects");
    let storage = platform::storage::Storage::open(
        &platform::storage::Backend::Local(objects.clone()),
        &dir.path().join("staging"),
    )
    .unwrap();
    std::fs::remove_dir_all(&objects).unwrap();
    std::fs::write(&objects, b"not a folder").unwrap();
    let app =
        TestApp::new(|ctx| backline::app(ctx.with_storage(storage), platform::http::EdgeLimits::default(), None)).await;
    let l = label(&app, "broken-store", "DEB01").await;
    let r = release(&app, &l, "Unstored").await;
    let rid = id(&r);
    let res = upload(&app, &l.token, &format!("/v1/releases/{rid}/artwork"), "image/png", cover()).await;
    res.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable");
    assert_eq!(res.header("retry-after"), Some("30"));
    assert_eq!(stored_files(&app).await, 0);
    assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0, "nothing left in staging");
    let release = app.get(&format!("/v1/releases/{rid}")).bearer(&l.token).send().await.value();
    assert!(release["artwork"].is_null(), "{release}");
}

/// A file's MD5 is computed where it is asked for (a DDEX delivery names files by it): the same bytes
/// recorded first without it (a sales report, a contract's annex) are given it when they come again
/// with it, and keep it when they come once more without.
#[tokio::test]
async fn a_stored_file_recorded_without_its_md5_is_given_it_by_an_upload_that_asks() {
    let app = app().await;
    let storage = &app.ctx.storage;
    let bytes = testkit::media::wav(44_100, 16, 2, 100, 0.5);
    let md5_of = |sha256: &str| {
        let pool = app.db.pool.clone();
        let sha256 = sha256.to_owned();
        async move {
            sqlx::query_scalar!("SELECT md5 FROM stored_files WHERE sha256 = $1", sha256)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let mut conn = app.db.pool.acquire().await.unwrap();
    let now = chrono::Utc::now();
    let receive = |digests| storage.receive(axum::body::Body::from(bytes.clone()), 1_000_000, digests);
    let plain = storage.keep(receive(platform::storage::Digests::Sha256).await.unwrap()).await.unwrap();
    assert_eq!(plain.md5, None);
    platform::storage::record(&mut conn, &plain, "audio/wav", now).await.unwrap();
    assert_eq!(md5_of(&plain.sha256).await, None);
    let with = storage.keep(receive(platform::storage::Digests::Sha256AndMd5).await.unwrap()).await.unwrap();
    assert_eq!((&with.key, with.size, &with.sha256), (&plain.key, plain.size, &plain.sha256));
    let md5 = with.md5.clone().unwrap();
    assert_eq!(md5.len(), 32);
    platform::storage::record(&mut conn, &with, "audio/wav", now).await.unwrap();
    assert_eq!(md5_of(&plain.sha256).await, Some(md5.clone()));
    platform::storage::record(&mut conn, &plain, "audio/wav", now).await.unwrap();
    assert_eq!(md5_of(&plain.sha256).await, Some(md5), "kept");
    assert_eq!(staged_files(&app), 0, "no staging file is left");
}

/// Many uploads of the same bytes recorded at once, some with their MD5 and some without, after a first
/// one without: each is recorded without an error and the bytes end with their MD5, every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_bytes_recorded_at_once_with_and_without_their_md5_keep_it() {
    let app = app().await;
    for round in 0..5u8 {
        let bytes = vec![round; 1000 + usize::from(round)];
        let staged =
            app.ctx.storage.receive(axum::body::Body::from(bytes), 1_000_000, platform::storage::Digests::Sha256AndMd5);
        let with = app.ctx.storage.keep(staged.await.unwrap()).await.unwrap();
        let without = platform::storage::Kept { md5: None, ..with.clone() };
        let mut conn = app.db.pool.acquire().await.unwrap();
        platform::storage::record(&mut conn, &without, "application/octet-stream", chrono::Utc::now()).await.unwrap();
        drop(conn);
        let recorders = (0..16).map(|i| {
            let (pool, kept) = (app.db.pool.clone(), if i % 2 == 0 { with.clone() } else { without.clone() });
            tokio::spawn(async move {
                let mut tx = pool.begin().await?;
                platform::storage::record(&mut tx, &kept, "application/octet-stream", chrono::Utc::now()).await?;
                tx.commit().await
            })
        });
        for recorded in futures_util::future::join_all(recorders).await {
            recorded.unwrap().unwrap();
        }
        let md5 = sqlx::query_scalar!("SELECT md5 FROM stored_files WHERE sha256 = $1", with.sha256)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(md5, with.md5, "round {round}");
    }
}
