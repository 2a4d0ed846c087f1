//! The catalog's pages: the release editor without script (forms, file forms, errors beside their
//! fields, nothing kept of a refused file), rights claims from the release's page, an artist's
//! discography, and the editor with its upload progress in a real browser.

use axum::http::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::catalog::{Label, cover, id, label, staged_files, stored_files, wav};
use crate::support::{app, signed_in_admin};
use crate::web::{cookie_header, cookies, form, web_session};

/// A browser's session: its cookies and its forms' token.
pub(crate) struct Web {
    pub jar: Vec<(String, String)>,
    pub csrf: String,
}

impl Web {
    pub async fn of(app: &TestApp, login: &str) -> Self {
        let jar = web_session(app, login).await;
        let csrf = jar.iter().find(|(n, _)| n == "bl_csrf").unwrap().1.clone();
        Self { jar, csrf }
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> testkit::TestResponse {
        app.get(path).header("cookie", &cookie_header(&self.jar)).send().await
    }

    pub async fn post(&mut self, app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> testkit::TestResponse {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(pairs);
        let res = app
            .post(path)
            .header("cookie", &cookie_header(&self.jar))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&all))
            .send()
            .await;
        cookies(&res, &mut self.jar);
        res
    }

    /// Sends a file form as a browser does (`multipart/form-data`, the token first), as the page's
    /// script does when `scripted`.
    pub async fn upload(
        &self,
        app: &TestApp,
        path: &str,
        csrf: &str,
        file: (&str, &str, &[u8]),
        scripted: bool,
    ) -> testkit::TestResponse {
        self.upload_fields(app, path, csrf, &[], file, scripted).await
    }

    /// Sends a file form with text fields between the token and the file, as a page's form puts them.
    pub async fn upload_with(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
        scripted: bool,
    ) -> testkit::TestResponse {
        self.upload_fields(app, path, &self.csrf, fields, file, scripted).await
    }

    async fn upload_fields(
        &self,
        app: &TestApp,
        path: &str,
        csrf: &str,
        fields: &[(&str, &str)],
        (file_name, media_type, bytes): (&str, &str, &[u8]),
        scripted: bool,
    ) -> testkit::TestResponse {
        let boundary = "----BacklineTestBoundary7MA4YWxkTrZu0gW";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n");
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        let mut body = format!(
            "{body}--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: {media_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = app
            .post(path)
            .header("cookie", &cookie_header(&self.jar))
            .header("content-type", &format!("multipart/form-data; boundary={boundary}"));
        if scripted {
            req = req.header("x-upload", "progress");
        }
        req.body(body).send().await
    }
}

pub(crate) fn location(res: &testkit::TestResponse) -> String {
    res.header("location").unwrap_or_default().to_owned()
}

async fn release_json(app: &TestApp, l: &Label, rid: &str) -> Value {
    app.get(&format!("/v1/releases/{rid}")).bearer(&l.token).send().await.value()
}

/// The editor's fields for a complete single, released `days` from the test clock's today.
fn complete_fields(app: &TestApp, days: i64) -> Vec<(&'static str, String)> {
    let date = (app.clock_now() + chrono::Duration::days(days)).date_naive().to_string();
    vec![
        ("release_type", "single".into()),
        ("title", "Paper Moons".into()),
        ("display_artist", "Nova".into()),
        ("genre", "Electronic".into()),
        ("language", "en".into()),
        ("p_line_year", "2026".into()),
        ("p_line", "Backline Records".into()),
        ("c_line_year", "2026".into()),
        ("c_line", "Backline Records".into()),
        ("release_date", date),
        ("territory_mode", "worldwide".into()),
        ("territories", String::new()),
        ("territory_dates", String::new()),
    ]
}

fn set(fields: &mut Vec<(&'static str, String)>, key: &'static str, value: &str) {
    match fields.iter_mut().find(|(k, _)| *k == key) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((key, value.to_owned())),
    }
}

fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn the_release_editor_works_without_script_and_keeps_nothing_of_a_refused_file() {
    let app = app().await;
    let l = label(&app, "editor-records", "DEE12").await;
    let mut web = Web::of(&app, &l.user).await;

    let catalog = web.get(&app, &format!("/labels/{}/catalog", l.id)).await;
    assert!(catalog.text().contains(&format!("href=\"/labels/{}/releases/new\"", l.id)), "{}", catalog.text());
    web.get(&app, &format!("/labels/{}/releases/new", l.id)).await.assert_status(StatusCode::OK);

    // A refused draft: each error beside its field, what was typed kept, nothing created.
    let mut fields = complete_fields(&app, 30);
    set(&mut fields, "title", "");
    set(&mut fields, "upc", "4012345000013");
    set(&mut fields, "p_line_year", "last year");
    let res = web.post(&app, &format!("/labels/{}/releases", l.id), &pairs(&fields)).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text();
    assert!(html.contains("id=\"f-p_line_year-error\""), "{html}");
    assert!(html.contains("value=\"last year\""), "what was typed is kept: {html}");
    set(&mut fields, "p_line_year", "2026");
    let res = web.post(&app, &format!("/labels/{}/releases", l.id), &pairs(&fields)).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text();
    assert!(html.contains("id=\"f-title-error\"") && html.contains("id=\"f-upc-error\""), "{html}");
    let list = app.get(&format!("/v1/labels/{}/releases", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(list["items"], json!([]));

    // Created: the editor shows the report beside the fields.
    set(&mut fields, "title", "Paper Moons");
    set(&mut fields, "upc", "");
    let res = web.post(&app, &format!("/labels/{}/releases", l.id), &pairs(&fields)).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let next = location(&res);
    let rid = next.trim_start_matches("/releases/").trim_end_matches("/edit").to_owned();
    let editor = web.get(&app, &next).await;
    editor.assert_status(StatusCode::OK);
    let html = editor.text();
    assert!(html.contains("credit at least one main artist"), "{html}");
    assert!(html.contains("href=\"#artwork\"") && html.contains("href=\"#tracks\""), "{html}");

    // A credit for a new name puts them on the roster; a track is added.
    let res =
        web.post(&app, &format!("/releases/{rid}/credits"), &[("new_name", "Nova"), ("role", "main_artist")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let r = release_json(&app, &l, &rid).await;
    assert_eq!(r["credits"][0]["name"], "Nova");
    assert_eq!(r["credits"][0]["role"], "main_artist");
    let res = web.post(&app, &format!("/releases/{rid}/credits"), &[("role", "producer")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("choose someone, or type a new name"), "{}", res.text());
    web.post(&app, &format!("/releases/{rid}/tracks"), &[("title", "Paper Moons")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let r = release_json(&app, &l, &rid).await;
    let track = r["tracks"][0]["track"]["id"].as_str().unwrap().to_owned();

    // A second track, put first: the two swap disc and number.
    web.post(&app, &format!("/releases/{rid}/tracks"), &[("title", "Side B"), ("version", "Dub"), ("disc", "x")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    web.post(&app, &format!("/releases/{rid}/tracks"), &[("title", "Side B"), ("version", "Dub"), ("position", "2")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let second = release_json(&app, &l, &rid).await["tracks"][1]["track"]["id"].as_str().unwrap().to_owned();
    web.post(&app, &format!("/releases/{rid}/tracks/{second}/move"), &[("direction", "up")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let r = release_json(&app, &l, &rid).await;
    assert_eq!(r["tracks"][0]["track"]["id"], second.as_str());
    assert_eq!((r["tracks"][0]["position"].clone(), r["tracks"][1]["position"].clone()), (json!(1), json!(2)));
    web.post(&app, &format!("/releases/{rid}/tracks/{second}/remove"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(release_json(&app, &l, &rid).await["tracks"].as_array().unwrap().len(), 1);

    // Files: without script the answer is a redirect; with it, 204 and the next page.
    let before = stored_files(&app).await;
    let audio = format!("/releases/{rid}/tracks/{track}/audio");
    let res = web.upload(&app, &audio, &web.csrf, ("moons.wav", "audio/wav", wav()), false).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/releases/{rid}/edit#tracks"));
    let res = web
        .upload(&app, &format!("/releases/{rid}/artwork"), &web.csrf, ("cover.png", "image/png", cover()), true)
        .await;
    res.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(res.header("x-location"), Some(format!("/releases/{rid}/edit").as_str()));
    assert_eq!(stored_files(&app).await, before + 2);
    let r = release_json(&app, &l, &rid).await;
    assert_eq!(r["tracks"][0]["track"]["audio"]["file_name"], "moons.wav");
    assert_eq!(r["artwork"]["width"], 3000);

    // A refused file, a wrong token, a file form without a file, someone else's release: nothing kept.
    let res = web.upload(&app, &audio, &web.csrf, ("broken.wav", "audio/wav", b"RIFF not really"), true).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.text().is_empty() && !res.text().contains("<html"), "a bare message: {}", res.text());
    let res = web.upload(&app, &audio, &web.csrf, ("broken.wav", "audio/wav", b"RIFF not really"), false).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"problem\""), "the editor with the error: {}", res.text());
    web.upload(&app, &audio, &"0".repeat(64), ("moons.wav", "audio/wav", wav()), false)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let res = web.upload(&app, &audio, &web.csrf, ("", "application/octet-stream", b""), true).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("Choose a file first."), "{}", res.text());
    let other = label(&app, "other-editor-records", "DEO12").await;
    let intruder = Web::of(&app, &other.user).await;
    intruder.get(&app, &format!("/releases/{rid}/edit")).await.assert_status(StatusCode::NOT_FOUND);
    let res = intruder.upload(&app, &audio, &intruder.csrf, ("x.wav", "audio/wav", wav()), true).await;
    res.assert_status(StatusCode::NOT_FOUND);
    // A track of another release under this release's address is refused too.
    let other_release = crate::catalog::release(&app, &other, "Elsewhere").await;
    let other_track = crate::catalog::add_track(&app, &other, &id(&other_release), "Elsewhere").await;
    let foreign = format!("/releases/{rid}/tracks/{}/audio", other_track["track"]["id"].as_str().unwrap());
    web.upload(&app, &foreign, &web.csrf, ("x.wav", "audio/wav", wav()), true)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(stored_files(&app).await, before + 2);
    assert_eq!(staged_files(&app), 0);

    // The track's own page: a bad ISWC is shown beside its field; the preview start is in seconds.
    let page = format!("/releases/{rid}/tracks/{track}");
    let res = web
        .post(&app, &page, &[("title", "Paper Moons"), ("display_artist", "Nova"), ("iswc", "T-034.524.680-2")])
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"f-iswc-error\""), "{}", res.text());
    let res = web
        .post(
            &app,
            &page,
            &[
                ("title", "Paper Moons"),
                ("display_artist", "Nova"),
                ("iswc", "T-034.524.680-1"),
                ("preview_start", "0.5"),
                ("bpm", "124"),
            ],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let r = release_json(&app, &l, &rid).await;
    assert_eq!(r["tracks"][0]["track"]["iswc"], "T0345246801");
    assert_eq!(r["tracks"][0]["track"]["preview_start_ms"], 500);

    // Complete: the report says so, and the release is submitted from the editor.
    let editor = web.get(&app, &format!("/releases/{rid}/edit")).await;
    assert!(editor.text().contains("Nothing stops this release."), "{}", editor.text());
    web.post(&app, &format!("/releases/{rid}/submit"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(release_json(&app, &l, &rid).await["status"], "submitted");
    let res = web.get(&app, &format!("/releases/{rid}/edit")).await;
    res.assert_status(StatusCode::CONFLICT);
    let res = web.upload(&app, &audio, &web.csrf, ("moons.wav", "audio/wav", wav()), true).await;
    res.assert_status(StatusCode::CONFLICT);
    assert!(res.text().contains("can no longer change"), "{}", res.text());
}

#[tokio::test]
async fn rights_are_claimed_documented_and_reviewed_from_the_release_page() {
    let app = app().await;
    signed_in_admin(&app).await;
    let l = label(&app, "claims-records", "DEC12").await;
    let r = crate::catalog::release(&app, &l, "Held Rights").await;
    let rid = id(&r);
    let mut web = Web::of(&app, &l.user).await;
    let page = format!("/releases/{rid}/rights");
    let base = |share: &'static str| {
        vec![("right_type", "master"), ("holder", "Claims Records"), ("share", share), ("starts_on", "2026-01-01")]
    };
    let res = web.post(&app, &page, &base("100.001")).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"claim-share-error\""), "{}", res.text());
    assert!(res.text().contains("value=\"100.001\""), "{}", res.text());
    let res = web.post(&app, &page, &base("100")).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let overview = crate::catalog::rights_of(&app, &l.token, &rid).await;
    assert_eq!(overview["claims"][0]["share_bp"], 10_000);
    assert_eq!(overview["conflicts"], json!([]));
    // 0.01% more of the same right, worldwide: a conflict, said at once.
    let res = web.post(&app, &page, &base("0.01")).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let shown = web.get(&app, &location(&res)).await.text();
    assert!(shown.contains("together the claims exceed 100%"), "{shown}");
    assert!(shown.contains("Conflict: master rights at 100.01%"), "{shown}");

    // A document on the first claim; staff reject the second, which resolves the conflict.
    let overview = crate::catalog::rights_of(&app, &l.token, &rid).await;
    let claims = overview["claims"].as_array().unwrap();
    let small = claims.iter().find(|c| c["share_bp"] == 1).unwrap()["id"].as_str().unwrap().to_owned();
    let whole = claims.iter().find(|c| c["share_bp"] == 10_000).unwrap()["id"].as_str().unwrap().to_owned();
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let res = web
        .upload(
            &app,
            &format!("/releases/{rid}/rights/{whole}/documents"),
            &web.csrf,
            ("contract.pdf", "application/pdf", pdf),
            false,
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let shown = web.get(&app, &format!("/releases/{rid}")).await.text();
    assert!(shown.contains("contract.pdf"), "{shown}");
    let overview = crate::catalog::rights_of(&app, &l.token, &rid).await;
    let sha = overview["claims"].as_array().unwrap().iter().find(|c| c["id"] == whole.as_str()).unwrap()["documents"]
        [0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc = web.get(&app, &format!("/releases/{rid}/rights/{whole}/documents/{sha}")).await;
    doc.assert_status(StatusCode::OK);
    assert_eq!(doc.body.as_ref(), pdf.as_slice());
    // The label cannot review its own claims; staff can.
    web.post(&app, &format!("/releases/{rid}/rights/{small}/review"), &[("decision", "reject")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let mut staff = Web::of(&app, "root_admin").await;
    let shown = staff.get(&app, &format!("/releases/{rid}")).await.text();
    assert!(shown.contains("Verify") && !shown.contains("Claim a right"), "{shown}");
    staff
        .post(
            &app,
            &format!("/releases/{rid}/rights/{small}/review"),
            &[("decision", "reject"), ("note", "No contract")],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let overview = crate::catalog::rights_of(&app, &l.token, &rid).await;
    assert_eq!(overview["conflicts"], json!([]));
}

#[tokio::test]
async fn an_artist_page_lists_the_releases_out_and_the_artist_sees_every_one() {
    let app = app().await;
    let admin = signed_in_admin(&app).await;
    let l = label(&app, "disco-records", "DED12").await;
    let (artist_token, _, _) = crate::support::signed_in(&app, "disco_artist").await;
    let profile = crate::booking::created(
        app.post("/v1/artists")
            .bearer(&artist_token)
            .json(&json!({"stage_name": "Disco Nova", "genres": ["Electronic"]}))
            .send()
            .await,
    )
    .await;
    let profile = id(&profile);
    app.patch(&format!("/v1/parties/{}", l.artist))
        .bearer(&l.token)
        .json(&json!({"artist_profile_id": profile}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let (out, _) = crate::catalog::approved_release(&app, &l, &admin, "Out Now").await;
    let store = id(&crate::catalog::sftp_store(&app, &admin, "Discstore").await);
    app.post(&format!("/v1/releases/{out}/distributions"))
        .bearer(&l.token)
        .json(&json!({"store_ids": [store]}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let draft = crate::catalog::release(&app, &l, "Still A Draft").await;

    // The label's board: each release's state at each store, on the catalog page and in the API.
    let board = app.get(&format!("/v1/labels/{}/distributions", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(board["items"].as_array().unwrap().len(), 1, "{board}");
    assert_eq!(board["items"][0]["release_id"], out.as_str());
    assert_eq!(board["items"][0]["state"], "pending");
    let label_web = Web::of(&app, &l.user).await;
    let page = label_web.get(&app, &format!("/labels/{}/catalog", l.id)).await.text();
    assert!(page.contains("<th scope=\"col\">Discstore</th>") && page.contains(">pending</span>"), "{page}");
    let (stranger, _, _) = crate::support::signed_in(&app, "disco_stranger").await;
    let refused = app.get(&format!("/v1/labels/{}/distributions", l.id)).bearer(&stranger).send().await;
    assert!(refused.status == StatusCode::FORBIDDEN || refused.status == StatusCode::NOT_FOUND, "{}", refused.status);

    // Anyone sees what is scheduled or out, never a draft.
    let public = app.get(&format!("/v1/artists/{profile}/releases")).send().await;
    public.assert_status(StatusCode::OK);
    let items = public.value()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["title"], "Out Now");
    assert_eq!(items[0]["status"], "scheduled");
    let page = app.get(&format!("/artists/{profile}")).send().await.text();
    assert!(page.contains("Out Now") && !page.contains("Still A Draft"), "{page}");
    // The artist sees every release that credits them, with its status.
    let web = Web::of(&app, "disco_artist").await;
    let page = web.get(&app, &format!("/artists/{profile}")).await.text();
    assert!(page.contains("Out Now") && page.contains("Still A Draft") && page.contains("draft"), "{page}");
    assert_eq!(draft["status"], "draft");
}

/// In a real browser: the label creates a release, credits its artist, adds a track, uploads the
/// cover and the audio through the file forms (the progress bar reaching 100%), reads the report
/// beside the fields empty, and submits.
#[tokio::test]
async fn a_label_builds_a_release_in_the_editor_in_a_browser() {
    use crate::browser::{Browser, serve};
    let app = app().await;
    let l = label(&app, "studio-records", "DES12").await;
    let dir = tempfile::tempdir().unwrap();
    let cover_path = dir.path().join("cover.png");
    let audio_path = dir.path().join("moons.wav");
    std::fs::write(&cover_path, cover()).unwrap();
    std::fs::write(&audio_path, wav()).unwrap();
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, &l.user, &format!("/labels/{}/catalog", l.id)).await;
    browser.click("#new-release").await;
    browser.wait_for_text("Create the draft").await;
    assert_eq!(browser.accessibility_violations().await, vec![]);
    browser.type_into("#f-title", "Glass Rooms").await;
    browser.type_into("#f-display_artist", "Nova").await;
    browser.type_into("#f-upc", "4012345000012").await;
    browser.click("#save").await;
    let text = browser.wait_for_text("Some fields need attention.").await;
    assert!(text.contains("check digit"), "the UPC's error beside it: {text}");
    browser.type_into("#f-upc", "").await;
    for (field, value) in [
        ("#f-genre", "Electronic"),
        ("#f-language", "en"),
        ("#f-p_line_year", "2026"),
        ("#f-p_line", "Studio Records"),
        ("#f-c_line_year", "2026"),
        ("#f-c_line", "Studio Records"),
    ] {
        browser.type_into(field, value).await;
    }
    let date = (app.clock_now() + chrono::Duration::days(30)).date_naive();
    browser.script(&format!("document.getElementById('f-release_date').value = '{date}'; return true;")).await;
    browser.click("#save").await;
    browser.wait_for_text("The release is created as a draft.").await;
    let text = browser.wait_for_text("to fix before submitting").await;
    assert!(text.contains("cover art"), "{text}");
    assert_eq!(browser.accessibility_violations().await, vec![]);

    // The toast of the last action is put away, as a person clicks it away, to reach what it covers.
    let dismiss = "var t = document.getElementById('toast'); if (t) t.remove(); return true;";
    browser.script(dismiss).await;
    browser.script(&format!("document.getElementById('credit-party').value = '{}'; return true;", l.artist)).await;
    browser.click("#credit-add").await;
    browser.wait_for_text("The credits are saved.").await;
    browser.script(dismiss).await;
    browser.type_into("#new-title", "Glass Rooms").await;
    browser.click("#add-track-button").await;
    browser.wait_for_text("The track is added.").await;

    // The uploads: the progress bar is watched (the record survives the next page in sessionStorage).
    for (input, path, done) in [
        ("artwork-file", cover_path.to_str().unwrap(), "The cover art is uploaded."),
        ("audio-file-1", audio_path.to_str().unwrap(), "The audio is uploaded and measured."),
    ] {
        browser.script(dismiss).await;
        browser
            .script(&format!(
                "var p = document.getElementById('{input}-progress');\
                 new MutationObserver(function () {{ sessionStorage.setItem('{input}', String(p.value)); }})\
                   .observe(p, {{attributes: true}});\
                 return true;"
            ))
            .await;
        browser.attach(&format!("#{input}"), path).await;
        browser.click(&format!("#{input}-send")).await;
        browser.wait_for_text(done).await;
        let seen = browser.script(&format!("return sessionStorage.getItem('{input}')")).await;
        assert_eq!(seen, json!("100"), "the progress bar of {input} reached the end");
    }
    let text = browser.wait_for_text("Nothing stops this release.").await;
    assert!(text.contains("WAV · 44100 Hz · 16 bit"), "{text}");
    browser.script(dismiss).await;
    browser.click("#submit").await;
    browser.wait_for_text("The release is submitted for review.").await;
    browser.close().await;
    let list = app.get(&format!("/v1/labels/{}/releases", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(list["items"][0]["status"], "submitted");
    assert_eq!(list["items"][0]["title"], "Glass Rooms");
}

/// Credits added at the same moment from several pages all stay: each is added under the release's lock,
/// never by writing back a list read before another was added.
#[tokio::test]
async fn credits_added_at_once_all_stay() {
    const PEOPLE: usize = 8;
    let app = std::sync::Arc::new(app().await);
    let l = label(&app, "crowd-records", "DEW12").await;
    let web = Web::of(&app, &l.user).await;
    let mut parties = Vec::new();
    for i in 0..PEOPLE {
        let p = crate::booking::created(
            app.post(&format!("/v1/labels/{}/parties", l.id))
                .bearer(&l.token)
                .json(&json!({"name": format!("Producer {i}")}))
                .send()
                .await,
        )
        .await;
        parties.push(id(&p));
    }
    for round in 0..3 {
        let r = crate::catalog::release(&app, &l, &format!("Crowd {round}")).await;
        let rid = id(&r);
        let mut tasks = Vec::new();
        for party in &parties {
            let (app, mut page) = (app.clone(), Web { jar: web.jar.clone(), csrf: web.csrf.clone() });
            let (rid, party) = (rid.clone(), party.clone());
            tasks.push(tokio::spawn(async move {
                page.post(&app, &format!("/releases/{rid}/credits"), &[("party", &party), ("role", "producer")])
                    .await
                    .status
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::SEE_OTHER);
        }
        let credits = release_json(&app, &l, &rid).await["credits"].as_array().unwrap().clone();
        let producers = credits.iter().filter(|c| c["role"] == "producer").count();
        assert_eq!(producers, PEOPLE, "round {round}: every credit stays: {credits:?}");
    }
}
