//! Collaboration's pages, without script: a project started, staffed and talked in from its pages,
//! each refusal beside its form; messages' Markdown shown with raw HTML as text and unsafe links
//! dropped; a booking's thread opened from the booking's page by its parties and nobody else.

use axum::http::StatusCode;
use serde_json::json;

use crate::catalog_web::{Web, location};
use crate::support::{app, create_org, join, signed_in};

#[tokio::test]
async fn a_project_is_started_staffed_and_talked_in_from_its_pages() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "pgw_owner").await;
    let org = create_org(&app, &owner, "pgw-studio").await;
    crate::support::grant_plan(&app, &org, "pro").await;
    let (member, _, _) = signed_in(&app, "pgw_member").await;
    join(&app, &owner, &org, &member, "pgw_member@example.com", "member").await;
    signed_in(&app, "pgw_client").await;
    signed_in(&app, "pgw_stranger").await;
    let mut web = Web::of(&app, "pgw_owner").await;

    let board = web.get(&app, "/projects").await;
    board.assert_status(StatusCode::OK);
    assert!(board.text().contains("Start a project") && board.text().contains("pgw-studio"), "{}", board.text());

    // A name missing is said beside the field; nothing is made.
    let refused = web.post(&app, "/projects", &[("org_id", &org), ("name", " "), ("kind", ""), ("due_date", "")]).await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().contains("must be 1 to 200 characters"), "{}", refused.text());
    assert!(refused.text().contains("aria-invalid=\"true\""));
    let listed = app.get(&format!("/v1/projects?organization_id={org}")).bearer(&owner).send().await.value();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    let started = web
        .post(
            &app,
            "/projects",
            &[("org_id", &org), ("name", "Tour Visuals"), ("kind", "tour_design"), ("due_date", "2027-05-01")],
        )
        .await;
    started.assert_status(StatusCode::SEE_OTHER);
    let path = location(&started);
    assert!(path.starts_with("/projects/"), "{path}");
    let shown = web.get(&app, &path).await.text();
    assert!(
        shown.contains("Tour Visuals") && shown.contains("#general") && shown.contains("due 2027-05-01"),
        "{shown}"
    );

    // Files uploaded over the API are listed with their versions, each downloadable from the page.
    let project_id = path.trim_start_matches("/projects/").to_owned();
    let uploaded = app
        .post(&format!("/v1/projects/{project_id}/files?name=poster.pdf&folder=print&category=final"))
        .bearer(&owner)
        .body(b"%PDF-1.4 poster".to_vec())
        .send()
        .await;
    uploaded.assert_status(StatusCode::CREATED);
    let file = uploaded.value()["id"].as_str().unwrap().to_owned();
    let shown = web.get(&app, &path).await.text();
    assert!(
        shown.contains("print/poster.pdf") && shown.contains(&format!("/project-files/{file}/versions/1")),
        "{shown}"
    );
    let got = web.get(&app, &format!("/project-files/{file}/versions/1")).await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.body.as_ref(), b"%PDF-1.4 poster");
    assert_eq!(got.header("content-type"), Some("application/pdf"));

    // Members: someone outside the organization only as a client, said beside the form.
    let outside = web.post(&app, &format!("{path}/members"), &[("username", "pgw_client"), ("role", "editor")]).await;
    outside.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(outside.text().contains("is not a member of the organization"), "{}", outside.text());
    let added = web.post(&app, &format!("{path}/members"), &[("username", "pgw_client"), ("role", "client")]).await;
    added.assert_status(StatusCode::SEE_OTHER);
    web.post(&app, &format!("{path}/members"), &[("username", "pgw_member"), ("role", "viewer")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let unknown = web.post(&app, &format!("{path}/members"), &[("username", "nobody_here"), ("role", "editor")]).await;
    assert!(unknown.text().contains("names no user"), "{}", unknown.text());

    // The client finds the project on their board and talks in #general.
    let mut client = Web::of(&app, "pgw_client").await;
    let board = client.get(&app, "/projects").await.text();
    assert!(board.contains("Tour Visuals") && board.contains("client"), "{board}");
    // On the board, in its status's column.
    let planning = board.split("id=\"column-planning\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(planning.contains("Tour Visuals"), "{board}");
    let project = client.get(&app, &path).await.text();
    let general = project.split("/conversations/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let conversation = format!("/conversations/{general}");
    let empty = client.post(&app, &format!("{conversation}/messages"), &[("body", "  ")]).await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().contains("must be 1 to 16,000 characters"), "{}", empty.text());
    let body =
        "Poster **draft** ready <script>alert(1)</script> [see](javascript:alert(1)) [site](https://example.com)";
    let sent = client.post(&app, &format!("{conversation}/messages"), &[("body", body)]).await;
    sent.assert_status(StatusCode::SEE_OTHER);
    let page = client.get(&app, &conversation).await.text();
    assert!(page.contains("<strong>draft</strong>"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert"), "{page}");
    assert!(!page.contains("javascript:") && page.contains("<a href=\"https://example.com\">site</a>"), "{page}");

    // A reply from the message's thread page, counted on the conversation's page.
    let message = page.split("?thread=").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let replied =
        web.post(&app, &format!("{conversation}/messages"), &[("body", "Looks great"), ("reply_to", &message)]).await;
    assert_eq!(location(&replied), format!("{conversation}?thread={message}#write"));
    let thread = web.get(&app, &format!("{conversation}?thread={message}")).await.text();
    assert!(thread.contains("Looks great") && thread.contains("Your reply"), "{thread}");
    assert!(web.get(&app, &conversation).await.text().contains("1 reply"));

    // The page follows the conversation live: a new message arrives as its line, ready to append.
    let (status, mut live) = crate::collab::Events::open_with(
        &app,
        &format!("{conversation}/stream"),
        ("cookie", crate::web::cookie_header(&client.jar)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    web.post(&app, &format!("{conversation}/messages"), &[("body", "Live <b>now</b>")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let (event, line) = live.next().await.unwrap();
    assert_eq!(event, "message");
    let line = line.as_str().unwrap().to_owned();
    assert!(line.starts_with("<li class=\"message\"") && line.contains("Live &lt;b&gt;now&lt;/b&gt;"), "{line}");

    // The viewer reads without a form; a stranger sees nothing.
    let viewer = Web::of(&app, "pgw_member").await;
    let read = viewer.get(&app, &conversation).await.text();
    assert!(
        read.contains("You may read this conversation but not write in it.") && !read.contains("id=\"write\""),
        "{read}"
    );
    let stranger = Web::of(&app, "pgw_stranger").await;
    stranger.get(&app, &conversation).await.assert_status(StatusCode::NOT_FOUND);
    stranger.get(&app, &path).await.assert_status(StatusCode::NOT_FOUND);
    stranger.get(&app, &format!("/project-files/{file}/versions/1")).await.assert_status(StatusCode::NOT_FOUND);
    let mut stranger = stranger;
    let refused = stranger.post(&app, &format!("{conversation}/messages"), &[("body", "hi")]).await;
    refused.assert_status(StatusCode::NOT_FOUND);
    let api = app.get(&format!("/v1/conversations/{general}/messages")).bearer(&owner).send().await.value();
    let said: Vec<&str> = api["items"].as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert!(!said.contains(&"hi"), "the stranger's message was not kept: {said:?}");
}

#[tokio::test]
async fn a_bookings_thread_opens_from_its_page_for_its_parties_only() {
    let app = app().await;
    let p = crate::booking::parties(&app, "bkw").await;
    let booking = crate::booking::created(crate::booking::offer(&app, &p, 50_000, 30).await).await;
    let id = booking["id"].as_str().unwrap().to_owned();
    signed_in(&app, "bkw_stranger").await;
    let organizer = Web::of(&app, "bkw_promoter").await;
    let page = organizer.get(&app, &format!("/bookings/{id}")).await.text();
    assert!(page.contains(&format!("/threads/booking/{id}")), "{page}");
    let opened = organizer.get(&app, &format!("/threads/booking/{id}")).await;
    opened.assert_status(StatusCode::SEE_OTHER);
    let conversation = location(&opened);
    let mut artist = Web::of(&app, "bkw_artist").await;
    let same = artist.get(&app, &format!("/threads/booking/{id}")).await;
    assert_eq!(location(&same), conversation);
    artist
        .post(&app, &format!("{conversation}/messages"), &[("body", "Soundcheck at 5?")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(organizer.get(&app, &conversation).await.text().contains("Soundcheck at 5?"));
    let stranger = Web::of(&app, "bkw_stranger").await;
    stranger.get(&app, &format!("/threads/booking/{id}")).await.assert_status(StatusCode::NOT_FOUND);
    stranger.get(&app, &conversation).await.assert_status(StatusCode::NOT_FOUND);
}

/// In a real browser: from the projects board to a channel, a message sent with the form, and another
/// member's message and typing arriving live without a reload; every page passes the accessibility
/// check.
#[tokio::test]
async fn a_channel_is_followed_live_in_a_browser() {
    use crate::browser::{Browser, serve};
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "brc_owner").await;
    let org = create_org(&app, &owner, "brc-studio").await;
    let (alice, alice_id, _) = signed_in(&app, "brc_alice").await;
    join(&app, &owner, &org, &alice, "brc_alice@example.com", "member").await;
    let project = app
        .post("/v1/projects")
        .bearer(&owner)
        .json(&serde_json::json!({"organization_id": org, "name": "Festival Poster"}))
        .send()
        .await
        .value();
    let id = project["id"].as_str().unwrap().to_owned();
    app.put(&format!("/v1/projects/{id}/members/{alice_id}"))
        .bearer(&owner)
        .json(&serde_json::json!({"role": "commenter"}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "brc_alice", "/projects").await;
    browser.wait_for_text("Festival Poster").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.click(&format!("a[href='/projects/{id}']")).await;
    browser.wait_for_text("Channels").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.click("#channels a").await;
    browser.wait_for_text("No messages yet.").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.type_into("#message-body", "First **draft** is up").await;
    browser.click("#write button").await;
    browser.wait_for_text("First draft is up").await;
    let bold = browser.script("return document.querySelector('#messages .body strong').textContent").await;
    assert_eq!(bold, "draft");

    // Another member writes, through the API: the open page shows who is writing, then the message,
    // without a reload.
    let url = browser.current_url().await;
    let general = url.split("/conversations/").nth(1).unwrap().split(['?', '#']).next().unwrap().to_owned();
    // The page's stream is open once the browser has connected; give the typing notice until it shows
    // (ten a ten seconds at most: a notice past that is refused and tried again).
    let mut shown = false;
    for _ in 0..60 {
        let typing = app.post(&format!("/v1/conversations/{general}/typing")).bearer(&owner).send().await;
        assert!([StatusCode::NO_CONTENT, StatusCode::TOO_MANY_REQUESTS].contains(&typing.status), "{}", typing.status);
        let text = browser.script("return document.querySelector('#typing').textContent").await;
        if text.as_str().is_some_and(|t| t.contains("brc_owner display is writing")) {
            shown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(shown, "the typing notice arrived");
    app.post(&format!("/v1/conversations/{general}/messages"))
        .bearer(&owner)
        .json(&serde_json::json!({"body": "Looks *great*, ship it"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    browser.wait_for_text("Looks great, ship it").await;
    assert_eq!(browser.current_url().await, url, "no reload");
    browser.close().await;
}

/// The search page finds what the searcher may read, and says beside the box what it cannot read.
#[tokio::test]
async fn the_search_page_finds_only_what_the_searcher_may_read() {
    let app = app().await;
    let (owner, _, _) = signed_in(&app, "srw_owner").await;
    let org = create_org(&app, &owner, "srw-studio").await;
    signed_in(&app, "srw_stranger").await;
    let project = app
        .post("/v1/projects")
        .bearer(&owner)
        .json(&serde_json::json!({"organization_id": org, "name": "Marigold Tour"}))
        .send()
        .await
        .value();
    let id = project["id"].as_str().unwrap();
    let general = app.get(&format!("/v1/projects/{id}/channels")).bearer(&owner).send().await.value()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/v1/conversations/{general}/messages"))
        .bearer(&owner)
        .json(&serde_json::json!({"body": "The **marigold** banners arrive Friday"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let notes = b"Load-in notes: marigold garlands on the stage edge".to_vec();
    let file = app
        .post(&format!("/v1/projects/{id}/files?name=notes.txt&folder=stage"))
        .bearer(&owner)
        .body(notes)
        .send()
        .await;
    file.assert_status(StatusCode::CREATED);
    let file_id = file.value()["id"].as_str().unwrap().to_owned();
    crate::support::drain_jobs(&app).await;

    let web = Web::of(&app, "srw_owner").await;
    let page = web.get(&app, "/search").await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("id=\"search-q\"") && !page.text().contains("Nothing you may read"));
    let found = web.get(&app, "/search?q=marigold").await.text();
    assert!(
        found.contains("<strong>marigold</strong> banners") && found.contains(&format!("/conversations/{general}#m-")),
        "{found}"
    );
    assert!(found.contains("Marigold Tour") && found.contains(&format!("/projects/{id}")), "{found}");
    assert!(
        found.contains(&format!("/project-files/{file_id}/versions/1"))
            && found.contains("stage/notes.txt")
            && found.contains("[marigold] garlands"),
        "{found}"
    );
    let stranger = Web::of(&app, "srw_stranger").await;
    let nothing = stranger.get(&app, "/search?q=marigold").await.text();
    assert!(
        nothing.contains("Nothing you may read matches")
            && !nothing.contains("banners")
            && !nothing.contains("notes.txt"),
        "{nothing}"
    );
    let bad = web.get(&app, "/search?q=before%3Atomorrow").await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("aria-invalid=\"true\""), "{}", bad.text());
}

/// The review view in a browser: a click on the picture picks the point, the comment is pinned there,
/// resolved from its line, and the version approved; an outsider gets the not-found page.
#[tokio::test]
async fn a_version_is_reviewed_on_its_picture_in_a_browser() {
    use crate::browser::{Browser, serve};
    let app = app().await;
    let t = crate::collab::team(&app, "rvw").await;
    let id = crate::collab::project(&app, &t, "Sleeve").await["id"].as_str().unwrap().to_owned();
    crate::collab::put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    let pixels = testkit::media::drawing(5, 400, 300);
    let file = app
        .post(&format!("/v1/projects/{id}/files?name=sleeve.png"))
        .bearer(&t.alice)
        .body(testkit::media::png_rgb(&pixels, 400, 300))
        .send()
        .await
        .value();
    let fid = file["id"].as_str().unwrap().to_owned();
    crate::support::drain_jobs(&app).await;
    app.post(&format!("/v1/project-files/{fid}/versions/1/status"))
        .bearer(&t.alice)
        .json(&serde_json::json!({"status": "in_review"}))
        .send()
        .await
        .assert_status(StatusCode::OK);

    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "rvw_owner", &format!("/projects/{id}")).await;
    browser.wait_for_text("400 × 300 px").await;
    browser.click(&format!("a[href='/project-files/{fid}/versions/1/review']")).await;
    browser.wait_for_text("Review status").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    // A click in the middle of the picture picks the point.
    browser.click("#review-picture").await;
    let x: f64 =
        browser.script("return document.getElementById('comment-x').value").await.as_str().unwrap().parse().unwrap();
    let y: f64 =
        browser.script("return document.getElementById('comment-y').value").await.as_str().unwrap().parse().unwrap();
    assert!((x - 50.0).abs() < 1.0 && (y - 50.0).abs() < 1.0, "{x} {y}");
    browser.type_into("#comment-body", "Move the logo up").await;
    browser.click("#comment-form button").await;
    browser.wait_for_text("Move the logo up").await;
    // Its pin stands where it points.
    let left = browser.script("return document.querySelector('.stage .pin').style.left").await;
    assert!(left.as_str().unwrap().starts_with("50") || left.as_str().unwrap().starts_with("49"), "{left}");
    let comments =
        app.get(&format!("/v1/project-files/{fid}/versions/1/comments")).bearer(&t.alice).send().await.value();
    assert_eq!(comments[0]["anchor"]["kind"], "point", "{comments}");
    assert!((comments[0]["anchor"]["x"].as_f64().unwrap() - 0.5).abs() < 0.01, "{comments}");
    // A drag across the picture's top left quarter marks an area.
    browser.drag("#review-picture", (-100, -75), (0, 0)).await;
    let fields = browser
        .script("return ['comment-anchor', 'comment-x', 'comment-y', 'comment-w', 'comment-h'].map(id => document.getElementById(id).value)")
        .await;
    assert_eq!(fields[0], "region", "{fields}");
    let numbers: Vec<f64> = (1..5).map(|i| fields[i].as_str().unwrap().parse().unwrap()).collect();
    assert!(numbers.iter().all(|n| (n - 25.0).abs() < 1.5), "{fields}");
    browser.type_into("#comment-body", "Darker in this corner").await;
    browser.click("#comment-form button").await;
    browser.wait_for_text("Darker in this corner").await;
    let comments =
        app.get(&format!("/v1/project-files/{fid}/versions/1/comments")).bearer(&t.alice).send().await.value();
    let area = &comments[1]["anchor"];
    assert_eq!(area["kind"], "region", "{comments}");
    for key in ["x", "y", "w", "h"] {
        assert!((area[key].as_f64().unwrap() - 0.25).abs() < 0.015, "{comments}");
    }
    assert_eq!(browser.script("return document.querySelectorAll('.stage .pin.area').length").await, 1);
    browser.click(".comment form button").await;
    browser.wait_for_text("Open again").await;
    browser.click("button[value='approved']").await;
    browser.wait_for_text("The version is approved now.").await;
    let file = app.get(&format!("/v1/project-files/{fid}")).bearer(&t.alice).send().await.value();
    assert_eq!(file["versions"][0]["status"], "approved", "{file}");
    let comments =
        app.get(&format!("/v1/project-files/{fid}/versions/1/comments")).bearer(&t.alice).send().await.value();
    assert_eq!(comments[0]["resolved"], true);
    browser.close().await;

    // Someone outside the project: the not-found page.
    let web = Web::of(&app, "rvw_out").await;
    web.get(&app, &format!("/project-files/{fid}/versions/1/review")).await.assert_status(StatusCode::NOT_FOUND);
}

/// From the pages: an editor uploads a file (and its next version) on the project's page; in a group a
/// file is sent as a message whose link downloads it for the group only; reactions are added and taken
/// back with one click; a message is deleted by its author; a project's viewer sees reactions but gets
/// no buttons.
#[tokio::test]
async fn files_reactions_and_deletion_from_the_pages() {
    let app = app().await;
    let t = crate::collab::team(&app, "pgx").await;
    let id = crate::collab::project(&app, &t, "Zine").await["id"].as_str().unwrap().to_owned();
    crate::collab::put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    crate::collab::put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let alice = Web::of(&app, "pgx_alice").await;
    let bob = Web::of(&app, "pgx_bob").await;

    // Uploads on the project's page: a new file, then its next version.
    let page = alice.get(&app, &format!("/projects/{id}")).await.text();
    assert!(page.contains(&format!("action=\"/projects/{id}/files\"")), "{page}");
    for bytes in [&b"page one"[..], b"page one, fixed"] {
        let res = alice
            .upload(&app, &format!("/projects/{id}/files"), &alice.csrf, ("zine.txt", "text/plain", bytes), false)
            .await;
        res.assert_status(StatusCode::SEE_OTHER);
    }
    let files = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.alice).send().await.value();
    assert_eq!(
        (files[0]["name"].as_str(), files[0]["latest_version"].as_i64()),
        (Some("zine.txt"), Some(2)),
        "{files}"
    );
    // Into a folder (made by the upload, then offered on the page) and a category; a bad folder is
    // named beside the form, and nothing is kept.
    let fields = [("folder", "/print/proofs/"), ("category", "final")];
    let res = alice
        .upload_with(&app, &format!("/projects/{id}/files"), &fields, ("cover.txt", "text/plain", b"cover"), false)
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let files = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.alice).send().await.value();
    let cover = files.as_array().unwrap().iter().find(|f| f["name"] == "cover.txt").expect("cover.txt kept");
    assert_eq!((cover["folder"].as_str(), cover["category"].as_str()), (Some("print/proofs"), Some("final")));
    assert!(alice.get(&app, &format!("/projects/{id}")).await.text().contains("<option value=\"print/proofs\">"));
    let fields = [("folder", "print/../secrets"), ("category", "final")];
    let res = alice
        .upload_with(&app, &format!("/projects/{id}/files"), &fields, ("leak.txt", "text/plain", b"x"), false)
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"project-folder-error\""), "{}", res.text());
    let files = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.alice).send().await.value();
    assert_eq!(files.as_array().unwrap().len(), 2, "{files}");
    // A viewer has no upload form, and the form refuses them.
    assert!(!bob.get(&app, &format!("/projects/{id}")).await.text().contains("Upload a file"));
    let res = bob.upload(&app, &format!("/projects/{id}/files"), &bob.csrf, ("x.txt", "text/plain", b"x"), true).await;
    res.assert_status(StatusCode::FORBIDDEN);

    // A file sent in a group: a message of its own, downloaded by the group only.
    let crew = crate::collab::alices_group_with_bob(&app, &t, "Print run").await;
    let res = alice
        .upload(
            &app,
            &format!("/conversations/{crew}/files"),
            &alice.csrf,
            ("proof.pdf", "application/pdf", b"%PDF-1.4 proof"),
            false,
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let listed = app.get(&format!("/v1/conversations/{crew}/messages")).bearer(&t.bob).send().await.value();
    let message = listed["items"][0].clone();
    let attachment = message["attachments"][0]["id"].as_str().unwrap().to_owned();
    let shown = bob.get(&app, &format!("/conversations/{crew}")).await.text();
    assert!(shown.contains(&format!("href=\"/attachments/{attachment}\">proof.pdf</a>")), "{shown}");
    let got = bob.get(&app, &format!("/attachments/{attachment}")).await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.body.as_ref(), b"%PDF-1.4 proof");
    let stranger = Web::of(&app, "pgx_out").await;
    stranger.get(&app, &format!("/attachments/{attachment}")).await.assert_status(StatusCode::NOT_FOUND);

    // Reactions: one click adds, the same button takes it back.
    let mid = message["id"].as_str().unwrap().to_owned();
    let mut bob = bob;
    let res = bob.post(&app, &format!("/messages/{mid}/reactions"), &[("emoji", "🎉"), ("action", "add")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/conversations/{crew}#m-{mid}"));
    let one = app.get(&format!("/v1/conversations/{crew}/messages")).bearer(&t.alice).send().await.value();
    assert_eq!(one["items"][0]["reactions"][0]["emoji"], "🎉", "{one}");
    let shown = bob.get(&app, &format!("/conversations/{crew}")).await.text();
    assert!(shown.contains("aria-pressed=\"true\"") && shown.contains("🎉 1"), "{shown}");
    bob.post(&app, &format!("/messages/{mid}/reactions"), &[("emoji", "🎉"), ("action", "remove")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let one = app.get(&format!("/v1/conversations/{crew}/messages")).bearer(&t.alice).send().await.value();
    assert_eq!(one["items"][0]["reactions"], serde_json::json!([]));

    // A project's viewer sees the channel's reactions but no buttons.
    let general = app.get(&format!("/v1/projects/{id}/channels")).bearer(&t.alice).send().await.value()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let posted = app
        .post(&format!("/v1/conversations/{general}/messages"))
        .bearer(&t.alice)
        .json(&serde_json::json!({"body": "Proofs are in"}))
        .send()
        .await
        .value();
    let pid = posted["id"].as_str().unwrap().to_owned();
    app.put(&format!("/v1/messages/{pid}/reactions/%F0%9F%91%80"))
        .bearer(&t.owner)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let seen = bob.get(&app, &format!("/conversations/{general}")).await.text();
    assert!(seen.contains("👀 1") && !seen.contains(&format!("/messages/{pid}/reactions")), "{seen}");
    assert!(!seen.contains(&format!("/messages/{pid}/delete")));

    // Its author deletes it from the page.
    let mut alice = alice;
    let shown = alice.get(&app, &format!("/conversations/{general}")).await.text();
    assert!(shown.contains(&format!("/messages/{pid}/delete")), "{shown}");
    alice.post(&app, &format!("/messages/{pid}/delete"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    let shown = alice.get(&app, &format!("/conversations/{general}")).await.text();
    assert!(shown.contains("This message was deleted.") && !shown.contains("Proofs are in"), "{shown}");
}

/// A project's checklists on its page: ticked and unticked with one click by its members, shown without
/// buttons to its viewers.
#[tokio::test]
async fn checklists_are_ticked_from_the_projects_page() {
    let app = app().await;
    let t = crate::collab::team(&app, "pgc").await;
    let id = crate::collab::project(&app, &t, "Press kit").await["id"].as_str().unwrap().to_owned();
    crate::collab::put_member(&app, &t.owner, &id, &t.alice_id, "commenter").await.assert_status(StatusCode::OK);
    crate::collab::put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let list = app
        .post(&format!("/v1/projects/{id}/checklists"))
        .bearer(&t.owner)
        .json(&serde_json::json!({"title": "Before sending", "items": ["Photos", "Bio"]}))
        .send()
        .await
        .value();
    let item = list["items"][1]["id"].as_str().unwrap().to_owned();
    let mut alice = Web::of(&app, "pgc_alice").await;
    let page = alice.get(&app, &format!("/projects/{id}")).await.text();
    assert!(
        page.contains("Before sending")
            && page.contains("0 of 2")
            && page.contains(&format!("/checklist-items/{item}")),
        "{page}"
    );
    let res = alice.post(&app, &format!("/checklist-items/{item}"), &[("done", "true")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/projects/{id}#checklists-heading"));
    let page = alice.get(&app, &format!("/projects/{id}")).await.text();
    assert!(page.contains("1 of 2") && page.contains("Untick: Bio"), "{page}");
    let bob = Web::of(&app, "pgc_bob").await;
    let seen = bob.get(&app, &format!("/projects/{id}")).await.text();
    assert!(seen.contains("1 of 2") && !seen.contains("/checklist-items/"), "{seen}");
    let ticked = app.get(&format!("/v1/projects/{id}/checklists")).bearer(&t.owner).send().await.value();
    assert_eq!(ticked[0]["items"][1]["done"], true);
}

/// From a conversation's page: a message is pinned (listed at the top) and unpinned, its author edits
/// it within the window (the link is gone after it, and a late edit is refused beside the form), and
/// the reader mutes the conversation or follows it.
#[tokio::test]
async fn messages_are_pinned_edited_and_muted_from_the_pages() {
    let app = app().await;
    let t = crate::collab::team(&app, "pin").await;
    let crew = crate::collab::alices_group_with_bob(&app, &t, "Setlist").await;
    let posted = app
        .post(&format!("/v1/conversations/{crew}/messages"))
        .bearer(&t.alice)
        .json(&serde_json::json!({"body": "Soundcheck at 5"}))
        .send()
        .await
        .value();
    let mid = posted["id"].as_str().unwrap().to_owned();
    let mut alice = Web::of(&app, "pin_alice").await;
    let mut bob = Web::of(&app, "pin_bob").await;

    // Bob pins Alice's message: it is listed at the top, and unpinned again.
    let page = bob.get(&app, &format!("/conversations/{crew}")).await.text();
    assert!(page.contains(&format!("action=\"/messages/{mid}/pin\"")), "{page}");
    assert!(!page.contains(&format!("href=\"/messages/{mid}/edit\"")), "only the author edits: {page}");
    let res = bob.post(&app, &format!("/messages/{mid}/pin"), &[("action", "pin")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/conversations/{crew}#m-{mid}"));
    let pins = app.get(&format!("/v1/conversations/{crew}/pins")).bearer(&t.alice).send().await.value();
    assert_eq!(pins[0]["id"], mid.as_str(), "{pins}");
    let page = alice.get(&app, &format!("/conversations/{crew}")).await.text();
    assert!(page.contains("id=\"pinned-heading\"") && page.contains("Soundcheck at 5</a>"), "{page}");
    bob.post(&app, &format!("/messages/{mid}/pin"), &[("action", "unpin")]).await.assert_status(StatusCode::SEE_OTHER);
    let pins = app.get(&format!("/v1/conversations/{crew}/pins")).bearer(&t.alice).send().await.value();
    assert_eq!(pins, serde_json::json!([]));

    // Alice edits it from its page; Bob may not.
    let page = alice.get(&app, &format!("/conversations/{crew}")).await.text();
    assert!(page.contains(&format!("href=\"/messages/{mid}/edit\"")), "{page}");
    let form = alice.get(&app, &format!("/messages/{mid}/edit")).await;
    form.assert_status(StatusCode::OK);
    assert!(form.text().contains(">Soundcheck at 5</textarea>"), "{}", form.text());
    bob.get(&app, &format!("/messages/{mid}/edit")).await.assert_status(StatusCode::FORBIDDEN);
    let res = bob.post(&app, &format!("/messages/{mid}/edit"), &[("body", "Mine now")]).await;
    res.assert_status(StatusCode::FORBIDDEN);
    let res = alice.post(&app, &format!("/messages/{mid}/edit"), &[("body", "Soundcheck at **6**")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let list = format!("/v1/conversations/{crew}/messages");
    let message = app.get(&list).bearer(&t.bob).send().await.value()["items"][0].clone();
    assert_eq!((message["body"].as_str(), message["edited_at"].is_string()), (Some("Soundcheck at **6**"), true));
    let res = alice.post(&app, &format!("/messages/{mid}/edit"), &[("body", "  ")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"edit-body-error\""), "{}", res.text());

    // Fifteen minutes on, the link is gone and a late edit is refused beside the form.
    app.clock.advance(chrono::Duration::minutes(15));
    let mut alice = Web::of(&app, "pin_alice").await;
    let page = alice.get(&app, &format!("/conversations/{crew}")).await.text();
    assert!(!page.contains(&format!("href=\"/messages/{mid}/edit\"")), "{page}");
    let res = alice.post(&app, &format!("/messages/{mid}/edit"), &[("body", "Soundcheck at 7")]).await;
    res.assert_status(StatusCode::CONFLICT);
    assert!(res.text().contains("15 minutes"), "{}", res.text());
    let message = app.get(&list).bearer(&t.bob).send().await.value()["items"][0].clone();
    assert_eq!(message["body"], "Soundcheck at **6**");

    // Muted, then followed again; a level that is none of the three is refused.
    let level = format!("/v1/conversations/{crew}/notifications");
    assert_eq!(app.get(&level).bearer(&t.alice).send().await.value()["level"], "all");
    let res = alice.post(&app, &format!("/conversations/{crew}/level"), &[("level", "none")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.get(&level).bearer(&t.alice).send().await.value()["level"], "none");
    let page = alice.get(&app, &format!("/conversations/{crew}")).await.text();
    assert!(page.contains("<option value=\"none\" selected>"), "{page}");
    alice.post(&app, &format!("/conversations/{crew}/level"), &[("level", "all")]).await;
    assert_eq!(app.get(&level).bearer(&t.alice).send().await.value()["level"], "all");
    let res = alice.post(&app, &format!("/conversations/{crew}/level"), &[("level", "loud")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Someone outside the group finds none of it.
    let mut out = Web::of(&app, "pin_out").await;
    out.post(&app, &format!("/messages/{mid}/pin"), &[("action", "pin")]).await.assert_status(StatusCode::NOT_FOUND);
    out.get(&app, &format!("/messages/{mid}/edit")).await.assert_status(StatusCode::NOT_FOUND);
    out.post(&app, &format!("/conversations/{crew}/level"), &[("level", "none")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// A project managed from its pages: its details saved (a bad date or an empty name said beside the
/// form, nothing changed), moved between the board's columns by its Move button, checklists and
/// folders made, a file deleted and restored; an editor makes and deletes but does not manage, a
/// viewer does none of it. In a browser, dragging a card to another column moves the project.
#[tokio::test]
async fn a_project_is_managed_from_its_pages() {
    let app = app().await;
    let t = crate::collab::team(&app, "pgm").await;
    let id = crate::collab::project(&app, &t, "Merch").await["id"].as_str().unwrap().to_owned();
    crate::collab::put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    crate::collab::put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let mut owner = Web::of(&app, "pgm_owner").await;
    let mut alice = Web::of(&app, "pgm_alice").await;
    let mut bob = Web::of(&app, "pgm_bob").await;
    let project = async || app.get(&format!("/v1/projects/{id}")).bearer(&t.owner).send().await.value();

    // The details.
    let details = format!("/projects/{id}/details");
    assert!(owner.get(&app, &format!("/projects/{id}")).await.text().contains(&format!("action=\"{details}\"")));
    assert!(!alice.get(&app, &format!("/projects/{id}")).await.text().contains(&format!("action=\"{details}\"")));
    let fields = |name: &'static str, due: &'static str| {
        [("name", name), ("status", "active"), ("priority", "high"), ("due_date", due), ("description", "Shirts")]
    };
    owner.post(&app, &details, &fields("Merch 2027", "2027-03-01")).await.assert_status(StatusCode::SEE_OTHER);
    let saved = project().await;
    assert_eq!(
        (&saved["name"], &saved["status"], &saved["priority"], &saved["due_date"], &saved["description"]),
        (&json!("Merch 2027"), &json!("active"), &json!("high"), &json!("2027-03-01"), &json!("Shirts")),
        "{saved}"
    );
    let res = owner.post(&app, &details, &fields("Merch 2028", "March")).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"details-due-error\""), "{}", res.text());
    let res = owner.post(&app, &details, &fields(" ", "")).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"details-name-error\""), "{}", res.text());
    alice.post(&app, &details, &fields("Alice's", "")).await.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(project().await, saved);

    // Moved on the board by its Move button (its managers only).
    assert!(owner.get(&app, "/projects").await.text().contains(&format!("action=\"/projects/{id}/status\"")));
    assert!(!alice.get(&app, "/projects").await.text().contains(&format!("action=\"/projects/{id}/status\"")));
    let res = owner.post(&app, &format!("/projects/{id}/status"), &[("status", "on_hold")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/projects#projects");
    assert_eq!(project().await["status"], "on_hold");
    let res = owner.post(&app, &format!("/projects/{id}/status"), &[("status", "sideways")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("role=\"alert\""), "{}", res.text());
    alice
        .post(&app, &format!("/projects/{id}/status"), &[("status", "active")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(project().await["status"], "on_hold");

    // A checklist and a folder, by an editor; not by a viewer.
    let checklists = format!("/projects/{id}/checklists");
    let res = alice.post(&app, &checklists, &[("title", "Print run"), ("items", "Shirts\r\n\r\n Posters \r\n")]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let made = app.get(&format!("/v1/projects/{id}/checklists")).bearer(&t.owner).send().await.value();
    assert_eq!(made[0]["title"], "Print run");
    let items: Vec<&str> = made[0]["items"].as_array().unwrap().iter().map(|i| i["body"].as_str().unwrap()).collect();
    assert_eq!(items, ["Shirts", "Posters"]);
    let res = alice.post(&app, &checklists, &[("title", ""), ("items", "x")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"checklist-title-error\""), "{}", res.text());
    bob.post(&app, &checklists, &[("title", "Mine"), ("items", "")]).await.assert_status(StatusCode::FORBIDDEN);
    let made = app.get(&format!("/v1/projects/{id}/checklists")).bearer(&t.owner).send().await.value();
    assert_eq!(made.as_array().unwrap().len(), 1, "{made}");
    let folders = format!("/projects/{id}/folders");
    alice.post(&app, &folders, &[("path", "merch/shirts")]).await.assert_status(StatusCode::SEE_OTHER);
    assert!(alice.get(&app, &format!("/projects/{id}")).await.text().contains("<code>merch/shirts</code>"));
    let res = alice.post(&app, &folders, &[("path", "merch/../etc")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"folder-path-error\""), "{}", res.text());
    bob.post(&app, &folders, &[("path", "bob")]).await.assert_status(StatusCode::FORBIDDEN);

    // Saved as a template (a refusal said beside that form only), and a project started from it.
    let template = format!("/projects/{id}/template");
    let res = owner.post(&app, &template, &[("name", " ")]).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("id=\"template-name-error\""), "{}", res.text());
    assert!(!res.text().contains("id=\"details-name-error\"") && !res.text().contains("id=\"channel-name-error\""));
    alice.post(&app, &template, &[("name", "Alice's")]).await.assert_status(StatusCode::FORBIDDEN);
    owner.post(&app, &template, &[("name", "Merch run")]).await.assert_status(StatusCode::SEE_OTHER);
    let board = owner.get(&app, "/projects").await.text();
    let start = board.find("Merch run (").expect("the template is offered");
    let tid = board[..start].rsplit("<option value=\"").next().unwrap().split('"').next().unwrap().to_owned();
    let form =
        [("org_id", t.org.as_str()), ("name", "Merch 2028"), ("kind", ""), ("due_date", ""), ("template_id", &tid)];
    let res = owner.post(&app, "/projects", &form).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let second = location(&res).trim_start_matches("/projects/").to_owned();
    let lists = app.get(&format!("/v1/projects/{second}/checklists")).bearer(&t.owner).send().await.value();
    assert_eq!(lists[0]["title"], "Print run", "{lists}");
    let made = app.get(&format!("/v1/projects/{second}/folders")).bearer(&t.owner).send().await.value();
    assert!(made.to_string().contains("merch/shirts"), "{made}");

    // A file deleted and restored from the page.
    let file = app
        .post(&format!("/v1/projects/{id}/files?name=shirt.txt&folder=merch/shirts"))
        .bearer(&t.alice)
        .body(b"front and back".to_vec())
        .send()
        .await
        .value();
    let fid = file["id"].as_str().unwrap().to_owned();
    bob.post(&app, &format!("/project-files/{fid}/delete"), &[]).await.assert_status(StatusCode::FORBIDDEN);
    let res = alice.post(&app, &format!("/project-files/{fid}/delete"), &[]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    let listed = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.owner).send().await.value();
    assert_eq!(listed, json!([]));
    let page = alice.get(&app, &format!("/projects/{id}")).await.text();
    assert!(page.contains(&format!("action=\"/project-files/{fid}/undelete\"")), "{page}");
    assert!(!bob.get(&app, &format!("/projects/{id}")).await.text().contains("/undelete"));
    bob.post(&app, &format!("/project-files/{fid}/undelete"), &[]).await.assert_status(StatusCode::FORBIDDEN);
    alice.post(&app, &format!("/project-files/{fid}/undelete"), &[]).await.assert_status(StatusCode::SEE_OTHER);
    let listed = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.owner).send().await.value();
    assert_eq!((listed[0]["name"].as_str(), listed[0]["folder"].as_str()), (Some("shirt.txt"), Some("merch/shirts")));

    // In a browser, a card dragged to another column moves its project.
    use crate::browser::{Browser, serve};
    let served = serve(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&served.base, "pgm_owner", "/projects").await;
    browser.wait_for_text("Merch 2027").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser
        .script(&format!(
            "const card = document.querySelector('[data-project=\"{id}\"]');
             const column = document.querySelector('[data-status=\"completed\"]');
             const moved = new DataTransfer();
             card.dispatchEvent(new DragEvent('dragstart', {{bubbles: true, dataTransfer: moved}}));
             column.dispatchEvent(new DragEvent('dragover', {{bubbles: true, cancelable: true, dataTransfer: moved}}));
             column.dispatchEvent(new DragEvent('drop', {{bubbles: true, cancelable: true, dataTransfer: moved}}));
             return true;"
        ))
        .await;
    browser.wait_for_text("Merch 2027 is in Completed now.").await;
    assert_eq!(project().await["status"], "completed");
    browser.goto(&format!("{}/projects/{id}", served.base)).await;
    browser.wait_for_text("Deleted files").await;
    assert!(browser.accessibility_violations().await.is_empty(), "{:?}", browser.accessibility_violations().await);
    browser.close().await;
}
