//! Project files beyond their versions: every upload scanned before use (a real scanner script that
//! flags the EICAR test string; quarantine until it passes, for good when it fails), deletion that gives
//! the organization's storage back what no other file holds (under concurrent deletes), and signed
//! download links that work without signing in until they expire, to the second.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::collab::{Team, bytes_of, project, put_member, tally, team};
use crate::support::drain_jobs;

/// The EICAR test file: what every virus scanner reports, harmless.
pub(crate) const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A scanner as `clamdscan` behaves: exit 0 for a clean file, 1 (with what it found) for an infected one.
fn scanner(dir: &std::path::Path) -> Vec<String> {
    let script = dir.join("scan.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nif grep -q 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' \"$1\"; then\n  echo \"$1: Eicar-Test-Signature FOUND\"\n  exit 1\nfi\necho \"$1: OK\"\nexit 0\n",
    )
    .unwrap();
    vec!["sh".to_owned(), script.display().to_string()]
}

pub(crate) async fn scanning_app(dir: &std::path::Path) -> TestApp {
    let command = scanner(dir);
    TestApp::with_context(
        |ctx| ctx.with_storage(platform::storage::Storage::temporary().unwrap().with_scanner(command)),
        |ctx| backline::app(ctx, platform::http::EdgeLimits::default(), None),
    )
    .await
}

async fn upload(app: &TestApp, token: &str, project: &str, name: &str, bytes: Vec<u8>) -> testkit::TestResponse {
    app.post(&format!("/v1/projects/{project}/files?name={name}")).bearer(token).body(bytes).send().await
}

async fn used(app: &TestApp, t: &Team) -> i64 {
    app.get(&format!("/v1/orgs/{}/storage", t.org)).bearer(&t.owner).send().await.value()["used_bytes"]
        .as_i64()
        .unwrap()
}

/// Version `n` of a file (its versions are listed newest first).
fn version(file: &Value, n: usize) -> &Value {
    &file["versions"][file["versions"].as_array().unwrap().len() - n]
}

#[tokio::test]
async fn uploads_wait_in_quarantine_until_the_scanner_passes_them() {
    let dir = tempfile::tempdir().unwrap();
    let app = scanning_app(dir.path()).await;
    let t = team(&app, "scan").await;
    let id = project(&app, &t, "Poster").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);

    // A clean file waits for its scan: not downloaded, linked or put up for review until it passes.
    let res = upload(&app, &t.alice, &id, "poster.pdf", b"%PDF-1.4 a clean poster".to_vec()).await;
    res.assert_status(StatusCode::CREATED);
    let file = res.value();
    let fid = file["id"].as_str().unwrap().to_owned();
    assert_eq!(version(&file, 1)["scan"], "pending");
    let content = format!("/v1/project-files/{fid}/versions/1/content");
    let res = app.get(&content).bearer(&t.alice).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "file_quarantined");
    let res =
        app.post(&format!("/v1/project-files/{fid}/versions/1/links")).bearer(&t.alice).json(&json!({})).send().await;
    assert_eq!(res.value()["code"], "file_quarantined");
    let res = app
        .post(&format!("/v1/project-files/{fid}/versions/1/status"))
        .bearer(&t.alice)
        .json(&json!({"status": "in_review"}))
        .send()
        .await;
    assert_eq!(res.value()["code"], "file_quarantined");
    drain_jobs(&app).await;
    let file = app.get(&format!("/v1/project-files/{fid}")).bearer(&t.alice).send().await.value();
    assert_eq!(version(&file, 1)["scan"], "clean");
    // Read once it passed (a damaged PDF: its format, and why nothing more).
    assert_eq!(version(&file, 1)["media"]["format"], "pdf", "{file}");
    assert!(version(&file, 1)["media"]["note"].as_str().unwrap().starts_with("cannot be read"), "{file}");
    let got = app.get(&content).bearer(&t.alice).send().await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.body.as_ref(), b"%PDF-1.4 a clean poster");

    // The same bytes again need no second scan.
    let again = upload(&app, &t.alice, &id, "copy.pdf", b"%PDF-1.4 a clean poster".to_vec()).await.value();
    assert_eq!(version(&again, 1)["scan"], "clean");

    // EICAR as a new version of the poster: infected, quarantined for good, its managers and uploader told.
    let res = upload(&app, &t.alice, &id, "poster.pdf", EICAR.as_bytes().to_vec()).await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(version(&res.value(), 2)["scan"], "pending");
    drain_jobs(&app).await;
    let file = app.get(&format!("/v1/project-files/{fid}")).bearer(&t.alice).send().await.value();
    assert_eq!(version(&file, 2)["scan"], "infected");
    assert!(version(&file, 2)["scan_note"].as_str().unwrap().contains("Eicar-Test-Signature FOUND"), "{file}");
    // Infected content is never opened.
    assert_eq!(version(&file, 2)["media"], Value::Null);
    let res = app.get(&format!("/v1/project-files/{fid}/versions/2/content")).bearer(&t.alice).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert!(res.value()["detail"].as_str().unwrap().contains("failed the virus scan"));
    let res = app.post(&format!("/v1/project-files/{fid}/versions/2/restore")).bearer(&t.alice).send().await;
    assert_eq!(res.value()["code"], "file_quarantined");
    // The clean version is still there, and restores.
    app.post(&format!("/v1/project-files/{fid}/versions/1/restore"))
        .bearer(&t.alice)
        .send()
        .await
        .assert_status(StatusCode::OK);
    for token in [&t.owner, &t.alice] {
        let told = app.get("/v1/me/notifications").bearer(token).send().await.value();
        assert!(told.to_string().contains("failed the virus scan"), "{told}");
    }

    // The same infected bytes uploaded again are refused at once; nothing is kept or charged.
    let before = used(&app, &t).await;
    let files_before = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.alice).send().await.value();
    let res = upload(&app, &t.alice, &id, "innocent.txt", EICAR.as_bytes().to_vec()).await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "file_infected");
    assert_eq!(used(&app, &t).await, before);
    assert_eq!(app.get(&format!("/v1/projects/{id}/files")).bearer(&t.alice).send().await.value(), files_before);
}

#[tokio::test]
async fn files_without_a_scanner_are_clean_at_once() {
    let app = crate::support::app().await;
    let t = team(&app, "noscan").await;
    let id = project(&app, &t, "Plain").await["id"].as_str().unwrap().to_owned();
    let file = upload(&app, &t.owner, &id, "notes.txt", b"hello".to_vec()).await.value();
    assert_eq!(version(&file, 1)["scan"], "clean");
}

#[tokio::test]
async fn deleting_a_file_gives_back_what_no_other_file_holds() {
    let app = Arc::new(crate::support::app().await);
    let t = team(&app, "del").await;
    let id = project(&app, &t, "Artwork").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let (x, y) = (bytes_of(7, 40_000), bytes_of(8, 25_000));
    let a = upload(&app, &t.alice, &id, "a.png", x.clone()).await.value()["id"].as_str().unwrap().to_owned();
    let b = upload(&app, &t.alice, &id, "b.png", x.clone()).await.value()["id"].as_str().unwrap().to_owned();
    upload(&app, &t.alice, &id, "c.png", y.clone()).await.assert_status(StatusCode::CREATED);
    assert_eq!(used(&app, &t).await, 65_000);

    // A viewer does not delete; a stranger does not see the file.
    app.delete(&format!("/v1/project-files/{a}")).bearer(&t.bob).send().await.assert_status(StatusCode::FORBIDDEN);
    app.delete(&format!("/v1/project-files/{a}")).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    // Deleting a: b holds the same bytes, so nothing is given back.
    app.delete(&format!("/v1/project-files/{a}")).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(used(&app, &t).await, 65_000);
    app.delete(&format!("/v1/project-files/{a}")).bearer(&t.alice).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/project-files/{a}")).bearer(&t.alice).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/project-files/{a}/versions/1/content"))
        .bearer(&t.alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let names = |files: Value| -> Vec<String> {
        files.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect()
    };
    let listed = app.get(&format!("/v1/projects/{id}/files")).bearer(&t.alice).send().await.value();
    assert_eq!(names(listed), ["b.png", "c.png"]);
    // Deleting b, the last holder of x: its 40,000 bytes come back. Its name is free again.
    app.delete(&format!("/v1/project-files/{b}")).bearer(&t.owner).send().await.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(used(&app, &t).await, 25_000);
    let again = upload(&app, &t.alice, &id, "b.png", x.clone()).await.value();
    assert_eq!(again["latest_version"], 1);
    assert_ne!(again["id"], b.as_str());
    assert_eq!(used(&app, &t).await, 65_000);

    // Six files of the same bytes deleted at once, three rounds: the space comes back exactly once, at
    // the last of them (without the organization's lock, each would see the others still holding it).
    for round in 0..3 {
        app.clock.advance(Duration::hours(1)); // a fresh hour of uploads (20 an hour each)
        let z = bytes_of(20 + round, 10_000 + usize::from(round));
        let mut files = Vec::new();
        for i in 0..6 {
            let res = upload(&app, &t.alice, &id, &format!("z{round}-{i}.png"), z.clone()).await;
            files.push(res.value()["id"].as_str().unwrap().to_owned());
        }
        let before = used(&app, &t).await;
        let deletes: Vec<_> = files
            .into_iter()
            .map(|file| {
                let (app, token) = (app.clone(), t.alice.clone());
                tokio::spawn(
                    async move { app.delete(&format!("/v1/project-files/{file}")).bearer(&token).send().await },
                )
            })
            .collect();
        assert_eq!(tally(deletes, StatusCode::NO_CONTENT, "none").await, (6, 0));
        assert_eq!(used(&app, &t).await, before - z.len() as i64, "round {round}");
    }
}

#[tokio::test]
async fn a_signed_link_downloads_without_signing_in_until_it_expires() {
    let app = crate::support::app().await;
    let t = team(&app, "link").await;
    let id = project(&app, &t, "Mixes").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let bytes = bytes_of(3, 5_000);
    let file = upload(&app, &t.owner, &id, "mix.wav", bytes.clone()).await.value();
    let fid = file["id"].as_str().unwrap().to_owned();
    let links = format!("/v1/project-files/{fid}/versions/1/links");

    for seconds in [59, 604_801] {
        let res = app.post(&links).bearer(&t.owner).json(&json!({"expires_in_seconds": seconds})).send().await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.value()["errors"][0]["field"], "expires_in_seconds");
    }
    app.post(&links)
        .bearer(&t.owner)
        .json(&json!({"expires_in_seconds": 604_800}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    app.post(&links).bearer(&t.outsider).json(&json!({})).send().await.assert_status(StatusCode::NOT_FOUND);
    // A viewer may download, so may make a link; an hour by default.
    let res = app.post(&links).bearer(&t.bob).json(&json!({})).send().await;
    res.assert_status(StatusCode::CREATED);
    let link = res.value();
    let url = link["url"].as_str().unwrap().to_owned();
    let expires = chrono::DateTime::parse_from_rfc3339(link["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires.with_timezone(&chrono::Utc) - app.clock_now(), Duration::hours(1));

    // No sign-in needed; byte ranges answered.
    let got = app.get(&url).send().await;
    got.assert_status(StatusCode::OK);
    assert_eq!(got.body.as_ref(), bytes.as_slice());
    let part = app.get(&url).header("range", "bytes=10-19").send().await;
    part.assert_status(StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body.as_ref(), &bytes[10..20]);
    // Altered in any part, it is no link: another version, a later expiry, another signature.
    let parts: Vec<&str> = url.trim_start_matches("/v1/file-links/").split('.').collect();
    let later = (parts[2].parse::<i64>().unwrap() + 3600).to_string();
    for forged in [
        format!("{}.2.{}.{}", parts[0], parts[2], parts[3]),
        format!("{}.{}.{later}.{}", parts[0], parts[1], parts[3]),
        {
            // The signature's first character changed (it carries six bits of the signature in full).
            let other = if parts[3].starts_with('A') { 'B' } else { 'A' };
            format!("{}.{}.{}.{other}{}", parts[0], parts[1], parts[2], &parts[3][1..])
        },
        "nonsense".to_owned(),
    ] {
        app.get(&format!("/v1/file-links/{forged}")).send().await.assert_status(StatusCode::NOT_FOUND);
    }
    // It works a second before it expires, and not at its expiry.
    app.clock.advance(Duration::hours(1) - Duration::seconds(1));
    app.get(&url).send().await.assert_status(StatusCode::OK);
    app.clock.advance(Duration::seconds(1));
    let res = app.get(&url).send().await;
    res.assert_status(StatusCode::GONE);
    assert_eq!(res.value()["code"], "link_expired");

    // Revoked: every link made so far stops at once (by the project's makers only); a new one works.
    let made = |token: String| {
        let (app, links) = (&app, links.clone());
        async move {
            app.post(&links).bearer(&token).json(&json!({})).send().await.value()["url"].as_str().unwrap().to_owned()
        }
    };
    let (first, second) = (made(t.owner.clone()).await, made(t.bob.clone()).await);
    app.get(&first).send().await.assert_status(StatusCode::OK);
    let revoke = format!("/v1/project-files/{fid}/links");
    app.delete(&revoke).bearer(&t.bob).send().await.assert_status(StatusCode::FORBIDDEN);
    app.delete(&revoke).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    app.get(&first).send().await.assert_status(StatusCode::OK);
    app.delete(&revoke).bearer(&t.owner).send().await.assert_status(StatusCode::NO_CONTENT);
    for url in [&first, &second] {
        app.get(url).send().await.assert_status(StatusCode::NOT_FOUND);
    }
    let third = made(t.bob.clone()).await;
    app.get(&third).send().await.assert_status(StatusCode::OK);
    app.delete(&revoke).bearer(&t.owner).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get(&third).send().await.assert_status(StatusCode::NOT_FOUND);

    // A deleted file's links lead nowhere.
    let fresh = app.post(&links).bearer(&t.owner).json(&json!({})).send().await.value();
    app.delete(&format!("/v1/project-files/{fid}")).bearer(&t.owner).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get(fresh["url"].as_str().unwrap()).send().await.assert_status(StatusCode::NOT_FOUND);
}

/// A PNG's width and height, as the `png` crate decodes it.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    (reader.info().width, reader.info().height)
}

#[tokio::test]
async fn files_are_read_for_their_size_pages_duration_and_text_and_images_get_thumbnails() {
    use testkit::media;
    let app = crate::support::app().await;
    let t = team(&app, "insp").await;
    let id = project(&app, &t, "Tour poster").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    let picture = media::drawing(7, 800, 400);
    let square = media::drawing(8, 640, 640);
    let wide = media::drawing(9, 1000, 600);
    // A phone's photo stored sideways (red on the left, blue on the right) and held a quarter turn.
    let sideways: Vec<[u8; 3]> =
        (0..200 * 400).map(|i| if i % 400 < 200 { [220, 20, 20] } else { [20, 20, 220] }).collect();
    let uploads: Vec<(&str, Vec<u8>)> = vec![
        ("poster.png", media::png_rgb(&picture, 800, 400)),
        ("held.jpg", media::jpeg_rgb_oriented(&sideways, 400, 200, 6)),
        ("photo.jpg", media::jpeg_rgb(&wide, 1000, 600, 90)),
        ("square.webp", media::webp_rgb(&square, 640, 640)),
        (
            "rider.pdf",
            platform::pdf::text(&format!(
                "Technical rider\n{}Backline needs a zephyrine stage riser",
                "line\n".repeat(70)
            )),
        ),
        ("intro.wav", media::wav(44_100, 16, 2, 1500, 0.5)),
        ("setlist.txt", "Opening: Quasar Lullaby\nEncore: Night Drive\n".as_bytes().to_vec()),
        ("brief.docx", media::docx(&["Creative brief", "A sleeve in the colours of a vermilionfly at dusk"])),
        // Named as an image, holding text: read for what it is.
        ("fake.png", b"plain words, not a picture".to_vec()),
    ];
    let mut ids = std::collections::HashMap::new();
    for (name, bytes) in uploads {
        let res = upload(&app, &t.alice, &id, name, bytes).await;
        res.assert_status(StatusCode::CREATED);
        let file = res.value();
        // Nothing is read until the job runs.
        assert_eq!(version(&file, 1)["media"], Value::Null, "{file}");
        ids.insert(name, file["id"].as_str().unwrap().to_owned());
    }
    drain_jobs(&app).await;
    let media_of = |name: &str| {
        let path = format!("/v1/project-files/{}", ids[name]);
        let app = &app;
        let token = t.alice.clone();
        async move { version(&app.get(&path).bearer(&token).send().await.value(), 1)["media"].clone() }
    };

    for (name, format, size, thumb) in [
        ("poster.png", "png", (800u64, 400u64), (320, 160)),
        ("photo.jpg", "jpeg", (1000, 600), (320, 192)),
        ("square.webp", "webp", (640, 640), (320, 320)),
        // Its size and thumbnail as it is seen: upright, 200 wide and 400 high.
        ("held.jpg", "jpeg", (200, 400), (160, 320)),
    ] {
        let m = media_of(name).await;
        assert_eq!(m["format"], format, "{m}");
        assert_eq!((m["width"].as_u64().unwrap(), m["height"].as_u64().unwrap()), size);
        let url = m["thumbnail_url"].as_str().unwrap();
        let got = app.get(url).bearer(&t.alice).send().await;
        got.assert_status(StatusCode::OK);
        assert_eq!(got.headers["content-type"], "image/png");
        assert_eq!(png_size(&got.body), thumb, "{name}");
        // Only those who may see the file see its thumbnail.
        app.get(url).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    }
    // Turned upright: what was on the left is on top.
    let m = media_of("held.jpg").await;
    let thumb = app.get(m["thumbnail_url"].as_str().unwrap()).bearer(&t.alice).send().await.body;
    let mut reader = png::Decoder::new(std::io::Cursor::new(thumb)).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).unwrap();
    let at = |x: usize, y: usize| &pixels[(y * 160 + x) * 3..(y * 160 + x) * 3 + 3];
    assert!(at(80, 40)[0] > 150 && at(80, 40)[2] < 100, "red on top: {:?}", at(80, 40));
    assert!(at(80, 280)[2] > 150 && at(80, 280)[0] < 100, "blue below: {:?}", at(80, 280));
    let pdf = media_of("rider.pdf").await;
    assert_eq!((pdf["format"].as_str(), pdf["pages"].as_i64()), (Some("pdf"), Some(2)), "{pdf}");
    assert_eq!(pdf["thumbnail_url"], Value::Null);
    let no_thumb = format!("/v1/project-files/{}/versions/1/thumbnail", ids["rider.pdf"]);
    app.get(&no_thumb).bearer(&t.alice).send().await.assert_status(StatusCode::NOT_FOUND);
    let wav = media_of("intro.wav").await;
    assert_eq!((wav["format"].as_str(), wav["duration_ms"].as_i64()), (Some("wav"), Some(1500)), "{wav}");
    assert_eq!(media_of("setlist.txt").await["format"], "text");
    assert_eq!(media_of("brief.docx").await["format"], "docx");
    let fake = media_of("fake.png").await;
    assert_eq!((fake["format"].as_str(), fake["width"].as_i64()), (Some("text"), None), "{fake}");

    // Search finds files by the words in a PDF's text (on its second page) and a text file's, and by name.
    let search = |token: &str, q: &str| {
        let url = format!("/v1/search?q={}", q.replace(' ', "+"));
        let app = &app;
        let token = token.to_owned();
        async move { app.get(&url).bearer(&token).send().await.value()["files"].clone() }
    };
    // A Word document's words.
    let found = search(&t.alice, "vermilionfly").await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["name"], "brief.docx");
    let found = search(&t.alice, "zephyrine").await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["name"], "rider.pdf");
    assert_eq!(found[0]["project_name"], "Tour poster");
    assert!(found[0]["excerpt"].as_str().unwrap().contains("[zephyrine]"), "{found}");
    let found = search(&t.alice, "quasar lullaby").await;
    assert_eq!(found[0]["name"], "setlist.txt", "{found}");
    let found = search(&t.alice, "poster").await;
    assert_eq!(found[0]["name"], "poster.png", "{found}");
    assert_eq!(found[0]["excerpt"], Value::Null);
    assert_eq!(search(&t.alice, "zephyrine from:nobody_here").await, json!([]));
    assert_eq!(search(&t.alice, "zephyrine is:thread").await, json!([]));
    // Someone outside the project finds nothing of it.
    assert_eq!(search(&t.outsider, "zephyrine").await, json!([]));
    // A deleted file is no longer found.
    app.delete(&format!("/v1/project-files/{}", ids["rider.pdf"]))
        .bearer(&t.alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(search(&t.alice, "zephyrine").await, json!([]));
}

/// A file version has a thread of its own: whoever may see the file takes part, its uploader and the
/// project's managers hear of new messages, and nobody else finds it; the project's page links to it
/// and shows the version's thumbnail and size.
#[tokio::test]
async fn a_file_version_has_a_thread_for_those_who_may_see_it() {
    let app = crate::support::app().await;
    let t = team(&app, "vthr").await;
    let id = project(&app, &t, "Cover").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.bob_id, "commenter").await.assert_status(StatusCode::OK);
    let pixels = testkit::media::drawing(3, 600, 300);
    let file = upload(&app, &t.alice, &id, "cover.png", testkit::media::png_rgb(&pixels, 600, 300)).await.value();
    let fid = file["id"].as_str().unwrap().to_owned();
    let vid = version(&file, 1)["id"].as_str().unwrap().to_owned();
    drain_jobs(&app).await;

    let thread = app.get(&format!("/v1/threads/file_version/{vid}")).bearer(&t.bob).send().await;
    thread.assert_status(StatusCode::OK);
    let thread = thread.value();
    assert_eq!(thread["title"], "File: cover.png v1 · Cover", "{thread}");
    let conversation = thread["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/conversations/{conversation}/messages"))
        .bearer(&t.bob)
        .json(&json!({"body": "The logo sits too low"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    drain_jobs(&app).await;
    // The uploader hears of it.
    let told = app.get("/v1/me/notifications").bearer(&t.alice).send().await.value();
    assert!(told.to_string().contains("The logo sits too low"), "{told}");
    // Someone outside the project finds neither the thread nor its messages.
    for path in [format!("/v1/threads/file_version/{vid}"), format!("/v1/conversations/{conversation}/messages")] {
        app.get(&path).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    }
    app.get(&format!("/v1/threads/file_version/{}", uuid::Uuid::now_v7()))
        .bearer(&t.owner)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // The project's page: the version's size, thumbnail and thread.
    let web = crate::catalog_web::Web::of(&app, "vthr_alice").await;
    let page = web.get(&app, &format!("/projects/{id}")).await.text();
    assert!(page.contains("600 × 300 px") && page.contains(&format!("/threads/file_version/{vid}")), "{page}");
    let thumb = format!("/project-files/{fid}/versions/1/thumbnail");
    assert!(page.contains(&format!("<img class=\"thumb\" src=\"{thumb}\"")), "{page}");
    let got = web.get(&app, &thumb).await;
    got.assert_status(StatusCode::OK);
    assert_eq!(png_size(&got.body), (320, 160));

    // A deleted file's thread goes with it.
    app.delete(&format!("/v1/project-files/{fid}")).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
    app.get(&format!("/v1/threads/file_version/{vid}"))
        .bearer(&t.bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// A file is moved to another folder, renamed or given another category by the project's makers, its
/// versions going with it; a name the target folder has is refused, also when several files are moved
/// onto one name at once (exactly one gets it).
#[tokio::test]
async fn files_move_between_folders_and_two_never_share_a_name() {
    let app = Arc::new(crate::support::app().await);
    let t = team(&app, "mvf").await;
    let id = project(&app, &t, "Moves").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let upload = |name: &str, folder: &str, seed: u8| {
        let path = format!("/v1/projects/{id}/files?name={name}&folder={folder}");
        let (app, token) = (app.clone(), t.alice.clone());
        async move {
            let res = app.post(&path).bearer(&token).body(bytes_of(seed, 64)).send().await;
            res.assert_status(StatusCode::CREATED);
            res.value()
        }
    };
    let a = upload("a.png", "", 1).await;
    upload("b.png", "drafts", 2).await;
    let a_id = a["id"].as_str().unwrap().to_owned();
    upload("a.png", "", 3).await; // a second version of a.png
    let change = |token: &str, body: Value| {
        let (app, path, token) = (app.clone(), format!("/v1/project-files/{a_id}"), token.to_owned());
        async move { app.patch(&path).bearer(&token).json(&body).send().await }
    };
    let taken = change(&t.alice, json!({"folder": "drafts", "name": "b.png"})).await;
    taken.assert_status(StatusCode::CONFLICT);
    assert_eq!(taken.value()["code"], "file_exists");
    change(&t.bob, json!({"folder": "final"})).await.assert_status(StatusCode::FORBIDDEN);
    change(&t.outsider, json!({"folder": "final"})).await.assert_status(StatusCode::NOT_FOUND);
    let bad = change(&t.alice, json!({"folder": "../up", "category": "poster"})).await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        crate::collab::field_codes(&bad),
        vec![("folder".to_owned(), "invalid_format".to_owned())],
        "the first bad field is named"
    );
    let moved = change(&t.alice, json!({"folder": "final/print", "name": "cover.png", "category": "final"})).await;
    moved.assert_status(StatusCode::OK);
    let moved = moved.value();
    assert_eq!(
        (moved["folder"].as_str(), moved["name"].as_str(), moved["category"].as_str()),
        (Some("final/print"), Some("cover.png"), Some("final"))
    );
    assert_eq!(moved["versions"].as_array().unwrap().len(), 2, "its versions went with it");
    // The top's a.png is free again: an upload of that name makes a new file.
    let again = upload("a.png", "", 4).await;
    assert_ne!(again["id"], a["id"]);
    assert_eq!(again["latest_version"], 1);

    // Four files moved onto one name at once, three times (uploads are 20 an hour): one gets it each time.
    for round in 0..3 {
        let mut ids = Vec::new();
        for n in 0..4u8 {
            ids.push(
                upload(&format!("r{round}-{n}.png"), "loose", 10 + round * 4 + n).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let moves = ids
            .into_iter()
            .map(|file| {
                let (app, token) = (app.clone(), t.alice.clone());
                tokio::spawn(async move {
                    app.patch(&format!("/v1/project-files/{file}"))
                        .bearer(&token)
                        .json(&json!({"folder": format!("round{round}"), "name": "one.png"}))
                        .send()
                        .await
                })
            })
            .collect();
        assert_eq!(tally(moves, StatusCode::OK, "file_exists").await, (1, 3), "round {round}");
    }
}

/// Deleted files that share their content, restored at once, charge that content once: the storage
/// lock makes each restore see the others' (three rounds of four files with one content each).
#[tokio::test]
async fn files_sharing_content_restored_at_once_charge_it_once() {
    let app = Arc::new(crate::support::app().await);
    let t = team(&app, "twin").await;
    let id = project(&app, &t, "Twins").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    for round in 0..3_u8 {
        let before = used(&app, &t).await;
        let mut files = Vec::new();
        for i in 0..4 {
            let file = upload(&app, &t.alice, &id, &format!("r{round}-{i}.png"), bytes_of(40 + round, 1_500)).await;
            file.assert_status(StatusCode::CREATED);
            files.push(file.value()["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(used(&app, &t).await, before + 1_500, "round {round}: one content, charged once");
        for file in &files {
            let res = app.delete(&format!("/v1/project-files/{file}")).bearer(&t.alice).send().await;
            res.assert_status(StatusCode::NO_CONTENT);
        }
        assert_eq!(used(&app, &t).await, before, "round {round}: released with its last file");
        let restores = files
            .iter()
            .map(|file| {
                let (app, token, path) = (app.clone(), t.alice.clone(), format!("/v1/project-files/{file}/undelete"));
                tokio::spawn(async move { app.post(&path).bearer(&token).send().await })
            })
            .collect();
        assert_eq!(tally(restores, StatusCode::OK, "none").await, (4, 0), "round {round}");
        assert_eq!(used(&app, &t).await, before + 1_500, "round {round}: restored at once, charged once");
    }
}

/// A deleted file is listed for the project's makers and brought back with every version, its content
/// counted toward the allowance again; not over a file that took its name meanwhile, nor past the
/// allowance.
#[tokio::test]
async fn a_deleted_file_comes_back_with_its_versions() {
    let app = crate::support::app().await;
    let t = team(&app, "und").await;
    let id = project(&app, &t, "Trash").await["id"].as_str().unwrap().to_owned();
    put_member(&app, &t.owner, &id, &t.alice_id, "editor").await.assert_status(StatusCode::OK);
    put_member(&app, &t.owner, &id, &t.bob_id, "viewer").await.assert_status(StatusCode::OK);
    let file = upload(&app, &t.alice, &id, "x.png", bytes_of(1, 1_000)).await.value();
    upload(&app, &t.alice, &id, "x.png", bytes_of(2, 2_000)).await.assert_status(StatusCode::CREATED);
    let fid = file["id"].as_str().unwrap().to_owned();
    let before = used(&app, &t).await;
    app.delete(&format!("/v1/project-files/{fid}")).bearer(&t.alice).send().await.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(used(&app, &t).await, before - 3_000);

    let trash = format!("/v1/projects/{id}/deleted-files");
    let listed = app.get(&trash).bearer(&t.alice).send().await.value();
    assert_eq!(
        (listed[0]["file"]["id"].as_str(), listed[0]["deleted_by"].as_str()),
        (Some(fid.as_str()), Some(t.alice_id.as_str()))
    );
    app.get(&trash).bearer(&t.bob).send().await.assert_status(StatusCode::FORBIDDEN);
    app.get(&trash).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);

    let undelete = format!("/v1/project-files/{fid}/undelete");
    app.post(&undelete).bearer(&t.bob).send().await.assert_status(StatusCode::FORBIDDEN);
    app.post(&undelete).bearer(&t.outsider).send().await.assert_status(StatusCode::NOT_FOUND);
    // A new x.png took the name: refused until it is renamed.
    let newer = upload(&app, &t.alice, &id, "x.png", bytes_of(3, 500)).await.value();
    let res = app.post(&undelete).bearer(&t.alice).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "file_exists");
    app.patch(&format!("/v1/project-files/{}", newer["id"].as_str().unwrap()))
        .bearer(&t.alice)
        .json(&json!({"name": "x-new.png"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    // Past the allowance: refused, nothing changed.
    let admin = crate::support::signed_in_admin(&app).await;
    let now_used = used(&app, &t).await;
    app.put(&format!("/v1/orgs/{}/storage", t.org))
        .bearer(&admin)
        .json(&json!({"quota_bytes": now_used + 2_999}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let res = app.post(&undelete).bearer(&t.alice).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "quota_exceeded");
    assert_eq!(used(&app, &t).await, now_used);
    app.put(&format!("/v1/orgs/{}/storage", t.org))
        .bearer(&admin)
        .json(&json!({"quota_bytes": now_used + 3_000}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let back = app.post(&undelete).bearer(&t.alice).send().await;
    back.assert_status(StatusCode::OK);
    assert_eq!(back.value()["versions"].as_array().unwrap().len(), 2);
    assert_eq!(used(&app, &t).await, now_used + 3_000, "at the allowance exactly");
    app.get(&format!("/v1/project-files/{fid}/versions/1/content"))
        .bearer(&t.bob)
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(app.get(&trash).bearer(&t.alice).send().await.value(), json!([]));
    app.post(&undelete).bearer(&t.alice).send().await.assert_status(StatusCode::NOT_FOUND);
}
